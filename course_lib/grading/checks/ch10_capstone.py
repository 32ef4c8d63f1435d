"""Checks of chapter 10's exercises: `layer_norm` and `attention_block` (float64, so agreement is tight)."""
import torch

from course_lib.attention import causal_mask, multi_head_attention
from course_lib.grading.checks.core import Case, Exercise, Hint, as_numpy
from course_lib.transformer import attention_block, init_block_params, layer_norm



def _tensor(rng, *shape, scale=1.0, shift=0.0):
    return torch.from_numpy(shift + scale * rng.normal(size=shape))


def _norm_cases(rng, hidden):
    def case(name, T, B, d, eps=None, hidden_case=False, scale=1.0):
        args = (_tensor(rng, T, B, d, scale=scale, shift=float(rng.normal())), _tensor(rng, d, shift=1.0, scale=0.3), _tensor(rng, d, scale=0.3))
        return Case(name, args + ((eps,) if eps is not None else ()), hidden=hidden_case)
    if hidden:
        T, B, d = (int(rng.integers(2, 7)), int(rng.integers(1, 4)), int(rng.integers(2, 33)))
        return [case("hidden: random x, T >= 2", T, B, d, hidden_case=True),
                case("hidden: random x, eps = 0.1", T, B, d, eps=0.1, hidden_case=True)]
    constant = torch.full((2, 3, 4), 7.0)
    return [case("random (T, B, d) = (5, 2, 8)", 5, 2, 8),
            case("large values, (T, B, d) = (3, 2, 16)", 3, 2, 16, scale=1e4),  # eps is negligible here, on every seed
            case("eps = 0.5 is inside the square root", 4, 1, 6, eps=0.5),
            Case("a constant vector becomes beta (eps keeps it finite)", (constant, torch.ones(4, dtype=torch.float64) * 2, torch.arange(4.0, dtype=torch.float64))),
            Case("gamma of the wrong size raises ValueError", (_tensor(rng, 2, 2, 4), torch.ones(3, dtype=torch.float64), torch.zeros(3, dtype=torch.float64)), raises=(ValueError,))]


def _block_params(rng, d):
    g = torch.Generator().manual_seed(int(rng.integers(2 ** 31)))
    attention, _ = init_block_params(d, g, dtype=torch.float64)
    for name in list(attention):  # non-trivial layer norm and biases, so that every parameter matters
        if not name.startswith("W_"):
            attention[name] = attention[name] + 0.3 * torch.randn(d, generator=g, dtype=torch.float64)
    return attention


def _block_cases(rng, hidden):
    def case(name, T, B, d, heads, hidden_case=False):
        return Case(name, (_tensor(rng, T, B, d), _block_params(rng, d), heads), hidden=hidden_case)
    if hidden:
        heads = int(rng.choice([1, 2, 4]))
        d, T, B = heads * int(rng.integers(2, 6)), int(rng.integers(2, 8)), int(rng.integers(1, 4))
        return [case("hidden: random x, T >= 2", T, B, d, heads, True),
                case("hidden: several heads, B >= 2", 6, 2, 8, 2, True)]
    return [case("(T, B, d_model) = (5, 2, 8), 2 heads", 5, 2, 8, 2),
            case("(T, B, d_model) = (7, 3, 12), 3 heads", 7, 3, 12, 3),
            case("one position, T = 1", 1, 2, 8, 4)]


def _unbiased_variance(x, gamma, beta, eps=1e-5):
    mean = x.mean(-1, keepdim=True)
    return (x - mean) / torch.sqrt(x.var(-1, keepdim=True, unbiased=True) + eps) * gamma + beta


def _eps_outside(x, gamma, beta, eps=1e-5):
    mean = x.mean(-1, keepdim=True)
    return (x - mean) / (x.std(-1, keepdim=True, unbiased=False) + eps) * gamma + beta


def _over_time(x, gamma, beta, eps=1e-5):
    mean, var = x.mean(0, keepdim=True), x.var(0, keepdim=True, unbiased=False)
    return (x - mean) / torch.sqrt(var + eps) * gamma + beta


def _post_norm(x, params, n_heads):
    out, _ = multi_head_attention(x, params, n_heads, mask=causal_mask(x.shape[0]))
    return layer_norm(x + out, params["ln_gamma"], params["ln_beta"])


def _no_residual(x, params, n_heads):
    return attention_block(x, params, n_heads) - x


def _not_causal(x, params, n_heads):
    out, _ = multi_head_attention(layer_norm(x, params["ln_gamma"], params["ln_beta"]), params, n_heads)
    return x + out


def _residual_of_normed(x, params, n_heads):
    normed = layer_norm(x, params["ln_gamma"], params["ln_beta"])
    return normed + multi_head_attention(normed, params, n_heads, mask=causal_mask(x.shape[0]))[0]


EXERCISES = [
    Exercise(
        name="layer_norm", reference=layer_norm, points=1, make_cases=_norm_cases, select=as_numpy, atol=1e-8, rtol=1e-6,
        hints=[
            Hint(_unbiased_variance, "use the biased variance (divide by d_model, `unbiased=False`), as torch's layer_norm does"),
            Hint(_eps_outside, "add eps to the variance *inside* the square root: sqrt(var + eps)"),
            Hint(_over_time, "normalise each vector over its last axis (d_model), not over time"),
            Hint(lambda x, g, b, eps=1e-5: layer_norm(x, torch.ones_like(g), torch.zeros_like(b), eps),
                 "finish with the learned scale and shift: normalised * gamma + beta"),
            Hint(lambda x, g, b, eps=1e-5: layer_norm(x, b, g, eps), "gamma scales and beta shifts: normalised * gamma + beta, not the other way round"),
        ],
    ),
    Exercise(
        name="attention_block", reference=attention_block, points=2, make_cases=_block_cases, select=as_numpy, atol=1e-8, rtol=1e-6,
        hints=[
            Hint(_post_norm, "pre-norm: normalise the block's *input* to attention, and add the un-normalised x back"),
            Hint(_no_residual, "add the residual: return x + attention(...)"),
            Hint(_not_causal, "pass the causal mask: a position may not attend to later positions"),
            Hint(_residual_of_normed, "the residual is the block's input x itself, not its normalised version"),
        ],
    ),
]
