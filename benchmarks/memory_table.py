"""Regenerate benchmarks/memory_table.json: the memory benchmark's tuning sweeps, every column at every
lag on three test seeds, and one larger-budget run (the protocol is in course_lib/memory.py's docstring).

    PYTHONPATH=. python benchmarks/memory_table.py                  # every column
    PYTHONPATH=. python benchmarks/memory_table.py --add minGRU "linear attention" "2-layer GRU"   # chapter 12's

Chapter 12's three columns are made with --add (REVIVAL_COLUMNS; a few minutes on a quiet machine, two workers):
they are written to their own file, benchmarks/memory_table_revival.json, whose "seconds" is that run's wall
time; the classic table above stays as it was.

Chapters 04, 05 and 09 train one seed of their own column and check it against this file;
tests/test_memory.py retrains a few cells and one tuning trial. Runtime: two worker processes of one thread
each; the file's "seconds" field holds the last regeneration's wall time: 1967 s (33 minutes) on the shared
2-core machine the course was built on, with a load average of about 16 from other work (one recall run at
lag 60 took about 20 s there; on an idle machine a run is several times faster). The table's budget
(H = 32, 32 sequences, lags up to 60) was sized to fit that machine.

The run that wrote the file (chosen on validation: RNN-orth lr 0.01 gain 1; LSTM-tuned lr 0.003 forget bias 5;
GRU lr 0.01 update bias 3; attention lr 0.003, 1 head; larger budget: GRU at lag 50, 900 updates, 100 %):

        lag | RNN  RNN-orth  LSTM-f0  LSTM-f1  LSTM-tuned  GRU  attention   (mean accuracy %, 3 seeds)
          5 | 100    100       100      100       100      100     100
         10 |  74    100        22       98       100      100     100
         15 |  36     99        13       33       100      100     100
         20 |  12     87         -       21        96      100     100
         30 |   -     76         -       11        81      100     100
         40 |   -     58         -        -        76      100     100
         50 |   -     59         -        -        60       38     100
         60 |   -     13         -        -        41       13     100
     solved |   5     15         5       10        20       40      60
"""
import sys
import time

from course_lib import seed_everything
from course_lib.memory import add_columns, format_memory_table, run_benchmark, save_results


def main(argv):
    seed_everything(0)
    log = lambda text: print(f"[{time.strftime('%H:%M:%S')}] {text}", flush=True)
    if argv[:1] == ["--add"]:
        results = add_columns(argv[1:], log=log)
        print(format_memory_table(results["columns"]))
        print("chosen on validation:", {c: results["settings"][c] for c in argv[1:]})
        return 0
    results = run_benchmark(log=log)
    save_results(results)
    print(format_memory_table(results["columns"]))
    print("chosen on validation:", results["settings"])
    print("larger budget:", results["larger_budget"])
    print(f"({results['seconds']} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
