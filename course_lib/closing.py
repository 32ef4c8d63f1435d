"""Chapter 10 — the course's closing comparison: a vanilla RNN, a gated RNN and attention on every task the
course measured, each number produced by the course's own code.

The music models (chapters 06 and 10) get the **same CPU time** on this machine: a step count per model,
calibrated once so that each run takes about as long as chapter 06's LSTM (budgets count steps, so the
numbers repeat on every machine; the seconds each run took are stored beside them). The tune-type
classifiers get the same number of steps. The memory and bottleneck rows are read from the results files of
chapters 04–09. `benchmarks/closing_table.py` regenerates `benchmarks/course_results.json`; chapters 06 and
10 retrain their own model and assert that it matches the file.
"""
import json
from functools import lru_cache
from pathlib import Path

from course_lib.language_model import (TUNE_HEADERS, CharLM, LMBudget, held_out_bits_per_char, sample_tunes,
                                       train_language_model)
from course_lib.memory import LAGS, cell_summary, longest_solved
from course_lib.reproducibility import seed_everything
from course_lib.transformer import AttentionLM
from course_lib.tune_types import TuneTypeClassifier, labelled, majority_accuracy, notes_batch, predict, train_classifier
from course_lib.tunes import load_split

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"
RESULTS_FILE = BENCHMARKS / "course_results.json"
ATTENTION_SWEEP_FILE = BENCHMARKS / "attention_model_sweep.json"
MODELS = ("RNN", "LSTM", "attention")

# The attention model chosen by benchmarks/tune_attention_model.py (a window of `length` characters is
# also its context) and the RNN's step count for the LSTM's training time (see the results file's seconds).
ATTENTION_SIZE = dict(d_model=64, n_layers=2)
ATTENTION_BUDGET = LMBudget(steps=450, lr=6e-3, warmup=20)
RNN_BUDGET = LMBudget(steps=820)
MUSIC_BUDGETS = {"RNN": RNN_BUDGET, "LSTM": LMBudget(), "attention": ATTENTION_BUDGET}
SAMPLE_TEMPERATURE = 0.8


@lru_cache(maxsize=1)
def tune_data():
    """(vocab, train_ids, valid_ids, train tunes, valid tunes): chapter 06's split and vocabulary."""
    train, valid, vocab = load_split()
    return (vocab, vocab.encode("".join(t.text() for t in train)), vocab.encode("".join(t.text() for t in valid)),
            train, valid)


def make_music_model(name, vocab_size):
    """A fresh (seeded by the caller) language model: "RNN", "LSTM" (both H = 256) or "attention"."""
    if name == "attention":
        return AttentionLM(vocab_size, context=ATTENTION_BUDGET.length, **ATTENTION_SIZE)
    if name in ("RNN", "LSTM"):
        return CharLM(vocab_size, hidden=256, cell=name.lower())
    raise ValueError(f"name must be one of {MODELS}, got {name!r}.")


def train_music_model(name, progress=False):
    """Train one music model with its budget. returns (model, history, held-out bits per character)."""
    vocab, train_ids, valid_ids, _, _ = tune_data()
    budget = MUSIC_BUDGETS[name]
    seed_everything(budget.seed)
    model = make_music_model(name, len(vocab))
    history = train_language_model(model, train_ids, budget, progress=progress)
    return model, history, held_out_bits_per_char(model, valid_ids)


def generated_samples(model, temperature=SAMPLE_TEMPERATURE, per_header=10, seed=1):
    """Chapter 06's samples: `per_header` reels, then `per_header` jigs, from the same seed."""
    vocab = tune_data()[0]
    return [s for kind in ("reel", "jig") for s in sample_tunes(model, vocab, TUNE_HEADERS[kind], per_header, temperature, seed=seed)]


def tune_type_accuracy(reader, steps=200):
    """Held-out accuracy of a tune-type classifier with this reader ("rnn", "lstm", "attention") trained
    from scratch on the notes (chapter 06's setting); also returns the majority-class accuracy."""
    vocab, _, _, train, valid = tune_data()
    train_tunes, y_train = labelled(train)
    valid_tunes, y_valid = labelled(valid)
    x_train, m_train = notes_batch(train_tunes, vocab)
    x_valid, m_valid = notes_batch(valid_tunes, vocab)
    seed_everything(0)
    model = TuneTypeClassifier(len(vocab), reader=reader)
    train_classifier(model, (x_train, m_train), y_train, batch_axis=1, steps=steps)
    accuracy = float((predict(model, x_valid, m_valid) == y_valid).float().mean())
    return accuracy, majority_accuracy(y_train, y_valid)


def measure_all(progress=False):
    """Everything the closing table needs that chapters 04-09's results files do not hold."""
    from course_lib.music import valid_share
    music = {}
    for name in MODELS:
        model, history, bits = train_music_model(name, progress)
        music[name] = {"held_out_bits": round(bits, 3), "seconds": round(history["seconds"], 1),
                       "tokens_per_second": round(history["tokens_per_second"]),
                       "valid_share": round(valid_share(generated_samples(model)), 3),
                       "steps": MUSIC_BUDGETS[name].steps}
    classification = {}
    for name in MODELS:
        accuracy, majority = tune_type_accuracy(name.lower())
        classification[name] = round(accuracy, 3)
    classification["majority"] = round(majority, 3)
    return {"music": music, "classification": classification}


def load_results(path=RESULTS_FILE):
    return json.loads(Path(path).read_text())


def share_margin(p, n):
    """How far two measured shares of n items may differ when the true share is p: two standard errors of
    their difference. The results file was made on one CPU; on another, float rounding trains another model
    (same seed, same budget) whose samples or predictions differ like a fresh draw of the n items."""
    return 2 * (2 * p * (1 - p) / n) ** 0.5


def file_margin(p, n):
    """How far a fresh run's share of n items may be from the results file's p: `share_margin`, but never
    under 0.05 (a share near 0 or 1 has almost no sampling error)."""
    return max(0.05, share_margin(p, n))


def save_results(results, path=RESULTS_FILE):
    Path(path).write_text(json.dumps(results, indent=2) + "\n")


# The memory benchmark's column in each of the closing table's columns: the tuned member of each family.
MEMORY_COLUMNS = ("RNN-orth", "LSTM-tuned", "attention")


def memory_rows(memory_columns):
    """The memory benchmark's rows: the longest lag solved (mean accuracy >= 90 % over the seeds, each seed's
    in brackets; "+" = the grid's longest lag, so the limit lies beyond it), then the accuracy at two lags as
    mean [min, max] over the seeds. memory_columns: course_lib.memory.load_results()["columns"]."""
    text = lambda lag: "none" if lag is None else f"{lag}{'+' if lag == LAGS[-1] else ''}"

    def reach(name):
        lag, per_seed = longest_solved(memory_columns[name])
        return f"{name} {text(lag)} ({'/'.join(text(s) for s in per_seed)})"

    def accuracy(name, lag):
        s = cell_summary(memory_columns[name][lag])
        return f"{name} -" if s is None else f"{name} {100 * s[0]:.0f} [{100 * s[1]:.0f}, {100 * s[2]:.0f}] %"

    rows = [("memory: longest recall lag solved (mean >= 90 %, 3 seeds; each seed's)", "04, 05, 09",
             *(reach(name) for name in MEMORY_COLUMNS))]
    for lag in (20, LAGS[-1]):
        rows.append((f"memory: recall at lag {lag}, mean [min, max] (chance 12 %)", "04, 05, 09",
                     *(accuracy(name, lag) for name in MEMORY_COLUMNS)))
    return rows


def closing_table(results, memory_columns, reverse_curves):
    """Rows (task, chapter, RNN, gated RNN, attention) as strings, every number from a results file.

    memory_columns: {model: {lag: [accuracy per seed] or None}} (course_lib.memory.load_results()["columns"]);
    reverse_curves: {"GRU encoder-decoder": {L: acc}, "with attention": {L: acc}} (reverse_accuracy.json).
    """
    pct = lambda a: f"{100 * a:.0f} %"
    music, classes = results["music"], results["classification"]
    rows = memory_rows(memory_columns)
    for L in (8, 12):
        rows.append((f"bottleneck: reverse {L} symbols, whole-sequence accuracy", "07, 09", "-",
                     f"GRU {pct(reverse_curves['GRU encoder-decoder'][str(L)])}", f"+ attention {pct(reverse_curves['with attention'][str(L)])}"))
    rows.append(("parallelism: dependent steps per layer, training on T known positions", "07", "T", "T", "1"))
    rows.append(("parallelism: dependent steps per layer, generating T positions", "07", "T", "T", "T"))
    rows.append(("parallelism: training characters per second (this CPU)", "06, 10",
                 *(f"{music[m]['tokens_per_second'] / 1000:.0f} k" for m in MODELS)))
    rows.append(("music: held-out bits per character, equal CPU time", "06, 10", *(f"{music[m]['held_out_bits']:.2f}" for m in MODELS)))
    rows.append((f"music: valid generated tunes (temperature {SAMPLE_TEMPERATURE})", "06, 10", *(pct(music[m]["valid_share"]) for m in MODELS)))
    rows.append((f"classification: tune type, held out (majority {pct(classes['majority'])})", "06, 10", *(pct(classes[m]) for m in MODELS)))
    return rows


def format_closing_table(rows):
    header = ("task", "chapters", "RNN", "gated RNN", "attention")
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(5)]
    line = lambda r: " | ".join(str(c).ljust(w) for c, w in zip(r, widths))
    return "\n".join([line(header), "-+-".join("-" * w for w in widths), *(line(r) for r in rows)])
