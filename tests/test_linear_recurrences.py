"""Chapter 12's reference code against something real (the sequential recurrence, autograd, torch's conv1d, the
masked attention form), its models' streaming interfaces, its tasks, and its results file's protocol."""
import json

import numpy as np
import pytest
import torch

from course_lib.closing import (MUSIC_GRIDS, budget_settings, chosen_budget, closing_table, file_margin, generated_samples,
                                load_results, revival_cells, train_music_model)
from course_lib.linear_recurrences import (COPY_LAYERS, COPY_LEARNING_RATES, SEEDS, VALIDATION_SEED, DiagonalSSM,
                                           LinearAttentionEncoder, MinGRU, MinGRULM, associative_recall,
                                           causal_linear_attention, causal_linear_attention_parallel, combine,
                                           convolve_causal, feature_map, linear_scan, load_study, min_gru, min_gru_encoder,
                                           scan_rounds, selective_copy_task, sequential_scan, ssm_kernel,
                                           two_layer_gru_encoder)
from course_lib.memory import REVIVAL_FILE, load_results as load_memory
from course_lib.music import valid_share
from course_lib.positions import sinusoidal_positions
from course_lib.seq2seq import REVERSE_FILE

g = torch.Generator().manual_seed(0)


def _pair(T, *channels, dtype=torch.float64):
    return torch.rand(T, *channels, generator=g, dtype=dtype), torch.randn(T, *channels, generator=g, dtype=dtype)


@pytest.mark.parametrize("T", [1, 2, 3, 7, 8, 9, 100, 1000])
def test_the_scan_equals_the_sequential_recurrence(T):
    a, b = _pair(T, 3, 2)
    assert torch.allclose(linear_scan(a, b), sequential_scan(a, b), rtol=0, atol=1e-12)


def test_the_scan_takes_log_depth_rounds_and_complex_coefficients():
    assert [scan_rounds(T) for T in (1, 2, 3, 4, 5, 1024, 1025)] == [0, 1, 2, 2, 3, 10, 11]
    a = torch.polar(torch.rand(20, 4, generator=g, dtype=torch.float64), torch.randn(20, 4, generator=g, dtype=torch.float64))
    b = torch.randn(20, 4, generator=g, dtype=torch.complex128)
    assert torch.allclose(linear_scan(a, b), sequential_scan(a, b), rtol=0, atol=1e-12)


def test_combine_is_associative_but_not_commutative():
    s1, s2, s3 = (_pair(4) for _ in range(3))
    left, right = combine(combine(s1, s2), s3), combine(s1, combine(s2, s3))
    assert all(torch.allclose(x, y, rtol=0, atol=1e-14) for x, y in zip(left, right))
    assert not torch.allclose(combine(s1, s2)[1], combine(s2, s1)[1])


def test_the_scans_gradients_equal_the_loops():
    a, b = (t.requires_grad_() for t in _pair(33, 2))
    w = torch.randn(33, 2, generator=g, dtype=torch.float64)
    scan = torch.autograd.grad((linear_scan(a, b) * w).sum(), (a, b))
    loop = torch.autograd.grad((sequential_scan(a, b) * w).sum(), (a, b))
    assert all(torch.allclose(x, y, rtol=0, atol=1e-12) for x, y in zip(scan, loop))


@pytest.mark.parametrize("a, b, message", [
    (torch.zeros(3, 2), torch.zeros(3, 3), "same shape"),
    (torch.zeros(0, 2), torch.zeros(0, 2), "at least one step"),
    (torch.zeros(3, dtype=torch.int64), torch.zeros(3, dtype=torch.int64), "float"),
    (np.zeros(3), np.zeros(3), "torch tensors"),
])
def test_bad_scan_input_gets_one_sentence(a, b, message):
    with pytest.raises((TypeError, ValueError), match=message):
        linear_scan(a, b)


def test_min_gru_equals_its_step_by_step_recurrence_and_the_module_streams():
    T, B, D, H = 12, 3, 4, 5
    x = torch.randn(T, B, D, generator=g, dtype=torch.float64)
    W_z, W_h = torch.randn(D, H, generator=g, dtype=torch.float64), torch.randn(D, H, generator=g, dtype=torch.float64)
    b_z, b_h, h0 = torch.randn(H, dtype=torch.float64), torch.randn(H, dtype=torch.float64), torch.randn(B, H, dtype=torch.float64)
    h, loop = h0, []
    for t in range(T):
        z = torch.sigmoid(x[t] @ W_z + b_z)
        h = (1 - z) * h + z * (x[t] @ W_h + b_h)
        loop.append(h)
    assert torch.allclose(min_gru(x, W_z, b_z, W_h, b_h, h0), torch.stack(loop), rtol=0, atol=1e-12)
    layer = MinGRU(D, H).double()
    whole = layer(x)
    first = layer(x[:5])
    assert torch.allclose(torch.cat([first, layer(x[5:], first[-1])]), whole, rtol=0, atol=1e-12)


def test_the_2_layer_GRU_control_is_minGRUs_shape_with_GRU_layers():
    # the memory table's control column: the same two layers, MLP and residual, each layer chapter 05's GRU
    gru2, mingru = two_layer_gru_encoder(9, 32, update_bias=3.0), min_gru_encoder(9, 32, gate_bias=-3.0)
    assert [type(m) for m in (gru2.first, gru2.second)] == [torch.nn.GRU] * 2
    assert [type(m) for m in (mingru.first, mingru.second)] == [MinGRU] * 2
    assert all((layer.bias_ih_l0[32:64] == 3).all() and (layer.bias_hh_l0[32:64] == 0).all()
               for layer in (gru2.first, gru2.second))
    x = torch.randn(11, 4, 9, generator=g)
    with torch.no_grad():
        h = gru2.first(x)[0]
        expected = gru2.second(h + gru2.mlp(h))[0]
        assert gru2(x).shape == mingru(x).shape == (11, 4, 32)
        assert torch.equal(gru2(x), expected)


def test_the_language_model_reads_a_stream_in_pieces_as_in_one_pass():
    torch.manual_seed(0)
    model = MinGRULM(11, hidden=8, embed=4)
    ids = torch.randint(11, (20, 2))
    whole, _ = model(ids)
    head, state = model(ids[:7])
    tail, _ = model(ids[7:], state)
    assert torch.allclose(torch.cat([head, tail]), whole, atol=1e-5)


def test_a_time_invariant_layer_is_a_convolution_and_a_selective_one_is_not():
    torch.manual_seed(0)
    layer = DiagonalSSM(5, 3).double()
    x = torch.randn(30, 2, 5, generator=g, dtype=torch.float64)
    with torch.no_grad():
        expected = torch.nn.functional.conv1d(torch.nn.functional.pad(x.permute(1, 2, 0), (29, 0)),
                                              ssm_kernel(layer, 30).T.flip(-1)[:, None, :], groups=5).permute(2, 0, 1)
        assert torch.allclose(layer(x), expected + layer.D * x, rtol=0, atol=1e-12)
        assert torch.allclose(convolve_causal(x, ssm_kernel(layer, 30)), expected, rtol=0, atol=1e-14)
        # stable whatever the parameters: |A_bar| < 1 keeps a long input bounded
        layer.log_A.data.uniform_(-5, 5)
        assert torch.isfinite(layer(torch.ones(2000, 1, 5, dtype=torch.float64))).all()
    selective = DiagonalSSM(5, 3, selective=True)
    assert selective(x.float()).shape == x.shape
    with pytest.raises(ValueError, match="no fixed kernel"):
        ssm_kernel(selective, 30)


def test_a_selective_layer_equals_its_step_by_step_recurrence():
    torch.manual_seed(0)
    layer = DiagonalSSM(4, 3, selective=True).double()
    x = torch.randn(12, 2, 4, generator=g, dtype=torch.float64)
    with torch.no_grad():
        A = -torch.exp(layer.log_A)                                          # (H, N)
        h, ys = torch.zeros(2, 4, 3, dtype=torch.float64), []
        for x_t in x:
            delta = torch.nn.functional.softplus(layer.to_delta(x_t))[..., None]   # (B, H, 1)
            B_t, C_t = layer.to_B(x_t)[:, None, :], layer.to_C(x_t)[:, None, :]    # (B, 1, N)
            h = torch.exp(delta * A) * h + delta * B_t * x_t[..., None]
            ys.append((h * C_t).sum(-1) + layer.D * x_t)
        assert torch.allclose(layer(x), torch.stack(ys), rtol=0, atol=1e-12)


def test_the_memory_columns_normalised_linear_attention_is_a_recurrence():
    torch.manual_seed(0)
    encoder = LinearAttentionEncoder(6, 8, n_heads=2).double()
    x = torch.randn(9, 3, 6, generator=g, dtype=torch.float64)
    with torch.no_grad():
        T, B, H = 9, 3, 8
        h = encoder.inp(x) + sinusoidal_positions(T, H)[:, None, :].double()
        q, k, v = (m.reshape(T, B, 2, 4) for m in encoder.qkv(h).chunk(3, dim=-1))
        q, k = feature_map(q), feature_map(k)
        S, z, ys = torch.zeros(B, 2, 4, 4, dtype=torch.float64), torch.zeros(B, 2, 4, dtype=torch.float64), []
        for t in range(T):   # S_t = S_{t-1} + phi(k_t)^T v_t, z_t = z_{t-1} + phi(k_t), y_t = phi(q_t) S_t / phi(q_t) . z_t
            S = S + k[t][..., :, None] * v[t][..., None, :]
            z = z + k[t]
            ys.append((q[t][..., None, :] @ S)[..., 0, :] / (q[t] * z).sum(-1, keepdim=True))
        y = torch.stack(ys).reshape(T, B, H)
        expected = h + encoder.out(y)
        assert torch.allclose(encoder(x), expected + encoder.mlp(expected), rtol=0, atol=1e-10)


def test_the_minGRU_music_budget_has_the_gate_bias_as_a_knob():
    grid = MUSIC_GRIDS["minGRU"]
    assert len(grid) == len(MUSIC_GRIDS["LSTM"]) and {b.gate_bias for b in grid} == {0.0, -3.0}
    best = chosen_budget([{"settings": budget_settings(b), "validation_bits": 2.0 + i} for i, b in enumerate(grid)])
    assert best == grid[0]


def test_linear_attention_recurrence_equals_the_masked_form():
    q, k = torch.randn(2, 3, 9, 4, generator=g, dtype=torch.float64), torch.randn(2, 3, 9, 4, generator=g, dtype=torch.float64)
    v = torch.randn(2, 3, 9, 6, generator=g, dtype=torch.float64)
    y = causal_linear_attention(q, k, v)
    assert y.shape == (2, 3, 9, 6)
    assert torch.allclose(y, causal_linear_attention_parallel(q, k, v), rtol=0, atol=1e-12)
    by_hand = torch.stack([sum((q[..., t, :] * k[..., s, :]).sum(-1, keepdim=True) * v[..., s, :] for s in range(t + 1))
                           for t in range(9)], dim=-2)
    assert torch.allclose(y, by_hand, rtol=0, atol=1e-12)


def test_the_linear_attention_encoder_is_causal():
    torch.manual_seed(0)
    encoder = LinearAttentionEncoder(6, 8, n_heads=2)
    x = torch.randn(10, 2, 6)
    changed = x.clone()
    changed[7:] = torch.randn(3, 2, 6)
    assert torch.allclose(encoder(x)[:7], encoder(changed)[:7], atol=1e-6)
    assert not torch.allclose(encoder(x)[7:], encoder(changed)[7:])


def test_selective_copy_task_hides_the_symbols_at_random_places():
    ids, targets = selective_copy_task(50, np.random.default_rng(0), n_data=4, span=20)
    assert ids.shape == (24, 50) and targets.shape == (4, 50)
    assert (ids[20:] == 1).all() and ((ids[:20] >= 2).sum(0) == 4).all()
    for b in range(50):  # the symbols appear in order among the blanks
        assert (ids[:20, b][ids[:20, b] >= 2] - 2).tolist() == targets[:, b].tolist()
    first_positions = (ids[:20] >= 2).int().argmax(0)
    assert len(set(first_positions.tolist())) > 3


def test_associative_recall_is_perfect_with_few_pairs_and_softmax_wins_with_many():
    few = associative_recall(4, d=16, seed=0)
    assert few["softmax"] == few["linear"] == 1.0 and few["linear, elu + 1"] < 1.0  # positive features interfere
    many = associative_recall(64, d=16, seed=1)
    assert many["softmax"] > many["linear"] + 0.4
    assert associative_recall(64, d=16, seed=1) == many


def test_the_results_file_follows_the_protocol():
    study = load_study()
    assert study["seeds"] == list(SEEDS) and len(SEEDS) >= 3 and study["validation_seed"] == VALIDATION_SEED not in SEEDS
    for name in COPY_LAYERS:
        cell = study["selective_copy"][name]
        assert [float(lr) for lr in cell["validation"]] == list(COPY_LEARNING_RATES)
        best = max(cell["validation"], key=cell["validation"].get)
        assert cell["lr"] == float(best) and len(cell["test"]) == len(SEEDS)
    music = study["music"]
    assert [t["settings"] for t in music["sweep"]] == [budget_settings(b) for b in MUSIC_GRIDS["minGRU"]]
    assert music["settings"] == budget_settings(chosen_budget(music["sweep"]))
    assert all(len(music[key]) == len(SEEDS) for key in ("test_bits", "valid_share", "seconds", "tokens_per_second"))


def test_the_closing_table_gets_a_minGRU_cell_in_every_row():
    course, study, revival = load_results(), load_study(), load_memory(REVIVAL_FILE)
    memory = {**load_memory()["columns"], **revival["columns"]}
    reverse = json.loads(REVERSE_FILE.read_text())
    plain = closing_table(course, memory, reverse)
    extended = closing_table(course, memory, reverse, revival={"memory": revival["columns"]["minGRU"], "music": study["music"]})
    assert [row[:5] for row in extended] == plain and all(len(row) == 6 for row in extended)
    cells = revival_cells({"memory": revival["columns"]["minGRU"], "music": study["music"]}, 60, course)
    assert cells[0].startswith("minGRU 50") and f"{np.mean(study['music']['test_bits']):.2f}" in cells[8]


def test_the_minGRU_music_column_matches_a_fresh_run_at_about_the_LSTMs_time():
    """(Chapter 12 retrains seed 0 of its other columns; this is the music column no chapter trains.)"""
    study = load_study()
    stored = study["music"]
    lstm = study["lstm_seconds"]  # the LSTM timed in the same run: the machine's speed varies between sessions
    seconds = [t["seconds"] for t in stored["sweep"]] + stored["seconds"]
    assert all(abs(s / lstm - 1) < 0.35 for s in seconds), seconds
    model, _, bits = train_music_model("minGRU", seed=1, budget=chosen_budget(stored["sweep"]))
    assert bits == pytest.approx(stored["test_bits"][1], abs=0.05)
    share, samples = stored["valid_share"][1], generated_samples(model)
    assert valid_share(samples) == pytest.approx(share, abs=file_margin(share, len(samples)))
