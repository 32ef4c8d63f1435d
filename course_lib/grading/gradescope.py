"""A Gradescope autograder for one chapter: `python -m course_lib.grading.gradescope 01 --out build/` writes
`build/autograder.zip`, to upload as the assignment's autograder (the "Ubuntu 22.04" base image).

The zip holds, at its root, `setup.sh` (run once by Gradescope to build the image: Python 3.11, the CPU build
of torch, bubblewrap and the course from the zip) and `run_autograder` (run for every submission: grades the
one notebook in `$AUTOGRADER_ROOT/submission` and always writes `$AUTOGRADER_ROOT/results/results.json`),
plus `autograder.json` (the chapter and limits) and `course/` (the course's package, pyproject, lock file and
licence).

The default limits fit Gradescope's default container (about 768 MB of memory and half a CPU); chapters 06
and 10 need more (see the README, "For instructors").
"""
import argparse
import json
import re
import secrets
import sys
import time
import zipfile
from pathlib import Path

from course_lib.grading.checks import CHAPTERS

REPO = Path(__file__).resolve().parents[2]
LOCK = "requirements-lock.txt"
ROOT_DEFAULT = "/autograder"
# Settings for Gradescope's default container (768 MB, half a CPU). memory_mb caps the kernel's address space,
# not its memory: a kernel grading chapter 01 maps 1.36 GB but uses 0.26 GB (chapters 06 and 10: 1.5 GB and
# 0.29 GB), so 1792 leaves it about 0.3 GB to grow before MemoryError, beside the grader's own process.
DEFAULTS = {"memory_mb": 1792, "cell_timeout": 60.0, "total_timeout": 300.0, "call_timeout": 10.0, "threads": 1}
RESULT_KEYS = {"score", "execution_time", "output", "output_format", "test_output_format", "test_name_format",
               "visibility", "stdout_visibility", "extra_data", "tests", "leaderboard"}
TEST_KEYS = {"score", "max_score", "status", "name", "name_format", "number", "output", "output_format", "tags",
             "visibility", "extra_data"}

SETUP_SH = """#!/usr/bin/env bash
# Gradescope runs this once, as root, to build the image its autograder runs in (Ubuntu 22.04 base image).
# It installs Python 3.11 (deadsnakes), bubblewrap (the sandbox each graded kernel runs in), the CPU build
# of torch {torch} and the course from this zip (/autograder/source/course) into /autograder/venv, with the
# exact versions of its requirements-lock.txt (the ones the course's checks were made with).
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends software-properties-common bubblewrap ca-certificates
add-apt-repository -y ppa:deadsnakes/ppa
apt-get update
apt-get install -y --no-install-recommends python3.11 python3.11-venv
python3.11 -m venv /autograder/venv
/autograder/venv/bin/python -m pip install --upgrade pip
/autograder/venv/bin/python -m pip install "torch=={torch}" --index-url https://download.pytorch.org/whl/cpu
/autograder/venv/bin/python -m pip install -c /autograder/source/course/requirements-lock.txt /autograder/source/course
"""

RUN_AUTOGRADER = """#!/usr/bin/env bash
# Gradescope runs this for every submission. It grades the one notebook in $AUTOGRADER_ROOT/submission
# (default /autograder) with the course in the zip, and always leaves a results.json, even if Python fails.
ROOT="${{AUTOGRADER_ROOT:-{root}}}"
PYTHON="$ROOT/venv/bin/python"
[ -x "$PYTHON" ] || PYTHON=python3
export PYTHONPATH="$ROOT/source/course${{PYTHONPATH:+:$PYTHONPATH}}"
# COURSE_THREADS too: each notebook's seed_everything sets torch's threads from it (else to 2).
export COURSE_THREADS={threads} OMP_NUM_THREADS={threads} MKL_NUM_THREADS={threads} OPENBLAS_NUM_THREADS={threads}
mkdir -p "$ROOT/results"
rm -f "$ROOT/results/results.json"
"$PYTHON" -m course_lib.grading.gradescope run --root "$ROOT" --config "$ROOT/source/autograder.json"
if [ ! -s "$ROOT/results/results.json" ]; then
  echo '{{"score": 0, "output": "The autograder stopped before it could grade your notebook: please tell your instructor.", "tests": []}}' > "$ROOT/results/results.json"
fi
exit 0
"""


def chapter_name(text):
    """'01', '1' or '01_sequential_data' -> '01_sequential_data'; ValueError naming the choices otherwise."""
    if text in CHAPTERS:
        return text
    if re.fullmatch(r"\d{1,2}", text):
        found = [c for c in CHAPTERS if c.startswith(f"{int(text):02d}_")]
        if found:
            return found[0]
    raise ValueError(f"chapter must be one of {', '.join(sorted(CHAPTERS))} (or its number), got {text!r}")


def _torch_pin():
    """The torch version of requirements-lock.txt (pyproject.toml declares only a range)."""
    match = re.search(r"^torch==(\S+)$", (REPO / LOCK).read_text(encoding="utf-8"), flags=re.M)
    if not match:
        raise ValueError(f"{LOCK} pins no torch version")
    return match.group(1)


def _executable(info):
    info.external_attr = (0o100755 << 16)
    return info


def build(chapter, out, **settings):
    """Write `out/autograder.zip` for `chapter`; returns its path. settings: overrides of DEFAULTS."""
    chapter = chapter_name(chapter)
    unknown = set(settings) - set(DEFAULTS)
    if unknown:
        raise ValueError(f"unknown autograder setting(s) {sorted(unknown)}; known: {sorted(DEFAULTS)}")
    config = {"chapter": chapter, **DEFAULTS, **{k: v for k, v in settings.items() if v is not None}}
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    target = out / "autograder.zip"
    setup_sh = SETUP_SH.format(torch=_torch_pin())  # before the zip is opened: a failed build leaves no file
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(_executable(zipfile.ZipInfo("setup.sh")), setup_sh)
        archive.writestr(_executable(zipfile.ZipInfo("run_autograder")),
                         RUN_AUTOGRADER.format(root=ROOT_DEFAULT, threads=int(config["threads"])))
        archive.writestr("autograder.json", json.dumps(config, indent=2))
        for name in ("pyproject.toml", LOCK, "README.md", "LICENSE"):
            archive.write(REPO / name, f"course/{name}")
        for path in sorted((REPO / "course_lib").rglob("*.py")):
            archive.write(path, f"course/{path.relative_to(REPO)}")
    return target


# ---------------------------------------------------------------------------------------------------
# Running in Gradescope's container


def _failed(message, config, seed):
    return {"score": 0.0, "output": message, "tests": [],
            "extra_data": {"chapter": config.get("chapter"), "seed": seed}}


def _submitted_notebooks(folder):
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.rglob("*.ipynb") if p.is_file()
                  and not {".ipynb_checkpoints", "__MACOSX"} & set(p.relative_to(folder).parts))


def grade_submission(root, config, seed=None):
    """The results.json content for the submission in `root/submission`."""
    from course_lib.grading.grade import Limits, grade_notebook
    seed = secrets.randbelow(2**31) if seed is None else int(seed)
    folder = Path(root) / "submission"
    notebooks = _submitted_notebooks(folder)
    if not notebooks:
        return _failed("No notebook (.ipynb file) was found in your submission: upload your chapter notebook.", config, seed)
    if len(notebooks) > 1:
        names = ", ".join(str(p.relative_to(folder)) for p in notebooks)
        return _failed(f"Your submission holds {len(notebooks)} notebooks ({names}): upload exactly one.", config, seed)
    limits = Limits(cell_timeout=config["cell_timeout"], total_timeout=config["total_timeout"],
                    call_timeout=config["call_timeout"], memory_mb=int(config["memory_mb"]))
    result = grade_notebook(notebooks[0], limits, seed, config["chapter"],
                            private=[folder, Path(root) / "results"], private_files=notebooks)
    print(result.table())  # for the instructor (results/stdout); learners see results.json only
    results = result.gradescope()
    results["extra_data"]["submission"] = str(notebooks[0].relative_to(folder))
    if result.error:
        results["score"] = 0.0
    return results


def run(root, config_path, seed=None):
    """Grade the submission and write `root/results/results.json`, whatever happens. Returns the results."""
    start = time.monotonic()
    root = Path(root)
    config = {"chapter": None}
    try:
        config = {**DEFAULTS, **json.loads(Path(config_path).read_text(encoding="utf-8"))}
        results = grade_submission(root, config, seed)
    except Exception as exc:  # the learner still gets a score and a sentence
        results = _failed(f"The autograder could not grade this submission ({type(exc).__name__}: {exc}); "
                          "please tell your instructor.", config, seed)
    results["execution_time"] = round(time.monotonic() - start, 2)
    results["stdout_visibility"] = "hidden"  # the instructor's log names the hidden checks
    (root / "results").mkdir(parents=True, exist_ok=True)
    (root / "results" / "results.json").write_text(json.dumps(results, indent=2), encoding="utf-8")
    return results


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["run"]:
        parser = argparse.ArgumentParser(prog="python -m course_lib.grading.gradescope run")
        parser.add_argument("--root", default=ROOT_DEFAULT)
        parser.add_argument("--config", required=True)
        parser.add_argument("--seed", type=int)
        args = parser.parse_args(argv[1:])
        run(args.root, args.config, args.seed)
        return 0
    parser = argparse.ArgumentParser(prog="python -m course_lib.grading.gradescope",
                                     description="Write a Gradescope autograder (autograder.zip) for one chapter.")
    parser.add_argument("chapter", help="the chapter, e.g. 01 or 01_sequential_data")
    parser.add_argument("--out", required=True, metavar="DIR", help="where autograder.zip goes")
    for key, value in DEFAULTS.items():
        parser.add_argument("--" + key.replace("_", "-"), type=type(value), help=f"default {value}")
    args = parser.parse_args(argv)
    try:
        target = build(args.chapter, args.out, **{k: getattr(args, k) for k in DEFAULTS})
    except ValueError as exc:
        print(f"course_lib.grading.gradescope: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
