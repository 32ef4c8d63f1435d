import os
import random
import subprocess
import sys

import numpy as np
import pytest
import torch
from threadpoolctl import threadpool_info

from course_lib import environment_report, get_device, seed_everything
from course_lib.reproducibility import DEFAULT_THREADS, course_threads


def draws():
    return random.random(), np.random.rand(), torch.rand(1).item()


@pytest.fixture
def restore_threads():
    before = torch.get_num_threads()
    yield
    seed_everything(0, threads=before)


def blas_threads():
    return {lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"}


def test_seed_everything_repeats_python_numpy_and_torch_draws(restore_threads):
    rng = seed_everything(3)
    first = draws() + (rng.normal(),)
    rng = seed_everything(3)
    assert draws() + (rng.normal(),) == first
    seed_everything(4)
    assert draws() != first[:3]


def test_seed_everything_sets_torch_and_blas_threads(restore_threads):
    seed_everything(0, threads=1)
    assert torch.get_num_threads() == 1
    assert blas_threads() <= {1}
    seed_everything(0, threads=2)
    assert torch.get_num_threads() == 2


def test_course_threads_reads_the_environment(monkeypatch, restore_threads):
    monkeypatch.delenv("COURSE_THREADS", raising=False)
    assert course_threads() == DEFAULT_THREADS
    monkeypatch.setenv("COURSE_THREADS", "1")
    seed_everything(0)
    assert torch.get_num_threads() == 1
    monkeypatch.setenv("COURSE_THREADS", "3")
    seed_everything(0)
    assert torch.get_num_threads() == 3


@pytest.mark.parametrize("value", ["0", "two", "-1", "1.5"])
def test_a_bad_course_threads_is_named(monkeypatch, value):
    monkeypatch.setenv("COURSE_THREADS", value)
    with pytest.raises(ValueError, match="COURSE_THREADS must be a positive integer"):
        seed_everything(0)


def test_setting_course_threads_before_the_process_starts_is_enough():
    code = ("import numpy, torch; from course_lib import seed_everything; seed_everything(0); "
            "from threadpoolctl import threadpool_info; "
            "print(torch.get_num_threads(), max(l['num_threads'] for l in threadpool_info() if l['user_api'] == 'blas'))")
    env = dict(os.environ, COURSE_THREADS="1")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout
    assert out.split() == ["1", "1"]


@pytest.mark.parametrize("seed", [-1, 1.5, "0", True])
def test_seed_everything_rejects_bad_seeds(seed):
    with pytest.raises(ValueError, match="seed"):
        seed_everything(seed)


@pytest.mark.parametrize("threads", [0, 1.5, "2", True])
def test_seed_everything_rejects_bad_thread_counts(threads):
    with pytest.raises(ValueError, match="threads"):
        seed_everything(0, threads=threads)


def test_device_is_cpu_unless_asked_and_available(monkeypatch):
    monkeypatch.delenv("COURSE_DEVICE", raising=False)
    assert get_device().type == "cpu"
    monkeypatch.setenv("COURSE_DEVICE", "cuda")
    assert get_device().type == ("cuda" if torch.cuda.is_available() else "cpu")


def test_environment_report_names_versions_and_threads():
    report = environment_report()
    assert report["torch"] == torch.__version__ and report["torch threads"] >= 1


def test_course_trainers_leave_the_callers_random_state_and_threads_alone():
    import random

    import numpy as np
    import torch

    from course_lib.reproducibility import seed_everything, seeded
    from course_lib.training import RecallBudget, lstm_encoder, train_recall

    seed_everything(7, threads=1)
    expected = (random.random(), np.random.rand(), torch.rand(1).item())
    seed_everything(7, threads=1)
    first = train_recall(lstm_encoder, 3, RecallBudget(steps=3, hidden=8, eval_size=10))
    assert (random.random(), np.random.rand(), torch.rand(1).item()) == expected and torch.get_num_threads() == 1
    with seeded(0, threads=2):
        assert torch.get_num_threads() == 2
    assert torch.get_num_threads() == 1
    assert train_recall(lstm_encoder, 3, RecallBudget(steps=3, hidden=8, eval_size=10)) == first  # its own seed decides
