"""Chapter 06's library: the score, the sampler, generation, the baselines, the copy measure, the sweep file."""
import math
import random

import numpy as np
import pytest
import torch

from course_lib.grading.checks.ch06_applications import counting_model, tiny_lstm_model
from course_lib.language_model import (char_lstm, LMBudget, bits_per_char, generate, held_out_bits_per_char,
                                       learning_rate, load_sweep, longest_shared_substring, lzma_bits_per_char, sample_next,
                                       sample_tunes)
from course_lib.tunes import Vocab, load_tunes, split_tunes


def test_bits_per_char_is_cross_entropy_in_base_2():
    g = torch.Generator().manual_seed(0)
    logits, targets = torch.randn(5, 3, 7, generator=g), torch.randint(0, 7, (5, 3), generator=g)
    by_hand = -np.mean([math.log2(torch.softmax(logits[t, b], -1)[targets[t, b]]) for t in range(5) for b in range(3)])
    assert bits_per_char(logits, targets) == pytest.approx(by_hand, abs=1e-5)
    assert bits_per_char(torch.zeros(2, 2, 16), torch.zeros(2, 2, dtype=torch.int64)) == pytest.approx(4.0)


@pytest.mark.parametrize("targets, error", [(torch.zeros(2, 3, dtype=torch.int64), ValueError),
                                            (torch.zeros(2, 2), TypeError),
                                            (torch.full((2, 2), 9), ValueError)])
def test_bits_per_char_rejects_bad_targets_with_a_sentence(targets, error):
    with pytest.raises(error, match="targets"):
        bits_per_char(torch.zeros(2, 2, 5), targets)


def test_sample_next_tiny_temperature_is_argmax_and_frequencies_follow_the_softmax():
    logits = torch.tensor([[0.5, 2.0, -1.0, 1.9]])
    assert sample_next(logits.repeat(50, 1), 1e-4, torch.Generator().manual_seed(0)).eq(1).all()
    for tau in (0.5, 1.0, 3.0):
        draws = sample_next(logits.repeat(50000, 1), tau, torch.Generator().manual_seed(1))
        freq = torch.bincount(draws, minlength=4).double() / len(draws)
        assert torch.allclose(freq, torch.softmax(logits[0].double() / tau, -1), atol=0.01)


@pytest.mark.parametrize("temperature", [0, -0.5, float("nan"), "hot", True])
def test_sample_next_rejects_a_temperature_that_is_not_positive(temperature):
    with pytest.raises(ValueError, match="temperature"):
        sample_next(torch.zeros(2, 3), temperature, torch.Generator())


def test_sample_next_rejects_nan_logits():
    with pytest.raises(ValueError, match="NaN"):
        sample_next(torch.tensor([[0.0, float("nan")]]), 1.0, torch.Generator())


def test_generate_carries_state_and_reads_the_whole_prompt():
    prompt = torch.tensor([[1, 2], [3, 0]])
    out = generate(counting_model, prompt, 4, 1e-4, torch.Generator())
    # counting_model predicts (ids read so far + current id) mod 6; it has read 2 ids before the first draw
    expected, token, count = [], prompt[-1], 2
    for _ in range(4):
        token = (count + token) % 6
        expected.append(token)
        count += 1
    assert torch.equal(out, torch.stack(expected))
    a = generate(tiny_lstm_model, torch.tensor([[0], [5], [2]]), 6, 1e-4, torch.Generator())
    b = generate(tiny_lstm_model, torch.tensor([[4], [5], [2]]), 6, 1e-4, torch.Generator())
    assert not torch.equal(a, b), "an LSTM's continuation should depend on the early prompt too"


@pytest.mark.parametrize("prompt, n", [(torch.tensor([1, 2]), 3), (torch.zeros(0, 2, dtype=torch.int64), 3),
                                       (torch.tensor([[1]]), 0)])
def test_generate_rejects_bad_prompt_or_length(prompt, n):
    with pytest.raises(ValueError):
        generate(counting_model, prompt, n, 1.0, torch.Generator())


def test_lzma_baseline_rewards_repetition_and_rejects_empty_text():
    rng = random.Random(0)
    noise = "".join(rng.choice("abcdefgh") for _ in range(4000))
    assert lzma_bits_per_char([noise], [noise[:1000]]) < 0.5 < 2.5 < lzma_bits_per_char([noise], ["".join(rng.choice("abcdefgh") for _ in range(4000))])
    with pytest.raises(ValueError, match="empty"):
        lzma_bits_per_char(["abc"], [""])


def test_longest_shared_substring_matches_brute_force():
    rng = random.Random(0)
    for _ in range(200):
        corpus = "".join(rng.choice("abc|") for _ in range(rng.randint(0, 60)))
        text = "".join(rng.choice("abc|") for _ in range(rng.randint(0, 30)))
        brute = max([j - i for i in range(len(text)) for j in range(i + 1, len(text) + 1) if text[i:j] in corpus] + [0])
        assert longest_shared_substring(text, corpus, k=3) == brute


def test_cosine_schedule_and_untrained_model_score():
    budget = LMBudget(steps=100, lr=0.01)
    assert learning_rate(budget, 0) == pytest.approx(0.01) and learning_rate(budget, 50) == pytest.approx(0.005)
    with pytest.raises(ValueError, match="schedule"):
        learning_rate(LMBudget(schedule="linear"), 0)
    torch.manual_seed(0)
    tunes = load_tunes()
    vocab = Vocab([t.text() for t in tunes])
    ids = vocab.encode("".join(t.text() for t in split_tunes(tunes)[1][:20]))
    untrained = held_out_bits_per_char(char_lstm(len(vocab), hidden=32), ids)
    assert abs(untrained - math.log2(len(vocab))) < 0.3  # knows nothing: about log2 V


def test_sample_tunes_start_with_the_header_and_stop_at_the_next_tune():
    tunes = load_tunes()
    vocab = Vocab([t.text() for t in tunes])

    header, continuation = "M:6/8\nK:D\n", "abc|\nM:6/8\nK:D\nabc|\n" + "a" * 40

    def writes_two_tunes(x, state):
        """Ignores its input: after the header, writes `continuation` one character per step."""
        read = 0 if state is None else state
        logits = torch.full(x.shape + (len(vocab),), -30.0)
        for t in range(x.shape[0]):
            k = read + t + 1 - len(header)  # index of the character this position predicts
            if k >= 0:
                logits[t, :, vocab.index[continuation[k]]] = 30.0
        return logits, read + x.shape[0]

    out = sample_tunes(writes_two_tunes, vocab, header, 2, 1.0, max_len=30)
    assert out == ["M:6/8\nK:D\nabc|\n"] * 2


def test_the_lstm_exploration_is_scored_on_validation_and_records_the_course_setting():
    """Chapter 06's exploration: every run trained on the training tunes without the validation set and scored
    on the validation set; the course's setting is one of its runs."""
    from course_lib.closing import selection_data, tune_data
    results = load_sweep()
    assert results["scored_on"] == "validation"
    from course_lib.closing import MUSIC_BUDGETS
    chosen = MUSIC_BUDGETS["LSTM"]
    runs = {r["label"]: r for r in results["runs"]}
    course = runs["course setting: lr 1e-2 constant, B=64, T=64"]
    assert {k: course[k] for k in ("steps", "batch", "length", "lr", "schedule", "seed")} == \
        {"steps": chosen.steps, "batch": chosen.batch, "length": chosen.length, "lr": chosen.lr,
         "schedule": chosen.schedule, "seed": chosen.seed}
    assert course["validation_bits"] < results["lzma"] - 0.1
    vocab = tune_data()[0]
    fit_ids, validation_ids = selection_data()
    fresh = lzma_bits_per_char([vocab.decode(fit_ids)], [vocab.decode(validation_ids)])
    assert results["lzma"] == pytest.approx(fresh, abs=1e-3)
