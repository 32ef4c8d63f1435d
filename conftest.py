"""Suite-wide pytest hooks: print each notebook's execution time and fail the run if one is too slow."""
import collections

NOTEBOOK_LIMIT_S = 60.0
_notebook_time = collections.defaultdict(float)


def pytest_runtest_logreport(report):
    path = report.nodeid.split("::")[0]
    if path.endswith(".ipynb"):
        _notebook_time[path] += report.duration


def pytest_terminal_summary(terminalreporter):
    if not _notebook_time:
        return
    terminalreporter.section("notebook execution times (kernel start included)")
    for path, seconds in sorted(_notebook_time.items()):
        flag = "  <-- over the limit" if seconds > NOTEBOOK_LIMIT_S else ""
        terminalreporter.write_line(f"{seconds:7.1f} s  {path}{flag}")
    terminalreporter.write_line(f"{sum(_notebook_time.values()):7.1f} s  total ({len(_notebook_time)} notebooks)")


def pytest_sessionfinish(session, exitstatus):
    slow = {p: s for p, s in _notebook_time.items() if s > NOTEBOOK_LIMIT_S}
    if slow and exitstatus == 0:
        session.exitstatus = 1
        print(f"\nnotebooks over the {NOTEBOOK_LIMIT_S:.0f} s limit: {slow}")
