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


BROKEN = {
    "running_mean": [running_sum, running_mean_over_batch, running_mean_without_validation, running_mean_off_by_one],
    "one_hot": [one_hot_transposed, one_hot_no_range_check, one_hot_integer_dtype, one_hot_flattened],
    "next_step_pairs": [pairs_swapped, pairs_last_axis, pairs_not_shifted, pairs_no_length_check],
    "pad_batch": [pad_batch_first, pad_mask_inverted, pad_ignores_pad_value, pad_float_mask],
}
