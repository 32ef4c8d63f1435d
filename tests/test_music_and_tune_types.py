"""Chapter 06's music helpers (validity test, synthesis) and the many-to-one tune classifier's pieces."""
import numpy as np
import pytest
import torch

from course_lib.music import SAMPLE_RATE, check_tune, synthesize, tune_notes, valid_share
from course_lib.tune_types import KINDS, confusion_matrix, labelled, majority_accuracy, masked_mean, notes_batch
from course_lib.tunes import Vocab, load_tunes, split_tunes

REEL = "M:C|\nL:1/8\nK:G\n" + "|".join(["GABc dBGB"] * 10) + "|]\n"


def test_a_regular_tune_is_valid_and_each_rule_can_fail_it():
    report = check_tune(REEL)
    assert report.valid and report.bars >= 8 and report.full_share == 1.0
    assert not check_tune(REEL.replace("M:C|\n", "")).valid                      # rule 1: no meter
    assert check_tune(REEL.replace("K:G\n", "")).why.startswith("no meter")       # rule 1: no key
    short = "M:C|\nL:1/8\nK:G\n" + "|".join(["GABc dBGB"] * 4) + "|]\n"
    assert "only" in check_tune(short).why and not check_tune(short).valid       # rule 3: too few bars
    ragged = "M:C|\nL:1/8\nK:G\n" + "|".join(["GABc dB", "GABc dBGBA"] * 6) + "|]\n"
    assert "full" in check_tune(ragged).why                                      # rule 4: bars of the wrong length


def test_most_real_held_out_tunes_are_valid():
    _, valid = split_tunes(load_tunes())
    assert valid_share([t.text() for t in valid[::4]]) > 0.9
    with pytest.raises(ValueError, match="empty"):
        valid_share([])


def test_notes_have_pitch_and_duration_and_the_clip_is_capped():
    notes = tune_notes(REEL, max_seconds=2.0)
    assert notes[0] == (pytest.approx(392.0, abs=0.5), pytest.approx(0.15))  # ABC "G" is G4; an eighth lasts 0.15 s
    assert sum(s for _, s in notes) == pytest.approx(2.1, abs=0.16)


def test_synthesized_audio_has_no_clicks_between_notes():
    notes = [(440.0, 0.2), (0.0, 0.1), (660.0, 0.15), (330.0, 0.3)]
    wave = synthesize(notes)
    assert wave.dtype == np.float32 and len(wave) == round(0.75 * SAMPLE_RATE)
    assert np.abs(wave).max() == pytest.approx(0.9, abs=1e-6)
    boundaries = np.cumsum([round(s * SAMPLE_RATE) for _, s in notes])[:-1]
    for b in boundaries:  # the envelope is ~0 on both sides of every note boundary
        assert np.abs(wave[b - 1:b + 1]).max() < 0.05


def test_labels_come_from_the_rhythm_field_and_inputs_are_notes_only():
    tunes, labels = labelled(load_tunes())
    assert all(t.kind in KINDS for t in tunes) and labels.tolist() == [KINDS.index(t.kind) for t in tunes]
    vocab = Vocab([t.text() for t in load_tunes()])
    x, mask = notes_batch(tunes[:5], vocab, length=50)
    first = vocab.decode(x[:, 0][mask[:, 0]])
    assert first == tunes[0].body[:50] and "R:" not in first and "M:" not in first
    with pytest.raises(ValueError, match="none of the tunes"):
        labelled(load_tunes(), kinds=("polka",))


def test_masked_mean_confusion_matrix_and_majority():
    states = torch.arange(12.0).reshape(3, 2, 2)
    mask = torch.tensor([[True, True], [True, False], [False, False]])
    assert torch.equal(masked_mean(states, mask), torch.tensor([[2.0, 3.0], [2.0, 3.0]]))  # (0,1)+(4,5); (2,3) alone
    counts = confusion_matrix(torch.tensor([0, 1, 1, 3]), torch.tensor([0, 0, 1, 3]))
    assert counts.sum() == 4 and counts[0, 1] == 1 and np.trace(counts) == 3
    assert majority_accuracy(torch.tensor([2, 2, 1]), torch.tensor([2, 0, 2, 2])) == 0.75
