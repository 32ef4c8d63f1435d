"""Checks of chapter 02's exercises: `rnn_step`, `rnn_forward`, `rnn_logits`, `sequence_loss`.

Cases compare with the course_lib reference, which tests/test_rnn.py checks against torch.nn.RNN and
torch's cross-entropy (to 1e-10).
"""
import numpy as np

from course_lib.grading.checks.core import Case, Exercise, Hint
from course_lib.rnn import log_softmax, rnn_forward, rnn_logits, rnn_step, sequence_loss


def _weights(rng, D, H):
    return rng.normal(size=(D, H)) / np.sqrt(D), rng.normal(size=(H, H)) / np.sqrt(H), rng.normal(size=H) * 0.5


def _step_args(rng, B, D, H):
    return (rng.normal(size=(B, D)), rng.normal(size=(B, H)) * 0.5) + _weights(rng, D, H)


def _distinct(rng, n, low=2, high=12):
    """n different sizes in [low, high): a transposed matrix or a wrong axis can never fit by chance."""
    return [int(v) for v in rng.choice(np.arange(low, high), size=n, replace=False)]


def _step_cases(rng, hidden):
    if hidden:
        B, D, H = _distinct(rng, 3)
        return [Case("hidden: random step, B, D, H all different", _step_args(rng, B, D, H), hidden=True),
                Case("hidden: one sequence (B = 1)", _step_args(rng, 1, D, H), hidden=True),
                Case("hidden: square weights (D = H)", _step_args(rng, B, H, H), hidden=True)]
    x_t, h, W_xh, W_hh, b = _step_args(rng, 3, 4, 5)
    return [
        Case("B=3, D=4, H=5", (x_t, h, W_xh, W_hh, b)),
        Case("B=1, D=2, H=3", _step_args(rng, 1, 2, 3)),
        Case("D = H = 4 (square weights)", _step_args(rng, 2, 4, 4)),
        Case("zero h_prev: only the input and bias count", (x_t, np.zeros_like(h), W_xh, W_hh, b)),
        Case("x_t of shape (3, 6) against W_xh of shape (4, 5) raises ValueError",
             (rng.normal(size=(3, 6)), h, W_xh, W_hh, b), raises=(ValueError,)),
    ]


def _forward_args(rng, T, B, D, H):
    return (rng.normal(size=(T, B, D)), rng.normal(size=(B, H)) * 0.5) + _weights(rng, D, H)


def _forward_cases(rng, hidden):
    if hidden:
        T, B, D, H = _distinct(rng, 4, 3, 10)
        return [Case("hidden: random sequence, T >= 3, B, D, H all different", _forward_args(rng, T, B, D, H), hidden=True),
                Case("hidden: a single step (T = 1)", _forward_args(rng, 1, B, D, H), hidden=True),
                Case("hidden: one long sequence (B = 1)", _forward_args(rng, T + 3, 1, D, H), hidden=True)]
    x, h0, W_xh, W_hh, b = _forward_args(rng, 4, 2, 3, 5)
    return [
        Case("T=4, B=2, D=3, H=5", (x, h0, W_xh, W_hh, b)),
        Case("T=1 (a single step)", _forward_args(rng, 1, 2, 3, 4)),
        Case("B=1, T=6", _forward_args(rng, 6, 1, 2, 3)),
        Case("D = H = 3 (square weights), T=5", _forward_args(rng, 5, 2, 3, 3)),
        Case("2-D x of shape (4, 3) raises ValueError", (x[:, 0], h0, W_xh, W_hh, b), raises=(ValueError,)),
    ]


def _logits_args(rng, T, B, H, V):
    return rng.normal(size=(T, B, H)), rng.normal(size=(H, V)), rng.normal(size=V)


def _logits_cases(rng, hidden):
    if hidden:
        T, B, H, V = _distinct(rng, 4)
        return [Case("hidden: random hs, T >= 2, B, H, V all different", _logits_args(rng, T, B, H, V), hidden=True),
                Case("hidden: H = V", _logits_args(rng, T, B, V, V), hidden=True)]
    hs, W_hy, b = _logits_args(rng, 4, 2, 3, 6)
    return [
        Case("T=4, B=2, H=3, V=6", (hs, W_hy, b)),
        Case("T=1, B=1, H=2, V=3", _logits_args(rng, 1, 1, 2, 3)),
        Case("H = V = 4", _logits_args(rng, 3, 2, 4, 4)),
        Case("hs (4, 2, 3) against W_hy (5, 6) raises ValueError", (hs, rng.normal(size=(5, 6)), b), raises=(ValueError,)),
    ]


def _loss_args(rng, T, B, V, scale=1.0):
    return rng.normal(size=(T, B, V)) * scale, rng.integers(0, V, size=(T, B))


def _loss_cases(rng, hidden):
    if hidden:
        T, B, V = _distinct(rng, 3)
        return [Case("hidden: random logits, T >= 2, B >= 2", _loss_args(rng, T, B, V), hidden=True),
                Case("hidden: logits of size ±1000", _loss_args(rng, T, B, V, scale=1000.0), hidden=True)]
    logits, targets = _loss_args(rng, 5, 3, 4)
    return [
        Case("T=5, B=3, V=4", (logits, targets)),
        Case("T=1, B=1, V=3", _loss_args(rng, 1, 1, 3)),
        Case("B=4: the loss is averaged over the batch", _loss_args(rng, 2, 4, 3)),
        Case("logits of size ±1000 (numerically stable?)", _loss_args(rng, 3, 2, 5, scale=1000.0)),
        Case("target 4 with V=4 raises ValueError", (logits, np.full((5, 3), 4)), raises=(ValueError,)),
    ]


def _h(out):
    """The hidden states out of an `(out, cache)` pair; a bare array is a mistake (chapter 03 needs the cache)."""
    if not isinstance(out, (tuple, list)) or len(out) != 2:
        raise ValueError("return a pair (output, cache), e.g. `return h_t, cache`; chapter 03 needs the cache")
    return out[0]


def _stable_loss_without_shift(logits, targets):
    logits, targets = np.asarray(logits, float), np.asarray(targets)
    logp = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    return float(-np.take_along_axis(logp, targets[..., None], -1).sum() / logits.shape[1])


def _loss_mean_over_time(logits, targets):
    return sequence_loss(logits, targets) / np.shape(logits)[0]


def _loss_sum_over_batch(logits, targets):
    return sequence_loss(logits, targets) * np.shape(logits)[1]


def _loss_softmax_wrong_axis(logits, targets):
    logp = log_softmax(np.asarray(logits, float), axis=1)
    return float(-np.take_along_axis(logp, np.asarray(targets)[..., None], -1).sum() / np.shape(logits)[1])


def _forward_reusing_h0(x, h0, W_xh, W_hh, b_h):
    return np.stack([np.tanh(x_t @ W_xh + h0 @ W_hh + b_h) for x_t in np.asarray(x)]), None


def _forward_storing_previous(x, h0, W_xh, W_hh, b_h):
    hs = rnn_forward(x, h0, W_xh, W_hh, b_h)[0]
    return np.concatenate([np.asarray(h0)[None], hs[:-1]]), None


def _forward_reversed(x, h0, W_xh, W_hh, b_h):
    hs, cache = rnn_forward(np.asarray(x)[::-1], h0, W_xh, W_hh, b_h)
    return hs[::-1], cache


def _forward_no_input(x, h0, W_xh, W_hh, b_h):
    return rnn_forward(np.zeros_like(x), h0, W_xh, W_hh, b_h)


EXERCISES = [
    Exercise(
        name="rnn_step", reference=rnn_step, points=2, make_cases=_step_cases, select=_h,
        hints=[
            Hint(lambda x, h, Wx, Wh, b: (np.tanh(x @ Wx + h @ Wh), None), "the bias b_h is missing"),
            Hint(lambda x, h, Wx, Wh, b: (np.tanh(x @ Wx + h @ Wh.T + b), None), "W_hh is transposed: with row vectors it is h_prev @ W_hh"),
            Hint(lambda x, h, Wx, Wh, b: (np.tanh(x @ Wx + b), None), "h_prev is never used: the new state must depend on the previous one"),
            Hint(lambda x, h, Wx, Wh, b: (1 / (1 + np.exp(-(x @ Wx + h @ Wh + b))), None), "the RNN cell uses tanh, not the sigmoid"),
            Hint(lambda x, h, Wx, Wh, b: (x @ Wx + h @ Wh + b, None), "the tanh is missing"),
        ],
    ),
    Exercise(
        name="rnn_forward", reference=rnn_forward, points=3, make_cases=_forward_cases, select=_h,
        hints=[
            Hint(_forward_reusing_h0, "every step used h0: feed each step the hidden state of the step before"),
            Hint(_forward_reversed, "time runs backwards in your loop: step t = 0 comes first"),
            Hint(_forward_storing_previous, "hs[t] is the state *after* reading x_t: you stored the one each step "
                 "started from (h0 first)"),
            Hint(_forward_no_input, "the inputs x are never used"),
            Hint(lambda x, h0, *w: (np.concatenate([np.asarray(h0)[None], rnn_forward(x, h0, *w)[0]]), None),
                 "return the T new states, (T, B, H): h0 is not one of them"),
            Hint(lambda x, h0, *w: (rnn_forward(x, h0, *w)[0].swapaxes(0, 1), None), "hs is time-first: (T, B, H), not (B, T, H)"),
        ],
    ),
    Exercise(
        name="rnn_logits", reference=rnn_logits, points=1, make_cases=_logits_cases,
        hints=[
            Hint(lambda hs, W, b: hs @ W, "the bias b_y is missing"),
            Hint(lambda hs, W, b: np.exp(hs @ W + b) / np.exp(hs @ W + b).sum(-1, keepdims=True),
                 "return logits, not probabilities: no softmax here (the loss applies it)"),
            Hint(lambda hs, W, b: np.tanh(hs @ W + b), "the output layer is linear: no tanh"),
            Hint(lambda hs, W, b: np.asarray(hs)[-1] @ W + b, "compute logits at every time step, (T, B, V), not only the last"),
        ],
    ),
    Exercise(
        name="sequence_loss", reference=sequence_loss, points=2, make_cases=_loss_cases,
        hints=[
            Hint(_loss_mean_over_time, "you averaged over time too: sum over time, average over the batch"),
            Hint(_loss_sum_over_batch, "you summed over the batch: average over the batch"),
            Hint(_loss_softmax_wrong_axis, "the softmax runs over the vocabulary, the last axis"),
            Hint(_stable_loss_without_shift, "exp overflows for large logits: subtract the maximum before exp (log-sum-exp)"),
            Hint(lambda logits, targets: sequence_loss(logits, targets) / np.log(2),
                 "the loss uses the natural log (nats): np.log, not np.log2"),
            Hint(lambda logits, targets: -sequence_loss(logits, targets),
                 "the sign: the loss is minus the log-probability of each target, so it is never negative"),
        ],
    ),
]
