"""The check machinery shared by the in-notebook `check(fn)` cells and the command-line grader.

An `Exercise` names a graded function, its reference implementation, its points and a recipe for test
cases. Running a case gives an `Outcome` (a value or an exception). `judge` turns an outcome into a
`CheckResult` by comparing with the reference *in the calling process*: the grader calls it with
outcomes that came back from the learner's kernel as plain arrays, so nothing in that kernel can
change how the answer is scored.
"""
import copy
import functools
import io
import math
import sys
import warnings
from contextlib import redirect_stdout
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from course_lib.grading.probe import (CallTimeout, code_fingerprint, written_in_a_cell, last_line, limit_message, one_thread, standing_in,
                              time_limit)

PASS, FAIL = "✓", "✗"
MAX_PRINTED = 2000  # characters of a learner's own prints shown per check run
CALL_TIMEOUT_S = 10.0  # CPU seconds: a check call using more is reported as a probable endless loop
BAD_INPUT_WEIGHT = 0.5  # a "raises ValueError" check counts half an ordinary check (at most one per function)


@dataclass
class Case:
    """One input to a graded function.

    name: what the learner reads, e.g. "random indices, shape (7,), vocab_size=5".
    raises: exception types a correct implementation raises here (a bad-input check), else None.
    hidden: True for the grader's randomized checks that a notebook never shows.
    """
    name: str
    args: tuple
    kwargs: dict = field(default_factory=dict)
    raises: tuple = None
    hidden: bool = False
    select: Callable = None  # replaces the exercise's `select` for this case (e.g. sample frequencies)

    @property
    def weight(self):
        return BAD_INPUT_WEIGHT if self.raises else 1.0


@dataclass
class Hint:
    """A plausible wrong implementation and what to tell a learner whose output matches it."""
    wrong: Callable
    message: str


@dataclass
class Exercise:
    """A graded function: `make_cases(rng, hidden)` returns its cases; `select` picks what is compared
    from the function's return value (e.g. `h_t` out of `(h_t, cache)`)."""
    name: str
    reference: Callable
    points: int
    make_cases: Callable
    output_names: tuple = None
    select: Callable = None
    hints: list = field(default_factory=list)
    atol: float = 1e-8
    rtol: float = 1e-6
    # For answers with few possible values (True/False), one case says little: a hint is named only when its
    # wrong version agrees with the learner on every check.
    hint_agrees_everywhere: bool = False
    # A module-level course function harness(fn, *args) that builds what cannot travel to a learner's kernel
    # (a model, an optimizer) from the case's numbers, calls fn there and returns arrays; None: call fn(*args).
    harness: Callable = None

    def target(self, fn):
        """What a case calls: fn itself, or fn inside the exercise's harness."""
        return fn if self.harness is None else functools.partial(self.harness, fn)

    def selected(self, value, case=None):
        select = case.select if case is not None and case.select is not None else self.select
        return value if select is None else select(value)


@dataclass
class Outcome:
    """What calling a function on a case produced. kind: 'value', 'raised', 'not_implemented' or 'error'
    (the call never completed: timeout, dead kernel, function missing); message says what happened."""
    kind: str
    value: Any = None
    exc_type: str = ""
    message: str = ""


_NO_VALUE = object()


@dataclass
class CheckResult:
    """One check's verdict. hint: the known mistake the learner's output matches (a `Hint`'s message).
    got: the learner's compared value, kept for recognising mistakes; never shown."""
    name: str
    passed: bool
    message: str = ""
    hint: str = ""
    weight: float = 1.0
    got: Any = field(default=_NO_VALUE, repr=False, compare=False)

    def line(self):
        if self.passed:
            return f"  {PASS} {self.name}"
        return f"  {FAIL} {self.name}: {self.message}" + (f" — hint: {self.hint}" if self.hint else "")

    @property
    def informativeness(self):
        """Higher for failures that teach more: a named mistake, then a wrong value, then the rest."""
        if self.hint:
            return 3
        if self.got is not _NO_VALUE:
            return 2
        return 0 if self.message.startswith("not run") else 1


def standin_line(name):
    return f"checked with the course's `{name}`, because yours fails its own checks — fix that first"


@dataclass
class Report:
    exercise: Exercise
    results: list
    note: str = ""  # one line that replaces the per-check lines (not implemented, reference, missing)
    printed: bool = False  # `check` already printed text(): a notebook should not show it twice
    standins: list = field(default_factory=list)  # graded helpers the course's reference replaced

    def _ipython_display_(self):
        if not self.printed:
            print(self.text())
        if not self.passed:  # one line on stderr: nbgrader's `validate` counts the cell as failed, no traceback
            print(f"{self.exercise.name}: {self.n_passed}/{len(self.results)} checks pass", file=sys.stderr)

    def __repr__(self):
        return f"<Report {self.exercise.name}: {self.n_passed}/{len(self.results)} checks, {self.score}/{self.max_score} points>"

    @property
    def n_passed(self):
        return sum(r.passed for r in self.results)

    @property
    def passed(self):
        return bool(self.results) and self.n_passed == len(self.results)

    @property
    def max_score(self):
        return self.exercise.points

    @property
    def score(self):
        """Points in proportion to the weight of the checks passed (a bad-input check weighs less)."""
        total = sum(r.weight for r in self.results)
        if not total:
            return 0.0
        return round(self.exercise.points * sum(r.weight for r in self.results if r.passed) / total, 2)

    def failures(self):
        """Failed checks, the most informative first (a recognised mistake before bare numbers)."""
        failed = [r for r in self.results if not r.passed]
        return sorted(failed, key=lambda r: -r.informativeness)

    def _standin_note(self):
        return "; ".join(standin_line(name) for name in self.standins)

    def standin_lines(self):
        """One note line per graded helper the course's reference replaced, as reports show them."""
        return [f"  note: {standin_line(name)}" for name in self.standins]

    def feedback(self):
        """One line for a grade table: the most informative failure, or that everything passed."""
        if self.note:
            return self.note
        failed = self.failures()
        standins = f" ({self._standin_note()})" if self.standins else ""
        if not failed:
            return f"all {len(self.results)} checks passed{standins}"
        top = failed[0]
        more = f" (+{len(failed) - 1} more failed)" if len(failed) > 1 else ""
        hint = f" — hint: {top.hint}" if top.hint else ""
        return f"{self.n_passed}/{len(self.results)} passed; {top.name}: {top.message}{hint}{more}{standins}"

    def text(self):
        head = f"{self.exercise.name}: "
        if self.note:
            return head + self.note
        lines = [head + f"{self.n_passed}/{len(self.results)} checks passed"]
        lines += self.standin_lines()
        lines += [r.line() for r in self.failures()] + [r.line() for r in self.results if r.passed]
        return "\n".join(lines)


# ---------------------------------------------------------------------------------------------------
# Comparing values


def as_numpy(value):
    """A torch tensor as a NumPy array, anything else unchanged: an `Exercise.select` for torch exercises,
    so that a learner's tensor and the reference's compare alike."""
    if hasattr(value, "detach") and hasattr(value, "cpu"):  # a torch tensor (core does not import torch)
        return value.detach().cpu().numpy()
    return value


def _as_array(value):
    """The learner's value as a NumPy array, or None when it is not array-like."""
    value = as_numpy(value)
    if isinstance(value, (np.ndarray, np.generic, list, tuple, int, float, bool)):
        try:
            arr = np.asarray(value)
        except (ValueError, TypeError):
            return None
        return None if arr.dtype == object else arr
    return None


def _kind(dtype):
    if dtype == np.bool_:
        return "boolean"
    if np.issubdtype(dtype, np.integer):
        return "integer"
    if np.issubdtype(dtype, np.floating):
        return "floating-point"
    return str(dtype)


def compare_values(expected, got, name="output", atol=1e-8, rtol=1e-6, reveal=True):
    """Return (ok, message) comparing a learner's value with the reference's.

    Arrays must agree in shape, in kind of dtype (boolean / integer / floating-point) and in value to
    `atol + rtol * |expected|`. Tuples are compared element by element. reveal=False (a hidden check)
    keeps expected values out of the message: it says what is wrong (shape, dtype, size of the error,
    where), never what the answer is.
    """
    if got is None and expected is not None:
        return False, f"{name} is None: did you forget to `return` it?"
    if isinstance(expected, tuple):
        if not isinstance(got, (tuple, list)):
            return False, f"expected a tuple of {len(expected)} values, got {type(got).__name__}"
        if len(got) != len(expected):
            return False, f"expected a tuple of {len(expected)} values, got {len(got)}"
        for i, (e, g) in enumerate(zip(expected, got)):
            sub = name[i] if isinstance(name, (tuple, list)) else f"{name}[{i}]"
            ok, msg = compare_values(e, g, sub, atol, rtol, reveal)
            if not ok:
                return ok, msg
        return True, ""
    if isinstance(expected, dict):
        if not isinstance(got, dict):
            return False, f"expected a dict with keys {sorted(expected)}, got {_describe(got)}"
        missing = [k for k in expected if k not in got]
        if missing:
            return False, f"the returned dict has no key {missing[0]!r} (expected keys {sorted(expected)})"
        for key, value in expected.items():
            ok, msg = compare_values(value, got[key], f"[{key!r}]", atol, rtol, reveal)
            if not ok:
                return ok, msg
        return True, ""
    if isinstance(name, (tuple, list)):
        name = "output"
    if isinstance(expected, (float, int, np.number)) and not isinstance(expected, (bool, np.bool_)):
        g = _as_array(got)
        if g is None or g.size != 1:
            return False, f"{name}: expected a single number, got {_describe(got)}"
        g = float(g.reshape(()))
        e = float(expected)
        if not math.isfinite(g) and math.isfinite(e):
            return False, f"{name}: expected {e:.6g}, got {g}" if reveal else f"{name}: got {g}, expected a finite number"
        if not math.isfinite(e):  # a tolerance around inf or nan would accept every number
            if g == e or (math.isnan(e) and math.isnan(g)):
                return True, ""
            return False, f"{name}: expected {e}, got {g:.6g}" if reveal else f"{name}: not the right value"
        if abs(g - e) > atol + rtol * abs(e):
            error = abs(g - e)
            if not reveal:  # the size of the error, roughly: with their own value it must not give the answer
                return False, f"{name}: wrong value (relative error about {error / max(abs(e), 1e-300):.0e})"
            return False, f"{name}: expected {e:.6g}, got {g:.6g} (abs error {error:.3g})"
        return True, ""
    if isinstance(expected, np.ndarray):
        g = _as_array(got)
        if g is None:
            return False, f"{name}: expected a NumPy array of shape {expected.shape}, got {_describe(got)}"
        if g.shape != expected.shape:
            msg = f"{name}: expected shape {expected.shape}, got {g.shape}"
            if g.ndim == expected.ndim == 2 and g.shape == expected.shape[::-1]:
                msg += " (transposed?)"
            return False, msg
        ek, gk = _kind(expected.dtype), _kind(g.dtype)
        if ek != gk:
            return False, f"{name}: expected {ek} values (dtype {expected.dtype}), got dtype {g.dtype}"
        if ek == "floating-point":
            bad = ~np.isfinite(g) & np.isfinite(expected)
            if bad.any():
                idx = tuple(int(i) for i in np.argwhere(bad)[0])
                where = f" where {expected[idx]:.6g} was expected" if reveal else ""
                return False, f"{name}: contains {g[idx]} at index {idx}{where}"
            if not np.allclose(g, expected, atol=atol, rtol=rtol, equal_nan=True):
                with np.errstate(invalid="ignore"):  # -inf where -inf is expected: inf - inf, a match
                    err = np.abs(g - expected)
                idx = tuple(int(i) for i in np.unravel_index(np.nanargmax(err), err.shape))
                if not reveal:  # where, and how large relative to the array's scale; not the error itself
                    scale = max(float(np.nanmax(np.abs(expected))), 1e-300)
                    return False, (f"{name}: wrong values, worst at index {idx} (error about "
                                   f"{float(np.nanmax(err)) / scale:.0e} of the largest expected magnitude)")
                values = f" (expected {expected[idx]:.6g}, got {g[idx]:.6g})"
                return False, f"{name}: max abs error {np.nanmax(err):.3g} at index {idx}{values}"
            return True, ""
        if not np.array_equal(g, expected):
            idx = tuple(int(i) for i in np.argwhere(g != expected)[0])
            values = f" (expected {expected[idx]}, got {g[idx]})" if reveal else ""
            return False, f"{name}: {int(np.sum(g != expected))} of {g.size} entries differ, first at index {idx}{values}"
        return True, ""
    if got != expected:
        return False, f"{name}: expected {expected!r}, got {_describe(got)}" if reveal else f"{name}: not the right answer"
    return True, ""


def _describe(value):
    if value is None:
        return "None"
    shape = getattr(value, "shape", None)
    if shape is not None:
        return f"{type(value).__name__} of shape {tuple(shape)}"
    if isinstance(value, (list, tuple)):
        return f"a {type(value).__name__} of length {len(value)}"
    text = repr(value)
    return text if len(text) < 40 else type(value).__name__


# ---------------------------------------------------------------------------------------------------
# Running and judging


def run_case(fn, case, stdout_limit=MAX_PRINTED, timeout=CALL_TIMEOUT_S):
    """Call fn on a copy of the case's inputs and return an Outcome. Never raises (except
    KeyboardInterrupt, so a learner can stop a runaway function)."""
    args, kwargs = copy.deepcopy(case.args), copy.deepcopy(case.kwargs)
    printed = _CappedIO(stdout_limit)
    try:
        with redirect_stdout(printed), time_limit(timeout):
            value = fn(*args, **kwargs)
    except NotImplementedError:
        return Outcome("not_implemented")
    except KeyboardInterrupt:
        raise
    except CallTimeout as exc:
        return Outcome("error", message=limit_message(exc, timeout))
    except BaseException as exc:  # a learner's SystemExit or RecursionError is still just their error
        return Outcome("raised", exc_type=type(exc).__name__, message=last_line(exc))
    finally:
        if printed.text:
            sys.stdout.write(printed.text + ("\n[... output truncated]\n" if printed.truncated else ""))
    return Outcome("value", value=value)


class _CappedIO(io.StringIO):
    """Keeps only the first `limit` characters, so a print in a loop cannot flood the notebook."""

    def __init__(self, limit):
        super().__init__()
        self.limit, self.truncated = limit, False

    def write(self, s):
        room = self.limit - self.tell()
        if room <= 0:
            self.truncated = True
            return len(s)
        if len(s) > room:
            self.truncated = True
        return super().write(s[:room])

    @property
    def text(self):
        return self.getvalue()


def _quietly(fn, case):
    """Call a course function (reference or known mistake) on a case without letting its warnings show:
    a learner should only see warnings that their own code raised."""
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        return fn(*copy.deepcopy(case.args), **copy.deepcopy(case.kwargs))


def expected_output(exercise, case):
    return exercise.selected(_quietly(exercise.target(exercise.reference), case), case)


def telling_apart(draw, reference, mistakes, tries=200):
    """Arguments from draw() on which each of `mistakes` answers differently from `reference`: random values
    alone sometimes hide a mistake (a sum that happens to match), and a check must exercise its property on
    every seed, so that the same code gets the same score under any seed."""
    for _ in range(tries):
        args = draw()
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            want = as_numpy(reference(*args))
            if not any(compare_values(want, as_numpy(mistake(*args)))[0] for mistake in mistakes):
                return args
    raise RuntimeError(f"no draw in {tries} tells the mistakes apart from {reference.__name__}")


def judge(exercise, case, outcome):
    """Score one outcome against the reference, computed here from the case's inputs. A failed value
    keeps what the learner returned (`got`), so that `recognise_mistakes` can name the mistake."""
    def verdict(passed, message=""):
        return CheckResult(case.name, passed, message, weight=case.weight)
    if outcome.kind == "error":
        return verdict(False, outcome.message)
    if case.raises:
        wanted = " or ".join(t.__name__ for t in case.raises)
        if outcome.kind == "raised":
            if outcome.exc_type in {t.__name__ for t in case.raises}:
                return verdict(True)
            return verdict(False, f"expected {wanted}, but got {outcome.message}")
        return verdict(False, f"expected {wanted} for this bad input, but the function returned normally")
    if outcome.kind == "not_implemented":
        return verdict(False, "not implemented yet")
    if outcome.kind == "raised":
        return verdict(False, f"your function raised {outcome.message}")
    expected = expected_output(exercise, case)
    try:
        got = exercise.selected(outcome.value, case)
    except Exception as exc:
        why = str(exc) if isinstance(exc, ValueError) else "expected a return value like the reference's"
        return verdict(False, f"{why}; got {_describe(outcome.value)}")
    ok, message = compare_values(expected, got, exercise.output_names or "output", exercise.atol, exercise.rtol,
                                 reveal=not case.hidden)
    result = verdict(ok, message)
    result.got = got
    return result


def _matches(exercise, hint, case, got):
    try:
        wrong = exercise.selected(_quietly(exercise.target(hint.wrong), case), case)
        return compare_values(wrong, got, "output", exercise.atol, exercise.rtol)[0]
    except Exception:
        return False


def recognise_mistakes(exercise, cases, results):
    """Name the learner's mistake on their failed checks.

    The hint chosen for the whole report is the one whose wrong implementation agrees with the learner
    on the most failed checks (then on the most checks overall, then catalogue order), so that one
    mistake gets one name even where another hint happens to coincide on a single case. A failed check
    the chosen hint does not explain gets the first hint that does, if any.
    """
    failed = [i for i, r in enumerate(results) if not r.passed and r.got is not _NO_VALUE]
    if not failed or not exercise.hints:
        return
    on_failed = [{i for i in failed if _matches(exercise, h, cases[i], results[i].got)} for h in exercise.hints]
    if not any(on_failed):
        return
    passed = [i for i, r in enumerate(results) if r.passed and r.got is not _NO_VALUE]
    if exercise.hint_agrees_everywhere:
        agrees = [k for k, m in enumerate(on_failed) if m == set(failed) and all(
            _matches(exercise, exercise.hints[k], cases[i], results[i].got) for i in passed)]
        if agrees:
            for i in failed:
                results[i].hint = exercise.hints[agrees[0]].message
        return

    def agreement(k):
        if not on_failed[k]:
            return (0, 0, -k)
        return (len(on_failed[k]), sum(_matches(exercise, exercise.hints[k], cases[i], results[i].got) for i in passed), -k)
    best = max(range(len(exercise.hints)), key=agreement)
    for i in failed:
        k = best if i in on_failed[best] else next((k for k, m in enumerate(on_failed) if i in m), None)
        if k is not None:
            results[i].hint = exercise.hints[k].message


def is_reference(fn, exercise):
    """True when `fn` is the course's own implementation: the same function, or code compiled from
    the same source other than in a notebook cell (`probe.written_in_a_cell`)."""
    if fn is exercise.reference:
        return True
    if written_in_a_cell(fn):
        return False
    mine = code_fingerprint(fn)
    return mine is not None and mine == code_fingerprint(exercise.reference)


REFERENCE_NOTE = "this is the course's reference implementation, not yours: no marks"
NOT_IMPLEMENTED_NOTE = "not implemented yet (replace `raise NotImplementedError()` with your code)"


def _whole(exercise, cases, note):
    """A report whose every check failed for one reason, said once."""
    return Report(exercise, [CheckResult(c.name, False, note, weight=c.weight) for c in cases], note)


def evaluate(exercise, cases, outcomes, standins=()):
    """A Report from outcomes, one per case, however they were obtained. standins: the graded helpers
    that were replaced by the course's reference while these outcomes were computed."""
    if outcomes and all(o.kind == "not_implemented" for o in outcomes):
        return _whole(exercise, cases, NOT_IMPLEMENTED_NOTE)
    with one_thread():  # the reference and the hints' wrong versions run here, on tiny inputs
        results = [judge(exercise, c, o) for c, o in zip(cases, outcomes)]
        recognise_mistakes(exercise, cases, results)
    return Report(exercise, results, standins=list(standins))


def run_checks(fn, exercise, hidden=False, seed=None, standins=None):
    """Run an exercise's cases in this process and return a Report.

    standins: {name: reference} for graded helpers fn calls that fail their own checks; while fn runs,
    those names in its namespace are the course's references, so fn is graded on its own.
    """
    rng = np.random.default_rng(seed)
    cases = exercise.make_cases(rng, hidden)
    if is_reference(fn, exercise):
        return _whole(exercise, cases, REFERENCE_NOTE)
    standins = standins or {}
    outcomes = []
    with one_thread():  # the learner's calls, the reference's and the hints' alike
        for case in cases:
            if outcomes and outcomes[-1].kind == "error":  # it timed out: the next case would too
                outcomes.append(Outcome("error", message="not run: your function ran out of time on an earlier check"))
                continue
            with standing_in(fn, standins):
                outcome = run_case(exercise.target(fn), case)
            outcomes.append(outcome)
            if outcome.kind == "not_implemented" and not case.raises:
                # One line, not one per case: nothing else can pass yet.
                return _whole(exercise, cases, NOT_IMPLEMENTED_NOTE)
        return evaluate(exercise, cases, outcomes, sorted(standins))


def run_checks_without_reference(fn, exercise, hidden=False, seed=None, standins=None):
    """run_checks with the exercise's reference switched off while `fn` runs, as the grader's probe does:
    a function that calls the course's implementation (a wrapper, an import under another name) earns
    nothing in the notebook either, so a check cell and nbgrader agree with the grader. standins: as for
    run_checks (the helpers' references stay on: calling those is what a stand-in is)."""
    import builtins
    import inspect
    from course_lib.grading import probe
    reference = inspect.unwrap(exercise.reference)  # a reference with declared shapes: its body, below the checks
    if is_reference(fn, exercise) or getattr(reference, "__closure__", None):
        return run_checks(fn, exercise, hidden, seed, standins)
    standins = standins or {}

    def guarded(*args, **kwargs):
        saved = reference.__code__
        reference.__code__ = probe._reference_tripwire.__code__
        try:
            with standing_in(fn, standins):  # fn's own namespace, not this wrapper's
                return fn(*args, **kwargs)
        finally:
            reference.__code__ = saved

    guarded.__name__ = getattr(fn, "__name__", exercise.name)
    setattr(builtins, probe.REFERENCE_FLAG, False)
    try:
        report = run_checks(guarded, exercise, hidden, seed)
        tripped = getattr(builtins, probe.REFERENCE_FLAG, False)
    finally:
        setattr(builtins, probe.REFERENCE_FLAG, False)
    if tripped:
        return Report(exercise, [CheckResult(r.name, False, REFERENCE_NOTE, weight=r.weight) for r in report.results],
                      REFERENCE_NOTE)
    report.standins = sorted(standins)
    return report
