"""Chapter 07 — an encoder-decoder RNN and the limits it runs into (torch, time-first).

The **reverse** task: read L symbols, then write them in reverse order. The encoder reads the input; the
decoder starts from the encoder's final state alone and writes one symbol per step, each fed back as its
next input. Everything the decoder knows about the input must pass through that one (B, H) vector: the
encoding bottleneck.
"""
import time
from pathlib import Path

import numpy as np
import torch

from course_lib.reproducibility import seeded

START_TOKEN = 0  # the id the decoder reads first (no symbol uses it: symbols are 1..n_symbols)


def reverse_task(L, B, rng, n_symbols=8):
    """tokens (L, B) in 1..n_symbols and targets (L, B) = tokens reversed in time. rng: torch.Generator."""
    tokens = torch.randint(1, n_symbols + 1, (L, B), generator=rng)
    return tokens, tokens.flip(0)


def greedy_decode(step, state, start_tokens, max_len):
    """Generate max_len tokens, feeding each step's most likely token back in as the next input.

    step(tokens (B,), state) -> (logits (B, V), new state); start_tokens: (B,) int64.
    returns (max_len, B) int64.
    """
    if max_len < 0:
        raise ValueError(f"max_len must be non-negative, got {max_len}.")
    tokens, out = start_tokens, []
    for _ in range(max_len):
        logits, state = step(tokens, state)
        tokens = logits.argmax(dim=-1)
        out.append(tokens)
    return torch.stack(out) if out else torch.zeros(0, len(start_tokens), dtype=torch.long)


def sequence_accuracy(pred, target, mask=None):
    """Share of sequences (columns) whose every real position is predicted exactly.

    pred, target: (T, B) ints; mask: (T, B) bool, True where the position is real (None: all real).
    returns float in [0, 1].
    """
    pred, target = torch.as_tensor(pred), torch.as_tensor(target)
    if pred.shape != target.shape or pred.dim() != 2:
        raise ValueError(f"pred and target must both be (T, B), got {tuple(pred.shape)} and {tuple(target.shape)}.")
    mask = torch.ones_like(target, dtype=torch.bool) if mask is None else torch.as_tensor(mask, dtype=torch.bool)
    if mask.shape != target.shape:
        raise ValueError(f"mask must have the shape of target {tuple(target.shape)}, got {tuple(mask.shape)}.")
    correct = (pred == target) | ~mask
    return float(correct.all(dim=0).float().mean()) if target.shape[1] else 0.0


class EncoderDecoder(torch.nn.Module):
    """GRU encoder, GRU decoder whose initial state h_{-1} is the encoder's final state h_{L-1} (nothing else)."""

    def __init__(self, n_symbols=8, hidden=32, embed=16):
        super().__init__()
        self.embed = torch.nn.Embedding(n_symbols + 1, embed)  # + the start token 0
        self.encoder = torch.nn.GRU(embed, hidden)
        self.decoder = torch.nn.GRU(embed, hidden)
        self.readout = torch.nn.Linear(hidden, n_symbols + 1)

    def encode(self, tokens):
        """tokens (L, B) -> final state (1, B, H): the whole input squeezed into one vector per sequence."""
        return self.encoder(self.embed(tokens))[1]

    def step(self, tokens, state):
        """One decoder step: tokens (B,), state (1, B, H) -> logits (B, V), state."""
        out, state = self.decoder(self.embed(tokens)[None], state)
        return self.readout(out[0]), state

    def forward(self, tokens, targets):
        """Teacher forcing: the decoder reads the start token, then the true previous target. -> (L, B, V)."""
        start = torch.full((1, targets.shape[1]), START_TOKEN, dtype=torch.long)
        inputs = torch.cat([start, targets[:-1]])
        out, _ = self.decoder(self.embed(inputs), self.encode(tokens))
        return self.readout(out)

    def generate(self, tokens):
        start = torch.full((tokens.shape[1],), START_TOKEN, dtype=torch.long)
        return greedy_decode(self.step, self.encode(tokens), start, tokens.shape[0])


def train_reverse(model, lengths, steps=1500, batch=64, lr=3e-3, seed=0, n_symbols=8):
    """Teacher-forced training on the reverse task, one random length from `lengths` per batch.
    seed: the batches' draws (the model was initialised by the caller); nothing global is reseeded."""
    rng = torch.Generator().manual_seed(seed)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    for _ in range(steps):
        L = int(lengths[torch.randint(len(lengths), (1,), generator=rng)])
        tokens, targets = reverse_task(L, batch, rng, n_symbols)
        logits = model(tokens, targets)
        loss = torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1))
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
    return model


class BidirectionalEncoderDecoder(EncoderDecoder):
    """The encoder-decoder with a bidirectional GRU encoder of the same total width H (H/2 per direction) and
    still no attention: the decoder starts from the two directions' final states side by side, (1, B, H), and
    sees nothing else. It separates what a bidirectional encoder buys from what attention buys."""

    def __init__(self, n_symbols=8, hidden=32, embed=16):
        super().__init__(n_symbols, hidden, embed)
        self.encoder = torch.nn.GRU(embed, hidden // 2, bidirectional=True)

    def encode(self, tokens):
        """tokens (L, B) -> (1, B, H): the forward direction's last state and the backward direction's."""
        final = self.encoder(self.embed(tokens))[1]                # (2, B, H/2)
        return torch.cat([final[0], final[1]], dim=-1)[None]


class AttentionEncoderDecoder(BidirectionalEncoderDecoder):
    """The encoder-decoder with attention: the bidirectional GRU encoder above keeps all its states, and at every
    output step the decoder's *current* state (after reading that step's input) is the query over them —
    dot-product attention (chapter 09), the read-out sees [decoder state, attended context]. This is Luong et
    al.'s (2015) dot-product layout; Bahdanau et al.'s (2014) scores with a small MLP and queries with the
    decoder's *previous* state, feeding the context into the decoder's input."""

    def __init__(self, n_symbols=8, hidden=32, embed=16):
        super().__init__(n_symbols, hidden, embed)
        self.readout = torch.nn.Linear(2 * hidden, n_symbols + 1)

    def encode(self, tokens):
        states, final = self.encoder(self.embed(tokens))      # states: (L, B, H), both directions side by side
        return torch.cat([final[0], final[1]], dim=-1)[None], states  # the decoder keeps every encoder state

    def _read(self, dec_out, enc_states):
        """dec_out (L_out, B, H), enc_states (L_in, B, H) -> logits (L_out, B, V), weights (B, L_out, L_in)."""
        from course_lib.attention import scaled_dot_product_attention
        q, kv = dec_out.transpose(0, 1), enc_states.transpose(0, 1)   # batch-first for the attention primitive
        context, weights = scaled_dot_product_attention(q, kv, kv)
        return self.readout(torch.cat([dec_out, context.transpose(0, 1)], dim=-1)), weights

    def step(self, tokens, state):
        h, enc_states = state
        out, h = self.decoder(self.embed(tokens)[None], h)
        logits, _ = self._read(out, enc_states)
        return logits[0], (h, enc_states)

    def forward(self, tokens, targets, return_weights=False):
        start = torch.full((1, targets.shape[1]), START_TOKEN, dtype=torch.long)
        final, enc_states = self.encode(tokens)
        out, _ = self.decoder(self.embed(torch.cat([start, targets[:-1]])), final)
        logits, weights = self._read(out, enc_states)
        return (logits, weights) if return_weights else logits


# ---------------------------------------------------------------------------------------------------
# The chapters' studies on the reverse task: settings, results files (benchmarks/reverse_accuracy.py and
# bottleneck_sweep.py write them), and the timing of chapter 07

REVERSE_TRAIN_LENGTHS = tuple(range(2, 17))
REVERSE_TEST_LENGTHS = (2, 4, 6, 8, 10, 12, 14, 16)
REVERSE_FILE = Path(__file__).resolve().parent.parent / "benchmarks" / "reverse_accuracy.json"
BOTTLENECK_FILE = REVERSE_FILE.with_name("bottleneck_sweep.json")


def reverse_curve(model_class, hidden=32, steps=1500, seed=0):
    """The bottleneck benchmark: build model_class(hidden=...) from `seed`, train it on the reverse task
    (lengths 2-16), return ({L: sequence accuracy}, the trained model)."""
    with seeded(seed):
        model = train_reverse(model_class(hidden=hidden), REVERSE_TRAIN_LENGTHS, steps=steps, seed=seed)
        return accuracy_by_length(model, REVERSE_TEST_LENGTHS), model


def accuracy_by_length(model, lengths, n=500, seed=1, n_symbols=8):
    """{L: sequence accuracy of greedy decoding} on fresh reverse-task sequences."""
    rng = torch.Generator().manual_seed(seed)
    result = {}
    with torch.no_grad():
        for L in lengths:
            tokens, targets = reverse_task(L, n, rng, n_symbols)
            result[L] = sequence_accuracy(model.generate(tokens), targets)
    return result


def time_forward_passes(lengths, batch=32, hidden=128, repeats=5):
    """Median wall time (s) of a forward pass over T steps: a torch.nn.RNN (T dependent steps) against one
    batched per-position product over all T positions at once (attention's work without its T x T comparisons;
    chapter 09 plots it beside a real attention layer, chapter 07 times real attention). CPU, no grad.
    returns {"T": [...], "rnn": [...], "parallel": [...]}."""
    rnn = torch.nn.RNN(hidden, hidden)
    weight = torch.randn(hidden, hidden)
    timings = {"T": list(lengths), "rnn": [], "parallel": []}
    with torch.no_grad():
        for T in lengths:
            x = torch.randn(T, batch, hidden)
            for name, fn in (("rnn", lambda: rnn(x)), ("parallel", lambda: torch.tanh(x @ weight))):
                fn()  # warm up
                samples = []
                for _ in range(repeats):
                    start = time.perf_counter()
                    fn()
                    samples.append(time.perf_counter() - start)
                timings[name].append(float(np.median(samples)))
    return timings


BOTTLENECK_MODELS = {"GRU": EncoderDecoder, "bidirectional GRU": BidirectionalEncoderDecoder}
# What moves the reverse task's cliff (benchmarks/bottleneck_sweep.py): each run changes one thing of chapter
# 07's model (GRU, H = 32, 1500 updates, seed 0). label: (model, hidden size H, updates, seed)
BOTTLENECK_RUNS = {
    **{f"GRU, H={H}": ("GRU", H, 1500, 0) for H in (16, 32, 64, 128)},
    "GRU, H=32, seed 1": ("GRU", 32, 1500, 1),
    "GRU, H=32, seed 2": ("GRU", 32, 1500, 2),
    "GRU, H=32, 4x the updates": ("GRU", 32, 6000, 0),
    "bidirectional GRU, H=32, no attention": ("bidirectional GRU", 32, 1500, 0),
}


def bottleneck_run(label):
    """{L: sequence accuracy} of one run of BOTTLENECK_RUNS, trained from scratch."""
    model, hidden, steps, seed = BOTTLENECK_RUNS[label]
    return reverse_curve(BOTTLENECK_MODELS[model], hidden=hidden, steps=steps, seed=seed)[0]
