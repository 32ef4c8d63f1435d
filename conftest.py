"""Suite-wide pytest hooks: print each notebook's execution time against the course's 60 s target.

A report, never a failure: a learner's or CI's slower or busier machine must not turn a correct notebook red.
Kernels started by nbval inherit COURSE_THREADS (seed_everything reads it): on a machine busy with other work,
`COURSE_THREADS=1 make test` is many times faster than the default two threads."""
import collections

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

