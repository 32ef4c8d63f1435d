"""Open the course in JupyterLab: `python -m course_lib.authoring.lab` (what `make lab` runs).

Copies the exercises into work/ first, then starts JupyterLab at the repository root on chapter 00.
Works as root (adds --allow-root) and without a display (does not try to open a browser; JupyterLab
prints the URL to open).
"""
import os
import sys

from course_lib.authoring.workspace import ROOT, main as make_workspace


def lab_command(extra=(), root=ROOT):
    """The JupyterLab command line serving `root` (the repository), opening on chapter 00."""
    # Opening chapter 00 through the default URL (not a file argument) also makes the printed URL, the
    # one a learner without a display clicks, land on it.
    cmd = [sys.executable, "-m", "jupyterlab", f"--ServerApp.root_dir={root}",
           "--LabApp.default_url=/lab/tree/notebooks/00_welcome.ipynb"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-root")
    headless = sys.platform.startswith("linux") and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    if headless:
        cmd += ["--no-browser", "--ip=127.0.0.1"]
    return cmd + list(extra)


def main(argv=None):
    make_workspace()
    cmd = lab_command(sys.argv[1:] if argv is None else argv)
    print("Starting JupyterLab; open the http://127.0.0.1:... URL it prints below. Stop it with Ctrl-C.", flush=True)
    os.chdir(ROOT)
    os.execv(cmd[0], cmd)


if __name__ == "__main__":
    main()
