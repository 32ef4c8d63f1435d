"""Chapter 10 — the course's closing comparison: a vanilla RNN, a gated RNN and attention on every task the
course measured, each number produced by the course's own code.

The music and classification rows follow one protocol (the course's design conventions, "Comparing models"):

- **Three splits of the tunes.** Every 10th tune is the **test** set (chapter 06's held-out tunes); nothing
  is chosen on it. Every 10th of the remaining training tunes is the **validation** set.
- **The same tuning budget per family.** Each music model gets `len(MUSIC_GRIDS[name])` = 4 trials over its
  own knobs (learning rate and schedule for the recurrent models; learning rate and context length, 64 or 256
  characters, for attention), each trained on the training tunes without the validation set and scored on
  the validation set; the best trial's settings are then trained on all training tunes and scored on test.
  Before the grid, the LSTM's width and window shape (chapter 06) and the attention model's size (chapter 10)
  were explored on validation; the RNN reuses the LSTM's width and windows untried. The classifiers are not
  tuned (the same width, steps and learning rate for all three).
- **Equal CPU time.** Step counts were calibrated once, on the reference machine named in the results file, so
  that each run takes about as long as chapter 06's LSTM; budgets count steps, so the numbers repeat on every
  machine, and each run's measured seconds are stored beside them (chapter 10 prints this machine's beside them).
- **Seeds.** Every cell is `SEEDS` = 3 seeds (initialisation, training windows, classifier batches) and
  stores each seed's value; generated-tune shares pool 20 samples per seed, at the temperature fixed in
  advance (`SAMPLE_TEMPERATURE`, not chosen on these samples).

The memory and bottleneck rows are read from the results files of chapters 04–09.
`benchmarks/closing_table.py` regenerates `benchmarks/course_results.json`; chapters 06 and 10 retrain seed 0
of their own model and check it against the file, a test retrains the others.
"""
import json
import math
import os
import platform
from dataclasses import asdict, dataclass, replace
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch

from course_lib.language_model import (TUNE_HEADERS, CharLM, LMBudget, held_out_bits_per_char, sample_tunes,
                                       train_language_model)
from course_lib.memory import LAGS, cell_summary, clearly_better, longest_solved
from course_lib.linear_recurrences import MinGRULM
from course_lib.reproducibility import course_threads, seeded
from course_lib.transformer import AttentionLM
from course_lib.tune_types import TuneTypeClassifier, labelled, majority_accuracy, notes_batch, predict, train_classifier
from course_lib.tunes import load_split, split_tunes

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"
RESULTS_FILE = BENCHMARKS / "course_results.json"
ATTENTION_SWEEP_FILE = BENCHMARKS / "attention_model_sweep.json"
MODELS = ("RNN", "LSTM", "attention")
SEEDS = (0, 1, 2)
SAMPLE_TEMPERATURE = 0.8
SAMPLES_PER_SEED = 20           # 10 reels and 10 jigs
CLASSIFIER_STEPS = 200

ATTENTION_SIZE = dict(d_model=64, n_layers=2)
MINGRU_STEPS = 260  # chapter 12: about the LSTM's 400 steps' time (timed side by side: 245-273 steps)
# Step counts for about the LSTM's CPU time (400 steps of B = 64 windows of 64 characters), calibrated once on
# the reference machine. Attention with a 256-character context reads B = 16 windows per step: the same
# characters per step, 16 times the T x T work per window (4 times per step), so fewer steps.
_RNN, _LSTM = LMBudget(steps=820), LMBudget()
_ATTENTION_64 = LMBudget(steps=450, lr=6e-3, warmup=20)
_ATTENTION_256 = LMBudget(steps=240, batch=16, length=256, lr=6e-3, warmup=20)


@dataclass(frozen=True)
class MinGRUBudget(LMBudget):
    """Chapter 12's minGRU language model has one knob more than the others: its gates' starting bias b_z
    (negative: the layers start out keeping their state, what the memory task wanted; 0: half and half)."""
    gate_bias: float = -3.0


_MINGRU = MinGRUBudget(steps=MINGRU_STEPS, schedule="constant")
MUSIC_GRIDS = {
    "RNN": [replace(_RNN, lr=lr, schedule=s) for lr in (3e-3, 1e-2) for s in ("constant", "cosine")],
    "LSTM": [replace(_LSTM, lr=lr, schedule=s) for lr in (3e-3, 1e-2) for s in ("constant", "cosine")],
    "attention": [replace(b, lr=lr) for lr in (3e-3, 6e-3) for b in (_ATTENTION_64, _ATTENTION_256)],
    "minGRU": [replace(_MINGRU, lr=lr, gate_bias=bias) for lr in (3e-3, 1e-2) for bias in (0.0, -3.0)],
}
# The trials the validation sweep chose (benchmarks/course_results.json holds the sweep; a test checks these
# are its best). Chapter 06's LSTM and chapter 10's attention model train with these.
MUSIC_BUDGETS = {"RNN": replace(_RNN, lr=3e-3, schedule="constant"), "LSTM": replace(_LSTM, schedule="constant"),
                 "attention": _ATTENTION_64}
ATTENTION_BUDGET = MUSIC_BUDGETS["attention"]

# What each column of the closing table is, row by row: one family per column.
COLUMN_LEGEND = {
    "RNN": "vanilla tanh RNN — memory: orthogonal W_hh, H = 32; music: character model, H = 256; "
           "classification: reader, H = 64",
    "gated RNN": "memory: LSTM, forget bias tuned, H = 32; bottleneck: GRU encoder-decoder, H = 32; "
                 "music: LSTM character model, H = 256; classification: LSTM reader, H = 64",
    "attention": "memory: one causal attention layer, d = 32; bottleneck: the same GRU encoder-decoder with "
                 "attention over the encoder's states; music: decoder-only model, 2 blocks, d = 64; "
                 "classification: one attention block, d = 64",
}


@lru_cache(maxsize=1)
def tune_data():
    """(vocab, train_ids, test_ids, train tunes, test tunes): chapter 06's split and vocabulary (chapter 06
    calls the test tunes "held out")."""
    train, test, vocab = load_split()
    return (vocab, vocab.encode("".join(t.text() for t in train)), vocab.encode("".join(t.text() for t in test)),
            train, test)


@lru_cache(maxsize=1)
def selection_data():
    """(fit_ids, validation_ids): the training tunes split again by tune, every 10th into the validation set.
    Tuning trials train on fit and are scored on validation, so no choice ever sees a test tune."""
    vocab, _, _, train, _ = tune_data()
    fit, validation = split_tunes(train, 10)
    encode = lambda tunes: vocab.encode("".join(t.text() for t in tunes))
    return encode(fit), encode(validation)


def make_music_model(name, vocab_size, budget=None):
    """A fresh (seeded by the caller) language model: "RNN", "LSTM" (both H = 256), "attention" (its context is
    the budget's window length) or chapter 12's "minGRU" (two layers, H = 256)."""
    budget = budget or MUSIC_BUDGETS.get(name)
    if name == "attention":
        return AttentionLM(vocab_size, context=budget.length, seed=budget.seed, **ATTENTION_SIZE)
    if name in ("RNN", "LSTM"):
        return CharLM(vocab_size, hidden=256, cell=name.lower())
    if name == "minGRU":
        return MinGRULM(vocab_size, hidden=256, gate_bias=budget.gate_bias)
    raise ValueError(f"name must be one of {(*MODELS, 'minGRU')}, got {name!r}.")


def train_music_model(name, seed=0, progress=False, budget=None, data="train"):
    """Train one music model with its budget (default: the chosen one) and `seed`.
    data: "train" (all training tunes, scored on test) or "fit" (scored on validation, for tuning).
    returns (model, history, bits per character on the scored set)."""
    vocab, train_ids, test_ids, _, _ = tune_data()
    train_ids, scored_ids = (train_ids, test_ids) if data == "train" else selection_data()
    budget = replace(budget or MUSIC_BUDGETS[name], seed=seed)
    with seeded(budget.seed, threads=course_threads()):  # the course's thread count, for the stored numbers
        model = make_music_model(name, len(vocab), budget)
        history = train_language_model(model, train_ids, budget, progress=progress)
        return model, history, held_out_bits_per_char(model, scored_ids)


def budget_settings(budget):
    """The knobs a trial sets, as stored in the results file."""
    return {k: v for k, v in asdict(budget).items() if k != "seed"}


def tune_music(name):
    """Every trial of the family's grid, trained on fit (seed 0) and scored on validation.
    returns [{"settings", "validation_bits", "seconds"}] in grid order."""
    sweep = []
    for budget in MUSIC_GRIDS[name]:
        _, history, bits = train_music_model(name, budget=budget, data="fit")
        sweep.append({"settings": budget_settings(budget), "validation_bits": round(bits, 3),
                      "seconds": round(history["seconds"], 1)})
    return sweep


def chosen_budget(sweep):
    """The budget of the trial with the lowest validation bits (the first of equals)."""
    settings = min(sweep, key=lambda t: t["validation_bits"])["settings"]
    return (MinGRUBudget if "gate_bias" in settings else LMBudget)(**settings)


def generated_samples(model, temperature=SAMPLE_TEMPERATURE, per_header=SAMPLES_PER_SEED // 2, seed=1):
    """Chapter 06's samples: `per_header` reels, then `per_header` jigs, from the same seed."""
    vocab = tune_data()[0]
    return [s for kind in ("reel", "jig") for s in sample_tunes(model, vocab, TUNE_HEADERS[kind], per_header, temperature, seed=seed)]


def tune_type_accuracy(reader, seed=0, steps=CLASSIFIER_STEPS):
    """Test accuracy of a tune-type classifier with this reader ("rnn", "lstm", "attention") trained from
    scratch on the notes (chapter 06's setting) with `seed`; also returns the majority-class accuracy."""
    vocab, _, _, train, test = tune_data()
    train_tunes, y_train = labelled(train)
    test_tunes, y_test = labelled(test)
    x_train, m_train = notes_batch(train_tunes, vocab)
    x_test, m_test = notes_batch(test_tunes, vocab)
    with seeded(seed, threads=course_threads()):
        model = TuneTypeClassifier(len(vocab), reader=reader)
        train_classifier(model, (x_train, m_train), y_train, batch_axis=1, steps=steps, seed=seed)
        accuracy = float((predict(model, x_test, m_test) == y_test).float().mean())
        return accuracy, majority_accuracy(y_train, y_test)


def n_test_tunes():
    """How many test tunes the classifiers are scored on (those of the labelled kinds)."""
    return len(labelled(tune_data()[4])[1])


def machine():
    """The machine a results file was made on, in words the file stores."""
    return {"processor": platform.processor() or platform.machine(), "cpus": os.cpu_count(),
            "threads": torch.get_num_threads(), "torch": torch.__version__,
            "load_average": round(os.getloadavg()[0], 1) if hasattr(os, "getloadavg") else None}


def measure_music(name, log=print):
    """Tune the family on validation, then train the chosen settings with every seed and score on test."""
    from course_lib.music import valid_share
    sweep = tune_music(name)
    budget = chosen_budget(sweep)
    log(f"{name}: chose {budget_settings(budget)}")
    cells = {"settings": budget_settings(budget), "sweep": sweep, "test_bits": [], "valid_share": [],
             "seconds": [], "tokens_per_second": []}
    for seed in SEEDS:
        model, history, bits = train_music_model(name, seed, budget=budget)
        cells["test_bits"].append(round(bits, 3))
        cells["valid_share"].append(round(valid_share(generated_samples(model)), 3))
        cells["seconds"].append(round(history["seconds"], 1))
        cells["tokens_per_second"].append(round(history["tokens_per_second"]))
        log(f"  {name} seed {seed}: {bits:.3f} bits/char, {history['seconds']:.1f} s")
    return cells


def measure_all(log=print):
    """Everything the closing table needs that chapters 04-09's results files do not hold."""
    results = {"machine": machine(), "seeds": list(SEEDS), "samples_per_seed": SAMPLES_PER_SEED,
               "temperature": SAMPLE_TEMPERATURE, "music": {}, "classification": {}}
    for name in MODELS:
        results["music"][name] = measure_music(name, log)
    for name in MODELS:
        accuracies = [tune_type_accuracy(name.lower(), seed) for seed in SEEDS]
        results["classification"][name] = [round(a, 3) for a, _ in accuracies]
        log(f"classification {name}: {results['classification'][name]}")
    results["classification"]["majority"] = round(accuracies[0][1], 3)
    results["classification"]["n_test"] = n_test_tunes()
    return results


def binomial_interval(p, n, z=1.96):
    """Wilson's 95 % interval (lo, hi) for a share p measured on n items."""
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def spread_text(values, scale=1, digits=0, unit=""):
    """"mean [min, max]" of per-seed values."""
    fmt = lambda v: f"{scale * v:.{digits}f}"
    mean, low, high = cell_summary(values)
    return f"{fmt(mean)} [{fmt(low)}, {fmt(high)}]{unit}"


def clearly_lower(a, b):
    """True when every seed of a is below every seed of b (for bits per character, lower is better): the
    difference exceeds the spread. course_lib.memory.clearly_better with the order reversed."""
    return clearly_better(b, a)


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


def memory_rows(memory_columns, names=MEMORY_COLUMNS):
    """The memory benchmark's rows: each column's reach (`course_lib.memory.longest_solved`: over the seeds'
    mean, each seed's in brackets; "+" = the grid's longest lag, so the limit lies beyond it), then the accuracy at two lags as
    mean [min, max] over the seeds. memory_columns: course_lib.memory.load_results()["columns"]."""
    text = lambda lag: "none" if lag is None else f"{lag}{'+' if lag == LAGS[-1] else ''}"

    def reach(name):
        lag, per_seed = longest_solved(memory_columns[name])
        return f"{name} {text(lag)} ({'/'.join(text(s) for s in per_seed)})"

    def accuracy(name, lag):
        s = cell_summary(memory_columns[name][lag])
        return f"{name} -" if s is None else f"{name} {100 * s[0]:.0f} [{100 * s[1]:.0f}, {100 * s[2]:.0f}] %"

    rows = [("memory: reach (every lag up to it solved; per seed)", "04, 05, 09",
             *(reach(name) for name in names))]
    for lag in (20, LAGS[-1]):
        rows.append((f"memory: recall at lag {lag} (chance 12 %)", "04, 05, 09",
                     *(accuracy(name, lag) for name in names)))
    return rows


def closing_table(results, memory_columns, reverse_curves, revival=None):
    """Rows (task, chapter, RNN, gated RNN, attention) as strings, every number from a results file; the
    models behind each column are COLUMN_LEGEND's. With `revival` (chapter 12's minGRU column: {"memory":
    {lag: [accuracy per seed] or None}, "music": measure_music's cells}) each row gets a sixth cell,
    REVIVAL_LEGEND's models ("-": not measured).

    results: load_results() (course_results.json: per-seed values);
    memory_columns: {model: {lag: [accuracy per seed] or None}} (course_lib.memory.load_results()["columns"]);
    reverse_curves: {"GRU encoder-decoder": {L: acc}, "with attention": {L: acc}} (reverse_accuracy.json).
    """
    pct = lambda a: f"{100 * a:.0f} %"
    music, classes = results["music"], results["classification"]
    n_seeds, per_seed = len(results["seeds"]), results["samples_per_seed"]
    rows = memory_rows(memory_columns)
    for L in (8, 12):
        rows.append((f"bottleneck: reverse {L} symbols (1 seed)", "07, 09",
                     "-", f"GRU {pct(reverse_curves['GRU encoder-decoder'][str(L)])}",
                     f"+ attention {pct(reverse_curves['with attention'][str(L)])}"))
    rows.append(("parallelism: dependent steps, training T positions", "07", "T", "T", "1"))
    rows.append(("parallelism: dependent steps, generating T", "07", "T", "T", "T"))
    rows.append(("music: k characters/s (reference machine)", "06, 10",
                 *(spread_text(np.array(music[m]["tokens_per_second"]) / 1000) for m in MODELS)))
    rows.append(("music: test bits/char, equal time", "06, 10",
                 *(spread_text(music[m]["test_bits"], digits=2) for m in MODELS)))

    def share(m):
        p, n = float(np.mean(music[m]["valid_share"])), n_seeds * per_seed
        lo, hi = binomial_interval(p, n)
        return f"{100 * p:.0f} % ({100 * lo:.0f}-{100 * hi:.0f})"
    rows.append((f"music: valid tunes, {n_seeds} x {per_seed} at temp. {results['temperature']}", "06, 10", *(share(m) for m in MODELS)))
    n = classes["n_test"]

    def accuracy(m):
        lo, hi = binomial_interval(float(np.mean(classes[m])), n)
        return spread_text(classes[m], scale=100, unit=f" % ({100 * lo:.0f}-{100 * hi:.0f})")
    rows.append((f"classification: {n} test tunes (majority {pct(classes['majority'])})", "06, 10",
                 *(accuracy(m) for m in MODELS)))
    if revival is not None:
        rows = [(*row, cell) for row, cell in zip(rows, revival_cells(revival, n_seeds * per_seed, results))]
    return rows


REVIVAL_LEGEND = ("memory: two minGRU layers with an MLP between, H = 32; music: two minGRU layers, H = 256, "
                  "trained for about the LSTM's time (chapter 12)")


def revival_cells(revival, n_samples, results):
    """The minGRU column's cell for each of closing_table's rows, in its order."""
    memory = [row[2] for row in memory_rows({"minGRU": revival["memory"]}, names=("minGRU",))]
    music = revival["music"]
    p = float(np.mean(music["valid_share"]))
    lo, hi = binomial_interval(p, n_samples)
    return [*memory, "-", "-", "log2 T (scan)", "T",
            spread_text(np.array(music["tokens_per_second"]) / 1000), spread_text(music["test_bits"], digits=2),
            f"{100 * p:.0f} % ({100 * lo:.0f}-{100 * hi:.0f})", "-"]


TABLE_KEY = """\
cells: mean [min, max] over 3 seeds, or a count. (a-b): a 95 % interval — for generated tunes, of the share pooled
   over the seeds; for classification, of the mean accuracy as a share of the 73 test tunes. A 95 % interval is
   the range of true shares that would make the observed count unsurprising (Wilson's interval for a share).
memory reach: mean >= 90 % at every lag up to it, each seed's in brackets; +: the grid's longest lag (60), so
   the reach lies beyond it. -: not measured."""


def format_legend():
    """The closing table's column legend, one line per column."""
    return "\n".join(f"{name:>9}: {text}" for name, text in COLUMN_LEGEND.items())


def format_closing_table(rows):
    header = ("task", "chapters", "RNN", "gated RNN", "attention", "linear recurrence")[:len(rows[0])]
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    line = lambda r: " | ".join(str(c).ljust(w) for c, w in zip(r, widths))
    return "\n".join([line(header), "-+-".join("-" * w for w in widths), *(line(r) for r in rows)])
