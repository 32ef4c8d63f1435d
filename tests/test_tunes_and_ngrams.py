import math

import pytest

from course_lib.ngrams import fit_kneser_ney, kneser_ney_bits_per_char, kneser_ney_probability, ngram_bits_per_char
from course_lib.signals import google_closing_prices
from course_lib.tunes import Vocab, corpus_dir, load_tunes, parse_abc, split_tunes


def test_collection_loads_from_the_installed_package_once_per_number():
    tunes = load_tunes()
    numbers = [t.number for t in tunes]
    assert len(tunes) > 1500 and numbers == sorted(set(numbers))
    assert all(t.key and t.body for t in tunes)
    assert sum(t.kind == "reel" for t in tunes) > 100 and sum(t.kind == "jig" for t in tunes) > 100


def test_tune_text_starts_with_headers_and_has_no_other_fields():
    text = load_tunes()[1].text()
    assert text.startswith("M:2/4\nL:1/16\nK:Gm\n")
    assert "T:" not in text and "Z:" not in text


def test_parse_abc_skips_comments_and_incomplete_tunes():
    text = "X:1\nT:A\nM:6/8\nK:D\n% a comment\nabc|def|\n\nX:2\nT:no body\nK:G\n\nT:no number\nK:G\nabc\n"
    tunes = parse_abc(text)
    assert [(t.number, t.meter, t.body) for t in tunes] == [(1, "6/8", "abc|def|")]


def test_missing_collection_is_a_clear_error():
    with pytest.raises(FileNotFoundError, match="no corpus collection 'nope'"):
        corpus_dir("nope")


def test_split_is_by_tune_and_disjoint():
    tunes = load_tunes()
    train, valid = split_tunes(tunes, every=10)
    assert len(valid) == len(tunes) // 10 and not {t.number for t in train} & {t.number for t in valid}
    with pytest.raises(ValueError):
        split_tunes(tunes, every=1)


def test_vocab_round_trip_and_unknown_character():
    vocab = Vocab(["abc", "cab!"])
    assert vocab.decode(vocab.encode("c!ab")) == "c!ab" and len(vocab) == 4
    with pytest.raises(ValueError, match="'z'"):
        vocab.encode("az")


def test_unigram_bits_equal_the_smoothed_entropy():
    bits, unseen = ngram_bits_per_char(["aab"], ["ab"], c=0, alpha=0.0)
    assert bits == pytest.approx(-(math.log2(2 / 3) + math.log2(1 / 3)) / 2) and unseen == 0


def test_bigram_learns_a_deterministic_pattern_that_unigram_cannot():
    train, test = ["ab" * 200], ["ab" * 20]
    assert ngram_bits_per_char(train, test, c=1)[0] < 0.1 < ngram_bits_per_char(train, test, c=0)[0]


def test_unseen_contexts_are_counted():
    assert ngram_bits_per_char(["aaaa"], ["bbbb"], c=1)[1] == pytest.approx(0.75)


def test_price_series_is_the_bundled_one():
    dates, close = google_closing_prices()
    assert len(dates) == len(close) == 1047 and str(dates[0]) == "2004-08-19"


def test_an_empty_split_or_unknown_collection_is_a_clear_error():
    with pytest.raises(ValueError, match="held-out split would be empty"):
        split_tunes(load_tunes()[:5], every=10)
    with pytest.raises(FileNotFoundError, match="no corpus collection"):
        load_tunes("not_a_collection")


def test_load_split_returns_tunes_and_a_vocabulary_that_encodes_them():
    from course_lib.tunes import load_split
    train, valid, vocab = load_split()
    assert (len(train), len(valid)) == (1655, 183) and len(vocab) > 50
    assert vocab.decode(vocab.encode(valid[0].text())) == valid[0].text()
    with pytest.raises(FileNotFoundError):
        load_split("not_a_collection")


@pytest.mark.parametrize("c", [0, 1, 3])
def test_kneser_ney_probabilities_sum_to_one_in_seen_and_unseen_contexts(c):
    train = ["abcabcabd", "abdabcaab", "cabbacabc"]
    levels = fit_kneser_ney(train, c)
    chars = sorted(set("".join(train)) | {"z"})  # z never occurs in training: it still gets probability
    for context in ["\x02" * c, "abc"[-c:] if c else "", "zzz"[-c:] if c else "", "cab"[-c:] if c else ""]:
        probs = [kneser_ney_probability(levels, context, ch, len(chars)) for ch in chars]
        assert min(probs) > 0 and sum(probs) == pytest.approx(1.0, abs=1e-12), (context, probs)


def test_kneser_ney_backs_off_where_add_alpha_gives_up():
    train, test = ["abababababcdcdcdcdcd" * 5], ["xabab"]  # "xabab": contexts with x were never seen
    assert kneser_ney_bits_per_char(train, test, c=3)[0] < ngram_bits_per_char(train, test, c=3)[0]
    assert kneser_ney_bits_per_char(train, test, c=3)[1] == ngram_bits_per_char(train, test, c=3)[1]
    with pytest.raises(ValueError, match="c must be a non-negative"):
        kneser_ney_bits_per_char(train, test, c=-1)
