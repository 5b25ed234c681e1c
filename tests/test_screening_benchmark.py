"""benchmarks/screening.py's leave-one-dataset-out choice: the worst task first, ties within noise."""

from __future__ import annotations

import importlib.util
import math
from pathlib import Path

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


# Two candidates on three datasets' tasks (the two Cohen oral hypoglycemics tasks do not both exist,
# so the three datasets are ace, nudging and Wilson: each held out in turn).
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
