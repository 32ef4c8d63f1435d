"""The install descriptions agree: pyproject.toml declares tested ranges, requirements-lock.txt pins exact versions
inside them, environment.yml, the Makefile and CI install from the lock, and CI runs the README's test command."""
import re
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
LOCK = "requirements-lock.txt"
PIN = re.compile(r"^([A-Za-z0-9_.\-]+)==([0-9][0-9A-Za-z.]*)$")


def project():
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


LOCKED_EXTRAS = ("lab", "test")  # what `make` installs with the lock; `nbgrader` is for instructors who want it


def declared(extras=None):
    """The requirements of pyproject.toml: the dependencies and the named extras (default: every extra)."""
    optional = project()["optional-dependencies"]
    reqs = list(project()["dependencies"])
    for extra in optional if extras is None else extras:
        reqs += optional[extra]
    return [Requirement(r) for r in reqs]


def locked():
    """{canonical name: exact version} from the lock file."""
    pins = {}
    for line in (ROOT / LOCK).read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            m = PIN.match(line)
            assert m, f"{LOCK}: {line!r} is not an exact pin"
            pins[canonicalize_name(m.group(1))] = m.group(2)
    return pins


def test_pyproject_declares_ranges_from_an_oldest_version_to_the_next_major():
    pins = locked()
    for req in declared():
        ops = {spec.operator: spec.version for spec in req.specifier}
        assert set(ops) == {">=", "<"}, f"{req}: declare a range `>=oldest,<next major`"
        if canonicalize_name(req.name) not in pins:
            continue  # an extra the lock leaves out (nbgrader): its range is checked where it is installed
        ceiling, locked_major = int(ops["<"].split(".")[0]), int(pins[canonicalize_name(req.name)].split(".")[0])
        assert ceiling == locked_major + 1 or (locked_major == 0 and ops["<"] == "1"), \
            f"{req}: the ceiling is not the major after the locked version"


def test_the_lock_pins_every_declared_package_inside_its_range():
    pins = locked()
    for req in declared(LOCKED_EXTRAS):
        name = canonicalize_name(req.name)
        assert name in pins, f"{req.name} is declared but not in {LOCK}"
        assert req.specifier.contains(pins[name]), f"{LOCK} pins {req.name}=={pins[name]}, outside {req}"


def test_the_lock_has_the_torch_the_stored_outputs_were_made_with():
    assert locked()["torch"] == "2.13.0"  # no "+cpu": pip accepts the CPU wheel and the default one


def test_environment_yml_installs_the_lock_and_the_course():
    lines = (ROOT / "environment.yml").read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip() == "- pip:")
    pip = [re.match(r"^\s+- (.+)$", line).group(1).strip() for line in lines[start + 1:] if line.strip()]
    assert pip == [f"-r {LOCK}", "-e .[lab,test]"]
    python = next(re.search(r"python=(\S+)", line).group(1) for line in lines if "- python=" in line)
    assert project()["requires-python"] == f">={python},<3.{int(python.split('.')[1]) + 1}"


def test_make_installs_from_the_lock_and_tries_the_cpu_index_quickly():
    makefile = (ROOT / "Makefile").read_text()
    assert f"LOCK   := {LOCK}" in makefile
    assert '-m pip install -r $(LOCK) -e ".[lab,test]"' in makefile
    lines = makefile.splitlines()
    cpu = next(i for i, line in enumerate(lines) if "--index-url $(TORCH_CPU_INDEX)" in line)
    assert lines[cpu + 1].strip().startswith("|| echo")  # an unreachable index is said, not a failure ...
    assert "--timeout 5 --retries 0" in makefile  # ... and costs seconds, not pip's default minutes


def quick_start_commands():
    readme = (ROOT / "README.md").read_text()
    section = re.split(r"\n#{2,3} ", readme.split("## Quick start", 1)[1], maxsplit=1)[0]
    blocks = re.findall(r"```(?:bash|sh)?\n(.*?)```", section, re.S)
    return [line.strip() for block in blocks for line in block.splitlines()
            if line.strip() and not line.strip().startswith("#")]


def test_readme_quick_start_has_exactly_two_commands():
    assert quick_start_commands() == ["make lab", "make test"]


def test_readme_installs_from_the_lock_and_says_how_to_add_the_course_to_an_existing_environment():
    readme = (ROOT / "README.md").read_text()
    assert f"-r {LOCK}" in readme
    assert "environment you already have" in readme


def test_ci_installs_system_packages_only_then_runs_the_readme_test_command():
    """CI may install system packages the tests use (bubblewrap for the grader's sandbox, Chromium and its
    driver for the browser test); the Python side comes from the README's own test command, so a learner's
    `make test` and CI test the same thing."""
    script = [line.strip() for line in (ROOT / ".ci/run").read_text().splitlines()
              if line.strip() and not line.strip().startswith("#")]
    commands = [line for line in script if not line.startswith(("set ", "cd "))]
    assert commands[-1] == quick_start_commands()[1]
    assert all(line.startswith(("apt-get ", "command -v ")) for line in commands[:-1]), commands[:-1]
    assert any("bubblewrap chromium chromium-driver" in line for line in commands[:-1])


def test_the_readme_names_the_locked_torch_wherever_it_installs_torch_by_hand():
    named = set(re.findall(r"torch==([0-9][0-9A-Za-z.+]*)", (ROOT / "README.md").read_text()))
    assert named == {locked()["torch"]}, named
