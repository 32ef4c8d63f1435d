"""Chapter 07: the encoder-decoder, greedy decoding, sequence accuracy, and the timing helper."""
import json

import pytest
import torch

from course_lib.closing import file_margin
from course_lib.seq2seq import (BOTTLENECK_FILE, BOTTLENECK_RUNS, BidirectionalEncoderDecoder, EncoderDecoder,
                                accuracy_by_length, bottleneck_run, greedy_decode, reverse_task, sequence_accuracy,
                                time_forward_passes, train_reverse)


def test_reverse_task_targets_are_the_input_backwards():
    tokens, targets = reverse_task(5, 3, torch.Generator().manual_seed(0))
    assert torch.equal(targets, tokens.flip(0)) and tokens.min() >= 1


def test_sequence_accuracy_counts_whole_sequences_and_respects_the_mask():
    pred = torch.tensor([[1, 2], [3, 4]])
    assert sequence_accuracy(pred, torch.tensor([[1, 2], [3, 9]])) == 0.5
    assert sequence_accuracy(pred, torch.tensor([[1, 2], [3, 9]]), torch.tensor([[True, True], [True, False]])) == 1.0
    with pytest.raises(ValueError, match="pred and target must both be"):
        sequence_accuracy(torch.zeros(3), torch.zeros(3))


def test_greedy_decode_feeds_predictions_back():
    def step(tokens, state):
        return torch.nn.functional.one_hot((tokens + 1) % 5, 5).float(), state
    assert greedy_decode(step, None, torch.tensor([0, 3]), 3).tolist() == [[1, 4], [2, 0], [3, 1]]


@pytest.mark.parametrize("model_class", [EncoderDecoder, BidirectionalEncoderDecoder])
def test_teacher_forced_logits_match_step_by_step_decoding(model_class):
    model = model_class(hidden=16)
    tokens, targets = reverse_task(6, 4, torch.Generator().manual_seed(1))
    with torch.no_grad():
        forced = model(tokens, targets)
        state, prev, stepped = model.encode(tokens), torch.zeros(4, dtype=torch.long), []
        for t in range(6):
            logits, state = model.step(prev, state)
            stepped.append(logits)
            prev = targets[t]
    assert torch.allclose(forced, torch.stack(stepped), atol=1e-6)


def test_bottleneck_accuracy_falls_with_length():
    torch.set_num_threads(2)
    model = train_reverse(EncoderDecoder(hidden=32), lengths=list(range(2, 17)), steps=800)
    acc = accuracy_by_length(model, [2, 16])
    assert acc[2] > 0.8 and acc[16] < 0.1


def test_bidirectional_encoder_hands_over_one_vector_of_width_H():
    model = BidirectionalEncoderDecoder(hidden=16)
    assert model.encode(torch.ones(5, 3, dtype=torch.long)).shape == (1, 3, 16)


def test_bottleneck_sweep_file_matches_a_fresh_run():
    saved = json.loads(BOTTLENECK_FILE.read_text())["runs"]
    assert set(saved) == set(BOTTLENECK_RUNS)
    torch.set_num_threads(1)  # as benchmarks/bottleneck_sweep.py
    label = "bidirectional GRU, H=32, no attention"
    for L, acc in bottleneck_run(label).items():  # accuracies of 500 sequences: allow for another CPU's or torch's rounding
        margin = file_margin(saved[label]["accuracy"][str(L)], 500)
        assert abs(saved[label]["accuracy"][str(L)] - acc) < margin, (label, L, acc)


def test_timing_helper_returns_one_time_per_length():
    timings = time_forward_passes([4, 8], batch=1, hidden=8, repeats=2)
    assert timings["T"] == [4, 8] and len(timings["rnn"]) == len(timings["parallel"]) == 2
    assert all(t > 0 for t in timings["rnn"] + timings["parallel"])
