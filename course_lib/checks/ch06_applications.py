"""Checks of chapter 06's exercises: `bits_per_char`, `sample_next` and `generate`.

Sampling is random, so its checks are of two kinds: at a tiny temperature the answer is the argmax and is
compared exactly; at ordinary temperatures the *frequencies* of many draws are compared with the
reference's, to within 0.03 (more than 5 standard deviations of the sampling noise at these sizes), so any
correct sampler passes, not only one that draws exactly like the reference.
"""
import math
from functools import lru_cache

import numpy as np
import torch

from course_lib.checks.core import Case, Exercise, Hint, as_numpy
from course_lib.language_model import bits_per_char, generate, sample_next

V = 6  # vocabulary of the tiny models and of the sampling checks
TINY = 1e-3  # a temperature this small turns sampling into argmax for these logits



def _frequencies(draws):
    """Share of each id among the draws: (V,) floats."""
    draws = np.asarray(as_numpy(draws)).reshape(-1).astype(np.int64)
    return np.bincount(draws, minlength=V)[:V] / max(len(draws), 1)


def _transition_frequencies(ids):
    """From (n, B) generated ids: share of each next id given the previous one, (V, V) floats."""
    ids = np.asarray(as_numpy(ids)).astype(np.int64)
    counts = np.zeros((V, V))
    np.add.at(counts, (ids[:-1].reshape(-1), ids[1:].reshape(-1)), 1)
    return counts / np.maximum(counts.sum(1, keepdims=True), 1)


# Tiny language models for the `generate` checks: model(x (T, B), state) -> (logits (T, B, V), state).
# Module level, so that the grader can name them to the learner's kernel; fixed weights from seed 0.
def bigram_model(x, state):
    """The next id depends only on the current one (a fixed (V, V) table of logits); no state."""
    table = 2.0 * torch.randn(V, V, generator=torch.Generator().manual_seed(0))
    return table[x], state


def counting_model(x, state):
    """state: (B,) how many ids it has read; predicts (count + id) mod V with high confidence."""
    count = torch.zeros(x.shape[1], dtype=torch.int64) if state is None else state
    counts = count + 1 + torch.arange(x.shape[0])[:, None]
    return 8.0 * torch.nn.functional.one_hot((counts + x) % V, V).float(), counts[-1]


@lru_cache(maxsize=1)
def _tiny_lstm():
    g = torch.Generator().manual_seed(0)
    lstm = torch.nn.LSTM(4, 8)
    with torch.no_grad():
        for p in lstm.parameters():
            p.copy_(torch.randn(p.shape, generator=g))
    return torch.randn(V, 4, generator=g), lstm, 3.0 * torch.randn(8, V, generator=g)


def tiny_lstm_model(x, state):
    """An embedding, a one-layer LSTM (H = 8) and a read-out with fixed random weights."""
    embed, lstm, readout = _tiny_lstm()
    with torch.no_grad():
        states, state = lstm(embed[x], state)
    return states @ readout, state


def _logits(rng, *shape, scale=1.5):
    return torch.from_numpy(scale * rng.normal(size=shape)).float()


def _spread_logits(rng, B):
    """(B, V) logits whose values are well apart in every row (a random order of an evenly spread set):
    temperature mistakes then always move the frequencies by far more than the tolerance, and a tiny
    temperature always picks one clear argmax."""
    spread = np.linspace(-2.0, 2.0, V) * rng.uniform(0.9, 1.2)
    return torch.from_numpy(np.stack([rng.permutation(spread) for _ in range(B)])).float()


def _sample_cases(rng, hidden):
    def gen():
        return torch.Generator().manual_seed(int(rng.integers(2 ** 31)))

    def freq_case(name, temperature, hidden_case=False):
        row = _spread_logits(rng, 1)[0]
        return Case(name, (row.repeat(40000, 1), temperature, gen()), select=_frequencies, hidden=hidden_case)
    if hidden:
        B = int(rng.integers(2, 9))
        return [freq_case("hidden: a temperature below 1 sharpens: frequencies of 40000 draws", float(rng.uniform(0.3, 0.6)), True),
                freq_case("hidden: a temperature above 1 flattens: frequencies of 40000 draws", float(rng.uniform(2.0, 3.0)), True),
                freq_case("hidden: temperature 1: frequencies of 40000 draws", 1.0, True),
                Case("hidden: a tiny temperature picks each row's argmax", (_spread_logits(rng, B), TINY, gen()), hidden=True)]
    return [Case(f"temperature {TINY} picks each row's argmax, (B, V) = (5, {V})", (_spread_logits(rng, 5), TINY, gen())),
            freq_case("temperature 1: frequencies of 40000 draws match the softmax", 1.0),
            freq_case("temperature 0.5 sharpens: frequencies match softmax(logits / 0.5)", 0.5),
            freq_case("temperature 2 flattens: frequencies match softmax(logits / 2)", 2.0),
            Case("temperature 0 raises ValueError", (_logits(rng, 2, V), 0.0, gen()), raises=(ValueError,))]


def _generate_cases(rng, hidden):
    def gen():
        return torch.Generator().manual_seed(int(rng.integers(2 ** 31)))

    def prompt(T0, B):
        return torch.from_numpy(rng.integers(0, V, size=(T0, B)))

    def fed_back_prompt(T0, B, n):
        """A prompt whose n-step argmax continuation changes when the sampled ids are not fed back, so
        that feeding them back is tested on every seed (on some prompts the tiny LSTM's picks do not
        depend on its input)."""
        while True:
            p = prompt(T0, B)
            if not torch.equal(generate(tiny_lstm_model, p, n, TINY, torch.Generator()),
                               _no_feedback(tiny_lstm_model, p, n, TINY, torch.Generator())):
                return p
    if hidden:
        T0, B, n = int(rng.integers(2, 6)), int(rng.integers(2, 5)), int(rng.integers(3, 15))
        return [Case("hidden: tiny LSTM, a prompt of several steps, tiny temperature", (tiny_lstm_model, fed_back_prompt(T0, B, n), n, TINY, gen()), hidden=True),
                Case("hidden: counting model (needs its state), tiny temperature", (counting_model, prompt(T0, B), n, TINY, gen()), hidden=True),
                Case("hidden: temperature 1: transition frequencies over 500 x 200 steps", (bigram_model, prompt(1, 500), 200, 1.0, gen()),
                     select=_transition_frequencies, hidden=True)]
    return [Case(f"bigram model, prompt [[2]], n=8, temperature {TINY}: follows the argmax chain", (bigram_model, torch.tensor([[2]]), 8, TINY, gen())),
            Case("the state is carried from step to step: counting model, prompt (3, 2), n=6", (counting_model, prompt(3, 2), 6, TINY, gen())),
            Case("the whole prompt is read: tiny LSTM, prompt (5, 3), n=10", (tiny_lstm_model, prompt(5, 3), 10, TINY, gen())),
            Case("n=1 returns one step, shape (1, B)", (bigram_model, prompt(2, 4), 1, TINY, gen())),  # only the shape at stake
            Case("temperature 1: transition frequencies over 500 x 200 steps match the model's softmax",
                 (bigram_model, prompt(1, 500), 200, 1.0, gen()), select=_transition_frequencies),
            Case("temperature 0 raises ValueError", (bigram_model, prompt(1, 2), 3, 0.0, gen()), raises=(ValueError,))]


def _bits_cases(rng, hidden):
    def targets(T, B, n):
        return torch.from_numpy(rng.integers(0, n, size=(T, B)))
    if hidden:
        T, B, n = int(rng.integers(2, 12)), int(rng.integers(2, 6)), int(rng.integers(2, 30))
        return [Case("hidden: random logits, T >= 2, B >= 2", (_logits(rng, T, B, n, scale=3.0), targets(T, B, n)), hidden=True),
                Case("hidden: one long sequence (B = 1)", (_logits(rng, T + 5, 1, n, scale=3.0), targets(T + 5, 1, n)), hidden=True)]
    confident = torch.full((4, 2, 5), -20.0)
    right = targets(4, 2, 5)
    confident.scatter_(2, right[..., None], 20.0)
    return [Case("uniform logits over V=8 cost log2(8) = 3 bits", (torch.zeros(4, 2, 8), targets(4, 2, 8))),
            Case("random logits, (T, B, V) = (7, 3, 5)", (_logits(rng, 7, 3, 5, scale=3.0), targets(7, 3, 5))),
            Case("confident and right costs almost 0 bits", (confident, right)),
            Case("targets of the wrong shape raise ValueError", (_logits(rng, 3, 2, 5), targets(3, 4, 5)), raises=(ValueError, RuntimeError))]


def _nats(logits, targets):
    return float(torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1)))


def _summed_bits(logits, targets):
    return bits_per_char(logits, targets) * targets.numel()


def _bits_of_raw_logits(logits, targets):
    return float(-torch.log2(logits.gather(-1, targets[..., None]).clamp(min=1e-12)).mean())


def _times_temperature(logits, temperature, rng):
    return sample_next(logits * temperature, 1.0, rng)


def _uniform(logits, temperature, rng):
    return torch.randint(0, logits.shape[-1], logits.shape[:-1], generator=rng)


def _always_argmax(logits, temperature, rng):
    if not temperature > 0:
        raise ValueError("temperature must be > 0")
    return logits.argmax(-1)


def _ignores_temperature(logits, temperature, rng):
    if not temperature > 0:
        raise ValueError("temperature must be > 0")
    return sample_next(logits, 1.0, rng)


def _no_feedback(model, prompt, n, temperature, rng):
    logits, state = model(prompt, None)
    out = []
    for _ in range(n):
        out.append(sample_next(logits[-1], temperature, rng))
        logits, state = model(prompt[-1:], state)
    return torch.stack(out)


def _fresh_state(model, prompt, n, temperature, rng):
    token, out = None, []
    logits, _ = model(prompt, None)
    for _ in range(n):
        token = sample_next(logits[-1], temperature, rng)
        out.append(token)
        logits, _ = model(token[None], None)
    return torch.stack(out)


def _with_prompt(model, prompt, n, temperature, rng):
    return torch.cat([prompt, generate(model, prompt, n, temperature, rng)])


def _last_prompt_token_only(model, prompt, n, temperature, rng):
    return generate(model, prompt[-1:], n, temperature, rng)


EXERCISES = [
    Exercise(
        name="bits_per_char", reference=bits_per_char, points=1, make_cases=_bits_cases, atol=1e-5, rtol=1e-5,
        hints=[
            Hint(_nats, "that is the loss in nats (natural log); divide by ln 2 for bits"),
            Hint(_summed_bits, "average over all T * B characters instead of summing"),
            Hint(_bits_of_raw_logits, "turn logits into probabilities with a (log-)softmax first"),
            Hint(lambda logits, targets: _nats(logits, targets) / math.log(10), "bits are base 2: divide the nats by ln 2, not ln 10"),
            Hint(lambda logits, targets: bits_per_char(logits[-1:], targets[-1:]), "average over every time step, not only the last"),
        ],
    ),
    Exercise(
        name="sample_next", reference=sample_next, points=2, make_cases=_sample_cases, select=as_numpy, atol=0.03, rtol=0.0,
        hints=[
            Hint(_times_temperature, "divide the logits by the temperature (a small temperature must sharpen)"),
            Hint(_ignores_temperature, "the temperature must change the distribution: softmax(logits / temperature)"),
            Hint(_always_argmax, "that is always the argmax; draw from the distribution, e.g. torch.multinomial(probs, 1, generator=rng)"),
            Hint(_uniform, "draw from softmax(logits / temperature), not uniformly over the vocabulary"),
        ],
    ),
    Exercise(
        name="generate", reference=generate, points=2, make_cases=_generate_cases, select=as_numpy, atol=0.03, rtol=0.0,
        hints=[
            Hint(_no_feedback, "feed each sampled id back in as the next input"),
            Hint(_fresh_state, "pass the state the model returned into its next call"),
            Hint(_with_prompt, "return only the n new ids, without the prompt"),
            Hint(_last_prompt_token_only, "run the model over the whole prompt first, not only its last id"),
            Hint(lambda model, prompt, n, t, rng: generate(model, prompt, n, t, rng)[:-1], "return exactly n new ids"),
            Hint(lambda model, prompt, n, t, rng: generate(model, prompt, n, TINY, rng),
                 "sample at the given temperature (sample_next): taking the argmax ignores it"),
        ],
    ),
]
