"""Checks of chapter 08's exercises: `sinusoidal_positions` and `is_permutation_equivariant`."""
import numpy as np
import torch

from course_lib.grading.checks.core import Case, Exercise, Hint, as_numpy
from course_lib.positions import is_permutation_equivariant, sinusoidal_positions



def _pe_cases(rng, hidden):
    if hidden:
        T, half = int(rng.integers(2, 40)), int(rng.integers(2, 20))
        return [Case("hidden: several positions, d_model >= 4", (T, 2 * half), hidden=True),
                Case("hidden: more dimensions than positions", (2, 2 * half + 4), hidden=True)]
    return [Case("T=1, d_model=2: position 0 is [sin 0, cos 0] = [0, 1]", (1, 2)),
            Case("T=10, d_model=4", (10, 4)),
            Case("T=50, d_model=16", (50, 16)),
            Case("odd d_model=5 raises ValueError", (4, 5), raises=(ValueError,))]


# Functions of x: (T, B, d) whose equivariance the exercise decides. Module level, so the grader can name them.
def per_step_linear(x):
    """The same linear map at every step: equivariant."""
    w = torch.linspace(-1, 1, x.shape[-1] * x.shape[-1]).reshape(x.shape[-1], x.shape[-1]).to(x.dtype)
    return x @ w


def attention_without_positions(x):
    """Plain dot-product self-attention: equivariant."""
    xb = x.transpose(0, 1)                                       # (B, T, d)
    weights = torch.softmax(xb @ xb.transpose(1, 2) / x.shape[-1] ** 0.5, dim=-1)
    return (weights @ xb).transpose(0, 1)


def attention_with_positions(x):
    """The same attention after adding sinusoidal positions: not equivariant."""
    pe = sinusoidal_positions(x.shape[0], x.shape[-1] + x.shape[-1] % 2)[:, None, : x.shape[-1]].to(x.dtype)
    return attention_without_positions(x + pe)


def running_sum(x):
    """Cumulative sum over time: not equivariant."""
    return torch.cumsum(x, dim=0)


def mean_over_time(x):
    """Every step gets the mean of all steps: equivariant (a set function, broadcast)."""
    return x.mean(dim=0, keepdim=True).expand_as(x)


def _perm_cases(rng, hidden):
    seed = int(rng.integers(0, 2**31))
    gen = torch.Generator().manual_seed(seed)
    if hidden:
        T, B, d = (int(n) for n in rng.integers(2, 9, size=3))
        x = torch.from_numpy(rng.normal(size=(T, B, d)))
        return [Case(f"hidden: {f.__name__}", (f, x, gen), hidden=True)
                for f in (attention_with_positions, mean_over_time, running_sum)]
    x = torch.from_numpy(rng.normal(size=(6, 2, 4)))
    return [Case(f"{f.__name__} on x of shape (6, 2, 4)", (f, x, gen))
            for f in (per_step_linear, attention_without_positions, attention_with_positions, running_sum, mean_over_time)]


def _pe_with(T, d_model, base=10000.0, first=0):
    t = torch.arange(first, first + T, dtype=torch.float64)[:, None]
    angles = t * base ** (-torch.arange(0, d_model, 2, dtype=torch.float64) / d_model)
    return torch.stack([torch.sin(angles), torch.cos(angles)], dim=-1).reshape(T, d_model)


def _invariant(f, x, rng):
    out = f(x)
    for _ in range(3):
        perm = torch.randperm(x.shape[0], generator=rng)
        if not torch.allclose(f(x[perm]), out, atol=1e-5):
            return False
    return True


def _pe_swapped(T, d_model):
    pe = sinusoidal_positions(T, d_model)
    return torch.stack([pe[:, 1::2], pe[:, 0::2]], dim=-1).reshape(T, d_model)


def _pe_concatenated(T, d_model):
    pe = sinusoidal_positions(T, d_model)
    return torch.cat([pe[:, 0::2], pe[:, 1::2]], dim=1)


EXERCISES = [
    Exercise(
        name="sinusoidal_positions", reference=sinusoidal_positions, points=2, make_cases=_pe_cases,
        select=as_numpy, atol=1e-5, rtol=1e-5,
        hints=[
            Hint(_pe_swapped, "even dimensions 2k hold sin, odd dimensions 2k + 1 hold cos"),
            Hint(_pe_concatenated, "interleave the pairs: dimension 2k is sin and 2k + 1 is cos of the same frequency, "
                 "not all sines first"),
            Hint(lambda T, d: sinusoidal_positions(T, d).T, "the result is (T, d_model): one row per position"),
            Hint(lambda T, d: _pe_with(T, d, base=1000.0), "the base of the wavelengths is 10000, not 1000"),
            Hint(lambda T, d: _pe_with(T, d, first=1), "positions start at 0: the first row is position 0"),
        ],
    ),
    Exercise(
        name="is_permutation_equivariant", reference=is_permutation_equivariant, points=2, make_cases=_perm_cases,
        select=lambda value: bool(value) if isinstance(value, (bool, np.bool_)) or torch.is_tensor(value) else value,
        hint_agrees_everywhere=True,
        hints=[
            Hint(_invariant, "that tests invariance, f(x[perm]) == f(x); equivariance compares f(x[perm]) with f(x)[perm]"),
            # Permuting the batch axis answers True for every function here, so it reads as "always True".
            Hint(lambda f, x, rng: True, "your answer is True even for functions that are not equivariant (a running "
                 "sum, attention with positions): permute the time axis (axis 0) of x, (T, B, d), not the batch "
                 "axis, then compare f(x[perm]) with f(x)[perm]"),
            Hint(lambda f, x, rng: False, "your answer is always False, even for a function that treats every step "
                 "alike (the same linear map at every step)"),
        ],
    ),
]
