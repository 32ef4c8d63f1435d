"""Checks of chapter 03's exercises: `rnn_step_backward`, `rnn_backward`, `logits_backward`,
`numerical_gradient`, `relative_error`, `sequence_loss_backward`.

The references are checked against torch autograd (to 1e-10) and central differences in tests/test_bptt.py.
"""
import numpy as np

from course_lib.bptt import (logits_backward, numerical_gradient, relative_error, rnn_backward,
                             rnn_step_backward, sequence_loss_backward)
from course_lib.grading.checks.core import Case, Exercise, Hint
from course_lib.rnn import rnn_forward, rnn_step


def _distinct(rng, n, low=2, high=9):
    """n different sizes in [low, high): a transposed matrix or a wrong axis can never fit by chance."""
    return tuple(int(v) for v in rng.choice(np.arange(low, high), size=n, replace=False))


def _step_case(rng, B, D, H):
    W_xh, W_hh, b_h = rng.normal(size=(D, H)) / np.sqrt(D), rng.normal(size=(H, H)) / np.sqrt(H), rng.normal(size=H) * 0.3
    _, cache = rnn_step(rng.normal(size=(B, D)), rng.normal(size=(B, H)) * 0.5, W_xh, W_hh, b_h)
    return rng.normal(size=(B, H)), cache


def _step_backward_cases(rng, hidden):
    if hidden:
        B, D, H = _distinct(rng, 3)
        return [Case("hidden: random step, B, D, H all different", _step_case(rng, B, D, H), hidden=True),
                Case("hidden: square weights (D = H)", _step_case(rng, B, H, H), hidden=True)]
    return [Case("B=2, D=3, H=4", _step_case(rng, 2, 3, 4)),
            Case("B=1, D=1, H=1", _step_case(rng, 1, 1, 1)),
            Case("D = H = 3", _step_case(rng, 4, 3, 3))]


def _forward_case(rng, T, B, D, H):
    W_xh, W_hh, b_h = rng.normal(size=(D, H)) / np.sqrt(D), rng.normal(size=(H, H)) / np.sqrt(H), rng.normal(size=H) * 0.3
    hs, cache = rnn_forward(rng.normal(size=(T, B, D)), rng.normal(size=(B, H)) * 0.5, W_xh, W_hh, b_h)
    return rng.normal(size=hs.shape), cache


def _backward_cases(rng, hidden):
    if hidden:
        T, B, D, H = _distinct(rng, 4, 3)
        return [Case("hidden: random sequence, T >= 3, B, D, H all different", _forward_case(rng, T, B, D, H), hidden=True),
                Case("hidden: one long sequence (B = 1)", _forward_case(rng, T + 2, 1, D, H), hidden=True)]
    return [Case("T=4, B=2, D=3, H=5", _forward_case(rng, 4, 2, 3, 5)),
            Case("T=1 (no step sends gradient back through W_hh)", _forward_case(rng, 1, 2, 3, 4)),
            Case("T=6, B=1, D = H = 2", _forward_case(rng, 6, 1, 2, 2))]


def _logits_case(rng, T, B, H, V):
    return rng.normal(size=(T, B, V)), (rng.normal(size=(T, B, H)), rng.normal(size=(H, V)))


def _logits_backward_cases(rng, hidden):
    if hidden:
        T, B, H, V = _distinct(rng, 4)
        return [Case("hidden: random, T >= 2, B, H, V all different", _logits_case(rng, T, B, H, V), hidden=True),
                Case("hidden: H = V", _logits_case(rng, T, B, V, V), hidden=True)]
    return [Case("T=3, B=2, H=4, V=5", _logits_case(rng, 3, 2, 4, 5)),
            Case("T=1, B=1, H=2, V=3", _logits_case(rng, 1, 1, 2, 3)),
            Case("H = V = 3", _logits_case(rng, 4, 2, 3, 3))]


# Scalar functions for the gradient-check exercise. They live at module level so the grader can name
# them to the learner's kernel (functions cannot be sent as data).
def sum_of_cubes(x):
    return float(np.sum(x ** 3) / 3)


def log_sum_exp(x):
    m = np.max(x)
    return float(m + np.log(np.sum(np.exp(x - m))))


def rnn_loss_of_W_hh(W_hh):
    """A real BPTT loss as a function of W_hh: (H, H); the rest of the model is fixed by a seed."""
    from course_lib.rnn import rnn_logits, sequence_loss
    rng = np.random.default_rng(7)
    H = W_hh.shape[0]
    x, W_xh, W_hy = rng.normal(size=(4, 2, 3)), rng.normal(size=(3, H)), rng.normal(size=(H, 5))
    hs, _ = rnn_forward(x, np.zeros((2, H)), W_xh, W_hh, np.zeros(H))
    return sequence_loss(rnn_logits(hs, W_hy, np.zeros(5)), rng.integers(0, 5, size=(4, 2)))


def _numgrad_cases(rng, hidden):
    if hidden:
        n = int(rng.integers(2, 6))
        return [Case("hidden: sum of cubes, x of two axes", (sum_of_cubes, rng.normal(size=(n, 2))), hidden=True),
                Case("hidden: RNN loss as a function of W_hh", (rnn_loss_of_W_hh, rng.normal(size=(n, n)) * 0.5), hidden=True)]
    return [Case("sum of cubes, x of shape (3,)", (sum_of_cubes, rng.normal(size=3))),
            Case("log-sum-exp, x of shape (2, 3)", (log_sum_exp, rng.normal(size=(2, 3)))),
            Case("RNN loss as a function of W_hh, H=3", (rnn_loss_of_W_hh, rng.normal(size=(3, 3)) * 0.5)),
            Case("eps=1e-4 is used", (sum_of_cubes, rng.normal(size=4), 1e-4))]


def _away_from_zero(rng, shape):
    """Entries of size 1.5 to 3 and random sign: relative and absolute errors then never coincide."""
    return rng.uniform(1.5, 3.0, size=shape) * rng.choice([-1.0, 1.0], size=shape)


def _relerr_cases(rng, hidden):
    if hidden:
        a = _away_from_zero(rng, (int(rng.integers(2, 9)), 3))
        return [Case("hidden: random arrays, slightly apart", (a, a + rng.normal(size=a.shape) * 1e-6), hidden=True),
                Case("hidden: zeros against zeros (the floor)", (np.zeros(4), np.zeros(4)), hidden=True),
                Case("hidden: opposite signs", (a, -a), hidden=True)]
    a = _away_from_zero(rng, (3, 4))
    return [Case("equal arrays", (a, a.copy())),
            Case("arrays 1e-5 apart", (a, a + 1e-5)),
            Case("zeros against zeros (the floor)", (np.zeros(3), np.zeros(3))),
            Case("zero against 1e-3", (np.zeros(2), np.full(2, 1e-3))),
            Case("a large error in one entry", (a, np.where(np.arange(4) == 2, a + 1.0, a)))]


def _step_backward_no_tanh(dh, cache):
    x_t, h_prev, W_xh, W_hh, h_t = cache
    return {"x_t": dh @ W_xh.T, "h_prev": dh @ W_hh.T, "W_xh": x_t.T @ dh, "W_hh": h_prev.T @ dh, "b_h": dh.sum(0)}


def _step_backward_untransposed(dh, cache):
    grads = rnn_step_backward(dh, cache)
    x_t, h_prev, W_xh, W_hh, h_t = cache
    grads["h_prev"] = (dh * (1 - h_t ** 2)) @ W_hh
    return grads


def _backward_with(dhs, cache, carry=True, accumulate=True, reverse=True):
    """BPTT with classic mistakes switched on: no gradient carried back (carry=False), weights overwritten
    instead of summed (accumulate=False), steps visited forwards in time (reverse=False)."""
    grads = {"x": np.zeros_like(cache["x"]), "W_xh": 0.0, "W_hh": 0.0, "b_h": 0.0}
    dh_later = np.zeros_like(cache["h0"])
    steps = range(len(cache["steps"]))
    for t in (reversed(steps) if reverse else steps):
        step = rnn_step_backward(dhs[t] + (dh_later if carry else 0.0), cache["steps"][t])
        grads["x"][t] = step["x_t"]
        for k in ("W_xh", "W_hh", "b_h"):
            grads[k] = grads[k] + step[k] if accumulate else step[k]
        dh_later = step["h_prev"]
    grads["h0"] = dh_later
    return grads


def _step_backward_with(dh, cache, derivative=lambda h_t, h_prev: 1 - h_t ** 2, transpose_W_hh=False, bias=np.sum):
    """One step of BPTT with classic mistakes switched on."""
    x_t, h_prev, W_xh, W_hh, h_t = cache
    da = dh * derivative(h_t, h_prev)
    dW_hh = h_prev.T @ da
    return {"x_t": da @ W_xh.T, "h_prev": da @ W_hh.T, "W_xh": x_t.T @ da, "W_hh": dW_hh.T if transpose_W_hh else dW_hh,
            "b_h": bias(da, axis=0)}


def _backward_not_carried(dhs, cache):
    return _backward_with(dhs, cache, carry=False, accumulate=True)


def _backward_last_contribution_only(dhs, cache):
    return _backward_with(dhs, cache, carry=True, accumulate=False)


EXERCISES = [
    Exercise(
        name="rnn_step_backward", reference=rnn_step_backward, points=2, make_cases=_step_backward_cases,
        hints=[
            Hint(_step_backward_no_tanh, "the tanh's derivative is missing: multiply dh_next by (1 - h_t**2) first"),
            Hint(_step_backward_untransposed, "the gradient to h_prev goes through W_hh transposed: da @ W_hh.T"),
            Hint(lambda dh, c: _step_backward_with(dh, c, derivative=lambda h, hp: 1 - h),
                 "the tanh derivative is 1 - h_t**2 (squared), not 1 - h_t"),
            Hint(lambda dh, c: _step_backward_with(dh, c, derivative=lambda h, hp: 1 - hp ** 2),
                 "the tanh derivative uses this step's output h_t, not h_prev: 1 - h_t**2"),
            Hint(lambda dh, c: _step_backward_with(dh, c, transpose_W_hh=True), "dW_hh is h_prev.T @ da, (H, H) in W_hh's layout, not its transpose"),
            Hint(lambda dh, c: _step_backward_with(dh, c, bias=np.mean), "db_h sums da over the batch, it does not average"),
        ],
    ),
    Exercise(
        name="rnn_backward", reference=rnn_backward, points=3, make_cases=_backward_cases,
        hints=[
            Hint(_backward_not_carried, "the gradient that later steps send back through W_hh is missing: "
                 "at step t add the h_prev gradient of step t + 1 to dhs[t]"),
            Hint(_backward_last_contribution_only, "the weight gradients must be *summed* over all steps (+=), not overwritten"),
            Hint(lambda d, c: _backward_with(d, c, reverse=False), "walk through time backwards, from t = T - 1 down to 0: "
                 "step t needs the gradient that step t + 1 sends back"),
            Hint(lambda d, c: {k: v for k, v in rnn_backward(d, c).items() if k != "h0"},
                 "also return the gradient with respect to h0 (what step 0 sends back)"),
        ],
    ),
    Exercise(
        name="logits_backward", reference=logits_backward, points=1, make_cases=_logits_backward_cases,
        hints=[
            Hint(lambda d, c: {**logits_backward(d, c), "b_y": np.asarray(d).mean(axis=(0, 1))},
                 "db_y sums the gradient over time and batch, it does not average"),
            Hint(lambda d, c: {**logits_backward(d, c), "W_hy": np.asarray(c[0])[-1].T @ np.asarray(d)[-1]},
                 "dW_hy collects a contribution from every time step, not only the last"),
            Hint(lambda d, c: {**logits_backward(d, c), "hs": np.asarray(d) @ np.asarray(c[1])},
                 "the gradient to hs goes through W_hy transposed: dlogits @ W_hy.T"),
            Hint(lambda d, c: {**logits_backward(d, c), "W_hy": logits_backward(d, c)["W_hy"].T},
                 "dW_hy has W_hy's shape (H, V): hs.T @ dlogits, not dlogits.T @ hs"),
        ],
    ),
    Exercise(
        name="numerical_gradient", reference=numerical_gradient, points=2, make_cases=_numgrad_cases,
        atol=1e-7, rtol=1e-6,
        hints=[
            Hint(lambda f, x, eps=1e-5: _forward_difference(f, x, eps), "use the central difference (f(x+eps) - f(x-eps)) / (2 eps): "
                 "the one-sided difference has an O(eps) error"),
            Hint(lambda f, x, eps=1e-5: 2 * numerical_gradient(f, x, eps), "divide by 2 * eps: the two points are 2 eps apart"),
            Hint(lambda f, x, eps=1e-5: _not_restored(f, x, eps), "put x[i] back to its original value before moving to the next entry"),
            Hint(lambda f, x, eps=1e-5: _all_at_once(f, x, eps), "nudge one entry at a time: the gradient's entry i moves only x[i]"),
        ],
    ),
    Exercise(
        name="relative_error", reference=relative_error, points=1, make_cases=_relerr_cases,
        hints=[
            Hint(lambda a, b: float(np.mean(np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b)))), "take the maximum over entries, not the mean"),
            Hint(lambda a, b: float(np.max(np.abs(np.asarray(a) - np.asarray(b)))), "that is the absolute error: divide by |a| + |b|"),
            Hint(lambda a, b: float(np.max(np.abs(a - b) / (np.abs(a) + np.abs(b)))),
                 "keep the floor max(1e-8, |a| + |b|) in the denominator: zeros against zeros must give 0, not NaN"),
            Hint(lambda a, b: float(np.max(np.abs(a - b) / np.maximum(1e-8, np.abs(a)))), "divide by |a| + |b|, not by |a| alone or by max(|a|, |b|)"),
        ],
    ),
]


def _forward_difference(f, x, eps):
    x = np.array(x, dtype=float)
    grad, base = np.zeros_like(x), f(x)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + eps
        grad[i] = (f(x) - base) / eps
        x[i] = old
    return grad


def _not_restored(f, x, eps):
    x = np.array(x, dtype=float)
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        x[i] += eps
        plus = f(x)
        x[i] -= 2 * eps
        grad[i] = (plus - f(x)) / (2 * eps)
    return grad


def _all_at_once(f, x, eps):
    x = np.array(x, dtype=float)
    return np.full_like(x, (f(x + eps) - f(x - eps)) / (2 * eps))


# sequence_loss_backward: the first step of backpropagation, from the loss to the logits -----------------
def _softmax(z, axis=-1):
    z = np.asarray(z, dtype=float)
    e = np.exp(z - z.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def _onehot_like(logits, targets):
    return np.eye(np.shape(logits)[-1])[np.asarray(targets)]


def _loss_grad_with(logits, targets, divide_by_B=True, subtract_onehot=True, log_probs=False, divide_by_T=False,
                    softmax_axis=-1):
    """(softmax - onehot) / B with classic mistakes switched on (the hints' wrong versions)."""
    logits = np.asarray(logits, dtype=float)
    T, B, _ = logits.shape
    probs = np.log(_softmax(logits, softmax_axis)) if log_probs else _softmax(logits, softmax_axis)
    grad = probs - _onehot_like(logits, targets) if subtract_onehot else probs
    return grad / (B if divide_by_B else 1) / (T if divide_by_T else 1)


def _loss_grad_case(rng, T, B, V, scale=1.0):
    return rng.normal(size=(T, B, V)) * scale, rng.integers(0, V, size=(T, B))


def _loss_backward_cases(rng, hidden):
    if hidden:  # T, B >= 2 and all different, so that a missing 1/B, an extra 1/T or a wrong axis always shows
        return [Case(f"hidden: random logits, T, B, V all different ({i})", _loss_grad_case(rng, *_distinct(rng, 3)),
                     hidden=True) for i in (1, 2)] + [
            Case("hidden: large logits (hundreds)", _loss_grad_case(rng, *_distinct(rng, 3), scale=300.0), hidden=True)]
    return [Case("T=3, B=2, V=5", _loss_grad_case(rng, 3, 2, 5)),
            Case("T=4, B=3, V=2", _loss_grad_case(rng, 4, 3, 2)),
            Case("large logits (about 1000): subtract the maximum before exp", _loss_grad_case(rng, 2, 2, 3, scale=1000.0)),
            Case("a target outside [0, V) raises ValueError", (rng.normal(size=(2, 2, 3)), np.array([[0, 1], [3, 0]])),
                 raises=(ValueError,))]


def _loss_grad_softmax_over_batch(logits, targets):
    return _loss_grad_with(logits, targets, softmax_axis=1)


EXERCISES.append(
    Exercise(
        name="sequence_loss_backward", reference=sequence_loss_backward, points=2, make_cases=_loss_backward_cases,
        hints=[
            Hint(lambda z, t: _loss_grad_with(z, t, divide_by_B=False),
                 "the loss is averaged over the batch, so every entry of the gradient is divided by B"),
            Hint(lambda z, t: _loss_grad_with(z, t, subtract_onehot=False),
                 "subtract 1 at each target: the gradient of -log softmax(y)[k] is softmax(y) - onehot(k)"),
            Hint(lambda z, t: _loss_grad_with(z, t, log_probs=True),
                 "use the probabilities softmax(logits), not log-softmax: the gradient of -log softmax(y)_k is softmax(y) - onehot(k)"),
            Hint(lambda z, t: _loss_grad_with(z, t, divide_by_T=True),
                 "the loss is *summed* over time, not averaged: do not divide by T"),
            Hint(_loss_grad_softmax_over_batch,
                 "take the softmax over the last axis (the V logits of one step and one sequence), not over the batch"),
        ],
    ))
