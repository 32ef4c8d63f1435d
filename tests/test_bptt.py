"""Chapter 03: hand-written BPTT checked against torch autograd and central differences; training works."""
import numpy as np
import pytest

from course_lib.bptt import (delayed_echo_accuracy, delayed_echo_batch, logits_backward,
                             model_loss_and_grads, numerical_gradient, relative_error, rnn_backward,
                             rnn_step_backward, sequence_loss_backward, torch_model_grads, train_rnn)
from course_lib.rnn import init_rnn_params, rnn_forward, rnn_step, sequence_loss


def model(rng, T=5, B=3, D=4, H=6, V=7):
    p = init_rnn_params(D, H, V, rng)
    p["b_h"], p["b_y"] = rng.normal(size=H) * 0.1, rng.normal(size=V) * 0.1
    return p, rng.normal(size=(T, B, D)), rng.normal(size=(B, H)) * 0.3, rng.integers(0, V, size=(T, B))


@pytest.mark.parametrize("T", [1, 2, 9])
def test_hand_written_gradients_match_torch_autograd(T):
    p, x, h0, targets = model(np.random.default_rng(T), T=T)
    loss, grads, _ = model_loss_and_grads(p, x, h0, targets)
    torch_loss, torch_grads = torch_model_grads(p, x, h0, targets)
    assert abs(loss - torch_loss) < 1e-10
    for name in ("W_xh", "W_hh", "b_h", "W_hy", "b_y", "h0"):
        assert np.abs(grads[name] - torch_grads[name]).max() < 1e-10, name


@pytest.mark.parametrize("name", ["W_xh", "W_hh", "b_h", "W_hy", "b_y"])
def test_hand_written_gradients_match_central_differences(name):
    p, x, h0, targets = model(np.random.default_rng(1))
    _, grads, _ = model_loss_and_grads(p, x, h0, targets)

    def loss_of(value):
        return model_loss_and_grads({**p, name: value}, x, h0, targets)[0]
    assert relative_error(numerical_gradient(loss_of, p[name].copy()), grads[name]) < 1e-6


def test_gradient_with_respect_to_inputs_matches_central_differences():
    rng = np.random.default_rng(2)
    p, x, h0, _ = model(rng)
    hs, cache = rnn_forward(x, h0, p["W_xh"], p["W_hh"], p["b_h"])
    dhs = rng.normal(size=hs.shape)
    grads = rnn_backward(dhs, cache)
    numeric = numerical_gradient(lambda v: float(np.sum(rnn_forward(v, h0, p["W_xh"], p["W_hh"], p["b_h"])[0] * dhs)), x.copy())
    assert relative_error(numeric, grads["x"]) < 1e-6


def test_per_step_contributions_add_up_to_the_shared_gradient():
    rng = np.random.default_rng(3)
    p, x, h0, _ = model(rng)
    hs, cache = rnn_forward(x, h0, p["W_xh"], p["W_hh"], p["b_h"])
    dhs = rng.normal(size=hs.shape)
    total, dh, parts = rnn_backward(dhs, cache)["W_hh"], np.zeros_like(h0), []
    for t in reversed(range(len(x))):
        step = rnn_step_backward(dhs[t] + dh, cache["steps"][t])
        parts.append(step["W_hh"])
        dh = step["h_prev"]
    assert np.allclose(sum(parts), total, atol=1e-12) and not np.allclose(parts[0], total)


def test_a_broken_backward_is_caught_by_both_checks():
    p, x, h0, targets = model(np.random.default_rng(4))
    _, grads, _ = model_loss_and_grads(p, x, h0, targets)
    broken = grads["W_hh"].T  # a classic mistake
    _, torch_grads = torch_model_grads(p, x, h0, targets)
    numeric = numerical_gradient(lambda W: model_loss_and_grads({**p, "W_hh": W}, x, h0, targets)[0], p["W_hh"].copy())
    assert relative_error(broken, numeric) > 1e-2 and relative_error(broken, torch_grads["W_hh"]) > 1e-2


def test_relative_error_floor_and_shapes():
    assert relative_error(np.zeros(3), np.zeros(3)) == 0.0
    assert relative_error([1.0], [1.0 + 1e-9]) == pytest.approx(5e-10, rel=1e-3)
    with pytest.raises(ValueError, match="same shape"):
        relative_error(np.zeros(2), np.zeros(3))


def test_numerical_gradient_restores_x_and_rejects_integers():
    x = np.array([1.0, 2.0])
    assert np.allclose(numerical_gradient(lambda v: float(np.sum(v ** 2)), x), [2.0, 4.0], atol=1e-8)
    assert np.array_equal(x, [1.0, 2.0])
    with pytest.raises(TypeError, match="x must be a float array"):
        numerical_gradient(lambda v: 0.0, np.array([1, 2]))


@pytest.mark.parametrize("T, B, V", [(1, 1, 2), (4, 3, 5), (2, 5, 7)])
def test_loss_gradient_is_softmax_minus_onehot_over_B_as_autograd_and_differences_say(T, B, V):
    import torch
    rng = np.random.default_rng(T * 100 + B)
    logits, targets = rng.normal(size=(T, B, V)) * 2, rng.integers(0, V, size=(T, B))
    ours = sequence_loss_backward(logits, targets)
    numeric = numerical_gradient(lambda z: sequence_loss(z, targets), logits.copy())
    z = torch.tensor(logits, requires_grad=True)
    torch.nn.functional.cross_entropy(z.reshape(-1, V), torch.as_tensor(targets).reshape(-1), reduction="sum").div(B).backward()
    assert relative_error(ours, numeric) < 1e-6 and np.abs(ours - z.grad.numpy()).max() < 1e-12
    assert np.allclose(ours.sum(axis=-1), 0)  # probabilities sum to 1, the one-hot too


def test_loss_gradient_is_stable_and_rejects_bad_targets():
    grad = sequence_loss_backward(np.array([[[1000.0, 0.0, -1000.0]]]), np.array([[1]]))
    assert np.allclose(grad, [[[1.0, -1.0, 0.0]]])
    with pytest.raises(ValueError, match=r"targets must be in \[0, 3\), got 3"):
        sequence_loss_backward(np.zeros((1, 2, 3)), np.array([[0, 3]]))
    with pytest.raises(ValueError, match=r"targets must have shape \(T, B\) = \(1, 2\)"):
        sequence_loss_backward(np.zeros((1, 2, 3)), np.zeros((2, 1), dtype=int))
    with pytest.raises(ValueError, match="logits must have 3 axes"):
        sequence_loss_backward(np.zeros((2, 3)), np.zeros(2, dtype=int))


def test_backward_bad_shapes_name_the_argument():
    rng = np.random.default_rng(5)
    _, cache = rnn_step(rng.normal(size=(2, 3)), np.zeros((2, 4)), rng.normal(size=(3, 4)), rng.normal(size=(4, 4)), np.zeros(4))
    with pytest.raises(ValueError, match=r"dh_next must have the shape of h_t, \(B, H\) = \(2, 4\), got \(2, 5\)"):
        rnn_step_backward(np.zeros((2, 5)), cache)
    with pytest.raises(ValueError, match="dlogits must have shape"):
        logits_backward(np.zeros((1, 2, 3)), (np.zeros((1, 2, 4)), np.zeros((4, 5))))


def test_truncation_cuts_dependencies_longer_than_the_window():
    rng = np.random.default_rng(0)
    results = {}
    for K in (4, 16):
        p = init_rnn_params(2, 16, 2, rng)
        train_rnn(p, lambda: delayed_echo_batch(6, 48, 32, rng), steps=150, truncation=K)
        results[K] = delayed_echo_accuracy(p, 6, rng)
    assert results[4] < 0.6 < 0.95 < results[16]
