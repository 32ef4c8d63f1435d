"""What a learner sees: every lecture opened in JupyterLab in a real (headless) Chromium, and one exercise
run through the UI. Nbval checks the numbers; this checks the rendering: no error dialog, the first heading
drawn, math typeset, every stored figure loaded.

Needs Chromium and its driver (Debian: `apt-get install chromium chromium-driver`; .ci/run installs them)
and the `selenium` package (the course's test extra); skips with one line where they are missing.
Set COURSE_SCREENSHOTS=folder to keep a screenshot of each page.
"""
import contextlib
import importlib.util
import io
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import nbformat
import pytest

from course_lib.authoring.lab import lab_command

ROOT = Path(__file__).resolve().parent.parent
LECTURES = sorted((ROOT / "notebooks").glob("*.ipynb"))
EXERCISE = "00_welcome.ipynb"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
                  "--window-size=1400,1000"]
MATH = re.compile(r"\$[^$\n]+\$")
PAGE_TIMEOUT = 90  # seconds for one notebook to render; generous for a busy machine

webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed (pip install -e '.[test]')")
if importlib.util.find_spec("jupyterlab") is None:
    pytest.skip("JupyterLab is not installed (pip install -e '.[lab]')", allow_module_level=True)
if not (CHROMIUM and CHROMEDRIVER):
    pytest.skip("no Chromium and chromedriver on this machine (Debian: apt-get install chromium chromium-driver)",
                allow_module_level=True)

# What the open notebook shows, read from the DOM. Text inside code, MathJax output and the heading's
# anchor link is left out, so a `$` left in the rest is math that did not typeset.
READ_PAGE = """
const panel = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden)');
const dialogs = [...document.querySelectorAll('.jp-Dialog')].map(d => d.innerText.trim());
if (!panel) return {dialogs: dialogs, cells: 0};
function prose(el) {
  const copy = el.cloneNode(true);
  copy.querySelectorAll('code, pre, mjx-container, .jp-InternalAnchorLink').forEach(e => e.remove());
  return copy.textContent;
}
const markdown = [...panel.querySelectorAll('.jp-MarkdownCell .jp-RenderedMarkdown')].map(prose);
const heading = panel.querySelector('.jp-RenderedMarkdown h1');
const images = [...panel.querySelectorAll('.jp-OutputArea-output img')];
return {
  dialogs: dialogs,
  cells: panel.querySelectorAll('.jp-Notebook .jp-Cell').length,
  heading: heading ? prose(heading).trim() : null,
  typeset: panel.querySelectorAll('.jp-RenderedMarkdown mjx-container').length,
  raw_math: markdown.map(t => (t.match(/\\$[^$\\n]+\\$/) || [null])[0]).filter(m => m !== null),
  images: images.length,
  loaded: images.filter(i => i.complete && i.naturalWidth > 0).length,
};
"""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def expected_view(path):
    """What the rendered notebook at `path` must show, from its file: cell count, first heading, whether it
    has math, how many stored figures."""
    nb = nbformat.read(path, as_version=4)
    markdown = [c.source for c in nb.cells if c.cell_type == "markdown"]
    first = next(line for src in markdown for line in src.splitlines() if line.startswith("# "))
    figures = sum(1 for c in nb.cells if c.cell_type == "code" for o in c.outputs
                  if any(k.startswith("image/") for k in o.get("data", {})) and "text/html" not in o.get("data", {}))
    prose = [re.sub(r"```.*?```|`[^`]*`", "", src, flags=re.S) for src in markdown]
    return {"cells": len(nb.cells), "heading": re.sub(r"[*_`]", "", first[2:]).strip(),
            "math": any(MATH.search(p) for p in prose), "figures": figures}


def api(server, method, path):
    req = urllib.request.Request(f"{server['url']}{path}", method=method,
                                 headers={"Authorization": f"token {server['token']}"})
    with urllib.request.urlopen(req, timeout=30) as response:
        body = response.read()
    return json.loads(body) if body else None


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """JupyterLab on a free port with a token, serving a scratch copy of notebooks/ and a work/ folder
    holding one exercise, as `make lab` lays them out; its own config, settings and workspace folders."""
    root = tmp_path_factory.mktemp("course")
    shutil.copytree(ROOT / "notebooks", root / "notebooks")
    (root / "work").mkdir()
    shutil.copyfile(ROOT / "exercises" / EXERCISE, root / "work" / EXERCISE)
    home = tmp_path_factory.mktemp("jupyter")
    # Every cell in the DOM (JupyterLab draws only the visible ones by default), so every figure is checked.
    tracker = home / "settings" / "@jupyterlab" / "notebook-extension" / "tracker.jupyterlab-settings"
    tracker.parent.mkdir(parents=True)
    tracker.write_text(json.dumps({"windowingMode": "none"}))
    port, token = free_port(), secrets.token_hex(16)
    env = dict(os.environ, JUPYTER_CONFIG_DIR=str(home / "config"), JUPYTER_RUNTIME_DIR=str(home / "runtime"),
               PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    cmd = lab_command(root=root)  # what `make lab` runs, on the scratch copy
    cmd += [flag for flag in ("--no-browser", "--ip=127.0.0.1") if flag not in cmd]
    # The app object in the page lets the test open notebooks the way the file browser does, without a reload.
    cmd += ["--LabApp.expose_app_in_browser=True"]
    cmd += [f"--port={port}", "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}",
            f"--LabApp.user_settings_dir={home / 'settings'}", f"--LabApp.workspaces_dir={home / 'workspaces'}"]
    log = open(home / "jupyterlab.log", "w")
    proc = subprocess.Popen(cmd, cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT)
    info = {"url": f"http://127.0.0.1:{port}", "token": token, "root": root}
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                api(info, "GET", "/api/status")
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"JupyterLab did not start: {(home / 'jupyterlab.log').read_text()[-2000:]}")
                time.sleep(0.5)
        yield info
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    from selenium.webdriver.chrome.service import Service
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in CHROMIUM_FLAGS + [f"--user-data-dir={tmp_path_factory.mktemp('chromium')}"]:
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    yield driver
    driver.quit()


def open_notebook(browser, server, path):
    """Open `path` as a learner does: the first one through its URL (what `make lab` prints), later ones
    from inside the running JupyterLab (the file browser's command), closing the previous tab first. One
    page load for the whole test keeps it fast; each notebook still renders from its file."""
    app_running = browser.execute_script("return typeof window.jupyterapp !== 'undefined'")
    if not app_running:
        browser.get(f"{server['url']}/lab/tree/{path}?reset&token={server['token']}")
        return
    browser.execute_script(
        "const app = window.jupyterapp;"
        "app.commands.execute('application:close-all').then("
        "  () => app.commands.execute('docmanager:open', {path: arguments[0]}));", path)


def wait_for(browser, done, timeout=PAGE_TIMEOUT):
    """Read the page until `done(view)` holds or `timeout` passes; returns the last view read."""
    deadline = time.monotonic() + timeout
    while True:
        view = browser.execute_script(READ_PAGE)
        if done(view) or view["dialogs"] or time.monotonic() > deadline:
            return view
        time.sleep(0.2)


def screenshot(browser, name):
    folder = os.environ.get("COURSE_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        browser.save_screenshot(str(Path(folder) / f"{name}.png"))


def shut_down_kernels(server):
    for session in api(server, "GET", "/api/sessions"):
        api(server, "DELETE", f"/api/sessions/{session['id']}")


@pytest.mark.parametrize("path", LECTURES, ids=[p.stem for p in LECTURES])
def test_a_lecture_renders_as_a_learner_sees_it(browser, server, path):
    want = expected_view(path)
    open_notebook(browser, server, f"notebooks/{path.name}")
    view = wait_for(browser, lambda v: v["cells"] == want["cells"] and v["heading"]
                    and v["loaded"] == want["figures"] and (v["typeset"] > 0 or not want["math"])
                    and not v["raw_math"])
    screenshot(browser, path.stem)
    shut_down_kernels(server)
    assert not view["dialogs"], f"{path.name}: JupyterLab showed a dialog: {view['dialogs']}"
    assert view["cells"] == want["cells"], f"{path.name}: {view['cells']} of {want['cells']} cells rendered"
    assert view["heading"] == want["heading"], f"{path.name}: first heading {view['heading']!r}"
    if want["math"]:
        assert view["typeset"] > 0, f"{path.name}: no math was typeset"
    assert not view["raw_math"], f"{path.name}: math left untypeset: {view['raw_math'][:3]}"
    assert view["images"] == want["figures"], f"{path.name}: {view['images']} of {want['figures']} figures shown"
    assert view["loaded"] == want["figures"], f"{path.name}: {view['images'] - view['loaded']} figure(s) did not load"


def test_an_exercise_runs_through_the_ui_and_its_check_prints(browser, server):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    nb = nbformat.read(ROOT / "exercises" / EXERCISE, as_version=4)
    check_index = next(i for i, c in enumerate(nb.cells) if c.source.startswith("check("))
    open_notebook(browser, server, f"work/{EXERCISE}")
    view = wait_for(browser, lambda v: v["cells"] == len(nb.cells))
    assert view["cells"] == len(nb.cells) and not view["dialogs"], view
    # Wait for the kernel before running: a learner sees its status turn idle.
    deadline = time.monotonic() + PAGE_TIMEOUT
    while not any(s["kernel"]["execution_state"] == "idle" for s in api(server, "GET", "/api/sessions")):
        assert time.monotonic() < deadline, "the exercise's kernel did not start"
        time.sleep(0.5)
    cells = browser.find_elements(By.CSS_SELECTOR, ".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook .jp-Cell")
    cells[0].find_element(By.CSS_SELECTOR, ".jp-InputPrompt").click()  # select the first cell, command mode
    keys = ActionChains(browser)
    for _ in range(check_index + 1):  # Shift+Enter: run the cell, select the next
        keys.key_down(Keys.SHIFT).send_keys(Keys.ENTER).key_up(Keys.SHIFT)
    keys.perform()
    output = cells[check_index].find_element(By.CSS_SELECTOR, ".jp-Cell-outputArea")
    deadline = time.monotonic() + PAGE_TIMEOUT
    while not output.text and time.monotonic() < deadline:
        time.sleep(0.5)
    screenshot(browser, "exercise")
    shut_down_kernels(server)
    assert output.text == printed_by_check(nb, check_index), f"check cell output: {output.text!r}"


def printed_by_check(nb, check_index):
    """What the check cell prints for the unfinished exercise, run here in-process: the UI must show it."""
    namespace, printed, summary = {}, io.StringIO(), io.StringIO()
    for cell in nb.cells[:check_index]:
        if cell.cell_type == "code":
            exec(cell.source, namespace)
    # The cell's value is displayed as IPython would: the report on stdout, and for a failing exercise its
    # one-line summary (for nbgrader's validate) on stderr. The UI shows both.
    with contextlib.redirect_stdout(printed), contextlib.redirect_stderr(summary):
        report = eval(nb.cells[check_index].source, namespace)
        report._ipython_display_()
    assert printed.getvalue().strip(), "the check cell printed nothing in-process"
    return "\n".join(filter(None, [printed.getvalue().strip(), summary.getvalue().strip()]))
