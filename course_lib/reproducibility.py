"""Seeding and device choice: one call makes a notebook's numbers the same on every run."""
import os
import platform
import random

import numpy as np

DEFAULT_THREADS = 2


def seed_everything(seed=0, threads=DEFAULT_THREADS):
    """Seed Python, NumPy and torch and fix torch's CPU thread count.

    Thread count matters for reproducibility: float sums are split differently across threads, so
    results can differ in the last bits. Returns a NumPy `Generator` seeded with `seed`, for code
    that takes an explicit `rng`.
    """
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}.")
    random.seed(seed)
    np.random.seed(seed)
    import torch
    torch.manual_seed(seed)
    if threads is not None:
        torch.set_num_threads(int(threads))
    return np.random.default_rng(seed)


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
