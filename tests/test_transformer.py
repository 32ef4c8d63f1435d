"""Chapter 10's from-scratch pieces against torch's own modules, and the attention language model's interface."""
import pytest
import torch

from course_lib.transformer import (AttentionLM, KVCache, attention_block, cached_attention_block, init_block_params,
                                    layer_norm, mlp_block, torch_attention_block)


def test_layer_norm_equals_torch_in_value_and_gradient():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(6, 3, 10, generator=g, dtype=torch.float64, requires_grad=True)
    gamma = torch.randn(10, generator=g, dtype=torch.float64, requires_grad=True)
    beta = torch.randn(10, generator=g, dtype=torch.float64, requires_grad=True)
    ours = layer_norm(x, gamma, beta, eps=1e-5)
    theirs = torch.nn.functional.layer_norm(x, (10,), gamma, beta, eps=1e-5)
    assert torch.allclose(ours, theirs, atol=1e-12, rtol=0)  # float64: agreement to 1e-12
    upstream = torch.randn(6, 3, 10, generator=g, dtype=torch.float64)
    grads_ours = torch.autograd.grad((ours * upstream).sum(), (x, gamma, beta))
    grads_theirs = torch.autograd.grad((theirs * upstream).sum(), (x, gamma, beta))
    for a, b in zip(grads_ours, grads_theirs):
        assert torch.allclose(a, b, atol=1e-10, rtol=0)


def test_attention_block_equals_torch_layernorm_plus_multihead_attention():
    g = torch.Generator().manual_seed(1)
    params, _ = init_block_params(16, g, dtype=torch.float64)
    params = {k: (v + 0.2 * torch.randn(v.shape, generator=g, dtype=torch.float64)) if not k.startswith("W_") else v
              for k, v in params.items()}
    x = torch.randn(9, 2, 16, generator=g, dtype=torch.float64)
    with torch.no_grad():
        assert torch.allclose(attention_block(x, params, 4), torch_attention_block(params, 4)(x), atol=1e-12, rtol=0)


def test_attention_block_is_causal_and_mlp_block_is_positionwise():
    g = torch.Generator().manual_seed(2)
    attention, mlp = init_block_params(8, g, dtype=torch.float64)
    x = torch.randn(6, 1, 8, generator=g, dtype=torch.float64)
    changed = x.clone()
    changed[4:] += 1.0  # the future changes ...
    assert torch.allclose(attention_block(x, attention, 2)[:4], attention_block(changed, attention, 2)[:4])  # ... the past does not see it
    assert torch.allclose(mlp_block(x, mlp)[2:3], mlp_block(x[2:3], mlp))


def test_attention_lm_reads_long_streams_and_continues_with_its_state():
    torch.manual_seed(0)
    model = AttentionLM(11, d_model=16, n_heads=2, n_layers=1, context=8).eval()
    x = torch.randint(0, 11, (30, 2))
    with torch.no_grad():
        logits, state = model(x)
        assert logits.shape == (30, 2, 11) and state.shape == (8, 2)
        assert torch.allclose(logits[:4], model.window_logits(x[:4]))  # the first block is read from the start
        # positions 8..11 are predicted from the window x[4:12] (context 8, new blocks of 4)
        assert torch.allclose(logits[8:12], model.window_logits(x[4:12])[-4:], atol=1e-6)
        # continuing one id at a time gives the same logits as reading the window at once
        step_logits, step_state = model(x[8:9], x[:8])
        assert torch.allclose(step_logits[0], model.window_logits(x[1:9])[-1], atol=1e-6)
        assert torch.equal(step_state, x[1:9])


def test_generating_with_a_kv_cache_gives_the_window_logits():
    """The cache changes the cost, not the answer: a prompt read at once, then one id at a time against the
    cached keys and values, gives window_logits of the whole sequence at every position (float32, 1e-5)."""
    torch.manual_seed(0)
    model = AttentionLM(11, d_model=16, n_heads=2, n_layers=2, context=12).eval()
    x = torch.randint(0, 11, (12, 3))
    cache = KVCache()
    with torch.no_grad():
        pieces = [model.read_with_cache(x[:5], cache)] + [model.read_with_cache(x[t:t + 1], cache) for t in range(5, 12)]
        torch.testing.assert_close(torch.cat(pieces), model.window_logits(x), atol=1e-5, rtol=1e-5)
        assert len(cache) == 12 and cache.keys[1].shape == (3, 2, 12, 8)  # (B, n_heads, positions, d_k), per block
        with pytest.raises(ValueError, match="context = 12 ids; the cache holds 12 and 1 more"):
            model.read_with_cache(x[:1], cache)
        block, _ = init_block_params(16, torch.Generator().manual_seed(1))
        h = torch.randn(7, 3, 16)
        out, keys, _ = cached_attention_block(h, block, 2)  # no cache: the causal block itself
        torch.testing.assert_close(out, attention_block(h, block, 2))
        assert keys.shape == (3, 2, 7, 8)


def test_layer_norm_rejects_mismatched_parameters():
    with pytest.raises(ValueError, match="gamma and beta"):
        layer_norm(torch.zeros(2, 3), torch.ones(4), torch.zeros(4))


def test_the_cache_rejects_an_empty_read_and_keeps_one_entry_per_block():
    torch.manual_seed(0)
    model = AttentionLM(11, d_model=16, n_heads=2, n_layers=2, context=12).eval()
    cache = KVCache()
    with torch.no_grad(), pytest.raises(ValueError, match="at least one new id"):
        model.read_with_cache(torch.zeros(0, 2, dtype=torch.long), cache)
    assert len(cache.keys) == 0
