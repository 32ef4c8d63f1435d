"""Chapter 00-01 references, checked against torch and against plain loops, and their bad-input errors."""
import re

import numpy as np
import pytest
import torch

from course_lib.sequences import next_step_pairs, one_hot, pad_batch, padding_fraction
from course_lib.welcome import running_mean


def test_one_hot_matches_torch(rng=np.random.default_rng(0)):
    idx = rng.integers(0, 7, size=(5, 3))
    expected = torch.nn.functional.one_hot(torch.from_numpy(idx), 7).numpy()
    out = one_hot(idx, 7)
    assert out.dtype == np.float64 and np.array_equal(out, expected)


def test_one_hot_of_empty_input_has_vocab_axis():
    assert one_hot(np.array([], dtype=np.int64), 4).shape == (0, 4)


@pytest.mark.parametrize("indices, size, error, words", [
    ([0, -1], 3, ValueError, "indices must be in [0, 3)"),
    ([0, 3], 3, ValueError, "indices must be in [0, 3)"),
    ([0.0, 1.0], 3, TypeError, "indices must hold integers"),
    ([True, False], 3, TypeError, "indices must hold integers"),
    ("abc", 3, TypeError, "indices"),
    ([1, 2], 0, ValueError, "vocab_size must be a positive integer"),
    ([1, 2], 2.5, ValueError, "vocab_size"),
])
def test_one_hot_bad_input(indices, size, error, words):
    with pytest.raises(error, match=re.escape(words)):
        one_hot(indices, size)


def test_next_step_pairs_shift_along_time():
    seq = np.arange(24).reshape(6, 2, 2)
    inputs, targets = next_step_pairs(seq)
    assert inputs.shape == targets.shape == (5, 2, 2)
    assert np.array_equal(inputs[1:], targets[:-1])


@pytest.mark.parametrize("seq", [[1], [], 5])
def test_next_step_pairs_needs_two_steps(seq):
    with pytest.raises(ValueError, match="sequence must have at least 2 time steps"):
        next_step_pairs(seq)


def test_pad_batch_matches_torch_pad_sequence():
    rng = np.random.default_rng(1)
    seqs = [rng.integers(1, 9, size=n) for n in (4, 1, 6, 3)]
    padded, mask = pad_batch(seqs, pad_value=-1)
    expected = torch.nn.utils.rnn.pad_sequence([torch.from_numpy(s) for s in seqs], padding_value=-1).numpy()
    assert np.array_equal(padded, expected)  # torch's default layout is time-first too
    assert mask.dtype == bool and np.array_equal(mask, expected != -1)


def test_pad_batch_keeps_integer_dtype_with_an_empty_sequence():
    padded, mask = pad_batch([[1, 2], []])
    assert padded.dtype == np.int64 and mask[:, 1].sum() == 0


@pytest.mark.parametrize("sequences, error, words", [
    ([], ValueError, "sequences is empty"),
    ([[1, 2], [[3]]], ValueError, "sequences[1] must have 1 axis"),
    ([[1, 2], 3], ValueError, "sequences[1] must be a sequence"),
    ([[1, 2], [[3, 4], [5]]], ValueError, "sequences[1] must be a rectangular array"),
    ("abc", TypeError, "sequences must be a list"),
])
def test_pad_batch_bad_input(sequences, error, words):
    with pytest.raises(error, match=re.escape(words)):
        pad_batch(sequences)


def test_padding_fraction_counts_pad_entries():
    assert padding_fraction([1, 3], batch_size=2) == pytest.approx(1 - 4 / 6)
    assert padding_fraction([1, 3, 1, 3], batch_size=2, sort_by_length=True) == 0.0


def test_running_mean_matches_a_loop():
    x = np.random.default_rng(2).normal(size=(7, 3))
    expected = np.array([[x[: t + 1, b].mean() for b in range(3)] for t in range(7)])
    assert np.allclose(running_mean(x), expected, atol=1e-12)


@pytest.mark.parametrize("x, words", [(np.zeros(3), "x must have 2 axes"), (np.array([[np.nan]]), "x contains NaN")])
def test_running_mean_bad_input(x, words):
    with pytest.raises(ValueError, match=words):
        running_mean(x)

