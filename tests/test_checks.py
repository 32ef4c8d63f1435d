"""The check machinery: correct code passes, plausible mistakes lose marks, feedback is one readable line."""
import numpy as np
import pytest

from course_lib.checks import CHAPTERS, EXERCISES, check, compare_values, run_checks
from course_lib.checks.core import Case, Outcome, judge, run_case
from tests.broken import BROKEN, SEQUENCE_LOSS_BACKWARD_MISTAKES


def copy_of(fn):
    """A new function object with the reference's behaviour but not its identity (a learner's correct code)."""
    def learner(*args, **kwargs):
        return fn(*args, **kwargs)
    learner.__name__ = fn.__name__
    return learner


@pytest.mark.parametrize("name", sorted(EXERCISES))
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_correct_function_passes_public_and_hidden_checks(name, seed):
    fn = copy_of(EXERCISES[name].reference)
    for hidden in (False, True):
        report = run_checks(fn, EXERCISES[name], hidden=hidden, seed=seed)
        assert report.passed and report.score == report.max_score, report.text()


def test_every_exercise_has_at_least_three_broken_versions():
    assert set(BROKEN) == set(EXERCISES)
    assert all(len(fns) >= 3 for fns in BROKEN.values())


@pytest.mark.parametrize("name, broken", [(n, f) for n, fns in BROKEN.items() for f in fns],
                         ids=lambda v: getattr(v, "__qualname__", v))
def test_a_broken_function_loses_marks_on_its_exercise_only(name, broken):
    public = run_checks(broken, EXERCISES[name], seed=0)
    hidden = run_checks(broken, EXERCISES[name], hidden=True, seed=0)
    assert public.score < public.max_score or hidden.score < hidden.max_score
    failed = [r for r in public.results + hidden.results if not r.passed]
    assert failed and all(r.message and "Traceback" not in r.message for r in failed)
    for other in EXERCISES.values():  # the other exercises are scored on their own
        if other.name != name:
            assert run_checks(copy_of(other.reference), other, seed=0).passed


def test_a_recognised_mistake_gets_a_hint():
    report = run_checks(BROKEN["pad_batch"][0], EXERCISES["pad_batch"], seed=0)
    assert any("time-first" in r.message for r in report.results)


@pytest.mark.parametrize("broken", list(SEQUENCE_LOSS_BACKWARD_MISTAKES), ids=lambda f: f.__qualname__)
@pytest.mark.parametrize("hidden", [False, True])
def test_each_classic_mistake_of_the_loss_gradient_gets_its_own_hint(broken, hidden):
    report = run_checks(broken, EXERCISES["sequence_loss_backward"], hidden=hidden, seed=3)
    hinted = [r.message for r in report.results if not r.passed and "hint:" in r.message]
    assert hinted and all(SEQUENCE_LOSS_BACKWARD_MISTAKES[broken] in m for m in hinted), report.text()


def test_the_reference_itself_earns_nothing():
    for name, exercise in EXERCISES.items():
        report = run_checks(exercise.reference, exercise, seed=0)
        assert report.score == 0 and "reference implementation" in report.feedback()


def test_not_implemented_is_one_line(capsys):
    def one_hot(indices, vocab_size):
        raise NotImplementedError()
    report = check(one_hot)
    out = capsys.readouterr().out
    assert out.strip().count("\n") == 0 and "not implemented yet" in out and report.score == 0


def test_check_prints_one_line_per_check_and_never_raises(capsys):
    def pad_batch(sequences, pad_value=0):
        return 1 / 0
    report = check(pad_batch)
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 1 + len(report.results)
    assert "your function raised ZeroDivisionError: division by zero" in lines[1]


def test_check_of_an_unknown_function_says_which_names_exist(capsys):
    def rnn_stepp(x):
        return x
    assert check(rnn_stepp) is None
    assert "no exercise called 'rnn_stepp'" in capsys.readouterr().out


def test_a_learners_prints_are_capped(capsys):
    def one_hot(indices, vocab_size):
        for _ in range(10_000):
            print("debug line")
        return np.eye(vocab_size)[np.asarray(indices)]
    run_case(one_hot, Case("x", (np.array([0]), 2)))
    out = capsys.readouterr().out
    assert len(out) < 3000 and "output truncated" in out


@pytest.mark.parametrize("expected, got, words", [
    (np.zeros((2, 3)), np.zeros((3, 2)), "expected shape (2, 3), got (3, 2) (transposed?)"),
    (np.zeros(3), np.zeros(3, dtype=int), "expected floating-point values"),
    (np.zeros(3, dtype=bool), np.zeros(3), "expected boolean values"),
    (np.zeros(3), np.array([0.0, np.nan, 0.0]), "contains nan at index (1,)"),
    (np.zeros(3), np.array([0.0, 0.5, 0.0]), "max abs error 0.5 at index (1,)"),
    (np.zeros(3), None, "did you forget to `return`"),
    (np.zeros(3), "abc", "expected a NumPy array"),
    ((np.zeros(1), np.zeros(1)), np.zeros(1), "expected a tuple of 2 values"),
    (2.0, 2.5, "expected 2, got 2.5"),
])
def test_compare_values_messages(expected, got, words):
    ok, message = compare_values(expected, got)
    assert not ok and words in message


def test_compare_values_accepts_tensors_and_tolerance():
    import torch
    assert compare_values(np.ones(3), torch.ones(3, dtype=torch.float64) + 1e-12)[0]


def test_judge_of_bad_input_cases():
    ex = EXERCISES["one_hot"]
    case = Case("neg", (np.array([-1]), 3), raises=(ValueError,))
    assert judge(ex, case, Outcome("raised", exc_type="ValueError")).passed
    assert "expected ValueError, but got IndexError: boom" in judge(ex, case, Outcome("raised", exc_type="IndexError", message="IndexError: boom")).message
    assert "returned normally" in judge(ex, case, Outcome("value", value=np.zeros(1))).message


def test_every_chapter_lists_its_exercises_once():
    names = [ex.name for exercises in CHAPTERS.values() for ex in exercises]
    assert len(names) == len(set(names))


def test_a_correct_sampler_that_draws_differently_still_passes():
    """Sampling checks compare frequencies, so inverse-CDF sampling (not torch.multinomial) earns full marks."""
    import torch

    def sample_next(logits, temperature, rng):
        if not temperature > 0:
            raise ValueError("temperature must be > 0")
        cdf = torch.softmax(logits.double() / temperature, -1).cumsum(-1)
        u = torch.rand(cdf.shape[:-1] + (1,), generator=rng, dtype=torch.float64)
        return (cdf < u).sum(-1).clamp(max=logits.shape[-1] - 1)

    for hidden in (False, True):
        for seed in range(3):
            report = run_checks(sample_next, EXERCISES["sample_next"], hidden=hidden, seed=seed)
            assert report.passed, report.text()


def test_no_reference_is_a_decorated_wrapper():
    """The grader trips on the reference's own __code__; a decorator (e.g. @torch.no_grad()) would hide it."""
    for exercise in EXERCISES.values():
        assert not hasattr(exercise.reference, "__wrapped__"), exercise.name
