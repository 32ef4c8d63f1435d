"""Write exercises/NN_name.ipynb from solutions/NN_name.ipynb: the learner's copy of each chapter.

    python -m course_lib.authoring.build_exercises          # rewrite every exercise notebook
    python -m course_lib.authoring.build_exercises --check  # exit 1 if exercises/ is not what this would write

In code cells, the lines between `### BEGIN SOLUTION` and `### END SOLUTION` become
`# YOUR CODE HERE` + `raise NotImplementedError()` (at the marker's indentation), and the lines between
`### BEGIN HIDDEN TESTS` and `### END HIDDEN TESTS` are removed. Outputs and execution counts are
cleared. Cell metadata (nbgrader's included) is kept, so nbgrader can import either notebook.
"""
import argparse
import copy
import re
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[2]
SOLUTIONS, EXERCISES = ROOT / "solutions", ROOT / "exercises"
_REGION = re.compile(r"^([ \t]*)### BEGIN (SOLUTION|HIDDEN TESTS)[ \t]*\n.*?^[ \t]*### END \2[ \t]*(\n|$)", re.S | re.M)


def strip_source(source):
    """The learner's version of one cell's source."""
    def replace(match):
        if match.group(2) == "HIDDEN TESTS":
            return ""
        indent = match.group(1)
        return f"{indent}# YOUR CODE HERE\n{indent}raise NotImplementedError()\n"
    out = _REGION.sub(replace, source)
    for marker in ("### BEGIN SOLUTION", "### END SOLUTION", "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"):
        if marker in out:
            raise ValueError(f"unmatched {marker!r} in a cell: every BEGIN needs its END.")
    return out.rstrip("\n")


def exercise_notebook(solution):
    """A new notebook: the exercise version of a solution notebook node."""
    nb = copy.deepcopy(solution)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.source = strip_source(cell.source)
            cell.outputs = []
            cell.execution_count = None
            cell.metadata.pop("execution", None)  # timestamps of the solution's last run
    return nb


def render(nb):
    return nbformat.writes(nb) + "\n"


def expected_exercises():
    """{exercise path: text it should have} for every solution notebook."""
    return {EXERCISES / path.name: render(exercise_notebook(nbformat.read(path, as_version=4)))
            for path in sorted(SOLUTIONS.glob("*.ipynb"))}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only report whether exercises/ is up to date")
    args = parser.parse_args(argv)
    expected = expected_exercises()
    stale = [p for p, text in expected.items() if not p.exists() or p.read_text(encoding="utf-8") != text]
    extra = [p for p in EXERCISES.glob("*.ipynb") if p not in expected]
    if args.check:
        for p in stale:
            print(f"out of date: {p.relative_to(ROOT)}")
        for p in extra:
            print(f"no solution notebook for: {p.relative_to(ROOT)}")
        return 1 if stale or extra else 0
    EXERCISES.mkdir(exist_ok=True)
    for p in stale:
        p.write_text(expected[p], encoding="utf-8")
        print(f"wrote {p.relative_to(ROOT)}")
    for p in extra:
        p.unlink()
        print(f"removed {p.relative_to(ROOT)} (its solution notebook is gone)")
    if not stale and not extra:
        print("exercises/ is up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
