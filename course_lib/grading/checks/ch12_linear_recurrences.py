"""Checks of chapter 12's exercises: `linear_scan`, `min_gru`, `causal_linear_attention`.

Besides values, two checks look at *how* a function computes, through the exercise's harness `watch_torch`,
which runs the function under a torch.overrides.TorchFunctionMode (in the learner's kernel, as the grader
calls it, or here in a check cell):
- "not a loop over T" (linear_scan, min_gru): the number of torch calls (torch functions, tensor methods and
  operators such as `*` or indexing) at T = 1024 may be at most CALLS_RATIO times that at T = 16. A log-depth
  scan makes a few calls per round, ceil(log2 T) rounds: 10 against 4 rounds, a ratio of at most 2.5 whatever
  its constant overhead (the course's: 127 against 55 calls, 2.3x). A Python loop over T makes at least one
  call per step: 2061 against 45 calls for the course's sequential_scan (46x). Only torch calls are counted:
  a loop over NumPy arrays or Python floats is not seen.
- "fixed-size state" (causal_linear_attention): at T = 64 (d_k, d_v < 64) no tensor whose last two axes are
  (T, T) and none whose last three are (T, d_k, d_v) is built: the masked form (q kᵀ ⊙ mask) v and a cumsum over
  all T outer products give the same values but keep something that grows with T, which the recurrence never
  needs.

tests/test_checks.py checks the references against their plain forms (linear_scan against sequential_scan,
min_gru against its loop `_gru_stepwise`, causal_linear_attention against causal_linear_attention_parallel) and
these call counts.
"""
import numpy as np
import torch
from torch.overrides import TorchFunctionMode

from course_lib.grading.checks.core import Case, Exercise, Hint, as_numpy
from course_lib.linear_recurrences import (causal_linear_attention, causal_linear_attention_parallel, linear_scan, min_gru,
                                           scan_rounds)

CALLS_RATIO = 4          # at most this many times the torch calls at T = LONG_T as at T = SHORT_T
SHORT_T, LONG_T = 16, 1024
SQUARE_T = 64            # the T at which causal_linear_attention must build no (T, T) tensor
LOG_DEPTH = f"at most {CALLS_RATIO}x (log-depth)"
GROWS_WITH_T = f"over {CALLS_RATIO}x (grows with T)"
FIXED_STATE = "nothing that grows with T"
GROWING = {1: "a (T, T) tensor", 2: "a (T, d_k, d_v) tensor"}   # what _Watching.grows codes


# ---------------------------------------------------------------------------------------------------
# The harness: fn's values, or how many torch calls it makes, or whether it builds a (T, T) tensor


class _Watching(TorchFunctionMode):
    """Counts the torch calls made while it is active, and notes whether one returned a tensor that grows with T:
    last two axes (T, T), or last three (T, d_k, d_v). Calls made by torch itself inside a call are not seen (the
    mode is off while it handles one)."""

    def __init__(self, T=None, d_k=None, d_v=None):
        super().__init__()
        self.calls, self.T, self.stacked = 0, T, (T, d_k, d_v)
        self.grows = 0   # 0: nothing that grows with T, 1: a (T, T) tensor, 2: a (T, d_k, d_v) one

    def __torch_function__(self, func, types, args=(), kwargs=None):
        self.calls += 1
        out = func(*args, **(kwargs or {}))
        if self.T is not None:
            for r in (out if isinstance(out, (tuple, list)) else (out,)):
                if isinstance(r, torch.Tensor) and tuple(r.shape[-2:]) == (self.T, self.T):
                    self.grows = self.grows or 1
                elif isinstance(r, torch.Tensor) and tuple(r.shape[-3:]) == self.stacked:
                    self.grows = self.grows or 2
        return out


def _calls(fn, args):
    with _Watching() as watching:
        fn(*args)
    return watching.calls


def watch_torch(fn, *args, longer=None, square=False):
    """Chapter 12's harness (it runs where fn runs). Plain: fn(*args). longer=(the same arguments at a longer
    T): the numbers of torch calls fn makes on args and on longer, as an int64 array [short, long].
    square=True: whether fn, on args = (q, k, v), builds a tensor that grows with T, as an array holding one
    code: 0 none, 1 one whose last two axes are (T, T), 2 one whose last three are (T, d_k, d_v)."""
    if longer is not None:
        return np.array([_calls(fn, args), _calls(fn, longer)], dtype=np.int64)
    if square:
        with _Watching(T=args[0].shape[-2], d_k=args[0].shape[-1], d_v=args[2].shape[-1]) as watching:
            fn(*args)
        return np.array(watching.grows)
    return fn(*args)


def _growth(counts):
    """A Case.select: the harness's [calls at SHORT_T, calls at LONG_T] as a verdict that a check compares."""
    short, long = (int(n) for n in np.asarray(counts).reshape(2))
    return LOG_DEPTH if long <= CALLS_RATIO * short else GROWS_WITH_T


def _state(grows):
    return GROWING.get(int(np.asarray(grows)), FIXED_STATE)


def _t(rng, *shape):
    return torch.from_numpy(rng.normal(size=shape))  # float64, so the comparison can be tight


def _u(rng, low, high, *shape):
    return torch.from_numpy(rng.uniform(low, high, size=shape))


# ---------------------------------------------------------------------------------------------------
# linear_scan


def _scan_args(rng, T, *channels, low=-1.0, high=1.0, resets=()):
    a, b = _u(rng, low, high, T, *channels), _t(rng, T, *channels)
    for t in resets:
        a[t] = 0.0
    return a, b


def _calls_case(name, short, long, hidden=False):
    return Case(name, short, kwargs={"longer": long}, select=_growth, hidden=hidden)


NOT_POWERS_OF_TWO = [T for T in range(5, 40) if T & (T - 1)]


def _scan_cases(rng, hidden):
    if hidden:
        T, channels = int(rng.integers(3, 40)), tuple(int(n) for n in rng.integers(1, 4, size=int(rng.integers(1, 3))))
        # resets early enough that some position still needs the last round: the same score under every seed
        T_odd, T_reset = int(rng.choice(NOT_POWERS_OF_TWO)), int(rng.choice([12, 13, 14, 15, 26, 27, 28, 29, 30]))
        last_d = 2 ** (scan_rounds(T_reset) - 1)
        resets = sorted({int(t) for t in rng.integers(1, T_reset - last_d, size=2)})
        # a_t in (0.5, 1): what the furthest steps add stays far above the tolerance, so that a scan one round
        # short fails whatever T the seed draws
        return [Case("hidden: random T >= 3 and trailing axes", _scan_args(rng, T, *channels, low=0.5), hidden=True),
                Case("hidden: T not a power of 2", _scan_args(rng, T_odd, 2, low=0.5), hidden=True),
                Case("hidden: resets (a_t = 0)", _scan_args(rng, T_reset, 3, resets=resets), hidden=True),
                Case("hidden: T = 1", _scan_args(rng, 1, int(rng.integers(1, 5))), hidden=True),
                _calls_case(f"hidden: at most {CALLS_RATIO}x the torch calls at T = {LONG_T} as at T = {SHORT_T}",
                            _scan_args(rng, SHORT_T, 3), _scan_args(rng, LONG_T, 3), hidden=True)]
    return [Case("a, b of shape (T,) = (8,)", _scan_args(rng, 8)),
            Case("(T, B, H) = (12, 2, 3): each trailing position is its own recurrence", _scan_args(rng, 12, 2, 3)),
            Case("T = 1: h_0 = b_0", _scan_args(rng, 1, 3)),
            Case("T = 13, not a power of 2", _scan_args(rng, 13, 2)),
            Case("a_t = 0 at t = 3 and t = 7 resets the state: h_t = b_t there", _scan_args(rng, 10, 2, resets=(3, 7))),
            Case("T = 200, a_t in (0.9, 1): a long memory", _scan_args(rng, 200, 2, low=0.9, high=1.0)),
            _calls_case(f"T = {SHORT_T} -> {LONG_T}: at most {CALLS_RATIO}x the torch calls (log-depth, not a loop over T)",
                        _scan_args(rng, SHORT_T, 3), _scan_args(rng, LONG_T, 3))]


def _scan_with(a, b, op, update_a=True, wrap=False):
    """A Hillis-Steele scan with one of its parts changed (for the hints). op(a1, b1, a2, b2) -> the new b."""
    d = 1
    while d < len(b):
        if wrap:  # every position combined with the one d steps earlier, the first d with the last d
            a_before, b_before = torch.roll(a, d, dims=0), torch.roll(b, d, dims=0)
            a, b = a * a_before if update_a else a, op(a_before, b_before, a, b)
        else:
            a_new, b_new = a[d:] * a[:-d], op(a[:-d], b[:-d], a[d:], b[d:])
            a, b = torch.cat([a[:d], a_new]) if update_a else a, torch.cat([b[:d], b_new])
        d *= 2
    return b


def _scan_swapped(a, b):
    return _scan_with(a, b, lambda a1, b1, a2, b2: a1 * b2 + b1)


def _scan_a_kept(a, b):
    return _scan_with(a, b, lambda a1, b1, a2, b2: a2 * b1 + b2, update_a=False)


def _scan_rolled(a, b):
    return _scan_with(a, b, lambda a1, b1, a2, b2: a2 * b1 + b2, wrap=True)


def _scan_new_a(a, b):
    """Each round's b computed with the a that round has just updated."""
    d = 1
    while d < len(b):
        a = torch.cat([a[:d], a[d:] * a[:-d]])
        b = torch.cat([b[:d], a[d:] * b[:-d] + b[d:]])
        d *= 2
    return b


def _scan_one_round_short(a, b):
    """The rounds stop while d < T / 2: the last round is missing."""
    d = 1
    while 2 * d < len(b):
        a, b = torch.cat([a[:d], a[d:] * a[:-d]]), torch.cat([b[:d], a[d:] * b[:-d] + b[d:]])
        d *= 2
    return b


def _scan_exclusive(a, b):
    """The state before each step: h_{-1}, h_0, ..., h_{T-2}."""
    h = linear_scan(a, b)
    return torch.cat([torch.zeros_like(h[:1]), h[:-1]])


def _scan_with_start(a, b):
    """h_{-1} = 0 returned as the first of T + 1 states."""
    return torch.cat([torch.zeros_like(b[:1]), linear_scan(a, b)])


def _scan_by_cumprod(a, b):
    """h_t = A_t sum_{s<=t} b_s / A_s with A = cumprod(a): right in exact arithmetic while no a_t is 0."""
    A = torch.cumprod(a, dim=0)
    return A * torch.cumsum(b / A, dim=0)


def _scan_loop(a, b):
    h, states = torch.zeros_like(b[0]), []
    for a_t, b_t in zip(a, b):
        h = a_t * h + b_t
        states.append(h)
    return torch.stack(states)


# ---------------------------------------------------------------------------------------------------
# min_gru


def _gru_args(rng, T, B, D, H, gate_bias=0.0):
    return (_t(rng, T, B, D), _t(rng, D, H), _t(rng, H) + gate_bias, _t(rng, D, H), _t(rng, H), _t(rng, B, H))


def _gru_cases(rng, hidden):
    if hidden:
        T, B, D, H = (int(n) for n in rng.integers(2, 7, size=4))
        return [Case("hidden: random sizes", _gru_args(rng, T + 1, B, D, H), hidden=True),
                Case("hidden: T = 1", _gru_args(rng, 1, B, D, H), hidden=True),
                Case("hidden: gates near 0 keep h0", _gru_args(rng, T, B, D, H, gate_bias=-4.0), hidden=True),
                _calls_case(f"hidden: at most {CALLS_RATIO}x the torch calls at T = {LONG_T} as at T = {SHORT_T}",
                            _gru_args(rng, SHORT_T, 2, 3, 4), _gru_args(rng, LONG_T, 2, 3, 4), hidden=True)]
    return [Case("(T, B, D, H) = (6, 2, 3, 4)", _gru_args(rng, 6, 2, 3, 4)),
            Case("D = 5 != H = 2, B = 3: W_z, W_h are (D, H)", _gru_args(rng, 7, 3, 5, 2)),
            Case("T = 1: one step from h0", _gru_args(rng, 1, 2, 3, 4)),
            Case("b_z = -4 (gates z_t near 0): the state stays near h0", _gru_args(rng, 5, 2, 3, 3, gate_bias=-4.0)),
            _calls_case(f"T = {SHORT_T} -> {LONG_T}: at most {CALLS_RATIO}x the torch calls (one scan, not a loop over T)",
                        _gru_args(rng, SHORT_T, 2, 3, 4), _gru_args(rng, LONG_T, 2, 3, 4))]


def _gru_with(x, W_z, b_z, W_h, b_h, h0, gate=torch.sigmoid, candidate=lambda c: c, swap=False, start=None,
              h0_step="gated"):
    """minGRU as one scan, with one of its parts changed (for the hints)."""
    z, cand = gate(x @ W_z + b_z), candidate(x @ W_h + b_h)
    if swap:
        z = 1 - z
    a, b = 1 - z, z * cand
    if h0_step == "gated":
        b = torch.cat([b[:1] + a[:1] * h0, b[1:]])
    elif h0_step == "plain":  # h0 added to the first step as it is, not through (1 - z_0)
        b = torch.cat([b[:1] + h0, b[1:]])
    hs = linear_scan(a, b)
    if start == "extra":
        return torch.cat([h0[None], hs])
    if start == "shifted":
        return torch.cat([h0[None], hs[:-1]])
    return hs


def _gru_ungated_candidate(x, W_z, b_z, W_h, b_h, h0):
    """b_t = h~_t: the candidate added whole instead of weighed by z_t."""
    z, cand = torch.sigmoid(x @ W_z + b_z), x @ W_h + b_h
    a = 1 - z
    return linear_scan(a, torch.cat([cand[:1] + a[:1] * h0, cand[1:]]))


def _gru_stepwise(x, W_z, b_z, W_h, b_h, h0):
    """minGRU one step at a time: the right values, a loop over T."""
    z, cand = torch.sigmoid(x @ W_z + b_z), x @ W_h + b_h
    h, hs = h0, []
    for t in range(len(x)):
        h = (1 - z[t]) * h + z[t] * cand[t]
        hs.append(h)
    return torch.stack(hs)


def _gru_swapped(x, W_z, b_z, W_h, b_h, h0):
    return _gru_with(x, W_z, b_z, W_h, b_h, h0, swap=True)


def _gru_from_zero(x, W_z, b_z, W_h, b_h, h0):
    return _gru_with(x, W_z, b_z, W_h, b_h, h0, h0_step="zero")


def _gru_h0_ungated(x, W_z, b_z, W_h, b_h, h0):
    return _gru_with(x, W_z, b_z, W_h, b_h, h0, h0_step="plain")


def _gru_with_h0(x, W_z, b_z, W_h, b_h, h0):
    return _gru_with(x, W_z, b_z, W_h, b_h, h0, start="extra")


def _gru_shifted(x, W_z, b_z, W_h, b_h, h0):
    return _gru_with(x, W_z, b_z, W_h, b_h, h0, start="shifted")


def _gru_tanh(x, W_z, b_z, W_h, b_h, h0):
    return _gru_with(x, W_z, b_z, W_h, b_h, h0, candidate=torch.tanh)


def _gru_no_sigmoid(x, W_z, b_z, W_h, b_h, h0):
    return _gru_with(x, W_z, b_z, W_h, b_h, h0, gate=lambda g: g)


# ---------------------------------------------------------------------------------------------------
# causal_linear_attention


def _attn_args(rng, lead, T, d_k, d_v):
    return _t(rng, *lead, T, d_k), _t(rng, *lead, T, d_k), _t(rng, *lead, T, d_v)


def _attn_cases(rng, hidden):
    if hidden:
        T, d_k = int(rng.integers(3, 12)), int(rng.integers(2, 6))
        d_v = d_k + int(rng.integers(1, 4))
        return [Case("hidden: random sizes, (B, heads) leading axes, d_k != d_v", _attn_args(rng, (2, 3), T, d_k, d_v), hidden=True),
                Case("hidden: d_k = d_v", _attn_args(rng, (int(rng.integers(2, 4)),), T, d_k, d_k), hidden=True),
                Case("hidden: T = 1", _attn_args(rng, (2,), 1, d_k, d_v), hidden=True),
                Case(f"hidden: nothing that grows with T at T = {SQUARE_T}", _attn_args(rng, (2,), SQUARE_T, d_k, d_v),
                     kwargs={"square": True}, select=_state, hidden=True)]
    return [Case("no batch axes: q, k (5, 3), v (5, 4)", _attn_args(rng, (), 5, 3, 4)),
            Case("(B, heads, T, d) = (2, 3, 6, 4)", _attn_args(rng, (2, 3), 6, 4, 4)),
            Case("d_k = 2, d_v = 5, B = 3: the state S_t is (d_k, d_v)", _attn_args(rng, (3,), 7, 2, 5)),
            Case("T = 1: y_0 = (q_0 . k_0) v_0", _attn_args(rng, (2,), 1, 3, 2)),
            Case(f"T = {SQUARE_T}: the state has a fixed size (no (T, T) scores, no (T, d_k, d_v) stack of states)",
                 _attn_args(rng, (2,), SQUARE_T, 5, 3),
                 kwargs={"square": True}, select=_state)]


def _scores(q, k, causal=True, strict=False):
    T = q.shape[-2]
    scores = q @ k.transpose(-2, -1)
    if causal:
        keep = torch.ones(T, T, dtype=torch.bool).tril(-1 if strict else 0)
        scores = scores.masked_fill(~keep, 0.0)
    return scores


def _attn_strict(q, k, v):
    return _scores(q, k, strict=True) @ v


def _attn_q_k_swapped(q, k, v):
    return _scores(k, q) @ v


def _attn_softmax(q, k, v):
    T = q.shape[-2]
    scores = (q @ k.transpose(-2, -1) / q.shape[-1] ** 0.5).masked_fill(~torch.ones(T, T, dtype=torch.bool).tril(), float("-inf"))
    return torch.softmax(scores, dim=-1) @ v


def _attn_normalised(q, k, v):
    scores = _scores(q, k)
    return scores @ v / scores.sum(-1, keepdim=True)


def _attn_full(q, k, v):
    return _scores(q, k, causal=False) @ v


def _attn_shared_state(q, k, v):
    """One state summed over the batch-like leading axes: every sequence reads every other's keys and values."""
    if q.dim() == 2:
        return causal_linear_attention(q, k, v)
    S_shared = torch.einsum("...sd,...se->sde", k, v).cumsum(0)   # (T, d_k, d_v): one for all sequences
    return torch.einsum("...td,tde->...te", q, S_shared)


def _attn_scaled(q, k, v):
    return _scores(q, k) @ v / q.shape[-1] ** 0.5


def _attn_all_states(q, k, v):
    """The right values from all T states at once: a cumsum over the T outer products (..., T, d_k, d_v)."""
    S = torch.cumsum(k[..., :, :, None] * v[..., :, None, :], dim=-3)
    return (q[..., :, None, :] @ S)[..., 0, :]


def _attn_state_transposed(q, k, v):
    """S_t = sum v_sᵀ k_s, (d_v, d_k), read as q_t S_t: y_t = sum (q_t . v_s) k_s (d_k = d_v only)."""
    return _scores(q, v) @ k


EXERCISES = [
    Exercise(
        name="linear_scan", reference=linear_scan, points=3, make_cases=_scan_cases, select=as_numpy,
        harness=watch_torch, atol=1e-10, rtol=1e-10,
        hints=[
            Hint(_scan_swapped, "combine the earlier step (a_{t-d}, b_{t-d}) with the later (a_t, b_t) as "
                                "(a_t * a_{t-d}, a_t * b_{t-d} + b_t): the later step's a multiplies the earlier b, not the other way round"),
            Hint(_scan_new_a, "compute a round's new b from that round's old a: update a and b together "
                              "(a, b = new_a, new_b), not a first and then b with the new a"),
            Hint(_scan_one_round_short, "one round short: go on while d < T, so that the last round combines "
                                        "positions up to T - 1 apart"),
            Hint(_scan_a_kept, "update a too: after a round, a_t is the product a_t * a_{t-d} of the steps it now combines"),
            Hint(_scan_rolled, "the first d positions have no step d earlier: leave them as they are "
                               "(torch.roll wraps the last positions around to the front)"),
            Hint(_scan_exclusive, "h_t is the state after step t (h_0 = b_0): return h_0 .. h_{T-1}, not the states before each step"),
            Hint(_scan_with_start, "return the T states h_0 .. h_{T-1}: h_{-1} = 0 is not one of them"),
            Hint(_scan_by_cumprod, "A_t * cumsum(b / A) with A = cumprod(a) divides by 0 after a reset (a_t = 0) "
                                   "and by tiny numbers on long sequences: combine steps with the scan's operator instead"),
            Hint(_scan_loop, "your torch calls grow like T (a loop over the steps, or a recursion down to single "
                             "steps): combine all positions at once with the one d = 1, 2, 4, ... steps earlier, in "
                             "ceil(log2 T) rounds"),
        ],
    ),
    Exercise(
        name="min_gru", reference=min_gru, points=2, make_cases=_gru_cases, select=as_numpy, harness=watch_torch,
        hints=[
            Hint(_gru_swapped, "the gate z_t weighs the candidate: h_t = (1 - z_t) * h_{t-1} + z_t * h~_t (z and 1 - z swapped)"),
            Hint(_gru_from_zero, "start from h0, not from zeros: h0 enters the first step as (1 - z_0) * h0 added to b_0"),
            Hint(_gru_h0_ungated, "h0 enters the first step through the gate: b_0 + (1 - z_0) * h0, not b_0 + h0"),
            Hint(_gru_with_h0, "return the T states after reading x[0] .. x[T-1], without h0 in front"),
            Hint(_gru_shifted, "hs[t] is the state after reading x[t] (hs[0] = h_0, not h0): the states are not shifted by one"),
            Hint(_gru_ungated_candidate, "b_t = z_t * h~_t: the gate weighs the candidate that is written, not only "
                                         "what is kept (a_t = 1 - z_t)"),
            Hint(_gru_tanh, "minGRU's candidate is linear: h~_t = x_t W_h + b_h, no tanh (that is the GRU's)"),
            Hint(_gru_no_sigmoid, "the gate is z_t = sigmoid(x_t W_z + b_z), between 0 and 1"),
            Hint(_gru_stepwise, "that is a loop over T: compute z and h~ for every t at once, then one "
                                "linear_scan(a, b) with a_t = 1 - z_t, b_t = z_t * h~_t"),
        ],
    ),
    Exercise(
        name="causal_linear_attention", reference=causal_linear_attention, points=2, make_cases=_attn_cases,
        select=as_numpy, harness=watch_torch,
        hints=[
            Hint(_attn_strict, "y_t includes s = t: add k_tᵀ v_t to the state before reading it with q_t"),
            Hint(_attn_q_k_swapped, "the state sums k_sᵀ v_s and the query reads it, y_t = q_t S_t: q and k are swapped"),
            Hint(_attn_softmax, "linear attention has no softmax: y_t = sum over s <= t of (q_t . k_s) v_s"),
            Hint(_attn_shared_state, "one state per sequence: S has the leading (batch, head) axes of q, k, v, "
                                     "shape (..., d_k, d_v), not one state summed over all of them"),
            Hint(_attn_scaled, "no scaling here: y_t = q_t S_t, not divided by sqrt(d_k) (that is softmax attention's)"),
            Hint(_attn_all_states, "carry one (d_k, d_v) state from step to step: a cumsum over all T outer products "
                                   "keeps T states at once, memory that grows with T"),
            Hint(_attn_normalised, "no normalisation here: y_t is the plain sum of (q_t . k_s) v_s, not divided by the sum of q_t . k_s"),
            Hint(_attn_full, "causal: the sum runs over s <= t only, not over all T positions"),
            Hint(_attn_state_transposed, "the state is S_t = sum of k_sᵀ v_s, shape (d_k, d_v) (k as a column times v as a row); "
                                         "y_t = q_t S_t"),
            Hint(causal_linear_attention_parallel, "carry the (d_k, d_v) state S_t from step to step: the masked (T, T) form "
                                                   "(q kᵀ ⊙ mask) v gives the same y but is not the recurrence"),
        ],
    ),
]
