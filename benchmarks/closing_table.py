"""Regenerate benchmarks/course_results.json: the numbers of chapter 10's closing table that no earlier
results file holds — the three music language models (RNN, LSTM, attention) at equal CPU time, with their
held-out bits per character, training speed and share of valid samples, and the three tune-type classifiers.

    .venv/bin/python benchmarks/closing_table.py        # about 2 minutes on 2 CPU cores

Chapter 06 (LSTM) and chapter 10 (attention) retrain their model and assert that it matches this file;
tests/test_closing.py retrains the RNN and the classifiers.
"""
import sys

from course_lib.closing import MODELS, measure_all, save_results


def main():
    results = measure_all()
    save_results(results)
    for name in MODELS:
        print(name, results["music"][name], "classification", results["classification"][name])
    print("majority", results["classification"]["majority"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
