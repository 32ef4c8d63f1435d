"""Chapter 10's exploration of the attention model's size: validation bits per character of the decoder-only
attention model on the tunes after about as much CPU time as chapter 06's LSTM gets (~40 s), for a few
sizes, learning rates and context lengths, then the best of them trained four times longer. Every run trains
on the training tunes without the validation set and is scored on the validation set
(course_lib.closing.selection_data), never on the test tunes; the best size is course_lib.closing.ATTENTION_SIZE.
Writes benchmarks/attention_model_sweep.json.

    .venv/bin/python benchmarks/tune_attention_model.py        # about 7 minutes on 2 CPU cores

Step counts were set so that each run takes about 40 s on the course's 2-core machine (bigger models
get fewer steps); "seconds" in the results is what each run measured.
"""
import json
import sys
from dataclasses import asdict

from course_lib import seed_everything
from course_lib.language_model import LMBudget, held_out_bits_per_char, train_language_model
from course_lib.closing import ATTENTION_SWEEP_FILE, selection_data, tune_data
from course_lib.transformer import AttentionLM

RUNS = [  # (label, model size, budget); a window of `length` characters is also the model's context
    ("2 layers, d=128, lr 3e-3", dict(d_model=128, n_layers=2), LMBudget(steps=225, lr=3e-3, warmup=20)),
    ("2 layers, d=128, lr 1e-3", dict(d_model=128, n_layers=2), LMBudget(steps=225, lr=1e-3, warmup=20)),
    ("2 layers, d=128, lr 6e-3", dict(d_model=128, n_layers=2), LMBudget(steps=225, lr=6e-3, warmup=20)),
    ("1 layer, d=128, lr 3e-3", dict(d_model=128, n_layers=1), LMBudget(steps=430, lr=3e-3, warmup=20)),
    ("1 layer, d=128, lr 6e-3", dict(d_model=128, n_layers=1), LMBudget(steps=430, lr=6e-3, warmup=20)),
    ("1 layer, d=128, lr 1e-2", dict(d_model=128, n_layers=1), LMBudget(steps=430, lr=1e-2, warmup=20)),
    ("2 layers, d=64, lr 6e-3", dict(d_model=64, n_layers=2), LMBudget(steps=450, lr=6e-3, warmup=20)),
    ("1 layer, d=128, context 32, B=128", dict(d_model=128, n_layers=1), LMBudget(steps=430, batch=128, length=32, lr=3e-3, warmup=20)),
]


def main():
    vocab = tune_data()[0]
    train_ids, valid_ids = selection_data()
    results = {"scored_on": "validation", "runs": []}

    def run(label, size, budget):
        seed_everything(budget.seed)
        model = AttentionLM(len(vocab), context=budget.length, seed=budget.seed, **size)
        history = train_language_model(model, train_ids, budget, progress=False)
        bits = held_out_bits_per_char(model, valid_ids)
        results["runs"].append({"label": label, **size, **asdict(budget), "seconds": round(history["seconds"], 1),
                                "validation_bits": round(bits, 3)})
        print(f"{label:40s} {history['seconds']:6.1f} s  {bits:.3f} bits/char", flush=True)
        return bits

    best = min(RUNS, key=lambda r: run(*r))
    results["chosen"] = best[0]  # course_lib.closing.ATTENTION_SIZE must be this run's size (tests/test_closing.py)
    run(f"{best[0]}, 4x the steps", best[1], LMBudget(**{**asdict(best[2]), "steps": 4 * best[2].steps}))
    ATTENTION_SWEEP_FILE.write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
