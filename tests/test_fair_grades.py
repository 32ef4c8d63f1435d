"""Fair grades under load (issue 19): a correct notebook graded while other processes keep both cores busy
gets full marks, because the endless-loop verdict counts CPU time and graded kernels compute on one thread.

The rest of issue 19 is tested in-process, without kernels (tests/test_checks.py): each broken version gets
its hint in the check cell and in the grader's scoring, scores the same under three grader seeds and shows no
hidden value; a broken helper does not cost its caller, through the probe as the grader runs it.
"""
import subprocess
import sys

from course_lib.grading.grade import Limits
from tests.test_grader import grade, solution, submit

BUSY = "while True:\n    pass\n"


def test_a_correct_notebook_gets_full_marks_while_both_cores_are_busy(tmp_path):
    stem = "06_applications"  # sampling on tiny tensors: the chapter that scored 3.89, 4.78 and 5 of 5 under load
    path = submit(tmp_path, solution(stem), f"{stem}.ipynb")
    hogs = [subprocess.Popen([sys.executable, "-c", BUSY]) for _ in range(2)]
    try:
        result, _ = grade(path, Limits(call_timeout=2))
    finally:
        for hog in hogs:
            hog.kill()
            hog.wait()
    assert result.score == result.max_score, result.table()
