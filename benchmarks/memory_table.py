"""Regenerate benchmarks/memory_table.json: every model of the memory benchmark, every lag, one budget.

    .venv/bin/python benchmarks/memory_table.py

Chapters read earlier columns from the JSON and train only their own; tests/test_memory.py retrains
the columns and checks them against this file. Measured output on a 2-core CPU (about 6 s):

     lag |    RNN | chance = 12.5 %
       5 | 100.0% |
      10 | 100.0% |
      20 |  73.8% |
      50 |  12.0% |
     100 |  13.1% |
"""
import sys

from course_lib import seed_everything
from course_lib.memory import MODELS, format_memory_table, memory_table, save_results


def main():
    seed_everything(0)
    table, seconds = memory_table(MODELS)
    save_results(table)
    print(format_memory_table(table))
    print(f"({seconds:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
