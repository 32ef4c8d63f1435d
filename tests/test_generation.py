"""Chapter 11's references against something independent: the filters against their definitions, beam search
against an exhaustive search and chapter 07's greedy decoding, the cached attention step against full causal
attention (the course's and torch's), scheduled sampling at p = 0 against teacher forcing."""
import itertools
import math

import pytest
import torch

from course_lib.attention import causal_mask, scaled_dot_product_attention
from course_lib.generation import (SCHEDULED_P_GRID, SEEDS, DECODING_SETTINGS, attention_flops_per_token, beam_search,
                                   cached_attention_step, decode_next, distinct_ngrams, lm_start_state, lm_step,
                                   load_study, lstm_flops_per_token, repeated_ngram_share, reverse_model_step,
                                   scheduled_sampling_loss, sequence_bits, top_k_filter, top_p_filter, tune_body)
from course_lib.grading.checks.ch07_limits import tiny_gru_step
from course_lib.grading.checks.ch11_generation import markov_step
from course_lib.transformer import AttentionLM, KVCache
from course_lib.language_model import char_lstm
from course_lib.seq2seq import EncoderDecoder, greedy_decode, reverse_task


def test_top_k_keeps_exactly_the_entries_at_or_above_the_kth_largest():
    g = torch.Generator().manual_seed(0)
    logits = torch.randn(5, 3, 11, generator=g, dtype=torch.float64)
    for k in (1, 4, 11, 20):
        out = top_k_filter(logits, k)
        kept = out > float("-inf")
        largest = torch.zeros_like(kept).scatter(-1, logits.topk(min(k, 11), dim=-1).indices, True)
        assert torch.equal(kept, largest)  # continuous values, no ties: exactly the k largest of each row
        assert torch.equal(out[kept], logits[kept])
    assert (top_k_filter(torch.tensor([2.0, 1.0, 1.0, 0.0]), 2) > float("-inf")).tolist() == [True, True, True, False]
    with pytest.raises(ValueError, match="k must be"):
        top_k_filter(logits, 0)


def test_top_p_keeps_the_smallest_most_probable_set_reaching_p():
    g = torch.Generator().manual_seed(1)
    logits = torch.randn(200, 9, generator=g, dtype=torch.float64)
    for p in (0.05, 0.5, 0.9, 1.0):
        kept = top_p_filter(logits, p) > float("-inf")
        probs = torch.softmax(logits, -1)
        for row, keep in zip(probs, kept):  # by the definition: the n most probable, n the first count reaching p
            ranked = row.sort(descending=True).values
            n = int((ranked.cumsum(0) < p - 1e-12).sum()) + 1
            assert keep.sum() == min(n, 9) and (row[keep].min() >= row[~keep].max() if (~keep).any() else True)
    exact = torch.tensor([0.5, 0.25, 0.125, 0.125], dtype=torch.float64).log()
    assert (top_p_filter(exact, 0.75) > float("-inf")).tolist() == [True, True, False, False]
    for bad in (0, 1.5, -0.1):
        with pytest.raises(ValueError, match="p must be"):
            top_p_filter(exact, bad)


def test_decode_next_greedy_and_filtered_sampling():
    logits = torch.tensor([[0.0, 3.0, 1.0, -1.0]]).repeat(4000, 1)
    assert (decode_next(logits, None, temperature=0) == 1).all()
    draws = decode_next(logits, torch.Generator().manual_seed(0), top_k=2)
    assert set(draws.tolist()) == {1, 2}  # only the two largest can be drawn
    share = (draws == 1).double().mean().item()
    assert abs(share - math.exp(3) / (math.exp(3) + math.exp(1))) < 0.03


def exhaustive_best(step, state, start, V, length):
    """The most probable sequence of `length` tokens by trying every one of V ** length."""
    best = (None, -math.inf)
    for seq in itertools.product(range(V), repeat=length):
        tokens, s, total = torch.tensor([start]), state, 0.0
        for token in seq:
            logits, s = step(tokens, s)
            total += torch.log_softmax(logits.double(), -1)[0, token].item()
            tokens = torch.tensor([token])
        if total > best[1]:
            best = (seq, total)
    return best


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_beam_wide_enough_finds_the_exact_best_sequence(seed):
    state = torch.randn(1, 8, generator=torch.Generator().manual_seed(seed))
    seq, total = exhaustive_best(tiny_gru_step, state, 2, 6, 3)
    tokens, score = beam_search(tiny_gru_step, state, 2, 6 ** 3, 3)
    assert tuple(tokens.tolist()) == seq and score == pytest.approx(total, abs=1e-6)  # float32 model: batch rounding
    narrow = [beam_search(tiny_gru_step, state, 2, K, 3)[1] for K in (1, 2, 6, 36)]
    assert all(s <= total + 1e-6 for s in narrow)


def test_beam_of_one_is_chapter_07s_greedy_decoding():
    g = torch.Generator().manual_seed(3)
    for _ in range(5):
        state = torch.randn(1, 8, generator=g)
        tokens, _ = beam_search(tiny_gru_step, state, 4, 1, 7)
        assert torch.equal(tokens, greedy_decode(tiny_gru_step, state, torch.tensor([4]), 7)[:, 0])
    state = torch.zeros(1, 1, dtype=torch.float64)  # the checks' tempting model: no equal entries in a row, one greedy path
    assert torch.equal(beam_search(markov_step, state, 0, 1, 4)[0], greedy_decode(markov_step, state, torch.tensor([0]), 4)[:, 0])
    assert beam_search(markov_step, state, 0, 2, 4)[1] > beam_search(markov_step, state, 0, 1, 4)[1]


def test_beam_search_on_the_models_adapters():
    torch.manual_seed(0)
    model = EncoderDecoder(hidden=16)
    tokens, _ = reverse_task(5, 1, torch.Generator().manual_seed(0))
    with torch.no_grad():
        state = model.encode(tokens)[0]
        out, _ = beam_search(reverse_model_step(model), state, 0, 1, 5)
        assert torch.equal(out, model.generate(tokens)[:, 0])  # the adapter's step is the decoder's step
        lm = char_lstm(7, hidden=12, embed=4)
        prompt = torch.tensor([1, 2, 3])
        state, start = lm_start_state(lm, prompt)
        out, score = beam_search(lm_step(lm), state, start, 1, 6)
        logits, s, ids = lm(prompt[:, None], None)[0][-1], lm(prompt[:, None], None)[1], []
        for _ in range(6):  # greedy with the model's own state: the same tokens
            ids.append(int(logits.argmax()))
            logits, s = lm(torch.tensor([[ids[-1]]]), s)
            logits = logits[-1, 0]
        assert out.tolist() == ids
        bits = sequence_bits(lm, prompt[:, None], out[:, None])
        assert bits.item() == pytest.approx(-score / 6 / math.log(2), abs=1e-6)


def test_cached_attention_step_equals_full_causal_attention_and_torch():
    g = torch.Generator().manual_seed(4)
    q, k, v = (torch.randn(2, 3, 7, 5, generator=g, dtype=torch.float64) for _ in range(3))
    keys, values = k[..., :0, :], v[..., :0, :]
    outs = []
    for t in range(7):
        out, keys, values = cached_attention_step(q[..., t:t + 1, :], k[..., t:t + 1, :], v[..., t:t + 1, :], keys, values)
        outs.append(out)
    ours = torch.cat(outs, dim=-2)
    assert torch.equal(keys, k) and torch.equal(values, v)
    assert torch.allclose(ours, scaled_dot_product_attention(q, k, v, causal_mask(7))[0], atol=1e-12, rtol=0)
    torch_out = torch.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=True)
    assert torch.allclose(ours, torch_out, atol=1e-12, rtol=0)


def test_scheduled_sampling_at_zero_is_teacher_forcing_and_at_one_reads_only_its_own_draws():
    torch.manual_seed(0)
    model = EncoderDecoder(hidden=16)
    tokens, targets = reverse_task(6, 8, torch.Generator().manual_seed(1))
    forced = model(tokens, targets)
    expected = torch.nn.functional.cross_entropy(forced.reshape(-1, forced.shape[-1]), targets.reshape(-1))
    loss = scheduled_sampling_loss(model, tokens, targets, 0.0, torch.Generator().manual_seed(0))
    assert loss.item() == pytest.approx(expected.item(), abs=1e-6)
    # p = 1: every input after the start token is drawn from the model's own previous prediction, the true
    # targets only score: replaying the same draws (a coin, then a token, per step) gives the same loss
    rng, state, inputs, losses = torch.Generator().manual_seed(0), model.encode(tokens), torch.zeros(8, dtype=torch.long), []
    for t in range(len(targets)):
        logits, state = model.step(inputs, state)
        losses.append(torch.nn.functional.cross_entropy(logits, targets[t]))
        torch.rand(8, generator=rng)
        inputs = torch.multinomial(torch.softmax(logits.detach(), -1), 1, generator=rng)[:, 0]
    loss = scheduled_sampling_loss(model, tokens, targets, 1.0, torch.Generator().manual_seed(0))
    assert loss.item() == pytest.approx(torch.stack(losses).mean().item(), abs=1e-6)


def test_tune_measures_on_hand_made_tunes():
    header = "X:1\nM:6/8\nK:D\n"
    loop = header + "abcabcabcabcabcabcabc"
    varied = header + "|abc def|gab cde|fga bcd|"
    assert tune_body(loop) == "abcabcabcabcabcabcabc"
    assert repeated_ngram_share([loop]) == 11 / 14 and repeated_ngram_share([varied]) == 0.0  # 14 pieces, the first 3 new
    assert distinct_ngrams([loop, loop]) < distinct_ngrams([varied]) == 1.0


def test_the_study_file_has_every_seed_and_setting():
    study = load_study()
    assert sorted(study["per_seed"]) == [str(s) for s in SEEDS] and study["scheduled_p"] in SCHEDULED_P_GRID
    for run in study["per_seed"].values():
        assert set(run["decoding"]) == set(DECODING_SETTINGS)
        assert all(1 <= row["n"] <= 40 and row["n"] == round(40 * row["unique"]) for row in run["decoding"].values())
        assert all(len(run["forced_error"][m]) == len(run["free_error"][m]) == 8 for m in run["accuracy"])


def test_counted_flops_equal_torchs_flop_counter():
    from torch.utils.flop_counter import FlopCounterMode
    model = AttentionLM(30, d_model=16, n_heads=4, n_layers=2, context=64, seed=0).eval()
    ids = torch.zeros(20, 1, dtype=torch.long)
    with torch.no_grad():
        with FlopCounterMode(display=False) as counter:
            model.window_logits(ids)
        assert counter.get_total_flops() == attention_flops_per_token(20, 16, 2, 30, cached=False)
        cache = KVCache()
        model.read_with_cache(ids[:-1], cache)
        with FlopCounterMode(display=False) as counter:
            model.read_with_cache(ids[-1:], cache)
        assert counter.get_total_flops() == attention_flops_per_token(20, 16, 2, 30, cached=True)
        lstm = char_lstm(30, hidden=24, embed=8)  # torch's fused LSTM is not counted: its gate products written out
        x, h = torch.zeros(1, 8), torch.zeros(1, 24)
        with FlopCounterMode(display=False) as counter:
            x @ lstm.recurrent.weight_ih_l0.T + h @ lstm.recurrent.weight_hh_l0.T
            lstm.readout(h)
        assert counter.get_total_flops() == lstm_flops_per_token(8, 24, 30)


def test_sign_test_against_counted_coin_flips():
    from course_lib.generation import sign_test
    assert sign_test(10, 0) == pytest.approx(2 / 1024) and sign_test(5, 5) == 1.0 and sign_test(0, 0) == 1.0
    # 3 heads or fewer in 8 fair flips, both tails: 2 * (1 + 8 + 28 + 56) / 256
    assert sign_test(3, 5) == sign_test(5, 3) == pytest.approx(2 * 93 / 256)
