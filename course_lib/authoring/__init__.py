"""Tools around the notebooks, apart from the lectures' code.

For authors: `execute` (run notebooks in place so their stored outputs are fresh; `python -m course_lib.authoring`)
and `build_exercises` (write exercises/ from solutions/). For learners: `workspace` (copy the exercises into
work/) and `lab` (open JupyterLab; what `make lab` runs).
"""
