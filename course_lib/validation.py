"""Argument checks that turn bad input into one readable sentence naming the argument."""
import numpy as np


def as_array(name, value, ndim=None, meaning=None):
    """`value` as a NumPy array; ValueError naming `name` when it has the wrong number of axes.

    meaning: the expected layout in words, e.g. "(T, B) time-first", used in the message.
    """
    if isinstance(value, str):
        raise TypeError(f"{name} must be an array of numbers, got the string {value[:20]!r}; encode it first.")
    try:
        arr = np.asarray(value)
    except ValueError as exc:  # ragged nested lists
        raise ValueError(f"{name} must be a rectangular array; its nested lists have different lengths ({exc}).") from None
    if arr.dtype == object:
        raise ValueError(f"{name} must be a rectangular array of numbers; its nested lists have different lengths or hold non-numbers.")
    if ndim is not None and arr.ndim != ndim:
        layout = f" {meaning}" if meaning else ""
        axes = "1 axis" if ndim == 1 else f"{ndim} axes"
        raise ValueError(f"{name} must have {axes}{layout}, got shape {arr.shape}.")
    return arr


def as_index_array(name, value, size):
    """Integer array of indices in [0, size); TypeError for non-integers, ValueError for out-of-range."""
    arr = as_array(name, value)
    if arr.dtype == np.bool_ or not (np.issubdtype(arr.dtype, np.integer) or arr.size == 0):
        raise TypeError(f"{name} must hold integers, got dtype {arr.dtype}.")
    arr = arr.astype(np.int64)
    if arr.size and (arr.min() < 0 or arr.max() >= size):
        bad = arr.min() if arr.min() < 0 else arr.max()
        raise ValueError(f"{name} must be in [0, {size}), got {int(bad)}.")
    return arr


def require_positive_int(name, value):
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise ValueError(f"{name} must be a positive integer, got {value!r}.")
    return int(value)


def require_finite(name, arr):
    if np.issubdtype(arr.dtype, np.floating) and not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or inf; check how it was computed.")
    return arr
