"""Checks of chapter 09's exercises: `scaled_dot_product_attention`, `causal_mask`, `multi_head_attention`.

The references are checked against torch.nn.functional.scaled_dot_product_attention and
torch.nn.MultiheadAttention (same weights) in tests/test_attention.py.
"""
import math

import numpy as np
import torch

from course_lib.attention import causal_mask, multi_head_attention, scaled_dot_product_attention
from course_lib.grading.checks.core import Case, Exercise, Hint, as_numpy


def _numpy(value):
    if isinstance(value, (tuple, list)):
        return tuple(_numpy(v) for v in value)
    return as_numpy(value)


def _t(rng, *shape):
    return torch.from_numpy(rng.normal(size=shape))  # float64, so the comparison can be tight


def _padding_mask(rng, B, T_q, T_k, empty_row=False):
    lengths = rng.integers(min(2, T_k), T_k + 1, size=B)  # two keys or more: the scale of the scores always matters
    if T_k >= 3:
        lengths[-1] = rng.integers(2, T_k)  # and some real padding, so that where the mask acts always matters
    mask = torch.from_numpy(np.arange(T_k)[None, None, :] < lengths[:, None, None]).expand(B, T_q, T_k).clone()
    if empty_row:
        mask[0, -1] = False  # a query with nothing to attend to
    return mask


def _sdpa_cases(rng, hidden):
    if hidden:
        B, T_q, T_k, d = (int(v) for v in rng.choice(np.arange(3, 10), size=4, replace=False))
        return [Case("hidden: random q, k, v, no mask, T_q != T_k", (_t(rng, B, T_q, d), _t(rng, B, T_k, d), _t(rng, B, T_k, d + 1)), hidden=True),
                Case("hidden: padding mask with a fully masked row", (_t(rng, B, T_q, d), _t(rng, B, T_k, d), _t(rng, B, T_k, d),
                                                               _padding_mask(rng, B, T_q, T_k, empty_row=True)), hidden=True),
                Case("hidden: causal mask, two leading axes", (_t(rng, 2, B, T_q, d), _t(rng, 2, B, T_q, d), _t(rng, 2, B, T_q, d), causal_mask(T_q)), hidden=True)]
    return [Case("q (2, 3, 4), k (2, 5, 4), v (2, 5, 6), no mask", (_t(rng, 2, 3, 4), _t(rng, 2, 5, 4), _t(rng, 2, 5, 6))),
            Case("T = 1 (one query, one key)", (_t(rng, 1, 1, 3), _t(rng, 1, 1, 3), _t(rng, 1, 1, 2))),
            Case("large d_k = 64 (is the scale sqrt(d_k)?)", (_t(rng, 1, 4, 64), _t(rng, 1, 4, 64), _t(rng, 1, 4, 3))),
            Case("causal mask (4, 4)", (_t(rng, 2, 4, 3), _t(rng, 2, 4, 3), _t(rng, 2, 4, 3), causal_mask(4))),
            Case("padding mask with a fully masked row: zeros, not NaN",
                 (_t(rng, 2, 3, 4), _t(rng, 2, 5, 4), _t(rng, 2, 5, 4), _padding_mask(rng, 2, 3, 5, empty_row=True)))]


def _causal_cases(rng, hidden):
    if hidden:
        return [Case("hidden: a longer sequence", (int(rng.integers(5, 30)),), hidden=True), Case("hidden: T = 2", (2,), hidden=True)]
    return [Case("T = 1", (1,)), Case("T = 4", (4,)), Case("T = 9", (9,)),
            Case("T = 0 raises ValueError", (0,), raises=(ValueError,))]


def _mha_params(rng, d, bias=True):
    params = {f"W_{n}": _t(rng, d, d) / math.sqrt(d) for n in "qkvo"}
    if bias:
        params.update({f"b_{n}": _t(rng, d) * 0.1 for n in "qkvo"})
    return params


def _mha_cases(rng, hidden):
    if hidden:
        T, B, h = int(rng.integers(2, 7)), int(rng.integers(1, 4)), int(rng.integers(2, 5))
        d = h * int(rng.integers(2, 5))
        return [Case("hidden: random x, T >= 2, several heads", (_t(rng, T, B, d), _mha_params(rng, d), h), hidden=True),
                Case("hidden: causal mask, several heads", (_t(rng, T, B, d), _mha_params(rng, d), h, causal_mask(T)), hidden=True)]
    return [Case("T=5, B=2, d_model=8, 2 heads", (_t(rng, 5, 2, 8), _mha_params(rng, 8), 2)),
            Case("one head (plain attention with projections)", (_t(rng, 4, 1, 6), _mha_params(rng, 6), 1)),
            Case("T = 1", (_t(rng, 1, 3, 4), _mha_params(rng, 4), 2)),
            Case("no biases", (_t(rng, 3, 2, 8), _mha_params(rng, 8, bias=False), 4)),
            Case("causal mask, 4 heads", (_t(rng, 6, 2, 8), _mha_params(rng, 8), 4, causal_mask(6)))]


def _sdpa_unscaled(q, k, v, mask=None):
    return scaled_dot_product_attention(q * math.sqrt(q.shape[-1]), k, v, mask)


def _sdpa_scaled_by_d(q, k, v, mask=None):
    return scaled_dot_product_attention(q / math.sqrt(q.shape[-1]), k, v, mask)


def _sdpa_softmax_over_queries(q, k, v, mask=None):
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
    weights = torch.softmax(scores, dim=-2)
    return weights @ v, weights


def _sdpa_nan_rows(q, k, v, mask=None):
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf"))
    weights = torch.softmax(scores, dim=-1)
    return weights @ v, weights


def _sdpa_mask_after_softmax(q, k, v, mask=None):
    weights = torch.softmax(q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1]), dim=-1)
    if mask is not None:
        weights = weights * mask
    return weights @ v, weights


def _mha_scaled_by_d_model(x, params, n_heads, mask=None):
    shrink = 1 / math.sqrt(n_heads)  # sqrt(d_model) = sqrt(d_k) * sqrt(n_heads)
    scaled = {**params, "W_q": params["W_q"] * shrink}
    if "b_q" in params:
        scaled["b_q"] = params["b_q"] * shrink
    return multi_head_attention(x, scaled, n_heads, mask)


def _mha_without_output_projection(x, params, n_heads, mask=None):
    identity = {**params, "W_o": torch.eye(x.shape[-1], dtype=x.dtype)}
    identity.pop("b_o", None)
    return multi_head_attention(x, identity, n_heads, mask)


def _mha_heads_misassigned(x, params, n_heads, mask=None):
    out, weights = multi_head_attention(x, params, 1, mask)
    return out, weights.expand(-1, n_heads, -1, -1)


EXERCISES = [
    Exercise(
        name="scaled_dot_product_attention", reference=scaled_dot_product_attention, points=3, make_cases=_sdpa_cases,
        select=_numpy, output_names=("output", "weights"),
        hints=[
            Hint(_sdpa_unscaled, "divide the scores by sqrt(d_k)"),
            Hint(_sdpa_scaled_by_d, "scale by sqrt(d_k), not by d_k"),
            Hint(_sdpa_softmax_over_queries, "the softmax runs over the keys (the last axis): each query's weights sum to 1"),
            Hint(lambda q, k, v, m=None: scaled_dot_product_attention(q, k, v, None if m is None else ~m),
                 "mask True means 'may attend': block where the mask is False"),
            Hint(_sdpa_nan_rows, "a query whose keys are all masked gets NaN from the softmax: make those weights 0 (torch.nan_to_num)"),
            Hint(_sdpa_mask_after_softmax, "mask the *scores* before the softmax (fill with -inf), so each row's weights still sum to 1"),
        ],
    ),
    Exercise(
        name="causal_mask", reference=causal_mask, points=1, make_cases=_causal_cases, select=_numpy,
        hints=[
            Hint(lambda T: causal_mask(T).T, "position t may attend to the past and itself (j <= t), not the future"),
            Hint(lambda T: torch.tril(torch.ones(T, T, dtype=torch.bool), diagonal=-1), "each position may attend to itself too"),
            Hint(lambda T: ~causal_mask(T), "your mask is inverted: True means 'may attend', so True where j <= t"),
            Hint(lambda T: causal_mask(T).double(), "return a boolean mask (dtype torch.bool), not numbers"),
        ],
    ),
    Exercise(
        name="multi_head_attention", reference=multi_head_attention, points=3, make_cases=_mha_cases,
        select=_numpy, output_names=("output", "weights"),
        hints=[
            Hint(_mha_without_output_projection, "after concatenating the heads, apply the output projection W_o (and b_o)"),
            Hint(_mha_heads_misassigned, "split d_model into n_heads heads of d_model // n_heads features each"),
            Hint(lambda x, p, h, m=None: multi_head_attention(x, {k: v for k, v in p.items() if k.startswith("W_")}, h, m),
                 "add the biases b_q, b_k, b_v (and b_o) after each projection"),
            Hint(_mha_scaled_by_d_model, "each head scales its scores by sqrt(d_k), d_k = d_model // n_heads, not by sqrt(d_model)"),
        ],
    ),
]
