"""Fair grades through the command-line grader (issue 19): a mistake is named and costs once, the same
notebook scores the same under any seed and any machine load, and hidden checks stay hidden.

The catalogue of mistakes is tested in-process (tests/test_checks.py); these tests grade a few whole
notebooks to show the same holds through the kernel and the probe.
"""
import json
import subprocess
import sys

import numpy as np

from course_lib.checks import CHAPTERS
from course_lib.grade import Limits, build_cases
from course_lib.checks.core import expected_output
from tests.test_grader import feedback, replace_function, scores, solution, submit
from tests.test_grader import grade as _grade

CH02 = "02_rnn_cell"


def grade(path, limits=None, seed=0):
    """Grade with the default limits: the first cell of a torch chapter imports for several seconds on a busy machine."""
    return _grade(path, limits or Limits(), seed)
STEP_WITHOUT_BIAS = ("def rnn_step(x_t, h_prev, W_xh, W_hh, b_h):\n"
                     "    h_t = np.tanh(x_t @ W_xh + h_prev @ W_hh)\n"
                     "    return h_t, (x_t, h_prev, W_xh, W_hh, h_t)")
FORWARD_REUSING_H0 = ("def rnn_forward(x, h0, W_xh, W_hh, b_h):\n"
                      "    hs = [rnn_step(x_t, h0, W_xh, W_hh, b_h)[0] for x_t in x]\n"
                      "    return np.stack(hs), None")


def wrong_ch02(forward=None):
    nb = replace_function(solution(CH02), "rnn_step", STEP_WITHOUT_BIAS)
    return replace_function(nb, "rnn_forward", forward) if forward else nb


def test_a_broken_helper_costs_only_itself_and_both_are_named(tmp_path):
    result, _ = grade(submit(tmp_path, wrong_ch02(), f"{CH02}.ipynb"))
    assert scores(result)["rnn_step"] < 0.5, result.table()
    assert {k: v for k, v in scores(result).items() if k != "rnn_step"} == {"rnn_forward": 3, "rnn_logits": 1, "sequence_loss": 2}
    assert "hint: the bias b_h is missing" in feedback(result, "rnn_step")
    assert "checked with the course's `rnn_step`, because yours fails its own checks" in feedback(result, "rnn_forward")
    wrong, _ = grade(submit(tmp_path, wrong_ch02(FORWARD_REUSING_H0), f"{CH02}.ipynb"))
    assert scores(wrong)["rnn_forward"] < 3 and "every step used h0" in feedback(wrong, "rnn_forward"), wrong.table()


def test_classic_mistakes_get_their_hint_through_the_grader(tmp_path):
    nb = replace_function(solution("03_bptt"), "rnn_step_backward", (
        "def rnn_step_backward(dh_next, cache):\n"
        "    x_t, h_prev, W_xh, W_hh, h_t = cache\n"
        "    da = dh_next * (1 - h_t)\n"
        "    return {'x_t': da @ W_xh.T, 'h_prev': da @ W_hh.T, 'W_xh': x_t.T @ da, 'W_hh': h_prev.T @ da, 'b_h': da.sum(0)}"))
    result, _ = grade(submit(tmp_path, nb, "03_bptt.ipynb"))
    assert "not 1 - h_t" in feedback(result, "rnn_step_backward"), result.table()
    assert scores(result)["rnn_backward"] == 3, result.table()
    nb = replace_function(solution("09_attention"), "causal_mask", (
        "def causal_mask(T):\n"
        "    if T < 1:\n        raise ValueError('T must be at least 1')\n"
        "    return torch.triu(torch.ones(T, T, dtype=torch.bool), diagonal=1)"))
    result, _ = grade(submit(tmp_path, nb, "09_attention.ipynb"))
    assert "your mask is inverted" in feedback(result, "causal_mask"), result.table()
    assert scores(result)["multi_head_attention"] == 3


def test_the_same_wrong_notebook_scores_the_same_under_three_seeds(tmp_path):
    path = submit(tmp_path, wrong_ch02(FORWARD_REUSING_H0), f"{CH02}.ipynb")
    graded = [grade(path, seed=seed)[0] for seed in (0, 1, 2)]
    assert len({tuple(sorted(scores(r).items())) for r in graded}) == 1, [r.table() for r in graded]
    assert graded[0].score < graded[0].max_score
    assert {r.seed for r in graded} == {0, 1, 2}


def test_hidden_inputs_and_expected_values_never_reach_the_json(tmp_path):
    seed = 5
    result, _ = grade(submit(tmp_path, wrong_ch02(FORWARD_REUSING_H0), f"{CH02}.ipynb"), seed=seed)
    text = json.dumps(result.gradescope(), ensure_ascii=False)
    assert "hidden:" in text and "✗" in text
    numbers = set()
    for exercise in CHAPTERS[CH02]:
        for case in build_cases(exercise, seed):
            if case.hidden:
                values = [a for a in case.args if isinstance(a, np.ndarray)] + [np.asarray(expected_output(exercise, case)[0]
                          if isinstance(expected_output(exercise, case), tuple) else expected_output(exercise, case))]
                numbers |= {f"{v:.6g}" for a in values for v in np.ravel(a)[:20] if abs(v) > 1e-3 and v != round(v)}
    leaked = [n for n in numbers if n in text]
    assert not leaked, leaked


BUSY = "while True:\n    pass\n"


def test_a_correct_notebook_gets_full_marks_while_both_cores_are_busy(tmp_path):
    """The endless-loop verdict counts CPU time, and graded kernels compute on one thread."""
    stem = "06_applications"
    path = submit(tmp_path, solution(stem), f"{stem}.ipynb")
    hogs = [subprocess.Popen([sys.executable, "-c", BUSY]) for _ in range(2)]
    try:
        result, _ = grade(path, Limits(call_timeout=2))
    finally:
        for hog in hogs:
            hog.kill()
            hog.wait()
    assert result.score == result.max_score, result.table()
