"""Copy the exercise notebooks into `work/`, the learner's own folder (ignored by git).

    python -m course_lib.authoring.workspace

A file that already exists in work/ is never overwritten, so running this again after `git pull`
only adds the chapters that are new.
"""
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def make_workspace(root=ROOT):
    """Copy exercises/*.ipynb to work/; returns (copied, kept) lists of file names."""
    src, dst = Path(root) / "exercises", Path(root) / "work"
    dst.mkdir(exist_ok=True)
    copied, kept = [], []
    for path in sorted(src.glob("*.ipynb")):
        target = dst / path.name
        if target.exists():
            kept.append(path.name)
        else:
            shutil.copyfile(path, target)
            copied.append(path.name)
    return copied, kept


def main():
    copied, kept = make_workspace()
    for name in copied:
        print(f"work/{name}: new copy of exercises/{name}")
    if kept:
        print(f"kept your {len(kept)} existing notebook(s) in work/ untouched")
    return 0


if __name__ == "__main__":
    sys.exit(main())
