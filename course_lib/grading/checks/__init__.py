"""Exercise checks: one definition per graded function, used by notebook check cells and by the grader.

`CHAPTERS` maps a notebook's file stem (e.g. "01_sequential_data") to its exercises, in notebook order.
"""
import io
from contextlib import redirect_stdout

from course_lib.grading.probe import graded_names_used
from course_lib.grading.checks.core import (Case, CheckResult, Exercise, Hint, Outcome, Report, compare_values,
                                    evaluate, is_reference, judge, run_case, run_checks,
                                    run_checks_without_reference)
from course_lib.grading.checks import ch00_welcome, ch01_sequential_data, ch02_rnn_cell, ch03_bptt, ch04_gradients, ch05_lstm, ch06_applications, ch07_limits, ch08_positions, ch09_attention, ch10_capstone, ch11_generation, ch12_linear_recurrences

CHAPTERS = {
    "00_welcome": ch00_welcome.EXERCISES,
    "01_sequential_data": ch01_sequential_data.EXERCISES,
    "02_rnn_cell": ch02_rnn_cell.EXERCISES,
    "03_bptt": ch03_bptt.EXERCISES,
    "04_exploding_vanishing": ch04_gradients.EXERCISES,
    "05_lstm": ch05_lstm.EXERCISES,
    "06_applications": ch06_applications.EXERCISES,
    "07_limits_of_rnns": ch07_limits.EXERCISES,
    "08_positional_encoding": ch08_positions.EXERCISES,
    "09_attention": ch09_attention.EXERCISES,
    "10_capstone": ch10_capstone.EXERCISES,
    "11_generation": ch11_generation.EXERCISES,
    "12_linear_recurrences": ch12_linear_recurrences.EXERCISES,
}
EXERCISES = {ex.name: ex for exercises in CHAPTERS.values() for ex in exercises}
CHAPTER_OF = {ex.name: chapter for chapter, exercises in CHAPTERS.items() for ex in exercises}


def graded_helpers(exercise):
    """The other graded functions of the exercise's notebook, by name: those its learner's code may call."""
    return {ex.name: ex for ex in CHAPTERS[CHAPTER_OF[exercise.name]] if ex.name != exercise.name}


def failing_helpers(fn, exercise, seed=None, _seen=()):
    """{name: the course's reference} for each graded helper fn calls that fails its own public or hidden
    checks (or is missing): fn is then checked with the reference in its place, and graded on its own."""
    helpers = graded_helpers(exercise)
    standins = {}
    for name in graded_names_used(fn, set(helpers) - set(_seen)):
        helper, ex = getattr(fn, "__globals__", {}).get(name), helpers[name]
        ok = callable(helper) and all(
            run_checks_without_reference(helper, ex, hidden=hidden, seed=seed,
                                         standins=failing_helpers(helper, ex, seed, (*_seen, exercise.name))).passed
            for hidden in (False, True))
        if not ok:
            standins[name] = ex.reference
    return standins


def check(fn, hidden=False, quiet=False, seed=None):
    """Run the checks of the exercise named `fn.__name__` on `fn`; print one line per check.

    hidden=True runs the randomized checks the grader uses instead of the public ones.
    Returns the Report (its `.passed` is True when every check passed). Never raises for a wrong or
    unfinished function: the learner reads the printed lines instead of a traceback.
    """
    name = getattr(fn, "__name__", None)
    exercise = EXERCISES.get(name)
    if exercise is None:
        known = ", ".join(sorted(EXERCISES))
        print(f"check: there is no exercise called {name!r}; pass one of the graded functions ({known}).")
        return None
    with redirect_stdout(io.StringIO()):  # a helper's own prints belong to its own check cell
        standins = failing_helpers(fn, exercise, seed)
    report = run_checks_without_reference(fn, exercise, hidden=hidden, seed=seed, standins=standins)
    if not quiet:
        print(report.text())
        report.printed = True
    return report


__all__ = ["Case", "CheckResult", "Exercise", "Hint", "Outcome", "Report", "CHAPTERS", "EXERCISES", "check", "failing_helpers",
           "compare_values", "evaluate", "is_reference", "judge", "run_case", "run_checks"]
