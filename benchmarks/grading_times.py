"""Time the grader on every exercise notebook (untouched) and every solution notebook.

    .venv/bin/python benchmarks/grading_times.py [--repeat 3]

Prints each notebook's median grading time (kernel start, execution and probes included), then the
median and the worst over all of them. The target is under 10 s per submission on 2 CPU cores.
"""
import argparse
import statistics
import sys
from pathlib import Path

from course_lib.grade import Limits, grade_notebook

ROOT = Path(__file__).resolve().parent.parent


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    paths = sorted((ROOT / "exercises").glob("*.ipynb")) + sorted((ROOT / "solutions").glob("*.ipynb"))
    medians, worst = [], 0.0
    for path in paths:
        times = []
        for seed in range(args.repeat):
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
