"""Regenerate benchmarks/bottleneck_sweep.json: what moves the reverse task's cliff (chapters 07 and 09).

Chapter 07's GRU encoder-decoder (H = 32, 1500 updates, seed 0) fails on long inputs. Is it the size of the
vector, the number of updates, or the one-directional encoder? Each run of `course_lib.seq2seq.BOTTLENECK_RUNS`
changes one thing: the hidden size H (16-128), four times the updates, two more seeds (the spread), a
bidirectional encoder of the same width without attention.

    .venv/bin/python benchmarks/bottleneck_sweep.py              # every run: about 3 minutes on one idle core
    .venv/bin/python benchmarks/bottleneck_sweep.py "GRU, H=64"  # only the runs named (the others are kept)

Chapters 07 and 09 read the file and assert on it; tests/test_seq2seq.py retrains one run and checks it.
"""
import json
import sys
import time

import torch

from course_lib.seq2seq import BOTTLENECK_FILE, BOTTLENECK_RUNS, bottleneck_run


def main(labels):
    torch.set_num_threads(1)  # as the test that checks a run against this file
    unknown = set(labels) - set(BOTTLENECK_RUNS)
    if unknown:
        raise SystemExit(f"no such run: {sorted(unknown)}; the runs are {list(BOTTLENECK_RUNS)}")
    results = {}
    for label in labels or BOTTLENECK_RUNS:
        model, hidden, steps, seed = BOTTLENECK_RUNS[label]
        start = time.perf_counter()
        curve = bottleneck_run(label)
        results[label] = {"model": model, "hidden": hidden, "steps": steps, "seed": seed,
                          "accuracy": {str(L): round(acc, 4) for L, acc in curve.items()}}
        print(f"{label:>40} ({time.perf_counter() - start:5.1f} s): "
              + "  ".join(f"L={L}: {100 * a:.0f}%" for L, a in curve.items()), flush=True)
    saved = json.loads(BOTTLENECK_FILE.read_text())["runs"] if BOTTLENECK_FILE.exists() else {}
    merged = {label: {**saved, **results}[label] for label in BOTTLENECK_RUNS if label in {**saved, **results}}
    BOTTLENECK_FILE.write_text(json.dumps({"runs": merged}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
