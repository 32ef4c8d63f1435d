"""Regenerate benchmarks/course_results.json: the numbers of chapter 10's closing table that no earlier
results file holds, under the protocol in course_lib/closing.py's docstring — for each music model (RNN, LSTM,
attention) a 4-trial sweep trained on the training tunes without the validation set and scored on it, then
the chosen settings trained with 3 seeds on all training tunes and scored on the test tunes (bits per
character, seconds, characters per second, share of 20 generated tunes per seed that pass chapter 06's test);
then the three tune-type classifiers with 3 seeds each.

    PYTHONPATH=. python benchmarks/closing_table.py      # about 25 minutes on a quiet 2-core machine

The file names the machine it was made on; its seconds are that machine's. Afterwards check that
course_lib.closing.MUSIC_BUDGETS are the sweeps' choices (tests/test_closing.py does).
"""
import sys
import time

from course_lib.closing import MODELS, measure_all, save_results


def main():
    start = time.perf_counter()
    results = measure_all()
    results["seconds"] = round(time.perf_counter() - start)
    save_results(results)
    for name in MODELS:
        music = results["music"][name]
        print(name, music["settings"], music["test_bits"], music["valid_share"], music["seconds"],
              "classification", results["classification"][name])
    print("majority", results["classification"]["majority"], "of", results["classification"]["n_test"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
