"""Deep Sequence Modeling: the helper library every notebook imports.

Modules follow the course order: `reproducibility` (seeding, devices), `checks` (exercise checks and
the grader's definitions), `grade` and `probe` (the command-line grader), `welcome` (chapter 00),
`tunes`, `signals`, `ngrams` and `sequences` (chapter 01), `rnn` (chapter 02), `bptt` (chapter 03), `gradients`, `tasks`, `training` and `memory`
(chapter 04), `lstm` (chapter 05), `language_model`, `music` and `tune_types` (chapter 06), `seq2seq` (chapter 07), `positions` (chapter 08),
`attention` (chapter 09), `transformer` and `closing` (chapter 10), `plots`.
Shapes are time-first everywhere: x: (T, B, D).
"""
from course_lib.reproducibility import seed_everything, get_device, environment_report

__version__ = "0.1.0"
__all__ = ["seed_everything", "get_device", "environment_report", "check"]


def check(fn, **kwargs):
    """Run the public checks of the exercise named like `fn` and print one line per check."""
    from course_lib.checks import check as _check
    return _check(fn, **kwargs)
