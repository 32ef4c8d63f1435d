"""Chapter 02 — the vanilla RNN cell in NumPy (float64), its output layer and the loss summed over time.

    h_t = tanh(x_t @ W_xh + h_{t-1} @ W_hh + b_h)        x_t: (B, D), h_t: (B, H)
    y_t = h_t @ W_hy + b_y                               y_t: (B, V) logits
    L   = (1/B) sum_b sum_t -log softmax(y_t[b])[target_t[b]]

for t = 0..T-1, where W_xh: (D, H), W_hh: (H, H), b_h: (H,), W_hy: (H, V), b_y: (V,). h_t (hs[t] in code) is
the state after reading x_t; the initial state h_{-1} is the argument named h0. The same five arrays serve
every time step. Forward functions return `(out, cache)`; chapter 03's backward pass reads the caches.
"""
import numpy as np

from course_lib.validation import as_index_array, real_array, shapes


@shapes(W_xh="(D, H)", W_hh="(H, H)", b_h="(H,)", x_t="(B, D)", h_prev="(B, H)")
def rnn_step(x_t, h_prev, W_xh, W_hh, b_h):
    """One time step of the RNN cell.

    x_t: (B, D) inputs at this step; h_prev: (B, H) previous hidden state h_{t-1} (h0 at t = 0);
    W_xh: (D, H); W_hh: (H, H); b_h: (H,).
    returns (h_t, cache): h_t (B, H); cache = (x_t, h_prev, W_xh, W_hh, h_t), the very arrays used.
    """
    h_t = np.tanh(x_t @ W_xh + h_prev @ W_hh + b_h)
    return h_t, (x_t, h_prev, W_xh, W_hh, h_t)


@shapes(W_xh="(D, H)", W_hh="(H, H)", b_h="(H,)", x="(T, B, D)", h0="(B, H)")
def rnn_forward(x, h0, W_xh, W_hh, b_h):
    """Run the cell over a whole sequence, with the same weights at every step.

    x: (T, B, D) inputs, time first; h0: (B, H), the initial state h_{-1}; weights as in `rnn_step`.
    returns (hs, cache): hs (T, B, H) with hs[t] = h_t, the state after reading x[t]; cache = {"x", "h0", "W_xh", "W_hh", "b_h",
    "hs", "steps"} where steps[t] is rnn_step's cache at step t.
    """
    h, steps = h0, []
    for x_t in x:
        h, step_cache = rnn_step.unchecked(x_t, h, W_xh, W_hh, b_h)  # the arrays were checked once, above
        steps.append(step_cache)
    hs = np.stack([cache[-1] for cache in steps]) if steps else np.empty((0, *h0.shape))
    return hs, {"x": x, "h0": h0, "W_xh": W_xh, "W_hh": W_hh, "b_h": b_h, "hs": hs, "steps": steps}


@shapes(hs="(T, B, H)", W_hy="(H, V)", b_y="(V,)")
def rnn_logits(hs, W_hy, b_y):
    """Output layer at every step: y_t = h_t @ W_hy + b_y.

    hs: (T, B, H); W_hy: (H, V); b_y: (V,). returns logits (T, B, V).
    """
    return hs @ W_hy + b_y


def log_softmax(logits, axis=-1):
    """log softmax along `axis`, stable for large logits (the maximum is subtracted first)."""
    shifted = logits - logits.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


def step_losses(logits, targets):
    """Cross-entropy at every step, averaged over the batch: returns (T,). Their sum is sequence_loss."""
    logits = real_array("logits", logits, 3, "(T, B, V)")
    targets = as_index_array("targets", targets, logits.shape[2])
    if targets.shape != logits.shape[:2]:
        raise ValueError(f"targets must have shape (T, B) = {logits.shape[:2]} to match logits {logits.shape}, got {targets.shape}.")
    logp = log_softmax(logits)
    picked = np.take_along_axis(logp, targets[..., None], axis=-1)[..., 0]  # (T, B)
    return -picked.mean(axis=1)


def sequence_loss(logits, targets):
    """Cross-entropy summed over time and averaged over the batch.

    logits: (T, B, V); targets: (T, B) integers in [0, V). returns a float.
    """
    return float(step_losses(logits, targets).sum())


def init_rnn_params(D, H, V, rng, scale=None):
    """Random weights for a D -> H -> V RNN. scale defaults to 1/sqrt(fan-in) per matrix.

    returns {"W_xh": (D, H), "W_hh": (H, H), "b_h": (H,), "W_hy": (H, V), "b_y": (V,)}.
    """
    def init(fan_in, shape):
        return rng.normal(size=shape) * (scale if scale is not None else 1.0 / np.sqrt(fan_in))
    return {"W_xh": init(D, (D, H)), "W_hh": init(H, (H, H)), "b_h": np.zeros(H),
            "W_hy": init(H, (H, V)), "b_y": np.zeros(V)}


def count_params(params):
    """Total number of numbers in a dict (or list of dicts) of weight arrays."""
    if isinstance(params, dict):
        return int(sum(np.size(p) for p in params.values()))
    return int(sum(count_params(p) for p in params))


def init_per_position_params(T, D, H, rng):
    """A model WITHOUT weight sharing, for contrast: its own (W_xh, W_hh, b_h) at each of T positions."""
    return [{"W_xh": rng.normal(size=(D, H)) / np.sqrt(D), "W_hh": rng.normal(size=(H, H)) / np.sqrt(H),
             "b_h": np.zeros(H)} for _ in range(T)]


def per_position_forward(x, h0, params):
    """Like rnn_forward, but step t uses params[t]. It cannot read more steps than it has weights for.

    x: (T, B, D); h0: (B, H), the initial state h_{-1}; params: list of per-position weight dicts.
    returns hs (T, B, H).
    """
    x = real_array("x", x, 3, "(T, B, D)")
    if x.shape[0] > len(params):
        raise ValueError(f"this per-position model has weights for {len(params)} steps, got a sequence of {x.shape[0]}.")
    h, hs = h0, []
    for t in range(x.shape[0]):
        h, _ = rnn_step(x[t], h, params[t]["W_xh"], params[t]["W_hh"], params[t]["b_h"])
        hs.append(h)
    return np.stack(hs)


def torch_rnn_from_params(W_xh, W_hh, b_h):
    """A float64 `torch.nn.RNN` holding the same weights.

    torch stores weight_ih as (H, D) and weight_hh as (H, H) and computes x @ weight_ih.T, so it gets the
    transposes; it has two biases, b_ih + b_hh, which together play the role of b_h (b_hh is set to 0).
    """
    import torch
    D, H = np.shape(W_xh)
    rnn = torch.nn.RNN(D, H, nonlinearity="tanh", dtype=torch.float64)
    with torch.no_grad():
        rnn.weight_ih_l0.copy_(torch.from_numpy(np.ascontiguousarray(np.transpose(W_xh))))
        rnn.weight_hh_l0.copy_(torch.from_numpy(np.ascontiguousarray(np.transpose(W_hh))))
        rnn.bias_ih_l0.copy_(torch.from_numpy(np.asarray(b_h, dtype=np.float64)))
        rnn.bias_hh_l0.zero_()
    return rnn
