"""Grade learners' notebooks: `python -m course_lib.grade work/01_sequential_data.ipynb` (or `course-grade`).

Each submission is copied to a scratch folder and executed there in a fresh Jupyter kernel with a time
limit per cell, a total time limit, a memory limit and a cap on captured output. A probe then calls the
learner's graded functions in that kernel on inputs built here from a seed (public cases and hidden,
randomized ones) and sends back plain arrays; the score is computed in this process by comparing them
with the reference. Exit status 0 means grading completed, whatever the score.

    course-grade work/01_sequential_data.ipynb --json result.json   # one learner, Gradescope JSON
    course-grade submissions/ --out grades/                           # a class: summary.csv + one JSON each
"""
import argparse
import csv
import functools
import hashlib
import json
import os
import re
import secrets
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
import numpy as np

from course_lib.grading import probe as probe_module
from course_lib.grading import sandbox
from course_lib.grading.checks import CHAPTERS
from course_lib.grading.checks.core import (NOT_IMPLEMENTED_NOTE, REFERENCE_NOTE, CheckResult, Outcome, Report,
                                    evaluate)

GRADER_KERNEL = "course-grader"
# Graded kernels compute on one thread: a call's CPU time (what the per-call limit measures) is then the
# same on an idle and a busy machine, and no kernel competes with itself for the cores.
ONE_THREAD = {name: "1" for name in ("COURSE_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")}
PROBE_SOURCE = Path(probe_module.__file__).read_text(encoding="utf-8")
START_ATTEMPTS = 3  # a kernel that dies before its first reply is started again, up to this many times in all
# A cell with this tag (set on the solution's cells, kept in the exercises) is a demo that grades nothing and
# costs seconds, such as training the learner's finished model: the grader does not run it. Skipping only
# runs less of the submission, so a learner who tags their own cells gains nothing by it.
SKIP_TAG = "skip-grading"


@dataclass
class Limits:
    """What one submission may use. Times in seconds."""
    cell_timeout: float = 30.0
    total_timeout: float = 120.0
    call_timeout: float = 5.0  # CPU seconds per call of a graded function (wall clock: probe.wall_backstop)
    memory_mb: int = 3072
    max_output_chars: int = 2_000_000
    max_restarts: int = 4


@dataclass
class SubmissionResult:
    path: str
    chapter: str = None
    reports: list = field(default_factory=list)
    notes: list = field(default_factory=list)
    error: str = None  # set when the submission could not be graded at all (not a notebook, ...)
    seconds: float = 0.0
    seed: int = 0
    isolated: bool = None  # whether the kernel ran sealed off (None: no kernel was started)
    hidden: dict = field(default_factory=dict)  # exercise name -> for each check, whether it is a hidden one

    @property
    def score(self):
        return round(sum(r.score for r in self.reports), 2)

    @property
    def max_score(self):
        return sum(r.max_score for r in self.reports)

    def table(self):
        width = max([len("exercise")] + [len(r.exercise.name) for r in self.reports])
        lines = [f"{self.path}" + (f"  (chapter {self.chapter})" if self.chapter else "")]
        if self.error:
            return "\n".join(lines + [f"  could not grade: {self.error}"])
        lines.append(f"  {'exercise':<{width}}  {'points':>9}  feedback")
        for r in self.reports:
            lines.append(f"  {r.exercise.name:<{width}}  {r.score:>5g}/{r.max_score:<3g}  {r.feedback()}")
        lines.append(f"  {'total':<{width}}  {self.score:>5g}/{self.max_score:<3g}  graded in {self.seconds:.1f} s")
        lines += [f"  note: {n}" for n in self.notes]
        return "\n".join(lines)

    def gradescope(self):
        """The result as Gradescope's results.json: only keys of its specification. Each exercise is two
        tests: its public checks (visible) and its hidden checks (shown after the due date, as a count only,
        never their inputs or expected values). The points of an exercise are split between the two in
        proportion to their checks."""
        tests = []
        for r in self.reports:
            hidden = self.hidden.get(r.exercise.name) or [False] * len(r.results)
            if len(hidden) != len(r.results):
                hidden = [False] * len(r.results)
            public = [c for c, h in zip(r.results, hidden) if not h]
            secret = [c for c, h in zip(r.results, hidden) if h]
            n, passed = max(1, len(r.results)), sum(c.passed for c in r.results)
            public_score = round(r.score * sum(c.passed for c in public) / passed, 2) if passed else 0.0
            public_max = round(r.max_score * len(public) / n, 2)
            lines = [f"{r.exercise.name}: {r.note}"] if r.note else (
                [f"{r.exercise.name}: {sum(c.passed for c in public)}/{len(public)} public checks passed"] + [c.line() for c in public]
                + r.standin_lines())
            tests.append({"name": r.exercise.name, "score": public_score, "max_score": public_max,
                          "status": "passed" if all(c.passed for c in public) else "failed",
                          "output": "\n".join(lines), "visibility": "visible"})
            if secret:
                hidden_passed = sum(c.passed for c in secret)
                tests.append({"name": f"{r.exercise.name} (hidden checks)", "score": round(r.score - public_score, 2),
                              "max_score": round(r.max_score - public_max, 2),
                              "status": "passed" if hidden_passed == len(secret) else "failed",
                              "output": r.note or f"{hidden_passed}/{len(secret)} hidden checks passed",
                              "visibility": "after_due_date"})
        output = f"could not grade: {self.error}" if self.error else "\n".join(self.notes)
        return {"score": self.score, "execution_time": round(self.seconds, 2), "output": output, "tests": tests,
                "extra_data": {"submission": self.path, "chapter": self.chapter, "seed": self.seed,
                               "max_score": self.max_score, "isolated": self.isolated}}


# ---------------------------------------------------------------------------------------------------
# Running the notebook


def _kernel_dir(root, memory_mb, sealed=None):
    """A kernelspec whose launcher caps the kernel's memory, sealed off by `sandbox.wrap` when `sealed`
    is given (a dict of its keyword arguments)."""
    folder = Path(root) / "kernels" / GRADER_KERNEL
    folder.mkdir(parents=True, exist_ok=True)
    argv = [sys.executable, "-m", "course_lib.grading.kernel", str(memory_mb), "-f", "{connection_file}"]
    if sealed is not None:
        argv = sandbox.wrap(argv, **sealed)
    spec = {"argv": argv, "display_name": "course grader", "language": "python",
            "env": {"MPLBACKEND": "agg", "PYTHONDONTWRITEBYTECODE": "1", **ONE_THREAD}}
    (folder / "kernel.json").write_text(json.dumps(spec))
    return str(Path(root) / "kernels")


def _client_class():
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import AsyncKernelManager
    from nbclient import NotebookClient

    class CappedClient(NotebookClient):
        """A NotebookClient that runs our kernelspec and stops storing output past a size cap."""

        def __init__(self, nb, kernel_dirs, socket_dir, max_output_chars, **kw):
            super().__init__(nb, **kw)
            self._kernel_dirs, self._socket_dir = kernel_dirs, socket_dir
            self._max_output, self._output_chars, self._truncated = max_output_chars, 0, False

        def create_kernel_manager(self):
            # Unix sockets where the OS has them, in a folder the sandbox shares: the sealed kernel has no
            # network, and nothing listens on a network port while learner code runs.
            sockets = {"transport": "ipc", "ip": str(self._socket_dir / "ipc")} if os.name == "posix" else {}
            self.km = AsyncKernelManager(kernel_name=GRADER_KERNEL, **sockets,
                                         connection_file=str(self._socket_dir / "connection.json"),
                                         kernel_spec_manager=KernelSpecManager(kernel_dirs=[self._kernel_dirs]))
            return self.km

        def output(self, outs, msg, display_id, cell_index):
            content = msg.get("content", {})
            self._output_chars += len(str(content.get("text", ""))) + len(str(content.get("data", "")))
            if self._output_chars > self._max_output:
                if not self._truncated:
                    self._truncated = True
                    outs.append(nbformat.v4.new_output("stream", name="stdout",
                                                       text=f"[grader: output beyond {self._max_output:,} characters discarded]\n"))
                return None
            return super().output(outs, msg, display_id, cell_index)

    return CappedClient


class _Restart(Exception):
    """The kernel died or stopped answering: start a new one and replay the cells that worked."""


class NotebookRun:
    """Executes a notebook cell by cell, surviving dead and stuck kernels, then probes its functions."""

    def __init__(self, nb, workdir, limits, grader_dir, private=(), private_files=()):
        """workdir: the scratch folder, the only one the kernel may write to; grader_dir: the grader's own
        folder for this submission (the kernelspec), out of the kernel's reach. private, private_files:
        what the sandbox hides (`sandbox.wrap`)."""
        self.nb, self.workdir, self.limits = nb, workdir, limits
        self.deadline = time.monotonic() + limits.total_timeout
        self.bad = {}  # cell index -> why it is skipped on replay
        self.cell_errors = {}  # cell index -> "ename: evalue" of a cell that raised
        self.restarts = 0
        self.isolated, self.isolation_note = sandbox.isolation()[0] is not None, sandbox.isolation()[1]
        grader_dir.mkdir(parents=True, exist_ok=True)
        empty = grader_dir / "empty"  # put over the other submissions' files where they cannot be hidden
        empty.touch(mode=0o444)
        sealed = {"scratch": workdir, "private": private, "private_files": private_files,
                  "empty_file": str(empty)} if self.isolated else None
        self.kernel_dirs = _kernel_dir(grader_dir, limits.memory_mb, sealed)
        self.socket_dir = workdir / ".kernel"
        self.socket_dir.mkdir(exist_ok=True)
        self.namespaces = set()  # the PID namespace of every sandbox started, to check that none outlives grading
        self.nb.cells.append(nbformat.v4.new_code_cell(""))  # the slot the probe runs in
        self.probe_index = len(self.nb.cells) - 1
        self.client = None

    def _new_client(self):
        return _client_class()(self.nb, self.kernel_dirs, self.socket_dir, self.limits.max_output_chars,
                               timeout=int(self.limits.cell_timeout), allow_errors=True, interrupt_on_timeout=False,
                               record_timing=False, shutdown_kernel="immediate", startup_timeout=60,
                               resources={"metadata": {"path": str(self.workdir)}})

    def _remember_sandbox(self):
        launcher = getattr(getattr(self.client.km, "provisioner", None), "pid", None)
        if self.isolated and launcher:
            self.namespaces.add(sandbox.sandbox_namespace(launcher))

    def end_all_processes(self):
        """After the last kernel stopped: kill anything of the submission still alive, so that nothing it
        started can touch a result written after this. Returns how many processes had to be killed."""
        return len(sandbox.end_all(self.namespaces))

    def _remaining(self):
        return self.deadline - time.monotonic()

    def _execute(self, index, timeout=None):
        from nbclient.exceptions import CellTimeoutError, DeadKernelError
        cell = self.nb.cells[index]
        self.client.timeout = int(max(1, min(timeout or self.limits.cell_timeout, self._remaining())))
        try:
            self.client.execute_cell(cell, index)
        except CellTimeoutError:
            raise _Restart(f"stopped after {self.client.timeout} s (an endless loop?)")
        except DeadKernelError:
            raise _Restart("the kernel died (os._exit, a crash, or memory exhausted)")
        except Exception as exc:  # a protocol hiccup after the kernel was killed
            raise _Restart(f"the kernel stopped answering ({type(exc).__name__})")
        errors = [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]
        if errors:
            name, value = errors[0].get("ename"), str(errors[0].get("evalue") or "").strip()
            self.cell_errors[index] = f"{name}: {value.splitlines()[-1][:200]}" if value else str(name)

    def _run_cells(self):
        for index, cell in enumerate(self.nb.cells[:self.probe_index]):
            if cell.cell_type != "code" or index in self.bad or not cell.source.strip():
                continue
            if SKIP_TAG in cell.get("metadata", {}).get("tags", []):
                continue
            if self._remaining() <= 0:
                self.bad[index] = "not run: the notebook used up its total time limit"
                continue
            try:
                self._execute(index)
            except _Restart as why:
                self.bad[index] = str(why)
                raise

    def run(self, requests):
        """Execute the notebook, then every probe request. requests: {name: request dict}.
        Returns {name: probe result dict or a message saying why there is none}."""
        results, pending, probing = {}, list(requests), None
        failed_starts = 0
        while True:
            self.client = self._new_client()
            started = False
            try:
                with self.client.setup_kernel():
                    started = True
                    self._remember_sandbox()
                    self._run_cells()
                    while pending:
                        probing = pending[0]
                        request = requests[probing]
                        if callable(request):  # built now, from the answers so far (stand-ins for failed helpers)
                            request = request(results)
                        results[probing] = self._probe(request)
                        pending.pop(0)
                        probing = None
                    return results
            except _Restart as why:
                if probing is not None:  # the learner's function killed or hung the kernel
                    results[probing] = f"grading your function: {why}"
                    pending.remove(probing)
                    probing = None
                self.restarts += 1
                if self.restarts > self.limits.max_restarts or self._remaining() <= 0:
                    for name in pending:
                        results[name] = "not graded: the notebook's kernel kept dying or ran out of time"
                    return results
            except Exception as exc:  # the kernel could not even start
                # No code of the submission runs before the kernel answers, so a failed start is the machine's
                # (seen on a loaded machine grading in parallel): try again rather than score the learner 0.
                if not started:
                    failed_starts += 1
                    if failed_starts < START_ATTEMPTS and self._remaining() > 0:
                        continue
                for name in pending:
                    results[name] = f"not graded: the kernel could not start ({type(exc).__name__}: {exc})"
                return results

    def _probe(self, request):
        path = self.workdir / f".probe-{secrets.token_hex(8)}.json"
        code = ("exec(compile(" + repr(PROBE_SOURCE) + ", '<course-probe>', 'exec'), __course_probe_ns := {'__name__': '__course_probe__'})\n"
                "__course_probe_ns['probe'](get_ipython().user_ns, " + repr(json.dumps(request)) + ", " + repr(str(path)) + ")\n"
                "del __course_probe_ns")
        self.nb.cells[self.probe_index].source = code
        # one timed-out call stops the rest; the others are quick, however busy the machine is
        budget = probe_module.wall_backstop(self.limits.call_timeout) + 5 + 0.5 * len(request["cases"])
        self._execute(self.probe_index, timeout=budget)
        if path.is_symlink() or not path.is_file():
            err = self.cell_errors.pop(self.probe_index, "no result was written")
            return f"the probe could not run in your notebook's kernel ({err})"
        if path.stat().st_size > probe_module.MAX_RESULT_BYTES * 2:
            return "your function's results were too large to read back"
        return json.loads(path.read_text(encoding="utf-8"))


# ---------------------------------------------------------------------------------------------------
# Grading


def detect_chapter(path, nb):
    """The chapter a notebook belongs to: by file name, else by the graded functions it defines."""
    stem = Path(path).stem
    if stem in CHAPTERS:
        return stem
    for chapter in CHAPTERS:
        if stem.startswith(chapter.split("_")[0] + "_"):
            return chapter
    source = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    defined = set(re.findall(r"^(?:def|class) (\w+)\b", source, re.M))
    overlap = {ch: len(defined & {e.name for e in exs}) for ch, exs in CHAPTERS.items()}
    best = max(overlap, key=overlap.get)
    return best if overlap[best] else None


def _same_code(fingerprint, reference):
    return bool(fingerprint) and fingerprint == probe_module.code_fingerprint(reference)


def _where_defined(nb, name):
    pattern = re.compile(rf"^\s*(?:def|class) {re.escape(name)}\b", re.M)
    return [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and pattern.search(c.source)]


def score_exercise(exercise, cases, result, nb, run, standins=()):
    """A Report from the probe's answer (a dict) or from a message saying why there is none.
    standins: the failed helpers the probe was asked to replace by the course's reference."""
    def whole(note):
        return Report(exercise, [CheckResult(c.name, False, note, weight=c.weight) for c in cases], note)

    if isinstance(result, str):
        return whole(result)
    if not result.get("found"):
        cells = _where_defined(nb, exercise.name)
        failed = [f"cell {i + 1} raised {run.cell_errors[i]}" for i in cells if i in run.cell_errors]
        failed += [f"cell {i + 1} {run.bad[i]}" for i in cells if i in run.bad]
        why = f" ({failed[0]})" if failed else (" (was it renamed or deleted?)" if not cells else "")
        return whole(f"your notebook defines no function called `{exercise.name}`{why}")
    if not result.get("callable"):
        return whole(f"`{exercise.name}` is not a function in your notebook")
    if _same_code(result.get("fingerprint"), exercise.reference):
        return whole(REFERENCE_NOTE)
    outcomes = []
    for raw in result.get("outcomes", []):
        kind = raw.get("kind")
        if kind == "value":
            try:
                value = probe_module.decode(raw.get("value"))
            except Exception:
                outcomes.append(Outcome("error", message="its return value could not be read back"))
                continue
            outcomes.append(Outcome("value", value=value))
        elif kind in ("raised", "not_implemented", "error"):
            outcomes.append(Outcome(kind, exc_type=str(raw.get("exc_type", "")), message=str(raw.get("message", ""))[:500]))
        else:
            outcomes.append(Outcome("error", message="the probe returned something unexpected"))
    outcomes += [Outcome("error", message="no result for this check")] * (len(cases) - len(outcomes))
    if outcomes and all(o.kind == "error" and "reference implementation" in o.message for o in outcomes):
        return whole(REFERENCE_NOTE)
    used = set(result.get("uses") or ())
    report = evaluate(exercise, cases, outcomes[:len(cases)], sorted(used & set(standins)))
    if report.note == NOT_IMPLEMENTED_NOTE:
        report.note = "not implemented yet"
    return report


def build_cases(exercise, seed):
    """Public cases (fresh values) and hidden randomized cases, from the grader's seed."""
    rng = np.random.default_rng([seed, sum(map(ord, exercise.name))])
    return exercise.make_cases(rng, False) + exercise.make_cases(rng, True)


class Scoring:
    """One notebook's probe requests and the scoring of their answers (in the grader's process).

    Helpers come earlier in the notebook, so they are probed and scored first; each one that fails its own
    checks is replaced by the course's reference while a later function that calls it runs, so that every
    graded function is graded on its own. `run` (a NotebookRun) explains a function that is missing."""

    def __init__(self, exercises, seed, limits, nb=None):
        self.exercises, self.limits, self.nb, self.run = exercises, limits, nb, None
        self.cases = {ex.name: build_cases(ex, seed) for ex in exercises}
        self.reports, self.standins = {}, {}

    def requests(self):
        """{name: build(answers so far) -> the probe request}, in notebook order."""
        return {ex.name: functools.partial(self.request, ex) for ex in self.exercises}

    def request(self, ex, answers):
        failed = [h for h in self.exercises if h.name in answers and h is not ex and not self.report(h, answers).passed]
        self.standins[ex.name] = [h.name for h in failed]
        return {
            "function": ex.name,
            "reference": [ex.reference.__module__, ex.reference.__name__],
            "cases": [{"args": probe_module.encode(tuple(c.args)), "kwargs": probe_module.encode(dict(c.kwargs))}
                      for c in self.cases[ex.name]],
            "call_timeout": self.limits.call_timeout,
            "graded": [h.name for h in self.exercises if h is not ex],
            "standins": {h.name: [h.reference.__module__, h.reference.__name__] for h in failed},
            "harness": [ex.harness.__module__, ex.harness.__name__] if ex.harness else None,
        }

    def report(self, ex, answers):
        """The Report of ex (probed already), scored once."""
        if ex.name not in self.reports:
            self.reports[ex.name] = score_exercise(ex, self.cases[ex.name], answers.get(ex.name, "not graded"),
                                                   self.nb, self.run, self.standins.get(ex.name, ()))
        return self.reports[ex.name]


def grade_notebook(path, limits=None, seed=None, chapter=None, private=(), private_files=()):
    """Grade one submission. Never raises for anything the submission contains.

    The kernel runs sealed off (`course_lib.grading.sandbox`) where the machine allows it: it cannot see the
    submission's own folder, the folders in `private` (the class, the grades) or the files in
    `private_files` (the other submissions), and nothing it started is alive when this returns."""
    limits = limits or Limits()
    seed = secrets.randbelow(2**31) if seed is None else int(seed)
    start = time.monotonic()
    result = SubmissionResult(path=str(path), seed=seed, chapter=chapter)  # named even if unreadable
    try:
        nb = nbformat.read(str(path), as_version=4)
    except Exception as exc:
        result.error = f"not a readable Jupyter notebook ({type(exc).__name__}: {str(exc).splitlines()[0][:200] if str(exc) else ''})"
        return result
    result.chapter = chapter or detect_chapter(path, nb)
    if result.chapter not in CHAPTERS:
        result.error = "could not tell which chapter this notebook belongs to (name it like NN_name.ipynb, or pass --chapter)"
        return result
    exercises = CHAPTERS[result.chapter]
    scoring = Scoring(exercises, seed, limits, nb)
    with tempfile.TemporaryDirectory(prefix="course-grade-") as tmp:
        workdir, grader_dir = Path(tmp) / "submission", Path(tmp) / "grader"
        workdir.mkdir()
        shutil.copyfile(path, workdir / Path(path).name)  # the learner's file is never opened for writing
        run = scoring.run = NotebookRun(nb, workdir, limits, grader_dir, private=[Path(path).resolve().parent, *private],
                                        private_files=[path, *private_files])
        result.isolated = run.isolated
        if not run.isolated:
            print(f"course-grade: {path}: {run.isolation_note}", file=sys.stderr, flush=True)
        try:
            answers = run.run(scoring.requests())
        except Exception as exc:  # a grader bug must not lose the other submissions' results
            answers = {ex.name: f"not graded: grader error {type(exc).__name__}: {exc}" for ex in exercises}
            scoring.reports.clear()  # helpers scored while the run went on are not graded either
        try:
            killed = run.end_all_processes()
        except RuntimeError as exc:  # nothing is scored while the submission may still be writing
            result.error, result.seconds = f"not graded: {exc}", time.monotonic() - start
            return result
        result.reports = [scoring.report(ex, answers) for ex in exercises]
        result.hidden = {ex.name: [bool(c.hidden) for c in scoring.cases[ex.name]] for ex in exercises}
        result.notes = _notes(nb, run)
        if killed:
            result.notes.append(f"{killed} process(es) your notebook started outlived its kernel and were stopped")
        if not run.isolated:
            result.notes.append(run.isolation_note)
    result.seconds = time.monotonic() - start
    return result


def _notes(nb, run, limit=6):
    notes = []
    for index in sorted(set(run.bad) | set(run.cell_errors)):
        if index == run.probe_index:
            continue
        why = run.bad.get(index) or f"raised {run.cell_errors[index]}"
        notes.append(f"cell {index + 1}: {why}")
    if len(notes) > limit:
        notes = notes[:limit] + [f"... and {len(notes) - limit} more cells with errors"]
    return notes


# ---------------------------------------------------------------------------------------------------
# Command line


def _submissions(paths):
    found = []
    for p in paths:
        p = Path(p)
        if p.is_dir():
            found += sorted(q for q in p.rglob("*.ipynb") if ".ipynb_checkpoints" not in q.parts)
        else:
            found.append(p)
    return found


def _readable_name(path, root_paths):
    text = str(path)
    for root in root_paths:
        if Path(root).is_dir():
            try:
                text = str(Path(path).relative_to(root))
            except ValueError:
                continue
    return re.sub(r"[^\w.\-]+", "__", text.removesuffix(".ipynb"))


def json_names(paths, root_paths):
    """One output file name per submission: its path inside the class folder with `/` as `__`, plus a
    short hash of the full path wherever two submissions would otherwise get the same name (also when
    they differ only in case, for case-insensitive file systems)."""
    readable = {p: _readable_name(p, root_paths) for p in paths}
    counts = {}
    for name in readable.values():
        counts[name.lower()] = counts.get(name.lower(), 0) + 1
    names = {}
    for p, name in readable.items():
        if counts[name.lower()] > 1:
            name += "-" + hashlib.sha256(str(Path(p).resolve()).encode()).hexdigest()[:10]
        names[p] = name + ".json"
    if len({n.lower() for n in names.values()}) < len(names):  # a hash collision: number them instead
        names = {p: f"{i:04d}-{n}" for i, (p, n) in enumerate(names.items())}
    return names


def summary_row(result):
    """What summary.csv needs from one result (a plain dict, so a worker process can send it back)."""
    return {"path": result.path, "chapter": result.chapter or "", "score": result.score, "max_score": result.max_score,
            "per": {rep.exercise.name: rep.score for rep in result.reports}, "seconds": result.seconds,
            "error": result.error or "", "seed": result.seed, "isolated": result.isolated}


def write_summary(rows, csv_path):
    """rows: `summary_row` dicts (SubmissionResults are accepted too)."""
    rows = [r if isinstance(r, dict) else summary_row(r) for r in rows]
    names = []
    for r in rows:
        names += [n for n in r["per"] if n not in names]
    with open(csv_path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["submission", "chapter", "score", "max_score"] + names + ["seconds", "error", "seed", "isolated"])
        for r in rows:
            isolated = "" if r["isolated"] is None else ("yes" if r["isolated"] else "no")
            writer.writerow([r["path"], r["chapter"], r["score"], r["max_score"]] + [r["per"].get(n, "") for n in names]
                            + [f"{r['seconds']:.1f}", r["error"], r["seed"], isolated])


def _grade_for_class(path, limits, seed, chapter, private, private_files):
    """Grade one submission of a class (in a worker process): the table, the JSON and the summary row."""
    try:
        result = grade_notebook(path, limits, seed, chapter, private=private, private_files=private_files)
    except Exception as exc:  # never let one submission stop the class
        result = SubmissionResult(path=str(path), seed=seed, error=f"grader error {type(exc).__name__}: {exc}")
    return {"table": result.table(), "json": result.gradescope(), "row": summary_row(result)}


class Progress:
    """A one-line progress bar on a terminal; one line per finished submission elsewhere (logs, CI)."""

    def __init__(self, total, stream=None, width=30):
        self.total, self.done, self.stream, self.width = total, 0, stream or sys.stderr, width
        self.tty = hasattr(self.stream, "isatty") and self.stream.isatty()

    def clear(self):
        """Take the bar off its line, so that text printed next starts at the left margin."""
        if self.tty and self.done:
            self.stream.write("\r\033[K")

    def step(self, label):
        self.done += 1
        filled = round(self.width * self.done / max(1, self.total))
        line = f"grading [{'#' * filled}{'.' * (self.width - filled)}] {self.done}/{self.total}"
        if self.tty:
            self.stream.write("\r" + line + ("\n" if self.done == self.total else ""))
        else:
            self.stream.write(f"{line}  {label}\n")
        self.stream.flush()


def grade_class(submissions, out, limits, seed, chapter=None, jobs=1, roots=()):
    """Grade many submissions, `jobs` at a time (each kernel in its own sandbox), all with one seed; write
    one Gradescope JSON per submission and summary.csv into `out`. Returns the summary rows."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    names = json_names(submissions, roots)
    private = [r for r in roots if Path(r).is_dir()] + [out]
    progress = Progress(len(submissions))
    done = {}

    def finish(path, record):
        progress.clear()
        print(record["table"], flush=True)
        (out / names[path]).write_text(json.dumps(record["json"], indent=2), encoding="utf-8")
        done[path] = record["row"]
        progress.step(str(path))

    jobs = max(1, min(int(jobs), len(submissions)))
    sandbox.isolation()  # tried once here, not once per worker
    args = (limits, seed, chapter, private, submissions)
    if jobs == 1:
        for path in submissions:
            finish(path, _grade_for_class(path, *args))
    else:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor, as_completed
        # fork: the workers start at once with the checks already imported (the class has not started any
        # kernel or thread yet); elsewhere spawn.
        method = "fork" if sys.platform.startswith("linux") else "spawn"
        with ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context(method)) as pool:
            futures = {pool.submit(_grade_for_class, path, *args): path for path in submissions}
            for future in as_completed(futures):
                path = futures[future]
                try:
                    record = future.result()
                except Exception as exc:  # a worker that died: that submission gets a readable error
                    result = SubmissionResult(path=str(path), seed=seed, error=f"grader error {type(exc).__name__}: {exc}")
                    record = {"table": result.table(), "json": result.gradescope(), "row": summary_row(result)}
                finish(path, record)
    rows = [done[p] for p in submissions]
    write_summary(rows, out / "summary.csv")
    return rows


def default_jobs():
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def main(argv=None):
    parser = argparse.ArgumentParser(prog="course-grade", description="Grade course exercise notebooks.")
    parser.add_argument("paths", nargs="+", help="notebook(s) or folder(s) of notebooks")
    parser.add_argument("--json", metavar="FILE", help="with one notebook: write Gradescope results JSON here")
    parser.add_argument("--out", metavar="DIR", default="grading-output",
                        help="with several notebooks or a folder: where summary.csv and one JSON per submission go")
    parser.add_argument("--jobs", type=int, default=default_jobs(), metavar="N",
                        help="grade N submissions at once (default: the number of cores)")
    parser.add_argument("--seed", type=int, help="seed of the randomized checks (default: a fresh one, stored in the JSON)")
    parser.add_argument("--chapter", choices=sorted(CHAPTERS), help="grade as this chapter, whatever the file name")
    parser.add_argument("--cell-timeout", type=float, default=Limits.cell_timeout)
    parser.add_argument("--total-timeout", type=float, default=Limits.total_timeout)
    parser.add_argument("--call-timeout", type=float, default=Limits.call_timeout)
    parser.add_argument("--memory-mb", type=int, default=Limits.memory_mb)
    args = parser.parse_args(argv)
    limits = Limits(cell_timeout=args.cell_timeout, total_timeout=args.total_timeout,
                    call_timeout=args.call_timeout, memory_mb=args.memory_mb)

    missing = [p for p in args.paths if not Path(p).exists()]
    if missing:
        print(f"course-grade: no such file or folder: {', '.join(missing)}", file=sys.stderr)
        return 2
    if args.jobs < 1:
        print("course-grade: --jobs must be at least 1", file=sys.stderr)
        return 2
    single = len(args.paths) == 1 and Path(args.paths[0]).is_file()
    if single:
        result = grade_notebook(args.paths[0], limits, args.seed, args.chapter)
        print(result.table())
        if args.json:
            Path(args.json).write_text(json.dumps(result.gradescope(), indent=2), encoding="utf-8")
        return 2 if result.error and result.error.startswith("not a readable") else 0
    if args.json:
        print("course-grade: --json writes one notebook's result; for several notebooks or a folder use "
              "--out DIR (one JSON per submission and summary.csv)", file=sys.stderr)
        return 2

    submissions = _submissions(args.paths)
    seed = secrets.randbelow(2**31) if args.seed is None else args.seed  # one seed for the whole class
    print(f"grading {len(submissions)} submission(s), {min(args.jobs, max(1, len(submissions)))} at a time, seed {seed}",
          file=sys.stderr, flush=True)
    rows = grade_class(submissions, args.out, limits, seed, args.chapter, args.jobs, args.paths)
    print(f"\n{len(rows)} submission(s) graded with seed {seed}; summary in {Path(args.out) / 'summary.csv'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
