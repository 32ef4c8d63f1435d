"""Chapter 05: the NumPy LSTM against torch.nn.LSTM, and the gradient highway claims."""
import re

import numpy as np
import pytest
import torch

from course_lib.lstm import (init_lstm_params, lstm_forward, lstm_state_jacobian_norms, lstm_step, lstm_trace,
                             torch_lstm_from_params)
from course_lib.training import gru_encoder, lstm_encoder, rnn_encoder


@pytest.mark.parametrize("T, B, D, H", [(1, 1, 1, 1), (6, 3, 4, 5), (9, 2, 3, 7)])
def test_lstm_forward_matches_torch_lstm(T, B, D, H):
    rng = np.random.default_rng(T + H)
    W, b = rng.normal(size=(D + H, 4 * H)) / np.sqrt(D + H), rng.normal(size=4 * H)
    x, h0, c0 = rng.normal(size=(T, B, D)), rng.normal(size=(B, H)), rng.normal(size=(B, H))
    hs, (h, c) = lstm_forward(x, h0, c0, W, b)
    out, (th, tc) = torch_lstm_from_params(W, b)(torch.from_numpy(x), (torch.from_numpy(h0)[None], torch.from_numpy(c0)[None]))
    assert np.abs(hs - out.detach().numpy()).max() < 1e-10
    assert np.abs(h - th[0].detach().numpy()).max() < 1e-10 and np.abs(c - tc[0].detach().numpy()).max() < 1e-10


def test_cell_update_is_additive_and_gates_are_in_range():
    rng = np.random.default_rng(1)
    W, b = init_lstm_params(3, 4, rng)
    x, h0, c0 = rng.normal(size=(2, 3)), rng.normal(size=(2, 4)), rng.normal(size=(2, 4))
    h, c, cache = lstm_step(x, h0, c0, W, b)
    assert np.allclose(c, cache["f"] * c0 + cache["i"] * cache["g"])
    assert all(np.all((cache[k] > 0) & (cache[k] < 1)) for k in "ifo") and np.all(np.abs(cache["g"]) < 1)
    _, _, gates = lstm_trace(rng.normal(size=(5, 2, 3)), h0, c0, W, b)
    assert gates["f"].shape == (5, 2, 4)


@pytest.mark.parametrize("change, error, words", [
    (lambda a: (a[0], a[1], a[2], a[3][:-1], a[4]), ValueError, "W must have shape (D + H, 4H) = (7, 16)"),
    (lambda a: (a[0], a[1], a[2], a[3][:, :-1], a[4]), ValueError, "not a multiple of 4"),
    (lambda a: (a[0], a[1], a[2], a[3], a[4][:-1]), ValueError, "b must have shape (4H,) = (16,)"),
    (lambda a: (a[0], a[1], a[2][:, :3], a[3], a[4]), ValueError, "c_prev must have shape (B, H) = (2, 4)"),
    (lambda a: (a[0][0], a[1], a[2], a[3], a[4]), ValueError, "x_t must have 2 axes"),
])
def test_lstm_step_bad_input(change, error, words):
    rng = np.random.default_rng(2)
    W, b = init_lstm_params(3, 4, rng)
    args = (rng.normal(size=(2, 3)), np.zeros((2, 4)), np.zeros((2, 4)), W, b)
    with pytest.raises(error, match=re.escape(words)):
        lstm_step(*change(args))


def test_forget_bias_decides_how_far_the_cell_gradient_reaches():
    x = np.random.default_rng(3).normal(size=(30, 1, 2))
    low = lstm_state_jacobian_norms(x, *init_lstm_params(2, 16, np.random.default_rng(4), forget_bias=-2.0))
    high = lstm_state_jacobian_norms(x, *init_lstm_params(2, 16, np.random.default_rng(4), forget_bias=3.0))
    assert low[0] < 1e-10 and high[0] > 0.1


def test_gru_has_three_blocks_lstm_four():
    counts = {name: sum(p.numel() for p in make(9, 64).parameters())
              for name, make in (("RNN", rnn_encoder), ("LSTM", lstm_encoder), ("GRU", gru_encoder))}
    assert counts["LSTM"] == 4 * counts["RNN"] and counts["GRU"] == 3 * counts["RNN"]
    # the gate-bias knob of the memory benchmark lands on the forget (LSTM) / update (GRU) block, nowhere else
    lstm, gru = lstm_encoder(9, 64, forget_bias=5.0), gru_encoder(9, 64, update_bias=3.0)
    assert lstm.bias_ih_l0[64:128].detach().eq(5.0).all() and gru.bias_ih_l0[64:128].detach().eq(3.0).all()
    assert not lstm.bias_ih_l0[:64].detach().eq(5.0).any() and lstm.bias_hh_l0[64:128].detach().eq(0.0).all()


def test_belt_norms_equal_the_full_jacobian_when_h_feeds_no_gate():
    """With the h-rows of W zeroed, c_t reaches c_{t+1} only along the belt: the two must agree exactly."""
    from course_lib.lstm import init_lstm_params, lstm_belt_norms, lstm_state_jacobian_norms
    rng = np.random.default_rng(0)
    D, H, T = 2, 5, 12
    W, b = init_lstm_params(D, H, rng, forget_bias=1.0)
    x = rng.normal(size=(T, 1, D))
    W_no_h = W.copy()
    W_no_h[D:] = 0.0
    belt = lstm_belt_norms(x, W_no_h, b)
    assert belt.shape == (T + 1,) and belt[-1] == 1.0 and np.all(np.diff(belt) >= 0)  # more forget gates, smaller product
    assert np.allclose(belt, lstm_state_jacobian_norms(x, W_no_h, b), rtol=1e-10)
    assert not np.allclose(lstm_belt_norms(x, W, b), lstm_state_jacobian_norms(x, W, b), rtol=1e-3)  # paths through h
