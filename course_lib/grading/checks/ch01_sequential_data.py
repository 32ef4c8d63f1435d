"""Checks of chapter 01's exercises: `one_hot`, `next_step_pairs`, `pad_batch`."""
import numpy as np

from course_lib.grading.checks.core import Case, Exercise, Hint
from course_lib.sequences import next_step_pairs, one_hot, pad_batch


def _one_hot_cases(rng, hidden):
    if hidden:
        v = int(rng.integers(7, 60))
        T, B = int(rng.integers(2, 20)), int(rng.integers(2, 6))
        return [
            Case("hidden: random indices (time, batch)", (rng.integers(0, v, size=(T, B)), v), hidden=True),
            Case("hidden: random 1-D indices", (rng.integers(0, v, size=T + 1), v), hidden=True),
        ]
    return [
        Case("indices [2, 0, 1], vocab_size=3", (np.array([2, 0, 1]), 3)),
        Case("random indices of shape (7,), vocab_size=5", (rng.integers(0, 5, size=7), 5)),
        Case("random indices of shape (4, 3) (time, batch), vocab_size=6", (rng.integers(0, 6, size=(4, 3)), 6)),
        Case("a Python list [0, 1], vocab_size=2", ([0, 1], 2)),
        Case("index 4 with vocab_size=4 raises ValueError", (np.array([0, 4]), 4), raises=(ValueError,)),
    ]


def _pairs_cases(rng, hidden):
    if hidden:
        t, b, d = int(rng.integers(3, 30)), int(rng.integers(2, 8)), int(rng.integers(2, 8))
        return [
            Case("hidden: random tokens, one sequence", (rng.integers(0, 50, size=t),), hidden=True),
            Case("hidden: random features (time, batch, feature)", (rng.normal(size=(t, b, d)),), hidden=True),
        ]
    return [
        Case("tokens [5, 6, 7, 8]", (np.array([5, 6, 7, 8]),)),
        Case("two steps [1, 2]", (np.array([1, 2]),)),
        Case("random tokens of shape (9, 2) (time, batch)", (rng.integers(0, 10, size=(9, 2)),)),
        Case("random features of shape (5, 2, 3)", (rng.normal(size=(5, 2, 3)),)),
        Case("a single step raises ValueError", (np.array([3]),), raises=(ValueError,)),
    ]


def _random_batch(rng, b, max_len):
    """b >= 2 random sequences whose lengths are not all equal (so that there is padding to check)."""
    lengths = rng.integers(1, max_len, size=b)
    lengths[rng.integers(b)] = max_len
    lengths[(int(np.argmax(lengths)) + 1) % b] = int(rng.integers(1, max_len))
    return [rng.integers(1, 20, size=int(n)) for n in lengths]


def _pad_cases(rng, hidden):
    if hidden:
        b = int(rng.integers(2, 8))
        return [
            Case("hidden: random sequences of different lengths, pad_value=0", (_random_batch(rng, b, 15), 0), hidden=True),
            Case("hidden: random sequences of different lengths, pad_value=-1", (_random_batch(rng, b + 1, 15), -1), hidden=True),
        ]
    return [
        Case("[[1, 2, 3], [4, 5], [6]], pad_value=0", ([[1, 2, 3], [4, 5], [6]], 0)),
        Case("one sequence [7, 8], pad_value=0", ([[7, 8]], 0)),
        Case("4 random integer sequences, pad_value=-1", (_random_batch(rng, 4, 8), -1)),
        Case("sequences of equal length", ([[1, 2], [3, 4]], 0)),
        Case("empty batch raises ValueError", ([], 0), raises=(ValueError,)),
    ]


def _left_padded(sequences, pad_value=0):
    padded, mask = pad_batch(sequences, pad_value)
    lengths = mask.sum(axis=0)
    for b, n in enumerate(lengths):
        padded[:, b] = np.roll(padded[:, b], padded.shape[0] - n)
        mask[:, b] = np.roll(mask[:, b], padded.shape[0] - n)
    return padded, mask


EXERCISES = [
    Exercise(
        name="one_hot", reference=one_hot, points=2, make_cases=_one_hot_cases,
        hints=[
            Hint(lambda idx, v: one_hot(idx, v).T, "your output is transposed: the vocabulary axis goes last, (..., V)"),
            Hint(lambda idx, v: one_hot(idx, v).astype(np.int64), "use float64 ones and zeros, as the exercise asks (np.eye gives them), not integers"),
            Hint(lambda idx, v: np.eye(v + 1)[np.asarray(idx)], "the last axis should have vocab_size entries, not vocab_size + 1"),
            Hint(lambda idx, v: one_hot(np.ravel(idx), v), "keep the indices' shape: the result is indices.shape + (vocab_size,)"),
        ],
    ),
    Exercise(
        name="next_step_pairs", reference=next_step_pairs, points=2, make_cases=_pairs_cases,
        output_names=("inputs", "targets"),
        hints=[
            Hint(lambda s: (np.asarray(s)[1:], np.asarray(s)[:-1]), "inputs and targets are swapped: the target comes one step *after* the input"),
            Hint(lambda s: (np.asarray(s)[:, :-1], np.asarray(s)[:, 1:]), "you shifted along axis 1; time is axis 0"),
            Hint(lambda s: (np.asarray(s)[:-2], np.asarray(s)[2:]), "shift by exactly one step"),
            Hint(lambda s: (np.asarray(s), np.asarray(s)), "the targets are the inputs shifted by one step: inputs s[:-1], targets s[1:]"),
        ],
    ),
    Exercise(
        name="pad_batch", reference=pad_batch, points=3, make_cases=_pad_cases,
        output_names=("padded", "mask"),
        hints=[
            Hint(lambda s, p=0: tuple(a.T for a in pad_batch(s, p)), "your arrays are batch-first; the course is time-first: (T_max, B)"),
            Hint(lambda s, p=0: (pad_batch(s, p)[0], ~pad_batch(s, p)[1]), "your mask is inverted: True marks a real entry, False padding"),
            Hint(_left_padded, "you padded at the start; sequences start at t = 0 and the padding goes after them"),
            Hint(lambda s, p=0: pad_batch(s, 0), "fill the padding with pad_value, not always 0"),
            Hint(lambda s, p=0: (pad_batch(s, p)[0], pad_batch(s, p)[1].astype(float)), "the mask holds booleans (dtype bool), not numbers"),
        ],
    ),
]
