"""Chapter 05 — the LSTM cell in NumPy (float64), in the course's row-vector convention.

One weight matrix W: (D + H, 4H) acts on the concatenation [x_t, h_{t-1}]: (B, D + H),

    z = concat([x_t, h_{t-1}]) @ W + b       z: (B, 4H), b: (4H,) playing the role of torch's b_ih + b_hh

and z's column blocks, in torch's order, are the pre-activations of

    i = sigmoid(z[:, 0:H])     input gate   ("store": how much of the candidate to write)
    f = sigmoid(z[:, H:2H])    forget gate  ("forget": how much of the old cell state to keep)
    g = tanh(z[:, 2H:3H])      candidate    (what could be written)
    o = sigmoid(z[:, 3H:4H])   output gate  ("output": how much of the cell to show)

    c_t = f * c_{t-1} + i * g       ("update": the cell state, an additive conveyor belt)
    h_t = o * tanh(c_t)

for t = 0..T-1; (h_t, c_t) is the state after reading x_t and (h_{-1}, c_{-1}) the initial state, the
arguments h0, c0 (the course's notation, chapter 00).
"""
import numpy as np

from course_lib.validation import real_array, shapes

GATES = ("i", "f", "g", "o")


def sigmoid(z):
    return 0.5 * (1.0 + np.tanh(0.5 * z))  # the same function, without overflow for large |z|


@shapes(x_t="(B, D)", W="(D + H, 4H)", b="(4H,)", h_prev="(B, H)", c_prev="(B, H)")
def lstm_step(x_t, h_prev, c_prev, W, b):
    """One LSTM step.

    x_t: (B, D); h_prev, c_prev: (B, H); W: (D + H, 4H) with gate blocks i, f, g, o; b: (4H,).
    returns (h_t, c_t, cache): h_t, c_t (B, H); cache = {"xh", "c_prev", "i", "f", "g", "o", "c_t", "W"}.
    """
    H = h_prev.shape[1]
    xh = np.concatenate([x_t, h_prev], axis=1)            # (B, D + H)
    z = xh @ W + b                                        # (B, 4H)
    i, f, o = sigmoid(z[:, :H]), sigmoid(z[:, H:2 * H]), sigmoid(z[:, 3 * H:])
    g = np.tanh(z[:, 2 * H:3 * H])
    c_t = f * c_prev + i * g                              # the additive update
    h_t = o * np.tanh(c_t)
    return h_t, c_t, {"xh": xh, "c_prev": c_prev, "i": i, "f": f, "g": g, "o": o, "c_t": c_t, "W": W}


def lstm_forward(x, h0, c0, W, b):
    """Run the LSTM over a sequence with the same W, b at every step.

    x: (T, B, D), T >= 1; h0, c0: (B, H), the initial state h_{-1}, c_{-1}; W: (D + H, 4H); b: (4H,).
    returns (hs, (h_last, c_last)): hs (T, B, H) with hs[t] = h_t; h_last = h_{T-1}, c_last = c_{T-1}: (B, H).
    """
    hs, (h, c), _ = lstm_trace(x, h0, c0, W, b)
    return hs, (h, c)


@shapes(x="(T, B, D)", W="(D + H, 4H)", b="(4H,)", h0="(B, H)", c0="(B, H)")
def lstm_trace(x, h0, c0, W, b):
    """lstm_forward, plus every step's gates: returns (hs, (h_{T-1}, c_{T-1}), gates) where
    gates = {"i", "f", "g", "o", "c"}, each (T, B, H), entry t for step t."""
    h, c = h0, c0
    hs, trace = [], {k: [] for k in GATES + ("c",)}
    for x_t in x:
        h, c, cache = lstm_step.unchecked(x_t, h, c, W, b)  # the arrays were checked once, above
        hs.append(h)
        for k in GATES:
            trace[k].append(cache[k])
        trace["c"].append(c)
    if not hs:
        raise ValueError("x must have at least one time step, got T = 0.")
    return np.stack(hs), (h, c), {k: np.stack(v) for k, v in trace.items()}


def init_lstm_params(D, H, rng, forget_bias=0.0):
    """W: (D + H, 4H) with 1/sqrt(D + H) scale, b: (4H,) zeros except the forget block = forget_bias."""
    W = rng.normal(size=(D + H, 4 * H)) / np.sqrt(D + H)
    b = np.zeros(4 * H)
    b[H:2 * H] = forget_bias
    return W, b


def torch_lstm_from_params(W, b):
    """A float64 torch.nn.LSTM with the same weights.

    torch computes x @ weight_ih.T + h @ weight_hh.T + bias_ih + bias_hh with weight_ih: (4H, D) and
    weight_hh: (4H, H), gate blocks in the same order i, f, g, o. So weight_ih = W[:D].T,
    weight_hh = W[D:].T, and b goes in bias_ih with bias_hh = 0.
    """
    import torch
    H = np.shape(W)[1] // 4
    D = np.shape(W)[0] - H
    lstm = torch.nn.LSTM(D, H, dtype=torch.float64)
    with torch.no_grad():
        lstm.weight_ih_l0.copy_(torch.from_numpy(np.ascontiguousarray(W[:D].T)))
        lstm.weight_hh_l0.copy_(torch.from_numpy(np.ascontiguousarray(W[D:].T)))
        lstm.bias_ih_l0.copy_(torch.from_numpy(np.asarray(b, dtype=np.float64)))
        lstm.bias_hh_l0.zero_()
    return lstm


def lstm_state_jacobian_norms(x, W, b, h0=None, c0=None):
    """For ONE sequence x: (T, 1, D), the spectral norms of the full Jacobian d c_{T-1} / d c_t for
    t = -1..T-1 (h_t held, as a state of its own), computed by torch autograd through every path (the cell
    state *and* the hidden state h), on torch's LSTM with the same weights (`torch_lstm_from_params`).

    returns norms: (T + 1,) with norms[t + 1] for c_t: norms[0] for the initial state c_{-1} (the argument
    c0, zeros by default; h0 likewise) and norms[T] = 1 (d c_{T-1} / d c_{T-1} = I).
    """
    import torch
    lstm = torch_lstm_from_params(W, b)
    T, H = np.shape(x)[0], lstm.hidden_size
    x = torch.from_numpy(np.asarray(x, dtype=np.float64))
    h, c = (torch.zeros(1, 1, H, dtype=torch.float64) if s is None else torch.from_numpy(np.asarray(s, dtype=np.float64))[None]
            for s in (h0, c0))
    # A zero added to each c_t before the next step reads it: the gradient at that zero is d c_{T-1} / d c_t,
    # so one forward pass and H backward passes (one per row) give every Jacobian at once.
    probes = [torch.zeros(1, 1, H, dtype=torch.float64, requires_grad=True) for _ in range(T + 1)]
    c = c + probes[0]
    for k in range(T):
        _, (h, c) = lstm(x[k:k + 1], (h, c))
        c = c + probes[k + 1]
    rows = [torch.autograd.grad(c[0, 0, j], probes, retain_graph=True) for j in range(H)]
    return np.array([torch.linalg.matrix_norm(torch.stack([row[t][0, 0] for row in rows]), ord=2).item()
                     for t in range(T + 1)])


def lstm_belt_norms(x, W, b, h0=None, c0=None):
    """The belt-only part of d c_{T-1} / d c_t for ONE sequence x: (T, 1, D): the direct path
    c_{k-1} -> c_k is diag(f_k), so along the belt d c_{T-1} / d c_t = diag(f_{T-1} * ... * f_{t+1}),
    whose spectral norm is its largest entry.

    returns norms: (T + 1,) indexed like `lstm_state_jacobian_norms` (norms[t + 1] for c_t, norms[T] = 1).
    """
    x = real_array("x", x, 3, "(T, 1, D)")
    if x.shape[1] != 1:
        raise ValueError(f"x must hold one sequence, shape (T, 1, D); got batch size {x.shape[1]}.")
    H = np.shape(W)[1] // 4
    h0 = np.zeros((1, H)) if h0 is None else h0
    c0 = np.zeros((1, H)) if c0 is None else c0
    f = lstm_trace(x, h0, c0, W, b)[2]["f"][:, 0]                 # (T, H): f_0 .. f_{T-1}
    products = np.cumprod(f[::-1], axis=0)[::-1]                  # products[k] = f_k * ... * f_{T-1}
    return np.append(products.max(axis=1), 1.0)                  # for c_t: f_{t+1} * ... * f_{T-1}


def params_from_torch_lstm(lstm):
    """(W, b) in the course's layout from a one-layer torch.nn.LSTM: the inverse of torch_lstm_from_params."""
    W = np.concatenate([lstm.weight_ih_l0.detach().double().numpy().T, lstm.weight_hh_l0.detach().double().numpy().T])
    b = (lstm.bias_ih_l0 + lstm.bias_hh_l0).detach().double().numpy()
    return W, b
