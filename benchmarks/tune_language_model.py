"""The sweep behind chapter 06's training settings: held-out bits per character of a character-level
LSTM on the tunes after about 30 s of CPU training, for a few plausible settings, plus the chosen
setting with other seeds and with four times the steps. Writes benchmarks/language_model_sweep.json.

    .venv/bin/python benchmarks/tune_language_model.py        # about 8 minutes on 2 CPU cores

Step counts were set so that each run takes about 30 s on the course's 2-core machine (bigger models
get fewer steps); "seconds" in the results is what each run measured.
"""
import json
import sys
from dataclasses import asdict

from course_lib import seed_everything
from course_lib.language_model import (SWEEP_FILE, CharLSTM, LMBudget, held_out_bits_per_char, lzma_bits_per_char,
                                       train_language_model)
from course_lib.tunes import Vocab, load_tunes, split_tunes

CHOSEN = LMBudget()
RUNS = [  # (label, hidden, budget)
    ("first try: Adam 3e-3 constant, B=32, T=128", 256, LMBudget(steps=440, batch=32, length=128, lr=3e-3, schedule="constant")),
    ("lr 1e-2 cosine, B=32, T=128", 256, LMBudget(steps=440, batch=32, length=128)),
    ("chosen: lr 1e-2 cosine, B=64, T=64", 256, CHOSEN),
    ("lr 2e-2 cosine, B=64, T=64", 256, LMBudget(lr=2e-2)),
    ("lr 1e-2 cosine, B=128, T=32", 256, LMBudget(batch=128, length=32)),
    ("narrower: H=192", 192, LMBudget(steps=520)),
    ("wider: H=320", 320, LMBudget(steps=300)),
    ("chosen, seed 1", 256, LMBudget(seed=1)),
    ("chosen, seed 2", 256, LMBudget(seed=2)),
    ("chosen, 4x the steps (~2 minutes)", 256, LMBudget(steps=1600)),
]


def main():
    tunes = load_tunes()
    train, valid = split_tunes(tunes)
    vocab = Vocab([t.text() for t in tunes])
    train_text, valid_text = "".join(t.text() for t in train), "".join(t.text() for t in valid)
    train_ids, valid_ids = vocab.encode(train_text), vocab.encode(valid_text)
    results = {"lzma": round(lzma_bits_per_char([train_text], [valid_text]), 3), "runs": []}
    for label, hidden, budget in RUNS:
        seed_everything(budget.seed)
        model = CharLSTM(len(vocab), hidden=hidden)
        history = train_language_model(model, train_ids, budget, progress=False)
        bits = held_out_bits_per_char(model, valid_ids)
        results["runs"].append({"label": label, "hidden": hidden, **asdict(budget),
                                "seconds": round(history["seconds"], 1), "held_out_bits": round(bits, 3)})
        print(f"{label:45s} {history['seconds']:6.1f} s  {bits:.3f} bits/char", flush=True)
    SWEEP_FILE.write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
