"""A saved notebook shows the finished progress bar, not the 0 % it was first displayed with."""
import re

import nbformat
from nbclient import NotebookClient

from course_lib.progress import progress_bar


def test_outside_a_notebook_the_bar_yields_every_item():
    assert list(progress_bar(range(5), desc="steps")) == [0, 1, 2, 3, 4]


def test_a_saved_notebook_keeps_the_finished_bar():
    nb = nbformat.v4.new_notebook()
    nb.cells.append(nbformat.v4.new_code_cell(
        "from course_lib.progress import progress_bar\n"
        "total = sum(progress_bar(range(40), desc='training'))\n"
        "print('sum', total)"))
    NotebookClient(nb, timeout=120, kernel_name="python3").execute()
    outputs = nb.cells[0].outputs
    bars = [o for o in outputs if o.output_type == "display_data"]
    assert len(bars) == 1
    text = bars[0].data["text/plain"]
    assert text.startswith("training: 100%") and "40/40" in text, text
    assert not re.search(r"(?<!\d)0(%|/40)", text), text
    assert outputs[-1].text == "sum 780\n"
