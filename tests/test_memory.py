"""The memory benchmark's results file is what the course's code measures now, and says what the text says."""
from dataclasses import asdict

import pytest

from course_lib import seed_everything
from course_lib.memory import LAGS, MODELS, load_results, memory_table
from course_lib.training import RecallBudget, train_adding


@pytest.fixture(scope="module")
def fresh():
    seed_everything(0)
    return memory_table(MODELS)[0]


def test_results_file_matches_a_fresh_run(fresh):
    saved = load_results()
    assert saved["budget"] == asdict(RecallBudget()) and tuple(saved["lags"]) == LAGS
    chance = 1 / RecallBudget().n_symbols
    for name, column in fresh.items():
        for lag, accuracy in column.items():
            stored = saved["columns"][name][lag]
            if stored >= 0.95 or abs(stored - chance) < 0.05:  # solved, or at chance: the same on every CPU
                assert abs(stored - accuracy) < 0.05, (name, lag)
            else:
                # Between the two, one seed's outcome hangs on float rounding: an AMD EPYC gives the RNN 0.97 at
                # lag 20 where the file (another CPU) holds 0.74. The run must still have learned the task in part.
                assert accuracy > chance + 0.1, (name, lag)


def test_rnn_solves_the_shortest_lag_and_fails_the_longest(fresh):
    chance = 1 / RecallBudget().n_symbols
    assert fresh["RNN"][LAGS[0]] > 0.9 and abs(fresh["RNN"][LAGS[-1]] - chance) < 0.05


def test_clipping_keeps_an_exploding_run_stable():
    unclipped = train_adding(radius=2.5, lr=0.05, clip=None)
    clipped = train_adding(radius=2.5, lr=0.05, clip=1.0)
    assert unclipped["losses"].max() > 1e3 * clipped["losses"].max() and clipped["losses"][-50:].mean() < 0.5
