"""Critical appraisal as data: RoB 2, ROBINS-I and AMSTAR 2 tables and their algorithms.

Three optional, human-owned tables (contracts in :mod:`ohevidence.schema`):

* ``rob.csv`` (RoB 2, Sterne et al. 2019; cluster variant with domain 1b, Eldridge et al. 2021):
  the overall is **low** only when every domain is low and **high** when any domain is high;
  otherwise **some concerns**, except that with some concerns in two or more domains the reviewer
  may judge the result **high** ("multiple some concerns", RoB 2 guidance 2019, p. 8), so both are
  accepted there. A domain with no information counts as a concern (never as low); the overall may
  then also read ``no_information``.
* ``robins_i.csv`` (ROBINS-I, Sterne et al. 2016): the overall is the worst domain (low < moderate
  < serious < critical); when no domain is serious or critical but one has no information, the
  overall is ``no_information`` (ROBINS-I guidance, table 3).
* ``amstar2.csv`` (AMSTAR 2, Shea et al. 2017): a "no" on a critical item (2, 4, 7, 9, 11, 13, 15)
  is a critical flaw, a "no" on any other item a non-critical weakness. More than one critical flaw:
  **critically low**; one: **low**; none and more than one weakness: **moderate**; otherwise **high**.

An empty ``overall`` is derived by the algorithm; a typed-in ``overall`` that the algorithm does not
allow is an error unless ``overall_reason`` says why.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ohevidence.errors import SchemaError
from ohevidence.schema import (
    AMSTAR2_COLUMNS,
    AMSTAR2_CRITICAL,
    AMSTAR2_ITEMS,
    AMSTAR2_NOT_APPLICABLE,
    AMSTAR2_PARTIAL_YES,
    ROB_COLUMNS,
    ROB_DOMAINS,
    ROBINS_I_COLUMNS,
    ROBINS_I_DOMAINS,
    Column,
)
from ohevidence.tableio import read_table

ROB2_FILE = "rob.csv"
ROBINS_I_FILE = "robins_i.csv"
AMSTAR2_FILE = "amstar2.csv"
ROBINS_I_ORDER: tuple[str, ...] = ("low", "moderate", "serious", "critical")


def rob2_domain_keys(variant: str) -> tuple[str, ...]:
    """The RoB 2 domains of a variant, in plot order (d1b only for cluster trials)."""
    return tuple(k for k in ROB_DOMAINS if k != "overall" and (k != "d1b" or variant == "cluster"))


def rob2_allowed_overall(domains: Mapping[str, str]) -> tuple[str, ...]:
    """Overall judgements the RoB 2 algorithm allows; the first is the one it derives."""
    values = list(domains.values())
    if "high" in values:
        return ("high",)
    if all(v == "low" for v in values):
        return ("low",)
    allowed = ["some_concerns"]
    if values.count("some_concerns") + values.count("no_information") >= 2:
        allowed.append("high")  # multiple some concerns: the reviewer may judge high
    if "no_information" in values:
        allowed.append("no_information")
    return tuple(allowed)


def robins_i_overall(domains: Mapping[str, str]) -> str:
    """The worst domain; no information only when no domain is serious or critical."""
    values = list(domains.values())
    rated = [v for v in values if v in ROBINS_I_ORDER]
    worst = max(rated, key=ROBINS_I_ORDER.index) if rated else "no_information"
    if "no_information" in values and worst in ("low", "moderate"):
        return "no_information"
    return worst


@dataclass(frozen=True)
class Amstar2Rating:
    confidence: str
    critical_flaws: tuple[int, ...]
    weaknesses: tuple[int, ...]  # non-critical


def amstar2_rating(answers: Mapping[str, str]) -> Amstar2Rating:
    """Shea et al. 2017's overall confidence from the 16 answers (``q1`` ... ``q16``)."""
    flaws = tuple(i for i in range(1, 17) if i in AMSTAR2_CRITICAL and answers.get(f"q{i}") == "no")
    weak = tuple(i for i in range(1, 17) if i not in AMSTAR2_CRITICAL and answers.get(f"q{i}") == "no")
    if len(flaws) > 1:
        confidence = "critically_low"
    elif flaws:
        confidence = "low"
    elif len(weak) > 1:
        confidence = "moderate"
    else:
        confidence = "high"
    return Amstar2Rating(confidence, flaws, weak)


@dataclass(frozen=True)
class CellProblem:
    """One bad cell of a row: the caller adds the file and line."""

    column: str
    value: str
    expected: str


def _overall_problem(cells: Mapping[str, str], allowed: Sequence[str], rule: str) -> list[CellProblem]:
    typed = cells.get("overall", "").strip()
    if not typed or typed in allowed or cells.get("overall_reason", "").strip():
        return []
    return [
        CellProblem(
            "overall",
            typed,
            f"{' or '.join(allowed)} ({rule}), or a reason in overall_reason for the reviewer's judgement",
        )
    ]


def rob2_problems(cells: Mapping[str, str]) -> list[CellProblem]:
    """Variant/domain consistency and the overall of one rob.csv row (cells already pattern-checked)."""
    variant = cells.get("variant", "")
    d1b = cells.get("d1b", "").strip()
    if variant == "cluster" and not d1b:
        return [CellProblem("d1b", "", "a judgement for domain 1b (cluster-randomised variant)")]
    if variant == "parallel" and d1b:
        return [CellProblem("d1b", d1b, "empty: domain 1b applies to the cluster variant only")]
    domains = {k: cells.get(k, "") for k in rob2_domain_keys(variant)}
    if not all(domains.values()):
        return []  # an empty domain is reported by the contract check
    return _overall_problem(
        cells, rob2_allowed_overall(domains), "RoB 2: low if all low, high if any high, else some concerns"
    )


def robins_i_problems(cells: Mapping[str, str]) -> list[CellProblem]:
    domains = {k: cells.get(k, "") for k in ROBINS_I_DOMAINS if k != "overall"}
    if not all(domains.values()):
        return []
    return _overall_problem(cells, (robins_i_overall(domains),), "ROBINS-I: the worst domain")


def amstar2_problems(cells: Mapping[str, str]) -> list[CellProblem]:
    problems: list[CellProblem] = []
    for key in AMSTAR2_ITEMS:
        item, answer = int(key[1:]), cells.get(key, "")
        if answer == "partial_yes" and item not in AMSTAR2_PARTIAL_YES:
            problems.append(CellProblem(key, answer, "yes or no (item has no 'partial yes' option)"))
        if answer == "not_applicable" and item not in AMSTAR2_NOT_APPLICABLE:
            problems.append(CellProblem(key, answer, "yes, partial_yes or no (item always applies)"))
    if problems or not all(cells.get(k) for k in AMSTAR2_ITEMS):
        return problems
    rating = amstar2_rating(cells)
    return _overall_problem(
        cells,
        (rating.confidence,),
        f"Shea 2017: {len(rating.critical_flaws)} critical flaw(s), "
        f"{len(rating.weaknesses)} non-critical weakness(es)",
    )


@dataclass(frozen=True)
class Tool:
    """One appraisal table: its file name, contract, row check and overall derivation."""

    name: str
    file: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]

    def problems(self, cells: Mapping[str, str]) -> list[CellProblem]:
        return {"RoB 2": rob2_problems, "ROBINS-I": robins_i_problems, "AMSTAR 2": amstar2_problems}[
            self.name
        ](cells)

    def derived_overall(self, cells: Mapping[str, str]) -> str:
        if self.name == "RoB 2":
            return rob2_allowed_overall({k: cells[k] for k in rob2_domain_keys(cells["variant"])})[0]
        if self.name == "ROBINS-I":
            return robins_i_overall({k: cells[k] for k in ROBINS_I_DOMAINS if k != "overall"})
        return amstar2_rating(cells).confidence


ROB2 = Tool("RoB 2", ROB2_FILE, ROB_COLUMNS, ("study_id", "outcome_id"))
ROBINS_I = Tool("ROBINS-I", ROBINS_I_FILE, ROBINS_I_COLUMNS, ("study_id", "outcome_id"))
AMSTAR2 = Tool("AMSTAR 2", AMSTAR2_FILE, AMSTAR2_COLUMNS, ("study_id",))
TOOLS: tuple[Tool, ...] = (ROB2, ROBINS_I, AMSTAR2)


def load_appraisal(path: str | Path, tool: Tool) -> pd.DataFrame:
    """A checked appraisal table with every empty ``overall`` derived by the tool's algorithm.

    The first bad cell stops with one error naming file, line and column (``ohevidence validate``
    lists them all).
    """
    frame = read_table(path, tool.columns)
    overall = []
    for index, cells in enumerate(frame.to_dict("records")):
        problems = tool.problems(cells)
        if problems:
            first = problems[0]
            raise SchemaError(
                path,
                f"bad value {first.value!r}",
                line=index + 2,
                column=first.column,
                expected=first.expected,
            )
        overall.append(cells["overall"] or tool.derived_overall(cells))
    frame["overall"] = overall
    return frame


def load_rob2(path: str | Path) -> pd.DataFrame:
    return load_appraisal(path, ROB2)
