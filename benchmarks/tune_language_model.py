"""Chapter 06's exploration of the LSTM's settings: validation bits per character of a character-level LSTM
after about 40 s of CPU training, for a few plausible settings, plus the course's setting with other seeds and
with four times the steps. Every run trains on the training tunes without the validation set and is scored on
the validation set (course_lib.closing.selection_data), never on the test tunes.
Writes benchmarks/language_model_sweep.json.

    .venv/bin/python benchmarks/tune_language_model.py        # about 8 minutes on 2 CPU cores

Step counts were set so that each run takes about 40 s on the course's 2-core machine (bigger models
get fewer steps); "seconds" in the results is what each run measured.
"""
import json
import sys
from dataclasses import asdict, replace

from course_lib import seed_everything
from course_lib.language_model import (SWEEP_FILE, char_lstm, LMBudget, held_out_bits_per_char, lzma_bits_per_char,
                                       train_language_model)
from course_lib.closing import MUSIC_BUDGETS, selection_data, tune_data

CHOSEN = MUSIC_BUDGETS["LSTM"]  # the closing table's LSTM: its 4-trial tuning on validation chose this
RUNS = [  # (label, hidden, budget)
    ("first try: Adam 3e-3 constant, B=32, T=128", 256, LMBudget(steps=440, batch=32, length=128, lr=3e-3, schedule="constant")),
    ("lr 1e-2 cosine, B=64, T=64", 256, replace(CHOSEN, schedule="cosine")),
    ("course setting: lr 1e-2 constant, B=64, T=64", 256, CHOSEN),
    ("lr 2e-2 constant, B=64, T=64", 256, replace(CHOSEN, lr=2e-2)),
    ("lr 1e-2 constant, B=32, T=128", 256, replace(CHOSEN, steps=440, batch=32, length=128)),
    ("lr 1e-2 constant, B=128, T=32", 256, replace(CHOSEN, batch=128, length=32)),
    ("narrower: H=192", 192, replace(CHOSEN, steps=520)),
    ("wider: H=320", 320, replace(CHOSEN, steps=300)),
    ("course setting, seed 1", 256, replace(CHOSEN, seed=1)),
    ("course setting, seed 2", 256, replace(CHOSEN, seed=2)),
    ("course setting, 4x the steps (~3 minutes)", 256, replace(CHOSEN, steps=1600)),
    ("lr 1e-2 cosine, 4x the steps (~3 minutes)", 256, replace(CHOSEN, schedule="cosine", steps=1600)),
]


def main():
    vocab = tune_data()[0]
    train_ids, valid_ids = selection_data()
    train_text, valid_text = vocab.decode(train_ids), vocab.decode(valid_ids)
    results = {"scored_on": "validation", "lzma": round(lzma_bits_per_char([train_text], [valid_text]), 3), "runs": []}
    for label, hidden, budget in RUNS:
        seed_everything(budget.seed)
        model = char_lstm(len(vocab), hidden=hidden)
        history = train_language_model(model, train_ids, budget, progress=False)
        bits = held_out_bits_per_char(model, valid_ids)
        results["runs"].append({"label": label, "hidden": hidden, **asdict(budget),
                                "seconds": round(history["seconds"], 1), "validation_bits": round(bits, 3)})
        print(f"{label:45s} {history['seconds']:6.1f} s  {bits:.3f} bits/char", flush=True)
    SWEEP_FILE.write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
