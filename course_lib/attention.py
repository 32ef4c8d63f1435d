"""Chapter 09 — attention from scratch (torch).

Layouts as torch's: q: (..., T_q, d_k), k: (..., T_k, d_k), v: (..., T_k, d_v); leading axes are batch-like.
Masks are boolean with **True = may attend**, like torch.nn.functional.scaled_dot_product_attention's.
(torch.nn.MultiheadAttention uses the opposite meaning for attn_mask / key_padding_mask: True = blocked.)

    scores  = q @ k^T / sqrt(d_k)                 (..., T_q, T_k)
    weights = softmax(scores, over keys)          blocked positions get weight 0
    output  = weights @ v                         (..., T_q, d_v)
"""
import math

import torch


def causal_mask(T):
    """(T, T) bool: position t may attend to positions 0..t (itself and the past), True = may attend."""
    if isinstance(T, bool) or not isinstance(T, int) or T < 1:
        raise ValueError(f"T must be a positive integer, got {T!r}.")
    return torch.tril(torch.ones(T, T, dtype=torch.bool))


def scaled_dot_product_attention(q, k, v, mask=None):
    """returns (output (..., T_q, d_v), weights (..., T_q, T_k)).

    mask: bool, broadcastable to (..., T_q, T_k), True = may attend. A query whose every key is masked
    gets weights 0 and output 0 (not NaN).
    """
    if q.shape[-1] != k.shape[-1]:
        raise ValueError(f"q and k must share d_k (their last axis), got {tuple(q.shape)} and {tuple(k.shape)}.")
    if k.shape[-2] != v.shape[-2]:
        raise ValueError(f"k and v must have the same number of keys T_k, got {tuple(k.shape)} and {tuple(v.shape)}.")
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])          # (..., T_q, T_k)
    if mask is not None:
        mask = torch.as_tensor(mask, dtype=torch.bool, device=scores.device)
        scores = scores.masked_fill(~mask, float("-inf"))
    weights = torch.softmax(scores, dim=-1)
    weights = torch.nan_to_num(weights, nan=0.0)                         # rows with every key masked
    return weights @ v, weights


def split_heads(x, params, name, n_heads):
    """Project x (T, B, d_model) with W_{name} (+ b_{name}) and split it into heads: (B, n_heads, T, d_k)."""
    T, B, d_model = x.shape
    if d_model % n_heads:
        raise ValueError(f"n_heads = {n_heads} must divide d_model = {d_model}.")
    y = x @ params[f"W_{name}"]
    if params.get(f"b_{name}") is not None:
        y = y + params[f"b_{name}"]
    return y.reshape(T, B, n_heads, d_model // n_heads).permute(1, 2, 0, 3)


def merge_heads(heads, params):
    """heads (B, n_heads, T, d_k) side by side again, time-first, through W_o (+ b_o): (T, B, d_model)."""
    B, n_heads, T, d_k = heads.shape
    out = heads.permute(2, 0, 1, 3).reshape(T, B, n_heads * d_k) @ params["W_o"]
    return out if params.get("b_o") is None else out + params["b_o"]


def multi_head_attention(x, params, n_heads, mask=None):
    """Multi-head self-attention on a time-first sequence.

    x: (T, B, d_model); params: {"W_q", "W_k", "W_v", "W_o"}: (d_model, d_model), optional biases
    "b_q", "b_k", "b_v", "b_o": (d_model,); n_heads divides d_model; mask: bool (T, T) or (B, T, T),
    True = may attend. returns (output (T, B, d_model), weights (B, n_heads, T, T)).
    """
    q, k, v = (split_heads(x, params, name, n_heads) for name in "qkv")   # each (B, n_heads, T, d_k)
    if mask is not None:
        mask = torch.as_tensor(mask, dtype=torch.bool)
        mask = mask[:, None] if mask.dim() == 3 else mask                # (B, 1, T, T): the same for every head
    heads, weights = scaled_dot_product_attention(q, k, v, mask)        # (B, n_heads, T, d_k)
    return merge_heads(heads, params), weights


def init_attention_params(d_model, generator, bias=True):
    """Random projections W_q, W_k, W_v, W_o: (d_model, d_model) (and biases) for multi_head_attention."""
    scale = 1.0 / math.sqrt(d_model)
    params = {f"W_{n}": torch.randn(d_model, d_model, generator=generator) * scale for n in "qkvo"}
    if bias:
        params.update({f"b_{n}": torch.randn(d_model, generator=generator) * 0.1 for n in "qkvo"})
    return params


def torch_mha_from_params(params, n_heads):
    """A torch.nn.MultiheadAttention with the same weights. torch computes x @ W.T, so it gets transposes:
    in_proj_weight = [W_q.T; W_k.T; W_v.T], out_proj.weight = W_o.T."""
    d_model = params["W_q"].shape[0]
    mha = torch.nn.MultiheadAttention(d_model, n_heads, bias="b_q" in params, dtype=params["W_q"].dtype)
    with torch.no_grad():
        mha.in_proj_weight.copy_(torch.cat([params[f"W_{n}"].T for n in "qkv"]))
        mha.out_proj.weight.copy_(params["W_o"].T)
        if "b_q" in params:
            mha.in_proj_bias.copy_(torch.cat([params[f"b_{n}"] for n in "qkv"]))
            mha.out_proj.bias.copy_(params["b_o"])
    return mha


SMALL_GRADIENT = 1e-3  # a query whose |dL/dq| is below this barely moves in a training step


def softmax_saturation(d_k, scaled, T_k=32, n=256, generator=None):
    """How peaked attention weights get at width d_k, and what that does to the gradients, for n random
    unit-variance queries q: (n, 1, d_k) against keys k: (n, T_k, d_k) and the loss L = sum(weights * g)
    with a random upstream gradient g: (n, 1, T_k).

    The gradient reaching a query is dL/dq = (dL/dscores) @ k (times 1/sqrt(d_k) when scaled), with
    dL/dscores = w * (g - sum(w * g)): it vanishes where the softmax saturates (w one-hot), and is multiplied
    by keys of norm about sqrt(d_k) where it does not. returns a dict of floats:
    entropy (mean, nats), var_scores (variance of the raw q . k), mean_dq, median_dq (|dL/dq| over the n
    queries), share_small_dq (share of queries with |dL/dq| < SMALL_GRADIENT), median_dscores (|dL/dscores|).
    """
    generator = generator or torch.Generator().manual_seed(0)
    q = torch.randn(n, 1, d_k, generator=generator, dtype=torch.float64, requires_grad=True)
    k = torch.randn(n, T_k, d_k, generator=generator, dtype=torch.float64)
    raw = q @ k.transpose(-2, -1)                                         # (n, 1, T_k)
    scores = raw / math.sqrt(d_k) if scaled else raw
    scores.retain_grad()
    weights = torch.softmax(scores, dim=-1)
    entropy = -(weights * torch.log(weights.clamp_min(1e-300))).sum(-1).mean()
    g = torch.randn(n, 1, T_k, generator=generator, dtype=torch.float64)
    (weights * g).sum().backward()
    dq = q.grad.norm(dim=-1).flatten()                                    # (n,)
    dscores = scores.grad.norm(dim=-1).flatten()                          # (n,)
    return {"entropy": float(entropy.detach()), "var_scores": float(raw.detach().var()),
            "mean_dq": float(dq.mean()), "median_dq": float(dq.median()),
            "share_small_dq": float((dq < SMALL_GRADIENT).double().mean()), "median_dscores": float(dscores.median())}


class AttentionEncoder(torch.nn.Module):
    """A sequence encoder built on attention, for the memory benchmark: x (T, B, D) -> states (T, B, H).
    Linear input map + sinusoidal positions, then one causal multi-head self-attention layer with a
    residual connection (torch.nn.MultiheadAttention, shown equal to ours above)."""

    def __init__(self, D, H, n_heads=4):
        super().__init__()
        from course_lib.positions import sinusoidal_positions
        self.inp, self.attn, self.positions = torch.nn.Linear(D, H), torch.nn.MultiheadAttention(H, n_heads), sinusoidal_positions
        self.mlp = torch.nn.Sequential(torch.nn.Linear(H, H), torch.nn.ReLU(), torch.nn.Linear(H, H))

    def forward(self, x):
        T, _, _ = x.shape
        h = self.inp(x) + self.positions(T, self.inp.out_features)[:, None, :]
        blocked = ~causal_mask(T)                      # torch's MHA: True = may NOT attend (the opposite of ours)
        h = h + self.attn(h, h, h, attn_mask=blocked, need_weights=False)[0]
        return h + self.mlp(h)


def attention_encoder(D, H, n_heads=4):
    return AttentionEncoder(D, H, n_heads)
