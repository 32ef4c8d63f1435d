"""Plausible wrong implementations of every graded function: each must lose marks on its exercise.

Kept beside the tests (not in course_lib) so learners never import them by accident.
"""
import numpy as np

from course_lib.sequences import pad_batch as _pad_ref


def _named(name):
    def wrap(fn):
        fn.__name__ = name
        return fn
    return wrap


# running_mean ------------------------------------------------------------------------------------
@_named("running_mean")
def running_sum(x):
    return np.cumsum(np.asarray(x, float), axis=0)


@_named("running_mean")
def running_mean_over_batch(x):
    x = np.asarray(x, float)
    if x.ndim != 2:
        raise ValueError("x must be 2-D")
    return np.cumsum(x, axis=1) / np.arange(1, x.shape[1] + 1)


@_named("running_mean")
def running_mean_without_validation(x):
    x = np.asarray(x, float)
    return np.cumsum(x, axis=0) / np.arange(1, len(x) + 1).reshape((-1,) + (1,) * (x.ndim - 1))


@_named("running_mean")
def running_mean_off_by_one(x):
    x = np.asarray(x, float)
    if x.ndim != 2:
        raise ValueError("x must be 2-D")
    return np.cumsum(x, axis=0) / np.maximum(np.arange(len(x)), 1)[:, None]


# one_hot -----------------------------------------------------------------------------------------
@_named("one_hot")
def one_hot_transposed(indices, vocab_size):
    return np.eye(vocab_size)[np.asarray(indices)].T


@_named("one_hot")
def one_hot_no_range_check(indices, vocab_size):
    indices = np.asarray(indices)
    if not np.issubdtype(indices.dtype, np.integer):
        raise TypeError("indices must be integers")
    return np.eye(vocab_size)[indices]  # a negative index silently picks the last row


@_named("one_hot")
def one_hot_integer_dtype(indices, vocab_size):
    indices = np.asarray(indices)
    if not np.issubdtype(indices.dtype, np.integer):
        raise TypeError("indices must be integers")
    if indices.size and (indices.min() < 0 or indices.max() >= vocab_size):
        raise ValueError("indices out of range")
    return np.eye(vocab_size, dtype=np.int64)[indices]


@_named("one_hot")
def one_hot_flattened(indices, vocab_size):
    indices = np.asarray(indices).ravel()
    if indices.size and (indices.min() < 0 or indices.max() >= vocab_size):
        raise ValueError("indices out of range")
    return np.eye(vocab_size)[indices]


# next_step_pairs ---------------------------------------------------------------------------------
@_named("next_step_pairs")
def pairs_swapped(sequence):
    sequence = np.asarray(sequence)
    if len(sequence) < 2:
        raise ValueError("too short")
    return sequence[1:], sequence[:-1]


@_named("next_step_pairs")
def pairs_last_axis(sequence):
    sequence = np.asarray(sequence)
    if len(sequence) < 2:
        raise ValueError("too short")
    return sequence[..., :-1], sequence[..., 1:]


@_named("next_step_pairs")
def pairs_not_shifted(sequence):
    sequence = np.asarray(sequence)
    if len(sequence) < 2:
        raise ValueError("too short")
    return sequence, sequence


@_named("next_step_pairs")
def pairs_no_length_check(sequence):
    sequence = np.asarray(sequence)
    return sequence[:-1], sequence[1:]


# pad_batch ---------------------------------------------------------------------------------------
@_named("pad_batch")
def pad_batch_first(sequences, pad_value=0):
    padded, mask = _pad_ref(sequences, pad_value)
    return padded.T, mask.T


@_named("pad_batch")
def pad_mask_inverted(sequences, pad_value=0):
    padded, mask = _pad_ref(sequences, pad_value)
    return padded, ~mask


@_named("pad_batch")
def pad_ignores_pad_value(sequences, pad_value=0):
    padded, mask = _pad_ref(sequences, 0)
    return padded, mask


@_named("pad_batch")
def pad_float_mask(sequences, pad_value=0):
    padded, mask = _pad_ref(sequences, pad_value)
    return padded, mask.astype(float)


# rnn_step ----------------------------------------------------------------------------------------
@_named("rnn_step")
def step_transposed_W_hh(x_t, h_prev, W_xh, W_hh, b_h):
    return np.tanh(x_t @ W_xh + h_prev @ W_hh.T + b_h), None


@_named("rnn_step")
def step_without_bias(x_t, h_prev, W_xh, W_hh, b_h):
    return np.tanh(x_t @ W_xh + h_prev @ W_hh), None


@_named("rnn_step")
def step_relu(x_t, h_prev, W_xh, W_hh, b_h):
    return np.maximum(0, x_t @ W_xh + h_prev @ W_hh + b_h), None


@_named("rnn_step")
def step_returns_bare_array(x_t, h_prev, W_xh, W_hh, b_h):
    return np.tanh(x_t @ W_xh + h_prev @ W_hh + b_h)  # forgot the cache: a (B, H) array, not a tuple


# rnn_forward -------------------------------------------------------------------------------------
@_named("rnn_forward")
def forward_reusing_h0(x, h0, W_xh, W_hh, b_h):
    return np.stack([np.tanh(x_t @ W_xh + h0 @ W_hh + b_h) for x_t in x]), None


@_named("rnn_forward")
def forward_including_h0(x, h0, W_xh, W_hh, b_h):
    hs, h = [h0], h0
    for x_t in x:
        h = np.tanh(x_t @ W_xh + h @ W_hh + b_h)
        hs.append(h)
    return np.stack(hs), None  # (T + 1, B, H)


@_named("rnn_forward")
def forward_time_reversed(x, h0, W_xh, W_hh, b_h):
    hs, h = [], h0
    for x_t in x[::-1]:
        h = np.tanh(x_t @ W_xh + h @ W_hh + b_h)
        hs.append(h)
    return np.stack(hs[::-1]), None


@_named("rnn_forward")
def forward_batch_first(x, h0, W_xh, W_hh, b_h):
    x = np.asarray(x).transpose(1, 0, 2)  # treats axis 0 as the batch
    hs, h = [], np.zeros((x.shape[0], W_hh.shape[0]))
    for t in range(x.shape[1]):
        h = np.tanh(x[:, t] @ W_xh + h @ W_hh + b_h)
        hs.append(h)
    return np.stack(hs, axis=1), None


# rnn_logits --------------------------------------------------------------------------------------
@_named("rnn_logits")
def logits_without_bias(hs, W_hy, b_y):
    return np.asarray(hs) @ W_hy


@_named("rnn_logits")
def logits_softmaxed(hs, W_hy, b_y):
    z = np.asarray(hs) @ W_hy + b_y
    return np.exp(z) / np.exp(z).sum(-1, keepdims=True)


@_named("rnn_logits")
def logits_last_step_only(hs, W_hy, b_y):
    return np.asarray(hs)[-1] @ W_hy + b_y


# sequence_loss -----------------------------------------------------------------------------------
def _log_softmax(z, axis=-1):
    z = z - z.max(axis=axis, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=axis, keepdims=True))


@_named("sequence_loss")
def loss_mean_everything(logits, targets):
    logp = _log_softmax(np.asarray(logits, float))
    return float(-np.take_along_axis(logp, np.asarray(targets)[..., None], -1).mean())


@_named("sequence_loss")
def loss_unstable(logits, targets):
    z = np.asarray(logits, float)
    logp = z - np.log(np.exp(z).sum(-1, keepdims=True))
    return float(-np.take_along_axis(logp, np.asarray(targets)[..., None], -1).sum() / z.shape[1])


@_named("sequence_loss")
def loss_summed_over_batch(logits, targets):
    logp = _log_softmax(np.asarray(logits, float))
    return float(-np.take_along_axis(logp, np.asarray(targets)[..., None], -1).sum())


@_named("sequence_loss")
def loss_no_target_check(logits, targets):
    logp = _log_softmax(np.asarray(logits, float))
    t = np.clip(np.asarray(targets), 0, logp.shape[-1] - 1)  # silently clamps bad targets
    return float(-np.take_along_axis(logp, t[..., None], -1).sum() / logp.shape[1])


# chapter 03 --------------------------------------------------------------------------------------
@_named("rnn_step_backward")
def step_backward_no_tanh_derivative(dh_next, cache):
    x_t, h_prev, W_xh, W_hh, h_t = cache
    da = dh_next
    return {"x_t": da @ W_xh.T, "h_prev": da @ W_hh.T, "W_xh": x_t.T @ da, "W_hh": h_prev.T @ da, "b_h": da.sum(0)}


@_named("rnn_step_backward")
def step_backward_transposed_weight_grads(dh_next, cache):
    x_t, h_prev, W_xh, W_hh, h_t = cache
    da = dh_next * (1 - h_t ** 2)
    return {"x_t": da @ W_xh.T, "h_prev": da @ W_hh.T, "W_xh": x_t.T @ da, "W_hh": (h_prev.T @ da).T, "b_h": da.sum(0)}


@_named("rnn_step_backward")
def step_backward_bias_mean(dh_next, cache):
    x_t, h_prev, W_xh, W_hh, h_t = cache
    da = dh_next * (1 - h_t ** 2)
    return {"x_t": da @ W_xh.T, "h_prev": da @ W_hh.T, "W_xh": x_t.T @ da, "W_hh": h_prev.T @ da, "b_h": da.mean(0)}


def _bptt(dhs, cache, **mistakes):
    from course_lib.checks.ch03_bptt import _backward_with  # the hints' version, with mistakes switched on
    return _backward_with(dhs, cache, **mistakes)


@_named("rnn_backward")
def backward_not_carried(dhs, cache):
    return _bptt(dhs, cache, carry=False)


@_named("rnn_backward")
def backward_overwrites(dhs, cache):
    return _bptt(dhs, cache, accumulate=False)


@_named("rnn_backward")
def backward_forward_order(dhs, cache):
    return _bptt(dhs, cache, reverse=False)


@_named("rnn_backward")
def backward_without_h0(dhs, cache):
    grads = _bptt(dhs, cache)
    del grads["h0"]
    return grads


@_named("logits_backward")
def logits_backward_bias_mean(dlogits, cache):
    hs, W_hy = cache
    return {"hs": dlogits @ W_hy.T, "W_hy": np.einsum("tbh,tbv->hv", hs, dlogits), "b_y": dlogits.mean((0, 1))}


@_named("logits_backward")
def logits_backward_last_step(dlogits, cache):
    hs, W_hy = cache
    return {"hs": dlogits @ W_hy.T, "W_hy": hs[-1].T @ dlogits[-1], "b_y": dlogits.sum((0, 1))}


@_named("logits_backward")
def logits_backward_untransposed(dlogits, cache):
    hs, W_hy = cache
    return {"hs": dlogits @ W_hy.T if W_hy.shape[0] != W_hy.shape[1] else dlogits @ W_hy,
            "W_hy": np.einsum("tbh,tbv->hv", hs, dlogits), "b_y": dlogits.sum((0, 1))}


@_named("numerical_gradient")
def numgrad_forward_difference(f, x, eps=1e-5):
    from course_lib.checks.ch03_bptt import _forward_difference  # the hint's own one-sided version
    return _forward_difference(f, x, eps)


@_named("numerical_gradient")
def numgrad_not_restored(f, x, eps=1e-5):
    x = np.array(x, dtype=float)
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        x[i] += eps
        plus = f(x)
        x[i] -= 2 * eps
        grad[i] = (plus - f(x)) / (2 * eps)  # x[i] is left at x - eps
    return grad


@_named("numerical_gradient")
def numgrad_wrong_denominator(f, x, eps=1e-5):
    x = np.array(x, dtype=float)
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + eps
        plus = f(x)
        x[i] = old - eps
        grad[i] = (plus - f(x)) / eps
        x[i] = old
    return grad


@_named("relative_error")
def relerr_no_floor(a, b):
    a, b = np.asarray(a, float), np.asarray(b, float)
    with np.errstate(all="ignore"):
        return float(np.max(np.abs(a - b) / (np.abs(a) + np.abs(b))))


@_named("relative_error")
def relerr_mean(a, b):
    a, b = np.asarray(a, float), np.asarray(b, float)
    return float(np.mean(np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b))))


@_named("relative_error")
def relerr_absolute(a, b):
    return float(np.max(np.abs(np.asarray(a, float) - np.asarray(b, float))))


# chapter 04 --------------------------------------------------------------------------------------
@_named("spectral_radius")
def radius_is_spectral_norm(W):
    return float(np.linalg.norm(W, 2))


@_named("spectral_radius")
def radius_real_part(W):
    if np.shape(W)[0] != np.shape(W)[1]:
        raise ValueError("W must be square")
    return float(np.max(np.real(np.linalg.eigvals(W))))


@_named("spectral_radius")
def radius_largest_entry(W):
    if np.shape(W)[0] != np.shape(W)[1]:
        raise ValueError("W must be square")
    return float(np.max(np.abs(W)))


@_named("clip_grad_norm")
def clip_each_array(grads, max_norm):
    from course_lib.checks.ch04_gradients import _clip_each
    return _clip_each(grads, max_norm)


@_named("clip_grad_norm")
def clip_returns_norm_after(grads, max_norm):
    from course_lib.gradients import clip_grad_norm
    clipped, norm = clip_grad_norm(grads, max_norm)
    return clipped, min(norm, max_norm)


@_named("clip_grad_norm")
def clip_always_rescales(grads, max_norm):
    norm = float(np.sqrt(sum(np.sum(g ** 2) for g in grads.values())))
    return {k: g * max_norm / norm for k, g in grads.items()}, norm  # also scales small gradients up


@_named("hidden_jacobian_norms")
def jacobian_frobenius(x, h0, W_xh, W_hh, b_h):
    from course_lib.checks.ch04_gradients import _jacobian_norms_with
    if np.shape(x)[1] != 1:
        raise ValueError("one sequence only")
    return _jacobian_norms_with(x, h0, W_xh, W_hh, b_h, norm="fro")


@_named("hidden_jacobian_norms")
def jacobian_without_tanh(x, h0, W_xh, W_hh, b_h):
    from course_lib.checks.ch04_gradients import _jacobian_norms_with
    if np.shape(x)[1] != 1:
        raise ValueError("one sequence only")
    return _jacobian_norms_with(x, h0, W_xh, W_hh, b_h, derivative=False)


@_named("hidden_jacobian_norms")
def jacobian_reversed(x, h0, W_xh, W_hh, b_h):
    from course_lib.gradients import hidden_jacobian_norms
    return hidden_jacobian_norms(x, h0, W_xh, W_hh, b_h)[::-1]


# chapter 05 --------------------------------------------------------------------------------------
def _lstm(x, h, c, W, b, **kw):
    from course_lib.checks.ch05_lstm import _step_with
    H = np.shape(W)[1] // 4
    if np.shape(W)[0] != np.shape(x)[1] + H:
        raise ValueError("W has the wrong shape")
    return _step_with(x, h, c, W, b, **kw)


@_named("lstm_step")
def lstm_cs231n_order(x_t, h_prev, c_prev, W, b):
    return _lstm(x_t, h_prev, c_prev, W, b, order="ifog")


@_named("lstm_step")
def lstm_sigmoid_candidate(x_t, h_prev, c_prev, W, b):
    from course_lib.lstm import sigmoid
    return _lstm(x_t, h_prev, c_prev, W, b, candidate=sigmoid)


@_named("lstm_step")
def lstm_h_without_tanh(x_t, h_prev, c_prev, W, b):
    return _lstm(x_t, h_prev, c_prev, W, b, use_c_in_h=False)


@_named("lstm_step")
def lstm_forgets_nothing(x_t, h_prev, c_prev, W, b):
    h, c, cache = _lstm(x_t, h_prev, c_prev, W, b)
    from course_lib.lstm import lstm_step
    _, _, ref = lstm_step(x_t, h_prev, c_prev, W, b)
    c = c_prev + ref["i"] * ref["g"]  # no forget gate on the old cell state
    return ref["o"] * np.tanh(c), c, cache


def _forward_loop(x, h, c, W, b, reverse=False):
    from course_lib.lstm import lstm_step
    hs = []
    steps = range(len(x) - 1, -1, -1) if reverse else range(len(x))
    for t in steps:
        h, c, _ = lstm_step(x[t], h, c, W, b)
        hs.append(h)
    return np.stack(hs[::-1] if reverse else hs), (h, c)


@_named("lstm_forward")
def lstm_forward_ignores_c0(x, h0, c0, W, b):
    return _forward_loop(x, h0, np.zeros_like(c0), W, b)


@_named("lstm_forward")
def lstm_forward_reversed(x, h0, c0, W, b):
    return _forward_loop(x, h0, c0, W, b, reverse=True)


@_named("lstm_forward")
def lstm_forward_no_final_state(x, h0, c0, W, b):
    hs, _ = _forward_loop(x, h0, c0, W, b)
    return hs, hs[-1]


# chapter 08 --------------------------------------------------------------------------------------
@_named("sinusoidal_positions")
def pe_sin_cos_swapped(T, d_model):
    from course_lib.checks.ch08_positions import _pe_swapped
    return _pe_swapped(T, d_model)


@_named("sinusoidal_positions")
def pe_base_1000(T, d_model):
    if d_model % 2 or T < 1:
        raise ValueError("bad sizes")
    t, w = np.arange(T)[:, None], 1000.0 ** (-np.arange(0, d_model, 2) / d_model)
    pe = np.zeros((T, d_model))
    pe[:, 0::2], pe[:, 1::2] = np.sin(t * w), np.cos(t * w)
    return pe


@_named("sinusoidal_positions")
def pe_positions_from_one(T, d_model):
    if d_model % 2 or T < 1:
        raise ValueError("bad sizes")
    t, w = np.arange(1, T + 1)[:, None], 10000.0 ** (-np.arange(0, d_model, 2) / d_model)
    pe = np.zeros((T, d_model))
    pe[:, 0::2], pe[:, 1::2] = np.sin(t * w), np.cos(t * w)
    return pe


@_named("is_permutation_equivariant")
def equivariant_always(f, x, rng):
    return True


@_named("is_permutation_equivariant")
def equivariant_output_not_permuted(f, x, rng):
    import torch
    perm = torch.randperm(x.shape[0], generator=rng)
    return bool(torch.allclose(f(x[perm]), f(x), atol=1e-5))


@_named("is_permutation_equivariant")
def equivariant_batch_axis(f, x, rng):
    import torch
    perm = torch.randperm(x.shape[1], generator=rng)
    return bool(torch.allclose(f(x[:, perm]), f(x)[:, perm], atol=1e-5))


# chapter 07 --------------------------------------------------------------------------------------
@_named("sequence_accuracy")
def seqacc_token_level(pred, target, mask):
    import torch
    mask = torch.as_tensor(mask)
    return float(((torch.as_tensor(pred) == torch.as_tensor(target)) & mask).sum() / mask.sum())


@_named("sequence_accuracy")
def seqacc_ignores_mask(pred, target, mask):
    import torch
    return float((torch.as_tensor(pred) == torch.as_tensor(target)).all(0).float().mean())


@_named("sequence_accuracy")
def seqacc_mask_inverted(pred, target, mask):
    import torch
    correct = (torch.as_tensor(pred) == torch.as_tensor(target)) | torch.as_tensor(mask)
    return float(correct.all(0).float().mean())


@_named("greedy_decode")
def decode_without_feedback(step, state, start_tokens, max_len):
    from course_lib.checks.ch07_limits import _decode_without_feedback
    return _decode_without_feedback(step, state, start_tokens, max_len)


@_named("greedy_decode")
def decode_with_start(step, state, start_tokens, max_len):
    from course_lib.checks.ch07_limits import _decode_with_start
    return _decode_with_start(step, state, start_tokens, max_len)


@_named("greedy_decode")
def decode_state_not_carried(step, state, start_tokens, max_len):
    import torch
    tokens, out = start_tokens, []
    for _ in range(max_len):
        logits, _ = step(tokens, state)  # the new state is dropped
        tokens = logits.argmax(-1)
        out.append(tokens)
    return torch.stack(out)


# chapter 06 --------------------------------------------------------------------------------------
@_named("bits_per_char")
def bits_in_nats(logits, targets):
    from course_lib.checks.ch06_applications import _nats
    return _nats(logits, targets)


@_named("bits_per_char")
def bits_log10(logits, targets):
    import math
    return bits_in_nats(logits, targets) / math.log(10)


@_named("bits_per_char")
def bits_of_last_step_only(logits, targets):
    from course_lib.language_model import bits_per_char
    return bits_per_char(logits[-1:], targets[-1:])


@_named("sample_next")
def sample_times_temperature(logits, temperature, rng):
    from course_lib.checks.ch06_applications import _times_temperature
    return _times_temperature(logits, temperature, rng)


@_named("sample_next")
def sample_uniform(logits, temperature, rng):
    import torch
    if not temperature > 0:
        raise ValueError("temperature must be > 0")
    return torch.randint(0, logits.shape[-1], logits.shape[:-1], generator=rng)


@_named("sample_next")
def sample_accepts_zero_temperature(logits, temperature, rng):
    import torch
    probs = torch.softmax(logits.double() / max(temperature, 1e-9), -1)
    return torch.multinomial(probs.reshape(-1, probs.shape[-1]), 1, generator=rng).reshape(probs.shape[:-1])


@_named("sample_next")
def sample_softmax_over_batch(logits, temperature, rng):
    import torch
    if not temperature > 0:
        raise ValueError("temperature must be > 0")
    probs = torch.softmax(logits.double() / temperature, 0).T.contiguous()
    return torch.multinomial(probs, logits.shape[0], replacement=True, generator=rng)[0]


@_named("generate")
def generate_no_feedback(model, prompt, n, temperature, rng):
    from course_lib.checks.ch06_applications import _no_feedback
    return _no_feedback(model, prompt, n, temperature, rng)


@_named("generate")
def generate_fresh_state(model, prompt, n, temperature, rng):
    from course_lib.checks.ch06_applications import _fresh_state
    return _fresh_state(model, prompt, n, temperature, rng)


@_named("generate")
def generate_one_too_few(model, prompt, n, temperature, rng):
    from course_lib.language_model import generate
    return generate(model, prompt, n, temperature, rng)[:-1]


@_named("generate")
def generate_greedy(model, prompt, n, temperature, rng):
    from course_lib.language_model import generate
    return generate(model, prompt, n, min(temperature, 1e-4) if temperature > 0 else temperature, rng)


# chapter 09 --------------------------------------------------------------------------------------
@_named("scaled_dot_product_attention")
def sdpa_unscaled(q, k, v, mask=None):
    from course_lib.checks.ch09_attention import _sdpa_unscaled
    return _sdpa_unscaled(q, k, v, mask)


@_named("scaled_dot_product_attention")
def sdpa_softmax_over_queries(q, k, v, mask=None):
    from course_lib.checks.ch09_attention import _sdpa_softmax_over_queries
    return _sdpa_softmax_over_queries(q, k, v, mask)


@_named("scaled_dot_product_attention")
def sdpa_nan_rows(q, k, v, mask=None):
    import math
    import torch
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf"))
    weights = torch.softmax(scores, -1)  # a fully masked row becomes NaN
    return weights @ v, weights


@_named("causal_mask")
def causal_future(T):
    import torch
    return torch.triu(torch.ones(T, T, dtype=torch.bool))


@_named("causal_mask")
def causal_no_self(T):
    import torch
    return torch.tril(torch.ones(T, T, dtype=torch.bool), diagonal=-1)


@_named("causal_mask")
def causal_float(T):
    import torch
    if T < 1:
        raise ValueError("T must be positive")
    return torch.tril(torch.ones(T, T))


@_named("multi_head_attention")
def mha_no_output_projection(x, params, n_heads, mask=None):
    from course_lib.checks.ch09_attention import _mha_without_output_projection
    return _mha_without_output_projection(x, params, n_heads, mask)


@_named("multi_head_attention")
def mha_one_head(x, params, n_heads, mask=None):
    from course_lib.checks.ch09_attention import _mha_heads_misassigned
    return _mha_heads_misassigned(x, params, n_heads, mask)


@_named("multi_head_attention")
def mha_no_biases(x, params, n_heads, mask=None):
    from course_lib.attention import multi_head_attention
    return multi_head_attention(x, {k: v for k, v in params.items() if k.startswith("W")}, n_heads, mask)


# chapter 10 --------------------------------------------------------------------------------------
@_named("layer_norm")
def norm_unbiased(x, gamma, beta, eps=1e-5):
    from course_lib.checks.ch10_capstone import _unbiased_variance
    return _unbiased_variance(x, gamma, beta, eps)


@_named("layer_norm")
def norm_over_time(x, gamma, beta, eps=1e-5):
    from course_lib.checks.ch10_capstone import _over_time
    return _over_time(x, gamma, beta, eps)


@_named("layer_norm")
def norm_without_affine(x, gamma, beta, eps=1e-5):
    mean = x.mean(-1, keepdim=True)
    return (x - mean) / ((x - mean) ** 2).mean(-1, keepdim=True).add(eps).sqrt()


@_named("attention_block")
def block_post_norm(x, params, n_heads):
    from course_lib.checks.ch10_capstone import _post_norm
    return _post_norm(x, params, n_heads)


@_named("attention_block")
def block_not_causal(x, params, n_heads):
    from course_lib.checks.ch10_capstone import _not_causal
    return _not_causal(x, params, n_heads)


@_named("attention_block")
def block_without_attention_biases(x, params, n_heads):
    from course_lib.transformer import attention_block
    return attention_block(x, {k: v for k, v in params.items() if not k.startswith("b_")}, n_heads)



# sequence_loss_backward: each one makes one classic mistake (tests/test_checks.py checks its hint fires)
def _probs(logits, axis=-1):
    z = np.asarray(logits, float)
    e = np.exp(z - z.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def _onehot(logits, targets):
    return np.eye(np.shape(logits)[-1])[np.asarray(targets)]


@_named("sequence_loss_backward")
def loss_backward_without_batch_mean(logits, targets):
    return _probs(logits) - _onehot(logits, targets)


@_named("sequence_loss_backward")
def loss_backward_without_onehot(logits, targets):
    return _probs(logits) / np.shape(logits)[1]


@_named("sequence_loss_backward")
def loss_backward_log_softmax(logits, targets):
    return (np.log(_probs(logits)) - _onehot(logits, targets)) / np.shape(logits)[1]


@_named("sequence_loss_backward")
def loss_backward_time_mean(logits, targets):
    T, B, _ = np.shape(logits)
    return (_probs(logits) - _onehot(logits, targets)) / (T * B)


@_named("sequence_loss_backward")
def loss_backward_softmax_over_batch(logits, targets):
    return (_probs(logits, axis=1) - _onehot(logits, targets)) / np.shape(logits)[1]


SEQUENCE_LOSS_BACKWARD_MISTAKES = {  # broken version -> words its hint must contain
    loss_backward_without_batch_mean: "divided by B",
    loss_backward_without_onehot: "subtract 1 at each target",
    loss_backward_log_softmax: "not log-softmax",
    loss_backward_time_mean: "do not divide by T",
    loss_backward_softmax_over_batch: "not over the batch",
}

BROKEN = {
    "running_mean": [running_sum, running_mean_over_batch, running_mean_without_validation, running_mean_off_by_one],
    "one_hot": [one_hot_transposed, one_hot_no_range_check, one_hot_integer_dtype, one_hot_flattened],
    "next_step_pairs": [pairs_swapped, pairs_last_axis, pairs_not_shifted, pairs_no_length_check],
    "pad_batch": [pad_batch_first, pad_mask_inverted, pad_ignores_pad_value, pad_float_mask],
    "rnn_step": [step_transposed_W_hh, step_without_bias, step_relu, step_returns_bare_array],
    "rnn_forward": [forward_reusing_h0, forward_including_h0, forward_time_reversed, forward_batch_first],
    "rnn_logits": [logits_without_bias, logits_softmaxed, logits_last_step_only],
    "sequence_loss": [loss_mean_everything, loss_unstable, loss_summed_over_batch, loss_no_target_check],
    "rnn_step_backward": [step_backward_no_tanh_derivative, step_backward_transposed_weight_grads, step_backward_bias_mean],
    "rnn_backward": [backward_not_carried, backward_overwrites, backward_forward_order, backward_without_h0],
    "logits_backward": [logits_backward_bias_mean, logits_backward_last_step, logits_backward_untransposed],
    "numerical_gradient": [numgrad_forward_difference, numgrad_not_restored, numgrad_wrong_denominator],
    "relative_error": [relerr_no_floor, relerr_mean, relerr_absolute],
    "sequence_loss_backward": list(SEQUENCE_LOSS_BACKWARD_MISTAKES),
    "spectral_radius": [radius_is_spectral_norm, radius_real_part, radius_largest_entry],
    "clip_grad_norm": [clip_each_array, clip_returns_norm_after, clip_always_rescales],
    "hidden_jacobian_norms": [jacobian_frobenius, jacobian_without_tanh, jacobian_reversed],
    "lstm_step": [lstm_cs231n_order, lstm_sigmoid_candidate, lstm_h_without_tanh, lstm_forgets_nothing],
    "lstm_forward": [lstm_forward_ignores_c0, lstm_forward_reversed, lstm_forward_no_final_state],
    "sinusoidal_positions": [pe_sin_cos_swapped, pe_base_1000, pe_positions_from_one],
    "is_permutation_equivariant": [equivariant_always, equivariant_output_not_permuted, equivariant_batch_axis],
    "bits_per_char": [bits_in_nats, bits_log10, bits_of_last_step_only],
    "sample_next": [sample_times_temperature, sample_uniform, sample_accepts_zero_temperature, sample_softmax_over_batch],
    "generate": [generate_no_feedback, generate_fresh_state, generate_one_too_few, generate_greedy],
    "sequence_accuracy": [seqacc_token_level, seqacc_ignores_mask, seqacc_mask_inverted],
    "greedy_decode": [decode_without_feedback, decode_with_start, decode_state_not_carried],
    "scaled_dot_product_attention": [sdpa_unscaled, sdpa_softmax_over_queries, sdpa_nan_rows],
    "causal_mask": [causal_future, causal_no_self, causal_float],
    "multi_head_attention": [mha_no_output_projection, mha_one_head, mha_no_biases],
    "layer_norm": [norm_unbiased, norm_over_time, norm_without_affine],
    "attention_block": [block_post_norm, block_not_causal, block_without_attention_biases],
}
