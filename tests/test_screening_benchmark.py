"""benchmarks/screening.py's leave-one-dataset-out choice: the worst task first, ties within noise."""

from __future__ import annotations

import importlib.util
import math
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
SPEC = importlib.util.spec_from_file_location("screening_benchmark", ROOT / "benchmarks" / "screening.py")
assert SPEC and SPEC.loader
bench = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(bench)


def task(diff: float, sd: float = 0.0, relevant: int = 50, seeds: int = 4) -> dict:
    """A task summary as `task_summary` gives it, reduced to what the choice and `overall` read
    (anchor WSS@95 50; the seeds' spread is given as ``sd``)."""
    metrics = {"wss95": 50.0 + diff, "rrf10": 0.0, "atd": 0.0}
    return {
        "wss95_minus_anchor": diff,
        "wss95_sd": sd,
        "relevant": relevant,
        "runs": [{"seed": seed, "wss95": 50.0 + diff} for seed in range(1, seeds + 1)],
        "mean": metrics,
        "anchor_elas_u4": {"wss95": 50.0, "rrf10": 0.0, "atd": 0.0},
    }


# Three tasks of three different datasets (one task each), so that leaving one dataset out holds out
# one task: ace, nudging and Wilson.
A, N, W = "ace_ferdinands2023", "nudging_ferdinands2023", "wilson_ferdinands2023"


def test_strict_rule_takes_the_better_worst_task_however_small_the_step() -> None:
    candidates = {
        "steady": {A: task(-1.00, sd=2.0), N: task(+1.0), W: task(+1.0)},
        "better_mean": {A: task(-1.04, sd=2.0), N: task(+5.0), W: task(+5.0)},
    }
    assert bench.choose(candidates, "strict") == "steady"


def test_one_se_rule_ties_worst_tasks_within_a_standard_error_and_takes_the_better_mean() -> None:
    # worst tasks -1.00 and -1.04; the standard error of the first is 2.0 / sqrt(4) = 1.0
    candidates = {
        "steady": {A: task(-1.00, sd=2.0), N: task(+1.0), W: task(+1.0)},
        "better_mean": {A: task(-1.04, sd=2.0), N: task(+5.0), W: task(+5.0)},
    }
    assert bench.worst_task_se(candidates["steady"]) == pytest.approx(1.0)
    assert bench.choose(candidates) == "better_mean"


def test_one_se_rule_keeps_a_worst_task_that_is_clearly_better() -> None:
    # -1.0 against -3.0, with a standard error of 0.5: not a tie, so the mean does not decide
    candidates = {
        "steady": {A: task(-1.0, sd=1.0), N: task(+1.0), W: task(+1.0)},
        "better_mean": {A: task(-3.0, sd=1.0), N: task(+9.0), W: task(+9.0)},
    }
    assert bench.choose(candidates) == "steady"
    assert bench.choose(candidates, "strict") == "steady"


def test_the_worst_task_is_read_among_tasks_with_20_or_more_relevant_records() -> None:
    # the small task (15 relevant) is worse, but the rule judges the worst task with >= 20
    candidates = {
        "a": {A: task(-6.0, relevant=15), N: task(-1.0, sd=0.2), W: task(+2.0)},
        "b": {A: task(+3.0, relevant=15), N: task(-2.0, sd=0.2), W: task(+9.0)},
    }
    assert bench.choice_key(candidates["a"]) == (-1.0, pytest.approx(-5.0 / 3))
    assert bench.worst_task_se(candidates["a"]) == pytest.approx(0.1)
    assert bench.choose(candidates) == "a"


def test_one_seed_has_no_standard_error_so_both_rules_agree() -> None:
    candidates = {
        "steady": {A: task(-1.00, sd=0.0, seeds=1), N: task(+1.0, seeds=1), W: task(+1.0, seeds=1)},
        "better_mean": {A: task(-1.04, sd=0.0, seeds=1), N: task(+5.0, seeds=1), W: task(+5.0, seeds=1)},
    }
    assert bench.choose(candidates) == bench.choose(candidates, "strict") == "steady"


def test_lodo_chooses_on_the_other_datasets_and_records_the_rule() -> None:
    candidates = {
        "steady": {A: task(-1.00, sd=2.0), N: task(+1.0, sd=2.0), W: task(+1.0)},
        "better_mean": {A: task(-1.04, sd=2.0), N: task(+5.0, sd=2.0), W: task(+5.0)},
    }
    result = bench.lodo(candidates)
    assert result["rule"] == "one_se"
    assert {t: r["chosen"] for t, r in result["tasks"].items()} == {
        A: "better_mean",  # on nudging and Wilson the better mean is also the better worst task
        N: "better_mean",  # on ace and Wilson: worst -1.04 against -1.00, a tie within 1.0
        W: "better_mean",
    }
    strict = bench.lodo(candidates, "strict")
    assert strict["rule"] == "strict"
    assert strict["tasks"][N]["chosen"] == "steady" == strict["tasks"][W]["chosen"]
    assert strict["tasks"][A]["chosen"] == "better_mean"
    assert math.isclose(result["mean_diff"], (-1.04 + 5.0 + 5.0) / 3)


def test_an_unknown_rule_is_an_error() -> None:
    with pytest.raises(ValueError, match="unknown rule"):
        bench.choose({"a": {A: task(0.0)}}, "lenient")


# Saved orders and the settings that made them


@pytest.fixture
def runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """Saved orders under tmp_path; simulations recorded (options passed) instead of run."""
    monkeypatch.setattr(bench, "RUNS", tmp_path)
    monkeypatch.setattr(bench, "records_with_text", lambda task: frozenset({"1", "2"}))
    calls: list[list[str]] = []

    def simulate_once(
        path: Path, label: str, id_column: str | None, seed: int, extra: list[str]
    ) -> tuple[pd.DataFrame, float]:
        calls.append(extra)
        return pd.DataFrame({"record_id": ["2", "1", "3"], "label": [1, 0, 0]}), 1.5

    monkeypatch.setattr(bench, "simulate_once", simulate_once)
    return calls


def test_an_order_is_saved_with_its_settings_and_reused(runs: list[list[str]]) -> None:
    labels, seconds, _ = bench.run_or_reuse("prior_1", A, 1, [], reuse=True)
    assert runs == [["--featureless-prior", "1"]] and seconds == 1.5
    recorded = bench.settings_file(bench.saved_order("prior_1", A, 1))
    assert bench.json.loads(recorded.read_text()) == bench.run_settings("prior_1", [])
    assert bench.saved_with("prior_1", A, 1, []) is True
    again = bench.run_or_reuse("prior_1", A, 1, [], reuse=True)
    assert len(runs) == 1  # read back, not simulated again
    assert again[0].tolist() == labels.tolist() == [1, 0, 0]
    assert again[2] is not None and again[2].tolist() == [True, True, False]


def test_an_order_made_with_other_settings_is_simulated_again(runs: list[list[str]]) -> None:
    bench.run_or_reuse("default", A, 2, [], reuse=True)
    recorded = bench.settings_file(bench.saved_order("default", A, 2))
    stale = bench.json.loads(recorded.read_text())
    stale["defaults"]["featureless_prior"] = 1.0  # a default changed in the code since
    recorded.write_text(bench.json.dumps(stale))
    assert bench.saved_with("default", A, 2, []) is False
    assert not bench.reusable("default", A, 2, [])
    bench.run_or_reuse("default", A, 2, [], reuse=True)
    assert len(runs) == 2
    assert bench.saved_with("default", A, 2, []) is True  # the record is rewritten with the order
    # the same candidate with extra options is another run
    assert bench.saved_with("default", A, 2, ["--growth", "0"]) is False


def test_an_order_without_a_record_is_read_as_before(runs: list[list[str]]) -> None:
    saved = bench.saved_order("default", A, 3)
    saved.parent.mkdir(parents=True)
    saved.write_text("record_id,label,seconds\n1,1,9.0\n2,0,9.0\n")
    assert bench.saved_with("default", A, 3, []) is None
    assert bench.reusable("default", A, 3, [])
    labels, seconds, _ = bench.run_or_reuse("default", A, 3, [], reuse=True)
    assert runs == [] and seconds == 9.0 and labels.tolist() == [1, 0]
    assert bench.saved_with("default", A, 4, []) is None and not bench.reusable("default", A, 4, [])
