"""Chapter 04 references against torch, and the qualitative claims of the lecture."""
import numpy as np
import pytest
import torch

from course_lib.gradients import (clip_grad_norm, hidden_jacobian_norms, jacobian_norm_curve,
                                  scaled_recurrent_weights, spectral_radius)
from course_lib.tasks import adding_problem, recall_task


def test_jacobian_norms_match_torch_autograd():
    rng = np.random.default_rng(0)
    T, D, H = 6, 2, 4
    x, h0 = rng.normal(size=(T, 1, D)), rng.normal(size=(1, H)) * 0.2
    W_xh, W_hh, b_h = rng.normal(size=(D, H)), rng.normal(size=(H, H)), rng.normal(size=H) * 0.1
    norms = hidden_jacobian_norms(x, h0, W_xh, W_hh, b_h)
    Wx, Wh, b = (torch.from_numpy(a) for a in (W_xh, W_hh, b_h))
    xs = torch.from_numpy(x)

    def last_state_from(t, s_t):  # run steps t+1..T starting from state s_t (s_0 = h0)
        h = s_t
        for k in range(t, T):
            h = torch.tanh(xs[k] @ Wx + h @ Wh + b)
        return h

    states = [torch.from_numpy(h0)]
    for k in range(T):
        states.append(torch.tanh(xs[k] @ Wx + states[-1] @ Wh + b))
    for t in range(T + 1):
        J = torch.autograd.functional.jacobian(lambda s: last_state_from(t, s), states[t].detach())[0, :, 0, :]
        assert abs(norms[t] - torch.linalg.matrix_norm(J, ord=2).item()) < 1e-10, t


def test_clip_grad_norm_matches_torch():
    rng = np.random.default_rng(1)
    grads = {"a": rng.normal(size=(3, 4)) * 4, "b": rng.normal(size=5)}
    params = [torch.zeros(3, 4, dtype=torch.float64, requires_grad=True), torch.zeros(5, dtype=torch.float64, requires_grad=True)]
    for p, g in zip(params, grads.values()):
        p.grad = torch.from_numpy(g.copy())
    torch_norm = torch.nn.utils.clip_grad_norm_(params, 1.5).item()
    clipped, norm = clip_grad_norm(grads, 1.5)
    assert abs(norm - torch_norm) < 1e-12
    for p, g in zip(params, clipped.values()):
        assert np.abs(p.grad.numpy() - g).max() < 1e-12
    assert np.linalg.norm(grads["b"]) > np.linalg.norm(clipped["b"])  # the input dict is untouched


def test_clip_grad_norm_bad_input():
    with pytest.raises(TypeError, match="grads must be a dict"):
        clip_grad_norm([np.ones(2)], 1.0)
    with pytest.raises(ValueError, match="max_norm must be positive"):
        clip_grad_norm({"a": np.ones(2)}, 0)


def test_spectral_radius_matches_torch_eigenvalues():
    W = np.random.default_rng(2).normal(size=(6, 6))
    assert abs(spectral_radius(W) - torch.linalg.eigvals(torch.from_numpy(W)).abs().max().item()) < 1e-10
    with pytest.raises(ValueError, match=r"W must be square \(H, H\), got shape \(2, 3\)"):
        spectral_radius(np.ones((2, 3)))


def test_jacobian_norms_need_one_sequence():
    with pytest.raises(ValueError, match="one sequence"):
        hidden_jacobian_norms(np.zeros((3, 2, 1)), np.zeros((2, 2)), np.ones((1, 2)), np.eye(2), np.zeros(2))


def test_norms_fall_below_radius_one_and_grow_above_it_in_the_linear_regime():
    for radius, grows in ((0.5, False), (0.9, False), (1.5, True)):
        norms = jacobian_norm_curve(radius, T=30, H=16, input_scale=1e-6, rng=np.random.default_rng(3))
        far, near = norms[0], norms[-2]  # distance 30 and distance 1
        assert (far > 100 * near) if grows else (far < near / 10), radius


def test_saturation_makes_gradients_vanish_even_above_radius_one():
    norms = jacobian_norm_curve(1.5, T=30, H=16, input_scale=5.0, rng=np.random.default_rng(3))
    assert norms[0] < 1e-3


def test_orthogonal_recurrence_keeps_the_norm_in_the_linear_regime():
    norms = jacobian_norm_curve(1.0, T=40, H=16, input_scale=1e-6, rng=np.random.default_rng(4), kind="orthogonal")
    assert np.all((norms > 0.99) & (norms < 1.01))
    assert abs(spectral_radius(scaled_recurrent_weights(8, 1.3, np.random.default_rng(5))) - 1.3) < 1e-9


def test_tasks_shapes_and_answers():
    rng = np.random.default_rng(6)
    x, y = recall_task(4, 3, rng, n_symbols=5)
    assert x.shape == (5, 3, 6) and np.array_equal(x[0, :, :5].argmax(-1), y) and np.all(x[4, :, 5] == 1)
    x, y = adding_problem(10, 4, rng)
    assert x.shape == (10, 4, 2) and np.all(x[..., 1].sum(0) == 2)
    assert np.allclose((x[..., 0] * x[..., 1]).sum(0), y)
    with pytest.raises(ValueError, match="lag must be at least 1"):
        recall_task(0, 2, rng)
