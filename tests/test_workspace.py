from course_lib.authoring.lab import lab_command
from course_lib.authoring.workspace import make_workspace


def test_workspace_copies_new_exercises_and_never_overwrites(tmp_path):
    (tmp_path / "exercises").mkdir()
    (tmp_path / "exercises" / "01_a.ipynb").write_text("new")
    (tmp_path / "exercises" / "02_b.ipynb").write_text("new")
    (tmp_path / "work").mkdir()
    (tmp_path / "work" / "01_a.ipynb").write_text("my answers")
    copied, kept = make_workspace(tmp_path)
    assert copied == ["02_b.ipynb"] and kept == ["01_a.ipynb"]
    assert (tmp_path / "work" / "01_a.ipynb").read_text() == "my answers"
    assert make_workspace(tmp_path) == ([], ["01_a.ipynb", "02_b.ipynb"])


def test_work_is_ignored_by_git():
    from pathlib import Path
    assert "work/" in (Path(__file__).resolve().parent.parent / ".gitignore").read_text().split()


def test_lab_works_as_root_and_headless(monkeypatch):
    import os
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    cmd = lab_command()
    assert "--allow-root" in cmd and "--no-browser" in cmd and any(a.endswith("/lab/tree/notebooks/00_welcome.ipynb") for a in cmd)
