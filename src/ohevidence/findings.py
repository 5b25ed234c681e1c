"""Plain-language findings: one statement per analysis in GRADE's standard wording.

The wording follows GRADE guidance 26 (Santesso et al. 2020, J Clin Epidemiol 119:126-135):
the certainty sets the verb's hedge (high: "reduces"; moderate: "probably reduces"; low: "may
reduce"; very low: "We are uncertain whether ... because the certainty of the evidence is very
low"), the size of the effect sets "slightly" or "little or no difference". What counts as "near no
effect" and as "small" is one table per measure (``DEFAULT_THRESHOLDS``, overridden by the config's
``report: findings_thresholds``), documented in docs/methods/findings.md.

The verbs say which way the estimate goes on the outcome as measured ("reduces sickness absence",
"increases return to work"), never whether that is good: the outcome's label says what is measured.

This module reads results (analysis and GRADE JSON) and returns data; the HTML page is drawn by
``ohevidence.report.findings``.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ohevidence.cells import split_multi
from ohevidence.meta.grade import GradeProposal, participants
from ohevidence.meta.result import AnalysisResult
from ohevidence.schema import (
    GRADE_CERTAINTY,
    MAP_DOMAIN_LABELS,
    MEASURE_WORDS,
    RATIO_MEASURES,
    map_domain,
)

NOT_DECLARED = "not declared"  # the analysis JSON's pico words for a dimension left open
NUMBER_WORDS = {1: "one", 2: "two"}
# an analysis without a PICO block (grammatically singular: the sentences say "reduces")
DEFAULT_INTERVENTION = "occupational health support"
DEFAULT_POPULATION = "workers in the included trials"


@dataclass(frozen=True)
class Thresholds:
    """How far from no effect an estimate is "near no effect" (``near_null``) or "small" (``small``).

    Ratios: a ratio r counts by max(r, 1/r) (1.10 = a 10% relative change either way).
    Differences (MD, SMD, RD): the absolute distance from 0 on the measure's own scale.
    ``None``: the measure has no default (an MD's units differ by outcome): no "slightly", and
    "little or no difference" is never said from the size alone.
    """

    near_null: float | None
    small: float | None


# Ratios: under 10% is "near no effect"; under 25% "small" (GRADE's default appreciable benefit or
# harm, a relative change of 25%: GRADE guidelines 6, Guyatt 2011; the same as meta/grade.py).
# SMD: Cohen's 0.2 (small) and 0.5 (medium). RD: 10 and 50 per 1,000. MD: outcome units, no default.
DEFAULT_THRESHOLDS: dict[str, Thresholds] = {
    **{measure: Thresholds(1.10, 1.25) for measure in RATIO_MEASURES},
    "SMD": Thresholds(0.2, 0.5),
    "RD": Thresholds(0.01, 0.05),
    "MD": Thresholds(None, None),
}


def thresholds_from_settings(settings: Mapping[str, Any] | None) -> dict[str, Thresholds]:
    """DEFAULT_THRESHOLDS with the config's ``report: findings_thresholds`` (measure -> near_null, small)."""
    table = dict(DEFAULT_THRESHOLDS)
    for measure, value in (settings or {}).items():
        base = table.get(measure, Thresholds(None, None))
        table[measure] = Thresholds(value.get("near_null", base.near_null), value.get("small", base.small))
    return table


@dataclass(frozen=True)
class Size:
    """Where the estimate and its CI fall: which way, whether the CI includes no effect, how big."""

    change: str  # "increase", "decrease", "none" (exactly null) or "no estimate"
    ci_includes_null: bool
    near_null: bool  # estimate within the near-null threshold
    small: bool  # estimate within the small threshold (and not near null)


def effect_size(measure: str, estimate: float | None, low: float | None, high: float | None,
                thresholds: Mapping[str, Thresholds]) -> Size:  # fmt: skip
    """Classify an estimate (reporting scale) against no effect and the measure's thresholds."""
    if estimate is None or low is None or high is None:
        return Size("no estimate", True, False, False)
    ratio = measure in RATIO_MEASURES
    null = 1.0 if ratio else 0.0
    distance = (max(estimate, 1 / estimate) if estimate > 0 else math.inf) if ratio else abs(estimate)
    limits = thresholds.get(measure, Thresholds(None, None))
    near = limits.near_null is not None and distance < limits.near_null
    small = not near and limits.small is not None and distance < limits.small
    change = "none" if estimate == null else ("increase" if estimate > null else "decrease")
    return Size(change, low <= null <= high, near, small)


_HEDGE = {"high": "", "moderate": "probably ", "low": "may "}


def _verb(change: str, modal: bool) -> str:
    """'reduces', or 'reduce' after a modal ('may reduce'; 'probably reduces' keeps the -s)."""
    base = {"increase": "increase", "decrease": "reduce"}[change]
    return base if modal else base + "s"


def wording(certainty: str, size: Size, *, intervention: str, outcome: str) -> str:
    """GRADE guidance 26 sentence for one effect: certainty x size (see the module docstring).

    ``certainty`` empty (not assessed) says so instead of hedging; "no estimate" says there is none.
    """
    if size.change == "no estimate":
        return f"No estimate is available for the effect of {intervention} on {outcome}."
    no_difference = size.ci_includes_null and (size.near_null or size.change == "none")
    if certainty == "very low":
        what = (
            f"{intervention} makes any difference to {outcome}"
            if no_difference
            else f"{intervention} {_verb(size.change, False)} {outcome}"
        )
        return f"We are uncertain whether {what} because the certainty of the evidence is very low."
    if certainty not in _HEDGE:
        if no_difference:
            claim = f"the estimate shows little or no difference in {outcome} with {intervention}"
        else:
            claim = f"the estimate suggests that {intervention} {_verb(size.change, False)} {outcome}"
        caveat = (
            " (the confidence interval includes no effect)"
            if size.ci_includes_null and not no_difference
            else ""
        )
        return f"The certainty of this evidence was not assessed; {claim}{caveat}."
    hedge = _HEDGE[certainty]
    modal = certainty == "low"  # "may reduce"; "reduces", "probably reduces"
    if no_difference:
        verb = "result" if modal else "results"
        sentence = f"{intervention} {hedge}{verb} in little or no difference in {outcome}"
    else:
        slightly = " slightly" if size.small else ""
        sentence = f"{intervention} {hedge}{_verb(size.change, modal)} {outcome}{slightly}"
        if size.ci_includes_null:
            sentence += ", but the confidence interval includes no effect"
    return sentence[0].upper() + sentence[1:] + "."


@dataclass(frozen=True)
class AnalysisFinding:
    """One analysis in words, with the numbers behind the words (findings.json)."""

    analysis_id: str
    label: str  # the analysis in words: intervention, population, outcome
    domain: str  # one of MAP_DOMAIN_LABELS
    outcome: str
    intervention: str
    population: str
    measure: str
    estimate: float | None
    ci_low: float | None
    ci_high: float | None
    k: int
    participants: int | None
    certainty: str  # high / moderate / low / very low / "" (not assessed)
    change: str  # increase / decrease / none / no estimate
    direction: str  # contract words: "no clear difference", "no estimate", or "" (the change is in `change`)
    ci_includes_null: bool
    headline: bool  # false for k <= 2: reported as one or two studies, not a pooled headline
    absolute: str  # GRADE absolute effect in words, or ""
    statement: str
    forest_plot: str  # results/figures/forest/<id>.png (path; the page embeds it when it exists)
    role_studies: dict[str, int]  # taxonomy role id -> pooled rows it delivered (ids stay in the JSON)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def _words(value: object) -> str:
    return str(value or "").replace("_", " ").strip()


def read_analysis(path: str | Path) -> AnalysisResult:
    """``results/meta/<id>.json`` (``ohevidence meta run``), checked against its contract."""
    return AnalysisResult.read(path)


def describe(meta: AnalysisResult) -> tuple[str, str, str, str]:
    """(label, intervention, population, outcome) in words, from the analysis' declared PICO."""
    # a dimension the analysis did not declare is not part of its question: no words for it
    pico = {
        key: value
        for key, value in asdict(meta.pico).items()
        if not str(value or "").startswith(NOT_DECLARED)
    }
    domain = map_domain(meta.domain)
    outcome = _words(pico.get("outcome_definition")) or _words(meta.domain)
    timepoint = _words(pico.get("timepoint"))
    if timepoint:
        outcome += f" (at {timepoint})"
    intervention = _words(pico.get("intervention_type")) or DEFAULT_INTERVENTION
    comparator = _words(pico.get("comparator_type"))
    if comparator:
        intervention += f" (compared with {comparator})"
    population = _words(pico.get("population")) or DEFAULT_POPULATION
    heading = MAP_DOMAIN_LABELS[domain]
    label = (
        heading
        + ("" if outcome.lower() == heading.lower() else f": {outcome}")
        + f" ({MEASURE_WORDS.get(meta.measure, meta.measure)})"
        + (f", by {_words(meta.group_by)}" if meta.group_by not in ("", "none") else "")
    )
    return label, intervention, population, outcome


def _studies_phrase(k: int) -> str:
    return f"{NUMBER_WORDS.get(k, str(k))} {'study' if k == 1 else 'studies'}"


def _number(value: float) -> str:
    return f"{value:.2f}"


def analysis_finding(
    meta: AnalysisResult,
    grade: GradeProposal | None,
    thresholds: Mapping[str, Thresholds],
    forest_plot: str = "",
    participants_text: str = "",
) -> AnalysisFinding:
    """The statement for one analysis: GRADE wording, the effect with CI, k and participants.

    ``participants_text``: the summary of findings' participants cell (from outcomes.csv, e.g. "509
    (n not reported by 1 of 3 comparisons)") when given; else the arm n the analysis JSON carries.
    """
    label, intervention, population, outcome = describe(meta)
    reported = meta.overall.reported if meta.overall is not None else None
    estimate = reported.estimate if reported else None
    low, high = (reported.ci_low, reported.ci_high) if reported else (None, None)
    size = effect_size(meta.measure, estimate, low, high, thresholds)
    certainty = grade.certainty if grade is not None and grade.certainty in GRADE_CERTAINTY else ""
    where = outcome if population == DEFAULT_POPULATION else f"{outcome} in {population}"
    sentence = wording(certainty, size, intervention=intervention, outcome=where)
    headline = meta.headline
    count = participants(meta) if meta.studies else 0.0
    leading = re.match(r"\d[\d,]*", participants_text.strip())
    n = int(leading.group().replace(",", "")) if leading else (round(count) if count else None)
    note = participants_text.strip()[leading.end() :].strip(" ()") if leading else ""
    absolute = grade.absolute.text if grade is not None and grade.absolute is not None else ""
    if estimate is not None and low is not None and high is not None:
        numbers = (
            f"{MEASURE_WORDS.get(meta.measure, meta.measure)} {_number(estimate)}, "
            f"95% CI {_number(low)} to {_number(high)}; {_studies_phrase(meta.k)}"
            + (
                f", {n:,} participants" + (f", {note}" if note else "")
                if n
                else ", participants not reported"
            )
        )
        if absolute:
            numbers += f"; absolute effect: {absolute}"
        sentence = f"{sentence[:-1]} ({numbers})."
    if meta.k <= 2 and size.change != "no estimate":
        basis = (
            "Evidence from a single study, not pooled: "
            if meta.k == 1
            else "Evidence from two studies only, not a pooled headline: "
        )
        sentence = basis + sentence
    if size.change == "no estimate":
        direction = "no estimate"
    elif size.ci_includes_null:
        direction = "no clear difference"
    else:
        direction = ""
    return AnalysisFinding(
        analysis_id=meta.analysis_id,
        label=label,
        domain=map_domain(meta.domain),
        outcome=outcome,
        intervention=intervention,
        population=population,
        measure=meta.measure,
        estimate=estimate,
        ci_low=low,
        ci_high=high,
        k=meta.k,
        participants=n,
        certainty=certainty,
        change=size.change,
        direction=direction,
        ci_includes_null=size.ci_includes_null,
        headline=headline,
        absolute=absolute,
        statement=sentence,
        forest_plot=forest_plot,
        role_studies=dict(Counter(role for row in meta.studies for role in split_multi(row.job_role))),
    )
