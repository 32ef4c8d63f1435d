"""A hostile submission in a class folder, graded in the sandbox: it cannot read or change another learner's
file, the grades, or anything outside its scratch folder, cannot reach a port on the machine, and nothing it
started outlives its grading. The same notebook graded without the sandbox shows that each attack is real.

The hostile notebook is the chapter 01 solution plus cells that attack; each attack that works spoils one
graded function, so its score tells what got through: one_hot (it read the other submission),
next_step_pairs (it reached a loopback port), pad_batch (it wrote outside its scratch folder).
"""
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import nbformat
import pytest

from course_lib.grading import sandbox
from course_lib.grading.grade import Limits, grade_notebook, main

ROOT = Path(__file__).resolve().parent.parent
CH01 = "01_sequential_data"
FULL = {"one_hot": 2, "next_step_pairs": 2, "pad_batch": 3}
LIMITS = Limits(cell_timeout=30, total_timeout=120, call_timeout=5)
SEALED = pytest.mark.skipif(sandbox.isolation()[0] is None, reason=sandbox.isolation()[1] or "no sandbox")

ATTACK = '''
import os, pathlib, socket, sys
VICTIM, OUT, TARGETS, PORT, TOKEN = {victim!r}, {out!r}, {targets!r}, {port}, {token!r}

def works(action):
    try:
        action()
        return True
    except Exception:
        return False

leaked = works(lambda: pathlib.Path(VICTIM).read_text().index("def one_hot"))
connected = works(lambda: socket.create_connection(("127.0.0.1", PORT), timeout=3).sendall(TOKEN.encode()))
wrote = [works(lambda t=t: pathlib.Path(t).write_text(TOKEN)) for t in TARGETS]

# A detached daemon that keeps overwriting the other submission and appending to every grading output.
DAEMON = """
import pathlib, sys, time
victim, out, token = sys.argv[1:4]
for _ in range(300):
    try:
        pathlib.Path(victim).write_text("owned by " + token)
    except Exception:
        pass
    for f in pathlib.Path(out).glob("*"):
        try:
            with open(f, "a") as handle:
                handle.write("owned by " + token)
        except Exception:
            pass
    time.sleep(0.1)
"""
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        os.execv(sys.executable, [sys.executable, "-c", DAEMON, VICTIM, OUT, TOKEN])
    os._exit(0)
os.wait()
'''

SPOIL = '''
if leaked:
    def one_hot(indices, vocab_size):
        return None
if connected:
    def next_step_pairs(sequence):
        return None
if any(wrote):
    def pad_batch(sequences, pad_value=0):
        return None
'''


class Listener:
    """A TCP server on a loopback port that counts the connections it gets."""

    def __init__(self):
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port, self.connections = self.server.getsockname()[1], 0
        self.server.settimeout(0.2)
        self.stop = False
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while not self.stop:
            try:
                conn, _ = self.server.accept()
            except OSError:
                continue
            self.connections += 1
            conn.close()

    def close(self):
        self.stop = True
        self.thread.join()
        self.server.close()


def daemons(token):
    """Pids of processes whose command line carries the token."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and token.encode() in (entry / "cmdline").read_bytes():
                found.append(int(entry.name))
        except OSError:
            pass
    return found


@pytest.fixture
def attack(tmp_path):
    token = "course-test-" + secrets.token_hex(6)
    class_dir, out = tmp_path / "class", tmp_path / "grades"
    (class_dir / "a_hostile").mkdir(parents=True)
    (class_dir / "b_victim").mkdir()
    out.mkdir()
    victim = class_dir / "b_victim" / f"{CH01}.ipynb"
    nbformat.write(nbformat.read(ROOT / "solutions" / f"{CH01}.ipynb", as_version=4), victim)
    targets = [Path.home() / f".{token}", Path("/tmp") / token, class_dir / token, out / token]
    listener = Listener()
    nb = nbformat.read(ROOT / "solutions" / f"{CH01}.ipynb", as_version=4)
    nb.cells.insert(1, nbformat.v4.new_code_cell(ATTACK.format(victim=str(victim), out=str(out), port=listener.port,
                                                                token=token, targets=[str(t) for t in targets])))
    nb.cells.append(nbformat.v4.new_code_cell(SPOIL))
    hostile = class_dir / "a_hostile" / f"{CH01}.ipynb"
    nbformat.write(nb, hostile)
    yield {"token": token, "class": class_dir, "out": out, "victim": victim, "hostile": hostile,
           "targets": targets, "listener": listener}
    listener.close()
    for pid in daemons(token):
        os.kill(pid, signal.SIGKILL)
    for target in targets:
        target.unlink(missing_ok=True)


@SEALED
def test_a_hostile_submission_in_a_class_is_sealed_off(attack, capsys):
    victim_before = attack["victim"].read_bytes()
    assert main([str(attack["class"]), "--out", str(attack["out"]), "--seed", "5", "--jobs", "1",
                 "--cell-timeout", "30", "--call-timeout", "5"]) == 0
    assert not daemons(attack["token"]), "a process the submission started outlived its grading"
    outputs = {p.name: p.read_bytes() for p in attack["out"].iterdir()}
    time.sleep(1.5)  # what a surviving daemon would use to change them
    assert {p.name: p.read_bytes() for p in attack["out"].iterdir()} == outputs
    assert attack["victim"].read_bytes() == victim_before
    assert attack["listener"].connections == 0
    assert not any(t.exists() for t in attack["targets"])
    assert all(b"owned by" not in data for data in outputs.values())
    hostile = json.loads(outputs["a_hostile__01_sequential_data.json"])
    victim = json.loads(outputs["b_victim__01_sequential_data.json"])
    assert hostile["score"] == victim["score"] == 7, capsys.readouterr().out  # no attack spoiled a function
    assert hostile["extra_data"]["isolated"] is True and victim["extra_data"]["seed"] == hostile["extra_data"]["seed"] == 5


def test_without_the_sandbox_the_same_attacks_get_through(attack, monkeypatch, capsys):
    """The control: every attack of the notebook above is real, so the sealed test can fail."""
    monkeypatch.setenv("COURSE_GRADE_NO_SANDBOX", "1")
    sandbox.isolation.cache_clear()
    try:
        result = grade_notebook(attack["hostile"], LIMITS, seed=5)
    finally:
        sandbox.isolation.cache_clear()
    assert {r.exercise.name: r.score for r in result.reports} == {"one_hot": 0, "next_step_pairs": 0, "pad_batch": 0}
    assert result.isolated is False and any(n.startswith("not isolated") for n in result.notes)
    assert "not isolated" in capsys.readouterr().err
    assert attack["listener"].connections == 1
    assert all(t.exists() for t in attack["targets"])
    assert daemons(attack["token"])  # the daemon outlived the kernel
    deadline = time.monotonic() + 10
    while b"owned by" not in attack["victim"].read_bytes() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert b"owned by" in attack["victim"].read_bytes()


def run_sealed(code, scratch, **kw):
    done = subprocess.run(sandbox.wrap([sys.executable, "-c", code], scratch, **kw), capture_output=True, text=True,
                          timeout=120, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 0, done.stderr
    return done.stdout.split()


@SEALED
def test_the_sandbox_hides_private_folders_but_not_python_or_the_course(tmp_path):
    private, scratch = tmp_path / "class", tmp_path / "scratch"
    private.mkdir()
    scratch.mkdir()
    (private / "secret.txt").write_text("secret")
    code = f"import os, course_lib, numpy; print(os.path.exists({str(private / 'secret.txt')!r}), os.getcwd())"
    assert run_sealed(code, scratch, private=[private]) == ["False", str(scratch.resolve())]


@SEALED
def test_a_submission_inside_the_course_folder_is_replaced_by_an_empty_file(tmp_path):
    """Grading `.` in the repository: the class folder holds the course itself, so it stays readable, but
    the other submissions in it read as empty files."""
    other = ROOT / "solutions" / f"{CH01}.ipynb"
    code = f"import course_lib; print(len(open({str(other)!r}).read()))"
    assert run_sealed(code, tmp_path, private=[ROOT], private_files=[other]) == ["0"]


@SEALED
def test_a_unix_socket_of_the_machine_cannot_be_reached(tmp_path):
    """A read-only file system does not stop connect(): the sandbox shows only the system's own folders,
    Python and the course, so a socket in a home folder (a Docker or Jupyter socket, say) is not there."""
    outside = Path(tempfile.mkdtemp(prefix="course-sandbox-socket-", dir=Path.home()))
    try:
        server = socket.socket(socket.AF_UNIX)
        server.bind(str(outside / "s.sock"))
        server.listen(1)
        code = f"import socket; print(socket.socket(socket.AF_UNIX).connect_ex({str(outside / 's.sock')!r}) != 0)"
        assert run_sealed(code, tmp_path) == ["True"]
        probe = socket.socket(socket.AF_UNIX)  # the same connection from outside the sandbox works
        assert probe.connect_ex(str(outside / "s.sock")) == 0
        probe.close()
        server.close()
    finally:
        shutil.rmtree(outside, ignore_errors=True)
