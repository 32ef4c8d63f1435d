"""Grading a whole class: in parallel, one seed for all, output names that never collide, a progress bar."""
import csv
import json
import time
from pathlib import Path

import nbformat

from course_lib.grading.grade import json_names, main

ROOT = Path(__file__).resolve().parent.parent
WELCOME = "00_welcome"


def make_class(folder, n):
    nb = nbformat.read(ROOT / "solutions" / f"{WELCOME}.ipynb", as_version=4)
    for i in range(n):
        (folder / f"learner{i}").mkdir(parents=True)
        nbformat.write(nb, folder / f"learner{i}" / f"{WELCOME}.ipynb")
    return folder


def timed_class_run(class_dir, out, jobs):
    start = time.monotonic()
    assert main([str(class_dir), "--out", str(out), "--jobs", str(jobs)]) == 0
    return time.monotonic() - start


def test_two_jobs_grade_submissions_side_by_side_with_one_seed(tmp_path, capsys):
    class_dir = make_class(tmp_path / "class", 4)
    wall = timed_class_run(class_dir, tmp_path / "out", 2)
    err = capsys.readouterr().err
    rows = list(csv.DictReader((tmp_path / "out" / "summary.csv").open()))
    busy = sum(float(r["seconds"]) for r in rows)
    print(f"class of four, --jobs 2: {wall:.1f} s of wall time for {busy:.1f} s of grading")
    # Two workers grade two submissions at once, so the grading times add up to more than the wall time:
    # about 2x here (one worker would stay below 1x). Unlike a speed-up over a --jobs 1 run, this holds on
    # a machine busy with other work, where both runs would slow down by different amounts.
    assert busy > 1.4 * wall
    # a correct notebook must score full marks in every worker; if one does not, say what its grader reported
    why = {r["submission"]: (r["score"], r["error"], r["seconds"],
                             json.loads(next((tmp_path / "out").glob(f"{Path(r['submission']).parent.name}__*.json")).read_text()))
           for r in rows if r["score"] != "2.0"}
    assert not why and len({r["seed"] for r in rows}) == 1, why
    seeds = {json.loads(p.read_text())["extra_data"]["seed"] for p in (tmp_path / "out").glob("*.json")}
    assert seeds == {int(rows[0]["seed"])}  # one seed for the whole class, recorded in every result
    assert "grading [" in err and "4/4" in err


def test_output_names_never_collide(tmp_path):
    a, b, c, d = (tmp_path / "class" / p for p in ("ana/x.ipynb", "ana__x.ipynb", "Ana__X.ipynb", "ben/y.ipynb"))
    (tmp_path / "class").mkdir()
    names = json_names([a, b, c, d], [tmp_path / "class"])
    assert len({n.lower() for n in names.values()}) == 4
    assert names[d] == "ben__y.json"  # a name nothing collides with stays readable
    assert all(names[p].startswith(("ana__x-", "Ana__X-")) for p in (a, b, c))
    assert json_names([a, b, c, d], [tmp_path / "class"]) == names  # the same on every run


def test_json_with_several_notebooks_says_to_use_out(tmp_path, capsys):
    class_dir = make_class(tmp_path / "class", 2)
    assert main([str(class_dir), "--json", str(tmp_path / "r.json")]) == 2
    assert "--out" in capsys.readouterr().err and not (tmp_path / "r.json").exists()
    notebooks = [str(p) for p in class_dir.rglob("*.ipynb")]
    assert main([*notebooks, "--json", str(tmp_path / "r.json")]) == 2
