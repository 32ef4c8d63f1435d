"""The memory benchmark's results file: its budget, and the rule by which chapters 04, 05 and 09 check their
freshly trained columns against it."""
from dataclasses import asdict


from course_lib.memory import LAGS, MODELS, file_mismatches, load_results, save_results
from course_lib.training import RecallBudget, train_adding


def test_results_file_has_the_budget_and_lags_the_code_uses():
    saved = load_results()
    assert saved["budget"] == asdict(RecallBudget()) and tuple(saved["lags"]) == LAGS
    assert set(saved["columns"]) == set(MODELS)


def test_a_fresh_column_is_checked_exactly_where_settled_and_loosely_in_between(tmp_path):
    """Chapters 04, 05 and 09 train the columns and call file_mismatches; here, its rule on a made-up file."""
    path = tmp_path / "memory.json"
    save_results({"RNN": {5: 1.0, 10: 1.0, 20: 0.74, 50: 0.12, 100: 0.13}}, path=path)
    assert file_mismatches("RNN", {5: 1.0, 10: 0.99, 20: 0.97, 50: 0.13, 100: 0.12}, path) == []
    assert file_mismatches("RNN", {5: 0.9, 10: 1.0, 20: 0.74, 50: 0.3, 100: 0.13}, path) == [5, 50]  # settled ones moved
    assert file_mismatches("RNN", {5: 1.0, 10: 1.0, 20: 0.2, 50: 0.12, 100: 0.13}, path) == [20]  # learned nothing


def test_clipping_keeps_an_exploding_run_stable():
    unclipped = train_adding(radius=2.5, lr=0.05, clip=None)
    clipped = train_adding(radius=2.5, lr=0.05, clip=1.0)
    assert unclipped["losses"].max() > 1e3 * clipped["losses"].max() and clipped["losses"][-50:].mean() < 0.5
