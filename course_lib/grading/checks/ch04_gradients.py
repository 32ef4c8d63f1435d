"""Checks of chapter 04's exercises: `spectral_radius`, `clip_grad_norm`, `hidden_jacobian_norms`.

References are checked in tests/test_gradients.py: the Jacobian norms against torch autograd, clipping
against torch.nn.utils.clip_grad_norm_, the radius against eigenvalues computed by torch.
"""
import numpy as np

from course_lib.grading.checks.core import Case, Exercise, Hint
from course_lib.gradients import clip_grad_norm, hidden_jacobian_norms, spectral_radius


def _rotation(angle):
    return np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])


def _negative_dominant(rng, n):
    """A random non-normal n x n matrix whose largest |eigenvalue| belongs to a negative eigenvalue."""
    radius = rng.uniform(1.5, 3.0)
    eigenvalues = np.concatenate([[-radius], rng.uniform(0.1, 0.7, size=n - 1) * radius])
    basis = rng.normal(size=(n, n)) + 2 * np.eye(n)
    return basis @ np.diag(eigenvalues) @ np.linalg.inv(basis)


def _radius_cases(rng, hidden):
    if hidden:
        n = int(rng.integers(3, 9))
        return [Case("hidden: a random matrix whose dominant eigenvalue is negative", (_negative_dominant(rng, n),), hidden=True),
                Case("hidden: a scaled rotation (complex eigenvalues)", (rng.uniform(1.2, 3) * _rotation(rng.uniform(0.3, 2.5)),), hidden=True),
                Case("hidden: a non-normal triangular matrix", (np.array([[1.0, 0.0], [rng.uniform(5, 20), 1.0]]) * rng.uniform(0.3, 2),), hidden=True)]
    return [Case("diag(0.5, -2)", (np.diag([0.5, -2.0]),)),
            Case("a rotation by 60 degrees (eigenvalues e^{±iπ/3})", (_rotation(np.pi / 3),)),
            Case("a random 5x5 matrix whose dominant eigenvalue is negative", (_negative_dominant(rng, 5),)),
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
        T, D, H = int(rng.integers(3, 9)), int(rng.integers(1, 5)), int(rng.integers(2, 7))
        return [Case("hidden: random RNN, T >= 3, H >= 2", _jacobian_args(rng, T, D, H, rng.uniform(0.5, 1.5)), hidden=True),
                Case("hidden: radius > 1, small inputs", _jacobian_args(rng, T + 2, D, H, rng.uniform(1.2, 1.8), input_scale=0.01), hidden=True)]
    x, h0, W_xh, W_hh, b_h = _jacobian_args(rng, 4, 2, 3)
    return [Case("T=4, D=2, H=3", (x, h0, W_xh, W_hh, b_h)),
            Case("T=1 (one step)", _jacobian_args(rng, 1, 2, 3)),
            Case("H=1, T=6: a product of numbers", _jacobian_args(rng, 6, 1, 1)),
            Case("radius 1.5, T=8, small inputs", _jacobian_args(rng, 8, 2, 4, radius=1.5, input_scale=0.01)),
            Case("a batch of 2 (B must be 1) raises ValueError", (np.concatenate([x, x], 1), np.concatenate([h0, h0]), W_xh, W_hh, b_h),
                 raises=(ValueError,))]


def _global_norm(grads):
    return float(np.sqrt(sum(np.sum(g ** 2) for g in grads.values())))


def _clip_by_sum_of_norms(grads, max_norm):
    norm = float(sum(np.linalg.norm(g) for g in grads.values()))
    return {k: g * min(1.0, max_norm / (norm + 1e-6)) for k, g in grads.items()}, norm


def _clip_each(grads, max_norm):
    out = {}
    for k, g in grads.items():
        n = np.linalg.norm(g)
        out[k] = g * min(1.0, max_norm / (n + 1e-6))
    return out, float(np.sqrt(sum(np.sum(g ** 2) for g in grads.values())))


def _jacobian_norms_with(x, h0, W_xh, W_hh, b_h, norm="spectral", derivative=True, state_shift=0, left=False):
    """The norms with classic mistakes switched on: the Frobenius norm, no tanh derivative, the derivative
    of the wrong state (state_shift=-1: s_{k-1} instead of s_k), the product built in the wrong order."""
    from course_lib.rnn import rnn_forward
    hs, _ = rnn_forward(x, h0, W_xh, W_hh, b_h)
    T, H = hs.shape[0], hs.shape[2]
    states = np.concatenate([np.asarray(h0)[None], hs])[:, 0]  # s_0 = h0, s_k = hs[k - 1]
    out, product = np.empty(T + 1), np.eye(H)
    out[T] = 1.0
    for k in range(T, 0, -1):
        d = (1.0 - states[k + state_shift] ** 2) if derivative else np.ones(H)
        jacobian = d[:, None] * W_hh.T
        product = jacobian @ product if left else product @ jacobian
        out[k - 1] = np.linalg.norm(product, 2 if norm == "spectral" else "fro")
    return out


EXERCISES = [
    Exercise(
        name="spectral_radius", reference=spectral_radius, points=1, make_cases=_radius_cases,
        hints=[
            Hint(lambda W: float(np.linalg.norm(W, 2)), "that is the spectral *norm* (largest singular value); "
                 "the spectral radius is the largest |eigenvalue|"),
            Hint(lambda W: float(np.max(np.real(np.linalg.eigvals(W)))), "take the absolute value of the (possibly complex) eigenvalues"),
            Hint(lambda W: float(np.max(np.abs(np.real(np.linalg.eigvals(W))))),
                 "take the modulus |λ| of complex eigenvalues, not of their real part: np.abs(eigvals)"),
            Hint(lambda W: float(np.max(np.abs(W))), "that is the largest |entry| of W; the radius is the largest |eigenvalue|"),
        ],
    ),
    Exercise(
        name="clip_grad_norm", reference=clip_grad_norm, points=2, make_cases=_clip_cases,
        output_names=("clipped", "norm"),
        hints=[
            Hint(_clip_each, "clip by the *global* norm of all gradients together, not each array on its own"),
            Hint(lambda g, m: (clip_grad_norm(g, m)[0], min(m, clip_grad_norm(g, m)[1])),
                 "return the norm measured *before* clipping"),
            Hint(lambda g, m: ({k: v * m / _global_norm(g) for k, v in g.items()}, _global_norm(g)),
                 "only clip when the norm is above max_norm: gradients below it stay unchanged"),
            Hint(lambda g, m: ({k: v * min(1.0, _global_norm(g) / m) for k, v in g.items()}, _global_norm(g)),
                 "the scale factor is max_norm / norm, not norm / max_norm"),
            Hint(_clip_by_sum_of_norms, "the global norm is sqrt of the sum of *squares* of all entries, not the sum of each array's norm"),
        ],
    ),
    Exercise(
        name="hidden_jacobian_norms", reference=hidden_jacobian_norms, points=3, make_cases=_jacobian_cases,
        hints=[
            Hint(lambda *a: _jacobian_norms_with(*a, norm="fro"), "use the spectral norm, np.linalg.norm(J, 2), not the Frobenius norm"),
            Hint(lambda *a: _jacobian_norms_with(*a, derivative=False), "each step's Jacobian includes the tanh derivative diag(1 - s_k**2)"),
            Hint(lambda *a: hidden_jacobian_norms(*a)[::-1], "norms[t + 1] is for d h_{T-1} / d h_t: norms[0] is the initial state h_{-1}, norms[T] = 1"),
            Hint(lambda *a: hidden_jacobian_norms(*a)[1:], "return T + 1 values: one for the initial state too (t = 0)"),
            Hint(lambda *a: _jacobian_norms_with(*a, state_shift=-1), "off by one in time: the Jacobian of step k uses the tanh "
                 "derivative at the state it *produces*, 1 - s_k**2, not at s_(k-1)"),
            Hint(lambda *a: _jacobian_norms_with(*a, left=True), "multiply the step Jacobians in the other order: "
                 "d s_T / d s_t = J_T @ ... @ J_(t+1) (in row-vector form, product = product @ J_k)"),
        ],
    ),
]
