import random

import numpy as np
import pytest
import torch

from course_lib import environment_report, get_device, seed_everything


def draws():
    return random.random(), np.random.rand(), torch.rand(1).item()


def test_seed_everything_repeats_python_numpy_and_torch_draws():
    rng = seed_everything(3)
    first = draws() + (rng.normal(),)
    rng = seed_everything(3)
    assert draws() + (rng.normal(),) == first
    seed_everything(4)
    assert draws() != first[:3]


def test_seed_everything_sets_torch_threads():
    before = torch.get_num_threads()
    try:
        seed_everything(0, threads=1)
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)


@pytest.mark.parametrize("seed", [-1, 1.5, "0", True])
def test_seed_everything_rejects_bad_seeds(seed):
    with pytest.raises(ValueError, match="seed"):
        seed_everything(seed)


def test_device_is_cpu_unless_asked_and_available(monkeypatch):
    monkeypatch.delenv("COURSE_DEVICE", raising=False)
    assert get_device().type == "cpu"
    monkeypatch.setenv("COURSE_DEVICE", "cuda")
    assert get_device().type == ("cuda" if torch.cuda.is_available() else "cpu")


def test_environment_report_names_versions_and_threads():
    report = environment_report()
    assert report["torch"].startswith("2.13.0") and report["torch threads"] >= 1
