"""Chapter 04 — why gradients through time explode or vanish, and the remedies.

For one sequence x_0 .. x_{T-1}, with h_t the state after reading x_t and h_{-1} the initial state (the
argument h0), the Jacobian of the last state with respect to an earlier one is a product of one factor
per step in between, written out in order (the factors do not commute):

    dh_{T-1} / dh_t = J_{T-1} J_{T-2} ... J_{t+1},    J_k = dh_k / dh_{k-1} = diag(1 - h_k**2) @ W_hh.T

Its norm behaves like rho(W_hh)**(T - 1 - t) while the tanh is in its linear regime (1 - h**2 ~ 1), and
shrinks further once the tanh saturates (1 - h**2 ~ 0).
"""
import numpy as np

from course_lib.rnn import rnn_forward
from course_lib.validation import as_array


def spectral_radius(W):
    """Largest absolute eigenvalue of the square matrix W: (H, H). returns float."""
    W = as_array("W", W, ndim=2, meaning="(H, H)")
    if W.shape[0] != W.shape[1]:
        raise ValueError(f"W must be square (H, H), got shape {W.shape}.")
    return float(np.max(np.abs(np.linalg.eigvals(W))))


def hidden_jacobian_norms(x, h0, W_xh, W_hh, b_h):
    """Spectral norm of dh_{T-1} / dh_t for every t = -1..T-1, for ONE sequence (B = 1).

    x: (T, 1, D); h0: (1, H), the initial state h_{-1}; weights as in `rnn_forward`.
    returns norms: (T + 1,) with norms[t + 1] for h_t: norms[0] for the initial state h_{-1} and
    norms[T] = 1 (dh_{T-1} / dh_{T-1} = I).
    """
    x = as_array("x", x, ndim=3, meaning="(T, 1, D)")
    if x.shape[1] != 1:
        raise ValueError(f"x must hold one sequence, shape (T, 1, D); got batch size {x.shape[1]}.")
    hs, _ = rnn_forward(x, h0, W_xh, W_hh, b_h)
    T, H = hs.shape[0], hs.shape[2]
    norms = np.empty(T + 1)
    product = np.eye(H)  # J_{T-1} ... J_{k+1} = dh_{T-1} / dh_k, extended on the right, k = T-1 down to -1
    norms[T] = 1.0
    for k in range(T - 1, -1, -1):
        jacobian = (1.0 - hs[k, 0] ** 2)[:, None] * W_hh.T  # J_k = dh_k / dh_{k-1} = diag(1 - h_k^2) W_hh^T
        product = product @ jacobian                          # now dh_{T-1} / dh_{k-1}
        norms[k] = np.linalg.norm(product, 2)
    return norms


def clip_grad_norm(grads, max_norm):
    """Scale all gradients together so that their global L2 norm is at most max_norm.

    grads: dict of arrays. returns (clipped, norm): a new dict (the input is not changed) and the
    global norm before clipping. Same rule as torch.nn.utils.clip_grad_norm_:
    scale = min(1, max_norm / (norm + 1e-6)).
    """
    if not isinstance(grads, dict):
        raise TypeError(f"grads must be a dict of arrays, got {type(grads).__name__}.")
    if not max_norm > 0:
        raise ValueError(f"max_norm must be positive, got {max_norm!r}.")
    norm = float(np.sqrt(sum(np.sum(np.square(np.asarray(g, dtype=np.float64))) for g in grads.values())))
    scale = min(1.0, max_norm / (norm + 1e-6))
    return {k: np.asarray(g) * scale for k, g in grads.items()}, norm


def scaled_recurrent_weights(H, radius, rng, kind="random"):
    """W_hh: (H, H) with spectral radius `radius`. kind: "random" (Gaussian, rescaled),
    "orthogonal" (all eigenvalues on the circle of that radius) or "identity" (radius * I)."""
    if kind == "identity":
        return radius * np.eye(H)
    if kind == "orthogonal":
        q, r = np.linalg.qr(rng.normal(size=(H, H)))
        return radius * q * np.sign(np.diag(r))
    if kind != "random":
        raise ValueError(f"kind must be 'random', 'orthogonal' or 'identity', got {kind!r}.")
    W = rng.normal(size=(H, H))
    return W * (radius / spectral_radius(W))


def jacobian_norm_curve(radius, T, H, input_scale, rng, kind="random", state_scale=0.0):
    """Norms of dh_{T-1} / dh_t (t = -1..T-1, as `hidden_jacobian_norms`) for a random RNN whose W_hh has the given spectral radius,
    fed Gaussian inputs of standard deviation `input_scale` (small: linear regime; large: saturated)."""
    W_hh = scaled_recurrent_weights(H, radius, rng, kind)
    W_xh = rng.normal(size=(1, H))
    x = rng.normal(size=(T, 1, 1)) * input_scale
    return hidden_jacobian_norms(x, rng.normal(size=(1, H)) * state_scale, W_xh, W_hh, np.zeros(H))
