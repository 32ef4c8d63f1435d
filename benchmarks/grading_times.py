"""Time the grader on every exercise notebook (untouched) and every solution notebook.

    .venv/bin/python benchmarks/grading_times.py [--repeat 3] [--only solutions] [--busy 2]

Prints each notebook's median grading time (kernel start, execution and probes included), then the
median and the worst over all of them. The target is under 10 s per submission on 2 CPU cores.
"""
import argparse
import statistics
import subprocess
import sys
from pathlib import Path

from course_lib.grading.grade import Limits, grade_notebook

ROOT = Path(__file__).resolve().parent.parent


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--only", choices=["exercises", "solutions"], help="time only these notebooks")
    parser.add_argument("--busy", type=int, default=0, help="keep this many cores busy meanwhile (a loaded machine)")
    args = parser.parse_args(argv)
    folders = [args.only] if args.only else ["exercises", "solutions"]
    paths = [p for folder in folders for p in sorted((ROOT / folder).glob("*.ipynb"))]
    hogs = [subprocess.Popen([sys.executable, "-c", "while True:\n    pass"]) for _ in range(args.busy)]
    try:
        return _time(paths, args.repeat)
    finally:
        for hog in hogs:
            hog.kill()


def _time(paths, repeat):
    medians, worst = [], 0.0
    for path in paths:
        times = []
        for seed in range(repeat):
            result = grade_notebook(path, Limits(), seed=seed)
            times.append(result.seconds)
        medians.append(statistics.median(times))
        worst = max(worst, *times)
        print(f"{medians[-1]:6.2f} s  (worst {max(times):5.2f} s)  {result.score:g}/{result.max_score:g}  "
              f"{path.relative_to(ROOT)}", flush=True)
    print(f"median over {len(paths)} notebooks: {statistics.median(medians):.2f} s; worst single run: {worst:.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
