"""Checks of chapter 05's exercises: `lstm_step` and `lstm_forward`.

The references are checked against torch.nn.LSTM with the same weights (to 1e-10) in tests/test_lstm.py.
"""
import numpy as np

from course_lib.grading.checks.core import Case, Exercise, Hint
from course_lib.lstm import lstm_forward, lstm_step, sigmoid


def _weights(rng, D, H):
    return rng.normal(size=(D + H, 4 * H)) / np.sqrt(D + H), rng.normal(size=4 * H) * 0.5


def _step_args(rng, B, D, H):
    return (rng.normal(size=(B, D)), rng.normal(size=(B, H)) * 0.5, rng.normal(size=(B, H))) + _weights(rng, D, H)


def _step_cases(rng, hidden):
    if hidden:
        B, D, H = (int(v) for v in rng.choice(np.arange(2, 8), size=3, replace=False))
        return [Case("hidden: random step, B, D, H all different", _step_args(rng, B, D, H), hidden=True),
                Case("hidden: one sequence (B = 1), H = 1", _step_args(rng, 1, D, 1), hidden=True)]
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
        T, B, D, H = (int(v) for v in rng.choice(np.arange(2, 9), size=4, replace=False))
        return [Case("hidden: random sequence, T >= 2, B, D, H all different", _forward_args(rng, T + 1, B, D, H), hidden=True),
                Case("hidden: one long sequence (B = 1)", _forward_args(rng, T + 4, 1, D, H), hidden=True)]
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


def _step_with(x, h, c, W, b, order="ifgo", candidate=np.tanh, use_c_in_h=True, forget=True, output_gate=sigmoid):
    H = W.shape[1] // 4
    z = np.concatenate([x, h], 1) @ W + b
    blocks = {name: z[:, k * H:(k + 1) * H] for k, name in enumerate(order)}
    i, f, o, g = sigmoid(blocks["i"]), sigmoid(blocks["f"]), output_gate(blocks["o"]), candidate(blocks["g"])
    c_t = (f if forget else 1.0) * c + i * g
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
            Hint(lambda *a: _step_with(*a, forget=False), "the forget gate multiplies the old cell state: c_t = f * c_prev + i * g"),
            Hint(lambda *a: _step_with(*a, output_gate=np.tanh), "the gates i, f and o use the sigmoid (values between 0 "
                 "and 1); only the candidate g uses tanh"),
        ],
    ),
    Exercise(
        name="lstm_forward", reference=lstm_forward, points=2, make_cases=_forward_cases, select=_forward_out,
        output_names=("hs", "h_T", "c_T"),
        hints=[
            Hint(lambda x, h0, c0, W, b: _forward_with(x, h0, np.zeros_like(c0), W, b), "start the cell state from c0, not from zeros"),
            Hint(lambda *a: _forward_with(*a, reverse=True), "time runs backwards in your loop: step t = 0 comes first"),
            Hint(lambda *a: _forward_with(*a, store="h_prev"), "store each step's *new* h_t (after the step), not the state it started from"),
            Hint(lambda *a: _forward_with(*a, store="c"), "hs holds the hidden states h_t, not the cell states c_t"),
            Hint(lambda *a: _forward_with(*a, swap_final=True), "return the final state as (h_T, c_T), in that order"),
            Hint(lambda *a: _forward_with(*a, carry="none"), "every step started from (h0, c0): feed each step the "
                 "(h, c) of the step before"),
            Hint(lambda *a: _forward_with(*a, carry="h"), "carry the cell state too: each step gets the c of the step "
                 "before, not c0"),
        ],
    ),
]


def _forward_with(x, h, c, W, b, reverse=False, store="h", swap_final=False, carry="both"):
    """lstm_forward's (hs, (h_T, c_T)) with classic mistakes switched on. carry: which states pass from step
    to step ("both", "h": each step starts from c0, "none": each step starts from (h0, c0))."""
    hs, h0, c0 = [], h, c
    for t in (range(len(x) - 1, -1, -1) if reverse else range(len(x))):
        h_prev = h
        h, c, _ = lstm_step(x[t], h0 if carry == "none" else h, c0 if carry in ("none", "h") else c, W, b)
        hs.append({"h": h, "h_prev": h_prev, "c": c}[store])
    hs = np.stack(hs[::-1] if reverse else hs)
    return (hs, (c, h)) if swap_final else (hs, (h, c))
