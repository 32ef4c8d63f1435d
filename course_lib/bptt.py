"""Chapter 03 — backpropagation through time, by hand, in NumPy (float64).

The loss L = sum_t L_t depends on the shared weights through every step, so each weight's gradient is a
sum of one contribution per step. Going backwards from t = T-1 to 0, the gradient reaching h_t is what
its own output sent (dhs[t]) plus what the next step sent back through W_hh:

    dh_t   = dhs[t] + da_{t+1} @ W_hh.T               (da_{T} = 0)
    da_t   = dh_t * (1 - h_t**2)                      (through tanh)
    dW_xh += x_t.T @ da_t,  dW_hh += h_{t-1}.T @ da_t,  db_h += sum_b da_t,  dx_t = da_t @ W_xh.T

with h_t the state after reading x_t and h_{-1} the initial state (the argument h0), whose gradient is
da_0 @ W_hh.T. The chain starts at the loss: dlogits = (softmax(logits) - onehot(targets)) / B
(`sequence_loss_backward`), then dhs[t] = dlogits[t] @ W_hy.T (`logits_backward`).

Gradient checks: `numerical_gradient` (central differences) and `relative_error`; `torch_model_grads`
recomputes everything with torch autograd on the same weights.
"""
import numpy as np

from course_lib.gradients import clip_grad_norm
from course_lib.rnn import log_softmax, rnn_forward, rnn_logits, sequence_loss, step_losses
from course_lib.validation import as_array, as_index_array

GRAD_NAMES = ("x", "h0", "W_xh", "W_hh", "b_h")


def rnn_step_backward(dh_next, cache):
    """Backward through one step h_t = tanh(x_t @ W_xh + h_prev @ W_hh + b_h).

    dh_next: (B, H) gradient of the loss with respect to h_t (this step's output; h_prev is h_{t-1}).
    cache: (x_t, h_prev, W_xh, W_hh, h_t) from `rnn_step`.
    returns {"x_t": (B, D), "h_prev": (B, H), "W_xh": (D, H), "W_hh": (H, H), "b_h": (H,)}.
    """
    x_t, h_prev, W_xh, W_hh, h_t = cache
    dh_next = as_array("dh_next", dh_next, ndim=2, meaning="(B, H)")
    if dh_next.shape != h_t.shape:
        raise ValueError(f"dh_next must have the shape of h_t, (B, H) = {h_t.shape}, got {dh_next.shape}.")
    da = dh_next * (1.0 - h_t ** 2)  # (B, H): gradient before the tanh
    return {"x_t": da @ W_xh.T, "h_prev": da @ W_hh.T, "W_xh": x_t.T @ da, "W_hh": h_prev.T @ da, "b_h": da.sum(axis=0)}


def rnn_backward(dhs, cache):
    """Full BPTT through the recurrent part.

    dhs: (T, B, H) gradient of the loss with respect to each h_t through that step's output only.
    cache: from `rnn_forward`. returns {"x": (T, B, D), "h0": (B, H), "W_xh", "W_hh", "b_h"}, where "h0" is
    the gradient with respect to the initial state h_{-1}.
    """
    steps = cache["steps"]
    dhs = as_array("dhs", dhs, ndim=3, meaning="(T, B, H)")
    if dhs.shape != cache["hs"].shape:
        raise ValueError(f"dhs must have the shape of hs, (T, B, H) = {cache['hs'].shape}, got {dhs.shape}.")
    grads = {"x": np.zeros_like(cache["x"]), "W_xh": np.zeros_like(cache["W_xh"]),
             "W_hh": np.zeros_like(cache["W_hh"]), "b_h": np.zeros_like(cache["b_h"])}
    dh_from_later = np.zeros_like(cache["h0"])
    for t in reversed(range(len(steps))):
        step = rnn_step_backward(dhs[t] + dh_from_later, steps[t])
        grads["x"][t] = step["x_t"]
        for name in ("W_xh", "W_hh", "b_h"):
            grads[name] += step[name]  # the shared weight collects one contribution per step
        dh_from_later = step["h_prev"]
    grads["h0"] = dh_from_later
    return grads


def logits_backward(dlogits, cache):
    """Backward through logits = hs @ W_hy + b_y at every step.

    dlogits: (T, B, V); cache: (hs (T, B, H), W_hy (H, V)).
    returns {"hs": (T, B, H), "W_hy": (H, V), "b_y": (V,)}.
    """
    hs, W_hy = cache
    dlogits = as_array("dlogits", dlogits, ndim=3, meaning="(T, B, V)")
    if dlogits.shape != hs.shape[:2] + (W_hy.shape[1],):
        raise ValueError(f"dlogits must have shape (T, B, V) = {hs.shape[:2] + (W_hy.shape[1],)}, got {dlogits.shape}.")
    return {"hs": dlogits @ W_hy.T, "W_hy": np.einsum("tbh,tbv->hv", hs, dlogits), "b_y": dlogits.sum(axis=(0, 1))}


def sequence_loss_backward(logits, targets):
    """Gradient of `sequence_loss` (cross-entropy summed over time, averaged over the batch) w.r.t. the logits.

    logits: (T, B, V); targets: (T, B) integers in [0, V). returns dlogits: (T, B, V).

    Each term -log softmax(y_t[b])[k] = -y_t[b, k] + log sum_j exp(y_t[b, j]) has derivative
    softmax(y_t[b]) - onehot(k) with respect to y_t[b]; the 1/B of the batch average scales every term,
    and the sum over time adds no factor (each step's logits appear in one term only):

        dlogits = (softmax(logits) - onehot(targets)) / B        (softmax over the last axis, V)
    """
    logits = as_array("logits", logits, ndim=3, meaning="(T, B, V)").astype(np.float64, copy=False)
    targets = as_index_array("targets", targets, logits.shape[2])
    if targets.shape != logits.shape[:2]:
        raise ValueError(f"targets must have shape (T, B) = {logits.shape[:2]} to match logits {logits.shape}, got {targets.shape}.")
    T, B, _ = logits.shape
    probs = np.exp(log_softmax(logits))  # (T, B, V), a new array, stable for large logits
    probs[np.arange(T)[:, None], np.arange(B), targets] -= 1.0  # minus the one-hot
    return probs / B


def model_loss_and_grads(params, x, h0, targets):
    """Loss of the full model (RNN + output layer) and its gradients for every parameter and h0.

    params: {"W_xh", "W_hh", "b_h", "W_hy", "b_y"}; x: (T, B, D); h0: (B, H); targets: (T, B).
    returns (loss, grads, hs) with grads keyed like params plus "h0".
    """
    hs, cache = rnn_forward(x, h0, params["W_xh"], params["W_hh"], params["b_h"])
    logits = rnn_logits(hs, params["W_hy"], params["b_y"])
    loss = sequence_loss(logits, targets)
    out = logits_backward(sequence_loss_backward(logits, targets), (hs, params["W_hy"]))
    rec = rnn_backward(out["hs"], cache)
    grads = {"W_xh": rec["W_xh"], "W_hh": rec["W_hh"], "b_h": rec["b_h"], "h0": rec["h0"],
             "W_hy": out["W_hy"], "b_y": out["b_y"]}
    return loss, grads, hs


def numerical_gradient(f, x, eps=1e-5):
    """Central-difference gradient of the scalar function f at x: (f(x + eps e_i) - f(x - eps e_i)) / 2 eps.

    x: float array of any shape; it is changed during the computation and restored. returns: x's shape.
    The error is O(eps**2) plus rounding O(1e-16 / eps): eps = 1e-5 balances them in float64.
    """
    x = as_array("x", x)
    if not np.issubdtype(x.dtype, np.floating):
        raise TypeError(f"x must be a float array (perturbing integers by eps is meaningless), got dtype {x.dtype}.")
    grad = np.zeros_like(x, dtype=np.float64)
    it = np.nditer(x, flags=["multi_index"])
    for _ in it:
        i = it.multi_index
        original = x[i]
        x[i] = original + eps
        f_plus = f(x)
        x[i] = original - eps
        f_minus = f(x)
        x[i] = original
        grad[i] = (f_plus - f_minus) / (2 * eps)
    return grad


def relative_error(a, b, floor=1e-8):
    """max |a - b| / max(|a| + |b|, floor), elementwise, as a float. The floor keeps 0 vs 0 from dividing by zero.

    For float64 gradients: ~1e-7 or smaller from central differences means correct; 1e-2 or larger means a bug.
    """
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"a and b must have the same shape, got {a.shape} and {b.shape}.")
    if a.size == 0:
        return 0.0
    return float(np.max(np.abs(a - b) / np.maximum(floor, np.abs(a) + np.abs(b))))


def torch_model_grads(params, x, h0, targets):
    """The same loss and gradients, computed by torch autograd in float64 from the same arrays."""
    import torch
    p = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in params.items()}
    h = torch.tensor(h0, dtype=torch.float64, requires_grad=True)
    xs, h_prev, hs = torch.from_numpy(np.asarray(x, dtype=np.float64)), h, []
    for t in range(xs.shape[0]):
        h_prev = torch.tanh(xs[t] @ p["W_xh"] + h_prev @ p["W_hh"] + p["b_h"])
        hs.append(h_prev)
    logits = torch.stack(hs) @ p["W_hy"] + p["b_y"]
    T, B, V = logits.shape
    loss = torch.nn.functional.cross_entropy(logits.reshape(T * B, V), torch.as_tensor(targets).reshape(-1), reduction="sum") / B
    loss.backward()
    grads = {k: v.grad.numpy() for k, v in p.items()}
    grads["h0"] = h.grad.numpy()
    return loss.item(), grads


class Adam:
    """Adam for a dict of NumPy arrays, updated in place: m and v are running means of g and g**2."""

    def __init__(self, params, lr=1e-2, betas=(0.9, 0.999), eps=1e-8):
        self.params, self.lr, self.betas, self.eps, self.t = params, lr, betas, eps, 0
        self.m = {k: np.zeros_like(v) for k, v in params.items()}
        self.v = {k: np.zeros_like(v) for k, v in params.items()}

    def step(self, grads):
        self.t += 1
        b1, b2 = self.betas
        for k, p in self.params.items():
            self.m[k] = b1 * self.m[k] + (1 - b1) * grads[k]
            self.v[k] = b2 * self.v[k] + (1 - b2) * grads[k] ** 2
            m_hat, v_hat = self.m[k] / (1 - b1 ** self.t), self.v[k] / (1 - b2 ** self.t)
            p -= self.lr * m_hat / (np.sqrt(v_hat) + self.eps)


def train_rnn(params, next_batch, steps, truncation=None, lr=1e-2, max_norm=5.0):
    """Train an RNN + output layer with the hand-written gradients only (Adam, clipped).

    params: dict from `init_rnn_params`, updated in place. next_batch(): returns (x (T, B, D), targets (T, B)).
    truncation: None for full BPTT; else K: cut each sequence into chunks of K steps, carry the hidden
    state across chunks but not the gradient, and update after every chunk (truncated BPTT).
    returns {"losses": per-update loss per step (list), "updates": int, "seconds_per_update": float}.
    """
    import time
    opt, losses, seconds = Adam(params, lr=lr), [], 0.0
    for _ in range(steps):
        x, targets = next_batch()
        K = truncation or x.shape[0]
        h = np.zeros((x.shape[1], params["W_hh"].shape[0]))
        for start in range(0, x.shape[0], K):
            tic = time.perf_counter()
            loss, grads, hs = model_loss_and_grads(params, x[start:start + K], h, targets[start:start + K])
            clipped, _ = clip_grad_norm({k: grads[k] for k in params}, max_norm)  # chapter 04 explains why
            opt.step(clipped)
            seconds += time.perf_counter() - tic
            h = hs[-1]  # the state goes on to the next chunk; its gradient does not
            losses.append(loss / len(hs))
    return {"losses": losses, "updates": len(losses), "seconds_per_update": seconds / max(1, len(losses))}


def delayed_echo_batch(lag, T, B, rng):
    """The delayed-echo task: random bits in, the bit from `lag` steps earlier out.

    returns (x (T, B, 2) one-hot bits, targets (T, B)); targets[t] = bit[t - lag] (0 for t < lag).
    """
    bits = rng.integers(0, 2, size=(T, B))
    targets = np.zeros_like(bits)
    targets[lag:] = bits[:-lag]
    return np.eye(2)[bits], targets


def delayed_echo_accuracy(params, lag, rng, T=48, B=256):
    """Share of steps t >= lag where the model's most likely output is the bit from `lag` steps earlier."""
    x, targets = delayed_echo_batch(lag, T, B, rng)
    hs, _ = rnn_forward(x, np.zeros((B, params["W_hh"].shape[0])), params["W_xh"], params["W_hh"], params["b_h"])
    predictions = rnn_logits(hs, params["W_hy"], params["b_y"]).argmax(axis=-1)
    return float((predictions[lag:] == targets[lag:]).mean())


def stream_bits_per_char(params, ids):
    """Bits per character of a model reading one long token stream from a zero state. ids: (N,) ints."""
    V = params["W_xh"].shape[0]
    x = np.eye(V)[ids[:-1]][:, None, :]  # (N - 1, 1, V): a batch of one
    hs, _ = rnn_forward(x, np.zeros((1, params["W_hh"].shape[0])), params["W_xh"], params["W_hh"], params["b_h"])
    nats = sequence_loss(rnn_logits(hs, params["W_hy"], params["b_y"]), ids[1:, None]) / (len(ids) - 1)
    return nats / np.log(2)


__all__ = ["rnn_step_backward", "rnn_backward", "logits_backward", "sequence_loss_backward", "model_loss_and_grads",
           "numerical_gradient", "relative_error", "torch_model_grads", "Adam", "step_losses", "train_rnn",
           "delayed_echo_batch", "delayed_echo_accuracy", "stream_bits_per_char"]
