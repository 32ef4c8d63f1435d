"""Chapter 02 reference RNN, checked against torch.nn.RNN and torch's cross-entropy with the same weights."""
import re

import numpy as np
import pytest
import torch

from course_lib.rnn import (count_params, init_per_position_params, init_rnn_params, per_position_forward,
                            rnn_forward, rnn_logits, rnn_step, sequence_loss, step_losses, torch_rnn_from_params)

TOL = 1e-10  # float64 on both sides: only rounding differs


@pytest.mark.parametrize("T, B, D, H", [(1, 1, 1, 1), (7, 3, 4, 5), (12, 2, 6, 3)])
def test_rnn_forward_matches_torch_rnn(T, B, D, H):
    rng = np.random.default_rng(T * 100 + H)
    p = init_rnn_params(D, H, 2, rng)
    p["b_h"] = rng.normal(size=H)
    x, h0 = rng.normal(size=(T, B, D)), rng.normal(size=(B, H))
    hs, cache = rnn_forward(x, h0, p["W_xh"], p["W_hh"], p["b_h"])
    out, h_n = torch_rnn_from_params(p["W_xh"], p["W_hh"], p["b_h"])(torch.from_numpy(x), torch.from_numpy(h0)[None])
    assert np.abs(hs - out.detach().numpy()).max() < TOL
    assert np.abs(hs[-1] - h_n[0].detach().numpy()).max() < TOL
    assert len(cache["steps"]) == T and all(step[2] is p["W_xh"] and step[3] is p["W_hh"] for step in cache["steps"])


def test_rnn_step_is_one_step_of_the_forward_pass():
    rng = np.random.default_rng(1)
    p = init_rnn_params(3, 4, 2, rng)
    x, h0 = rng.normal(size=(1, 2, 3)), rng.normal(size=(2, 4))
    h1, cache = rnn_step(x[0], h0, p["W_xh"], p["W_hh"], p["b_h"])
    assert np.array_equal(h1, rnn_forward(x, h0, p["W_xh"], p["W_hh"], p["b_h"])[0][0])
    assert cache[0] is not None and cache[4] is h1


def test_logits_and_loss_match_torch_cross_entropy():
    rng = np.random.default_rng(2)
    T, B, H, V = 5, 3, 4, 6
    hs, W_hy, b_y = rng.normal(size=(T, B, H)), rng.normal(size=(H, V)), rng.normal(size=V)
    targets = rng.integers(0, V, size=(T, B))
    logits = rnn_logits(hs, W_hy, b_y)
    expected_logits = torch.nn.functional.linear(torch.from_numpy(hs), torch.from_numpy(W_hy.T.copy()), torch.from_numpy(b_y))
    assert np.abs(logits - expected_logits.numpy()).max() < TOL
    ce = torch.nn.functional.cross_entropy(torch.from_numpy(logits).reshape(T * B, V), torch.from_numpy(targets).reshape(-1),
                                           reduction="sum").item() / B
    assert abs(sequence_loss(logits, targets) - ce) < TOL
    assert np.isclose(step_losses(logits, targets).sum(), sequence_loss(logits, targets), atol=TOL)


def test_loss_is_stable_for_huge_logits():
    logits = np.array([[[1000.0, -1000.0, 0.0]]])
    assert sequence_loss(logits, np.array([[0]])) == pytest.approx(0.0, abs=1e-12)
    assert sequence_loss(logits, np.array([[1]])) == pytest.approx(2000.0)


def test_uniform_logits_cost_log_v_per_step():
    assert sequence_loss(np.zeros((4, 2, 8)), np.zeros((4, 2), dtype=int)) == pytest.approx(4 * np.log(8))


def test_parameter_count_does_not_depend_on_T_but_per_position_does():
    rng = np.random.default_rng(3)
    p = init_rnn_params(5, 7, 5, rng)
    assert count_params(p) == 5 * 7 + 7 * 7 + 7 + 7 * 5 + 5
    counts = [count_params(init_per_position_params(T, 5, 7, rng)) for T in (5, 50)]
    assert counts[1] == 10 * counts[0]
    with pytest.raises(ValueError, match="weights for 5 steps, got a sequence of 6"):
        per_position_forward(rng.normal(size=(6, 1, 5)), np.zeros((1, 7)), init_per_position_params(5, 5, 7, rng))


def args(rng=np.random.default_rng(4), T=3, B=2, D=3, H=4):
    p = init_rnn_params(D, H, 2, rng)
    return rng.normal(size=(T, B, D)), np.zeros((B, H)), p["W_xh"], p["W_hh"], p["b_h"]


@pytest.mark.parametrize("change, error, words", [
    (lambda a: (a[0][:, :, :2],) + a[1:], ValueError, "x must have shape (T, B, D) with D = 3 to match W_xh (3, 4), got (3, 2, 2)"),
    (lambda a: (a[0][:, 0],) + a[1:], ValueError, "x must have 3 axes (T, B, D), got shape (3, 3)"),
    (lambda a: (a[0], np.zeros((2, 5))) + a[2:], ValueError, "h0 must have shape (B, H) = (2, 4), got (2, 5)"),
    (lambda a: a[:3] + (np.zeros((4, 3)), a[4]), ValueError, "W_hh must have shape (H, H) = (4, 4), got (4, 3)"),
    (lambda a: (np.where(np.arange(3)[:, None, None] == 1, np.nan, a[0]),) + a[1:], ValueError, "x contains NaN"),
    (lambda a: (a[0].astype(str),) + a[1:], TypeError, "x must hold real numbers"),
])
def test_rnn_forward_bad_input(change, error, words):
    with pytest.raises(error, match=re.escape(words)):
        rnn_forward(*change(args()))


def test_rnn_step_bad_input_names_the_argument():
    x, h0, W_xh, W_hh, b_h = args()
    with pytest.raises(ValueError, match=re.escape("x_t must have shape (B, D) with D = 3 to match W_xh (3, 4), got (2, 5)")):
        rnn_step(np.zeros((2, 5)), h0, W_xh, W_hh, b_h)


def test_loss_bad_targets():
    with pytest.raises(ValueError, match=re.escape("targets must be in [0, 3), got 3")):
        sequence_loss(np.zeros((2, 1, 3)), np.array([[0], [3]]))
    with pytest.raises(ValueError, match=re.escape("targets must have shape (T, B) = (2, 1)")):
        sequence_loss(np.zeros((2, 1, 3)), np.array([0, 1]))
    with pytest.raises(ValueError, match="logits contains NaN"):
        sequence_loss(np.full((1, 1, 2), np.nan), np.array([[0]]))
