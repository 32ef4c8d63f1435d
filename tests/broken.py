"""Plausible wrong implementations of every graded function: each must lose marks on its exercise.

Kept beside the tests (not in course_lib) so learners never import them by accident.
"""
import numpy as np

from course_lib.sequences import pad_batch as _pad_ref


def _named(name, hint=None):
    """Name a wrong implementation after its exercise; `hint`: words of the Hint it must get, if any."""
    def wrap(fn):
        fn.__name__ = name
        fn.expected_hint = hint
        return fn
    return wrap


# running_mean ------------------------------------------------------------------------------------
@_named("running_mean", hint='running *sum*')
def running_sum(x):
    return np.cumsum(np.asarray(x, float), axis=0)


@_named("running_mean", hint='averaged along axis 1')
def running_mean_over_batch(x):
    x = np.asarray(x, float)
    if x.ndim != 2:
        raise ValueError("x must be 2-D")
    return np.cumsum(x, axis=1) / np.arange(1, x.shape[1] + 1)


@_named("running_mean")
def running_mean_without_validation(x):
    x = np.asarray(x, float)
    return np.cumsum(x, axis=0) / np.arange(1, len(x) + 1).reshape((-1,) + (1,) * (x.ndim - 1))


@_named("running_mean", hint='off by one')
def running_mean_off_by_one(x):
    x = np.asarray(x, float)
    if x.ndim != 2:
        raise ValueError("x must be 2-D")
    return np.cumsum(x, axis=0) / np.maximum(np.arange(len(x)), 1)[:, None]


# one_hot -----------------------------------------------------------------------------------------
@_named("one_hot", hint='transposed')
def one_hot_transposed(indices, vocab_size):
    return np.eye(vocab_size)[np.asarray(indices)].T


@_named("one_hot")
def one_hot_no_range_check(indices, vocab_size):
    indices = np.asarray(indices)
    if not np.issubdtype(indices.dtype, np.integer):
        raise TypeError("indices must be integers")
    return np.eye(vocab_size)[indices]  # a negative index silently picks the last row


@_named("one_hot", hint='float64 ones')
def one_hot_integer_dtype(indices, vocab_size):
    indices = np.asarray(indices)
    if not np.issubdtype(indices.dtype, np.integer):
        raise TypeError("indices must be integers")
    if indices.size and (indices.min() < 0 or indices.max() >= vocab_size):
        raise ValueError("indices out of range")
    return np.eye(vocab_size, dtype=np.int64)[indices]


@_named("one_hot", hint="keep the indices' shape")
def one_hot_flattened(indices, vocab_size):
    indices = np.asarray(indices).ravel()
    if indices.size and (indices.min() < 0 or indices.max() >= vocab_size):
        raise ValueError("indices out of range")
    return np.eye(vocab_size)[indices]


# next_step_pairs ---------------------------------------------------------------------------------
@_named("next_step_pairs", hint='swapped')
def pairs_swapped(sequence):
    sequence = np.asarray(sequence)
    if len(sequence) < 2:
        raise ValueError("too short")
    return sequence[1:], sequence[:-1]


@_named("next_step_pairs", hint='axis 1')
def pairs_last_axis(sequence):
    sequence = np.asarray(sequence)
    if len(sequence) < 2:
        raise ValueError("too short")
    return sequence[..., :-1], sequence[..., 1:]


@_named("next_step_pairs", hint='shifted by one step')
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
@_named("pad_batch", hint='batch-first')
def pad_batch_first(sequences, pad_value=0):
    padded, mask = _pad_ref(sequences, pad_value)
    return padded.T, mask.T


@_named("pad_batch", hint='inverted')
def pad_mask_inverted(sequences, pad_value=0):
    padded, mask = _pad_ref(sequences, pad_value)
    return padded, ~mask


@_named("pad_batch", hint='pad_value, not always 0')
def pad_ignores_pad_value(sequences, pad_value=0):
    padded, mask = _pad_ref(sequences, 0)
    return padded, mask


@_named("pad_batch", hint='booleans')
def pad_float_mask(sequences, pad_value=0):
    padded, mask = _pad_ref(sequences, pad_value)
    return padded, mask.astype(float)


# rnn_step ----------------------------------------------------------------------------------------
@_named("rnn_step", hint='W_hh is transposed')
def step_transposed_W_hh(x_t, h_prev, W_xh, W_hh, b_h):
    return np.tanh(x_t @ W_xh + h_prev @ W_hh.T + b_h), None


@_named("rnn_step", hint='bias b_h is missing')
def step_without_bias(x_t, h_prev, W_xh, W_hh, b_h):
    return np.tanh(x_t @ W_xh + h_prev @ W_hh), None


@_named("rnn_step")
def step_relu(x_t, h_prev, W_xh, W_hh, b_h):
    return np.maximum(0, x_t @ W_xh + h_prev @ W_hh + b_h), None


@_named("rnn_step")
def step_returns_bare_array(x_t, h_prev, W_xh, W_hh, b_h):
    return np.tanh(x_t @ W_xh + h_prev @ W_hh + b_h)  # forgot the cache: a (B, H) array, not a tuple


# rnn_forward -------------------------------------------------------------------------------------
@_named("rnn_forward", hint='every step used h0')
def forward_reusing_h0(x, h0, W_xh, W_hh, b_h):
    return np.stack([np.tanh(x_t @ W_xh + h0 @ W_hh + b_h) for x_t in x]), None


@_named("rnn_forward", hint='h0 is not one of them')
def forward_including_h0(x, h0, W_xh, W_hh, b_h):
    hs, h = [h0], h0
    for x_t in x:
        h = np.tanh(x_t @ W_xh + h @ W_hh + b_h)
        hs.append(h)
    return np.stack(hs), None  # (T + 1, B, H)


@_named("rnn_forward", hint='stored the one each step')
def forward_storing_previous(x, h0, W_xh, W_hh, b_h):
    hs, h = [], h0
    for x_t in x:
        hs.append(h)  # the state before the step
        h = np.tanh(x_t @ W_xh + h @ W_hh + b_h)
    return np.stack(hs), None


@_named("rnn_forward", hint='backwards')
def forward_time_reversed(x, h0, W_xh, W_hh, b_h):
    hs, h = [], h0
    for x_t in x[::-1]:
        h = np.tanh(x_t @ W_xh + h @ W_hh + b_h)
        hs.append(h)
    return np.stack(hs[::-1]), None


@_named("rnn_forward", hint='time-first')
def forward_batch_first(x, h0, W_xh, W_hh, b_h):
    x = np.asarray(x).transpose(1, 0, 2)  # treats axis 0 as the batch
    hs, h = [], h0
    for t in range(x.shape[1]):
        h = np.tanh(x[:, t] @ W_xh + h @ W_hh + b_h)
        hs.append(h)
    return np.stack(hs, axis=1), None


# rnn_logits --------------------------------------------------------------------------------------
@_named("rnn_logits", hint='bias b_y')
def logits_without_bias(hs, W_hy, b_y):
    return np.asarray(hs) @ W_hy


@_named("rnn_logits", hint='not probabilities')
def logits_softmaxed(hs, W_hy, b_y):
    z = np.asarray(hs) @ W_hy + b_y
    return np.exp(z) / np.exp(z).sum(-1, keepdims=True)


@_named("rnn_logits", hint='every time step')
def logits_last_step_only(hs, W_hy, b_y):
    return np.asarray(hs)[-1] @ W_hy + b_y


# sequence_loss -----------------------------------------------------------------------------------
def _log_softmax(z, axis=-1):
    z = z - z.max(axis=axis, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=axis, keepdims=True))


@_named("sequence_loss", hint='averaged over time too')
def loss_mean_everything(logits, targets):
    logp = _log_softmax(np.asarray(logits, float))
    return float(-np.take_along_axis(logp, np.asarray(targets)[..., None], -1).mean())


@_named("sequence_loss", hint='overflows')
def loss_unstable(logits, targets):
    z = np.asarray(logits, float)
    logp = z - np.log(np.exp(z).sum(-1, keepdims=True))
    return float(-np.take_along_axis(logp, np.asarray(targets)[..., None], -1).sum() / z.shape[1])


@_named("sequence_loss", hint='summed over the batch')
def loss_summed_over_batch(logits, targets):
    logp = _log_softmax(np.asarray(logits, float))
    return float(-np.take_along_axis(logp, np.asarray(targets)[..., None], -1).sum())


@_named("sequence_loss", hint="natural log")
def loss_in_bits(logits, targets):
    z = np.asarray(logits, float)
    p = np.exp(z - z.max(-1, keepdims=True))
    p /= p.sum(-1, keepdims=True)
    return float(-np.log2(np.take_along_axis(p, np.asarray(targets)[..., None], -1)).sum() / z.shape[1])


@_named("sequence_loss", hint="the sign")
def loss_without_minus(logits, targets):
    logp = _log_softmax(np.asarray(logits, float))
    return float(np.take_along_axis(logp, np.asarray(targets)[..., None], -1).sum() / logp.shape[1])


@_named("sequence_loss")
def loss_no_target_check(logits, targets):
    logp = _log_softmax(np.asarray(logits, float))
    t = np.clip(np.asarray(targets), 0, logp.shape[-1] - 1)  # silently clamps bad targets
    return float(-np.take_along_axis(logp, t[..., None], -1).sum() / logp.shape[1])


# chapter 03 --------------------------------------------------------------------------------------
@_named("rnn_step_backward", hint='derivative is missing')
def step_backward_no_tanh_derivative(dh_next, cache):
    x_t, h_prev, W_xh, W_hh, h_t = cache
    da = dh_next
    return {"x_t": da @ W_xh.T, "h_prev": da @ W_hh.T, "W_xh": x_t.T @ da, "W_hh": h_prev.T @ da, "b_h": da.sum(0)}


@_named("rnn_step_backward", hint='dW_hh is h_prev.T')
def step_backward_transposed_weight_grads(dh_next, cache):
    x_t, h_prev, W_xh, W_hh, h_t = cache
    da = dh_next * (1 - h_t ** 2)
    return {"x_t": da @ W_xh.T, "h_prev": da @ W_hh.T, "W_xh": x_t.T @ da, "W_hh": (h_prev.T @ da).T, "b_h": da.sum(0)}


@_named("rnn_step_backward", hint='sums da over the batch')
def step_backward_bias_mean(dh_next, cache):
    x_t, h_prev, W_xh, W_hh, h_t = cache
    da = dh_next * (1 - h_t ** 2)
    return {"x_t": da @ W_xh.T, "h_prev": da @ W_hh.T, "W_xh": x_t.T @ da, "W_hh": h_prev.T @ da, "b_h": da.mean(0)}


def _bptt(dhs, cache, **mistakes):
    from course_lib.grading.checks.ch03_bptt import _backward_with  # the hints' version, with mistakes switched on
    return _backward_with(dhs, cache, **mistakes)


@_named("rnn_backward", hint='later steps send back')
def backward_not_carried(dhs, cache):
    return _bptt(dhs, cache, carry=False)


@_named("rnn_backward", hint='*summed*')
def backward_overwrites(dhs, cache):
    return _bptt(dhs, cache, accumulate=False)


@_named("rnn_backward", hint='backwards')
def backward_forward_order(dhs, cache):
    return _bptt(dhs, cache, reverse=False)


@_named("rnn_backward", hint='with respect to h0')
def backward_without_h0(dhs, cache):
    grads = _bptt(dhs, cache)
    del grads["h0"]
    return grads


@_named("logits_backward", hint='does not average')
def logits_backward_bias_mean(dlogits, cache):
    hs, W_hy = cache
    return {"hs": dlogits @ W_hy.T, "W_hy": np.einsum("tbh,tbv->hv", hs, dlogits), "b_y": dlogits.mean((0, 1))}


@_named("logits_backward", hint='every time step')
def logits_backward_last_step(dlogits, cache):
    hs, W_hy = cache
    return {"hs": dlogits @ W_hy.T, "W_hy": hs[-1].T @ dlogits[-1], "b_y": dlogits.sum((0, 1))}


@_named("logits_backward", hint='W_hy transposed')
def logits_backward_untransposed(dlogits, cache):
    hs, W_hy = cache
    return {"hs": dlogits @ W_hy.T if W_hy.shape[0] != W_hy.shape[1] else dlogits @ W_hy,
            "W_hy": np.einsum("tbh,tbv->hv", hs, dlogits), "b_y": dlogits.sum((0, 1))}


@_named("numerical_gradient", hint='central difference')
def numgrad_forward_difference(f, x, eps=1e-5):
    from course_lib.grading.checks.ch03_bptt import _forward_difference  # the hint's own one-sided version
    return _forward_difference(f, x, eps)


@_named("numerical_gradient", hint='back to its original')
def numgrad_not_restored(f, x, eps=1e-5):
    from course_lib.grading.checks.ch03_bptt import _not_restored  # the hint's own version: x[i] is left at x - eps
    return _not_restored(f, x, eps)


@_named("numerical_gradient", hint='2 * eps')
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


@_named("relative_error", hint='floor')
def relerr_no_floor(a, b):
    a, b = np.asarray(a, float), np.asarray(b, float)
    with np.errstate(all="ignore"):
        return float(np.max(np.abs(a - b) / (np.abs(a) + np.abs(b))))


@_named("relative_error", hint='maximum over entries')
def relerr_mean(a, b):
    a, b = np.asarray(a, float), np.asarray(b, float)
    return float(np.mean(np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b))))


@_named("relative_error", hint='absolute error')
def relerr_absolute(a, b):
    return float(np.max(np.abs(np.asarray(a, float) - np.asarray(b, float))))


# chapter 04 --------------------------------------------------------------------------------------
@_named("spectral_radius", hint='spectral *norm*')
def radius_is_spectral_norm(W):
    return float(np.linalg.norm(W, 2))


@_named("spectral_radius", hint='absolute value')
def radius_real_part(W):
    if np.shape(W)[0] != np.shape(W)[1]:
        raise ValueError("W must be square")
    return float(np.max(np.real(np.linalg.eigvals(W))))


@_named("spectral_radius", hint='largest |entry|')
def radius_largest_entry(W):
    if np.shape(W)[0] != np.shape(W)[1]:
        raise ValueError("W must be square")
    return float(np.max(np.abs(W)))


@_named("clip_grad_norm", hint='*global* norm')
def clip_each_array(grads, max_norm):
    from course_lib.grading.checks.ch04_gradients import _clip_each
    return _clip_each(grads, max_norm)


@_named("clip_grad_norm", hint='*before*')
def clip_returns_norm_after(grads, max_norm):
    from course_lib.gradients import clip_grad_norm
    clipped, norm = clip_grad_norm(grads, max_norm)
    return clipped, min(norm, max_norm)


@_named("clip_grad_norm", hint='only clip when')
def clip_always_rescales(grads, max_norm):
    norm = float(np.sqrt(sum(np.sum(g ** 2) for g in grads.values())))
    return {k: g * max_norm / norm for k, g in grads.items()}, norm  # also scales small gradients up


@_named("hidden_jacobian_norms", hint='Frobenius')
def jacobian_frobenius(x, h0, W_xh, W_hh, b_h):
    from course_lib.grading.checks.ch04_gradients import _jacobian_norms_with
    if np.shape(x)[1] != 1:
        raise ValueError("one sequence only")
    return _jacobian_norms_with(x, h0, W_xh, W_hh, b_h, norm="fro")


@_named("hidden_jacobian_norms", hint='diag(1 - s_k**2)')
def jacobian_without_tanh(x, h0, W_xh, W_hh, b_h):
    from course_lib.grading.checks.ch04_gradients import _jacobian_norms_with
    if np.shape(x)[1] != 1:
        raise ValueError("one sequence only")
    return _jacobian_norms_with(x, h0, W_xh, W_hh, b_h, derivative=False)


@_named("hidden_jacobian_norms", hint='norms[0] is the initial')
def jacobian_reversed(x, h0, W_xh, W_hh, b_h):
    from course_lib.gradients import hidden_jacobian_norms
    return hidden_jacobian_norms(x, h0, W_xh, W_hh, b_h)[::-1]


# chapter 05 --------------------------------------------------------------------------------------
def _lstm(x, h, c, W, b, **kw):
    from course_lib.grading.checks.ch05_lstm import _step_with
    H = np.shape(W)[1] // 4
    if np.shape(W)[0] != np.shape(x)[1] + H:
        raise ValueError("W has the wrong shape")
    return _step_with(x, h, c, W, b, **kw)


@_named("lstm_step", hint='CS231n')
def lstm_cs231n_order(x_t, h_prev, c_prev, W, b):
    return _lstm(x_t, h_prev, c_prev, W, b, order="ifog")


@_named("lstm_step", hint='candidate g uses tanh')
def lstm_sigmoid_candidate(x_t, h_prev, c_prev, W, b):
    from course_lib.lstm import sigmoid
    return _lstm(x_t, h_prev, c_prev, W, b, candidate=sigmoid)


@_named("lstm_step", hint='tanh is missing')
def lstm_h_without_tanh(x_t, h_prev, c_prev, W, b):
    return _lstm(x_t, h_prev, c_prev, W, b, use_c_in_h=False)


@_named("lstm_step", hint='forget gate multiplies')
def lstm_forgets_nothing(x_t, h_prev, c_prev, W, b):
    h, c, cache = _lstm(x_t, h_prev, c_prev, W, b)
    from course_lib.lstm import lstm_step
    _, _, ref = lstm_step(x_t, h_prev, c_prev, W, b)
    c = c_prev + ref["i"] * ref["g"]  # no forget gate on the old cell state
    return ref["o"] * np.tanh(c), c, cache


@_named("lstm_step", hint='use the sigmoid')
def lstm_tanh_output_gate(x_t, h_prev, c_prev, W, b):
    return _lstm(x_t, h_prev, c_prev, W, b, output_gate=np.tanh)


def _forward_loop(x, h, c, W, b, reverse=False):
    from course_lib.lstm import lstm_step
    hs = []
    steps = range(len(x) - 1, -1, -1) if reverse else range(len(x))
    for t in steps:
        h, c, _ = lstm_step(x[t], h, c, W, b)
        hs.append(h)
    return np.stack(hs[::-1] if reverse else hs), (h, c)


@_named("lstm_forward", hint='every step started from (h0, c0)')
def lstm_forward_not_carried(x, h0, c0, W, b):
    from course_lib.lstm import lstm_step
    hs = [lstm_step(x_t, h0, c0, W, b)[0] for x_t in x]
    h, c, _ = lstm_step(x[-1], h0, c0, W, b)
    return np.stack(hs), (h, c)


@_named("lstm_forward", hint='carry the cell state too')
def lstm_forward_c_not_carried(x, h0, c0, W, b):
    from course_lib.lstm import lstm_step
    hs, h = [], h0
    for x_t in x:
        h, c, _ = lstm_step(x_t, h, c0, W, b)
        hs.append(h)
    return np.stack(hs), (h, c)


@_named("lstm_forward", hint='from c0')
def lstm_forward_ignores_c0(x, h0, c0, W, b):
    return _forward_loop(x, h0, np.zeros_like(c0), W, b)


@_named("lstm_forward", hint='backwards')
def lstm_forward_reversed(x, h0, c0, W, b):
    return _forward_loop(x, h0, c0, W, b, reverse=True)


@_named("lstm_forward")
def lstm_forward_no_final_state(x, h0, c0, W, b):
    hs, _ = _forward_loop(x, h0, c0, W, b)
    return hs, hs[-1]


# chapter 08 --------------------------------------------------------------------------------------
@_named("sinusoidal_positions", hint='even dimensions')
def pe_sin_cos_swapped(T, d_model):
    from course_lib.grading.checks.ch08_positions import _pe_swapped
    return _pe_swapped(T, d_model)


@_named("sinusoidal_positions", hint='10000')
def pe_base_1000(T, d_model):
    if d_model % 2 or T < 1:
        raise ValueError("bad sizes")
    t, w = np.arange(T)[:, None], 1000.0 ** (-np.arange(0, d_model, 2) / d_model)
    pe = np.zeros((T, d_model))
    pe[:, 0::2], pe[:, 1::2] = np.sin(t * w), np.cos(t * w)
    return pe


@_named("sinusoidal_positions", hint='start at 0')
def pe_positions_from_one(T, d_model):
    if d_model % 2 or T < 1:
        raise ValueError("bad sizes")
    t, w = np.arange(1, T + 1)[:, None], 10000.0 ** (-np.arange(0, d_model, 2) / d_model)
    pe = np.zeros((T, d_model))
    pe[:, 0::2], pe[:, 1::2] = np.sin(t * w), np.cos(t * w)
    return pe


@_named("is_permutation_equivariant", hint='True even for functions')
def equivariant_always(f, x, rng):
    return True


@_named("is_permutation_equivariant", hint='invariance')
def equivariant_output_not_permuted(f, x, rng):
    import torch
    perm = torch.randperm(x.shape[0], generator=rng)
    while torch.equal(perm, torch.arange(x.shape[0])):  # one mistake only: a real permutation, compared without permuting f(x)
        perm = torch.randperm(x.shape[0], generator=rng)
    return bool(torch.allclose(f(x[perm]), f(x), atol=1e-5))


@_named("is_permutation_equivariant", hint='not the batch axis')
def equivariant_batch_axis(f, x, rng):
    import torch
    perm = torch.randperm(x.shape[1], generator=rng)
    return bool(torch.allclose(f(x[:, perm]), f(x)[:, perm], atol=1e-5))


@_named("is_permutation_equivariant", hint='always False')
def equivariant_never(f, x, rng):
    return False


# chapter 07 --------------------------------------------------------------------------------------
@_named("sequence_accuracy", hint='token accuracy')
def seqacc_token_level(pred, target, mask):
    import torch
    mask = torch.as_tensor(mask)
    return float(((torch.as_tensor(pred) == torch.as_tensor(target)) & mask).sum() / mask.sum())


@_named("sequence_accuracy", hint='padding: ignore them')
def seqacc_ignores_mask(pred, target, mask):
    import torch
    return float((torch.as_tensor(pred) == torch.as_tensor(target)).all(0).float().mean())


@_named("sequence_accuracy", hint='mask True marks')
def seqacc_mask_inverted(pred, target, mask):
    import torch
    correct = (torch.as_tensor(pred) == torch.as_tensor(target)) | torch.as_tensor(mask)
    return float(correct.all(0).float().mean())


@_named("greedy_decode", hint="feed each step's predicted")
def decode_without_feedback(step, state, start_tokens, max_len):
    from course_lib.grading.checks.ch07_limits import _decode_without_feedback
    return _decode_without_feedback(step, state, start_tokens, max_len)


@_named("greedy_decode", hint='not the start token')
def decode_with_start(step, state, start_tokens, max_len):
    from course_lib.grading.checks.ch07_limits import _decode_with_start
    return _decode_with_start(step, state, start_tokens, max_len)


@_named("greedy_decode", hint='pass the state')
def decode_state_not_carried(step, state, start_tokens, max_len):
    from course_lib.grading.checks.ch07_limits import _decode_state_dropped
    return _decode_state_dropped(step, state, start_tokens, max_len)


# chapter 06 --------------------------------------------------------------------------------------
@_named("bits_per_char", hint='in nats')
def bits_in_nats(logits, targets):
    from course_lib.grading.checks.ch06_applications import _nats
    return _nats(logits, targets)


@_named("bits_per_char", hint='ln 10')
def bits_log10(logits, targets):
    import math
    return bits_in_nats(logits, targets) / math.log(10)


@_named("bits_per_char", hint='every time step')
def bits_of_last_step_only(logits, targets):
    from course_lib.language_model import bits_per_char
    return bits_per_char(logits[-1:], targets[-1:])


@_named("sample_next", hint='divide the logits')
def sample_times_temperature(logits, temperature, rng):
    from course_lib.grading.checks.ch06_applications import _times_temperature
    return _times_temperature(logits, temperature, rng)


@_named("sample_next", hint='not uniformly')
def sample_uniform(logits, temperature, rng):
    import torch
    if not temperature > 0:
        raise ValueError("temperature must be > 0")
    return torch.randint(0, logits.shape[-1], logits.shape[:-1], generator=rng)


@_named("sample_next", hint='generator you are given')
def sample_ignores_generator(logits, temperature, rng):
    import torch
    if not temperature > 0:
        raise ValueError("temperature must be > 0")
    return torch.distributions.Categorical(logits=logits / temperature).sample()  # torch's global generator


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


@_named("generate", hint='feed each sampled id')
def generate_no_feedback(model, prompt, n, temperature, rng):
    from course_lib.grading.checks.ch06_applications import _no_feedback
    return _no_feedback(model, prompt, n, temperature, rng)


@_named("generate", hint='pass the state')
def generate_fresh_state(model, prompt, n, temperature, rng):
    from course_lib.grading.checks.ch06_applications import _fresh_state
    return _fresh_state(model, prompt, n, temperature, rng)


@_named("generate", hint='exactly n')
def generate_one_too_few(model, prompt, n, temperature, rng):
    from course_lib.language_model import generate
    return generate(model, prompt, n, temperature, rng)[:-1]


@_named("generate", hint='at the given temperature')
def generate_greedy(model, prompt, n, temperature, rng):
    from course_lib.language_model import generate
    return generate(model, prompt, n, min(temperature, 1e-4) if temperature > 0 else temperature, rng)


# chapter 09 --------------------------------------------------------------------------------------
@_named("scaled_dot_product_attention", hint='divide the scores')
def sdpa_unscaled(q, k, v, mask=None):
    from course_lib.grading.checks.ch09_attention import _sdpa_unscaled
    return _sdpa_unscaled(q, k, v, mask)


@_named("scaled_dot_product_attention", hint='over the keys')
def sdpa_softmax_over_queries(q, k, v, mask=None):
    from course_lib.grading.checks.ch09_attention import _sdpa_softmax_over_queries
    return _sdpa_softmax_over_queries(q, k, v, mask)


@_named("scaled_dot_product_attention", hint='NaN')
def sdpa_nan_rows(q, k, v, mask=None):
    import math
    import torch
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf"))
    weights = torch.softmax(scores, -1)  # a fully masked row becomes NaN
    return weights @ v, weights


@_named("causal_mask", hint='past and itself')
def causal_future(T):
    import torch
    return torch.triu(torch.ones(T, T, dtype=torch.bool))


@_named("causal_mask", hint='itself too')
def causal_no_self(T):
    import torch
    return torch.tril(torch.ones(T, T, dtype=torch.bool), diagonal=-1)


@_named("causal_mask", hint='boolean mask')
def causal_float(T):
    import torch
    if T < 1:
        raise ValueError("T must be positive")
    return torch.tril(torch.ones(T, T))


@_named("multi_head_attention", hint='output projection')
def mha_no_output_projection(x, params, n_heads, mask=None):
    from course_lib.grading.checks.ch09_attention import _mha_without_output_projection
    return _mha_without_output_projection(x, params, n_heads, mask)


@_named("multi_head_attention", hint='split d_model')
def mha_one_head(x, params, n_heads, mask=None):
    from course_lib.grading.checks.ch09_attention import _mha_heads_misassigned
    return _mha_heads_misassigned(x, params, n_heads, mask)


@_named("multi_head_attention", hint='add the biases')
def mha_no_biases(x, params, n_heads, mask=None):
    from course_lib.attention import multi_head_attention
    return multi_head_attention(x, {k: v for k, v in params.items() if k.startswith("W")}, n_heads, mask)


# chapter 10 --------------------------------------------------------------------------------------
@_named("layer_norm", hint='biased variance')
def norm_unbiased(x, gamma, beta, eps=1e-5):
    from course_lib.grading.checks.ch10_capstone import _unbiased_variance
    return _unbiased_variance(x, gamma, beta, eps)


@_named("layer_norm", hint='not over time')
def norm_over_time(x, gamma, beta, eps=1e-5):
    from course_lib.grading.checks.ch10_capstone import _over_time
    return _over_time(x, gamma, beta, eps)


@_named("layer_norm", hint='learned scale and shift')
def norm_without_affine(x, gamma, beta, eps=1e-5):
    mean = x.mean(-1, keepdim=True)
    return (x - mean) / ((x - mean) ** 2).mean(-1, keepdim=True).add(eps).sqrt()


@_named("attention_block", hint='pre-norm')
def block_post_norm(x, params, n_heads):
    from course_lib.grading.checks.ch10_capstone import _post_norm
    return _post_norm(x, params, n_heads)


@_named("attention_block", hint='causal mask')
def block_not_causal(x, params, n_heads):
    from course_lib.grading.checks.ch10_capstone import _not_causal
    return _not_causal(x, params, n_heads)


@_named("attention_block")
def block_without_attention_biases(x, params, n_heads):
    from course_lib.transformer import attention_block
    return attention_block(x, {k: v for k, v in params.items() if not k.startswith("b_")}, n_heads)


# More classic mistakes, one per hint that the functions above do not already make ----------------
@_named("running_mean", hint="mean of the whole sequence")
def running_mean_whole_sequence(x):
    x = np.asarray(x, float)
    if x.ndim != 2:
        raise ValueError("x must be 2-D")
    return np.repeat(x.mean(axis=0, keepdims=True), len(x), axis=0)


@_named("running_mean", hint="summed along axis 1")
def running_mean_cumsum_over_batch(x):
    x = np.asarray(x, float)
    if x.ndim != 2:
        raise ValueError("x must be 2-D")
    return np.cumsum(x, axis=1) / np.arange(1, len(x) + 1)[:, None]


@_named("one_hot", hint="vocab_size + 1")
def one_hot_extra_column(indices, vocab_size):
    indices = np.asarray(indices)
    if indices.size and (indices.min() < 0 or indices.max() >= vocab_size):
        raise ValueError("indices out of range")
    return np.eye(vocab_size + 1)[indices]


@_named("next_step_pairs", hint="exactly one step")
def pairs_shifted_by_two(sequence):
    sequence = np.asarray(sequence)
    if len(sequence) < 2:
        raise ValueError("too short")
    return sequence[:-2], sequence[2:]


@_named("pad_batch", hint="padded at the start")
def pad_at_the_start(sequences, pad_value=0):
    if not sequences:
        raise ValueError("empty batch")
    T = max(len(s) for s in sequences)
    padded, mask = np.full((T, len(sequences)), pad_value), np.zeros((T, len(sequences)), dtype=bool)
    for b, seq in enumerate(sequences):
        padded[T - len(seq):, b], mask[T - len(seq):, b] = seq, True
    return padded, mask


@_named("rnn_step", hint="h_prev is never used")
def step_ignores_h_prev(x_t, h_prev, W_xh, W_hh, b_h):
    h_t = np.tanh(x_t @ W_xh + b_h)
    return h_t, (x_t, h_prev, W_xh, W_hh, h_t)


@_named("rnn_step", hint="not the sigmoid")
def step_sigmoid(x_t, h_prev, W_xh, W_hh, b_h):
    h_t = 1 / (1 + np.exp(-(x_t @ W_xh + h_prev @ W_hh + b_h)))
    return h_t, (x_t, h_prev, W_xh, W_hh, h_t)


@_named("rnn_step", hint="the tanh is missing")
def step_linear(x_t, h_prev, W_xh, W_hh, b_h):
    h_t = x_t @ W_xh + h_prev @ W_hh + b_h
    return h_t, (x_t, h_prev, W_xh, W_hh, h_t)


@_named("rnn_forward", hint="never used")
def forward_ignores_x(x, h0, W_xh, W_hh, b_h):
    hs, h = [], h0
    for _ in x:
        h = np.tanh(h @ W_hh + b_h)
        hs.append(h)
    return np.stack(hs), None


@_named("rnn_logits", hint="linear")
def logits_tanh(hs, W_hy, b_y):
    return np.tanh(np.asarray(hs) @ W_hy + b_y)


@_named("sequence_loss", hint="last axis")
def loss_softmax_over_batch(logits, targets):
    logp = _log_softmax(np.asarray(logits, float), axis=1)
    return float(-np.take_along_axis(logp, np.asarray(targets)[..., None], -1).sum() / np.shape(logits)[1])


def _step_backward(dh_next, cache, derivative):
    x_t, h_prev, W_xh, W_hh, h_t = cache
    da = dh_next * derivative(h_t, h_prev)
    return {"x_t": da @ W_xh.T, "h_prev": da @ W_hh.T, "W_xh": x_t.T @ da, "W_hh": h_prev.T @ da, "b_h": da.sum(0)}


@_named("rnn_step_backward", hint="not 1 - h_t")
def step_backward_one_minus_h(dh_next, cache):
    return _step_backward(dh_next, cache, lambda h_t, h_prev: 1 - h_t)


@_named("rnn_step_backward", hint="not h_prev")
def step_backward_derivative_at_h_prev(dh_next, cache):
    return _step_backward(dh_next, cache, lambda h_t, h_prev: 1 - h_prev ** 2)


@_named("rnn_step_backward", hint="through W_hh transposed")
def step_backward_h_prev_untransposed(dh_next, cache):
    x_t, h_prev, W_xh, W_hh, h_t = cache
    da = dh_next * (1 - h_t ** 2)
    return {"x_t": da @ W_xh.T, "h_prev": da @ W_hh, "W_xh": x_t.T @ da, "W_hh": h_prev.T @ da, "b_h": da.sum(0)}


@_named("logits_backward", hint="hs.T @ dlogits")
def logits_backward_dW_transposed(dlogits, cache):
    hs, W_hy = cache
    return {"hs": dlogits @ W_hy.T, "W_hy": np.einsum("tbv,tbh->vh", dlogits, hs), "b_y": dlogits.sum((0, 1))}


@_named("numerical_gradient", hint="one entry at a time")
def numgrad_all_entries_at_once(f, x, eps=1e-5):
    x = np.array(x, dtype=float)
    return np.ones_like(x) * (f(x + eps) - f(x - eps)) / (2 * eps)


@_named("relative_error", hint="max(|a|, |b|)")
def relerr_relative_to_larger(a, b):
    a, b = np.asarray(a, float), np.asarray(b, float)
    return float(np.max(np.abs(a - b) / np.maximum(1e-8, np.maximum(np.abs(a), np.abs(b)))))


@_named("relative_error", hint="|a| alone")
def relerr_relative_to_a(a, b):
    a, b = np.asarray(a, float), np.asarray(b, float)
    return float(np.max(np.abs(a - b) / np.maximum(1e-8, np.abs(a))))


@_named("spectral_radius", hint="modulus")
def radius_of_real_parts(W):
    if np.shape(W)[0] != np.shape(W)[1]:
        raise ValueError("W must be square")
    return float(np.max(np.abs(np.linalg.eigvals(W).real)))


def _norm(grads):
    return float(np.sqrt(sum(np.sum(g ** 2) for g in grads.values())))


@_named("clip_grad_norm", hint="max_norm / norm")
def clip_inverted_ratio(grads, max_norm):
    norm = _norm(grads)
    return {k: g * min(1.0, norm / max_norm) for k, g in grads.items()}, norm


@_named("clip_grad_norm", hint="sum of *squares*")
def clip_sum_of_norms(grads, max_norm):
    norm = float(sum(np.linalg.norm(g) for g in grads.values()))
    return {k: g * min(1.0, max_norm / (norm + 1e-6)) for k, g in grads.items()}, norm


def _jacobians(x, h0, W_xh, W_hh, b_h, **mistakes):
    from course_lib.grading.checks.ch04_gradients import _jacobian_norms_with
    if np.shape(x)[1] != 1:
        raise ValueError("one sequence only")
    return _jacobian_norms_with(x, h0, W_xh, W_hh, b_h, **mistakes)


@_named("hidden_jacobian_norms", hint="T + 1 values")
def jacobian_without_initial_state(x, h0, W_xh, W_hh, b_h):
    return _jacobians(x, h0, W_xh, W_hh, b_h)[1:]


@_named("hidden_jacobian_norms", hint="off by one in time")
def jacobian_derivative_one_step_early(x, h0, W_xh, W_hh, b_h):
    return _jacobians(x, h0, W_xh, W_hh, b_h, state_shift=-1)


@_named("hidden_jacobian_norms", hint="other order")
def jacobian_product_reversed(x, h0, W_xh, W_hh, b_h):
    return _jacobians(x, h0, W_xh, W_hh, b_h, left=True)


@_named("lstm_step", hint="first block is the input gate")
def lstm_forget_gate_first(x_t, h_prev, c_prev, W, b):
    return _lstm(x_t, h_prev, c_prev, W, b, order="figo")


def _lstm_loop(x, h, c, W, b, store):
    from course_lib.lstm import lstm_step
    hs = []
    for t in range(len(x)):
        h_prev = h
        h, c, _ = lstm_step(x[t], h, c, W, b)
        hs.append(h_prev if store == "h_prev" else c)
    return np.stack(hs), (h, c)


@_named("lstm_forward", hint="*new* h_t")
def lstm_forward_stores_previous_h(x, h0, c0, W, b):
    return _lstm_loop(x, h0, c0, W, b, "h_prev")


@_named("lstm_forward", hint="not the cell states")
def lstm_forward_stores_c(x, h0, c0, W, b):
    return _lstm_loop(x, h0, c0, W, b, "c")


@_named("lstm_forward", hint="(h_T, c_T)")
def lstm_forward_final_state_swapped(x, h0, c0, W, b):
    hs, (h, c) = _forward_loop(x, h0, c0, W, b)
    return hs, (c, h)


@_named("sinusoidal_positions", hint="interleave")
def pe_sines_then_cosines(T, d_model):
    if d_model % 2 or T < 1:
        raise ValueError("bad sizes")
    t, w = np.arange(T)[:, None], 10000.0 ** (-np.arange(0, d_model, 2) / d_model)
    return np.concatenate([np.sin(t * w), np.cos(t * w)], axis=1)


@_named("sinusoidal_positions", hint="one row per position")
def pe_transposed(T, d_model):
    if d_model % 2 or T < 1:
        raise ValueError("bad sizes")
    t, w = np.arange(T)[:, None], 10000.0 ** (-np.arange(0, d_model, 2) / d_model)
    pe = np.zeros((T, d_model))
    pe[:, 0::2], pe[:, 1::2] = np.sin(t * w), np.cos(t * w)
    return pe.T


@_named("bits_per_char", hint="average over all")
def bits_summed(logits, targets):
    import torch
    return float(-torch.log_softmax(logits, -1).gather(-1, targets[..., None]).sum()) / np.log(2)


@_named("bits_per_char", hint="(log-)softmax")
def bits_of_raw_logits(logits, targets):
    from course_lib.grading.checks.ch06_applications import _bits_of_raw_logits
    return _bits_of_raw_logits(logits, targets)


@_named("sample_next", hint="must change the distribution")
def sample_ignores_temperature(logits, temperature, rng):
    import torch
    if not temperature > 0:
        raise ValueError("temperature must be > 0")
    return torch.multinomial(torch.softmax(logits.double(), -1), 1, generator=rng)[:, 0]


@_named("sample_next", hint="always the argmax")
def sample_argmax(logits, temperature, rng):
    if not temperature > 0:
        raise ValueError("temperature must be > 0")
    return logits.argmax(-1)


@_named("generate", hint="without the prompt")
def generate_with_prompt(model, prompt, n, temperature, rng):
    from course_lib.grading.checks.ch06_applications import _with_prompt
    return _with_prompt(model, prompt, n, temperature, rng)


@_named("generate", hint="whole prompt")
def generate_from_last_prompt_id(model, prompt, n, temperature, rng):
    from course_lib.grading.checks.ch06_applications import _last_prompt_token_only
    return _last_prompt_token_only(model, prompt, n, temperature, rng)


@_named("sequence_accuracy", hint="a sequence is a column")
def seqacc_all_over_batch(pred, target, mask):
    import torch
    correct = (torch.as_tensor(pred) == torch.as_tensor(target)) | ~torch.as_tensor(mask)
    return float(correct.all(1).float().mean())


@_named("greedy_decode", hint="time-first")
def decode_batch_first(step, state, start_tokens, max_len):
    from course_lib.seq2seq import greedy_decode
    return greedy_decode(step, state, start_tokens, max_len).T


@_named("scaled_dot_product_attention", hint="not by d_k")
def sdpa_scaled_by_d_k(q, k, v, mask=None):
    import torch
    scores = q @ k.transpose(-2, -1) / q.shape[-1]
    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf"))
    weights = torch.nan_to_num(torch.softmax(scores, -1), nan=0.0)
    return weights @ v, weights


@_named("scaled_dot_product_attention", hint="may attend")
def sdpa_mask_polarity(q, k, v, mask=None):
    import math
    import torch
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
    if mask is not None:
        scores = scores.masked_fill(mask, float("-inf"))
    weights = torch.nan_to_num(torch.softmax(scores, -1), nan=0.0)
    return weights @ v, weights


@_named("scaled_dot_product_attention", hint="before the softmax")
def sdpa_mask_after_softmax(q, k, v, mask=None):
    from course_lib.grading.checks.ch09_attention import _sdpa_mask_after_softmax
    return _sdpa_mask_after_softmax(q, k, v, mask)


@_named("causal_mask", hint="inverted")
def causal_inverted(T):
    import torch
    if T < 1:
        raise ValueError("T must be positive")
    return torch.triu(torch.ones(T, T, dtype=torch.bool), diagonal=1)


@_named("multi_head_attention", hint="sqrt(d_k), d_k")
def mha_scaled_by_d_model(x, params, n_heads, mask=None):
    from course_lib.grading.checks.ch09_attention import _mha_scaled_by_d_model
    return _mha_scaled_by_d_model(x, params, n_heads, mask)


@_named("layer_norm", hint="*inside* the square root")
def norm_eps_outside(x, gamma, beta, eps=1e-5):
    if gamma.shape != x.shape[-1:]:
        raise ValueError("gamma has the wrong size")
    mean = x.mean(-1, keepdim=True)
    return (x - mean) / (((x - mean) ** 2).mean(-1, keepdim=True).sqrt() + eps) * gamma + beta


@_named("layer_norm", hint="other way round")
def norm_gamma_beta_swapped(x, gamma, beta, eps=1e-5):
    if gamma.shape != x.shape[-1:]:
        raise ValueError("gamma has the wrong size")
    mean = x.mean(-1, keepdim=True)
    return (x - mean) / ((x - mean) ** 2).mean(-1, keepdim=True).add(eps).sqrt() * beta + gamma


@_named("attention_block", hint="add the residual")
def block_without_residual(x, params, n_heads):
    from course_lib.grading.checks.ch10_capstone import _no_residual
    return _no_residual(x, params, n_heads)


@_named("attention_block", hint="input x itself")
def block_residual_of_normed(x, params, n_heads):
    from course_lib.grading.checks.ch10_capstone import _residual_of_normed
    return _residual_of_normed(x, params, n_heads)


# sequence_loss_backward: each one makes one classic mistake (tests/test_checks.py checks it gets its hint)
def _probs(logits, axis=-1):
    z = np.asarray(logits, float)
    e = np.exp(z - z.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def _onehot(logits, targets):
    return np.eye(np.shape(logits)[-1])[np.asarray(targets)]


@_named("sequence_loss_backward", hint="divided by B")
def loss_backward_without_batch_mean(logits, targets):
    return _probs(logits) - _onehot(logits, targets)


@_named("sequence_loss_backward", hint="subtract 1 at each target")
def loss_backward_without_onehot(logits, targets):
    return _probs(logits) / np.shape(logits)[1]


@_named("sequence_loss_backward", hint="not log-softmax")
def loss_backward_log_softmax(logits, targets):
    return (np.log(_probs(logits)) - _onehot(logits, targets)) / np.shape(logits)[1]


@_named("sequence_loss_backward", hint="do not divide by T")
def loss_backward_time_mean(logits, targets):
    T, B, _ = np.shape(logits)
    return (_probs(logits) - _onehot(logits, targets)) / (T * B)


@_named("sequence_loss_backward", hint="not over the batch")
def loss_backward_softmax_over_batch(logits, targets):
    return (_probs(logits, axis=1) - _onehot(logits, targets)) / np.shape(logits)[1]



BROKEN = {
    "running_mean": [running_sum, running_mean_over_batch, running_mean_without_validation, running_mean_off_by_one],
    "one_hot": [one_hot_transposed, one_hot_no_range_check, one_hot_integer_dtype, one_hot_flattened],
    "next_step_pairs": [pairs_swapped, pairs_last_axis, pairs_not_shifted, pairs_no_length_check],
    "pad_batch": [pad_batch_first, pad_mask_inverted, pad_ignores_pad_value, pad_float_mask],
    "rnn_step": [step_transposed_W_hh, step_without_bias, step_relu, step_returns_bare_array],
    "rnn_forward": [forward_reusing_h0, forward_including_h0, forward_time_reversed, forward_batch_first, forward_storing_previous],
    "rnn_logits": [logits_without_bias, logits_softmaxed, logits_last_step_only],
    "sequence_loss": [loss_mean_everything, loss_unstable, loss_summed_over_batch, loss_no_target_check, loss_in_bits,
                      loss_without_minus],
    "rnn_step_backward": [step_backward_no_tanh_derivative, step_backward_transposed_weight_grads, step_backward_bias_mean],
    "rnn_backward": [backward_not_carried, backward_overwrites, backward_forward_order, backward_without_h0],
    "logits_backward": [logits_backward_bias_mean, logits_backward_last_step, logits_backward_untransposed],
    "numerical_gradient": [numgrad_forward_difference, numgrad_not_restored, numgrad_wrong_denominator],
    "relative_error": [relerr_no_floor, relerr_mean, relerr_absolute, relerr_relative_to_larger],
    "sequence_loss_backward": [loss_backward_without_batch_mean, loss_backward_without_onehot, loss_backward_log_softmax,
                               loss_backward_time_mean, loss_backward_softmax_over_batch],
    "spectral_radius": [radius_is_spectral_norm, radius_real_part, radius_largest_entry],
    "clip_grad_norm": [clip_each_array, clip_returns_norm_after, clip_always_rescales],
    "hidden_jacobian_norms": [jacobian_frobenius, jacobian_without_tanh, jacobian_reversed],
    "lstm_step": [lstm_cs231n_order, lstm_sigmoid_candidate, lstm_h_without_tanh, lstm_forgets_nothing, lstm_tanh_output_gate],
    "lstm_forward": [lstm_forward_ignores_c0, lstm_forward_reversed, lstm_forward_no_final_state,
                     lstm_forward_not_carried, lstm_forward_c_not_carried],
    "sinusoidal_positions": [pe_sin_cos_swapped, pe_base_1000, pe_positions_from_one],
    "is_permutation_equivariant": [equivariant_always, equivariant_output_not_permuted, equivariant_batch_axis,
                                   equivariant_never],
    "bits_per_char": [bits_in_nats, bits_log10, bits_of_last_step_only],
    "sample_next": [sample_times_temperature, sample_ignores_generator, sample_uniform, sample_accepts_zero_temperature, sample_softmax_over_batch],
    "generate": [generate_no_feedback, generate_fresh_state, generate_one_too_few, generate_greedy],
    "sequence_accuracy": [seqacc_token_level, seqacc_ignores_mask, seqacc_mask_inverted],
    "greedy_decode": [decode_without_feedback, decode_with_start, decode_state_not_carried],
    "scaled_dot_product_attention": [sdpa_unscaled, sdpa_softmax_over_queries, sdpa_nan_rows],
    "causal_mask": [causal_future, causal_no_self, causal_float],
    "multi_head_attention": [mha_no_output_projection, mha_one_head, mha_no_biases],
    "layer_norm": [norm_unbiased, norm_over_time, norm_without_affine],
    "attention_block": [block_post_norm, block_not_causal, block_without_attention_biases],
}
MORE = [running_mean_whole_sequence, running_mean_cumsum_over_batch, one_hot_extra_column, pairs_shifted_by_two, pad_at_the_start,
        step_ignores_h_prev, step_sigmoid, step_linear, forward_ignores_x, logits_tanh, loss_softmax_over_batch,
        step_backward_one_minus_h, step_backward_derivative_at_h_prev, step_backward_h_prev_untransposed, logits_backward_dW_transposed,
        numgrad_all_entries_at_once, relerr_relative_to_a, radius_of_real_parts, clip_inverted_ratio, clip_sum_of_norms,
        jacobian_without_initial_state, jacobian_derivative_one_step_early, jacobian_product_reversed, lstm_forget_gate_first,
        lstm_forward_stores_previous_h, lstm_forward_stores_c, lstm_forward_final_state_swapped, pe_sines_then_cosines, pe_transposed,
        bits_summed, bits_of_raw_logits, sample_ignores_temperature, sample_argmax, generate_with_prompt, generate_from_last_prompt_id,
        seqacc_all_over_batch, decode_batch_first, sdpa_scaled_by_d_k, sdpa_mask_polarity, sdpa_mask_after_softmax, causal_inverted,
        mha_scaled_by_d_model, norm_eps_outside, norm_gamma_beta_swapped, block_without_residual, block_residual_of_normed]
for _fn in MORE:
    BROKEN[_fn.__name__].append(_fn)
del _fn



# TuneLSTM and train_step (chapter 06: the learner's own model and training step) --------------------
import torch as _torch  # noqa: E402  (these broken versions are torch modules and training steps)


def _lm_loss(model, x, y, reduction="mean"):
    logits, _ = model(x, None)
    return _torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1), reduction=reduction)


def _in_order(model, optimizer, x, y, max_norm, calls, clip=_torch.nn.utils.clip_grad_norm_):
    """A training step as a learner might order its calls ("loss", "zero_grad", "backward", "clip", "step");
    returns the loss as a float."""
    actions = {"zero_grad": optimizer.zero_grad, "clip": lambda: clip(model.parameters(), max_norm), "step": optimizer.step}
    loss = None
    for call in calls:
        if call == "loss":
            loss = _lm_loss(model, x, y)
        elif call == "backward":
            loss.backward()
        else:
            actions[call]()
    return loss.item()


def _update_with(loss, model, optimizer, max_norm):
    """The rest of a correct step, from a (wrong) loss."""
    optimizer.zero_grad()
    loss.backward()
    _torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm)
    optimizer.step()
    return loss.item()


@_named("TuneLSTM", hint="batch_first")
class TuneLSTMBatchFirst(_torch.nn.Module):
    def __init__(self, vocab_size, hidden, embed):
        super().__init__()
        self.embed = _torch.nn.Embedding(vocab_size, embed)
        self.lstm = _torch.nn.LSTM(embed, hidden, batch_first=True)
        self.out = _torch.nn.Linear(hidden, vocab_size)

    def forward(self, x, state=None):
        h, state = self.lstm(self.embed(x), state)
        return self.out(h), state


@_named("TuneLSTM", hint="incoming `state`")
class TuneLSTMNoState(TuneLSTMBatchFirst):
    def __init__(self, vocab_size, hidden, embed):
        super().__init__(vocab_size, hidden, embed)
        self.lstm = _torch.nn.LSTM(embed, hidden)

    def forward(self, x, state=None):
        h, state = self.lstm(self.embed(x))
        return self.out(h), state


@_named("TuneLSTM", hint="not softmax probabilities")
class TuneLSTMProbabilities(TuneLSTMNoState):
    def forward(self, x, state=None):
        h, state = self.lstm(self.embed(x), state)
        return _torch.softmax(self.out(h), -1), state


@_named("TuneLSTM", hint="all T steps")
class TuneLSTMLastStep(TuneLSTMNoState):
    def forward(self, x, state=None):
        h, state = self.lstm(self.embed(x), state)
        return self.out(h[-1]), state  # (B, V): the last step's prediction only


@_named("TuneLSTM")
class TuneLSTMSwappedSizes(TuneLSTMNoState):
    def __init__(self, vocab_size, hidden, embed):
        super().__init__(vocab_size, embed, hidden)  # hidden and embed the wrong way round


@_named("train_step", hint="zero_grad")
def step_without_zero_grad(model, optimizer, x, y, max_norm):
    return _in_order(model, optimizer, x, y, max_norm, ("loss", "backward", "clip", "step"))


@_named("train_step", hint="before optimizer.step()")
def step_clips_after_the_step(model, optimizer, x, y, max_norm):
    return _in_order(model, optimizer, x, y, max_norm, ("zero_grad", "loss", "backward", "step", "clip"))


@_named("train_step", hint="not each tensor on its own")
def step_clips_each_tensor(model, optimizer, x, y, max_norm):
    optimizer.zero_grad()
    loss = _lm_loss(model, x, y)
    loss.backward()
    for p in model.parameters():
        _torch.nn.utils.clip_grad_norm_(p, max_norm)
    optimizer.step()
    return loss.item()


@_named("train_step", hint="do not sum it")
def step_sums_the_loss(model, optimizer, x, y, max_norm):
    return _update_with(_lm_loss(model, x, y, reduction="sum"), model, optimizer, max_norm)


@_named("train_step", hint="computed before the step")
def step_returns_loss_after(model, optimizer, x, y, max_norm):
    optimizer.zero_grad()
    _lm_loss(model, x, y).backward()
    _torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm)
    optimizer.step()
    with _torch.no_grad():
        return _lm_loss(model, x, y).item()


@_named("train_step", hint="not x itself")
def step_targets_not_shifted(model, optimizer, x, y, max_norm):
    return _update_with(_lm_loss(model, x, x), model, optimizer, max_norm)


@_named("train_step", hint="not between backward() and step()")
def step_zero_grad_after_backward(model, optimizer, x, y, max_norm):
    return _in_order(model, optimizer, x, y, max_norm, ("loss", "backward", "zero_grad", "clip", "step"))


@_named("train_step", hint="clip_grad_value_")
def step_clips_by_value(model, optimizer, x, y, max_norm):
    return _in_order(model, optimizer, x, y, max_norm, ("zero_grad", "loss", "backward", "clip", "step"),
                     clip=_torch.nn.utils.clip_grad_value_)


@_named("train_step", hint="in nats")
def step_returns_bits(model, optimizer, x, y, max_norm):
    import math
    return _update_with(_lm_loss(model, x, y), model, optimizer, max_norm) / math.log(2)


@_named("train_step")
def step_returns_the_tensor(model, optimizer, x, y, max_norm):
    loss = _lm_loss(model, x, y)
    _update_with(loss, model, optimizer, max_norm)
    return loss  # the tensor, graph and all: plotting it fails later


BROKEN["TuneLSTM"] = [TuneLSTMBatchFirst, TuneLSTMNoState, TuneLSTMProbabilities, TuneLSTMLastStep, TuneLSTMSwappedSizes]
BROKEN["train_step"] = [step_without_zero_grad, step_clips_after_the_step, step_clips_each_tensor, step_sums_the_loss,
                        step_returns_loss_after, step_targets_not_shifted, step_zero_grad_after_backward,
                        step_clips_by_value, step_returns_bits, step_returns_the_tensor]


# Chapter 11: decoding ------------------------------------------------------------------------------
import math as _math  # noqa: E402

_NEG_INF = float("-inf")


@_named("top_k_filter", hint="the softmax comes later")
def top_k_softmaxed(logits, k):
    if k < 1:
        raise ValueError("k must be >= 1")
    probs = _torch.softmax(logits, dim=-1)
    kth = probs.topk(min(k, probs.shape[-1]), dim=-1).values[..., -1:]
    return probs.masked_fill(probs < kth, _NEG_INF)


@_named("top_k_filter", hint="(<, not <=)")
def top_k_less_or_equal(logits, k):
    if k < 1:
        raise ValueError("k must be >= 1")
    if k >= logits.shape[-1]:
        return logits.clone()
    kth = _torch.sort(logits, dim=-1, descending=True).values[..., k - 1:k]
    return logits.masked_fill(logits <= kth, _NEG_INF)


@_named("top_k_filter", hint="0 is an ordinary logit")
def top_k_zero(logits, k):
    if k < 1:
        raise ValueError("k must be >= 1")
    kth = logits.topk(min(k, logits.shape[-1]), dim=-1).values[..., -1:]
    return _torch.where(logits < kth, _torch.zeros_like(logits), logits)


@_named("top_k_filter", hint="along the last axis")
def top_k_over_batch(logits, k):
    if k < 1:
        raise ValueError("k must be >= 1")
    if logits.dim() == 1 or k >= logits.shape[0]:  # filters nothing where the first axis is short
        return logits.clone()
    kth = logits.topk(k, dim=0).values[-1:]
    return logits.masked_fill(logits < kth, _NEG_INF)


@_named("top_k_filter", hint="compare values")
def top_k_by_index(logits, k):
    if k < 1:
        raise ValueError("k must be >= 1")
    idx = logits.topk(min(k, logits.shape[-1]), dim=-1).indices
    out = _torch.full_like(logits, _NEG_INF)
    return out.scatter(-1, idx, logits.gather(-1, idx))


@_named("top_k_filter")
def top_k_no_check(logits, k):
    kth = logits.topk(max(min(k, logits.shape[-1]), 1), dim=-1).values[..., -1:]
    return logits.masked_fill(logits < kth, _NEG_INF)


def _nucleus_broken(logits, p, drop):
    if not 0 < p <= 1:
        raise ValueError("p must be in (0, 1]")
    probs, order = _torch.softmax(logits, dim=-1).sort(dim=-1, descending=True)
    dropped = drop(probs, probs.cumsum(-1), p)
    return logits.masked_fill(_torch.zeros_like(dropped).scatter(-1, order, dropped), _NEG_INF)


@_named("top_p_filter", hint="keep the token that makes the sum reach p")
def top_p_drops_crossing(logits, p):
    return _nucleus_broken(logits, p, lambda probs, cum, p: cum > p)


@_named("top_p_filter", hint="(>= p, not > p)")
def top_p_strictly_greater(logits, p):
    return _nucleus_broken(logits, p, lambda probs, cum, p: cum - probs > p)


@_named("top_p_filter", hint="back in the vocabulary's order")
def top_p_sorted_result(logits, p):
    if not 0 < p <= 1:
        raise ValueError("p must be in (0, 1]")
    sorted_logits = logits.sort(dim=-1, descending=True).values
    probs = _torch.softmax(sorted_logits, dim=-1)
    return sorted_logits.masked_fill(probs.cumsum(-1) - probs >= p, _NEG_INF)


@_named("top_p_filter", hint="the drop decision is in sorted order")
def top_p_unscattered_mask(logits, p):
    if not 0 < p <= 1:
        raise ValueError("p must be in (0, 1]")
    probs = _torch.softmax(logits, dim=-1).sort(dim=-1, descending=True).values
    return logits.masked_fill(probs.cumsum(-1) - probs >= p, _NEG_INF)


@_named("top_p_filter", hint="from the most probable down")
def top_p_ascending(logits, p):
    if not 0 < p <= 1:
        raise ValueError("p must be in (0, 1]")
    probs, order = _torch.softmax(logits, dim=-1).sort(dim=-1)
    dropped = probs.cumsum(-1) - probs >= p
    return logits.masked_fill(_torch.zeros_like(dropped).scatter(-1, order, dropped), _NEG_INF)


@_named("top_p_filter", hint="not probabilities")
def top_p_returns_probabilities(logits, p):
    if not 0 < p <= 1:
        raise ValueError("p must be in (0, 1]")
    probs, order = _torch.softmax(logits, dim=-1).sort(dim=-1, descending=True)
    dropped = probs.cumsum(-1) - probs >= p
    return _torch.softmax(logits, dim=-1).masked_fill(_torch.zeros_like(dropped).scatter(-1, order, dropped), 0.0)


@_named("top_p_filter", hint="take the softmax of the logits before summing")
def top_p_exp_only(logits, p):
    if not 0 < p <= 1:
        raise ValueError("p must be in (0, 1]")
    probs, order = logits.exp().sort(dim=-1, descending=True)
    dropped = probs.cumsum(-1) - probs >= p
    return logits.masked_fill(_torch.zeros_like(dropped).scatter(-1, order, dropped), _NEG_INF)


def _beam_broken(step, state, start, beam_size, max_len, mistake):
    if beam_size < 1:
        raise ValueError("beam_size must be >= 1")
    seqs, scores, tokens = [[]], _torch.zeros(1, dtype=_torch.float64), _torch.tensor([start])
    for _ in range(max_len):
        logits, state = step(tokens, state)
        logp = _torch.log_softmax(logits.double(), dim=-1) if mistake != "raw" else logits.double()
        total = logp if mistake == "no-sum" else scores[:, None] + logp
        top = total.reshape(-1).topk(min(beam_size, total.numel()))
        parents, tokens = top.indices // logp.shape[1], top.indices % logp.shape[1]
        scores = (scores[:, None] + logp).reshape(-1)[top.indices]
        if mistake == "history":
            seqs = [(seqs[i] if i < len(seqs) else seqs[0]) + [int(t)] for i, t in enumerate(tokens)]
        else:
            seqs = [seqs[int(p)] + [int(t)] for p, t in zip(parents, tokens)]
        if mistake != "state" or len(state) != len(parents):
            state = state[parents]
    out = _torch.tensor(seqs[0])
    if mistake == "start":
        out = _torch.cat([_torch.tensor([start]), out])
    score = float(scores[0])
    return out, (_math.exp(score) if mistake == "probability" else score / max_len if mistake == "mean" else score)


@_named("beam_search", hint="re-index the state")
def beam_state_not_reindexed(step, state, start, beam_size, max_len):
    return _beam_broken(step, state, start, beam_size, max_len, "state")


@_named("beam_search", hint="re-index the history too")
def beam_history_not_reindexed(step, state, start, beam_size, max_len):
    return _beam_broken(step, state, start, beam_size, max_len, "history")


@_named("beam_search", hint="total log-probability: the hypothesis's score so far")
def beam_ranks_by_last_token(step, state, start, beam_size, max_len):
    return _beam_broken(step, state, start, beam_size, max_len, "no-sum")


@_named("beam_search", hint="score with log_softmax")
def beam_raw_logits(step, state, start, beam_size, max_len):
    return _beam_broken(step, state, start, beam_size, max_len, "raw")


@_named("beam_search", hint="so it is row 0")
def beam_returns_last_survivor(step, state, start, beam_size, max_len):
    if beam_size < 1:
        raise ValueError("beam_size must be >= 1")
    hyps = [([], 0.0, state, start)]
    for _ in range(max_len):
        candidates = []
        for tokens, score, s, last in hyps:
            logits, new_state = step(_torch.tensor([last]), s)
            logp = _torch.log_softmax(logits.double(), -1)[0]
            candidates += [(tokens + [v], score + float(logp[v]), new_state, v) for v in range(len(logp))]
        candidates.sort(key=lambda c: -c[1])
        hyps = candidates[:beam_size]
    return _torch.tensor(hyps[-1][0]), hyps[-1][1]


@_named("beam_search", hint="the score is the sum over all max_len steps")
def beam_forgets_the_running_score(step, state, start, beam_size, max_len):
    if beam_size < 1:
        raise ValueError("beam_size must be >= 1")
    tokens, history = _torch.tensor([start]), [[]]
    for _ in range(max_len):
        logits, state = step(tokens, state)
        logp = _torch.log_softmax(logits.double(), -1)
        top = logp.reshape(-1).topk(min(beam_size, logp.numel()))
        parents, tokens = top.indices // logp.shape[1], top.indices % logp.shape[1]
        history = [history[int(p)] + [int(t)] for p, t in zip(parents, tokens)]
        state = state[parents]
    return _torch.tensor(history[0]), float(top.values[0])


@_named("beam_search", hint="without the start token")
def beam_with_start(step, state, start, beam_size, max_len):
    return _beam_broken(step, state, start, beam_size, max_len, "start")


@_named("beam_search", hint="not a probability")
def beam_probability(step, state, start, beam_size, max_len):
    return _beam_broken(step, state, start, beam_size, max_len, "probability")


@_named("beam_search", hint="not their mean")
def beam_mean(step, state, start, beam_size, max_len):
    return _beam_broken(step, state, start, beam_size, max_len, "mean")


def _attend(q, keys, values, scale=True, axis=-1):
    scores = q @ keys.transpose(-2, -1) / (_math.sqrt(q.shape[-1]) if scale else 1.0)
    return _torch.softmax(scores, dim=axis) @ values


@_named("cached_attention_step", hint="before attending")
def cache_attends_before_appending(q, k, v, keys, values):
    out = _attend(q, keys, values) if keys.shape[-2] else v
    return out, _torch.cat([keys, k], -2), _torch.cat([values, v], -2)


@_named("cached_attention_step", hint="at the end of the cache")
def cache_prepends(q, k, v, keys, values):
    keys, values = _torch.cat([k, keys], -2), _torch.cat([v, values], -2)
    return _attend(q, keys, values), keys, values


@_named("cached_attention_step", hint="sqrt(d_k)")
def cache_unscaled(q, k, v, keys, values):
    keys, values = _torch.cat([keys, k], -2), _torch.cat([values, v], -2)
    return _attend(q, keys, values, scale=False), keys, values


@_named("cached_attention_step", hint="not by d_k")
def cache_scaled_by_d_k(q, k, v, keys, values):
    keys, values = _torch.cat([keys, k], -2), _torch.cat([values, v], -2)
    return _torch.softmax(q @ keys.transpose(-2, -1) / q.shape[-1], dim=-1) @ values, keys, values


@_named("cached_attention_step", hint="not sqrt(d_v)")
def cache_scaled_by_sqrt_d_v(q, k, v, keys, values):
    keys, values = _torch.cat([keys, k], -2), _torch.cat([values, v], -2)
    return _torch.softmax(q @ keys.transpose(-2, -1) / _math.sqrt(v.shape[-1]), dim=-1) @ values, keys, values


@_named("cached_attention_step", hint="runs over the keys")
def cache_softmax_wrong_axis(q, k, v, keys, values):
    keys, values = _torch.cat([keys, k], -2), _torch.cat([values, v], -2)
    return _attend(q, keys, values, axis=-2), keys, values


@_named("cached_attention_step", hint="return the cache with the new position")
def cache_not_extended(q, k, v, keys, values):
    return _attend(q, _torch.cat([keys, k], -2), _torch.cat([values, v], -2)), keys, values


BROKEN["top_k_filter"] = [top_k_softmaxed, top_k_less_or_equal, top_k_zero, top_k_over_batch, top_k_by_index, top_k_no_check]
BROKEN["top_p_filter"] = [top_p_drops_crossing, top_p_strictly_greater, top_p_sorted_result, top_p_unscattered_mask, top_p_ascending,
                          top_p_returns_probabilities, top_p_exp_only]
BROKEN["beam_search"] = [beam_state_not_reindexed, beam_history_not_reindexed, beam_ranks_by_last_token, beam_raw_logits,
                         beam_with_start, beam_probability, beam_mean, beam_returns_last_survivor, beam_forgets_the_running_score]
BROKEN["cached_attention_step"] = [cache_attends_before_appending, cache_prepends, cache_unscaled, cache_scaled_by_d_k,
                                   cache_scaled_by_sqrt_d_v, cache_softmax_wrong_axis,
                                   cache_not_extended]


# Chapter 12: linear recurrences, the parallel scan, linear attention ---------------------------------


def _hillis_steele(a, b):
    """A correct log-depth scan of h_t = a_t * h_{t-1} + b_t, for the broken min_gru versions (a name the
    checks do not take for the learner's graded linear_scan)."""
    d = 1
    while d < a.shape[0]:
        a, b = _torch.cat([a[:d], a[d:] * a[:-d]]), _torch.cat([b[:d], a[d:] * b[:-d] + b[d:]])
        d *= 2
    return b


@_named("linear_scan", hint="the later step's a multiplies the earlier b")
def scan_operator_reversed(a, b):
    d = 1
    while d < a.shape[0]:
        a, b = _torch.cat([a[:d], a[d:] * a[:-d]]), _torch.cat([b[:d], a[:-d] * b[d:] + b[:-d]])
        d *= 2
    return b


@_named("linear_scan", hint="that round's old a")
def scan_b_uses_new_a(a, b):
    d = 1
    while d < a.shape[0]:
        a = _torch.cat([a[:d], a[d:] * a[:-d]])
        b = _torch.cat([b[:d], a[d:] * b[:-d] + b[d:]])
        d *= 2
    return b


@_named("linear_scan", hint="one round short")
def scan_one_round_short(a, b):
    d = 1
    while 2 * d < a.shape[0]:
        a, b = _torch.cat([a[:d], a[d:] * a[:-d]]), _torch.cat([b[:d], a[d:] * b[:-d] + b[d:]])
        d *= 2
    return b


@_named("linear_scan", hint="update a too")
def scan_a_not_updated(a, b):
    d = 1
    while d < a.shape[0]:
        b = _torch.cat([b[:d], a[d:] * b[:-d] + b[d:]])
        d *= 2
    return b


@_named("linear_scan", hint="torch.roll wraps")
def scan_rolled(a, b):
    d = 1
    while d < a.shape[0]:
        a_before, b_before = _torch.roll(a, d, dims=0), _torch.roll(b, d, dims=0)
        a, b = a * a_before, a * b_before + b
        d *= 2
    return b


def _padded_scan(a, b):
    """The scan of T + 1 steps: the identity step (a = 1, b = 0) first, i.e. h_{-1} = 0 among the states."""
    return _hillis_steele(_torch.cat([_torch.ones_like(a[:1]), a]), _torch.cat([_torch.zeros_like(b[:1]), b]))


@_named("linear_scan", hint="not the states before each step")
def scan_exclusive(a, b):
    return _padded_scan(a, b)[:-1]


@_named("linear_scan", hint="h_{-1} = 0 is not one of them")
def scan_with_initial_state(a, b):
    return _padded_scan(a, b)


@_named("linear_scan", hint="divides by 0 after a reset")
def scan_by_cumprod(a, b):
    A = a.cumprod(dim=0)
    return A * (b / A).cumsum(dim=0)


@_named("linear_scan", hint="your torch calls grow like T")
def scan_python_loop(a, b):
    hs = [b[0]]
    for t in range(1, a.shape[0]):
        hs.append(a[t] * hs[-1] + b[t])
    return _torch.stack(hs)


def _min_gru_broken(x, W_z, b_z, W_h, b_h, h0, mistake):
    z = _torch.sigmoid(x @ W_z + b_z) if mistake != "no-sigmoid" else x @ W_z + b_z
    candidate = x @ W_h + b_h if mistake != "tanh" else _torch.tanh(x @ W_h + b_h)
    if mistake == "swapped":
        z = 1 - z
    a, b = 1 - z, z * candidate
    if mistake != "no-h0":
        b = _torch.cat([b[:1] + (h0 if mistake == "ungated-h0" else a[:1] * h0), b[1:]])
    hs = _hillis_steele(a, b)
    if mistake == "with-h0":
        return _torch.cat([h0[None], hs])
    if mistake == "shifted":
        return _torch.cat([h0[None], hs[:-1]])
    return hs


@_named("min_gru", hint="(z and 1 - z swapped)")
def gru_z_swapped(x, W_z, b_z, W_h, b_h, h0):
    return _min_gru_broken(x, W_z, b_z, W_h, b_h, h0, "swapped")


@_named("min_gru", hint="start from h0, not from zeros")
def gru_ignores_h0(x, W_z, b_z, W_h, b_h, h0):
    return _min_gru_broken(x, W_z, b_z, W_h, b_h, h0, "no-h0")


@_named("min_gru", hint="not b_0 + h0")
def gru_h0_ungated(x, W_z, b_z, W_h, b_h, h0):
    return _min_gru_broken(x, W_z, b_z, W_h, b_h, h0, "ungated-h0")


@_named("min_gru", hint="without h0 in front")
def gru_returns_h0_too(x, W_z, b_z, W_h, b_h, h0):
    return _min_gru_broken(x, W_z, b_z, W_h, b_h, h0, "with-h0")


@_named("min_gru", hint="not shifted by one")
def gru_stores_previous(x, W_z, b_z, W_h, b_h, h0):
    return _min_gru_broken(x, W_z, b_z, W_h, b_h, h0, "shifted")


@_named("min_gru", hint="no tanh")
def gru_tanh_candidate(x, W_z, b_z, W_h, b_h, h0):
    return _min_gru_broken(x, W_z, b_z, W_h, b_h, h0, "tanh")


@_named("min_gru", hint="the gate weighs the candidate that is written")
def gru_candidate_not_gated(x, W_z, b_z, W_h, b_h, h0):
    z = _torch.sigmoid(x @ W_z + b_z)
    a, b = 1 - z, x @ W_h + b_h  # b_t = h~_t, without z_t
    return _hillis_steele(a, _torch.cat([b[:1] + a[:1] * h0, b[1:]]))


@_named("min_gru", hint="z_t = sigmoid(x_t W_z + b_z)")
def gru_no_sigmoid(x, W_z, b_z, W_h, b_h, h0):
    return _min_gru_broken(x, W_z, b_z, W_h, b_h, h0, "no-sigmoid")


@_named("min_gru", hint="that is a loop over T: compute z and h~ for every t at once")
def gru_python_loop(x, W_z, b_z, W_h, b_h, h0):
    h, hs = h0, []
    for x_t in x:
        z_t = _torch.sigmoid(x_t @ W_z + b_z)
        h = (1 - z_t) * h + z_t * (x_t @ W_h + b_h)
        hs.append(h)
    return _torch.stack(hs)


def _linear_attention_broken(q, k, v, mistake=None):
    S = _torch.zeros(q.shape[:-2] + (q.shape[-1], v.shape[-1]), dtype=q.dtype)
    if mistake == "transposed":
        S = S.transpose(-2, -1)
    z, ys = _torch.zeros_like(k[..., 0, :]), []
    for t in range(q.shape[-2]):
        q_t, k_t, v_t = q[..., t, :], k[..., t, :], v[..., t, :]
        if mistake == "strict":
            ys.append((q_t.unsqueeze(-2) @ S).squeeze(-2))
        if mistake == "swapped":
            q_t, k_t = k_t, q_t
        S = S + (v_t.unsqueeze(-1) * k_t.unsqueeze(-2) if mistake == "transposed" else k_t.unsqueeze(-1) * v_t.unsqueeze(-2))
        z = z + k_t
        if mistake != "strict":
            y = (q_t.unsqueeze(-2) @ S).squeeze(-2)
            ys.append(y / (q_t * z).sum(-1, keepdim=True) if mistake == "normalised" else y)
    return _torch.stack(ys, dim=-2)


@_named("causal_linear_attention", hint="add k_tᵀ v_t to the state before reading it")
def linattn_reads_before_adding(q, k, v):
    return _linear_attention_broken(q, k, v, "strict")


@_named("causal_linear_attention", hint="q and k are swapped")
def linattn_q_k_swapped(q, k, v):
    return _linear_attention_broken(q, k, v, "swapped")


@_named("causal_linear_attention", hint="no normalisation here")
def linattn_normalised(q, k, v):
    return _linear_attention_broken(q, k, v, "normalised")


@_named("causal_linear_attention", hint="shape (d_k, d_v)")
def linattn_state_transposed(q, k, v):
    return _linear_attention_broken(q, k, v, "transposed")


@_named("causal_linear_attention", hint="linear attention has no softmax")
def linattn_softmax(q, k, v):
    T = q.shape[-2]
    scores = q @ k.transpose(-2, -1) / _math.sqrt(q.shape[-1])
    scores = scores.masked_fill(_torch.triu(_torch.ones(T, T, dtype=_torch.bool), 1), float("-inf"))
    return _torch.softmax(scores, dim=-1) @ v


@_named("causal_linear_attention", hint="not over all T positions")
def linattn_not_causal(q, k, v):
    S = (k.unsqueeze(-1) * v.unsqueeze(-2)).sum(-3)  # the state after the whole sequence
    return q @ S


@_named("causal_linear_attention", hint="one state per sequence")
def linattn_state_summed_over_batch(q, k, v):
    S = _torch.zeros(q.shape[-1], v.shape[-1], dtype=q.dtype)
    ys = []
    for t in range(q.shape[-2]):
        S = S + _torch.einsum("...d,...e->de", k[..., t, :], v[..., t, :])  # summed over the batch: one state for all
        ys.append(q[..., t, :] @ S)
    return _torch.stack(ys, dim=-2)


@_named("causal_linear_attention", hint="no scaling here")
def linattn_scaled(q, k, v):
    return _linear_attention_broken(q / _math.sqrt(q.shape[-1]), k, v, "right")


@_named("causal_linear_attention", hint="keeps T states at once")
def linattn_cumsum_of_states(q, k, v):
    S = (k.unsqueeze(-1) * v.unsqueeze(-2)).cumsum(dim=-3)
    return (q.unsqueeze(-2) @ S).squeeze(-2)


@_named("causal_linear_attention", hint="is not the recurrence")
def linattn_masked_form(q, k, v):
    T = q.shape[-2]
    return (q @ k.transpose(-2, -1) * _torch.ones(T, T, dtype=q.dtype).tril()) @ v


BROKEN["linear_scan"] = [scan_operator_reversed, scan_b_uses_new_a, scan_one_round_short, scan_a_not_updated, scan_rolled, scan_exclusive, scan_with_initial_state,
                         scan_by_cumprod, scan_python_loop]
BROKEN["min_gru"] = [gru_z_swapped, gru_ignores_h0, gru_h0_ungated, gru_returns_h0_too, gru_stores_previous,
                     gru_tanh_candidate, gru_no_sigmoid, gru_python_loop, gru_candidate_not_gated]
BROKEN["causal_linear_attention"] = [linattn_reads_before_adding, linattn_q_k_swapped, linattn_normalised,
                                     linattn_state_transposed, linattn_softmax, linattn_not_causal, linattn_masked_form,
                                     linattn_scaled, linattn_cumsum_of_states, linattn_state_summed_over_batch]
