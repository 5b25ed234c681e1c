"""GRADE from the numbers: a proposal for each of the five domains of one analysis, with its rule.

Each domain is proposed from what the pipeline already holds (the analysis JSON, studies.csv,
outcomes.csv, rob.csv, curated_not_included.csv and the analysis' optional ``grade:`` block in the
config) and carries the rule that produced it, in words. A reviewer's ``data/curated/grade.csv``
may override any domain with a reason. Certainty starts high for randomised evidence and low for
non-randomised, and moves down one level per serious concern and two per very serious one (GRADE
handbook 5; Cochrane Handbook 14.2). Rules, thresholds and sources: docs/methods/grade.md.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import ClassVar

from ohevidence.curated import Problem, check_cells, check_unique, read_rows
from ohevidence.errors import InputError
from ohevidence.meta.contract import JsonDocument
from ohevidence.meta.funnel import MIN_K, small_study_test
from ohevidence.meta.result import AnalysisResult, StudyRow
from ohevidence.meta.spec import GradeSettings
from ohevidence.schema import (
    COMPARATOR_TYPES,
    GRADE_CERTAINTY,
    GRADE_COLUMNS,
    GRADE_DOMAINS,
    OUTCOME_DEFINITIONS,
    POPULATION_TYPES,
)

RANDOMISED_DESIGNS = ("RCT", "cluster RCT", "pilot/feasibility RCT")
# Risk of bias: "most information" (GRADE guidelines 4; Cochrane Handbook 14.2.2) = half the weight.
ROB_SHARE = 50.0
# Inconsistency: I² 75-100% "considerable" heterogeneity (Cochrane Handbook 10.10.2); 50% "substantial".
I2_CONSIDERABLE = 75.0
I2_SUBSTANTIAL = 50.0
# Imprecision without a MID: appreciable benefit or harm = relative change of 25% (GRADE guidelines 6,
# Guyatt 2011); optimal information size defaults: 400 participants (continuous), 300 events (binary).
RATIO_APPRECIABLE = 1.25
OIS_PARTICIPANTS = 400
OIS_EVENTS = 300
# curated_not_included.csv reason of a study screened out on its title/abstract: not the same question.
SCREENED_OUT = "excluded at title/abstract"
EGGER_ALPHA = 0.10  # Egger's test (Cochrane Handbook 13.3.5.4)
LEVELS = {"not serious": 0, "serious": 1, "very serious": 2, "undetected": 0, "strongly suspected": 1}


@dataclass(frozen=True)
class DomainJudgement:
    """One GRADE domain: the proposal and its rule, the decision (a reviewer's override or the proposal)."""

    domain: str
    proposal: str
    rule: str
    decision: str
    override_reason: str  # empty when the decision is the proposal
    levels: int  # levels the decision moves certainty down


@dataclass(frozen=True)
class AbsoluteEffect:
    """Absolute effect from a control risk (per 1,000) or a control mean (outcome units)."""

    basis: str
    control: float
    intervention: float
    intervention_low: float
    intervention_high: float
    difference: float
    difference_low: float
    difference_high: float
    unit: str  # "per 1,000" or the outcome's units
    text: str


@dataclass(frozen=True)
class GradeProposal(JsonDocument):
    """``results/meta/grade/<id>.json``: GRADE for one analysis."""

    LABEL: ClassVar[str] = "<GRADE JSON>"

    analysis_id: str
    domain: str
    measure: str
    k: int
    start: str  # high (randomised) or low (non-randomised)
    start_rule: str
    domains: list[DomainJudgement]
    proposed_certainty: str
    certainty: str  # the decision
    certainty_rule: str
    certainty_override_reason: str
    absolute: AbsoluteEffect | None
    source: str  # grade.csv source/assessed_by when overridden, else "proposed from the numbers"

    def judgement(self, domain: str) -> DomainJudgement:
        return next(d for d in self.domains if d.domain == domain)


def _pct(value: float) -> str:
    return f"{value:.0f}%"


def _num(value: float) -> str:
    return f"{value:.3g}"


def _null(ratio: bool) -> float:
    return 1.0 if ratio else 0.0


def _rob_lookup(rob: Sequence[Mapping[str, str]]) -> dict[tuple[str, str], str]:
    return {(r["study_id"], r.get("outcome_id") or ""): r.get("overall", "") for r in rob}


def _rob_of(row: StudyRow, rob: Mapping[tuple[str, str], str]) -> str | None:
    for outcome in [row.outcome_id, *row.outcome_id.split("+")]:
        if (row.study_id, outcome) in rob:
            return rob[(row.study_id, outcome)]
    return rob.get((row.study_id, ""))


def risk_of_bias(meta: AnalysisResult, rob: Sequence[Mapping[str, str]]) -> tuple[str, str]:
    """Share of the analysis weight from studies at high risk and at some concerns (RoB 2 overall)."""
    lookup = _rob_lookup(rob)
    share = {"low": 0.0, "some_concerns": 0.0, "high": 0.0, "no_information": 0.0, "": 0.0}
    missing: list[str] = []
    for row in meta.studies:
        judged = _rob_of(row, lookup)
        if judged is None:
            missing.append(row.study_id)
            share[""] += row.weight
        else:
            share[judged if judged in share else "no_information"] += row.weight
    k = len(meta.studies)
    unassessed = len(dict.fromkeys(missing))
    studies = len({s.study_id for s in meta.studies})
    high = share["high"]
    concerns = share["some_concerns"] + share["no_information"] + share[""]
    parts = (
        f"weight from studies at high risk {_pct(high)}, at some concerns or no information "
        f"{_pct(share['some_concerns'] + share['no_information'])}, not assessed {_pct(share[''])}"
    )
    if unassessed == studies and k:
        return (
            "serious",
            f"no risk-of-bias assessment recorded for {unassessed} of {studies} studies "
            f"(weight {_pct(share[''])}): downgraded until assessed (unassessed weight counts as some "
            f"concerns; a proposal of 'not serious' needs assessments)",
        )
    rule = (
        f"{parts}; very serious when studies at high risk carry >= {ROB_SHARE:.0f}% of the weight, "
        f"serious when high risk plus some concerns (or not assessed) carry >= {ROB_SHARE:.0f}% "
        "(most of the information from studies at risk of bias)"
    )
    if high >= ROB_SHARE:
        return "very serious", rule
    if high + concerns >= ROB_SHARE:
        return "serious", rule
    return "not serious", rule


def _overlap(a: StudyRow, b: StudyRow) -> bool:
    return a.ci_low <= b.ci_high and b.ci_low <= a.ci_high


def inconsistency(meta: AnalysisResult) -> tuple[str, str]:
    """I², the prediction interval and point estimates on both sides of no effect."""
    overall = meta.overall
    if overall is None or not overall.pooled or len(meta.studies) < 2:
        return "not serious", "not applicable: a single study, so no inconsistency between studies to judge"
    null = _null(meta.ratio)
    above = [s for s in meta.studies if s.estimate > null]
    below = [s for s in meta.studies if s.estimate < null]
    both_sides = bool(above) and bool(below)
    disjoint = any(not _overlap(a, b) for a in meta.studies for b in meta.studies if a is not b)
    i2 = overall.i2 or 0.0
    reported = overall.reported
    ci_excludes = (
        reported.ci_low is not None
        and reported.ci_high is not None
        and not (reported.ci_low <= null <= reported.ci_high)
    )
    pi_crosses = (
        (overall.tau2 or 0.0) > 0
        and reported.pi_low is not None
        and reported.pi_high is not None
        and reported.pi_low < null < reported.pi_high
    )
    facts = (
        f"I² = {i2:.0f}%; point estimates {'on both sides of' if both_sides else 'on one side of'} no effect"
        f" ({len(above)} above, {len(below)} below); "
        + ("some study CIs do not overlap" if disjoint else "every pair of study CIs overlaps")
        + (
            "; no prediction interval"
            if reported.pi_low is None
            else f"; prediction interval {_num(reported.pi_low)} to {_num(reported.pi_high or 0)}"
        )
    )
    rule = (
        f"{facts}. Very serious when I² >= {I2_CONSIDERABLE:.0f}% with estimates on both sides of no effect "
        f"and non-overlapping CIs; serious when I² >= {I2_CONSIDERABLE:.0f}%, or I² >= {I2_SUBSTANTIAL:.0f}% "
        "with estimates on both sides, or (with τ² > 0) the prediction interval crosses no effect while the "
        "CI does not"
    )
    if i2 >= I2_CONSIDERABLE and both_sides and disjoint:
        return "very serious", rule
    if i2 >= I2_CONSIDERABLE or (i2 >= I2_SUBSTANTIAL and both_sides) or (pi_crosses and ci_excludes):
        return "serious", rule
    return "not serious", rule


PICO_DIMENSIONS = {
    "population": "population",
    "comparator_type": "comparator",
    "outcome_definition": "outcome",
    "timepoint": "outcome",
}


# The codes the comparability flags carry, in the words the footnotes use.
_VALUE_WORDS: dict[str, dict[str, str]] = {
    "population": POPULATION_TYPES,
    "population_type": POPULATION_TYPES,
    "outcome_definition": OUTCOME_DEFINITIONS,
    "comparator_type": COMPARATOR_TYPES,
}


def indirectness(
    meta: AnalysisResult, studies: Mapping[str, Mapping[str, str]], settings: GradeSettings
) -> tuple[str, str]:
    """PICO elements the pooled rows mix (the analysis' allow_mixed flags), and a declared population."""
    mixed: dict[str, list[str]] = {}
    for dimension, values in meta.mixed.items():
        element = PICO_DIMENSIONS.get(dimension, dimension)
        words = [_VALUE_WORDS.get(dimension, {}).get(v, v.replace("_", " ")) for v in values]
        label = "time point (months)" if dimension == "timepoint" else dimension.replace("_", " ")
        mixed.setdefault(element, []).append(f"{label} ({'; '.join(words)})")
    facts = [f"{element}: {'; '.join(parts)}" for element, parts in mixed.items()]
    if settings.population:
        total = sum(s.weight for s in meta.studies) or 1.0
        other = sum(
            s.weight
            for s in meta.studies
            if (studies.get(s.study_id, {}).get("population_type") or "") != settings.population
        )
        share = 100.0 * other / total
        facts.append(
            f"{_pct(share)} of the weight from studies whose population is not the declared "
            f"'{settings.population}' (or not recorded)"
        )
        if share >= ROB_SHARE and "population" not in mixed:
            mixed["population"] = []
    unchecked = sorted(meta.not_recorded)
    detail = (
        "; ".join(facts) if facts else "the pooled rows do not differ in population, comparator or outcome"
    )
    if unchecked:
        detail += f" (not recorded for some rows, so unchecked: {', '.join(unchecked)})"
    rule = (
        f"{detail}. Serious when the pooled studies differ from each other (or from the declared "
        "population) in one or two PICO elements (population, comparator, outcome definition or time "
        "window); very serious in three"
    )
    if len(mixed) >= 3:
        return "very serious", rule
    if mixed:
        return "serious", rule
    return "not serious", rule


def _events(meta: AnalysisResult, outcomes: Mapping[tuple[str, str], Mapping[str, str]]) -> float | None:
    total = 0.0
    for row in meta.studies:
        for outcome in row.outcome_id.split("+"):
            cells = outcomes.get((row.study_id, outcome)) or {}
            try:
                total += float(cells.get("events_int") or "nan") + float(cells.get("events_ctl") or "nan")
            except ValueError:
                return None
    return None if math.isnan(total) else total


def participants(meta: AnalysisResult) -> float:
    """Participants pooled: arm n of each row (a shared control already split), else analysed n."""
    total = 0.0
    for row in meta.studies:
        if row.n_int is not None and row.n_ctl is not None:
            total += row.n_int + row.n_ctl
        elif row.n_analysed is not None:
            total += row.n_analysed
    return total


def imprecision(
    meta: AnalysisResult,
    outcomes: Mapping[tuple[str, str], Mapping[str, str]],
    settings: GradeSettings,
) -> tuple[str, str]:
    """CI against no effect and appreciable benefit/harm (MID), the optimal information size, k = 1."""
    reported = meta.overall.reported if meta.overall else None
    if reported is None or reported.ci_low is None or reported.ci_high is None:
        return "very serious", "no pooled estimate or CI: the effect cannot be estimated"
    low, high = reported.ci_low, reported.ci_high
    null = _null(meta.ratio)
    benefit: float | None = None
    harm: float | None = None
    threshold = ""
    if settings.mid is not None:
        mid = settings.mid
        if meta.ratio:
            benefit, harm = min(mid, 1 / mid), max(mid, 1 / mid)
        else:
            benefit, harm = -mid, mid
        threshold = f"the configured MID ({_num(benefit)} / {_num(harm)})"
    elif meta.ratio:
        benefit, harm = 1 / RATIO_APPRECIABLE, RATIO_APPRECIABLE
        threshold = f"appreciable benefit or harm ({_num(benefit)} / {_num(harm)}: a 25% relative change)"
    crosses_null = low < null < high
    crosses_mid = settings.mid is not None and any(low < t < high for t in (benefit, harm) if t is not None)
    both = benefit is not None and harm is not None and low < min(benefit, harm) and high > max(benefit, harm)
    reasons: list[str] = []
    ci = f"CI {_num(low)} to {_num(high)}"
    reasons.append(f"{ci} {'crosses' if crosses_null else 'excludes'} no effect ({_num(null)})")
    if threshold:
        reasons.append(
            f"{'includes both' if both else 'does not include both'} {threshold}"
            + ("; crosses the MID" if crosses_mid else "")
        )
    n = participants(meta)
    ratio_binary = meta.measure in ("OR", "RR", "RD")
    ois_met = True
    if settings.optimal_information_size is not None:
        ois_met = n >= settings.optimal_information_size
        reasons.append(
            f"{n:.0f} participants against the configured OIS of {settings.optimal_information_size}"
        )
    elif ratio_binary:
        events = _events(meta, outcomes)
        if events is None:
            reasons.append("events not recorded for every study: OIS (300 events) not checked")
        else:
            ois_met = events >= OIS_EVENTS
            reasons.append(f"{events:.0f} events against the default OIS of {OIS_EVENTS}")
    else:
        ois_met = n >= OIS_PARTICIPANTS
        reasons.append(f"{n:.0f} participants against the default OIS of {OIS_PARTICIPANTS}")
    single = len({s.study_id for s in meta.studies}) == 1
    if single:
        reasons.append("a single study")
    rule = (
        "; ".join(reasons)
        + ". Very serious when the CI includes both appreciable benefit and appreciable harm; serious when "
        "it crosses no effect (or the MID), the optimal information size is not met, or one study gives "
        "the estimate (GRADE guidelines 6, Guyatt 2011)"
    )
    if both:
        return "very serious", rule
    if crosses_null or crosses_mid or not ois_met or single:
        return "serious", rule
    return "not serious", rule


def _randomised(design: str) -> bool:
    return design in RANDOMISED_DESIGNS


def publication_bias(
    meta: AnalysisResult,
    studies: Sequence[Mapping[str, str]],
    not_included: Sequence[Mapping[str, str]],
    with_results: set[str],
) -> tuple[str, str]:
    """Egger's test with k >= 10; otherwise registered trials of the review without results in it."""
    egger = small_study_test(meta)
    if egger is not None:
        rule = (
            f"Egger's test on {len(meta.studies)} studies: P = {egger.p:.3f}; strongly suspected when "
            f"P < {EGGER_ALPHA} (Cochrane Handbook 13.3.5.4)"
        )
        return ("strongly suspected" if egger.p < EGGER_ALPHA else "undetected"), rule
    pooled = {s.study_id for s in meta.studies}
    excluded = {r["study_id"]: r.get("reason", "") for r in not_included}
    missing: list[str] = []
    ongoing: list[str] = []
    for study in studies:
        sid = study["study_id"]
        if (
            sid in pooled
            or study.get("design") not in ("RCT", "cluster RCT")
            or not study.get("registry_ids")
        ):
            continue
        n = study.get("n_randomised") or "?"
        label = f"{sid} ({study.get('registry_ids')}, {study.get('status')}, n = {n})"
        if study.get("status") == "ongoing":
            ongoing.append(label)
        elif sid in excluded and SCREENED_OUT in excluded[sid]:
            continue  # judged at title/abstract not to address the question
        elif sid not in with_results and (study.get("status") == "discontinued" or sid in excluded):
            missing.append(label + (f": {excluded[sid]}" if sid in excluded else ""))
    checked = (
        f"k = {len(meta.studies)} < {MIN_K}: no funnel plot or Egger's test. Checked the curated registered "
        "randomised trials not in this analysis (and not screened out at title/abstract) for trials "
        "discontinued, or completed with no results in the review"
    )
    detail = (f"; found {len(missing)}: {'; '.join(missing)}" if missing else "; found none") + (
        f"; ongoing (results not yet due, not counted): {'; '.join(ongoing)}" if ongoing else ""
    )
    rule = checked + detail + ". Strongly suspected when at least one such trial exists"
    return ("strongly suspected" if missing else "undetected"), rule


def starting_level(meta: AnalysisResult, studies: Mapping[str, Mapping[str, str]]) -> tuple[str, str]:
    designs = {s.study_id: studies.get(s.study_id, {}).get("design", "") for s in meta.studies}
    other = sorted(sid for sid, design in designs.items() if not _randomised(design))
    if not designs:
        return "low", "no pooled study"
    if other:
        return "low", f"non-randomised evidence ({', '.join(other)}): starts low"
    which = "the one study" if len(designs) == 1 else f"all {len(designs)} studies"
    return "high", f"{which} randomised (studies.csv design): starts high"


def certainty_of(start: str, levels: int) -> str:
    """Start level moved down ``levels`` (floored at very low)."""
    order = list(GRADE_CERTAINTY)  # high, moderate, low, very low
    return order[min(order.index(start) + levels, len(order) - 1)]


def absolute_effect(meta: AnalysisResult, settings: GradeSettings) -> AbsoluteEffect | None:
    """Per 1,000 from a control risk (OR, RR, HR), or in outcome units from a control mean (MD, IRR/ROM)."""
    reported = meta.overall.reported if meta.overall else None
    if reported is None or reported.estimate is None or reported.ci_low is None or reported.ci_high is None:
        return None
    values = (reported.estimate, reported.ci_low, reported.ci_high)
    measure = meta.measure
    if settings.control_risk is not None and measure in ("OR", "RR", "HR"):
        cr = settings.control_risk

        def risk(effect: float) -> float:
            if measure == "OR":
                return effect * cr / (1 - cr + effect * cr)
            if measure == "RR":
                return min(effect * cr, 1.0)
            return 1 - (1 - cr) ** effect  # HR: proportional hazards

        control = 1000 * cr
        est, low, high = (1000 * risk(v) for v in values)
        low, high = min(low, high), max(low, high)
        text = (
            f"{est - control:+.0f} per 1,000 ({low - control:+.0f} to {high - control:+.0f}); "
            f"{control:.0f} per 1,000 with control, {est:.0f} with the intervention"
        )
        return _absolute(
            f"control risk {control:.0f} per 1,000", control, (est, low, high), "per 1,000", text
        )
    if settings.control_mean is not None and measure in ("MD", "IRR", "ROM"):
        cm = settings.control_mean
        # a mean difference adds to the control mean; a ratio of means or rates multiplies it
        est, low, high = (cm + v if measure == "MD" else cm * v for v in values)
        unit = settings.unit or "units"
        text = f"{est - cm:+.3g} {unit} ({low - cm:+.3g} to {high - cm:+.3g}); control mean {_num(cm)}"
        return _absolute(f"control mean {_num(cm)} {unit}", cm, (est, low, high), unit, text)
    return None


def _absolute(
    basis: str, control: float, intervention: tuple[float, float, float], unit: str, text: str
) -> AbsoluteEffect:
    """The effect with the intervention (estimate, low, high) and its difference from the control."""
    est, low, high = intervention
    return AbsoluteEffect(
        basis=basis,
        control=control,
        intervention=est,
        intervention_low=low,
        intervention_high=high,
        difference=est - control,
        difference_low=low - control,
        difference_high=high - control,
        unit=unit,
        text=text,
    )


def read_grade_overrides(path: str | Path | None) -> dict[str, tuple[int, dict[str, str]]]:
    """grade.csv rows by analysis_id, each with its line; {} when the file is absent."""
    if path is None or not Path(path).is_file():
        return {}
    problems: list[Problem] = []
    rows = read_rows(Path(path), GRADE_COLUMNS, problems)
    problems += check_cells(str(path), rows, GRADE_COLUMNS) + check_unique(str(path), rows, ["analysis_id"])
    if problems:
        first = problems[0]
        raise InputError(
            path,
            f"{first.value!r}",
            line=first.line or None,
            column=None if first.column == "-" else first.column,
            expected=f"{first.expected} ({len(problems)} problem(s) in all)",
        )
    return {row.cells["analysis_id"].strip(): (row.line, dict(row.cells)) for row in rows}


def _override(
    judgement: DomainJudgement, row: Mapping[str, str] | None, file: str, line: int | None
) -> DomainJudgement:
    if not row:
        return judgement
    decided = (row.get(judgement.domain) or "").strip()
    if not decided or decided == judgement.proposal:
        return judgement
    reason = (row.get(f"{judgement.domain}_reason") or row.get("reasons") or "").strip()
    if not reason:
        raise InputError(
            file,
            f"{decided!r} overrides the proposal {judgement.proposal!r} without a reason",
            line=line,
            column=judgement.domain,
            expected=f"a reason in {judgement.domain}_reason (or reasons)",
        )
    return replace(judgement, decision=decided, override_reason=reason, levels=LEVELS[decided])


def grade_analysis(
    meta: AnalysisResult,
    *,
    studies: Sequence[Mapping[str, str]],
    outcomes: Sequence[Mapping[str, str]],
    rob: Sequence[Mapping[str, str]],
    not_included: Sequence[Mapping[str, str]],
    with_results: set[str],
    settings: GradeSettings,
    override: Mapping[str, str] | None = None,
    override_file: str = "grade.csv",
    override_line: int | None = None,
) -> GradeProposal:
    """GRADE of one analysis: the five proposals, the reviewer's decisions and the certainty."""
    by_study = {s["study_id"]: s for s in studies}
    by_outcome = {(o["study_id"], o["outcome_id"]): o for o in outcomes}
    proposals = {
        "risk_of_bias": risk_of_bias(meta, rob),
        "inconsistency": inconsistency(meta),
        "indirectness": indirectness(meta, by_study, settings),
        "imprecision": imprecision(meta, by_outcome, settings),
        "publication_bias": publication_bias(meta, studies, not_included, with_results),
    }
    domains = [
        _override(
            DomainJudgement(domain, proposal, rule, proposal, "", LEVELS[proposal]),
            override,
            override_file,
            override_line,
        )
        for domain, (proposal, rule) in ((d, proposals[d]) for d in GRADE_DOMAINS)
    ]
    start, start_rule = starting_level(meta, by_study)
    proposed = certainty_of(start, sum(LEVELS[d.proposal] for d in domains))
    derived = certainty_of(start, sum(d.levels for d in domains))
    down = [f"{d.domain.replace('_', ' ')} {d.decision} (-{d.levels})" for d in domains if d.levels]
    certainty_rule = (
        f"{start_rule}; "
        + (", ".join(down) if down else "no domain downgraded")
        + f" -> {derived} (one level per serious concern, two per very serious; floor very low)"
    )
    certainty, certainty_reason = derived, ""
    typed = ((override or {}).get("certainty") or "").strip()
    if typed and typed != derived:
        certainty_reason = ((override or {}).get("reasons") or "").strip()
        if not certainty_reason:
            raise InputError(
                override_file,
                f"certainty {typed!r} differs from {derived!r} (derived from the domain decisions) "
                "without a reason",
                line=override_line,
                column="certainty",
                expected="a reason in reasons",
            )
        certainty = typed
    overridden = any(d.override_reason for d in domains) or certainty_reason
    source = (
        f"reviewer: {(override or {}).get('assessed_by', '')} ({(override or {}).get('source', '')})"
        if overridden
        else "proposed from the numbers (ohevidence meta grade)"
    )
    return GradeProposal(
        analysis_id=meta.analysis_id,
        domain=meta.domain,
        measure=meta.measure,
        k=meta.k,
        start=start,
        start_rule=start_rule,
        domains=domains,
        proposed_certainty=proposed,
        certainty=certainty,
        certainty_rule=certainty_rule,
        certainty_override_reason=certainty_reason,
        absolute=absolute_effect(meta, settings),
        source=source,
    )
