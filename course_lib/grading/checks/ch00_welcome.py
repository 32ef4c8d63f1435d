"""Checks of chapter 00's warm-up exercise, `running_mean`."""
import numpy as np

from course_lib.grading.checks.core import Case, Exercise, Hint
from course_lib.welcome import running_mean


def _cases(rng, hidden):
    if hidden:
        # Each hidden check keeps its property (several steps, several sequences, T != B) for every seed.
        T, B = int(rng.integers(5, 40)), int(rng.integers(2, 5))
        scale = rng.uniform(0.1, 100)
        return [Case("hidden: random x, many steps, a few sequences", (rng.normal(size=(T, B)) * scale,), hidden=True),
                Case("hidden: one long sequence (B = 1)", (rng.normal(size=(T, 1)) * scale,), hidden=True),
                Case("hidden: more sequences than steps", (rng.normal(size=(3, B + 3)) * scale,), hidden=True)]
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
            Hint(lambda x: np.cumsum(x, axis=1) / _steps(x), "you summed along axis 1 (the batch); time is axis 0"),
            Hint(lambda x: np.cumsum(x, axis=0) / np.maximum(_steps(x) - 1, 1),
                 "off by one: after step t you have seen t + 1 values"),
            Hint(lambda x: np.broadcast_to(np.mean(x, axis=0), np.shape(x)),
                 "you used the mean of the whole sequence at every step; use only the values seen so far"),
        ],
    ),
]
