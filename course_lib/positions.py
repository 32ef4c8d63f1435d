"""Chapter 08 — positional encoding (torch). Shapes time-first: x: (T, B, d_model).

Self-attention treats its input as a set: permute the time steps and its output is permuted the same
way. Adding a position code to each step's vector is what lets it use order. The sinusoidal code of
position t in dimension pair (2k, 2k + 1) is a point on a circle turning at angular speed
omega_k = 10000 ** (-2k / d_model):

    PE[t, 2k] = sin(omega_k * t),    PE[t, 2k + 1] = cos(omega_k * t)

Moving every hand on by Delta steps is one fixed rotation: PE[t + Delta] = PE[t] @ offset_rotation(Delta),
whatever t. Rotary encodings apply such rotations to queries and keys instead, so that their dot
product depends on the two positions only through the offset.
"""
import math

import torch

from course_lib.reproducibility import seeded


def sinusoidal_positions(T, d_model):
    """Sinusoidal position codes. T >= 1 positions, d_model even. returns PE: (T, d_model) float32."""
    if isinstance(T, bool) or not isinstance(T, int) or T < 1:
        raise ValueError(f"T must be a positive integer number of positions, got {T!r}.")
    if isinstance(d_model, bool) or not isinstance(d_model, int) or d_model < 2 or d_model % 2:
        raise ValueError(f"d_model must be a positive even integer (sin and cos come in pairs), got {d_model!r}.")
    t = torch.arange(T, dtype=torch.float64)[:, None]                                   # (T, 1)
    omega = torch.exp(-math.log(10000.0) * torch.arange(0, d_model, 2, dtype=torch.float64) / d_model)  # (d_model/2,)
    pe = torch.empty(T, d_model, dtype=torch.float64)
    pe[:, 0::2] = torch.sin(t * omega)
    pe[:, 1::2] = torch.cos(t * omega)
    return pe.float()


def _pair_angles(positions, d_model):
    """Angles omega_k * t: positions (T,) -> (T, d_model / 2), float64."""
    omega = torch.exp(-math.log(10000.0) * torch.arange(0, d_model, 2, dtype=torch.float64) / d_model)
    return torch.as_tensor(positions, dtype=torch.float64)[:, None] * omega


def offset_rotation(delta, d_model):
    """R: (d_model, d_model) float64 with PE[t + delta] = PE[t] @ R for every t (row vectors): a rotation by
    omega_k * delta in each dimension pair (2k, 2k + 1). It depends on the offset delta only, not on t."""
    angle = _pair_angles([delta], d_model)[0]                               # (d_model/2,)
    R = torch.zeros(d_model, d_model, dtype=torch.float64)
    even, odd = torch.arange(0, d_model, 2), torch.arange(1, d_model, 2)
    R[even, even], R[even, odd] = torch.cos(angle), -torch.sin(angle)      # new sin = sin cos + cos sin
    R[odd, even], R[odd, odd] = torch.sin(angle), torch.cos(angle)         # new cos = cos cos - sin sin
    return R


def rotary(x):
    """Rotary position encoding: x: (T, ..., d) even d -> the same shape, pair (2k, 2k + 1) of step t rotated
    by the angle omega_k * t. For rotated queries and keys, q_i . k_j depends on i and j only through j - i."""
    T, d = x.shape[0], x.shape[-1]
    if d % 2:
        raise ValueError(f"the last axis of x must be even (dimensions rotate in pairs), got {d}.")
    angle = _pair_angles(torch.arange(T), d).to(x.dtype).reshape(T, *[1] * (x.dim() - 2), d // 2)
    first, second = x[..., 0::2], x[..., 1::2]
    out = torch.empty_like(x)
    out[..., 0::2] = first * torch.cos(angle) - second * torch.sin(angle)
    out[..., 1::2] = first * torch.sin(angle) + second * torch.cos(angle)
    return out


def is_permutation_equivariant(f, x, rng, n_trials=3, atol=1e-5):
    """Does f commute with permutations of the time axis? f maps x: (T, B, d) to (T, B, d').

    rng: a torch.Generator, which draws `n_trials` random permutations (never only the identity when
    T > 1). returns True when f(x[perm]) == f(x)[perm] for all of them, to `atol`.
    """
    if not torch.is_tensor(x) or x.dim() != 3:
        raise ValueError(f"x must be a (T, B, d) tensor, got {type(x).__name__} of shape {tuple(getattr(x, 'shape', ()))}.")
    T = x.shape[0]
    out = f(x)
    for _ in range(n_trials):
        perm = torch.randperm(T, generator=rng)
        while T > 1 and torch.equal(perm, torch.arange(T)):
            perm = torch.randperm(T, generator=rng)
        if not torch.allclose(f(x[perm]), out[perm], atol=atol):
            return False
    return True


class OrderClassifier(torch.nn.Module):
    """Embedding (+ optional positions) -> one self-attention layer -> mean over time -> 2 classes.

    positions: None, "sinusoidal" or "learned" (a trainable (max_len, d_model) table).
    tokens: (T, B) ints -> logits (B, 2). Without positions the whole model is permutation-invariant.
    """

    def __init__(self, n_symbols, d_model=32, n_heads=2, positions=None, max_len=64):
        super().__init__()
        self.embed = torch.nn.Embedding(n_symbols, d_model)
        self.positions = positions
        if positions == "learned":
            self.table = torch.nn.Parameter(torch.randn(max_len, d_model) * 0.1)
        elif positions not in (None, "sinusoidal"):
            raise ValueError(f"positions must be None, 'sinusoidal' or 'learned', got {positions!r}.")
        self.attn = torch.nn.MultiheadAttention(d_model, n_heads)
        self.mlp = torch.nn.Sequential(torch.nn.Linear(d_model, d_model), torch.nn.ReLU(), torch.nn.Linear(d_model, 2))

    def position_codes(self, T):
        if self.positions == "sinusoidal":
            return sinusoidal_positions(T, self.embed.embedding_dim)
        if T > self.table.shape[0]:
            raise ValueError(f"learned positions exist for {self.table.shape[0]} steps, got T = {T}.")
        return self.table[:T]

    def forward(self, tokens):
        x = self.embed(tokens)                                   # (T, B, d_model)
        if self.positions is not None:
            x = x + self.position_codes(tokens.shape[0])[:, None, :]
        x = x + self.attn(x, x, x, need_weights=False)[0]        # self-attention, residual
        return self.mlp(x.mean(dim=0))                           # order-blind pooling over time


def which_first_task(T, B, rng, n_symbols=8):
    """Sequences of T symbols holding exactly one A (= 0) and one B (= 1) among distractors 2..n_symbols-1;
    label 1 when A comes before B. Both classes hold the same multisets of symbols, so only order tells them apart.
    rng: torch.Generator. returns tokens (T, B) int64, labels (B,) int64."""
    if T < 2:
        raise ValueError(f"T must be at least 2, got {T}.")
    tokens = torch.randint(2, n_symbols, (T, B), generator=rng)
    order = torch.argsort(torch.rand(T, B, generator=rng), dim=0)  # a random permutation of 0..T-1 per column
    pos_a, pos_b = order[0], order[1]
    cols = torch.arange(B)
    tokens[pos_a, cols] = 0
    tokens[pos_b, cols] = 1
    return tokens, (pos_a < pos_b).long()


def train_order_classifier(positions, T=12, steps=400, batch=64, lr=3e-3, seed=0, max_len=64):
    """Train an OrderClassifier on which_first_task at length T. returns the trained model."""
    with seeded(seed):
        rng = torch.Generator().manual_seed(seed)
        model = OrderClassifier(8, positions=positions, max_len=max_len)
        opt = torch.optim.Adam(model.parameters(), lr=lr)
        for _ in range(steps):
            tokens, labels = which_first_task(T, batch, rng)
            loss = torch.nn.functional.cross_entropy(model(tokens), labels)
            opt.zero_grad()
            loss.backward()
            opt.step()
        return model


def order_accuracy(model, T, seed=1, n=2000):
    """Accuracy of a trained OrderClassifier on fresh which-first sequences of length T."""
    rng = torch.Generator().manual_seed(seed)
    tokens, labels = which_first_task(T, n, rng)
    with torch.no_grad():
        return float((model(tokens).argmax(-1) == labels).float().mean())
