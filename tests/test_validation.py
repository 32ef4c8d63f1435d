"""validation.shapes: a function's array shapes declared once, one readable sentence for bad input."""
import re

import numpy as np
import pytest

from course_lib.validation import shapes


@shapes(W="(D + H, 4H)", x="(T, B, D)", h0="(B, H)")
def _declared(x, h0, W, scale=None):
    return x, h0, W


def test_letters_are_solved_from_sums_and_multiples_and_arrays_arrive_as_float64():
    x, h0, W = _declared([[[1, 2, 3]]], np.zeros((1, 4)), np.zeros((7, 16)))
    assert x.dtype == h0.dtype == W.dtype == np.float64 and x.shape == (1, 1, 3)


@pytest.mark.parametrize("args, words", [
    ((np.zeros((1, 1, 3)), np.zeros((1, 4)), np.zeros((7, 15))), "W must have shape (D + H, 4H): its 15 columns are not a multiple of 4."),
    ((np.zeros((1, 1, 2)), np.zeros((1, 4)), np.zeros((7, 16))), "x must have shape (T, B, D) with D = 3 to match W (7, 16), got (1, 1, 2)."),
    ((np.zeros((1, 2, 3)), np.zeros((1, 4)), np.zeros((7, 16))), "h0 must have shape (B, H) = (2, 4), got (1, 4); B = 2 from x (1, 2, 3)."),
    ((np.zeros((1, 1, 3)), np.full((1, 4), np.nan), np.zeros((7, 16))), "h0 contains NaN or inf"),
    ((np.zeros((1, 3)), np.zeros((1, 4)), np.zeros((7, 16))), "x must have 3 axes (T, B, D), got shape (1, 3)."),
])
def test_bad_input_is_one_sentence_naming_the_argument(args, words):
    with pytest.raises(ValueError, match=re.escape(words)):
        _declared(*args)


def test_a_string_array_is_a_type_error_and_unchecked_is_the_bare_function():
    with pytest.raises(TypeError, match="W must hold real numbers"):
        _declared(np.zeros((1, 1, 3)), np.zeros((1, 4)), np.zeros((7, 16)).astype(str))
    assert _declared.unchecked("anything", None, None) == ("anything", None, None)  # no checks at all


def test_an_optional_array_left_out_is_not_checked():
    @shapes(x="(T, D)", mask="(T,)")
    def masked(x, mask=None):
        return mask
    assert masked(np.zeros((2, 3))) is None
    with pytest.raises(ValueError, match=re.escape("mask must have shape (T,) = (2,), got (3,); T = 2 from x (2, 3).")):
        masked(np.zeros((2, 3)), np.ones(3))


def test_a_size_fixed_elsewhere_is_named_and_mistakes_in_the_declaration_fail_early():
    with pytest.raises(ValueError, match=re.escape("h0 must have shape (B, H) = (1, 4), got (1, 5); H = 4 from W (7, 16).")):
        _declared(np.zeros((1, 1, 3)), np.zeros((1, 5)), np.zeros((7, 16)))
    with pytest.raises(TypeError, match=re.escape("h0 must be an array of shape (B, H), got None.")):
        _declared(np.zeros((1, 1, 3)), None, np.zeros((7, 16)))
    with pytest.raises(TypeError, match="declares \\['h'\\], which f has no argument for"):
        @shapes(h="(B, H)")
        def f(h0):
            return h0
