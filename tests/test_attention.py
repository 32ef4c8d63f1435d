"""Chapter 09: attention from scratch against torch's implementations, and the chapter's claims."""
import pytest
import torch

from course_lib.attention import (attention_encoder, causal_mask, init_attention_params, multi_head_attention,
                                  scaled_dot_product_attention, softmax_saturation, torch_mha_from_params)


def test_sdpa_matches_torch_with_and_without_masks():
    g = torch.Generator().manual_seed(0)
    q, k, v = (torch.randn(2, 3, 5, 8, generator=g, dtype=torch.float64) for _ in range(3))
    for mask in (None, causal_mask(5), torch.rand(2, 1, 5, 5, generator=g) > 0.3):
        ours, _ = scaled_dot_product_attention(q, k, v, mask)
        theirs = torch.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=mask)
        assert (ours - theirs).abs().max() < 1e-12


def test_fully_masked_rows_give_zeros_not_nan():
    q = torch.randn(1, 2, 4)
    mask = torch.tensor([[[True, False, True], [False, False, False]]])
    out, weights = scaled_dot_product_attention(q, torch.randn(1, 3, 4), torch.randn(1, 3, 4), mask)
    assert not out.isnan().any() and (out[0, 1] == 0).all() and (weights[0, 1] == 0).all()


def test_multi_head_attention_matches_torch_mha():
    g = torch.Generator().manual_seed(1)
    params = {name: value.double() for name, value in init_attention_params(16, g).items()}
    x = torch.randn(7, 3, 16, generator=g, dtype=torch.float64)
    mha = torch_mha_from_params(params, 4)
    for mask in (None, causal_mask(7)):
        ours, weights = multi_head_attention(x, params, 4, mask)
        blocked = None if mask is None else ~mask  # torch's MHA: True = may NOT attend
        theirs, their_weights = mha(x, x, x, attn_mask=blocked, average_attn_weights=False)
        assert (ours - theirs).abs().max() < 1e-12 and (weights - their_weights).abs().max() < 1e-12


def test_bad_shapes_are_named():
    with pytest.raises(ValueError, match="q and k must share d_k"):
        scaled_dot_product_attention(torch.zeros(2, 3), torch.zeros(2, 4), torch.zeros(2, 4))
    with pytest.raises(ValueError, match="n_heads = 3 must divide d_model = 8"):
        multi_head_attention(torch.zeros(2, 1, 8), init_attention_params(8, torch.Generator()), 3)
    with pytest.raises(ValueError, match="T must be a positive integer"):
        causal_mask(0)


def test_unscaled_dot_products_saturate_the_softmax_and_the_typical_gradient_vanishes():
    scaled = {d: softmax_saturation(d, scaled=True) for d in (4, 1024)}
    unscaled = {d: softmax_saturation(d, scaled=False) for d in (4, 1024)}
    assert 0.8 < scaled[1024]["var_scores"] / 1024 < 1.2 and 0.7 < scaled[4]["var_scores"] / 4 < 1.3
    assert unscaled[1024]["entropy"] < 0.5 * scaled[1024]["entropy"]
    assert abs(scaled[1024]["entropy"] - scaled[4]["entropy"]) < 0.5
    # unscaled: the score gradient and the typical query gradient collapse, a large share of queries gets
    # almost none; the mean does not show it (a few unsaturated queries times |k| ~ sqrt(d_k))
    assert unscaled[1024]["median_dscores"] < 0.01 * scaled[1024]["median_dscores"]
    assert unscaled[1024]["median_dq"] < 0.1 * scaled[1024]["median_dq"] and unscaled[1024]["share_small_dq"] > 0.25
    assert unscaled[1024]["mean_dq"] > scaled[1024]["mean_dq"] and scaled[1024]["share_small_dq"] == 0.0


def test_attention_encoder_is_causal():
    enc = attention_encoder(3, 8)
    x = torch.randn(5, 2, 3)
    y = x.clone()
    y[4] += 1.0
    with torch.no_grad():
        assert torch.allclose(enc(x)[:4], enc(y)[:4], atol=1e-6)
