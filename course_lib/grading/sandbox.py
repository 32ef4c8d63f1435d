"""Seal a graded kernel off from the machine with bubblewrap (`bwrap`, Debian/Ubuntu package `bubblewrap`).

Inside the sandbox the kernel sees only the system's programs and libraries (`/usr`, `/etc`, ...), the
Python installation and the course's code, all read-only, and its own scratch folder, the one place it
can write. Home folders, `/run`, `/var`, `/tmp`, the class folder and the grading output are not there at
all: one submission can neither read nor change another's files or the grades, nor reach a Unix socket
of the machine (a read-only mount would not stop `connect()`). There is no network (only the sandbox's own
loopback), and the kernel gets its own PID namespace: when the kernel is stopped, every process it
started, detached daemons included, dies with it. The grader talks to the kernel over Unix sockets in
the scratch folder.

Where bubblewrap is missing or cannot create namespaces (some containers), `isolation()` says why, and
the grader runs the kernel unsealed and records that in the result.
"""
import atexit
import functools
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

NOT_ISOLATED = "not isolated"


@functools.lru_cache(maxsize=None)
def isolation():
    """(path of a working bwrap, "") or (None, one sentence saying why the kernel cannot be sealed)."""
    if not sys.platform.startswith("linux"):
        return None, f"{NOT_ISOLATED}: sandboxing needs Linux (this is {sys.platform})"
    if os.environ.get("COURSE_GRADE_NO_SANDBOX"):
        return None, f"{NOT_ISOLATED}: COURSE_GRADE_NO_SANDBOX is set"
    path = shutil.which("bwrap")
    if path is None:
        return None, f"{NOT_ISOLATED}: bubblewrap (`bwrap`) is not installed (Debian/Ubuntu: apt-get install bubblewrap)"
    with tempfile.TemporaryDirectory(prefix="course-sandbox-check-") as scratch:
        try:
            trial = subprocess.run(wrap(["true"], scratch, bwrap_path=path), capture_output=True, text=True, timeout=30)
        except (OSError, subprocess.TimeoutExpired) as exc:
            return None, f"{NOT_ISOLATED}: bubblewrap could not start ({type(exc).__name__})"
    if trial.returncode != 0:
        why = (trial.stderr.strip().splitlines() or ["no message"])[-1][:200]
        return None, f"{NOT_ISOLATED}: bubblewrap cannot create a sandbox here ({why})"
    return path, ""


# The system's own read-only parts a Python kernel needs: programs, libraries, configuration (/etc: the
# dynamic linker's cache, certificates, fonts), and /sys, where torch and OpenMP count the CPUs.
SYSTEM_PATHS = ("usr", "bin", "sbin", "lib", "lib32", "lib64", "libx32", "etc", "sys")


def _essential_paths():
    """Folders the kernel must be able to read: the Python installation and the course's code."""
    course = Path(__file__).resolve().parents[2]
    paths = {Path(sys.prefix), Path(sys.base_prefix), Path(sys.executable).resolve().parent, course}
    paths |= {Path(p) for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p}
    return sorted({p.resolve() for p in paths if p.exists()}, key=lambda p: len(p.parts))


@functools.lru_cache(maxsize=None)
def _empty_file():
    """An empty read-only file to put over files the kernel must not read (a device such as /dev/null
    cannot be opened on the sandbox's nodev mounts)."""
    handle, path = tempfile.mkstemp(prefix="course-sandbox-empty-")
    os.close(handle)
    os.chmod(path, 0o444)
    atexit.register(os.unlink, path)
    return path


def _inside(path, folders):
    return any(path == f or f in path.parents for f in folders)


def wrap(argv, scratch, private=(), private_files=(), bwrap_path=None, empty_file=None):
    """The command that runs argv sealed off, with `scratch` as its only writable folder.

    private: folders the kernel must not see (the class folder, the grades), each replaced by an empty
    read-only one; /tmp and the temporary folder are always private (TMPDIR points into the scratch
    folder). Python and the course stay readable even when they lie inside a private folder; a file of
    `private_files` that is still visible then (a submission inside the course's own folder) is replaced
    by `empty_file` (default: an empty file made once per process).
    """
    scratch = Path(scratch).resolve()
    hidden = []
    for folder in sorted({Path(p).resolve() for p in ["/tmp", "/var/tmp", tempfile.gettempdir(), *private]
                          if Path(p).is_dir()}, key=lambda p: len(p.parts)):
        if folder != Path("/") and not _inside(folder, hidden):
            hidden.append(folder)
    shown = [e for e in _essential_paths() if _inside(e, hidden)]
    shown = [e for i, e in enumerate(shown) if not _inside(e, shown[:i])]
    command = [bwrap_path or isolation()[0]]
    system = [Path("/", name) for name in SYSTEM_PATHS]
    for path in system:  # an allow-list: what is not named here or in _essential_paths() is not there
        if path.is_symlink():  # /bin -> usr/bin on merged-/usr systems
            command += ["--symlink", os.readlink(path), str(path)]
        elif path.is_dir():
            command += ["--ro-bind", str(path), str(path)]
    for folder in _essential_paths():
        if not _inside(folder, system):
            command += ["--ro-bind", str(folder), str(folder)]
    command += ["--dev", "/dev", "--proc", "/proc"]
    for folder in hidden:
        command += ["--tmpfs", str(folder)]
    for folder in shown:
        command += ["--ro-bind", str(folder), str(folder)]
    for file in {Path(f).resolve() for f in private_files}:
        visible = not _inside(file, hidden) or _inside(file, shown)
        if file.is_file() and visible and not _inside(file, [scratch]):
            command += ["--ro-bind", empty_file or _empty_file(), str(file)]
    command += ["--bind", str(scratch), str(scratch), "--dir", f"{scratch}/.tmp"]
    for folder in hidden:  # read-only too, once the folders mounted inside them exist
        command += ["--remount-ro", str(folder)]
    command += ["--remount-ro", "/"]  # bwrap's own root (a tmpfs holding the mount points) as well
    command += ["--chdir", str(scratch),
                "--unshare-net", "--unshare-pid", "--unshare-ipc", "--unshare-uts",
                "--die-with-parent", "--new-session"]
    places = {"HOME": "", "IPYTHONDIR": "/.ipython", "MPLCONFIGDIR": "/.matplotlib", "XDG_CACHE_HOME": "/.cache",
              "XDG_CONFIG_HOME": "/.config", "XDG_DATA_HOME": "/.local/share"}
    for name, place in places.items():
        command += ["--setenv", name, f"{scratch}{place}"]
    # ipykernel watches the pid its launcher gives it and exits when that is gone (or is 1); in the sandbox's
    # own PID namespace the grader's pid means nothing, and 1 switches the watch off (--die-with-parent does it).
    command += ["--setenv", "TMPDIR", f"{scratch}/.tmp", "--setenv", "JPY_PARENT_PID", "1"]
    return command + ["--", *argv]


# ---------------------------------------------------------------------------------------------------
# Making sure nothing survives


def pid_namespace(pid):
    """The PID namespace of a process ('pid:[4026532178]'), or None when it is gone or not ours to read."""
    try:
        return os.readlink(f"/proc/{pid}/ns/pid")
    except OSError:
        return None


def _stat_fields(pid):
    """The fields of /proc/<pid>/stat after the command name (state, parent pid, ...), or None when gone."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None


def _children(pid):
    return [int(e.name) for e in Path("/proc").iterdir()
            if e.name.isdigit() and (fields := _stat_fields(e.name)) and int(fields[1]) == pid]


def sandbox_namespace(launcher_pid):
    """The PID namespace of the sandbox that `launcher_pid` (the bwrap we started) created, or None."""
    ours = pid_namespace(os.getpid())
    for child in _children(launcher_pid):
        namespace = pid_namespace(child)
        if namespace and namespace != ours:
            return namespace
    return None


def _running(pid):
    """False for a process that has exited and waits only to be reaped by its parent (a zombie): it runs no
    code and holds no file open, so nothing of the submission lives on in it."""
    fields = _stat_fields(pid)
    return fields is not None and fields[0] not in ("Z", "X")


def processes_in(namespaces):
    """Pids (as this process sees them) of every running process in one of `namespaces` (zombies left out:
    the kernel's own exited process lingers as one until its launcher reaps it, up to seconds later)."""
    namespaces = set(namespaces) - {None}
    if not namespaces:
        return []
    return [int(e.name) for e in Path("/proc").iterdir()
            if e.name.isdigit() and pid_namespace(e.name) in namespaces and _running(e.name)]


def end_all(namespaces, wait_s=5.0):
    """Make sure nothing is left alive in `namespaces`: give a stopped sandbox a moment to disappear (a PID
    namespace dies with its first process), then kill whatever is left. Returns the pids that had to be
    killed (normally none); raises RuntimeError if any is still alive after `wait_s` seconds."""
    deadline, grace = time.monotonic() + wait_s, time.monotonic() + min(2.0, wait_s / 2)
    alive = processes_in(namespaces)
    while alive and time.monotonic() < grace:
        time.sleep(0.05)
        alive = processes_in(namespaces)
    killed = list(alive)
    while alive:
        for pid in alive:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        time.sleep(0.05)
        alive = processes_in(namespaces)
        if alive and time.monotonic() > deadline:
            raise RuntimeError(f"processes {alive} of a submission could not be stopped")
    return killed
