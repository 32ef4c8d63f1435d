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


BROKEN = {
    "running_mean": [running_sum, running_mean_over_batch, running_mean_without_validation, running_mean_off_by_one],
    "one_hot": [one_hot_transposed, one_hot_no_range_check, one_hot_integer_dtype, one_hot_flattened],
    "next_step_pairs": [pairs_swapped, pairs_last_axis, pairs_not_shifted, pairs_no_length_check],
    "pad_batch": [pad_batch_first, pad_mask_inverted, pad_ignores_pad_value, pad_float_mask],
    "rnn_step": [step_transposed_W_hh, step_without_bias, step_relu, step_returns_bare_array],
    "rnn_forward": [forward_reusing_h0, forward_including_h0, forward_time_reversed, forward_batch_first],
    "rnn_logits": [logits_without_bias, logits_softmaxed, logits_last_step_only],
    "sequence_loss": [loss_mean_everything, loss_unstable, loss_summed_over_batch, loss_no_target_check],
}
