"""Deep Sequence Modeling: the helper library every notebook imports.

Lecture topics, at the top level, in course order:
    00 welcome          the warm-up recurrence
    01 sequences, tunes, signals, ngrams   arrays, masks, the folk tunes, count-based baselines
    02 rnn              the RNN cell in NumPy, the loss summed over time
    03 bptt             backpropagation through time by hand
    04 gradients, tasks, training, memory  exploding/vanishing gradients, memory tasks, the memory benchmark
    05 lstm             the LSTM cell in NumPy
    06 language_model, music, tune_types   the tune model, valid tunes and audio, tune classification
    07 seq2seq, parallelism                the encoder-decoder bottleneck, timing RNN against attention
    08 positions        positional encoding
    09 attention        attention from scratch
    10 transformer, closing                the decoder-only model, the closing comparison
    11 generation       teacher forcing, decoding strategies, beam search, the key/value cache
    12 linear_recurrences   the parallel scan, minGRU, diagonal state-space layers, linear attention
Support for every chapter: `reproducibility` (seeding, threads, device), `plots`, `progress`, `validation`
(one readable sentence for bad input).
Apart from the lectures: `grading/` (the checks a notebook's `check(fn)` runs, and the grader; `grade.py` at
the top is only its short address, `python -m course_lib.grade`) and `authoring/` (executing notebooks,
generating exercises, the learner's workspace and JupyterLab).
Shapes are time-first everywhere: x: (T, B, D).
"""
from course_lib.reproducibility import seed_everything, get_device, environment_report

__version__ = "0.1.0"
__all__ = ["seed_everything", "get_device", "environment_report", "check"]


def check(fn, **kwargs):
    """Run the public checks of the exercise named like `fn` and print one line per check."""
    from course_lib.grading.checks import check as _check
    return _check(fn, **kwargs)
