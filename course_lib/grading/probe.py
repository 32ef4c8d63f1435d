"""The grader's probe: runs inside the learner's kernel, calls their functions, writes back plain arrays.

The grader sends this file's *source* to the kernel and executes it in a fresh namespace, so nothing
the learner's notebook did to the `course_lib` modules in its kernel can change the probe. The probe
only computes what the learner's functions return on the grader's inputs; the score is computed in the
grader's process. Values travel as JSON with arrays as base64 `.npy` bytes, never as pickles.
"""
import base64
import inspect
import io
import json
import signal
import sys
import threading
from contextlib import contextmanager

import numpy as np

MAX_RESULT_BYTES = 32 * 2**20
REFERENCE_FLAG = "__course_reference_called__"


class Unsupported:
    """A value the wire format does not carry (an arbitrary object); keeps its type name for feedback."""

    def __init__(self, type_name):
        self.type_name = type_name

    def __repr__(self):
        return f"<{self.type_name} object>"


def encode(value):
    """A JSON-able form of value: arrays, numbers, strings, None, and tuples/lists/dicts of those."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, np.generic):
        return encode(value.item())
    if hasattr(value, "detach") and hasattr(value, "numpy"):  # a torch tensor, without importing torch
        return {"__tensor__": encode(value.detach().cpu().numpy())}
    if isinstance(value, np.ndarray):
        if value.dtype == object:
            return {"__unsupported__": "ndarray of Python objects"}
        buffer = io.BytesIO()
        np.save(buffer, value, allow_pickle=False)
        return {"__ndarray__": base64.b64encode(buffer.getvalue()).decode("ascii")}
    if isinstance(value, tuple):
        return {"__tuple__": [encode(v) for v in value]}
    if isinstance(value, list):
        return [encode(v) for v in value]
    if isinstance(value, dict):
        return {"__dict__": [[str(k), encode(v)] for k, v in value.items()]}
    if type(value).__name__ == "Generator" and hasattr(value, "get_state"):  # a torch.Generator: send its state
        return {"__torch_generator__": encode(value.get_state().numpy())}
    module, qualname = getattr(value, "__module__", "") or "", getattr(value, "__qualname__", "")
    if callable(value) and module.startswith("course_lib.") and "<" not in qualname and "." not in qualname:
        return {"__function__": [module, qualname]}  # a course function passed as an argument (e.g. to a gradient check)
    return {"__unsupported__": type(value).__name__}


def decode(obj):
    """Inverse of encode. Arrays are loaded with allow_pickle=False."""
    if isinstance(obj, list):
        return [decode(v) for v in obj]
    if isinstance(obj, dict):
        if "__ndarray__" in obj:
            return np.load(io.BytesIO(base64.b64decode(obj["__ndarray__"])), allow_pickle=False)
        if "__tuple__" in obj:
            return tuple(decode(v) for v in obj["__tuple__"])
        if "__dict__" in obj:
            return {k: decode(v) for k, v in obj["__dict__"]}
        if "__tensor__" in obj:
            import torch
            return torch.from_numpy(decode(obj["__tensor__"]))
        if "__torch_generator__" in obj:
            import torch
            generator = torch.Generator()
            generator.set_state(torch.from_numpy(decode(obj["__torch_generator__"])))
            return generator
        if "__function__" in obj:
            import importlib
            module, name = obj["__function__"]
            if not module.startswith("course_lib."):
                raise ValueError(f"refusing to load a function from {module!r}")
            return getattr(importlib.import_module(module), name)
        if "__unsupported__" in obj:
            return Unsupported(obj["__unsupported__"])
        raise ValueError(f"unknown encoded object with keys {sorted(obj)}")
    return obj


class CallTimeout(BaseException):
    """Raised by the alarm; a BaseException so that a learner's `except Exception` does not swallow it."""


class _Sink:
    """Stands in for stdout/stderr while the learner's function runs: their prints are discarded."""

    def write(self, s):
        return len(s)

    def flush(self):
        pass


def _reference_tripwire(*args, **kwargs):
    # Runs with the reference module's globals, so it may only use builtins.
    import builtins
    setattr(builtins, "__course_reference_called__", True)
    raise RuntimeError("the course's reference implementation was called")


def last_line(exc):
    """'ExcType: last line of its message', the one line of a learner's exception they need to see."""
    lines = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {lines[-1][:300]}" if lines else type(exc).__name__


def timeout_message(seconds):
    return f"your function used more than {seconds:g} s of CPU time on this input (an endless loop?)"


def wall_backstop(seconds):
    """The wall-clock limit behind a CPU-time limit: generous, so that only a call that waits (sleeps,
    blocks on input) rather than computes ever reaches it, however busy the machine is."""
    return 3 * seconds + 5


def wall_timeout_message(seconds):
    return f"your function ran for more than {wall_backstop(seconds):g} s without finishing (is it waiting for something?)"


@contextmanager
def time_limit(seconds):
    """Raise CallTimeout once the call has used `seconds` of this process's CPU time, or after the
    generous `wall_backstop(seconds)` of wall-clock time, where the OS allows it (POSIX, main thread);
    else no limit. CPU time, not wall time, so that the verdict does not depend on the machine's load.
    The exception's args say which limit was hit ("cpu" or "wall")."""
    usable = seconds and hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()
    if not usable:
        yield
        return
    torch = sys.modules.get("torch")
    threads = torch.get_num_threads() if torch is not None else 1  # n threads may use n CPU seconds a second

    def on_cpu(signum, frame):
        raise CallTimeout("cpu")

    def on_wall(signum, frame):
        raise CallTimeout("wall")
    previous = signal.signal(signal.SIGPROF, on_cpu), signal.signal(signal.SIGALRM, on_wall)
    signal.setitimer(signal.ITIMER_PROF, seconds * threads)
    signal.setitimer(signal.ITIMER_REAL, wall_backstop(seconds))
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_PROF, 0)
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGPROF, previous[0])
        signal.signal(signal.SIGALRM, previous[1])


@contextmanager
def one_thread():
    """While the block runs, torch computes on one thread, whatever the notebook chose. Checks call
    functions on tiny tensors: one thread is the fastest there, and on a busy machine two threads wait on
    each other (a softmax of a (100, 6) tensor took 14 ms instead of 20 us), which made a correct
    function look like an endless loop."""
    torch = sys.modules.get("torch")
    before = torch.get_num_threads() if torch is not None else 1
    if before == 1:
        yield
        return
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def limit_message(exc, seconds):
    """What to tell a learner whose call hit `time_limit(seconds)`."""
    return wall_timeout_message(seconds) if exc.args[:1] == ("wall",) else timeout_message(seconds)


def graded_names_used(fn, names):
    """Which of `names` (other graded functions) fn's code reads as globals, nested functions included
    (an attribute such as `F.layer_norm` or a local import is not a use of the notebook's function)."""
    import dis
    code, found, todo = getattr(fn, "__code__", None), set(), []
    if code is not None:
        todo.append(code)
    while todo:
        code = todo.pop()
        found.update(i.argval for i in dis.get_instructions(code)
                     if i.opname in ("LOAD_GLOBAL", "LOAD_NAME") and i.argval in names)
        todo.extend(c for c in code.co_consts if hasattr(c, "co_names"))
    return sorted(found)


@contextmanager
def standing_in(fn, references):
    """While the block runs, the globals `references` names (graded helpers that fail their own checks)
    are the course's reference functions in fn's namespace, so fn is graded on its own."""
    namespace = getattr(fn, "__globals__", None)
    if not references or namespace is None:
        yield
        return
    missing = object()
    saved = {name: namespace.get(name, missing) for name in references}
    namespace.update(references)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is missing:
                namespace.pop(name, None)
            else:
                namespace[name] = value


def _call(fn, args, kwargs, seconds):
    import builtins
    setattr(builtins, REFERENCE_FLAG, False)
    stdout, stderr = sys.stdout, sys.stderr
    sys.stdout = sys.stderr = _Sink()
    try:
        with time_limit(seconds):
            value = fn(*args, **kwargs)
        outcome = {"kind": "value", "value": value}
    except CallTimeout as exc:
        outcome = {"kind": "error", "timeout": True, "message": limit_message(exc, seconds)}
    except NotImplementedError:
        outcome = {"kind": "not_implemented"}
    except BaseException as exc:  # SystemExit, RecursionError, MemoryError...: all the learner's own errors
        outcome = {"kind": "raised", "exc_type": type(exc).__name__, "message": last_line(exc)}
    finally:
        sys.stdout, sys.stderr = stdout, stderr
    if getattr(builtins, REFERENCE_FLAG, False):
        outcome = {"kind": "error", "message": "your function calls the course's reference implementation: no marks"}
    return outcome


_SKIPPED_OPS = {"CACHE", "NOP", "RESUME", "PRECALL", "EXTENDED_ARG"}


def written_in_a_cell(fn):
    """True when fn's code was compiled from one of this IPython kernel's cells. Its instructions matching
    the reference's then prove nothing: a short function written from an exercise's own instructions (such
    as train_step's six calls) can be the course's code word for word. The routes a copy takes without
    typing it (importing the reference, wrapping it, exec of its source) are not cells and are still caught."""
    import builtins
    code, shell = getattr(fn, "__code__", None), getattr(builtins, "get_ipython", lambda: None)()
    name_of_cell = getattr(getattr(shell, "compile", None), "format_code_name", None)
    return code is not None and name_of_cell is not None and name_of_cell(code.co_filename) is not None



def code_fingerprint(fn):
    """The instructions of fn's code, normalised so that compiling the same source twice gives the same
    list (bytecode bytes can differ: LOAD_METHOD vs LOAD_ATTR, jump offsets). None if fn has no code."""
    import dis
    try:
        fn = inspect.unwrap(fn)  # a reference with declared shapes (validation.shapes): its own body
    except ValueError:
        pass
    code = getattr(fn, "__code__", None)
    if code is None:
        return None
    jumps = set(dis.hasjrel) | set(dis.hasjabs)
    def arg(i):
        if i.opcode in jumps:
            return None
        if hasattr(i.argval, "co_code"):  # a nested function or generator: its repr holds an address
            return "code " + i.argval.co_name
        return repr(i.argval)
    return [[i.opname.replace("LOAD_METHOD", "LOAD_ATTR"), arg(i)]
            for i in dis.get_instructions(code) if i.opname not in _SKIPPED_OPS]


def probe(user_ns, request_json, result_path):
    """Call the function `request["function"]` from the learner's namespace on every case; write JSON.

    request: {"function": name, "reference": [module, attribute], "cases": [{"args", "kwargs"}],
              "call_timeout": CPU seconds per call, "graded": names of the notebook's other graded functions,
              "standins": {name: [module, attribute]} of those that failed their own checks,
              "harness": [module, attribute] of the exercise's harness, or None}
    result: {"found", "callable", "fingerprint", "uses": the graded names fn's code refers to, "outcomes"}
    """
    import importlib
    try:  # graded calls are small: at one thread they are fastest, and their CPU time (what the limit
        import torch  # measures) tracks the work done, whatever the machine's load
        torch.set_num_threads(1)
    except ImportError:
        pass
    request = json.loads(request_json)
    fn = user_ns.get(request["function"])
    result = {"found": fn is not None, "callable": callable(fn), "fingerprint": None, "uses": [], "outcomes": []}
    if callable(fn):
        result["fingerprint"] = None if written_in_a_cell(fn) else code_fingerprint(fn)
        result["uses"] = graded_names_used(fn, set(request.get("graded", ())))
        standins = {name: getattr(importlib.import_module(module), attribute)
                    for name, (module, attribute) in request.get("standins", {}).items() if name in result["uses"]}
        module_name, attribute = request["reference"]
        # the function itself, below any wrapper that checks its arguments (validation.shapes): its code is swapped
        reference = inspect.unwrap(getattr(importlib.import_module(module_name), attribute))
        call = fn
        if request.get("harness"):  # the exercise's harness builds the objects fn needs, then calls it
            import functools
            harness_module, harness_name = request["harness"]
            call = functools.partial(getattr(importlib.import_module(harness_module), harness_name), fn)
        saved_code = reference.__code__
        reference.__code__ = _reference_tripwire.__code__
        try:
            timed_out = False
            for case in request["cases"]:
                if timed_out:  # one endless loop is enough to know: don't spend the limit on every case
                    result["outcomes"].append({"kind": "error", "message": "not run: your function ran out of time on an earlier check"})
                    continue
                with standing_in(fn, standins):
                    outcome = _call(call, decode(case["args"]), decode(case["kwargs"]), request["call_timeout"])
                timed_out = outcome.get("timeout", False)
                if outcome["kind"] == "value":
                    try:
                        outcome["value"] = encode(outcome["value"])
                    except Exception as exc:
                        outcome = {"kind": "error", "message": f"its return value could not be read: {last_line(exc)}"}
                result["outcomes"].append(outcome)
        finally:
            reference.__code__ = saved_code
    text = json.dumps(result)
    if len(text) > MAX_RESULT_BYTES:
        text = json.dumps({"found": True, "callable": True, "fingerprint": result["fingerprint"], "uses": result["uses"], "outcomes": [
            {"kind": "error", "message": "your function returned far larger arrays than expected"}] * len(request["cases"])})
    with open(result_path, "w", encoding="utf-8") as handle:
        handle.write(text)
