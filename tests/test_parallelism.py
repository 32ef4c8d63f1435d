"""Chapter 07's timing layers compute what they claim (so the timings compare like with like), and the
claims' arithmetic is right; the timings themselves are checked by the notebook and benchmarks/parallelism.py."""
import pytest
import torch

from course_lib.parallelism import Layers, forward_flops, one_thread_claims, summarize, time_training, torch_threads


@pytest.fixture(scope="module")
def layers():
    return Layers(d_model=16, n_heads=4)


def test_the_two_attention_layers_compute_the_same_thing(layers):
    x = torch.randn(7, 2, 16, generator=torch.Generator().manual_seed(0))
    assert torch.allclose(layers.forward("attention (sdpa)", x), layers.forward("attention (course)", x), atol=1e-5)


def test_attention_is_causal(layers):
    x = torch.randn(6, 1, 16, generator=torch.Generator().manual_seed(1))
    changed = x.clone()
    changed[-1] += 1.0
    for name in ("attention (course)", "attention (sdpa)"):
        assert torch.allclose(layers.forward(name, x)[:-1], layers.forward(name, changed)[:-1], atol=1e-6), name


def test_generation_with_and_without_a_cache_agree(layers):
    x0 = torch.randn(1, 2, 16, generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        outputs = {name: layers.generate(name, x0, 5) for name in
                   ("attention (course)", "attention (sdpa)", "attention (sdpa, cached)")}
    assert all(out.shape == (5, 2, 16) for out in outputs.values())
    assert torch.allclose(outputs["attention (sdpa)"], outputs["attention (sdpa, cached)"], atol=1e-5)
    assert torch.allclose(outputs["attention (sdpa)"], outputs["attention (course)"], atol=1e-5)


def test_rnn_generation_feeds_each_output_back(layers):
    x0 = torch.randn(1, 1, 16, generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        out = layers.generate("RNN", x0, 3)
        h1 = layers.rnn(x0)[0]
        h2 = layers.rnn(torch.tanh(h1), layers.rnn(x0)[1])[0]
    assert torch.allclose(out[0], torch.tanh(h1[0])) and torch.allclose(out[1], torch.tanh(h2[0]))


def test_thread_count_is_restored_and_checked():
    before = torch.get_num_threads()
    with torch_threads(1):
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before
    with pytest.raises(ValueError, match="threads"):
        with torch_threads(0):
            pass


def test_flop_counts_and_claims():
    assert forward_flops("RNN", 10, batch=1, d_model=4) == 2 * 2 * 10 * 16
    assert forward_flops("attention (sdpa)", 10, batch=1, d_model=4) == 4 * 2 * 10 * 16 + 4 * 100 * 4
    T = [16, 128, 1024]
    training = {"T": T, "RNN": [1e-3, 8e-3, 64e-3], "attention (course)": [1e-4, 1e-3, 30e-3],
                "attention (sdpa)": [1e-4, 1e-3, 20e-3]}
    generation = {"T": [16, 128], "attention (sdpa)": [1e-3, 50e-3]}
    assert all(one_thread_claims(summarize(training, generation)).values())
    training["attention (course)"][2] = 8e-3        # attention growing like the RNN: the T x T claim fails
    assert not one_thread_claims(summarize(training, generation))["the T x T scores: attention's time grows > 1.5x faster than the RNN's"]


def test_time_training_returns_one_time_per_length():
    timings = time_training([4, 8], threads=1, d_model=16, repeats=1)
    assert timings["T"] == [4, 8] and all(len(timings[n]) == 2 and min(timings[n]) > 0 for n in timings if n != "T")
