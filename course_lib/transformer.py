"""Chapter 10 — a small decoder-only attention model, written once from the course's own pieces:
sinusoidal positions (chapter 08), causal multi-head self-attention (chapter 09), layer norm, an MLP and
residual connections. Shapes time-first: x: (T, B, d_model).

One block, pre-norm (the layout of GPT-2 and most models since: the residual path x is never normalised,
so gradients reach early layers undisturbed, like the LSTM's cell state):

    x = x + MHA(LN(x), causal mask)          attention_block
    x = x + relu(LN(x) @ W_1 + b_1) @ W_2 + b_2    mlp_block
"""
from dataclasses import dataclass, field

import torch

from course_lib.attention import (causal_mask, merge_heads, multi_head_attention, scaled_dot_product_attention,
                                  split_heads, torch_mha_from_params)
from course_lib.positions import sinusoidal_positions


def layer_norm(x, gamma, beta, eps=1e-5):
    """Normalise each vector over its last axis, then scale and shift.

    x: (..., d_model); gamma, beta: (d_model,). returns (x - mean) / sqrt(var + eps) * gamma + beta, where
    mean and the (biased, divide-by-d_model) variance are taken over the last axis.
    """
    if x.shape[-1:] != gamma.shape or gamma.shape != beta.shape:
        raise ValueError(f"gamma and beta must have shape ({x.shape[-1]},) to match x's last axis; got "
                         f"{tuple(gamma.shape)} and {tuple(beta.shape)}.")
    mean = x.mean(dim=-1, keepdim=True)
    var = ((x - mean) ** 2).mean(dim=-1, keepdim=True)
    return (x - mean) / torch.sqrt(var + eps) * gamma + beta


def attention_block(x, params, n_heads):
    """Pre-norm residual causal self-attention: x + MHA(LN(x)), each position seeing itself and the past.

    x: (T, B, d_model); params: "ln_gamma", "ln_beta": (d_model,) and multi_head_attention's "W_q", "W_k",
    "W_v", "W_o" (d_model, d_model) with optional biases "b_q" ... "b_o". returns (T, B, d_model).
    """
    normed = layer_norm(x, params["ln_gamma"], params["ln_beta"])
    out, _ = multi_head_attention(normed, params, n_heads, mask=causal_mask(x.shape[0]))
    return x + out


def mlp_block(x, params):
    """Pre-norm residual MLP applied at every position on its own: x + relu(LN(x) W_1 + b_1) W_2 + b_2.
    params: "ln_gamma", "ln_beta": (d_model,), "W_1": (d_model, d_ff), "b_1", "W_2": (d_ff, d_model), "b_2"."""
    normed = layer_norm(x, params["ln_gamma"], params["ln_beta"])
    return x + torch.relu(normed @ params["W_1"] + params["b_1"]) @ params["W_2"] + params["b_2"]


def init_block_params(d_model, generator, d_ff=None, dtype=torch.float32):
    """Random parameters of one block: (attention params, MLP params), as dicts of tensors."""
    d_ff = d_ff or 4 * d_model
    randn = lambda *shape, scale: torch.randn(*shape, generator=generator, dtype=dtype) * scale
    attention = {f"W_{n}": randn(d_model, d_model, scale=d_model ** -0.5) for n in "qkvo"}
    attention.update({f"b_{n}": torch.zeros(d_model, dtype=dtype) for n in "qkvo"})
    attention.update(ln_gamma=torch.ones(d_model, dtype=dtype), ln_beta=torch.zeros(d_model, dtype=dtype))
    mlp = {"W_1": randn(d_model, d_ff, scale=d_model ** -0.5), "b_1": torch.zeros(d_ff, dtype=dtype),
           "W_2": randn(d_ff, d_model, scale=d_ff ** -0.5), "b_2": torch.zeros(d_model, dtype=dtype),
           "ln_gamma": torch.ones(d_model, dtype=dtype), "ln_beta": torch.zeros(d_model, dtype=dtype)}
    return attention, mlp


def torch_attention_block(params, n_heads):
    """The same block from torch's own modules (nn.LayerNorm, nn.MultiheadAttention) and the same weights:
    the reference the course's attention_block is checked against. returns a function x -> (T, B, d_model)."""
    d_model = params["W_q"].shape[0]
    norm = torch.nn.LayerNorm(d_model, eps=1e-5, dtype=params["W_q"].dtype)
    with torch.no_grad():
        norm.weight.copy_(params["ln_gamma"])
        norm.bias.copy_(params["ln_beta"])
    mha = torch_mha_from_params({k: v for k, v in params.items() if not k.startswith("ln_")}, n_heads)

    def block(x):
        blocked = ~causal_mask(x.shape[0])  # torch's attn_mask: True = may NOT attend (the opposite of ours)
        h = norm(x)
        return x + mha(h, h, h, attn_mask=blocked, need_weights=False)[0]
    return block


class ParameterBlock(torch.nn.Module):
    """A functional block's parameters held as a module (names as init_block_params gives them)."""

    def __init__(self, params):
        super().__init__()
        for name in sorted(params):  # in name order, as the ParameterDict the stored results were trained with
            self.register_parameter(name, torch.nn.Parameter(params[name]))

    def params(self):
        return dict(self.named_parameters())


class AttentionBlock(ParameterBlock):
    """attention_block as a module."""

    def __init__(self, params, n_heads):
        super().__init__(params)
        self.n_heads = n_heads

    def forward(self, x):
        return attention_block(x, self.params(), self.n_heads)


class MLPBlock(ParameterBlock):
    """mlp_block as a module."""

    def forward(self, x):
        return mlp_block(x, self.params())


@dataclass
class KVCache:
    """What an attention model keeps while it generates: for each block, the keys and the values of every
    position read so far, each (B, n_heads, T_seen, d_k). A new position then costs one query against T_seen
    keys, O(T), instead of recomputing all T positions, O(T^2); the cache grows by one key and one value
    per block and position."""
    keys: list = field(default_factory=list)
    values: list = field(default_factory=list)

    def __len__(self):
        """Positions read so far."""
        return self.keys[0].shape[2] if self.keys else 0


def cached_attention_block(x, params, n_heads, keys=None, values=None):
    """attention_block for new positions x (T_new, B, d_model) that follow positions whose keys and values
    (B, n_heads, T_seen, d_k) are given (None: none yet): each new position attends to every earlier one and
    to the new ones up to itself. returns (output (T_new, B, d_model), all keys, all values)."""
    normed = layer_norm(x, params["ln_gamma"], params["ln_beta"])
    q, k, v = (split_heads(normed, params, name, n_heads) for name in "qkv")
    if keys is not None:
        k, v = torch.cat([keys, k], dim=2), torch.cat([values, v], dim=2)
    T_new, T_all = x.shape[0], k.shape[2]
    mask = torch.ones(T_new, T_all, dtype=torch.bool).tril(diagonal=T_all - T_new)  # causal, shifted by T_seen
    heads, _ = scaled_dot_product_attention(q, k, v, mask)
    return x + merge_heads(heads, params), k, v


class AttentionLM(torch.nn.Module):
    """Decoder-only attention language model: embedding + sinusoidal positions, `n_layers` blocks
    (attention_block, mlp_block), a final layer norm, a linear read-out.

    Training reads a window: `window_logits(x)`. Generation can keep a `KVCache`: `read_with_cache(x, cache)`
    reads new positions against the cached keys and values (up to `context` positions in all).
    forward(x (T, B) ids, state) -> (logits (T, B, V), state) is the interface chapter 06's char_lstm shares,
    used to score long held-out streams and by `generate`: its state is the last `context` ids seen, and it
    re-reads that window for every block of new ids (attention has no running summary).
    """

    def __init__(self, vocab_size, d_model=128, n_heads=4, n_layers=2, context=128, seed=0):
        super().__init__()
        g = torch.Generator().manual_seed(seed)
        self.n_heads, self.context, self.d_model = n_heads, context, d_model
        self.embed = torch.nn.Embedding(vocab_size, d_model)
        with torch.no_grad():
            self.embed.weight.copy_(torch.randn(vocab_size, d_model, generator=g))
        self.register_buffer("positions", sinusoidal_positions(context, d_model), persistent=False)
        blocks = [init_block_params(d_model, g) for _ in range(n_layers)]
        self.attention = torch.nn.ModuleList(AttentionBlock(a, n_heads) for a, _ in blocks)
        self.mlp = torch.nn.ModuleList(MLPBlock(m) for _, m in blocks)
        self.final_gamma = torch.nn.Parameter(torch.ones(d_model))
        self.final_beta = torch.nn.Parameter(torch.zeros(d_model))
        self.readout = torch.nn.Linear(d_model, vocab_size)

    def window_logits(self, x):
        """Logits (T, B, V) of a window x: (T, B) ids, T <= context, read from its start."""
        T = x.shape[0]
        h = self.embed(x) + self.positions[:T, None, :]
        for attention, mlp in zip(self.attention, self.mlp):
            h = mlp(attention(h))
        return self.readout(layer_norm(h, self.final_gamma, self.final_beta))

    def read_with_cache(self, x, cache):
        """Logits (T_new, B, V) of new ids x (T_new, B) that follow the positions `cache` holds (a KVCache,
        extended in place). Equal to window_logits of the whole sequence at those positions, within float
        rounding, while the sequence fits the context."""
        start = len(cache)
        if len(x) == 0:
            raise ValueError("x must hold at least one new id, shape (T_new, B) with T_new >= 1.")
        if start + len(x) > self.context:
            raise ValueError(f"the model has positions for context = {self.context} ids; the cache holds {start} "
                             f"and {len(x)} more were given.")
        h = self.embed(x) + self.positions[start:start + len(x), None, :]
        for layer, (attention, mlp) in enumerate(zip(self.attention, self.mlp)):
            cached = layer < len(cache.keys)
            seen = (cache.keys[layer], cache.values[layer]) if cached else (None, None)
            h, keys, values = cached_attention_block(h, attention.params(), self.n_heads, *seen)
            if cached:
                cache.keys[layer], cache.values[layer] = keys, values
            else:
                cache.keys.append(keys)
                cache.values.append(values)
            h = mlp(h)
        return self.readout(layer_norm(h, self.final_gamma, self.final_beta))

    def forward(self, x, state=None):
        if state is None and len(x) <= self.context:
            return self.window_logits(x), x[-self.context:]
        # Longer inputs (a held-out stream) or a continuation: blocks of context / 2 new ids, each read
        # after up to context / 2 ids of the past, so every prediction sees at least that much context.
        history = x[:0] if state is None else state
        step, out = max(self.context // 2, 1), []
        for start in range(0, len(x), step):
            block = x[start:start + step]
            keep = self.context - len(block)
            window = torch.cat([history[-keep:] if keep > 0 else history[:0], block])
            out.append(self.window_logits(window)[-len(block):])
            history = window
        return torch.cat(out), history[-self.context:]
