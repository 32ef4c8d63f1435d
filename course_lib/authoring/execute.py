"""Authoring: execute notebooks in place so their stored outputs are fresh (nbval compares against them).

    python -m course_lib.authoring notebooks/01_sequential_data.ipynb solutions/01_sequential_data.ipynb
    python -m course_lib.authoring --all      # every lecture and solution notebook, then exercises/

Each notebook runs in a fresh kernel of this environment, from its own folder, on the CPU at the course's
default thread count: COURSE_DEVICE and COURSE_THREADS are ignored, so stored outputs never come from a GPU
or another count. Prints the execution time of each notebook.
"""
import argparse
import os
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from course_lib.authoring.build_exercises import ROOT, main as build_exercises

CELL_TIMEOUT = 600  # as nbval's cell timeout in pyproject.toml: a hang guard, generous for a busy machine


def execute_notebook(path, timeout=CELL_TIMEOUT):
    """Execute `path` in place; returns the wall time in seconds."""
    path = Path(path).resolve()
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        cell.metadata.pop("execution", None)  # run timestamps would make every run a diff
    # Stored outputs always come from the CPU at the course's default thread count, whatever this shell sets.
    saved_env = {name: os.environ.pop(name) for name in ("COURSE_DEVICE", "COURSE_THREADS") if name in os.environ}
    try:
        start = time.perf_counter()
        NotebookClient(nb, timeout=timeout, kernel_name="python3", record_timing=False,
                       resources={"metadata": {"path": str(path.parent)}}).execute()
        elapsed = time.perf_counter() - start
    finally:
        os.environ.update(saved_env)
    nbformat.write(nb, path)
    return elapsed


def main(argv=None):
    parser = argparse.ArgumentParser(description="Execute course notebooks in place.")
    parser.add_argument("paths", nargs="*", type=Path)
    parser.add_argument("--all", action="store_true", help="every notebook in notebooks/ and solutions/")
    args = parser.parse_args(argv)
    paths = list(args.paths)
    if args.all:
        paths += sorted((ROOT / "notebooks").glob("*.ipynb")) + sorted((ROOT / "solutions").glob("*.ipynb"))
    if not paths:
        parser.error("name notebooks to execute, or pass --all")
    for path in paths:
        print(f"{execute_notebook(path):6.1f} s  {path}", flush=True)
    build_exercises([])
    return 0


if __name__ == "__main__":
    sys.exit(main())
