"""The command-line grader on whole notebooks: full marks, zero, and hostile submissions.

Each test grades one notebook in a real kernel (a few seconds each); broken implementations of single
functions are tested in-process in test_checks.py instead.
"""
import json
import re
import time
from pathlib import Path

import nbformat
import pytest

from course_lib.authoring.build_exercises import exercise_notebook
from course_lib.grading.checks import CHAPTERS
from course_lib.grading.grade import SKIP_TAG, Limits, grade_notebook, main

ROOT = Path(__file__).resolve().parent.parent
STEMS = sorted(p.stem for p in (ROOT / "solutions").glob("*.ipynb"))
FAST = Limits(cell_timeout=4, total_timeout=60, call_timeout=1, memory_mb=3072)
# What the grader promises whatever the machine's load: it ends within its total limit, plus the seconds a
# kernel takes to start and stop. That a cell or call was stopped by its *own* limit is shown by the scores
# (a submission stopped only by the total limit loses the exercises after it) and by the feedback, not by a
# wall-clock bound tuned to one machine's speed (one such bound failed CI at 40.1 s against 40).
ENDS_WITHIN = FAST.total_timeout + 20
CH01 = "01_sequential_data"


def solution(stem=CH01):
    return nbformat.read(ROOT / "solutions" / f"{stem}.ipynb", as_version=4)


def definition_index(nb, name):
    return next(i for i, c in enumerate(nb.cells) if c.cell_type == "code" and f"def {name}(" in c.source)


def submit(tmp_path, nb, name=f"{CH01}.ipynb"):
    path = tmp_path / name
    nbformat.write(nb, path)
    return path


def grade(path, limits=FAST, seed=0):
    start = time.monotonic()
    result = grade_notebook(path, limits, seed=seed)
    return result, time.monotonic() - start


def scores(result):
    return {r.exercise.name: r.score for r in result.reports}


def feedback(result, name):
    return next(r for r in result.reports if r.exercise.name == name).feedback()


def with_cell(nb, index, source):
    nb.cells.insert(index, nbformat.v4.new_code_cell(source))
    return nb


def replace_function(nb, name, source):
    nb.cells[definition_index(nb, name)].source = source
    return nb


def without_uses(nb, name):
    """nb with every code cell that uses `name` (its check cell, its demo) emptied, the definition kept: for
    tests of what the probe does when it calls the function, without waiting for those cells first."""
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "code" and i != definition_index(nb, name) and re.search(rf"\b{name}\b", cell.source):
            cell.source = f"# (a cell that used {name})"
    return nb


FULL = {"one_hot": 2, "next_step_pairs": 2, "pad_batch": 3}


@pytest.mark.parametrize("stem", STEMS)
def test_solutions_score_full_marks_and_exercises_zero(tmp_path, stem):
    full, _ = grade(submit(tmp_path, solution(stem), f"{stem}.ipynb"), Limits())
    assert full.score == full.max_score > 0 and not full.error, full.table()
    empty, seconds = grade(submit(tmp_path, exercise_notebook(solution(stem)), f"{stem}.ipynb"), Limits())
    assert empty.score == 0 and empty.max_score == full.max_score and not empty.error
    assert all(r.feedback() == "not implemented yet" for r in empty.reports)
    assert seconds < Limits().cell_timeout  # no cell waited for its limit


def test_syntax_error_costs_only_that_exercise(tmp_path):
    nb = replace_function(solution(), "one_hot", "def one_hot(indices, vocab_size)\n    return 1")
    result, _ = grade(submit(tmp_path, nb))
    assert scores(result) == {**FULL, "one_hot": 0}
    assert "defines no function called `one_hot` (cell" in feedback(result, "one_hot") and "SyntaxError" in feedback(result, "one_hot")


def test_exception_in_an_early_cell_does_not_stop_grading(tmp_path):
    result, _ = grade(submit(tmp_path, with_cell(solution(), 1, "raise RuntimeError('oops')")))
    assert scores(result) == FULL
    assert any("RuntimeError: oops" in n for n in result.notes)


def test_cells_tagged_skip_grading_are_not_run(tmp_path):
    nb = with_cell(solution(), 1, "raise RuntimeError('oops')")
    nb.cells[1].metadata["tags"] = [SKIP_TAG]
    nb.cells[definition_index(nb, "one_hot")].metadata["tags"] = [SKIP_TAG]  # a graded function in a skipped cell
    result, _ = grade(submit(tmp_path, nb))
    assert not any("oops" in n for n in result.notes), result.notes
    assert scores(result) == {**FULL, "one_hot": 0}  # never defined: skipping cells only ever runs less


def test_no_solution_skips_a_cell_that_defines_what_is_graded():
    for stem in STEMS:
        graded = {e.name for e in CHAPTERS[stem]}
        for cell in solution(stem).cells:
            if SKIP_TAG in cell.metadata.get("tags", []):
                defined = set(re.findall(r"^(?:def|class) (\w+)\b", cell.source, re.M))
                assert not defined & graded, (stem, defined & graded)


def test_endless_loop_in_a_cell_is_stopped_and_the_rest_graded(tmp_path):
    result, seconds = grade(submit(tmp_path, with_cell(solution(), 2, "while True:\n    pass")))
    assert scores(result) == FULL and seconds < ENDS_WITHIN
    assert any("stopped after 4 s" in n for n in result.notes)


def test_endless_loop_in_a_graded_function_fails_its_checks_quickly(tmp_path):
    nb = replace_function(solution(), "next_step_pairs", "def next_step_pairs(sequence):\n    while True:\n        pass")
    result, seconds = grade(submit(tmp_path, nb))
    assert scores(result) == {**FULL, "next_step_pairs": 0} and seconds < ENDS_WITHIN  # its check and demo cells hit the cell limit too
    assert "used more than 1 s of CPU time" in feedback(result, "next_step_pairs")


def test_function_that_swallows_the_alarm_still_ends(tmp_path):
    src = "def next_step_pairs(sequence):\n    while True:\n        try:\n            while True:\n                pass\n        except BaseException:\n            pass"
    nb = without_uses(replace_function(solution(), "next_step_pairs", src), "next_step_pairs")
    result, seconds = grade(submit(tmp_path, nb))
    # only the probe calls it (the cell limit's part is the test above): its own wall-clock budget ends it
    assert scores(result) == {**FULL, "next_step_pairs": 0} and seconds < ENDS_WITHIN
    assert "grading your function: stopped after" in feedback(result, "next_step_pairs")


@pytest.mark.parametrize("killer", ["import sys\nsys.exit()", "import os\nos._exit(1)",
                                    "import ctypes\nctypes.string_at(0)"], ids=["sys.exit", "os._exit", "segfault"])
def test_a_cell_that_exits_or_crashes_the_kernel(tmp_path, killer):
    result, seconds = grade(submit(tmp_path, with_cell(solution(), 2, killer)))
    assert scores(result) == FULL and seconds < ENDS_WITHIN, result.table()


def test_a_graded_function_that_kills_the_kernel(tmp_path):
    nb = replace_function(solution(), "one_hot", "def one_hot(indices, vocab_size):\n    import os\n    os._exit(3)")
    nb = without_uses(nb, "one_hot")  # only the probe calls it (a cell that kills its kernel: the test above)
    result, _ = grade(submit(tmp_path, nb))
    assert scores(result) == {**FULL, "one_hot": 0}
    assert "kernel died" in feedback(result, "one_hot")


def test_megabytes_of_output_are_capped(tmp_path):
    nb = with_cell(solution(), 2, "for _ in range(200):\n    print('x' * 50_000)")
    result, seconds = grade(submit(tmp_path, nb))
    assert scores(result) == FULL and seconds < ENDS_WITHIN


def test_allocating_too_much_memory_fails_inside_the_kernel(tmp_path):
    nb = with_cell(solution(), 2, "import numpy as np\nbig = np.ones((60_000, 60_000))")
    result, _ = grade(submit(tmp_path, nb), Limits(cell_timeout=10, total_timeout=60, memory_mb=2048))
    assert scores(result) == FULL
    assert any("MemoryError" in n for n in result.notes), result.notes


def test_nan_outputs_and_wrong_dtypes_are_reported(tmp_path):
    nb = replace_function(solution(), "one_hot", "def one_hot(indices, vocab_size):\n"
                          "    return np.full(np.shape(indices) + (vocab_size,), np.nan)")
    nb = replace_function(nb, "pad_batch", "def pad_batch(sequences, pad_value=0):\n"
                          "    return np.zeros((3, 3), dtype=object), None")
    result, _ = grade(submit(tmp_path, nb))
    assert scores(result)["one_hot"] == 0 and "contains nan" in feedback(result, "one_hot")
    assert scores(result)["pad_batch"] == 0 and "padded:" in feedback(result, "pad_batch")
    assert scores(result)["next_step_pairs"] == 2


@pytest.mark.parametrize("change", ["delete", "rename"])
def test_graded_function_deleted_or_renamed(tmp_path, change):
    nb = solution()
    index = definition_index(nb, "pad_batch")
    if change == "delete":
        del nb.cells[index]
    else:
        nb.cells[index].source = nb.cells[index].source.replace("def pad_batch(", "def pad_batch_v2(")
    result, _ = grade(submit(tmp_path, nb))
    assert scores(result) == {**FULL, "pad_batch": 0}
    assert "defines no function called `pad_batch` (was it renamed or deleted?)" in feedback(result, "pad_batch")


def test_cells_reordered_still_graded(tmp_path):
    nb = solution()
    nb.cells = nb.cells[::-1]
    result, _ = grade(submit(tmp_path, nb))
    assert scores(result) == FULL


def test_files_written_never_touch_the_submission(tmp_path):
    nb = with_cell(solution(), 2, "import pathlib\n"
                   "for p in pathlib.Path('.').glob('*.ipynb'):\n    p.write_text('overwritten')\n"
                   "pathlib.Path('junk.txt').write_text('junk')")
    path = submit(tmp_path, nb)
    before = path.read_bytes()
    result, _ = grade(path)
    assert scores(result) == FULL
    assert path.read_bytes() == before and sorted(p.name for p in tmp_path.iterdir()) == [path.name]


def test_patching_the_checks_and_printing_fake_results_earn_nothing(tmp_path):
    nb = replace_function(solution(), "one_hot", "def one_hot(indices, vocab_size):\n    return np.zeros((1, 1))")
    nb = with_cell(nb, 2, "import course_lib.grading.checks.core as core, course_lib.grading.grade as g\n"
                   "core.compare_values = lambda *a, **k: (True, '')\n"
                   "core.judge = lambda *a, **k: core.CheckResult('x', True)\n"
                   "print('one_hot: 11/11 checks passed')")
    result, _ = grade(submit(tmp_path, nb))
    assert scores(result) == {**FULL, "one_hot": 0}


@pytest.mark.parametrize("source", [
    "from course_lib.sequences import one_hot",
    "import course_lib.sequences\ndef one_hot(indices, vocab_size):\n    return course_lib.sequences.one_hot(indices, vocab_size)",
    "import inspect, course_lib.sequences as s\nns = dict(vars(s))\nexec(inspect.getsource(s.one_hot), ns)\none_hot = ns['one_hot']",
], ids=["import", "wrapper", "copied-source"])
def test_the_reference_implementation_earns_no_marks(tmp_path, source):
    result, _ = grade(submit(tmp_path, replace_function(solution(), "one_hot", source)))
    assert scores(result) == {**FULL, "one_hot": 0}
    assert "reference implementation" in feedback(result, "one_hot")


def test_the_reference_written_out_in_a_cell_is_the_learners_own(tmp_path):
    """train_step's instructions name every call, so an honest learner can write the course's code word for
    word: typed in a cell it scores (the routes above, import, wrapper and exec of the source, still do not)."""
    import inspect
    from course_lib.language_model import train_step
    stem = "06_applications"
    nb = replace_function(solution(stem), "train_step", inspect.getsource(train_step))
    result, _ = grade(submit(tmp_path, nb, f"{stem}.ipynb"), Limits())
    assert result.score == result.max_score, result.table()


def test_a_file_that_is_not_a_notebook(tmp_path, capsys):
    bad = tmp_path / "01_sequential_data.ipynb"
    bad.write_text("{not json")
    assert main([str(bad)]) == 2
    assert "not a readable Jupyter notebook" in capsys.readouterr().out
    assert main([str(tmp_path / "missing.ipynb")]) == 2


def test_a_class_folder_gives_a_summary_and_one_json_each(tmp_path, capsys):
    class_dir = tmp_path / "class"
    (class_dir / "ana").mkdir(parents=True)
    (class_dir / "ben").mkdir()
    nbformat.write(solution("00_welcome"), class_dir / "ana" / "00_welcome.ipynb")
    (class_dir / "ben" / "00_welcome.ipynb").write_text("garbage")
    out = tmp_path / "grades"
    assert main([str(class_dir), "--out", str(out), "--seed", "3"]) == 0
    rows = (out / "summary.csv").read_text().splitlines()
    assert rows[0].startswith("submission,chapter,score,max_score,running_mean")
    assert len(rows) == 3 and ",2.0,2," in rows[1] and "not a readable" in rows[2]
    ana = json.loads((out / "ana__00_welcome.json").read_text())
    assert ana["score"] == ana["extra_data"]["max_score"] == 2 and ana["extra_data"]["seed"] == 3
    assert {"name", "score", "max_score", "output", "visibility"} <= set(ana["tests"][0])
    assert json.loads((out / "ben__00_welcome.json").read_text())["score"] == 0


def test_single_notebook_json_is_gradescope_format(tmp_path):
    path = submit(tmp_path, solution())
    target = tmp_path / "results.json"
    assert main([str(path), "--json", str(target), "--seed", "1"]) == 0
    data = json.loads(target.read_text())
    assert data["score"] == data["extra_data"]["max_score"] == 7
    assert [t["name"] for t in data["tests"] if t["visibility"] == "visible"] == ["one_hot", "next_step_pairs", "pad_batch"]


def test_a_kernel_that_dies_before_its_first_reply_is_started_again(tmp_path, monkeypatch):
    """A start that fails is the machine's fault (no code of the submission has run yet): the grader tries
    again instead of scoring a correct notebook 0; a kernel that never starts still gets a readable note."""
    from course_lib.grading import grade as grade_module
    real = grade_module.NotebookRun._new_client
    starts = {"n": 0}

    def flaky(self, fail_first):
        client = real(self)
        starts["n"] += 1
        if starts["n"] <= fail_first:
            def dead(*args, **kwargs):
                raise RuntimeError("Kernel died before replying to kernel_info")
            client.setup_kernel = dead
        return client

    monkeypatch.setattr(grade_module.NotebookRun, "_new_client", lambda self: flaky(self, 1))
    result, _ = grade(submit(tmp_path, solution()))
    assert scores(result) == FULL and starts["n"] == 2

    starts["n"] = 0
    monkeypatch.setattr(grade_module.NotebookRun, "_new_client", lambda self: flaky(self, 99))
    result, _ = grade(submit(tmp_path, solution()))
    assert scores(result) == {name: 0 for name in FULL} and starts["n"] == grade_module.START_ATTEMPTS
    assert "the kernel could not start" in feedback(result, "one_hot")
