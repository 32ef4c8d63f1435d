"""Chapter 08: sinusoidal codes, permutation equivariance, and the order task's claims."""
import math

import numpy as np
import pytest
import torch

from course_lib.positions import (OrderClassifier, is_permutation_equivariant, order_accuracy, sinusoidal_positions,
                                  train_order_classifier, which_first_task)


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
