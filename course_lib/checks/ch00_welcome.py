"""Checks of chapter 00's warm-up exercise, `running_mean`."""
import numpy as np

from course_lib.checks.core import Case, Exercise, Hint
from course_lib.welcome import running_mean


def _cases(rng, hidden):
    if hidden:
        shapes = [(int(rng.integers(1, 40)), int(rng.integers(1, 9))) for _ in range(3)]
        cases = [Case(f"random x of shape {s}", (rng.normal(size=s) * rng.uniform(0.1, 100),), hidden=True) for s in shapes]
        return cases + [Case("x with 3 axes raises ValueError", (rng.normal(size=(4, 2, 3)),), raises=(ValueError,), hidden=True)]
    return [
        Case("one sequence [1, 2, 3, 4] as shape (4, 1)", (np.array([[1.0], [2.0], [3.0], [4.0]]),)),
        Case("a single step, shape (1, 1)", (rng.normal(size=(1, 1)),)),
        Case("random x of shape (6, 3)", (rng.normal(size=(6, 3)),)),
        Case("1-D x raises ValueError", (rng.normal(size=5),), raises=(ValueError,)),
    ]


def _steps(x):
    return np.arange(1, np.asarray(x).shape[0] + 1)[:, None]


EXERCISES = [
    Exercise(
        name="running_mean", reference=running_mean, points=2, make_cases=_cases,
        hints=[
            Hint(lambda x: np.cumsum(x, axis=0), "this is the running *sum*: divide by the number of steps seen so far"),
            Hint(lambda x: np.cumsum(x, axis=1) / np.arange(1, np.shape(x)[1] + 1),
                 "you averaged along axis 1 (the batch); time is axis 0"),
            Hint(lambda x: np.cumsum(x, axis=0) / np.maximum(_steps(x) - 1, 1),
                 "off by one: after step t you have seen t + 1 values"),
            Hint(lambda x: np.broadcast_to(np.mean(x, axis=0), np.shape(x)),
                 "you used the mean of the whole sequence at every step; use only the values seen so far"),
        ],
    ),
]
