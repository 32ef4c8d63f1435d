"""The two install descriptions agree, pins are exact, and CI runs the README's test command."""
import re
import tomllib
from importlib.metadata import version
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PIN = re.compile(r"^([A-Za-z0-9_.\-]+)==([0-9][0-9A-Za-z.]*)$")


def pyproject_deps():
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]


def environment_pip_deps():
    lines = (ROOT / "environment.yml").read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip() == "- pip:")
    deps = []
    for line in lines[start + 1:]:
        m = re.match(r"^\s+- (.+)$", line)
        if not m:
            break
        deps.append(m.group(1).strip())
    return deps


def test_environment_yml_lists_the_same_pins_as_pyproject():
    env = environment_pip_deps()
    assert "-e ." in env, "environment.yml must install the course itself"
    assert sorted(d for d in env if d != "-e .") == sorted(pyproject_deps())


def test_every_dependency_is_pinned_exactly():
    for dep in pyproject_deps():
        assert PIN.match(dep), f"{dep!r} is not pinned to an exact version"


def test_torch_is_pinned_to_the_cpu_tested_release():
    assert "torch==2.13.0" in pyproject_deps()
    assert "torch==2.13.0" in environment_pip_deps()


def test_installed_versions_are_the_pinned_ones():
    for dep in pyproject_deps():
        name, pinned = PIN.match(dep).groups()
        assert version(name).split("+")[0] == pinned, f"{name}: installed {version(name)}, pinned {pinned}"


def quick_start_commands():
    readme = (ROOT / "README.md").read_text()
    section = re.split(r"\n#{2,3} ", readme.split("## Quick start", 1)[1], maxsplit=1)[0]
    blocks = re.findall(r"```(?:bash|sh)?\n(.*?)```", section, re.S)
    return [line.strip() for block in blocks for line in block.splitlines()
            if line.strip() and not line.strip().startswith("#")]


def test_readme_quick_start_has_exactly_two_commands():
    assert quick_start_commands() == ["make lab", "make test"]


def test_ci_runs_the_readme_test_command_after_system_packages_only():
    """CI may install system packages the tests use (bubblewrap for the grader's sandbox); the Python side
    comes from the README's own test command, so a learner's `make test` and CI test the same thing."""
    script = [line.strip() for line in (ROOT / ".ci/run").read_text().splitlines()
              if line.strip() and not line.strip().startswith("#")]
    commands = [line for line in script if not line.startswith(("set ", "cd "))]
    assert commands[-1] == quick_start_commands()[1]
    assert all(line.startswith(("apt-get ", "command -v ")) for line in commands[:-1]), commands[:-1]
