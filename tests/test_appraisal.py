"""RoB 2, ROBINS-I and AMSTAR 2 algorithms and the appraisal tables' checks (ohevidence.appraisal).

Every judgement in these tests is INVENTED to exercise the rules; none is a real assessment.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from ohevidence.appraisal import (
    AMSTAR2,
    ROB2,
    ROBINS_I,
    amstar2_rating,
    load_appraisal,
    rob2_allowed_overall,
    robins_i_overall,
)
from ohevidence.curated import errors, validate_curated
from ohevidence.errors import SchemaError
from ohevidence.meta.sensitivity import read_rob_rows
from ohevidence.schema import names

CURATED = Path(__file__).resolve().parents[1] / "data" / "curated"
TAIL = {"support": "invented for tests", "source": "INVENTED (test)", "assessed_by": "test"}


def _rob(d1="low", d2="low", d3="low", d4="low", d5="low", **extra: str) -> dict[str, str]:
    return {"d1": d1, "d2": d2, "d3": d3, "d4": d4, "d5": d5, **extra}


# RoB 2 (Sterne et al. 2019, table 4): low only when all low; high when any high; otherwise some
# concerns, or high at the reviewer's judgement with some concerns in multiple domains.
@pytest.mark.parametrize(
    ("domains", "allowed"),
    [
        (_rob(), ("low",)),
        (_rob(d3="some_concerns"), ("some_concerns",)),
        (_rob(d5="high"), ("high",)),
        (_rob(d1="some_concerns", d2="high"), ("high",)),
        (_rob(d2="some_concerns", d4="some_concerns"), ("some_concerns", "high")),
        (_rob(d1="some_concerns", d2="some_concerns", d3="some_concerns"), ("some_concerns", "high")),
        (_rob(d4="no_information"), ("some_concerns", "no_information")),
        # cluster trial: D1b some concerns alone is one concern; with D1 some concerns it is multiple
        (_rob(d1b="some_concerns"), ("some_concerns",)),
        (_rob(d1="some_concerns", d1b="some_concerns"), ("some_concerns", "high")),
        (_rob(d1b="high"), ("high",)),
        (_rob(d1b="low"), ("low",)),
    ],
)
def test_rob2_algorithm(domains: dict[str, str], allowed: tuple[str, ...]) -> None:
    assert rob2_allowed_overall(domains) == allowed


@pytest.mark.parametrize(
    ("domains", "overall"),
    [
        (["low"] * 7, "low"),
        (["low", "moderate", "low", "low", "low", "low", "low"], "moderate"),
        (["serious", "moderate", "low", "low", "critical", "low", "low"], "critical"),
        (["moderate", "serious", "low", "low", "low", "low", "low"], "serious"),
        (["low", "no_information", "low", "moderate", "low", "low", "low"], "no_information"),
        (["serious", "no_information", "low", "low", "low", "low", "low"], "serious"),
    ],
)
def test_robins_i_worst_domain(domains: list[str], overall: str) -> None:
    assert robins_i_overall({f"d{i}": v for i, v in enumerate(domains, 1)}) == overall


def _answers(no: tuple[int, ...] = ()) -> dict[str, str]:
    return {f"q{i}": "no" if i in no else "yes" for i in range(1, 17)}


# Shea et al. 2017, box 2: critical items 2, 4, 7, 9, 11, 13, 15.
@pytest.mark.parametrize(
    ("no", "confidence"),
    [
        ((), "high"),
        ((10,), "high"),  # one non-critical weakness
        ((10, 16), "moderate"),  # more than one non-critical weakness
        ((1, 3, 5, 6, 8, 10, 12, 14, 16), "moderate"),
        ((7,), "low"),  # one critical flaw
        ((7, 10, 16), "low"),  # one critical flaw, with or without weaknesses
        ((2, 4), "critically_low"),  # more than one critical flaw
        ((2, 4, 7, 9, 11, 13, 15), "critically_low"),
    ],
)
def test_amstar2_rating(no: tuple[int, ...], confidence: str) -> None:
    assert amstar2_rating(_answers(no)).confidence == confidence


def test_amstar2_partial_yes_and_not_applicable_are_not_flaws() -> None:
    answers = _answers() | {"q2": "partial_yes", "q4": "partial_yes", "q11": "not_applicable"}
    rating = amstar2_rating(answers)
    assert (rating.confidence, rating.critical_flaws, rating.weaknesses) == ("high", (), ())


def _write(path: Path, columns: list[str], rows: list[dict[str, str]]) -> Path:
    lines = [",".join(columns)] + [",".join(row.get(c, "") for c in columns) for row in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _rob_row(study: str, overall: str = "", reason: str = "", **domains: str) -> dict[str, str]:
    return {"study_id": study, "variant": "parallel", **_rob(**domains), "overall": overall,
            "overall_reason": reason, **TAIL}  # fmt: skip


def test_contradicting_overall_is_one_error_unless_a_reason_is_given(tmp_path: Path) -> None:
    rob = _write(
        tmp_path / "rob.csv",
        names(ROB2.columns),
        [_rob_row("Lambeek2010", overall="low"), _rob_row("Tamminga2013", "low", d3="high")],
    )
    with pytest.raises(SchemaError) as error:
        load_appraisal(rob, ROB2)
    message = str(error.value)
    assert "rob.csv" in message and "line 3" in message and "overall" in message and "high" in message
    problems = errors(validate_curated(CURATED, {"rob.csv": rob}))
    assert [(p.line, p.column, p.value) for p in problems] == [(3, "overall", "low")]
    assert str(problems[0]).startswith(f"{rob}:3:overall:")

    reasoned = _rob_row("Tamminga2013", "low", "assessor judged the missing data ignorable", d3="high")
    _write(rob, names(ROB2.columns), [_rob_row("Lambeek2010"), reasoned])
    frame = load_appraisal(rob, ROB2)
    assert frame["overall"].tolist() == ["low", "low"]  # derived; the reviewer's with a reason
    assert errors(validate_curated(CURATED, {"rob.csv": rob})) == []


def test_multiple_some_concerns_accepts_high_and_empty_overall_is_derived(tmp_path: Path) -> None:
    rows = [
        _rob_row("Lambeek2010", "high", d2="some_concerns", d4="some_concerns"),
        _rob_row("Tamminga2013", d2="some_concerns", d4="some_concerns"),
        _rob_row("Skagseth2020", "high", d2="some_concerns"),
    ]
    rob = _write(tmp_path / "rob.csv", names(ROB2.columns), rows)
    problems = errors(validate_curated(CURATED, {"rob.csv": rob}))
    assert [(p.line, p.column) for p in problems] == [(4, "overall")]  # one concern: high needs a reason
    _write(rob, names(ROB2.columns), rows[:2])
    read, recorded = read_rob_rows(rob)
    assert recorded and [r["overall"] for r in read] == ["high", "some_concerns"]


def test_cluster_variant_needs_d1b_and_parallel_has_none(tmp_path: Path) -> None:
    cluster = _rob_row("SWAP_WynneJones2018") | {"variant": "cluster", "d1b": "some_concerns"}
    parallel_with_d1b = _rob_row("Lambeek2010") | {"d1b": "low"}
    cluster_without = _rob_row("Tamminga2013") | {"variant": "cluster"}
    rob = _write(tmp_path / "rob.csv", names(ROB2.columns), [cluster, parallel_with_d1b, cluster_without])
    problems = errors(validate_curated(CURATED, {"rob.csv": rob}))
    assert [(p.line, p.column) for p in problems] == [(3, "d1b"), (4, "d1b")]
    _write(rob, names(ROB2.columns), [cluster])
    assert load_appraisal(rob, ROB2)["overall"].tolist() == ["some_concerns"]


def test_bad_cell_names_file_line_and_column(tmp_path: Path) -> None:
    rows = [_rob_row("Lambeek2010"), _rob_row("Tamminga2013", d2="unclear"), _rob_row("Nobody2020")]
    rob = _write(tmp_path / "rob.csv", names(ROB2.columns), rows)
    problems = errors(validate_curated(CURATED, {"rob.csv": rob}))
    assert [(p.file, p.line, p.column, p.value) for p in problems] == [
        (str(rob), 3, "d2", "unclear"),
        (str(rob), 4, "study_id", "Nobody2020"),
    ]
    with pytest.raises(SchemaError) as error:
        load_appraisal(rob, ROB2)
    assert "line 3" in str(error.value) and "d2" in str(error.value)


def test_robins_i_table(tmp_path: Path) -> None:
    row = {"study_id": "WB2W_Parsons2021_feas", **{f"d{i}": "low" for i in range(1, 8)}, **TAIL}
    row |= {"d1": "serious", "d6": "moderate", "overall": "moderate"}
    path = _write(tmp_path / "robins_i.csv", names(ROBINS_I.columns), [row])
    problems = errors(validate_curated(CURATED, {"robins_i.csv": path}))
    assert [(p.line, p.column, p.value) for p in problems] == [(2, "overall", "moderate")]
    assert "serious" in problems[0].expected
    _write(path, names(ROBINS_I.columns), [row | {"overall": ""}])
    assert load_appraisal(path, ROBINS_I)["overall"].tolist() == ["serious"]


def test_amstar2_table(tmp_path: Path) -> None:
    row = {"study_id": "Vogel2017_Cochrane", **_answers(no=(7,)), "overall": "high", **TAIL}
    path = _write(tmp_path / "amstar2.csv", names(AMSTAR2.columns), [row])
    problems = errors(validate_curated(CURATED, {"amstar2.csv": path}))
    assert [(p.line, p.column, p.value) for p in problems] == [(2, "overall", "high")]
    assert problems[0].expected.startswith("low (Shea 2017: 1 critical flaw(s)")
    bad = row | {"overall": "", "q1": "partial_yes", "q3": "not_applicable"}
    _write(path, names(AMSTAR2.columns), [bad])
    problems = errors(validate_curated(CURATED, {"amstar2.csv": path}))
    assert [(p.line, p.column) for p in problems] == [(2, "q1"), (2, "q3")]
    _write(path, names(AMSTAR2.columns), [row | {"overall": ""}])
    assert load_appraisal(path, AMSTAR2)["overall"].tolist() == ["low"]


def test_shipped_curated_tables_hold_no_invented_rob2() -> None:
    """The evidence gives only Cochrane RoB 1 judgements (Lambeek 2010): no RoB 2 row is shipped."""
    assert not (CURATED / "rob.csv").exists()
    assert errors(validate_curated(CURATED)) == []
