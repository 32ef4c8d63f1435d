"""The check machinery: correct code passes, plausible mistakes lose marks, feedback is one readable line."""
import json
import re

import numpy as np
import pytest

from course_lib.grading.checks import CHAPTERS, EXERCISES, check, compare_values, run_checks
from course_lib.grading.checks.core import Case, Outcome, evaluate, judge, run_case
from course_lib.grading.probe import one_thread
from course_lib.grading.grade import Limits, Scoring, SubmissionResult, build_cases
from tests.broken import BROKEN


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


def test_a_recognised_mistake_gets_a_hint():
    report = run_checks(BROKEN["pad_batch"][0], EXERCISES["pad_batch"], seed=0)
    assert any("time-first" in r.hint and "time-first" in r.line() for r in report.results)


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


def test_every_reference_can_be_tripped_below_its_shape_checks():
    """The grader swaps the code of the reference's own function, below a validation.shapes wrapper, for a
    tripwire: that function must be plain (no closure). A learner's wrapper of a decorated reference
    (rnn_step's) then earns nothing, and the learner's own code still passes."""
    import inspect

    from course_lib.grading.checks import run_checks_without_reference
    from course_lib.rnn import rnn_step as course_rnn_step
    for exercise in EXERCISES.values():
        assert getattr(inspect.unwrap(exercise.reference), "__closure__", None) is None, exercise.name
    assert hasattr(course_rnn_step, "__wrapped__")  # this test is about a decorated reference

    def rnn_step(x_t, h_prev, W_xh, W_hh, b_h):
        return course_rnn_step(x_t, h_prev, W_xh, W_hh, b_h)
    wrapped = run_checks_without_reference(rnn_step, EXERCISES["rnn_step"], seed=0)
    assert wrapped.score == 0 and "reference implementation" in wrapped.feedback(), wrapped.text()

    def rnn_step(x_t, h_prev, W_xh, W_hh, b_h):  # noqa: F811 (the learner's own; word for word the course's
        a = x_t @ W_xh + h_prev @ W_hh + b_h       # body would count as a copy here, outside a notebook cell)
        return np.tanh(a), (x_t, h_prev, W_xh, W_hh, np.tanh(a))
    assert run_checks_without_reference(rnn_step, EXERCISES["rnn_step"], seed=0).passed


# ---------------------------------------------------------------------------------------------------
# Fair grades (issue 19): every classic mistake is named, costs once, and scores the same on every seed.

FEWER_THAN_FOUR_HINTS = {"is_permutation_equivariant"}  # a True/False answer tells only two mistakes apart


def test_every_hint_is_earned_by_a_broken_implementation():
    for name, exercise in EXERCISES.items():
        assert len(exercise.hints) >= (2 if name in FEWER_THAN_FOUR_HINTS else 4), name
        wanted = [f.expected_hint for f in BROKEN[name] if getattr(f, "expected_hint", None)]
        for hint in exercise.hints:
            assert any(words in hint.message for words in wanted), f"{name}: no broken implementation for hint {hint.message!r}"


def probe_in_process(namespace, scoring, tmp_path):
    """The grader's path without a kernel: each request is built as the grader builds it (stand-ins for
    failed helpers), the probe runs here on `namespace` (a notebook's globals), and the grader scores the
    answers. The kernel, the sandbox and the limits' signals are tested in tests/test_grader.py."""
    from course_lib.grading.probe import probe
    answers = {}
    for name, build in scoring.requests().items():
        path = tmp_path / f"{name}.json"
        with one_thread():  # the probe sets one thread for good, as in a graded kernel: keep this process's
            probe(namespace, json.dumps(build(answers)), str(path))
        answers[name] = json.loads(path.read_text())
    return {ex.name: scoring.report(ex, answers) for ex in scoring.exercises}


def graded(fn, seed):
    """fn's Report as the grader scores it with this seed (public and hidden checks), the calls made here.
    Not through the probe: several broken versions are built on the course's own function, which the
    probe's reference guard would rightly refuse (the pair tests and tests/test_grader.py use the probe)."""
    exercise = EXERCISES[fn.__name__]
    cases = build_cases(exercise, seed)
    with one_thread():
        return evaluate(exercise, cases, [run_case(exercise.target(fn), case) for case in cases])  # harness as in the probe


LEAK = re.compile(r"expected -?\d|\(expected (?!keys)|was expected|expected (True|False)")


@pytest.mark.parametrize("name, broken", [(n, f) for n, fns in BROKEN.items() for f in fns],
                         ids=lambda v: getattr(v, "__qualname__", v))
def test_a_broken_function_loses_marks_is_named_and_scores_the_same_under_every_seed(name, broken):
    in_cell = run_checks(broken, EXERCISES[name])  # a check cell's public checks (check() without the guard)
    printed = in_cell.text().splitlines()  # what the check cell prints: the most informative failure first
    by_grader = [graded(broken, seed) for seed in (0, 1, 2)]
    assert in_cell.score < in_cell.max_score or by_grader[0].score < by_grader[0].max_score
    failed = [r for r in in_cell.results + by_grader[0].results if not r.passed]
    assert failed and all(r.message and "Traceback" not in r.message for r in failed)
    # a given mistake fails the same checks, so it gets the same score, under every seed
    assert len({tuple((r.name, r.passed) for r in report.results) for report in by_grader}) == 1, [r.text() for r in by_grader]
    hidden = [c.hidden for c in build_cases(EXERCISES[name], 0)]
    for result, is_hidden in zip(by_grader[0].results, hidden):  # hidden checks say what is wrong, never the answer
        assert not (is_hidden and LEAK.search(result.message)), result.message
    if broken.expected_hint:  # a classic mistake is named, first, in the check cell and by the grader
        assert broken.expected_hint in in_cell.feedback(), in_cell.text()
        assert broken.expected_hint in next(line for line in printed if line.lstrip().startswith("✗")), in_cell.text()
        assert broken.expected_hint in by_grader[0].feedback(), by_grader[0].text()


def test_hidden_check_names_do_not_depend_on_the_seed():
    for name, exercise in EXERCISES.items():
        names = {tuple(c.name for c in exercise.make_cases(np.random.default_rng(seed), True)) for seed in range(3)}
        assert len(names) == 1, f"{name}: hidden check names depend on the seed: {names}"


def test_at_most_one_small_bad_input_check_per_function():
    for name, exercise in EXERCISES.items():
        cases = exercise.make_cases(np.random.default_rng(0), False) + exercise.make_cases(np.random.default_rng(0), True)
        bad = [c for c in cases if c.raises]
        assert len(bad) <= 1, name
        assert sum(c.weight for c in bad) / sum(c.weight for c in cases) <= 0.1, name


def test_an_endless_loop_is_judged_on_cpu_time_not_on_a_sleep():
    import time
    from course_lib.grading.probe import CallTimeout, time_limit
    start = time.process_time()
    with pytest.raises(CallTimeout, match="cpu"):
        with time_limit(0.3):
            while True:
                pass
    assert time.process_time() - start >= 0.25
    with time_limit(0.2):  # waiting costs no CPU time: 0.5 s of sleep is within a 0.2 s CPU limit
        time.sleep(0.5)


# Each pair: (helper, caller, a change to the solution's caller that makes the caller itself wrong).
PAIRS = [
    ("02_rnn_cell", "rnn_step", "rnn_forward", ("rnn_step(x[t], h,", "rnn_step(x[t], h0,")),
    ("03_bptt", "rnn_step_backward", "rnn_backward", ("dhs[t] + dh_from_later", "dhs[t]")),
    ("05_lstm", "lstm_step", "lstm_forward", ("h, c, hs = h0, c0, []", "h, c, hs = h0, np.zeros_like(c0), []")),
    ("06_applications", "sample_next", "generate", ("model(token[None], state)", "model(token[None], None)")),
    ("09_attention", "scaled_dot_product_attention", "multi_head_attention", (' @ params["W_o"]', "")),
    ("10_capstone", "layer_norm", "attention_block", ("mask=causal_mask(x.shape[0])", "mask=None")),
    ("12_linear_recurrences", "linear_scan", "min_gru", ("b[:1] + a[:1] * h0", "b[:1] + h0")),
]


def solution_function(stem, name, namespace, change=None):
    """Define the solution notebook's `name` in namespace (optionally with one textual change)."""
    import nbformat
    from pathlib import Path
    nb = nbformat.read(Path(__file__).resolve().parent.parent / "solutions" / f"{stem}.ipynb", as_version=4)
    source = next(c.source for c in nb.cells if c.cell_type == "code" and f"def {name}(" in c.source)
    if change:
        assert change[0] in source, f"the solution's {name} changed: update the test's mutation"
        source = source.replace(change[0], change[1])
    exec(compile(source, f"<{name}>", "exec"), namespace)
    return namespace[name]


def learner_namespace():
    import math
    import torch
    from course_lib.attention import causal_mask, multi_head_attention
    from course_lib.lstm import sigmoid
    return {"np": np, "torch": torch, "math": math, "sigmoid": sigmoid, "causal_mask": causal_mask,
            "multi_head_attention": multi_head_attention}


@pytest.mark.parametrize("stem, helper, caller, change", PAIRS, ids=[p[2] for p in PAIRS])
def test_a_broken_helper_does_not_cost_the_function_that_calls_it(stem, helper, caller, change, capsys, tmp_path):
    note = f"checked with the course's `{helper}`, because yours fails its own checks"
    pair = Scoring([EXERCISES[helper], EXERCISES[caller]], 0, Limits())
    for broken in BROKEN[helper][:2]:
        namespace = learner_namespace()
        namespace[helper] = broken
        correct = solution_function(stem, caller, namespace)
        in_cell = check(correct)
        assert in_cell.passed and in_cell.score == in_cell.max_score and note in in_cell.text(), in_cell.text()
        assert check(solution_function(stem, caller, namespace, change)).score < EXERCISES[caller].points
    # the grader: the helper loses marks, the correct caller keeps all of them and says why
    solution_function(stem, caller, namespace)
    by_grader = probe_in_process(namespace, pair, tmp_path)
    assert by_grader[helper].score < by_grader[helper].max_score
    assert by_grader[caller].score == by_grader[caller].max_score and note in by_grader[caller].feedback(), by_grader[caller].text()
    on_gradescope = SubmissionResult(path="x.ipynb", reports=[by_grader[helper], by_grader[caller]]).gradescope()
    assert note in next(t["output"] for t in on_gradescope["tests"] if t["name"] == caller)
    solution_function(stem, caller, namespace, change)  # a wrong caller still loses its marks
    wrong = probe_in_process(namespace, Scoring([EXERCISES[helper], EXERCISES[caller]], 0, Limits()), tmp_path)
    assert wrong[caller].score < wrong[caller].max_score, wrong[caller].text()
    # with a correct helper (the solution's own, not a wrapper of the course's), nothing is replaced
    solution_function(stem, helper, namespace)
    report = check(solution_function(stem, caller, namespace))
    assert report.passed and not report.standins
    capsys.readouterr()


def test_chapter_12_references_agree_with_their_step_by_step_forms_and_the_call_counts_tell_a_loop():
    """The checks compare with linear_scan, min_gru and causal_linear_attention: each equals its plain form (the
    loop, the masked (T, T) product). The "not a loop over T" checks count torch calls at T = 16 and T = 1024."""
    import torch
    from course_lib.grading.checks import ch12_linear_recurrences as ch12
    from course_lib.linear_recurrences import (causal_linear_attention, causal_linear_attention_parallel, linear_scan,
                                               min_gru, sequential_scan)
    rng = np.random.default_rng(0)
    for T in (1, 2, 7, 16, 100):
        a, b = ch12._scan_args(rng, T, 2, 3, resets=(T // 2,) if T > 2 else ())
        assert torch.allclose(linear_scan(a, b), sequential_scan(a, b), rtol=1e-12, atol=1e-12)
        args = ch12._gru_args(rng, T, 2, 3, 4)
        assert torch.allclose(min_gru(*args), ch12._gru_stepwise(*args), rtol=1e-12, atol=1e-12)
        q, k, v = ch12._attn_args(rng, (2, 3), T, 4, 5)
        assert torch.allclose(causal_linear_attention(q, k, v), causal_linear_attention_parallel(q, k, v), rtol=1e-12, atol=1e-12)
    short, long = ch12._scan_args(rng, ch12.SHORT_T, 3), ch12._scan_args(rng, ch12.LONG_T, 3)
    scan_calls = ch12.watch_torch(linear_scan, *short, longer=long)
    loop_calls = ch12.watch_torch(sequential_scan, *short, longer=long)
    assert scan_calls[1] <= 2.5 * scan_calls[0] and loop_calls[1] >= 30 * loop_calls[0], (scan_calls, loop_calls)
    q, k, v = ch12._attn_args(rng, (2,), ch12.SQUARE_T, 5, 3)
    assert not ch12.watch_torch(causal_linear_attention, q, k, v, square=True)
    assert ch12.watch_torch(causal_linear_attention_parallel, q, k, v, square=True)
