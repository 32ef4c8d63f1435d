"""Checks of chapter 05's exercises: `lstm_step` and `lstm_forward`.

The references are checked against torch.nn.LSTM with the same weights (to 1e-10) in tests/test_lstm.py.
"""
import numpy as np

from course_lib.checks.core import Case, Exercise, Hint
from course_lib.lstm import lstm_forward, lstm_step, sigmoid


def _weights(rng, D, H):
    return rng.normal(size=(D + H, 4 * H)) / np.sqrt(D + H), rng.normal(size=4 * H) * 0.5


def _step_args(rng, B, D, H):
    return (rng.normal(size=(B, D)), rng.normal(size=(B, H)) * 0.5, rng.normal(size=(B, H))) + _weights(rng, D, H)


def _step_cases(rng, hidden):
    if hidden:
        cases = [Case(f"random step, (B, D, H) = {d}", _step_args(rng, *d), hidden=True)
                 for d in [tuple(int(n) for n in rng.integers(1, 8, size=3)) for _ in range(3)]]
        x, h, c, W, b = _step_args(rng, 2, 3, 4)
        return cases + [Case("W with the wrong number of rows raises ValueError", (x, h, c, W[:-1], b), raises=(ValueError,), hidden=True)]
    x, h, c, W, b = _step_args(rng, 2, 3, 4)
    return [Case("B=2, D=3, H=4", (x, h, c, W, b)),
            Case("B=1, D=1, H=1", _step_args(rng, 1, 1, 1)),
            Case("D = H = 3", _step_args(rng, 3, 3, 3)),
            Case("zero states", (x, np.zeros_like(h), np.zeros_like(c), W, b)),
            Case("W of shape (6, 16) for D=3, H=4 raises ValueError", (x, h, c, W[:-1], b), raises=(ValueError,))]


def _forward_args(rng, T, B, D, H):
    return (rng.normal(size=(T, B, D)), rng.normal(size=(B, H)) * 0.5, rng.normal(size=(B, H))) + _weights(rng, D, H)


def _forward_cases(rng, hidden):
    if hidden:
        return [Case(f"random sequence, (T, B, D, H) = {d}", _forward_args(rng, *d), hidden=True)
                for d in [tuple(int(n) for n in rng.integers(1, 8, size=4)) for _ in range(3)]]
    return [Case("T=5, B=2, D=3, H=4", _forward_args(rng, 5, 2, 3, 4)),
            Case("T=1 (a single step)", _forward_args(rng, 1, 2, 3, 4)),
            Case("B=1, T=7, D = H = 2", _forward_args(rng, 7, 1, 2, 2))]


def _hc(out):
    if not isinstance(out, (tuple, list)) or len(out) != 3:
        raise ValueError("return three values (h_t, c_t, cache)")
    return out[0], out[1]


def _forward_out(out):
    if not isinstance(out, (tuple, list)) or len(out) != 2 or not isinstance(out[1], (tuple, list)) or len(out[1]) != 2:
        raise ValueError("return (hs, (h_T, c_T))")
    return out[0], out[1][0], out[1][1]


def _step_with(x, h, c, W, b, order="ifgo", candidate=np.tanh, use_c_in_h=True):
    H = W.shape[1] // 4
    z = np.concatenate([x, h], 1) @ W + b
    blocks = {name: z[:, k * H:(k + 1) * H] for k, name in enumerate(order)}
    i, f, o, g = sigmoid(blocks["i"]), sigmoid(blocks["f"]), sigmoid(blocks["o"]), candidate(blocks["g"])
    c_t = f * c + i * g
    return (o * np.tanh(c_t) if use_c_in_h else o * c_t), c_t, None


EXERCISES = [
    Exercise(
        name="lstm_step", reference=lstm_step, points=3, make_cases=_step_cases, select=_hc,
        output_names=("h_t", "c_t"),
        hints=[
            Hint(lambda *a: _step_with(*a, order="ifog"), "gate blocks are in torch's order i, f, g, o (CS231n uses i, f, o, g)"),
            Hint(lambda *a: _step_with(*a, order="fig"[:3] + "o"), "the first block is the input gate i, the second the forget gate f"),
            Hint(lambda *a: _step_with(*a, candidate=sigmoid), "the candidate g uses tanh, not the sigmoid"),
            Hint(lambda *a: _step_with(*a, use_c_in_h=False), "h_t = o * tanh(c_t): the tanh is missing"),
        ],
    ),
    Exercise(
        name="lstm_forward", reference=lstm_forward, points=2, make_cases=_forward_cases, select=_forward_out,
        output_names=("hs", "h_T", "c_T"),
        hints=[
            Hint(lambda x, h0, c0, W, b: (lstm_forward(x, h0, np.zeros_like(c0), W, b)[0],) + lstm_forward(x, h0, np.zeros_like(c0), W, b)[1],
                 "start the cell state from c0, not from zeros"),
        ],
    ),
]
