"""Argument checks that turn bad input into one readable sentence naming the argument."""
import functools
import inspect
import re

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


def real_array(name, value, ndim=None, layout=None):
    """`value` as a finite float64 array with `ndim` axes; one sentence naming `name` otherwise."""
    arr = as_array(name, value, ndim=ndim, meaning=layout)
    if arr.dtype == np.bool_ or not (np.issubdtype(arr.dtype, np.floating) or np.issubdtype(arr.dtype, np.integer)):
        raise TypeError(f"{name} must hold real numbers, got dtype {arr.dtype}.")
    return require_finite(name, arr.astype(np.float64, copy=False))


_LETTER = re.compile(r"^([0-9]*)([A-Za-z]\w*)$")  # "H" or "4H"
_SUM = re.compile(r"^([A-Za-z]\w*) \+ ([A-Za-z]\w*)$")  # "D + H"


def _axes(layout):
    """"(D + H, 4H)" -> ["D + H", "4H"]."""
    return [a.strip() for a in layout.strip("()").split(",") if a.strip()]


def _letters(text):
    """The dimension letters in an axis or a layout: "D + H" -> ["D", "H"]."""
    return re.findall(r"[A-Za-z]\w*", text)


def _size(axis, dims):
    """The size an axis spells with the letters bound so far, or None while one of its letters is unbound."""
    letter = _LETTER.match(axis)
    if letter:
        n = dims.get(letter[2])
        return None if n is None else int(letter[1] or 1) * n[0]
    a, b = _SUM.match(axis).groups()
    return dims[a][0] + dims[b][0] if a in dims and b in dims else None


def _bind(name, layout, axes, shape, dims):
    """Bind the letters of `layout` (split into `axes`) that no earlier argument fixed, from `shape`."""
    for k, axis in sorted(enumerate(axes), key=lambda item: "+" in item[1]):  # sums last
        letter = _LETTER.match(axis)
        if letter and letter[2] not in dims:
            times = int(letter[1] or 1)
            if shape[k] % times:
                where = ("rows", "columns")[k] if len(shape) == 2 else f"entries along axis {k}"
                raise ValueError(f"{name} must have shape {layout}: its {shape[k]} {where} are not a multiple of {times}.")
            dims[letter[2]] = (shape[k] // times, name, shape)
        elif not letter:
            a, b = _SUM.match(axis).groups()
            if (a in dims) != (b in dims):
                known, unknown = (a, b) if a in dims else (b, a)
                dims[unknown] = (shape[k] - dims[known][0], name, shape)


def shapes(**layouts):
    """Declare a NumPy function's array arguments once, in the order they are checked:

        @shapes(W_xh="(D, H)", W_hh="(H, H)", b_h="(H,)", x_t="(B, D)", h_prev="(B, H)")
        def rnn_step(x_t, h_prev, W_xh, W_hh, b_h): ...

    Each argument named arrives as a finite float64 array with those axes; a letter is one size everywhere
    it appears (the first argument that has it fixes it; an axis may read "4H" or "D + H"). Bad input raises
    one sentence naming the argument, its layout and the sizes, e.g. "W_hh must have shape (H, H) = (4, 4),
    got (4, 3)." or "x must have shape (T, B, D) with D = 3 to match W_xh (3, 4), got (3, 2, 2)."
    The decorated function's `.unchecked` is the bare function: for inner loops over arrays checked once.
    """
    def decorate(fn):
        signature = inspect.signature(fn)
        unknown = sorted(set(layouts) - set(signature.parameters))
        if unknown:
            raise TypeError(f"shapes declares {unknown}, which {fn.__name__} has no argument for.")
        parsed = {name: _axes(layout) for name, layout in layouts.items()}  # once, not at every call

        @functools.wraps(fn)
        def checked(*args, **kwargs):
            bound = signature.bind(*args, **kwargs)
            bound.apply_defaults()
            dims = {}  # letter -> (size, the argument that fixed it, that argument's shape)
            for name, layout in layouts.items():
                if bound.arguments.get(name) is None:
                    if signature.parameters[name].default is None:
                        continue  # an optional array left out
                    raise TypeError(f"{name} must be an array of shape {layout}, got None.")
                axes = parsed[name]
                arr = real_array(name, bound.arguments[name], len(axes), layout)
                before = set(dims)
                _bind(name, layout, axes, arr.shape, dims)
                expected = tuple(_size(axis, dims) for axis in axes)
                if arr.shape != expected:
                    axis = next(a for a, n, want in zip(axes, arr.shape, expected) if n != want)
                    if axis in before and not set(_letters(layout)) <= before:
                        # one size fixed by another argument, the rest by this one: name where it came from
                        size, source, source_shape = dims[axis]
                        raise ValueError(f"{name} must have shape {layout} with {axis} = {size} to match "
                                         f"{source} {source_shape}, got {arr.shape}.")
                    given = sorted({letter for letter in _letters(axis) if letter in before})
                    origin = "".join(f"; {letter} = {dims[letter][0]} from {dims[letter][1]} {dims[letter][2]}"
                                     for letter in given)
                    raise ValueError(f"{name} must have shape {layout} = {expected}, got {arr.shape}{origin}.")
                bound.arguments[name] = arr
            return fn(*bound.args, **bound.kwargs)

        checked.unchecked = fn
        return checked
    return decorate
