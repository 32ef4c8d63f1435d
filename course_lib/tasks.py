"""Synthetic long-memory tasks, generated on the fly from a seed (NumPy arrays, time-first).

- The **recall** task: see a symbol at step 0, then `lag` - 1 random distractors, then a query at step
  `lag`; answer with the first symbol. Chance is 1 / n_symbols. The gradient that teaches it must travel `lag` steps back.
- The **adding problem**: a stream of random numbers in [0, 1) with two of them marked; answer their sum.
  Always answering the mean (1.0) gives a mean squared error of 1/6.
"""
import numpy as np


def recall_task(lag, B, rng, n_symbols=8):
    """x: (lag + 1, B, n_symbols + 1) one-hot inputs, targets: (B,) ints, the symbol shown at step 0.

    Steps 0..lag-1 show random symbols; step `lag` shows only the query flag (the last input feature).
    """
    if lag < 1:
        raise ValueError(f"lag must be at least 1, got {lag}.")
    symbols = rng.integers(0, n_symbols, size=(lag, B))
    x = np.zeros((lag + 1, B, n_symbols + 1), dtype=np.float32)
    np.put_along_axis(x[:lag], symbols[..., None], 1.0, axis=-1)
    x[lag, :, n_symbols] = 1.0
    return x, symbols[0]


def adding_problem(T, B, rng):
    """x: (T, B, 2) float32 with x[..., 0] random values and x[..., 1] marking one step in each half;
    targets: (B,) float32, the sum of the two marked values."""
    values = rng.random(size=(T, B)).astype(np.float32)
    marks = np.zeros((T, B), dtype=np.float32)
    cols = np.arange(B)
    marks[rng.integers(0, T // 2, size=B), cols] = 1.0
    marks[rng.integers(T // 2, T, size=B), cols] = 1.0
    return np.stack([values, marks], axis=-1), (values * marks).sum(axis=0)
