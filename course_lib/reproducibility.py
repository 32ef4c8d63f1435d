"""Seeding, thread count and device choice: one call makes a notebook's numbers the same on every run."""
import contextlib
import os
import platform
import random

import numpy as np

# Two threads unless COURSE_THREADS says otherwise: what an idle laptop with two or more cores can use.
# On a machine busy with other work one thread is many times faster, because the threads wait for each
# other (25 LSTM training steps on the 2-core course machine under load: 20 s at one thread, 245 s at two).
DEFAULT_THREADS = 2
THREADS_VARIABLE = "COURSE_THREADS"


def course_threads():
    """The CPU thread count the course uses: $COURSE_THREADS if set, else DEFAULT_THREADS."""
    raw = os.environ.get(THREADS_VARIABLE, "").strip()
    if not raw:
        return DEFAULT_THREADS
    if not raw.isdigit() or int(raw) < 1:
        raise ValueError(f"{THREADS_VARIABLE} must be a positive integer, got {raw!r}.")
    return int(raw)


def set_threads(threads):
    """Use `threads` CPU threads in torch and in NumPy's BLAS, from now on in this process."""
    if not isinstance(threads, (int, np.integer)) or isinstance(threads, bool) or threads < 1:
        raise ValueError(f"threads must be a positive integer, got {threads!r}.")
    import torch
    from threadpoolctl import threadpool_limits
    torch.set_num_threads(int(threads))
    threadpool_limits(int(threads), user_api="blas")


def seed_everything(seed=0, threads=None):
    """Seed Python, NumPy and torch and fix the CPU thread count of torch and NumPy's BLAS.

    threads: None uses course_threads() ($COURSE_THREADS, else DEFAULT_THREADS), so setting the
    variable before a kernel starts is enough to change it. Thread count matters for reproducibility:
    float sums may be split differently across threads. Returns a NumPy `Generator` seeded with `seed`,
    for code that takes an explicit `rng`.
    """
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}.")
    set_threads(course_threads() if threads is None else threads)
    random.seed(seed)
    np.random.seed(seed)
    import torch
    torch.manual_seed(seed)
    return np.random.default_rng(seed)


@contextlib.contextmanager
def seeded(seed, threads=None):
    """`seed_everything(seed, threads)` for the code inside the block only: afterwards the caller's random
    states (Python, NumPy, torch) and thread counts are what they were before. The course's functions that
    build or train models run inside one, so that calling them never reseeds or re-threads the learner's
    session. threads: None keeps torch's current count (inside the block NumPy's BLAS uses the same count, as
    seed_everything sets it; both are restored afterwards). Yields the NumPy Generator seed_everything returns.

        with seeded(0) as rng:
            model = make_model()   # torch's initialisation draws from the seeded global generator
    """
    import torch
    from threadpoolctl import threadpool_limits
    python_state, numpy_state, torch_threads = random.getstate(), np.random.get_state(), torch.get_num_threads()
    with torch.random.fork_rng(), threadpool_limits(limits=None):  # both restore what they saw on exit
        try:
            yield seed_everything(seed, threads=torch_threads if threads is None else threads)
        finally:
            random.setstate(python_state)
            np.random.set_state(numpy_state)
            torch.set_num_threads(torch_threads)


def get_device():
    """The torch device for training: the CPU unless the learner sets COURSE_DEVICE=cuda and one exists.

    Stored notebook outputs always come from the CPU, so a GPU is opt-in.
    """
    import torch
    wanted = os.environ.get("COURSE_DEVICE", "cpu").lower()
    if wanted.startswith("cuda") and torch.cuda.is_available():
        return torch.device(wanted)
    return torch.device("cpu")


def environment_report():
    """A dict of what a bug report needs: versions, threads, CPU and GPU."""
    import matplotlib
    import torch
    report = {
        "python": platform.python_version(),
        "platform": platform.platform(terse=True),
        "numpy": np.__version__,
        "torch": torch.__version__,
        "matplotlib": matplotlib.__version__,
        "cpu cores": os.cpu_count(),
        "torch threads": torch.get_num_threads(),
        "cuda available": torch.cuda.is_available(),
        "device used": str(get_device()),
    }
    if torch.cuda.is_available():
        report["gpu"] = torch.cuda.get_device_name(0)
    return report
