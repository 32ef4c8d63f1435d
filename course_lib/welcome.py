"""Chapter 00 — the warm-up exercise: a running mean, the simplest recurrence.

m_t = m_{t-1} + (x_t - m_{t-1}) / (t + 1) summarises everything seen so far in one number per
sequence, the way an RNN's hidden state will summarise a sequence in chapter 02.
"""
import numpy as np

from course_lib.validation import as_array, require_finite


def running_mean(x):
    """Mean of each sequence up to and including every step.

    x: (T, B) batch of B sequences of T numbers, time first.
    returns m: (T, B) float64, m[t, b] = mean(x[0:t+1, b]).
    """
    x = require_finite("x", as_array("x", x, ndim=2, meaning="(T, B): time first, then batch").astype(np.float64))
    steps = np.arange(1, x.shape[0] + 1, dtype=np.float64)[:, None]  # (T, 1): how many values seen so far
    return np.cumsum(x, axis=0) / steps
