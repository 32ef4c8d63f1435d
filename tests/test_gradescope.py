"""The Gradescope autograder: the zip's layout, its setup script, and its run_autograder run in a laid-out
$AUTOGRADER_ROOT for a correct, a wrong, a garbage, a missing and a doubled submission."""
import json
import os
import re
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import nbformat
import pytest

from course_lib.grading.gradescope import RESULT_KEYS, TEST_KEYS, build, chapter_name, main

ROOT = Path(__file__).resolve().parent.parent
CH = "00_welcome"


@pytest.fixture(scope="module")
def autograder(tmp_path_factory):
    out = tmp_path_factory.mktemp("build")
    assert main(["0", "--out", str(out)]) == 0
    return out / "autograder.zip"


def run_autograder(zip_path, tmp_path, files):
    """Lay out $AUTOGRADER_ROOT as Gradescope does (source = the zip, submission = the learner's files, the
    venv setup.sh would make = this Python), run run_autograder there, return results.json."""
    root = tmp_path / "autograder"
    with zipfile.ZipFile(zip_path) as archive:
        archive.extractall(root / "source")
    (root / "submission").mkdir()
    for name, content in files.items():
        (root / "submission" / name).parent.mkdir(parents=True, exist_ok=True)
        (root / "submission" / name).write_bytes(content)
    (root / "venv" / "bin").mkdir(parents=True)
    python = root / "venv" / "bin" / "python"
    python.write_text(f'#!/bin/sh\nexec {sys.executable} "$@"\n')
    python.chmod(0o755)
    runner = root / "run_autograder"
    runner.write_bytes((root / "source" / "run_autograder").read_bytes())
    runner.chmod(0o755)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}  # only the course in the zip
    done = subprocess.run([str(runner)], cwd=root, env={**env, "AUTOGRADER_ROOT": str(root)},
                          capture_output=True, text=True, timeout=400)
    assert done.returncode == 0, done.stderr
    return json.loads((root / "results" / "results.json").read_text()), done


def assert_spec_valid(results):
    assert set(results) <= RESULT_KEYS, set(results) - RESULT_KEYS
    assert isinstance(results["score"], (int, float)) and isinstance(results["execution_time"], (int, float))
    assert isinstance(results["output"], str) and isinstance(results["tests"], list)
    for test in results["tests"]:
        assert set(test) <= TEST_KEYS, set(test) - TEST_KEYS
        assert test["visibility"] in {"visible", "after_due_date"} and test["status"] in {"passed", "failed"}
        assert 0 <= test["score"] <= test["max_score"]
    assert {"chapter", "seed"} <= set(results["extra_data"])


def solution_bytes(stem=CH):
    return (ROOT / "solutions" / f"{stem}.ipynb").read_bytes()


def test_the_zip_has_setup_and_run_autograder_at_its_root(autograder):
    with zipfile.ZipFile(autograder) as archive:
        names = set(archive.namelist())
        modes = {i.filename: i.external_attr >> 16 for i in archive.infolist()}
        setup = archive.read("setup.sh").decode()
        config = json.loads(archive.read("autograder.json"))
    assert {"setup.sh", "run_autograder", "autograder.json", "course/pyproject.toml", "course/requirements-lock.txt",
            "course/course_lib/grading/grade.py", "course/course_lib/grading/checks/core.py"} <= names
    assert all(modes[n] & stat.S_IXUSR for n in ("setup.sh", "run_autograder"))
    assert config["chapter"] == CH
    assert setup.startswith("#!/usr/bin/env bash") and "set -euo pipefail" in setup
    assert "python3.11 python3.11-venv" in setup and "bubblewrap" in setup
    assert "download.pytorch.org/whl/cpu" in setup and '"torch==2.13.0"' in setup
    assert "pip install -c /autograder/source/course/requirements-lock.txt /autograder/source/course" in setup
    run = archive_text(autograder, "run_autograder")
    assert "export COURSE_THREADS=1 " in run  # the notebooks' seed_everything keeps the one thread
    subprocess.run(["bash", "-n", "-c", setup], check=True)  # well-formed shell


def test_a_correct_submission_gets_full_marks_with_hidden_tests_after_the_due_date(autograder, tmp_path):
    results, done = run_autograder(autograder, tmp_path, {"my work.ipynb": solution_bytes()})
    assert_spec_valid(results)
    assert results["score"] == 2 and results["extra_data"]["chapter"] == CH
    visible = [t for t in results["tests"] if t["visibility"] == "visible"]
    hidden = [t for t in results["tests"] if t["visibility"] == "after_due_date"]
    assert [t["name"] for t in visible] == ["running_mean"] and len(hidden) == 1
    assert sum(t["max_score"] for t in results["tests"]) == 2
    assert "✓" in visible[0]["output"] and "hidden checks passed" in hidden[0]["output"]
    assert results["execution_time"] > 0


def test_hidden_tests_never_show_their_inputs(autograder, tmp_path):
    nb = nbformat.reads(solution_bytes().decode(), as_version=4)
    cell = next(c for c in nb.cells if c.cell_type == "code" and "def running_mean(" in c.source)
    cell.source = "def running_mean(x):\n    import numpy as np\n    return np.cumsum(np.asarray(x, float), axis=0)"
    results, done = run_autograder(autograder, tmp_path, {"work.ipynb": nbformat.writes(nb).encode()})
    assert_spec_valid(results)
    hidden = next(t for t in results["tests"] if t["visibility"] == "after_due_date")
    assert results["score"] < 1 and hidden["status"] == "failed"  # only the bad-input checks pass
    assert re.fullmatch(r"\d+/\d+ hidden checks passed", hidden["output"]), hidden["output"]


@pytest.mark.parametrize("files, words", [
    ({"notebook.ipynb": b"{garbage"}, "not a readable Jupyter notebook"),
    ({}, "No notebook"),
    ({"readme.txt": b"hello"}, "No notebook"),
    ({"a.ipynb": solution_bytes(), "b/c.ipynb": solution_bytes()}, "2 notebooks"),
], ids=["garbage", "nothing", "no-notebook", "two-notebooks"])
def test_a_bad_submission_still_gets_valid_results_with_score_zero(autograder, tmp_path, files, words):
    results, _ = run_autograder(autograder, tmp_path, files)
    assert_spec_valid(results)
    assert results["score"] == 0 and words in results["output"]
    assert results["extra_data"]["chapter"] == CH  # the assignment's chapter, even when none could be read


def test_chapter_names_and_bad_settings(tmp_path):
    assert chapter_name("1") == chapter_name("01_sequential_data") == "01_sequential_data"
    with pytest.raises(ValueError, match="chapter must be one of"):
        chapter_name("99")
    with pytest.raises(ValueError, match="unknown autograder setting"):
        build("01", tmp_path, memory=1)
    assert main(["99", "--out", str(tmp_path)]) == 2


def archive_text(zip_path, name):
    with zipfile.ZipFile(zip_path) as archive:
        return archive.read(name).decode()


def test_a_build_that_fails_leaves_no_zip(tmp_path, monkeypatch):
    import course_lib.grading.gradescope as gradescope
    monkeypatch.setattr(gradescope, "_torch_pin", lambda: (_ for _ in ()).throw(ValueError("no torch pin")))
    with pytest.raises(ValueError, match="no torch pin"):
        gradescope.build(CH, tmp_path)
    assert not (tmp_path / "autograder.zip").exists()
