"""Structure of the course's notebooks: three per chapter, markers, nbgrader metadata, generated exercises."""
import re
from pathlib import Path

import nbformat
import numpy as np
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

from course_lib.authoring.build_exercises import exercise_notebook, expected_exercises, strip_source
from course_lib.grading.checks import CHAPTERS, run_checks

ROOT = Path(__file__).resolve().parent.parent
STEMS = sorted(p.stem for p in (ROOT / "solutions").glob("*.ipynb"))


def read(folder, stem):
    return nbformat.read(ROOT / folder / f"{stem}.ipynb", as_version=4)


def test_every_chapter_has_lecture_solution_and_exercise_and_checks():
    for folder in ("notebooks", "solutions", "exercises"):
        assert sorted(p.stem for p in (ROOT / folder).glob("*.ipynb")) == STEMS, folder
    assert sorted(CHAPTERS) == STEMS


def test_exercises_are_exactly_what_the_generator_writes():
    stale = [p.name for p, text in expected_exercises().items() if p.read_text(encoding="utf-8") != text]
    assert not stale, f"run `make exercises`: out of date {stale}"


def test_strip_source_keeps_indentation_and_drops_hidden_tests():
    src = "def f(x):\n    ### BEGIN SOLUTION\n    return x\n    ### END SOLUTION\ncheck(f)\n### BEGIN HIDDEN TESTS\nassert 1\n### END HIDDEN TESTS\n"
    assert strip_source(src) == "def f(x):\n    # YOUR CODE HERE\n    raise NotImplementedError()\ncheck(f)"
    with pytest.raises(ValueError, match="unmatched"):
        strip_source("### BEGIN SOLUTION\nx = 1\n")


@pytest.mark.parametrize("stem", STEMS)
def test_exercise_notebooks_hold_no_solutions_and_no_outputs(stem):
    text = (ROOT / "exercises" / f"{stem}.ipynb").read_text()
    assert "BEGIN SOLUTION" not in text and "HIDDEN TESTS" not in text
    assert all(not c.get("outputs") for c in read("exercises", stem).cells if c.cell_type == "code")


@pytest.mark.parametrize("stem", STEMS)
def test_solution_cells_carry_nbgrader_metadata(stem):
    cells = read("solutions", stem).cells
    graded = {ex.name: ex for ex in CHAPTERS[stem]}
    solutions, tests = {}, {}
    for cell in cells:
        meta = cell.metadata.get("nbgrader")
        if "### BEGIN SOLUTION" in cell.source:
            assert meta and meta["solution"] and not meta["grade"], cell.source[:60]
            solutions[meta["grade_id"]] = cell
        if meta and meta.get("grade"):
            tests[meta["grade_id"]] = meta
    assert sorted(solutions) == sorted(graded)
    for name, ex in graded.items():
        assert re.search(rf"^(def|class) {name}\b", solutions[name].source, re.M)
        assert tests[f"check_{name}"]["points"] == ex.points


@pytest.mark.parametrize("folder", ["notebooks", "solutions"])
@pytest.mark.parametrize("stem", STEMS)
def test_chapters_open_with_objectives_and_close_with_a_summary(folder, stem):
    cells = read(folder, stem).cells
    first = cells[0].source
    assert all(word in first for word in ("Learning objectives", "Prerequisites", "Estimated time")), first[:200]
    assert any(c.cell_type == "markdown" and "## Summary" in c.source for c in cells)


@pytest.mark.parametrize("folder", ["notebooks", "solutions"])
@pytest.mark.parametrize("stem", STEMS)
def test_every_figure_has_a_title_and_axis_labels(folder, stem):
    for cell in read(folder, stem).cells:
        if cell.cell_type == "code" and "plt.figure" in cell.source:
            assert all(k in cell.source for k in ("title(", "xlabel(", "ylabel(")), cell.source[:80]


def solution_functions(stem):
    """The graded functions as defined by the solution notebook's own cells."""
    namespace = {"np": np}
    code = [c for c in read("solutions", stem).cells if c.cell_type == "code"]
    exec(compile(code[0].source, f"solutions/{stem}", "exec"), namespace)  # the notebook's imports
    for cell in code:
        if "### BEGIN SOLUTION" in cell.source:
            exec(compile(cell.source, f"solutions/{stem}", "exec"), namespace)
    return namespace


@pytest.mark.parametrize("stem", STEMS)
def test_solution_notebooks_agree_with_the_course_lib_reference(stem):
    functions = solution_functions(stem)
    for exercise in CHAPTERS[stem]:
        for seed in range(5):
            report = run_checks(functions[exercise.name], exercise, hidden=True, seed=seed)
            assert report.passed, report.text()


@pytest.mark.parametrize("stem", STEMS)
def test_untouched_exercise_stops_with_not_implemented_at_first_use(stem):
    """Run top to bottom, an untouched exercise notebook stops at the first cell that calls a graded
    function (not a definition, not a check cell), with NotImplementedError and nothing earlier."""
    nb = exercise_notebook(read("solutions", stem))
    names = [ex.name for ex in CHAPTERS[stem]]
    calls = re.compile(r"(?<![\w.])(" + "|".join(names) + r")\(")
    first_use = next(i for i, c in enumerate(nb.cells) if c.cell_type == "code"
                     and not c.metadata.get("nbgrader") and calls.search(c.source)
                     and not re.search(r"^def ", c.source, re.M))
    client = NotebookClient(nb, timeout=60, kernel_name="python3",
                            resources={"metadata": {"path": str(ROOT / "exercises")}})
    with pytest.raises(CellExecutionError) as info:
        client.execute()
    assert info.value.ename == "NotImplementedError"
    ran = [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and c.get("execution_count")]
    assert max(ran) == first_use
    for cell in nb.cells[:first_use]:
        outputs = cell.get("outputs", [])
        assert all(out.output_type != "error" for out in outputs)
        if cell.metadata.get("nbgrader", {}).get("grade"):  # a check cell: the note, then one stderr line for nbgrader
            stdout = "".join(out.text for out in outputs if out.get("name") == "stdout")
            stderr = "".join(out.text for out in outputs if out.get("name") == "stderr")
            assert "not implemented yet" in stdout and "Traceback" not in stdout + stderr
            assert re.fullmatch(r"\w+: 0/\d+ checks pass\n", stderr)
