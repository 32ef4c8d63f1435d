"""The memory benchmark's results file follows the comparison protocol and is what the course's code
measures now (a sample of cells and one tuning trial retrained), and its helpers say what the text says."""
from dataclasses import asdict

import pytest

from course_lib import memory, seed_everything
from course_lib.memory import (CLASSIC_COLUMNS, COLUMNS, LAGS, REVIVAL_COLUMNS, REVIVAL_FILE, TEST_SEEDS, VALIDATION_LAGS,
                               VALIDATION_SEED, chosen, clearly_better, disagreements, load_results, longest_solved,
                               run_cell, score_column)
from course_lib.training import RecallBudget, train_adding


@pytest.fixture(scope="module")
def saved():
    return load_results()


@pytest.fixture(scope="module")
def revival():
    return load_results(REVIVAL_FILE)


def test_results_files_follow_the_protocol(saved, revival):
    assert set(COLUMNS) == set(CLASSIC_COLUMNS) | set(REVIVAL_COLUMNS)
    for stored, names in ((saved, CLASSIC_COLUMNS), (revival, REVIVAL_COLUMNS)):
        assert stored["budget"] == asdict(RecallBudget()) and tuple(stored["lags"]) == LAGS and len(LAGS) >= 8
        assert stored["test_seeds"] == list(TEST_SEEDS) and stored["validation_seed"] == VALIDATION_SEED
        assert len(TEST_SEEDS) >= 3 and VALIDATION_SEED not in TEST_SEEDS
        assert set(stored["columns"]) == set(names)
        for name, column in stored["columns"].items():
            assert sorted(column) == list(LAGS), name
            assert all(cell is None or len(cell) == len(TEST_SEEDS) for cell in column.values()), name
            assert column[LAGS[0]] is not None, name


def test_every_family_gets_the_same_tuning_budget_chosen_on_validation(saved, revival):
    tuned = [name for name, (_, _, fixed, grid) in COLUMNS.items() if grid is not None]
    assert {COLUMNS[name][0] for name in tuned} == {"RNN", "LSTM", "GRU", "attention", "minGRU", "linear attention"}
    sweeps = {**saved["sweeps"], **revival["sweeps"]}
    settings = {**saved["settings"], **revival["settings"]}
    assert set(sweeps) == set(tuned)
    assert len({len(sweeps[name]) for name in tuned}) == 1
    for name in tuned:
        sweep = sweeps[name]
        assert all(sorted(trial["validation"]) == list(VALIDATION_LAGS) for trial in sweep)
        assert settings[name] == chosen(sweep), name
    for name in set(COLUMNS) - set(tuned):
        assert settings[name] == COLUMNS[name][2]


def test_a_sample_of_cells_matches_a_fresh_run(saved):
    seed_everything(0, threads=1)  # the benchmark's workers use one thread
    for column, lag, seed_index in (("RNN", 10, 1), ("LSTM-tuned", 20, 2), ("attention", 15, 0)):
        accuracy = run_cell(column, lag, TEST_SEEDS[seed_index], saved["settings"][column])
        assert abs(accuracy - saved["columns"][column][lag][seed_index]) < 0.03, (column, lag)
    fresh = {"GRU": {10: run_cell("GRU", 10, TEST_SEEDS[0], saved["settings"]["GRU"])}}
    assert not disagreements(fresh, saved)


def test_one_tuning_trial_matches_a_fresh_run(saved):
    seed_everything(0, threads=1)
    trial = saved["sweeps"]["RNN-orth"][0]
    lag = VALIDATION_LAGS[0]
    assert abs(run_cell("RNN-orth", lag, VALIDATION_SEED, trial["settings"]) - trial["validation"][lag]) < 0.03


def test_a_fresh_run_is_checked_exactly_where_settled_and_loosely_in_between():
    results = {"columns": {"RNN": {10: [0.96, 0.98, 1.0], 20: [0.5, 0.74, 0.9], 30: [0.12, 0.13, 0.125],
                                   40: [0.13, 0.6, 0.8]}}}
    assert disagreements({"RNN": {10: 0.97, 20: 0.97, 30: 0.15, 40: 0.125}}, results) == []
    assert disagreements({"RNN": {10: 0.5}}, results) == [("RNN", 10, 0.5, [0.96, 0.98, 1.0])]  # settled: moved
    assert disagreements({"RNN": {30: 0.4}}, results) == [("RNN", 30, 0.4, [0.12, 0.13, 0.125])]  # settled: moved
    assert disagreements({"RNN": {20: 0.2}}, results) == [("RNN", 20, 0.2, [0.5, 0.74, 0.9])]  # learned nothing


def test_the_reach_uses_the_mean_and_each_seed_and_stops_at_the_first_unsolved_lag():
    cells = {5: [1.0, 1.0, 1.0], 10: [0.95, 0.85, 0.95], 20: [0.95, 0.5, 0.4], 30: None}
    assert longest_solved(cells) == (10, [20, 5, 10])
    assert longest_solved({5: [0.2, 0.3, 0.1]}) == (None, [None, None, None])
    # a lucky run past an unsolved lag does not extend the reach
    assert longest_solved({5: [1.0], 10: [0.6], 15: [0.95]}) == (5, [5])


def test_a_difference_counts_only_beyond_the_spread():
    assert clearly_better([0.9, 0.95], [0.5, 0.85]) and not clearly_better([0.9, 0.95], [0.5, 0.92])
    assert clearly_better([0.3], None) and not clearly_better(None, [0.1])


def test_a_column_stops_after_a_lag_at_chance(monkeypatch):
    calls = []

    def fake_run_cell(column, lag, seed, settings, budget=RecallBudget()):
        calls.append(lag)
        return 1.0 if lag <= 10 else 0.125

    monkeypatch.setattr(memory, "run_cell", fake_run_cell)
    cells = score_column("RNN", {}, lags=(5, 10, 20, 30, 40), seeds=(0, 1, 2))
    assert cells == {5: [1.0] * 3, 10: [1.0] * 3, 20: [0.125] * 3, 30: None, 40: None}
    assert max(calls) == 20


def test_clipping_keeps_an_exploding_run_stable():
    unclipped = train_adding(radius=2.5, lr=0.05, clip=None)
    clipped = train_adding(radius=2.5, lr=0.05, clip=1.0)
    assert unclipped["losses"].max() > 1e3 * clipped["losses"].max() and clipped["losses"][-50:].mean() < 0.5
