"""Suite-wide pytest settings: one CPU thread unless asked otherwise, and each notebook's execution time
reported at the end (a report, never a failure: a slower or busier machine is not a broken course)."""
import collections
import os

# Every output nbval compares is the same at one thread and at two, and on a machine busy with other work
# one thread is many times faster. Kernels started by nbval inherit the variable; seed_everything reads it.
os.environ.setdefault("COURSE_THREADS", "1")

NOTEBOOK_TARGET_S = 60.0
_notebook_time = collections.defaultdict(float)


def pytest_runtest_logreport(report):
    path = report.nodeid.split("::")[0]
    if path.endswith(".ipynb"):
        _notebook_time[path] += report.duration


def pytest_terminal_summary(terminalreporter):
    if not _notebook_time:
        return
    terminalreporter.section("notebook execution times (kernel start included; reported, not judged)")
    for path, seconds in sorted(_notebook_time.items()):
        flag = f"  <-- over the {NOTEBOOK_TARGET_S:.0f} s target" if seconds > NOTEBOOK_TARGET_S else ""
        terminalreporter.write_line(f"{seconds:7.1f} s  {path}{flag}")
    terminalreporter.write_line(f"{sum(_notebook_time.values()):7.1f} s  total ({len(_notebook_time)} notebooks)")

