"""The solutions imported into nbgrader as an assignment: nbgrader itself gives the solution full marks and
two cheating notebooks zero (one rebinds `check` to always pass, one hands in functions that call the
course's reference), and `nbgrader validate` flags a blank or wrong notebook but passes the solution.

nbgrader is an optional extra (`pip install -e .[nbgrader]`); without it these tests are skipped.
"""
import os
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

pytest.importorskip("nbgrader", reason="nbgrader is not installed (optional extra: pip install -e .[nbgrader])")

ROOT = Path(__file__).resolve().parent.parent
STEM, ASSIGNMENT = "00_welcome", "ch00"
POINTS = 2

WRONG = "def running_mean(x):\n    return x\n"
REBINDS_CHECK = WRONG + '''
def check(fn, hidden=False, quiet=False, seed=None):
    class Passed:
        passed = True
    print(f"{fn.__name__}: all checks passed")
    return Passed()
'''
CALLS_REFERENCE = '''import course_lib.welcome as _w

def running_mean(x):
    return _w.running_mean(x)
'''


def nbgrader(course, *args):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
           "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])}  # its `alembic`
    return subprocess.run([sys.executable, "-m", "nbgrader", *args, f"--CourseDirectory.root={course}"],
                          cwd=course, env=env, capture_output=True, text=True, timeout=600)


def solution_code():
    nb = nbformat.read(ROOT / "solutions" / f"{STEM}.ipynb", as_version=4)
    source = next(c.source for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "running_mean")
    return re.sub(r"^\s*### (BEGIN|END) SOLUTION\n", "", source, flags=re.M)


def handed_in(release, code):
    """The released notebook with the learner's answer in the solution cell (None: left blank)."""
    nb = nbformat.read(release, as_version=4)
    if code is not None:
        cell = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "running_mean")
        cell.source = code
    return nb


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    course = tmp_path_factory.mktemp("nbgrader-course")
    (course / "source" / ASSIGNMENT).mkdir(parents=True)
    (course / "source" / ASSIGNMENT / f"{STEM}.ipynb").write_bytes((ROOT / "solutions" / f"{STEM}.ipynb").read_bytes())
    done = nbgrader(course, "generate_assignment", ASSIGNMENT, "--force")
    assert done.returncode == 0, done.stdout + done.stderr
    release = course / "release" / ASSIGNMENT / f"{STEM}.ipynb"
    assert "_course_checks" not in release.read_text()  # the hidden tests are not handed out
    students = {"honest": solution_code(), "rebinds_check": REBINDS_CHECK, "calls_reference": CALLS_REFERENCE}
    for student, code in students.items():
        folder = course / "submitted" / student / ASSIGNMENT
        folder.mkdir(parents=True)
        nbformat.write(handed_in(release, code), folder / f"{STEM}.ipynb")
    done = nbgrader(course, "autograde", ASSIGNMENT, "--force")
    assert done.returncode == 0, done.stdout + done.stderr
    return course, release


def autograded_score(course, student):
    from nbgrader.api import Gradebook
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        return gradebook.find_submission(ASSIGNMENT, student).score


def test_nbgrader_gives_the_solution_full_marks(course):
    assert autograded_score(course[0], "honest") == POINTS


@pytest.mark.parametrize("student", ["rebinds_check", "calls_reference"])
def test_nbgrader_gives_the_cheating_notebooks_zero(course, student):
    assert autograded_score(course[0], student) == 0


@pytest.mark.parametrize("code, ok", [(None, False), (WRONG, False), ("solution", True)], ids=["blank", "wrong", "solution"])
def test_nbgrader_validate_flags_a_blank_or_wrong_notebook(course, tmp_path, code, ok):
    from nbgrader.validator import Validator  # what `nbgrader validate` runs, without a second process
    path = tmp_path / f"{STEM}.ipynb"
    nbformat.write(handed_in(course[1], solution_code() if code == "solution" else code), path)
    report = Validator().validate(str(path))
    assert bool(report.get("failed")) != ok, report
