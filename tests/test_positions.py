"""Chapter 08: sinusoidal codes, permutation equivariance, and the order task's claims."""
import math

import pytest
import torch

from course_lib.positions import (OrderClassifier, is_permutation_equivariant, offset_rotation, order_accuracy, rotary,
                                  sinusoidal_positions, train_order_classifier, which_first_task)


def test_sinusoidal_matches_the_formula():
    pe = sinusoidal_positions(7, 6).double()
    for t in range(7):
        for k in range(3):
            omega = 10000 ** (-2 * k / 6)
            assert abs(pe[t, 2 * k] - math.sin(omega * t)) < 1e-6 and abs(pe[t, 2 * k + 1] - math.cos(omega * t)) < 1e-6


def test_dot_product_depends_only_on_the_offset():
    pe = sinusoidal_positions(64, 32).double()
    for offset in (1, 5, 17):
        dots = (pe[:-offset] * pe[offset:]).sum(-1)
        assert dots.max() - dots.min() < 1e-5


def test_the_dot_product_of_codes_cannot_tell_before_from_after():
    pe = sinusoidal_positions(64, 32).double()
    for offset in (1, 5, 17):
        assert torch.allclose(pe[20] @ pe[20 + offset], pe[20] @ pe[20 - offset], atol=1e-9)


def test_an_offset_is_one_rotation_whatever_the_position():
    pe = sinusoidal_positions(80, 16).double()
    for delta in (1, 7, 30):
        R = offset_rotation(delta, 16)
        assert torch.allclose(pe[:-delta] @ R, pe[delta:], atol=1e-6)
        assert torch.allclose(R @ R.T, torch.eye(16, dtype=torch.float64), atol=1e-12)  # a rotation


def test_rotary_scores_depend_on_the_offset_only_and_on_its_sign():
    g = torch.Generator().manual_seed(0)
    q = torch.randn(1, 8, generator=g, dtype=torch.float64).expand(30, 8)   # the same query and key
    k = torch.randn(1, 8, generator=g, dtype=torch.float64).expand(30, 8)   # at every position
    scores = rotary(q) @ rotary(k).T                                        # (30, 30): scores[i, j]
    for delta in (-5, 3, 11):
        diagonal = torch.diagonal(scores, offset=delta)
        assert diagonal.max() - diagonal.min() < 1e-9
    assert abs(scores[10, 13] - scores[13, 10]) > 1e-3
    assert torch.allclose(rotary(q)[0], q[0]) and rotary(torch.zeros(4, 2, 6)).shape == (4, 2, 6)
    with pytest.raises(ValueError, match="even"):
        rotary(torch.zeros(3, 5))


@pytest.mark.parametrize("T, d", [(0, 4), (3, 5), (3, 0), (2.5, 4), (3, True)])
def test_sinusoidal_rejects_bad_sizes(T, d):
    with pytest.raises(ValueError):
        sinusoidal_positions(T, d)


def test_attention_is_equivariant_until_positions_are_added():
    attn = torch.nn.MultiheadAttention(8, 2)
    x = torch.randn(6, 3, 8)
    rng = torch.Generator().manual_seed(0)
    assert is_permutation_equivariant(lambda v: attn(v, v, v)[0], x, rng)
    pe = sinusoidal_positions(6, 8)[:, None, :]
    assert not is_permutation_equivariant(lambda v: attn(v + pe, v + pe, v + pe)[0], x, rng)
    with pytest.raises(ValueError, match=r"x must be a \(T, B, d\) tensor"):
        is_permutation_equivariant(lambda v: v, torch.zeros(3, 4), rng)


def test_which_first_classes_hold_the_same_symbols():
    tokens, labels = which_first_task(10, 500, torch.Generator().manual_seed(1))
    assert ((tokens == 0).sum(0) == 1).all() and ((tokens == 1).sum(0) == 1).all()
    assert 0.4 < labels.float().mean() < 0.6


def test_only_models_with_positions_learn_the_order_task():
    torch.set_num_threads(2)
    blind = train_order_classifier(None, steps=200)
    sinus = train_order_classifier("sinusoidal", steps=200)
    assert abs(order_accuracy(blind, 12) - 0.5) < 0.05 and order_accuracy(sinus, 12) > 0.9


def test_learned_table_cannot_index_past_its_length():
    model = OrderClassifier(8, positions="learned", max_len=12)
    with pytest.raises(ValueError, match="learned positions exist for 12 steps, got T = 24"):
        model(torch.zeros(24, 2, dtype=torch.long))
