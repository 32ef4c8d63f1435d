"""Regenerate benchmarks/linear_recurrences.json: chapter 12's selective-copy comparison of a time-invariant
diagonal state-space model (S4D) and a selective one (Mamba's S6), both two layers, H = 32, N = 8, 400 Adam
steps. Each gets the same tuning budget (its learning rate among COPY_LEARNING_RATES, chosen on a validation
seed), then is trained and scored on 3 test seeds.

    PYTHONPATH=. python benchmarks/linear_recurrences.py           # both parts, about 11 minutes (quiet 2 cores)
    PYTHONPATH=. python benchmarks/linear_recurrences.py --copy    # only the selective-copy study (about 5 minutes)
    PYTHONPATH=. python benchmarks/linear_recurrences.py --music   # only the music column (about 6 minutes)

It also holds the closing table's minGRU column on the folk tunes: chapter 10's protocol (course_lib.closing:
4 trials chosen on validation tunes: learning rate x the gates' starting bias; then 3 seeds scored on the test
tunes, 20 sampled tunes per seed), with the step count set for about the LSTM's training time
(closing.MINGRU_STEPS); the LSTM's 400 steps are timed in the same run ("lstm_seconds") as the reference.

Chapter 12's memory-table columns (minGRU, linear attention, the 2-layer GRU control) live in
memory_table_revival.json (`python benchmarks/memory_table.py --add minGRU "linear attention" "2-layer GRU"`).
The lecture retrains seed 0 of both selective-copy layers and checks it against this file.
"""
import json
import sys
import time

from course_lib.closing import machine, measure_music, train_music_model
from course_lib.linear_recurrences import SEEDS, STUDY_FILE, VALIDATION_SEED, selective_copy_study
from course_lib.reproducibility import course_threads, seed_everything


def main(argv):
    parts = {"--copy", "--music"} & set(argv) or {"--copy", "--music"}
    seed_everything(0, threads=course_threads())
    results = json.loads(STUDY_FILE.read_text()) if STUDY_FILE.exists() and parts != {"--copy", "--music"} else {}
    results.update(machine=machine(), seeds=list(SEEDS), validation_seed=VALIDATION_SEED)
    if "--copy" in parts:
        start = time.perf_counter()
        results["selective_copy"] = selective_copy_study()
        results["seconds"] = round(time.perf_counter() - start)
    if "--music" in parts:
        # the LSTM's time in this run: the equal-time reference the minGRU column is checked against
        results["lstm_seconds"] = round(train_music_model("LSTM", seed=0)[1]["seconds"], 1)
        start = time.perf_counter()
        results["music"] = measure_music("minGRU")
        results["music_seconds"] = round(time.perf_counter() - start)
    STUDY_FILE.write_text(json.dumps(results, indent=2) + "\n")
    print(f"({results.get('seconds')} s + {results.get('music_seconds')} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
