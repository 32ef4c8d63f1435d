"""Regenerate benchmarks/parallelism.json: chapter 07's layer timings (course_lib.parallelism) at one thread
and at two (the course's count on its 2-core reference machine), labelled with the machine and its load.

    PYTHONPATH=. python benchmarks/parallelism.py

Chapter 07 measures and asserts the one-thread ratios itself; this file keeps the two-thread numbers, which
depend on the machine and on what else runs on it, as a labelled measurement, with chapter 07's claims
checked at each thread count (exit status 1 if a one-thread claim fails). Runtime: about 5 seconds on a quiet 2-core machine.
"""
import json
import sys

from course_lib.parallelism import RESULTS_FILE, format_measurements, measure_machine


def main():
    results = measure_machine()
    RESULTS_FILE.write_text(json.dumps(results, indent=2) + "\n")
    print(format_measurements(results))
    for n, modes in results["threads"].items():
        print(f"{n} thread(s):", modes["claims"])
    return 0 if all(results["threads"]["1"]["claims"].values()) else 1


if __name__ == "__main__":
    sys.exit(main())
