"""Checks of chapter 06's exercises: `bits_per_char`, `sample_next`, `generate`, the tune model `TuneLSTM`
and its `train_step`.

Sampling is random, so its checks are of two kinds: at a tiny temperature the answer is the argmax and is
compared exactly; at ordinary temperatures the *frequencies* of many draws are compared with the
reference's, to within 0.03 (more than 5 standard deviations of the sampling noise at these sizes), so any
correct sampler passes, not only one that draws exactly like the reference — provided it draws with the rng
it is given (a generator in the same state must give the same draws, which is checked too).
"""
import math
from functools import lru_cache

import numpy as np
import torch

from course_lib.grading.checks.core import Case, Exercise, Hint, as_numpy
from course_lib.language_model import char_lstm, bits_per_char, generate, sample_next, train_step

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


DRAWS = 40000  # rows of one frequency check


def sample_rows(fn, logits, temperature, rng, copies=1, twice=False):
    """The sample_next checks' harness: fn on `copies` stacked copies of logits (B, V), so a frequency check
    sends one row to the learner's kernel instead of 40000 (megabytes that took seconds to travel).
    twice=True: call fn again with a generator in rng's starting state and return whether the two draws are
    equal (a sampler must draw with the rng it is given, so that a seed makes its samples repeat)."""
    rows = logits.repeat(copies, 1)
    if not twice:
        return fn(rows, temperature, rng)
    again = torch.Generator()
    again.set_state(rng.get_state())
    first, second = fn(rows, temperature, rng), fn(rows, temperature, again)
    return np.array(np.array_equal(as_numpy(first), as_numpy(second)))


def _sample_cases(rng, hidden):
    def gen():
        return torch.Generator().manual_seed(int(rng.integers(2 ** 31)))

    def freq_case(name, temperature, hidden_case=False):
        return Case(name, (_spread_logits(rng, 1), temperature, gen(), DRAWS), select=_frequencies, hidden=hidden_case)
    if hidden:
        B = int(rng.integers(2, 9))
        return [freq_case("hidden: a temperature below 1 sharpens: frequencies of 40000 draws", float(rng.uniform(0.3, 0.6)), True),
                freq_case("hidden: a temperature above 1 flattens: frequencies of 40000 draws", float(rng.uniform(2.0, 3.0)), True),
                freq_case("hidden: temperature 1: frequencies of 40000 draws", 1.0, True),
                Case("hidden: a tiny temperature picks each row's argmax", (_spread_logits(rng, B), TINY, gen()), hidden=True),
                Case("hidden: a generator in the same state gives the same draws", (_spread_logits(rng, 1), 1.0, gen(), 1000, True),
                     hidden=True)]
    return [Case(f"temperature {TINY} picks each row's argmax, (B, V) = (5, {V})", (_spread_logits(rng, 5), TINY, gen())),
            freq_case("temperature 1: frequencies of 40000 draws match the softmax", 1.0),
            freq_case("temperature 0.5 sharpens: frequencies match softmax(logits / 0.5)", 0.5),
            freq_case("temperature 2 flattens: frequencies match softmax(logits / 2)", 2.0),
            Case("the same generator state gives the same 1000 draws (the sampler draws with rng)",
                 (_spread_logits(rng, 1), 1.0, gen(), 1000, True)),
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


def _ignores_generator(logits, temperature, rng):
    if not temperature > 0:
        raise ValueError("temperature must be > 0")
    return torch.multinomial(torch.softmax(logits / temperature, -1), 1)[:, 0]  # torch's global generator


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
        harness=sample_rows,
        hints=[
            Hint(_times_temperature, "divide the logits by the temperature (a small temperature must sharpen)"),
            Hint(_ignores_temperature, "the temperature must change the distribution: softmax(logits / temperature)"),
            Hint(_always_argmax, "that is always the argmax; draw from the distribution, e.g. torch.multinomial(probs, 1, generator=rng)"),
            Hint(_uniform, "draw from softmax(logits / temperature), not uniformly over the vocabulary"),
            Hint(_ignores_generator, "draw with the generator you are given, e.g. torch.multinomial(probs, 1, generator=rng): "
                                     "the same rng must give the same draws"),
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


# ---------------------------------------------------------------------------------------------------
# Building and training the tune model (exercises 4 and 5). Their arguments are objects (a model class, a
# model and its optimizer) that cannot travel to the learner's kernel, so each exercise has a *harness*: a
# module-level function that builds them there from the case's numbers and seed, calls the learner's code,
# and returns plain arrays to compare.

def _seeded_like(tensor, generator, scale=0.5):
    return scale * torch.randn(tensor.shape, generator=generator, dtype=torch.float64)


def _only(model, kind):
    found = [m for m in model.modules() if isinstance(m, kind)]
    if len(found) != 1:
        raise ValueError(f"the model must hold exactly one torch.nn.{kind.__name__} (the course's has one), "
                         f"yours holds {len(found)}")
    return found[0]


def _expect_shape(module_name, param_name, tensor, shape, why):
    if tuple(tensor.shape) != shape:
        raise ValueError(f"the {module_name}'s {param_name} has shape {tuple(tensor.shape)}, expected {shape}: {why}")


def load_tune_model_weights(model, vocab_size, hidden, embed, seed, dtype=torch.float32):
    """Give a model built of one nn.Embedding, one nn.LSTM and one nn.Linear the weights that `seed`
    draws, whatever its attribute names, so that two such models compute the same function; in `dtype`
    (float32, torch's default, unless a check needs float64's precision).
    Raises ValueError with one sentence when a part is missing or has the wrong shape."""
    if not isinstance(model, torch.nn.Module):
        raise TypeError(f"the class must build a torch.nn.Module, got {type(model).__name__}")
    emb, lstm, linear = (_only(model, kind) for kind in (torch.nn.Embedding, torch.nn.LSTM, torch.nn.Linear))
    _expect_shape("nn.Embedding", "weight", emb.weight, (vocab_size, embed), "one row of size embed per id")
    _expect_shape("nn.LSTM", "weight_ih_l0", lstm.weight_ih_l0, (4 * hidden, embed),
                  "the LSTM reads embeddings (input size embed) into hidden units")
    _expect_shape("nn.Linear", "weight", linear.weight, (vocab_size, hidden),
                  "the read-out maps hidden states to one score per id")
    g = torch.Generator().manual_seed(int(seed))
    model.to(dtype)
    with torch.no_grad():
        for module in (emb, lstm, linear):
            for name, param in sorted(module.named_parameters()):
                param.copy_(_seeded_like(param, g))
    return model


def tune_model_outputs(build, vocab_size, hidden, embed, x, seed):
    """Harness of the model-building exercise: build(vocab_size, hidden, embed) -> model; load seeded
    weights; run it on x (T, B) from no state, then on x again from the state it returned.
    returns (logits (T, B, V), h (1, B, H), c (1, B, H), logits after the state (T, B, V)); the checks
    compare the logits after a log-softmax (a constant added to a row of scores changes nothing)."""
    model = load_tune_model_weights(build(vocab_size, hidden, embed), vocab_size, hidden, embed, seed)
    with torch.no_grad():
        logits, state = model(x, None)
        if not (isinstance(state, (tuple, list)) and len(state) == 2):
            raise ValueError("forward must return (logits, state) with the LSTM's state (h, c)")
        again, _ = model(x, state)
    return logits, state[0], state[1], again


class GradientDescent:
    """The optimizer of the train_step checks: p <- p - lr * p.grad, as torch.optim.SGD(params, lr) without
    momentum, with its zero_grad() and step(). Written here because the first torch.optim optimizer of a
    process imports for about 2 s, which grading would pay once more in its own process."""

    def __init__(self, params, lr):
        self.param_groups = [{"params": list(params), "lr": lr}]

    def zero_grad(self, set_to_none=True):
        for p in self.param_groups[0]["params"]:
            if set_to_none:
                p.grad = None
            elif p.grad is not None:
                p.grad.zero_()

    @torch.no_grad()
    def step(self, closure=None):
        group = self.param_groups[0]
        for p in group["params"]:
            if p.grad is not None:
                p -= group["lr"] * p.grad


def train_step_outcome(step, lr, max_norm, T, B, seed):
    """Harness of the train_step exercise: a small float64 LSTM language model (V = 7, H = 8) with seeded
    weights and plain gradient descent (lr), trained by two calls of step(model, optimizer, x, y, max_norm)
    on two seeded batches. returns (first loss, second loss, parameters after the first call, parameters
    after the second call), the parameters flattened into one vector."""
    from course_lib.language_model import CharLM
    g = torch.Generator().manual_seed(int(seed))
    model = load_tune_model_weights(CharLM(7, hidden=8, embed=4), 7, 8, 4, seed, torch.float64)
    optimizer = GradientDescent(model.parameters(), lr)
    out = []
    for _ in range(2):
        ids = torch.randint(0, 7, (T + 1, B), generator=g)
        loss = step(model, optimizer, ids[:-1], ids[1:], max_norm)
        if isinstance(loss, bool) or not isinstance(loss, (float, np.floating)):
            got = "None" if loss is None else f"an object of type {type(loss).__name__}"
            raise TypeError(f"train_step must return the loss as a Python float (loss.item()), got {got}")
        out.append((loss, torch.cat([p.detach().reshape(-1).clone() for p in model.parameters()])))
    return out[0][0], out[1][0], out[0][1], out[1][1]


def _numbers(value):
    return tuple(float(as_numpy(v)) if np.size(as_numpy(v)) == 1 else as_numpy(v) for v in value)


def _log_softmax(z):
    z = np.asarray(z, dtype=float)
    top = z.max(axis=-1, keepdims=True)
    return z - top - np.log(np.exp(z - top).sum(axis=-1, keepdims=True))


def _model_numbers(value):
    """(logits, h, c, logits again), the logits as log-softmax: adding a constant to a row of scores
    changes no probability, so log-probabilities are accepted as logits too."""
    if not isinstance(value, (tuple, list)) or len(value) != 4:
        raise ValueError("expected (logits, h, c, logits again) from the harness")
    logits, h, c, again = (as_numpy(v) for v in value)
    return _log_softmax(logits), np.asarray(h, float), np.asarray(c, float), _log_softmax(again)


def _model_cases(rng, hidden):
    def x(T, B, V):
        return torch.from_numpy(rng.integers(0, V, size=(T, B)))
    seed = int(rng.integers(2 ** 31))
    if hidden:
        V, H, E = int(rng.integers(3, 12)), int(rng.integers(2, 10)), int(rng.integers(2, 6))
        T, B = int(rng.integers(2, 9)), int(rng.integers(1, 5))
        return [Case("random sizes: logits and the state (h, c)", (V, H, E, x(T, B, V), seed), hidden=True),
                Case("random sizes, T = 1, B = 1", (V, H, E, x(1, 1, V), seed + 1), hidden=True)]
    return [Case("(V, H, embed) = (7, 5, 3), x (T, B) = (6, 2): logits (T, B, V) and the state (h, c)", (7, 5, 3, x(6, 2, 7), seed)),
            Case("T = 1, B = 1: one step of one sequence", (7, 5, 3, x(1, 1, 7), seed + 1)),
            Case("a larger model, (V, H, embed) = (11, 16, 8), x (T, B) = (9, 4)", (11, 16, 8, x(9, 4, 11), seed + 2))]


def _train_cases(rng, hidden):
    seed = lambda: int(rng.integers(2 ** 31))
    if hidden:
        T, B = int(rng.integers(2, 9)), int(rng.integers(2, 6))  # T * B > 1: a sum differs from a mean
        return [Case("max_norm large enough not to clip, random (T, B)", (0.5, 1e3, T, B, seed()), hidden=True),
                Case("the clip is active, random (T, B)", (0.5, 0.05, T, B, seed()), hidden=True),
                Case("a smaller step, the clip is active, random (T, B)", (0.1, 0.1, T, B, seed()), hidden=True)]
    return [Case("lr 0.5, max_norm large enough not to clip, (T, B) = (5, 3): two calls", (0.5, 1e3, 5, 3, seed())),
            Case("lr 0.5, the clip is active (max_norm = 0.05), (T, B) = (5, 3)", (0.5, 0.05, 5, 3, seed())),
            Case("lr 0.1, the clip is active (max_norm = 0.1), (T, B) = (6, 2)", (0.1, 0.1, 6, 2, seed())),
            Case("T = 1, B = 1", (0.5, 1e3, 1, 1, seed()))]


# Classic mistakes in building the model.
class _BatchFirst(torch.nn.Module):
    def __init__(self, vocab_size, hidden, embed):
        super().__init__()
        self.embed, self.lstm = torch.nn.Embedding(vocab_size, embed), torch.nn.LSTM(embed, hidden, batch_first=True)
        self.readout = torch.nn.Linear(hidden, vocab_size)

    def forward(self, x, state=None):
        states, state = self.lstm(self.embed(x), state)
        return self.readout(states), state


class _Probabilities(_BatchFirst):
    def __init__(self, vocab_size, hidden, embed):
        super().__init__(vocab_size, hidden, embed)
        self.lstm = torch.nn.LSTM(embed, hidden)

    def forward(self, x, state=None):
        logits, state = super().forward(x, state)
        return torch.softmax(logits, dim=-1), state


class _IgnoresState(_Probabilities):
    def forward(self, x, state=None):
        states, state = self.lstm(self.embed(x))
        return self.readout(states), state


class _LastStepOnly(_Probabilities):
    def forward(self, x, state=None):
        states, state = self.lstm(self.embed(x), state)
        return self.readout(states[-1]), state


# Classic mistakes in the training step.
def _mistaken_step(zero_grad="before backward", clip="before the step", reduction="mean", shifted=True,
                   loss_after=False, bits=False):
    """A training step with one classic mistake switched on (the defaults are the correct step)."""
    def step(model, optimizer, x, y, max_norm):
        def loss_of(logits):
            targets = y if shifted else x
            return torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1),
                                                     reduction=reduction)
        loss = loss_of(model(x, None)[0])
        if zero_grad == "before backward":
            optimizer.zero_grad()
        loss.backward()
        if zero_grad == "after backward":  # wipes the gradient the step needs
            optimizer.zero_grad()
        if clip == "by value":
            torch.nn.utils.clip_grad_value_(model.parameters(), max_norm)
        elif clip == "each tensor":
            for p in model.parameters():
                torch.nn.utils.clip_grad_norm_([p], max_norm)
        elif clip == "before the step":
            torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm)
        optimizer.step()
        if clip == "after the step":
            torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm)
        if loss_after:
            with torch.no_grad():
                return loss_of(model(x, None)[0]).item()
        return loss.item() / math.log(2) if bits else loss.item()
    return step


_no_zero_grad = _mistaken_step(zero_grad=None)
_zero_grad_after_backward = _mistaken_step(zero_grad="after backward")
_clip_by_value = _mistaken_step(clip="by value")
_loss_in_bits = _mistaken_step(bits=True)
_clip_after_step = _mistaken_step(clip="after the step")
_clip_each_tensor = _mistaken_step(clip="each tensor")
_summed_loss = _mistaken_step(reduction="sum")
_loss_after_step = _mistaken_step(loss_after=True)
_targets_are_inputs = _mistaken_step(shifted=False)


def check_loss_fell(bits, held_out, bigram, window=20):
    """The learner's own training run, checked. bits: the training loss of each step (bits/char); held_out:
    the trained model's bits/char on the held-out tunes; bigram: the bigram model's on the same tunes.
    Checks that the mean of the last `window` losses is well below the first ones, and that the held-out
    score is below the bigram's (a loss that falls on training windows alone can come from a mistake, such
    as targets equal to the inputs). Prints one line per check; returns True when both hold."""
    bits = np.asarray(bits, dtype=float)
    if bits.ndim != 1 or len(bits) < 2 * window:
        print(f"check_loss_fell: expected a list of at least {2 * window} per-step losses, got {bits.shape}.")
        return False
    start, end = bits[:window].mean(), bits[-window:].mean()
    fell = bool(np.isfinite(end) and end < start - 0.5)
    below = bool(np.isfinite(held_out) and held_out < bigram)
    print(f"  {'✓ the training loss fell' if fell else '✗ the training loss did not fall by half a bit'}: "
          f"{start:.2f} -> {end:.2f} bits/char (mean of the first and last {window} steps)")
    if below:
        print(f"  ✓ held-out tunes: {held_out:.2f} bits/char, below the bigram model's {bigram:.2f}: "
              "the model uses more than the last character")
    else:
        print(f"  ✗ held-out tunes: {held_out:.2f} bits/char, not below the bigram model's {bigram:.2f}: "
              "the model has not learned to use what came before")
    if not (fell and below):
        print("    (does train_step pass its checks? is the learning rate as given?)")
    return fell and below


EXERCISES += [
    Exercise(
        name="TuneLSTM", reference=char_lstm, points=1, make_cases=_model_cases, harness=tune_model_outputs,
        select=_model_numbers, atol=1e-5, rtol=1e-5,  # float32, as the learner's model runs
        output_names=("the log-softmax of the logits", "h of the returned state", "c of the returned state",
                      "the log-softmax of the logits when continuing from the returned state"),
        hints=[
            Hint(_BatchFirst, "the course's sequences are time-first, x: (T, B): create the LSTM without batch_first=True"),
            Hint(_Probabilities, "return the raw scores (logits), not softmax probabilities: the loss applies the softmax itself"),
            Hint(_IgnoresState, "pass the incoming `state` to the LSTM, so that a second call continues where the first stopped"),
            Hint(_LastStepOnly, "a language model predicts at every position: apply the read-out to the states of all T steps"),
        ],
    ),
    Exercise(
        name="train_step", reference=train_step, points=2, make_cases=_train_cases, harness=train_step_outcome,
        select=_numbers, atol=1e-6, rtol=1e-6,
        output_names=("the loss returned by the first call", "the loss returned by the second call",
                      "the parameters after the first call", "the parameters after the second call"),
        hints=[
            Hint(_no_zero_grad, "call optimizer.zero_grad() before loss.backward(): gradients add up in .grad from call to call"),
            Hint(_zero_grad_after_backward, "zero the gradients before loss.backward(), not between backward() and step(): "
                                            "there it wipes the gradient the step needs"),
            Hint(_clip_by_value, "clip the gradients' global norm (clip_grad_norm_), not each entry's value (clip_grad_value_)"),
            Hint(_loss_in_bits, "return the cross-entropy in nats, as torch computes it: the training cell converts it to bits"),
            # Clipping after the step and not clipping at all give the same parameters: one hint names both.
            Hint(_clip_after_step, "clip with torch.nn.utils.clip_grad_norm_ after loss.backward() and before optimizer.step(): "
                                   "the step used the unclipped gradient (clipping after the step, or not at all, changes nothing)"),
            Hint(_clip_each_tensor, "clip the global norm of all parameters together (clip_grad_norm_(model.parameters(), max_norm)), not each tensor on its own"),
            Hint(_summed_loss, "average the cross-entropy over all T * B positions (the default reduction='mean'), do not sum it"),
            Hint(_loss_after_step, "return the loss computed before the step (loss.item() of the loss you back-propagated)"),
            Hint(_targets_are_inputs, "the targets are y (x shifted by one step), not x itself"),
        ],
    ),
]
