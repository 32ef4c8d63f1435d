"""Regenerate benchmarks/memory_table.json: every model of the memory benchmark, every lag, one budget.

    .venv/bin/python benchmarks/memory_table.py

Chapters read earlier columns from the JSON and train only their own; tests/test_memory.py retrains
the columns and checks them against this file. Measured output on a 2-core CPU (about 60 s):

     lag |    RNN |   LSTM |    GRU | attention | chance = 12.5 %
       5 | 100.0% | 100.0% | 100.0% | 100.0% |
      10 | 100.0% | 100.0% | 100.0% | 100.0% |
      20 |  73.8% |  99.7% | 100.0% | 100.0% |
      50 |  12.0% |  96.4% |  48.9% | 100.0% |
     100 |  13.1% |  12.0% |  12.2% | 100.0% |

Gate-bias sweep behind course_lib.training's LSTM_FORGET_BIAS and GRU_UPDATE_BIAS (same budget, accuracy
at lags 10 / 20 / 50; torch's default bias is 0):

    LSTM forget bias 0: 24.4 / 11.8 / 11.3    1: 100 / 58.0 / 11.4    3: 100 / 100 / 31.7    5: 100 / 99.7 / 96.4
    GRU update bias  0: 87.7 / 10.9 / 11.7    3: 100 / 100 / 48.9     5: 99.3 / 79.8 / 19.8
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
