"""Checks of chapter 11's exercises: `top_k_filter`, `top_p_filter`, `beam_search`, `cached_attention_step`.

The references are checked in tests/test_generation.py: beam search against an exhaustive search, the
cached step against full causal attention (course and torch.nn.functional.scaled_dot_product_attention).
"""
import math

import numpy as np
import torch

from course_lib.attention import scaled_dot_product_attention
from course_lib.generation import beam_search, cached_attention_step, top_k_filter, top_p_filter
from course_lib.grading.checks.ch07_limits import V as GRU_V, tiny_gru_step
from course_lib.grading.checks.core import Case, Exercise, Hint, as_numpy, telling_apart


def _numpy(value):
    if isinstance(value, (tuple, list)):
        return tuple(_numpy(v) for v in value)
    return as_numpy(value)


def _as_arrays(fn):
    """fn with its tuple of tensors returned as NumPy values (for telling_apart, which compares them)."""
    return lambda *args: _numpy(fn(*args))


def _t(rng, *shape):
    return torch.from_numpy(rng.normal(size=shape))  # float64, so the comparison can be tight


# ---------------------------------------------------------------------------------------------------
# top_k_filter


def _distinct_logits(rng, *shape):
    """Random logits whose entries along the last axis are all different (no ties unless a case wants one)."""
    return torch.from_numpy(rng.permuted(np.broadcast_to(np.linspace(-3.0, 3.0, shape[-1]), shape), axis=-1)
                            + rng.normal(scale=0.01, size=shape))


def _top_k_cases(rng, hidden):
    if hidden:
        V, k = int(rng.integers(6, 20)), int(rng.integers(2, 5))
        tie = _distinct_logits(rng, V)
        tie[int(np.argsort(tie.numpy())[-k - 1])] = tie.sort(descending=True).values[k - 1]  # k-th largest twice
        return [Case("hidden: random (B, V), k between 2 and 4", (_distinct_logits(rng, int(rng.integers(2, 6)), V), k), hidden=True),
                Case("hidden: three axes", (_distinct_logits(rng, 2, 3, V), k + 1), hidden=True),
                Case("hidden: a tie at the k-th largest", (tie, k), hidden=True),
                Case("hidden: k >= V", (_distinct_logits(rng, 3, V), V + int(rng.integers(0, 3))), hidden=True)]
    return [Case("logits [1, 5, 3, 2], k = 2 keeps 5 and 3", (torch.tensor([1.0, 5.0, 3.0, 2.0], dtype=torch.float64), 2)),
            Case("(B, V) = (3, 10), k = 4: each row on its own", (_distinct_logits(rng, 3, 10), 4)),
            Case("(2, 3, 7), k = 3: leading axes are batch-like", (_distinct_logits(rng, 2, 3, 7), 3)),
            Case("k = 1 keeps only the argmax", (_distinct_logits(rng, 4, 6), 1)),
            Case("k >= V changes nothing", (_distinct_logits(rng, 2, 6), 10)),
            Case("a tie at the boundary: [2, 1, 1, 0], k = 2 keeps both 1s",
                 (torch.tensor([2.0, 1.0, 1.0, 0.0], dtype=torch.float64), 2)),
            Case("k = 0 raises ValueError", (_distinct_logits(rng, 5), 0), raises=(ValueError,))]


def _top_k_probabilities(logits, k):
    return top_k_filter(torch.softmax(logits, dim=-1), k)


def _top_k_drops_the_kth(logits, k):
    if k >= logits.shape[-1]:
        return logits.clone()
    kth = logits.topk(k, dim=-1).values[..., -1:]
    return logits.masked_fill(logits <= kth, float("-inf"))


def _top_k_exactly_k(logits, k):
    if k >= logits.shape[-1]:
        return logits.clone()
    keep = torch.zeros_like(logits, dtype=torch.bool).scatter(-1, logits.topk(k, dim=-1).indices, True)
    return logits.masked_fill(~keep, float("-inf"))


def _top_k_zeroed(logits, k):
    if k >= logits.shape[-1]:
        return logits.clone()
    return logits.masked_fill(top_k_filter(logits, k) == float("-inf"), 0.0)


def _top_k_first_axis(logits, k):
    if logits.dim() < 2 or k >= logits.shape[0]:
        return logits.clone()
    kth = logits.topk(k, dim=0).values[-1:]
    return logits.masked_fill(logits < kth, float("-inf"))


# ---------------------------------------------------------------------------------------------------
# top_p_filter


def _dyadic_logits(rng, *shape):
    """Logits whose probabilities are 1/2, 1/4, 1/8, ..., shuffled, so that a p can fall exactly on a partial
    sum and tell >= from >. torch.softmax returns them within an ulp, not exactly: the exercise asks for
    torch.softmax, a descending sort and cumsum, the order of operations under which such a case is decided
    the same way as the reference's."""
    V = shape[-1]
    probs = np.array([2.0 ** -(i + 1) for i in range(V - 1)] + [2.0 ** -(V - 1)])
    return torch.from_numpy(rng.permuted(np.broadcast_to(np.log(probs), shape), axis=-1).copy())


def _top_p_cases(rng, hidden):
    if hidden:
        V = int(rng.integers(5, 9))
        boundary = 1 - 2.0 ** -int(rng.integers(2, V - 1))  # exactly the sum of the largest few probabilities
        return [Case("hidden: random rows, p between 0.5 and 0.95", (_distinct_logits(rng, int(rng.integers(2, 6)), V + 5), float(rng.uniform(0.5, 0.95))), hidden=True),
                Case("hidden: p exactly reached by the kept tokens", (_dyadic_logits(rng, 3, V), boundary), hidden=True),
                Case("hidden: p below the largest probability", (_dyadic_logits(rng, 2, 2, V), float(rng.uniform(0.05, 0.45))), hidden=True),
                Case("hidden: p = 1", (torch.zeros(int(rng.integers(2, 5)), 2 ** int(rng.integers(2, 4)), dtype=torch.float64), 1.0),
                     hidden=True)]  # equal logits, 2^m of them: every partial sum exact, the last exactly 1
    return [Case("probabilities [1/2, 1/4, 1/8, 1/8], p = 0.75: keeps the first two (their sum reaches p)",
                 (torch.tensor([0.5, 0.25, 0.125, 0.125], dtype=torch.float64).log(), 0.75)),
            Case("probabilities [0.1, 0.5, 0.15, 0.25], p = 0.8: keeps 0.5, 0.25 and 0.15", (torch.tensor([0.1, 0.5, 0.15, 0.25], dtype=torch.float64).log(), 0.8)),
            Case("p = 0.3 still keeps the most probable token", (_dyadic_logits(rng, 2, 5), 0.3)),
            Case("random (4, 12), p = 0.9: each row on its own", (_distinct_logits(rng, 4, 12), 0.9)),
            Case("(2, 3, 8), p = 0.6: leading axes are batch-like", (_distinct_logits(rng, 2, 3, 8), 0.6)),
            # equal logits, 8 of them: every partial sum exact, so rounding (which differs between CPUs) cannot
            # decide whether a wrong rule that drops tokens once the sum passes p happens to keep them all
            Case("p = 1 keeps every token", (torch.zeros(3, 8, dtype=torch.float64), 1.0)),
            Case("p = 0 raises ValueError", (_distinct_logits(rng, 5), 0.0), raises=(ValueError,))]


def _nucleus(logits, p, drop_rule, scores=None):
    """Nucleus filtering with a different rule for what to drop, given (probabilities sorted, cumulative)."""
    probs, order = torch.softmax(logits if scores is None else scores, dim=-1).sort(dim=-1, descending=True)
    drop_sorted = drop_rule(probs, probs.cumsum(dim=-1), p)
    return logits.masked_fill(drop_sorted.scatter(-1, order, drop_sorted), float("-inf"))


def _top_p_drops_the_crossing_token(logits, p):
    return _nucleus(logits, p, lambda probs, cum, p: cum > p)


def _top_p_strict(logits, p):
    return _nucleus(logits, p, lambda probs, cum, p: cum - probs > p)


def _top_p_unsorted(logits, p):
    probs, order = torch.softmax(logits, dim=-1).sort(dim=-1, descending=True)
    return logits.sort(dim=-1, descending=True).values.masked_fill(probs.cumsum(-1) - probs >= p, float("-inf"))


def _top_p_mask_not_scattered(logits, p):
    probs, _ = torch.softmax(logits, dim=-1).sort(dim=-1, descending=True)
    return logits.masked_fill(probs.cumsum(-1) - probs >= p, float("-inf"))


def _top_p_ascending(logits, p):
    probs, order = torch.softmax(logits, dim=-1).sort(dim=-1)
    drop_sorted = probs.cumsum(-1) - probs >= p
    return logits.masked_fill(drop_sorted.scatter(-1, order, drop_sorted), float("-inf"))


def _top_p_probabilities(logits, p):
    return top_p_filter(torch.softmax(logits, dim=-1).log(), p).exp()


# ---------------------------------------------------------------------------------------------------
# beam_search. Step functions live at module level, so that the grader can name them to the learner's kernel.


def markov_step(tokens, state):
    """A fixed first-order model over 5 tokens (weights from seed 1) whose state (K, 1) is the sequence's
    running length: a tempting first token leads to poor continuations, so greedy and beam search differ."""
    g = torch.Generator().manual_seed(1)
    table = torch.randn(5, 5, generator=g, dtype=torch.float64) * 2.0
    table[0] = torch.tensor([-9.0, 1.0, 0.9, -9.1, -9.2], dtype=torch.float64)   # from the start: 1 looks best ...
    table[1] = torch.tensor([0.0, 0.1, 0.2, 0.3, 0.4], dtype=torch.float64)      # ... but after 1 nothing is likely
    # (no two entries of a row are equal: which of two tied tokens a decoder keeps is not specified)
    table[2] = torch.tensor([-9.0, -9.1, -9.2, 4.0, -9.3], dtype=torch.float64)  # after 2, 3 is all but certain
    return table[tokens] + 0.1 * state, state + 1


def _beam_cases(rng, hidden):
    def gru_start(K, n):  # a start state on which each classic mistake changes the answer, on every seed
        return telling_apart(lambda: (tiny_gru_step, torch.from_numpy(rng.normal(size=(1, 8))).float(),
                                      int(rng.integers(0, GRU_V)), K, n),
                             _as_arrays(beam_search), [_as_arrays(m) for m in (_beam_state_kept, _beam_step_scores,
                                                                                _beam_history_kept, _beam_raw_logits)])
    def tempting(K, n):  # markov_step's state plays no part: only the mistakes it can show must show
        return telling_apart(lambda: (markov_step, torch.zeros(1, 1, dtype=torch.float64), 0, K, n + int(rng.integers(0, 3))),
                             _as_arrays(beam_search), [_as_arrays(m) for m in (_beam_step_scores, _beam_history_kept, _beam_raw_logits)])

    def exact(n):  # a beam of V ** n hypotheses keeps every sequence: state and history mistakes cannot show
        return telling_apart(lambda: (tiny_gru_step, torch.from_numpy(rng.normal(size=(1, 8))).float(), int(rng.integers(0, GRU_V)),
                                      GRU_V ** n, n), _as_arrays(beam_search), [_as_arrays(m) for m in (_beam_step_scores, _beam_raw_logits)])
    if hidden:
        K, n = int(rng.integers(3, 6)), int(rng.integers(4, 8))
        return [Case("hidden: tiny GRU, a wider beam", gru_start(K, n), hidden=True),
                Case("hidden: tiny GRU, beam of 2", gru_start(2, n - 1), hidden=True),
                Case("hidden: the tempting first token", tempting(K, 3), hidden=True)]
    return [Case("the tempting first token: beam_size = 1 (greedy), max_len = 3", (markov_step, torch.zeros(1, 1, dtype=torch.float64), 0, 1, 3)),
            Case("the tempting first token: beam_size = 2 finds a likelier sequence", (markov_step, torch.zeros(1, 1, dtype=torch.float64), 0, 2, 3)),
            Case("tiny GRU (state (K, 8)), beam_size = 3, max_len = 5", gru_start(3, 5)),
            Case("tiny GRU, beam_size = 36 >= 6 ** 2 sequences, max_len = 2: the exact best", exact(2)),
            Case("max_len = 1", (tiny_gru_step, torch.zeros(1, 8), 2, 3, 1)),
            Case("beam_size = 0 raises ValueError", (markov_step, torch.zeros(1, 1), 0, 0, 3), raises=(ValueError,))]


def _in_place(x, beam):
    """The mistake of not re-indexing: row i stays row i (only the first step, from one parent, expands)."""
    return x if len(x) == len(beam) else x[torch.zeros_like(beam)]


def _beam(step, state, start, beam_size, max_len, reindex_state=True, accumulate=True, reindex_history=True,
          log_softmax=True):
    """beam_search with one of its parts left out (for the hints)."""
    tokens, scores = torch.tensor([start]), torch.zeros(1, dtype=torch.float64)
    history = torch.zeros(1, 0, dtype=torch.long)
    for _ in range(max_len):
        logits, state = step(tokens, state)
        V = logits.shape[-1]
        new = torch.log_softmax(logits.double(), -1) if log_softmax else logits.double()
        ranked = (scores[:, None] + new if accumulate else new).reshape(-1)
        _, best = ranked.topk(min(beam_size, len(ranked)))
        beam, tokens = best // V, best % V
        scores = (scores[:, None] + new).reshape(-1)[best]
        history = torch.cat([history[beam] if reindex_history else _in_place(history, beam), tokens[:, None]], 1)
        state = state[beam] if reindex_state else _in_place(state, beam)
    return history[0], float(scores[0])


def _beam_last(step, state, start, beam_size, max_len):
    """Returns the last survivor instead of the best (topk sorts them best first)."""
    tokens, scores = torch.tensor([start]), torch.zeros(1, dtype=torch.float64)
    history = torch.zeros(1, 0, dtype=torch.long)
    for _ in range(max_len):
        logits, state = step(tokens, state)
        V = logits.shape[-1]
        totals = (scores[:, None] + torch.log_softmax(logits.double(), -1)).reshape(-1)
        scores, best = totals.topk(min(beam_size, len(totals)))
        parents, tokens = best // V, best % V
        history, state = torch.cat([history[parents], tokens[:, None]], 1), state[parents]
    return history[-1], float(scores[-1])


def _beam_last_step_score(step, state, start, beam_size, max_len):
    """Ranks by the new token's log-probability only, and returns that as the score."""
    tokens, history = torch.tensor([start]), torch.zeros(1, 0, dtype=torch.long)
    for _ in range(max_len):
        logits, state = step(tokens, state)
        V = logits.shape[-1]
        scores, best = torch.log_softmax(logits.double(), -1).reshape(-1).topk(min(beam_size, logits.numel()))
        parents, tokens = best // V, best % V
        history, state = torch.cat([history[parents], tokens[:, None]], 1), state[parents]
    return history[0], float(scores[0])


def _beam_state_kept(step, state, start, beam_size, max_len):
    return _beam(step, state, start, beam_size, max_len, reindex_state=False)


def _beam_step_scores(step, state, start, beam_size, max_len):
    return _beam(step, state, start, beam_size, max_len, accumulate=False)


def _beam_history_kept(step, state, start, beam_size, max_len):
    return _beam(step, state, start, beam_size, max_len, reindex_history=False)


def _beam_raw_logits(step, state, start, beam_size, max_len):
    return _beam(step, state, start, beam_size, max_len, log_softmax=False)


def _beam_with_start(step, state, start, beam_size, max_len):
    tokens, score = beam_search(step, state, start, beam_size, max_len)
    return torch.cat([torch.tensor([start]), tokens]), score


def _beam_probability(step, state, start, beam_size, max_len):
    tokens, score = beam_search(step, state, start, beam_size, max_len)
    return tokens, math.exp(score)


def _beam_mean_score(step, state, start, beam_size, max_len):
    tokens, score = beam_search(step, state, start, beam_size, max_len)
    return tokens, score / max_len


# ---------------------------------------------------------------------------------------------------
# cached_attention_step


def _cache_case(rng, lead, T_seen, d_k, d_v):
    return (_t(rng, *lead, 1, d_k), _t(rng, *lead, 1, d_k), _t(rng, *lead, 1, d_v),
            _t(rng, *lead, T_seen, d_k), _t(rng, *lead, T_seen, d_v))


def _cache_cases(rng, hidden):
    if hidden:
        T, d_k = int(rng.integers(3, 12)), int(rng.integers(2, 9))
        d_v = d_k + int(rng.integers(1, 4))  # d_v != d_k on every seed: scaling by sqrt(d_v) must always show
        return [Case("hidden: random sizes, (B, heads) leading axes", _cache_case(rng, (2, 3), T, d_k, d_v), hidden=True),
                Case("hidden: one cached position", _cache_case(rng, (int(rng.integers(1, 4)),), 1, d_k, d_v), hidden=True),
                Case("hidden: empty cache", _cache_case(rng, (2,), 0, d_k, d_v), hidden=True)]
    return [Case("B = 2, 4 cached positions, d_k = 3, d_v = 5", _cache_case(rng, (2,), 4, 3, 5)),
            Case("an empty cache (T_seen = 0): the first position attends to itself", _cache_case(rng, (2,), 0, 3, 3)),
            Case("(B, heads) = (2, 4) leading axes, T_seen = 6", _cache_case(rng, (2, 4), 6, 4, 4)),
            Case("d_k = 64 (is the scale sqrt(d_k)?)", _cache_case(rng, (1,), 5, 64, 3))]


def _cache_without_itself(q, k, v, keys, values):
    if keys.shape[-2] == 0:
        return v.clone(), torch.cat([keys, k], -2), torch.cat([values, v], -2)
    out, _ = scaled_dot_product_attention(q, keys, values)
    return out, torch.cat([keys, k], -2), torch.cat([values, v], -2)


def _cache_prepended(q, k, v, keys, values):
    keys, values = torch.cat([k, keys], dim=-2), torch.cat([v, values], dim=-2)
    return scaled_dot_product_attention(q, keys, values)[0], keys, values


def _cache_unscaled(q, k, v, keys, values):
    keys, values = torch.cat([keys, k], dim=-2), torch.cat([values, v], dim=-2)
    return torch.softmax(q @ keys.transpose(-2, -1), dim=-1) @ values, keys, values


def _cache_scaled_by(q, k, v, keys, values, scale):
    keys, values = torch.cat([keys, k], dim=-2), torch.cat([values, v], dim=-2)
    return torch.softmax(q @ keys.transpose(-2, -1) / scale, dim=-1) @ values, keys, values


def _cache_scaled_by_d_k(q, k, v, keys, values):
    return _cache_scaled_by(q, k, v, keys, values, q.shape[-1])


def _cache_scaled_by_sqrt_d_v(q, k, v, keys, values):
    return _cache_scaled_by(q, k, v, keys, values, math.sqrt(v.shape[-1]))


def _cache_softmax_over_queries(q, k, v, keys, values):
    keys, values = torch.cat([keys, k], dim=-2), torch.cat([values, v], dim=-2)
    return torch.softmax(q @ keys.transpose(-2, -1) / math.sqrt(q.shape[-1]), dim=-2) @ values, keys, values


def _cache_not_returned(q, k, v, keys, values):
    out, _, _ = cached_attention_step(q, k, v, keys, values)
    return out, keys, values


EXERCISES = [
    Exercise(
        name="top_k_filter", reference=top_k_filter, points=1, make_cases=_top_k_cases, select=as_numpy,
        hints=[
            Hint(_top_k_probabilities, "return logits with the dropped ones at -inf; the softmax comes later, when sampling"),
            Hint(_top_k_drops_the_kth, "the k-th largest itself is kept: drop only entries below it (<, not <=)"),
            Hint(_top_k_zeroed, "a dropped logit is -inf (probability 0 after the softmax); 0 is an ordinary logit"),
            Hint(_top_k_first_axis, "filter along the last axis (the vocabulary): each row on its own"),
            Hint(_top_k_exactly_k, "an entry equal to the k-th largest is kept too: compare values (logits < k-th largest), not positions"),
        ],
    ),
    Exercise(
        name="top_p_filter", reference=top_p_filter, points=2, make_cases=_top_p_cases, select=as_numpy,
        hints=[
            Hint(_top_p_drops_the_crossing_token, "keep the token that makes the sum reach p (so the most probable is always kept): "
                                                  "drop a token only when the tokens before it already hold p"),
            Hint(_top_p_strict, "when the tokens kept already sum to exactly p, the next one is dropped (>= p, not > p)"),
            Hint(_top_p_unsorted, "put the result back in the vocabulary's order (scatter with the sort's indices)"),
            Hint(_top_p_mask_not_scattered, "the drop decision is in sorted order: scatter it back to the vocabulary's order "
                                            "(drop_sorted.scatter(-1, indices, drop_sorted)) before masking the logits"),
            Hint(_top_p_ascending, "sort the probabilities from the most probable down (descending=True)"),
            Hint(_top_p_probabilities, "return logits with the dropped ones at -inf, not probabilities"),
            Hint(lambda logits, p: _nucleus(logits, p, lambda probs, cum, p: cum - probs >= p, scores=logits.exp()),
                 "take the softmax of the logits before summing: exp alone does not sum to 1"),
        ],
    ),
    Exercise(
        name="beam_search", reference=beam_search, points=3, make_cases=_beam_cases, select=_numpy,
        output_names=("tokens", "score"),
        hints=[
            Hint(_beam_state_kept, "re-index the state with the surviving hypotheses' parents (state[parents]) before the next step"),
            Hint(_beam_history_kept, "a survivor's tokens are its parent's tokens plus the new one: re-index the history too"),
            Hint(_beam_step_scores, "rank extensions by their total log-probability: the hypothesis's score so far plus the new token's"),
            Hint(_beam_last_step_score, "keep each hypothesis's total log-probability and add the new token's to it: "
                                        "the score is the sum over all max_len steps"),
            Hint(_beam_last, "return the best hypothesis: topk sorts the survivors best first, so it is row 0"),
            Hint(_beam_raw_logits, "score with log_softmax(logits): raw logits of different hypotheses are not on one scale"),
            Hint(_beam_with_start, "return the max_len generated tokens, without the start token"),
            Hint(_beam_probability, "the score is the total log-probability (a sum of logs), not a probability"),
            Hint(_beam_mean_score, "the score is the sum of the log-probabilities, not their mean"),
        ],
    ),
    Exercise(
        name="cached_attention_step", reference=cached_attention_step, points=2, make_cases=_cache_cases,
        select=_numpy, output_names=("out", "keys", "values"),
        hints=[
            Hint(_cache_without_itself, "append the new key and value before attending: a position attends to itself too"),
            Hint(_cache_prepended, "append the new key and value at the end of the cache (time runs along axis -2)"),
            Hint(_cache_unscaled, "divide the scores by sqrt(d_k) before the softmax"),
            Hint(_cache_scaled_by_d_k, "divide the scores by the square root of d_k, not by d_k"),
            Hint(_cache_scaled_by_sqrt_d_v, "the scale is sqrt(d_k), the size of the queries and keys, not sqrt(d_v)"),
            Hint(_cache_softmax_over_queries, "the softmax runs over the keys (the last axis of q @ keys^T)"),
            Hint(_cache_not_returned, "return the cache with the new position in it, so that the next step sees it"),
        ],
    ),
]
