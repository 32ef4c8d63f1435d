"""The grader's machinery, apart from the lectures' code.

`checks` (one definition per graded function: cases, hints, the reference; what a notebook's `check(fn)` runs),
`grade` (runs a submission in a fresh kernel and scores it; `python -m course_lib.grade`), `probe` (the
code that calls the learner's functions inside that kernel), `kernel` (the kernel launcher that caps memory),
`sandbox` (seals the kernel off with bubblewrap), `gradescope` (packages a chapter as a Gradescope autograder).
"""
