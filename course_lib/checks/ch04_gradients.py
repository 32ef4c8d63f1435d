"""Checks of chapter 04's exercises: `spectral_radius`, `clip_grad_norm`, `hidden_jacobian_norms`.

References are checked in tests/test_gradients.py: the Jacobian norms against torch autograd, clipping
against torch.nn.utils.clip_grad_norm_, the radius against eigenvalues computed by torch.
"""
import numpy as np

from course_lib.checks.core import Case, Exercise, Hint
from course_lib.gradients import clip_grad_norm, hidden_jacobian_norms, spectral_radius


def _rotation(angle):
    return np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])


def _radius_cases(rng, hidden):
    if hidden:
        n = int(rng.integers(2, 9))
        return [Case(f"random {n}x{n} matrix", (rng.normal(size=(n, n)),), hidden=True),
                Case("a scaled rotation (complex eigenvalues)", (1.7 * _rotation(rng.uniform(0.3, 2.5)),), hidden=True),
                Case("non-square raises ValueError", (rng.normal(size=(n, n + 1)),), raises=(ValueError,), hidden=True)]
    return [Case("diag(0.5, -2)", (np.diag([0.5, -2.0]),)),
            Case("a rotation by 60 degrees (eigenvalues e^{±iπ/3})", (_rotation(np.pi / 3),)),
            Case("random 5x5 matrix", (rng.normal(size=(5, 5)),)),
            Case("a non-normal matrix [[0.5, 10], [0, 0.5]]", (np.array([[0.5, 10.0], [0.0, 0.5]]),)),
            Case("non-square (2, 3) raises ValueError", (np.ones((2, 3)),), raises=(ValueError,))]


def _grads(rng, scale, shapes=((3, 4), (4,), (2, 2))):
    return {name: rng.normal(size=shape) * scale for name, shape in zip(("W_xh", "b_h", "W_hh"), shapes)}


def _clip_cases(rng, hidden):
    if hidden:
        shapes = [tuple(int(n) for n in rng.integers(1, 6, size=k)) for k in (2, 1, 2)]
        return [Case("random gradients above max_norm", (_grads(rng, 5.0, shapes), float(rng.uniform(0.5, 2))), hidden=True),
                Case("random gradients below max_norm", (_grads(rng, 0.01, shapes), 10.0), hidden=True)]
    return [Case("norm 5 clipped to 1: {'a': [3, 0], 'b': [4]}", ({"a": np.array([3.0, 0.0]), "b": np.array([4.0])}, 1.0)),
            Case("gradients above max_norm=1", (_grads(rng, 3.0), 1.0)),
            Case("gradients below max_norm=100: unchanged", (_grads(rng, 1.0), 100.0)),
            Case("one big array among small ones", ({"big": np.full(4, 10.0), "small": np.full(3, 1e-3)}, 2.0))]


def _jacobian_args(rng, T, D, H, radius=1.0, input_scale=1.0):
    W_hh = rng.normal(size=(H, H))
    W_hh *= radius / np.max(np.abs(np.linalg.eigvals(W_hh)))
    return (rng.normal(size=(T, 1, D)) * input_scale, rng.normal(size=(1, H)) * 0.1,
            rng.normal(size=(D, H)) / np.sqrt(D), W_hh, rng.normal(size=H) * 0.1)


def _jacobian_cases(rng, hidden):
    if hidden:
        cases = []
        for _ in range(3):
            T, D, H = (int(n) for n in rng.integers(1, 9, size=3))
            cases.append(Case(f"random RNN, T={T}, D={D}, H={H}", _jacobian_args(rng, T, D, H, rng.uniform(0.5, 1.5)), hidden=True))
        x, h0, W_xh, W_hh, b_h = _jacobian_args(rng, 3, 2, 3)
        cases.append(Case("a batch of 2 raises ValueError", (np.concatenate([x, x], 1), np.concatenate([h0, h0]), W_xh, W_hh, b_h),
                          raises=(ValueError,), hidden=True))
        return cases
    x, h0, W_xh, W_hh, b_h = _jacobian_args(rng, 4, 2, 3)
    return [Case("T=4, D=2, H=3", (x, h0, W_xh, W_hh, b_h)),
            Case("T=1 (one step)", _jacobian_args(rng, 1, 2, 3)),
            Case("H=1, T=6: a product of numbers", _jacobian_args(rng, 6, 1, 1)),
            Case("radius 1.5, T=8, small inputs", _jacobian_args(rng, 8, 2, 4, radius=1.5, input_scale=0.01)),
            Case("a batch of 2 (B must be 1) raises ValueError", (np.concatenate([x, x], 1), np.concatenate([h0, h0]), W_xh, W_hh, b_h),
                 raises=(ValueError,))]


def _clip_each(grads, max_norm):
    out = {}
    for k, g in grads.items():
        n = np.linalg.norm(g)
        out[k] = g * min(1.0, max_norm / (n + 1e-6))
    return out, float(np.sqrt(sum(np.sum(g ** 2) for g in grads.values())))


def _jacobian_norms_with(x, h0, W_xh, W_hh, b_h, norm="spectral", derivative=True):
    from course_lib.rnn import rnn_forward
    hs, _ = rnn_forward(x, h0, W_xh, W_hh, b_h)
    T, H = hs.shape[0], hs.shape[2]
    out, product = np.empty(T + 1), np.eye(H)
    out[T] = 1.0
    for k in range(T, 0, -1):
        d = (1.0 - hs[k - 1, 0] ** 2) if derivative else np.ones(H)
        product = product @ (d[:, None] * W_hh.T)
        out[k - 1] = np.linalg.norm(product, 2 if norm == "spectral" else "fro")
    return out


EXERCISES = [
    Exercise(
        name="spectral_radius", reference=spectral_radius, points=1, make_cases=_radius_cases,
        hints=[
            Hint(lambda W: float(np.linalg.norm(W, 2)), "that is the spectral *norm* (largest singular value); "
                 "the spectral radius is the largest |eigenvalue|"),
            Hint(lambda W: float(np.max(np.real(np.linalg.eigvals(W)))), "take the absolute value of the (possibly complex) eigenvalues"),
        ],
    ),
    Exercise(
        name="clip_grad_norm", reference=clip_grad_norm, points=2, make_cases=_clip_cases,
        output_names=("clipped", "norm"),
        hints=[
            Hint(_clip_each, "clip by the *global* norm of all gradients together, not each array on its own"),
            Hint(lambda g, m: (clip_grad_norm(g, m)[0], min(m, clip_grad_norm(g, m)[1])),
                 "return the norm measured *before* clipping"),
        ],
    ),
    Exercise(
        name="hidden_jacobian_norms", reference=hidden_jacobian_norms, points=3, make_cases=_jacobian_cases,
        hints=[
            Hint(lambda *a: _jacobian_norms_with(*a, norm="fro"), "use the spectral norm, np.linalg.norm(J, 2), not the Frobenius norm"),
            Hint(lambda *a: _jacobian_norms_with(*a, derivative=False), "each step's Jacobian includes the tanh derivative diag(1 - s_k**2)"),
            Hint(lambda *a: hidden_jacobian_norms(*a)[::-1], "norms[t + 1] is for d h_{T-1} / d h_t: norms[0] is the initial state h_{-1}, norms[T] = 1"),
            Hint(lambda *a: hidden_jacobian_norms(*a)[1:], "return T + 1 values: one for the initial state too (t = 0)"),
        ],
    ),
]
