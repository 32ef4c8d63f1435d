"""Chapter 12 — the recurrent revival: recurrences that are linear in the state, so that a parallel scan
computes all T states at once; minGRU, diagonal state-space layers (time-invariant and selective), and
linear attention as an RNN whose state is a matrix.

Shapes time-first as everywhere: a, b, h: (T, ...) with any trailing axes; x: (T, B, D), states (T, B, H);
attention's q, k: (..., T, d_k), v: (..., T, d_v) as in chapter 09.
"""
import json
import math
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

from course_lib.positions import sinusoidal_positions
from course_lib.training import encoder_states, gru_encoder


def _check_pair(a, b):
    if not (torch.is_tensor(a) and torch.is_tensor(b)):
        raise TypeError("a and b must be torch tensors of shape (T, ...).")
    if a.shape != b.shape:
        raise ValueError(f"a and b must have the same shape (T, ...); got a {tuple(a.shape)} and b {tuple(b.shape)}.")
    if a.ndim == 0 or len(a) == 0:
        raise ValueError(f"a and b need a time axis with at least one step, shape (T, ...); got {tuple(a.shape)}.")
    if not (a.is_floating_point() or a.is_complex()) or not (b.is_floating_point() or b.is_complex()):
        raise TypeError(f"a and b must be float (or complex) tensors; got {a.dtype} and {b.dtype}.")


# ---------------------------------------------------------------------------------------------------
# The linear recurrence h_t = a_t * h_{t-1} + b_t and its parallel scan


def sequential_scan(a, b):
    """h_t = a_t * h_{t-1} + b_t from h_{-1} = 0, one step after the other (T dependent steps).
    a, b: (T, ...) -> h: (T, ...)."""
    _check_pair(a, b)
    h, states = torch.zeros_like(b[0]), []
    for a_t, b_t in zip(a, b):
        h = a_t * h + b_t
        states.append(h)
    return torch.stack(states)


def combine(first, second):
    """Two steps of the recurrence as one: applying (a1, b1), then (a2, b2), maps h to
    a2 * (a1 * h + b1) + b2 = (a2 * a1) * h + (a2 * b1 + b2). Associative, so steps can be grouped freely."""
    (a1, b1), (a2, b2) = first, second
    return a2 * a1, a2 * b1 + b2


def scan_rounds(T):
    """How many rounds `linear_scan` needs for T steps: ceil(log2 T)."""
    return max(0, math.ceil(math.log2(T))) if T > 1 else 0


def linear_scan(a, b):
    """All T states of h_t = a_t * h_{t-1} + b_t (h_{-1} = 0) in ceil(log2 T) rounds (Hillis and Steele's scan).

    After round r, position t holds the combination of the steps t - 2^(r+1) + 1 .. t: each round combines
    every position with the one `d` steps earlier (d = 1, 2, 4, ...), all positions at once. The earlier
    block goes first in `combine`. a, b: (T, ...) -> h: (T, ...)."""
    _check_pair(a, b)
    d = 1
    while d < len(b):
        # positions t >= d: (a, b)[t - d] then (a, b)[t]; the first d positions are already complete
        a_new, b_new = combine((a[:-d], b[:-d]), (a[d:], b[d:]))
        a, b = torch.cat([a[:d], a_new]), torch.cat([b[:d], b_new])
        d *= 2
    return b


def time_scans(T, channels=64, repeats=3, dtype=torch.float32, seed=0):
    """Best-of-`repeats` seconds of sequential_scan and linear_scan on random a, b: (T, channels)."""
    g = torch.Generator().manual_seed(seed)
    a, b = torch.rand(T, channels, generator=g, dtype=dtype), torch.randn(T, channels, generator=g, dtype=dtype)
    best = {}
    for name, scan in (("sequential", sequential_scan), ("parallel", linear_scan)):
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            scan(a, b)
            times.append(time.perf_counter() - start)
        best[name] = min(times)
    return best


# ---------------------------------------------------------------------------------------------------
# minGRU: gates that read only x_t, so the whole sequence is one scan


def min_gru(x, W_z, b_z, W_h, b_h, h0):
    """minGRU (Feng et al., 2024): z_t = sigmoid(x_t W_z + b_z), h~_t = x_t W_h + b_h,
    h_t = (1 - z_t) * h_{t-1} + z_t * h~_t, from h0.

    x: (T, B, D); W_z, W_h: (D, H); b_z, b_h: (H,); h0: (B, H). returns hs: (T, B, H), hs[t] the state after
    reading x[t]. Neither z_t nor h~_t reads h_{t-1}: it is linear_scan with a_t = 1 - z_t, b_t = z_t * h~_t,
    and h0 enters as (1 - z_0) * h0 added to b_0."""
    z = torch.sigmoid(x @ W_z + b_z)
    candidate = x @ W_h + b_h
    a, b = 1 - z, z * candidate
    b = torch.cat([b[:1] + a[:1] * h0, b[1:]])
    return linear_scan(a, b)


class MinGRU(torch.nn.Module):
    """One minGRU layer: x (T, B, D) -> states (T, B, H) from h0 = 0. gate_bias starts b_z there: negative
    means z near 0, a layer that starts out keeping its state (the GRU's update-gate bias, sign flipped)."""

    def __init__(self, D, H, gate_bias=0.0):
        super().__init__()
        self.gate, self.candidate = torch.nn.Linear(D, H), torch.nn.Linear(D, H)
        with torch.no_grad():
            self.gate.bias.fill_(gate_bias)

    def forward(self, x, h0=None):
        h0 = x.new_zeros(x.shape[1], self.gate.out_features) if h0 is None else h0
        return min_gru(x, self.gate.weight.T, self.gate.bias, self.candidate.weight.T, self.candidate.bias, h0)


class TwoLayerEncoder(torch.nn.Module):
    """Two recurrent layers with a ReLU MLP between them and a residual connection: the memory benchmark's
    minGRU column (the second layer's gates then depend on what the first computed, e.g. how far into the
    sequence it is) and, with GRU layers, its control column of the same shape. x (T, B, D) -> states (T, B, H)."""

    def __init__(self, first, second, H):
        super().__init__()
        self.first, self.second = first, second
        self.mlp = torch.nn.Sequential(torch.nn.Linear(H, H), torch.nn.ReLU(), torch.nn.Linear(H, H))

    def forward(self, x):
        h = encoder_states(self.first(x))
        return encoder_states(self.second(h + self.mlp(h)))


def min_gru_encoder(D, H, gate_bias=0.0):
    return TwoLayerEncoder(MinGRU(D, H, gate_bias), MinGRU(H, H, gate_bias), H)


def two_layer_gru_encoder(D, H, update_bias=0.0):
    """The same two-layer shape with chapter 05's GRU (torch.nn.GRU, update-gate bias as in gru_encoder)."""
    return TwoLayerEncoder(gru_encoder(D, H, update_bias), gru_encoder(H, H, update_bias), H)


class MinGRULM(torch.nn.Module):
    """The closing table's minGRU language model: embedding, min_gru_encoder's two layers (H = hidden) and a
    read-out. forward(x (T, B) ids, state) -> (logits (T, B, V), state), the interface of chapter 06's CharLM:
    state is the pair of last states (B, H), one per layer, so a stream or a generation carries on from it.
    Training reads a whole window with one scan per layer; generation feeds one id at a time."""

    def __init__(self, vocab_size, hidden=256, embed=32, gate_bias=-3.0):
        super().__init__()
        self.embed = torch.nn.Embedding(vocab_size, embed)
        self.first, self.second = MinGRU(embed, hidden, gate_bias), MinGRU(hidden, hidden, gate_bias)
        self.mlp = torch.nn.Sequential(torch.nn.Linear(hidden, hidden), torch.nn.ReLU(), torch.nn.Linear(hidden, hidden))
        self.readout = torch.nn.Linear(hidden, vocab_size)

    def forward(self, x, state=None):
        h0_first, h0_second = (None, None) if state is None else state
        h = self.first(self.embed(x), h0_first)
        out = self.second(h + self.mlp(h), h0_second)
        return self.readout(out), (h[-1], out[-1])


# ---------------------------------------------------------------------------------------------------
# Linear attention: causal attention without the softmax is an RNN on a (d_k, d_v) state


def causal_linear_attention(q, k, v):
    """y_t = sum_{s <= t} (q_t . k_s) v_s, computed as a recurrence on the state S_t = S_{t-1} + k_t^T v_t,
    y_t = q_t S_t. q, k: (..., T, d_k), v: (..., T, d_v) -> (..., T, d_v). No softmax, no normalisation."""
    S = q.new_zeros(*q.shape[:-2], q.shape[-1], v.shape[-1])   # (..., d_k, d_v): fixed, whatever T is
    out = []
    for t in range(q.shape[-2]):
        S = S + k[..., t, :, None] * v[..., t, None, :]
        out.append((q[..., t, None, :] @ S)[..., 0, :])
    return torch.stack(out, dim=-2)


def causal_linear_attention_parallel(q, k, v):
    """The same y as causal_linear_attention, all positions at once: (q k^T, zero above the diagonal) v.
    Costs T^2 d like softmax attention but needs no state."""
    T = q.shape[-2]
    scores = (q @ k.transpose(-2, -1)).masked_fill(~torch.ones(T, T, dtype=torch.bool, device=q.device).tril(), 0.0)
    return scores @ v


def feature_map(x):
    """phi(x) = elu(x) + 1 > 0 (Katharopoulos et al., 2020): keeps every q . k positive, so the normaliser
    sum_s phi(q_t) . phi(k_s) never vanishes."""
    return torch.nn.functional.elu(x) + 1


class LinearAttentionEncoder(torch.nn.Module):
    """The memory benchmark's linear-attention column: chapter 09's AttentionEncoder (linear input map +
    sinusoidal positions, one causal attention layer with a residual, an MLP) with softmax(q k^T / sqrt(d))
    replaced by phi(q) phi(k)^T normalised by its row sums. x (T, B, D) -> states (T, B, H)."""

    def __init__(self, D, H, n_heads=4):
        super().__init__()
        if H % n_heads:
            raise ValueError(f"H = {H} must be a multiple of n_heads = {n_heads}.")
        self.n_heads = n_heads
        self.inp, self.qkv, self.out = torch.nn.Linear(D, H), torch.nn.Linear(H, 3 * H), torch.nn.Linear(H, H)
        self.mlp = torch.nn.Sequential(torch.nn.Linear(H, H), torch.nn.ReLU(), torch.nn.Linear(H, H))

    def forward(self, x):
        T, B, _ = x.shape
        H = self.inp.out_features
        h = self.inp(x) + sinusoidal_positions(T, H)[:, None, :]
        heads = lambda m: m.reshape(T, B, self.n_heads, H // self.n_heads).permute(1, 2, 0, 3)  # (B, n, T, d)
        q, k, v = (heads(m) for m in self.qkv(h).chunk(3, dim=-1))
        q, k = feature_map(q), feature_map(k)
        numerator = causal_linear_attention_parallel(q, k, v)
        ones = torch.ones_like(v[..., :1])
        denominator = causal_linear_attention_parallel(q, k, ones)           # sum_s phi(q_t) . phi(k_s)
        y = (numerator / denominator).permute(2, 0, 1, 3).reshape(T, B, H)
        h = h + self.out(y)
        return h + self.mlp(h)


def linear_attention_encoder(D, H, n_heads=4):
    return LinearAttentionEncoder(D, H, n_heads)


# ---------------------------------------------------------------------------------------------------
# Diagonal state-space layers: the same scan, with structure; time-invariant (S4D) or selective (Mamba)


def discretise(A, delta):
    """Zero-order hold for a diagonal state matrix: A_bar = exp(delta * A). The input matrix is discretised
    by Euler's rule, B_bar = delta * B, as Mamba does. A: (..., N) negative reals, delta: (..., 1) > 0."""
    return torch.exp(delta * A)


class DiagonalSSM(torch.nn.Module):
    """A diagonal state-space layer on each of H channels with N states per channel:

        h_t = exp(delta A) * h_{t-1} + delta B x_t,      y_t = C . h_t + D x_t

    A = -exp(log_A): (H, N), always negative, so |exp(delta A)| < 1: stable for any parameter value (S4D-real's
    initialisation A_n = -(n + 1)). selective=False: delta (H,), B, C (H, N) are parameters, the same at every
    step (time-invariant, S4D). selective=True: delta_t = softplus(x_t W_delta + b), B_t = x_t W_B and
    C_t = x_t W_C depend on the input (Mamba's S6), so the layer can choose what to write and when to forget.
    x: (T, Bt, H) -> y: (T, Bt, H); one linear_scan over (T, Bt, H, N)."""

    def __init__(self, H, N=8, selective=False, dt_range=(0.01, 0.5)):
        super().__init__()
        self.selective, self.N = selective, N
        self.log_A = torch.nn.Parameter(torch.log(torch.arange(1, N + 1, dtype=torch.float32)).repeat(H, 1))
        log_dt = torch.empty(H).uniform_(math.log(dt_range[0]), math.log(dt_range[1]))
        dt_bias = log_dt.exp().expm1().log()                     # softplus^-1(dt): delta starts in dt_range
        self.D = torch.nn.Parameter(torch.ones(H))
        if selective:
            self.to_delta = torch.nn.Linear(H, H)
            with torch.no_grad():
                self.to_delta.weight.mul_(0.1)
                self.to_delta.bias.copy_(dt_bias)
            self.to_B, self.to_C = torch.nn.Linear(H, N, bias=False), torch.nn.Linear(H, N, bias=False)
        else:
            self.dt_bias = torch.nn.Parameter(dt_bias)
            self.B = torch.nn.Parameter(torch.randn(H, N) / math.sqrt(N))
            self.C = torch.nn.Parameter(torch.randn(H, N) / math.sqrt(N))

    def forward(self, x):
        A = -torch.exp(self.log_A)                                            # (H, N)
        if self.selective:
            delta = torch.nn.functional.softplus(self.to_delta(x))[..., None]  # (T, Bt, H, 1)
            B, C = self.to_B(x)[..., None, :], self.to_C(x)[..., None, :]     # (T, Bt, 1, N)
        else:
            delta = torch.nn.functional.softplus(self.dt_bias)[:, None]       # (H, 1)
            B, C = self.B, self.C                                             # (H, N)
        a = discretise(A, delta).expand(*x.shape, self.N)                     # (T, Bt, H, N)
        b = delta * B * x[..., None]
        h = linear_scan(a, b)
        return (h * C).sum(-1) + self.D * x


class SSMModel(torch.nn.Module):
    """Embedding, then `n_layers` residual blocks (layer norm, DiagonalSSM, layer norm, ReLU MLP), then a
    read-out at every position. ids (T, Bt) -> logits (T, Bt, V_out)."""

    def __init__(self, vocab_size, n_out, H=32, N=8, n_layers=2, selective=False):
        super().__init__()
        self.embed = torch.nn.Embedding(vocab_size, H)
        self.ssms = torch.nn.ModuleList(DiagonalSSM(H, N, selective) for _ in range(n_layers))
        self.mlps = torch.nn.ModuleList(torch.nn.Sequential(torch.nn.LayerNorm(H), torch.nn.Linear(H, 2 * H),
                                                            torch.nn.ReLU(), torch.nn.Linear(2 * H, H))
                                        for _ in range(n_layers))
        self.norms = torch.nn.ModuleList(torch.nn.LayerNorm(H) for _ in range(n_layers))
        self.readout = torch.nn.Linear(H, n_out)

    def forward(self, ids):
        h = self.embed(ids)
        for norm, ssm, mlp in zip(self.norms, self.ssms, self.mlps):
            h = h + ssm(norm(h))
            h = h + mlp(h)
        return self.readout(h)


def ssm_kernel(layer, T):
    """The time-invariant layer as a convolution: y_t = sum_{j=0}^{t} K[j] * x_{t-j} + D * x_t with
    K[j] = sum_n C_n * A_bar_n^j * delta * B_n per channel. layer: a DiagonalSSM(selective=False).
    returns K: (T, H). (A selective layer has no such kernel: its A_bar, B, C change with x.)"""
    if layer.selective:
        raise ValueError("a selective layer has no fixed kernel: its delta, B and C depend on the input.")
    A = -torch.exp(layer.log_A)
    delta = torch.nn.functional.softplus(layer.dt_bias)[:, None]
    powers = discretise(A, delta)[None] ** torch.arange(T, dtype=A.dtype)[:, None, None]   # (T, H, N)
    return (layer.C * powers * delta * layer.B).sum(-1)


def convolve_causal(x, K):
    """y_t = sum_{j <= t} K[j] * x_{t-j} per channel, as one conv1d. x: (T, Bt, H), K: (T, H) -> (T, Bt, H)."""
    T, Bt, H = x.shape
    signal = torch.nn.functional.pad(x.permute(1, 2, 0), (T - 1, 0))         # (Bt, H, 2T - 1), zeros before t = 0
    weight = K.T.flip(-1)[:, None, :]                                          # (H, 1, T): conv1d correlates
    return torch.nn.functional.conv1d(signal, weight, groups=H).permute(2, 0, 1)


BLANK, GO = 0, 1   # selective copy's filler and "now answer" tokens; data symbols are 2 .. n_symbols + 1


def selective_copy_task(B, rng, n_data=4, span=20, n_symbols=8):
    """The selective copy task: `n_data` random symbols at random (ordered) positions among `span` steps of
    BLANK, then `n_data` GO steps; at the GO steps the answer is the symbols in order. Where the symbols
    stand changes from sequence to sequence, so a filter fixed in time cannot pick them out.
    returns ids (span + n_data, B) int64 and targets (n_data, B) int64 in 0 .. n_symbols - 1."""
    ids = torch.full((span + n_data, B), BLANK, dtype=torch.int64)
    symbols = torch.from_numpy(rng.integers(0, n_symbols, size=(n_data, B)))
    positions = torch.from_numpy(np.sort(np.stack([rng.choice(span, n_data, replace=False) for _ in range(B)], 1), 0))
    ids.scatter_(0, positions, symbols + 2)
    ids[span:] = GO
    return ids, symbols


def train_selective_copy(selective, seed=0, steps=400, lr=3e-3, batch=64, H=32, N=8, n_layers=2, eval_size=1000,
                         n_data=4, span=20, n_symbols=8, return_model=False):
    """Train an SSMModel (time-invariant or selective) on the selective copy task with Adam; returns the share of
    answer symbols right on `eval_size` fresh sequences (and the model, with return_model=True). seed sets the
    initialisation and every draw of the task; the caller's random state is untouched."""
    from course_lib.reproducibility import seeded
    with seeded(seed):
        rng = np.random.default_rng([seed, 12])
        model = SSMModel(n_symbols + 2, n_symbols, H, N, n_layers, selective)
        opt = torch.optim.Adam(model.parameters(), lr=lr)
        for _ in range(steps):
            ids, targets = selective_copy_task(batch, rng, n_data, span, n_symbols)
            logits = model(ids)[span:]                                        # (n_data, batch, n_symbols)
            loss = torch.nn.functional.cross_entropy(logits.reshape(-1, n_symbols), targets.reshape(-1))
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
        with torch.no_grad():
            ids, targets = selective_copy_task(eval_size, rng, n_data, span, n_symbols)
            accuracy = float((model(ids)[span:].argmax(-1) == targets).double().mean())
        return (accuracy, model) if return_model else accuracy


def step_sizes(model, ids):
    """The selective first layer's step sizes delta_t (T, Bt, H) on ids (T, Bt): how much of each input it
    writes (and how much of its state it forgets) at each step."""
    with torch.no_grad():
        x = model.norms[0](model.embed(ids))
        return torch.nn.functional.softplus(model.ssms[0].to_delta(x))


# ---------------------------------------------------------------------------------------------------
# The chapter's stored study (benchmarks/linear_recurrences.py writes it; the lecture retrains seed 0)

STUDY_FILE = Path(__file__).resolve().parent.parent / "benchmarks" / "linear_recurrences.json"
SEEDS = (0, 1, 2)
VALIDATION_SEED = 1000
COPY_LEARNING_RATES = (3e-3, 1e-2, 3e-2)   # each layer's whole tuning budget, chosen on the validation seed
COPY_LAYERS = {"time-invariant (S4D-style)": False, "selective (S6)": True}


def selective_copy_study(log=print):
    """For each layer of COPY_LAYERS: accuracy on validation draws for each learning rate, the chosen one, and
    its test accuracy on every seed of SEEDS. returns a dict ready for json."""
    study = {}
    for name, selective in COPY_LAYERS.items():
        sweep = {str(lr): train_selective_copy(selective, VALIDATION_SEED, lr=lr) for lr in COPY_LEARNING_RATES}
        lr = float(max(sweep, key=sweep.get))                 # the first of equals, in grid order
        test = [train_selective_copy(selective, seed, lr=lr) for seed in SEEDS]
        study[name] = {"validation": {k: round(v, 4) for k, v in sweep.items()}, "lr": lr,
                       "test": [round(a, 4) for a in test]}
        log(f"{name}: {study[name]}")
    return study


def seconds_per_music_step(name, steps=30, repeats=2):
    """Best-of-`repeats` seconds per training step of chapter 10's music model `name` ("LSTM", "minGRU", ...)
    with its budget's batch and window, on this machine now."""
    from course_lib.closing import MUSIC_BUDGETS, MUSIC_GRIDS, make_music_model, tune_data
    from course_lib.language_model import train_language_model
    from course_lib.reproducibility import seeded
    vocab, train_ids = tune_data()[:2]
    budget = replace(MUSIC_BUDGETS.get(name) or MUSIC_GRIDS[name][0], steps=steps)
    best = math.inf
    for _ in range(repeats):
        with seeded(0):
            history = train_language_model(make_music_model(name, len(vocab), budget), train_ids, budget)
        best = min(best, history["seconds"] / budget.steps)
    return best


def equal_time_steps(lstm_steps=400):
    """How many minGRU steps take the LSTM's `lstm_steps` on this machine now, both timed in one session.
    returns (steps, {"LSTM": seconds per step, "minGRU": seconds per step})."""
    per_step = {name: seconds_per_music_step(name) for name in ("LSTM", "minGRU")}
    return round(lstm_steps * per_step["LSTM"] / per_step["minGRU"]), per_step


def load_study(path=STUDY_FILE):
    return json.loads(Path(path).read_text())



# ---------------------------------------------------------------------------------------------------
# What linear attention loses: recalling one of N stored pairs from a fixed-size state


def crosstalk(n_pairs, d=16, seed=0):
    """(signal, crosstalk): the norms, averaged over the stored keys, of the two parts of a linear read-out
    q S = (q . k_j) v_j + sum_{i != j} (q . k_i) v_i with q = k_j, for n_pairs random pairs of width d."""
    g = torch.Generator().manual_seed(seed)
    keys = torch.randn(n_pairs, d, generator=g, dtype=torch.float64)
    values = torch.randn(n_pairs, d, generator=g, dtype=torch.float64)
    scores = keys @ keys.T                                                     # (n, n): q_j . k_i
    signal = scores.diagonal()[:, None] * values
    return float(signal.norm(dim=-1).mean()), float((scores @ values - signal).norm(dim=-1).mean())


def associative_recall(n_pairs, d=16, seed=0, n_queries=256):
    """Store n_pairs random (key, value) pairs of width d, then ask n_queries times for the value of a stored key
    drawn at random (with replacement).
    Read-outs: softmax attention over the stored pairs (scores q . k / sqrt(d), chapter 09); linear attention (the
    state S = sum_i k_i^T v_i read as q S); and the memory column's variant, phi = elu + 1 features normalised:
    phi(q) (sum_i phi(k_i)^T v_i) / (phi(q) . sum_i phi(k_i)). An answer counts as right when, among the stored
    values, the one most similar (cosine) to the read-out is the asked one. Keys are random, not learned: this
    measures the read-outs themselves. returns {read-out: share right}."""
    g = torch.Generator().manual_seed(seed)
    keys = torch.randn(n_pairs, d, generator=g, dtype=torch.float64)
    values = torch.randn(n_pairs, d, generator=g, dtype=torch.float64)
    asked = torch.randint(n_pairs, (n_queries,), generator=g)
    q = keys[asked]                                                            # (n_queries, d)
    state = keys.T @ values                                                    # (d, d): whatever n_pairs is
    phi_q, phi_k = feature_map(q), feature_map(keys)
    read = {"softmax": torch.softmax(q @ keys.T / math.sqrt(d), dim=-1) @ values, "linear": q @ state,
            "linear, elu + 1": (phi_q @ (phi_k.T @ values)) / (phi_q @ phi_k.sum(0))[:, None]}
    unit = torch.nn.functional.normalize
    return {name: float(((unit(r, dim=-1) @ unit(values, dim=-1).T).argmax(-1) == asked).double().mean())
            for name, r in read.items()}
