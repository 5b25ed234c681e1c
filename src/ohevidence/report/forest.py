"""Forest plots in the Cochrane RevMan 5 layout, subgrouped by job role.

Text columns on the left (study, intervention and control arm data, weight, effect with CI), the graph
on the right under a header such as "Hazard Ratio / IV, Random, 95% CI". Squares are sized by weight
(area ∝ weight), whiskers end in arrows when the CI runs off the axis, ratios sit on a log axis, and
"Favours intervention" / "Favours control" are placed by the outcome's direction (``higher_is_better``
in outcomes.csv). Each job role gets its subtotal diamond with RevMan's heterogeneity and overall-effect
lines; then the total diamond, an optional prediction-interval bar (the engine's: t on k − 2 df and
none below three studies by default, or metafor's z-based one when the analysis asks for ``pi: z``;
the bar is drawn from three studies up either way) and the test for subgroup differences. Studies
of the analysis' domain and measure with no usable estimate are listed under their role as "no
estimate (status; reason)" so the gap is visible; a review's pooled estimate as "not pooled:
includes <its trials in this table>" with the review's printed estimate.

A study's effect and CI are printed as published when the engine used them unchanged; every other
row (an 80% CI, a re-signed estimate, a split shared control, a design effect, an effect computed
from arm data, a published estimate not used) prints the 95% CI the engine used and carries a
lettered footnote (a, b, c ...) saying what was used and why, in words; arm data beside a trial's own
(adjusted) estimate are footnoted as descriptive. The technical detail (``from``, ``converted``)
stays in the analysis JSON. The analysis' notes (small-k cautions, mixed outcome definitions,
subgroups left out of the test) follow as unlettered notes, written from the JSON's structured keys
with study and role names instead of ids.

Every number comes from the meta-analysis outputs (results/meta/<id>.json); nothing is re-estimated.
The one derived quantity is I² of the test for subgroup differences, (Q − df)/Q (Higgins 2003), which
RevMan prints and the engine's test does not carry. Arm data (events/total, mean/SD/total) come from the
curated outcomes row the engine used.

Layout is measured, not guessed: column widths are the widest text in each column as the Agg renderer
draws it, long study names wrap onto a second line, and every row has its own height, so 1 to 60+
rows lay out without overlaps.
"""

from __future__ import annotations

import math
import re
import textwrap
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
from matplotlib import transforms
from matplotlib.figure import Figure
from matplotlib.patches import Polygon
from matplotlib.ticker import FixedLocator, NullLocator

from ohevidence import effects as fx
from ohevidence.cells import split_multi
from ohevidence.meta.io import cell_number
from ohevidence.meta.result import AnalysisResult, PooledModel, StudyRow
from ohevidence.meta.roles import JobRole, read_job_roles, subgroup_of
from ohevidence.report.common import (
    TextMeasurer,
    count_participants,
    format_number,
    format_p,
    index_by,
    read_csv_rows,
    role_label,
    study_label,
)
from ohevidence.report.rob import COLOURS as ROB_COLOURS
from ohevidence.report.rob import SYMBOLS as ROB_SYMBOLS
from ohevidence.report.rob import header as rob_header
from ohevidence.report.rob import read_rob
from ohevidence.schema import (
    COMPARATOR_TYPES,
    OUTCOME_DEFINITIONS,
    POPULATION_TYPES,
    RATIO_MEASURES,
    ROB_DOMAINS,
)

MEASURE_NAMES: dict[str, str] = {
    "RR": "Risk Ratio",
    "OR": "Odds Ratio",
    "HR": "Hazard Ratio",
    "IRR": "Rate Ratio",
    "ROM": "Ratio of Means",
    "MD": "Mean Difference",
    "SMD": "Std. Mean Difference",
    "RD": "Risk Difference",
}
FIXED_METHODS = {"FE", "MH", "PETO"}
# Which arm data a measure's columns show: 2x2 counts, or means and SDs; otherwise totals only.
BINARY_MEASURES = {"RR", "OR", "RD"}
CONTINUOUS_MEASURES = {"MD", "SMD", "ROM", "IRR"}
SQUARE_COLOUR = "#1f3f9f"  # RevMan's blue squares; diamonds and lines are black
LABEL_WRAP = 44  # characters of a study name per line; longer names take a second line
MAX_LABEL_LINES = 2
PI_MIN_K = 3
# RoB 2 columns beside the graph (R meta's rob() / RevMan Web layout): legend lines under the plot.
ROB_LEGEND_DOMAINS = (
    "Risk of bias (RoB 2): D1 randomisation process; D2 deviations from intended interventions; "
    "D3 missing outcome data; D4 measurement of the outcome; D5 selection of the reported result."
)
ROB_LEGEND_DOMAINS_CLUSTER = ROB_LEGEND_DOMAINS.replace(
    "D1 randomisation process;",
    "D1 randomisation process; D1b timing of identification and recruitment (cluster trials);",
)
ROB_LEGEND_JUDGEMENTS = (
    "Risk of bias judgements: + low (green), − some concerns (yellow), × high (red), ? no information "
    "(blue); 'not assessed': no assessment recorded for the study."
)
ROB_NOT_ASSESSED = (
    "Risk of bias not assessed: no study in this analysis has a RoB 2 assessment yet "
    "(the appraisal status table of the report lists what is needed)."
)
# Footnote letters and the superscripts that mark a row (Unicode has no superscript q).
LETTERS = "abcdefghijklmnoprstuvwxyz"
SUPERSCRIPTS = dict(zip(LETTERS, "ᵃᵇᶜᵈᵉᶠᵍʰⁱʲᵏˡᵐⁿᵒᵖʳˢᵗᵘᵛʷˣʸᶻ", strict=True))
# Comparability dimensions (results/meta mixed / not_recorded keys) and their values, in words.
DIMENSION_WORDS: dict[str, str] = {
    "outcome_definition": "outcome definitions",
    "timepoint": "time points",
    "comparator_type": "comparators",
    "population": "populations",
}
VALUE_WORDS: dict[str, Mapping[str, str]] = {
    "outcome_definition": OUTCOME_DEFINITIONS,
    "comparator_type": COMPARATOR_TYPES,
    "population": POPULATION_TYPES,
}


# ---------------------------------------------------------------------------
# The plot's content, independent of drawing.
# ---------------------------------------------------------------------------
@dataclass(frozen=True)
class ArmData:
    n_int: str = ""
    n_ctl: str = ""
    events_int: str = ""
    events_ctl: str = ""
    mean_int: str = ""
    sd_int: str = ""
    mean_ctl: str = ""
    sd_ctl: str = ""


@dataclass(frozen=True)
class StudyEstimate:
    label: str
    estimate: float
    ci_low: float
    ci_high: float
    weight: float  # % in the overall model
    arms: ArmData = ArmData()
    published: bool = False  # estimate and CI printed as published
    marks: tuple[str, ...] = ()  # letters of the footnotes on this row
    rob: tuple[tuple[str, str], ...] = ()  # RoB 2 (domain, judgement) pairs; () = not assessed

    @property
    def marked_label(self) -> str:
        """The label with its footnote letters as superscripts ('RETAKE (Radford 2024) ᵃ')."""
        if not self.marks:
            return self.label
        return f"{self.label} " + ",".join(SUPERSCRIPTS.get(m, m) for m in self.marks)


@dataclass(frozen=True)
class Pooled:
    """A diamond: subtotal of one role or the total, with RevMan's statistics lines."""

    k: int
    estimate: float
    ci_low: float
    ci_high: float
    pooled: bool = True
    pi_low: float | None = None
    pi_high: float | None = None
    tau2: float | None = None
    q: float | None = None
    q_df: int | None = None
    q_p: float | None = None
    i2: float | None = None
    stat: float | None = None
    p: float | None = None
    stat_name: str = "Z"

    def heterogeneity_line(self) -> str:
        if not self.pooled or self.k < 2 or self.q is None:
            return "Heterogeneity: Not applicable"
        parts = []
        if self.tau2 is not None:
            parts.append(f"Tau² = {self.tau2:.2f}")
        parts.append(f"Chi² = {self.q:.2f}, df = {self.q_df} ({format_p(self.q_p)})")
        parts.append(f"I² = {self.i2:.0f}%" if self.i2 is not None else "I² = n/a")
        return "Heterogeneity: " + "; ".join(parts)

    def overall_effect_line(self) -> str:
        if self.stat is None:
            return "Test for overall effect: Not applicable"
        return f"Test for overall effect: {self.stat_name} = {abs(self.stat):.2f} ({format_p(self.p)})"


@dataclass(frozen=True)
class NoEstimate:
    label: str
    text: str  # "no estimate (completed; pooled review estimate)"


@dataclass
class Subgroup:
    name: str
    label: str
    studies: list[StudyEstimate] = field(default_factory=list)
    subtotal: Pooled | None = None
    no_estimate: list[NoEstimate] = field(default_factory=list)


@dataclass(frozen=True)
class SubgroupTest:
    q: float
    df: int
    p: float
    all_k1: bool = False

    @property
    def i2(self) -> float:
        return max(0.0, (self.q - self.df) / self.q * 100) if self.q > 0 else 0.0

    def line(self) -> str:
        return (
            f"Test for subgroup differences: Chi² = {self.q:.2f}, df = {self.df} ({format_p(self.p)}), "
            f"I² = {self.i2:.1f}%" + (" (every subgroup k = 1: not informative)" if self.all_k1 else "")
        )


@dataclass
class ForestData:
    analysis_id: str
    measure: str
    method: str  # the engine's estimator: REML, DL, FE, MH ...
    ci_method: str  # z | hksj
    subgroups: list[Subgroup]
    overall: Pooled | None
    subgroup_test: SubgroupTest | None = None
    show_subgroups: bool = True
    favours_left: str = "Favours intervention"
    favours_right: str = "Favours control"
    footnotes: list[str] = field(default_factory=list)  # general notes (model, weights, the analysis')
    lettered: list[tuple[str, str]] = field(default_factory=list)  # (letter, note) of the study rows
    rob_keys: tuple[str, ...] = ()  # RoB 2 columns beside the graph (D1[, D1b], D2-D5, overall); () = none

    @property
    def ratio(self) -> bool:
        return self.measure in RATIO_MEASURES

    @property
    def null(self) -> float:
        return 1.0 if self.ratio else 0.0

    @property
    def measure_name(self) -> str:
        return MEASURE_NAMES.get(self.measure, self.measure)

    @property
    def model_label(self) -> str:
        method = self.method.upper()
        model = "Fixed" if method in FIXED_METHODS else "Random"
        weights = "M-H" if method == "MH" else "Peto" if method == "PETO" else "IV"
        return f"{weights}, {model}, 95% CI"

    @property
    def arm_kind(self) -> str:
        return _arm_kind(self.measure)

    def all_studies(self) -> list[StudyEstimate]:
        return [s for g in self.subgroups for s in g.studies]


def _arm_kind(measure: str) -> str:
    if measure in BINARY_MEASURES:
        return "binary"
    if measure in CONTINUOUS_MEASURES:
        return "continuous"
    return "total"


def _count(value: float | None) -> str:
    return "" if value is None else f"{value:g}"


def _known(value: float | None, where: str) -> float:
    """A number the analysis JSON must have here (a model's reported estimate and CI)."""
    if value is None:
        raise ValueError(f"analysis JSON: {where} is null")
    return value


def _pooled(model: PooledModel, ci_method: str) -> Pooled:
    reported = model.reported
    return Pooled(
        k=model.k,
        estimate=_known(reported.estimate, "reported.estimate"),
        ci_low=_known(reported.ci_low, "reported.ci_low"),
        ci_high=_known(reported.ci_high, "reported.ci_high"),
        pooled=model.pooled,
        pi_low=reported.pi_low,
        pi_high=reported.pi_high,
        tau2=model.tau2,
        q=model.q,
        q_df=model.q_df,
        q_p=model.q_p,
        i2=model.i2,
        stat=model.stat,
        p=model.p,
        stat_name="t" if (model.ci_method or ci_method) == "hksj" and model.pooled else "Z",
    )


_PUBLISHED = re.compile(r"^(\S+) \[(\S+), (\S+)\] \((\d+(?:\.\d+)?)% CI\)$")


def published_ci(text: str) -> tuple[float, float, float] | None:
    """(estimate, low, high) of effects.csv ``published`` when it is a 95% CI; None otherwise."""
    match = _PUBLISHED.match(text.strip())
    if not match or abs(float(match.group(4)) - 95) > 1e-9:
        return None
    return float(match.group(1)), float(match.group(2)), float(match.group(3))


def _arms_shown(arms: ArmData, kind: str) -> bool:
    if kind == "binary":
        return bool(arms.events_int or arms.events_ctl)
    if kind == "continuous":
        return bool(arms.mean_int or arms.mean_ctl)
    return False


def _printed(outcome: Mapping[str, str]) -> str:
    """The outcome row's printed estimate and CI as written ('1.12 [0.8, 1.87]'); '' when none."""
    cells = [(outcome.get(c) or "").strip() for c in ("estimate", "ci_low", "ci_high")]
    return f"{cells[0]} [{cells[1]}, {cells[2]}]" if all(cells) else ""


def _arm_words(outcome: Mapping[str, str]) -> str:
    """What arm data an effect was computed from, in words: 'counts (165/257 vs 117/197)'."""
    e1, n1, e2, n2 = (outcome.get(c, "") for c in ("events_int", "n_int", "events_ctl", "n_ctl"))
    if e1 and n1 and e2 and n2:
        return f"counts ({e1}/{n1} vs {e2}/{n2})"
    if outcome.get("mean_int") and outcome.get("mean_ctl"):
        return "means and SDs"
    return "arm data"


def _conversion_notes(study: StudyRow, outcome: Mapping[str, str], measure: str, printed: str) -> list[str]:
    """Why the plotted 95% CI is not the published one, in words (the engine's ``converted``)."""
    notes = []
    flags = split_multi(outcome.get("flags", ""))
    multi = study.multi_arm
    source = study.source
    published = f" ({printed})" if printed else ""
    level = cell_number(outcome, "ci_level")
    if multi.startswith("split_control"):
        notes.append(
            f"Control group shared with another arm of this trial and split between the arms "
            f"(n {_count(study.n_ctl)} of {outcome.get('n_ctl', '')}), which widens the published "
            f"CI{published}."
        )
    elif multi.startswith("combine"):
        notes.append("Intervention arms combined into one group against their shared control.")
    if level is not None and abs(level - 0.95) > 1e-9:
        notes.append(f"95% CI computed from the published {level * 100:g}% CI{published}.")
    if "reversed_direction" in flags:
        notes.append(f"Published as control versus intervention{published}; sign reversed.")
    if "percentage_points" in flags:
        notes.append(f"Published in percentage points{published}; shown as a proportion.")
    if "design effect" in source and "no design effect" not in source:
        notes.append(f"CI widened by a design effect for clustering{published}.")
    return notes or [f"CI not as published ({study.converted})."]


def _study_notes(
    study: StudyRow, outcome: Mapping[str, str], arms: ArmData, kind: str, measure: str
) -> list[str]:
    """Footnotes of one study row, in words: what was plotted when it is not the published estimate
    and why; crude arm data beside the trial's own estimate."""
    notes = []
    name = MEASURE_NAMES.get(measure, measure).lower()
    printed = _printed(outcome)
    from_arms = fx.is_from_arm_data(study.source)
    if from_arms:
        basis = f"Crude {name} computed from the published {_arm_words(outcome)}"
        if study.multi_arm.startswith("split_control"):
            basis += (
                f", the control group's n split with another arm of this trial "
                f"({_count(study.n_ctl)} of {outcome.get('n_ctl', '')})"
            )
        if printed:
            adjusted = {"true": "adjusted ", "false": "crude "}.get(outcome.get("adjusted", ""), "")
            why = (
                "its CI needs checking against the full text"
                if "needs_fulltext_check" in split_multi(outcome.get("flags", ""))
                else "its confidence level is not stated"
            )
            notes.append(f"{basis}. The published {adjusted}{name} {printed} is not used: {why}.")
        else:
            notes.append(f"{basis} (no estimate published).")
    elif study.converted:
        notes += _conversion_notes(study, outcome, measure, printed)
    if _arms_shown(arms, kind) and not from_arms:
        which = " and ".join(
            word
            for word, on in (
                ("adjusted", study.adjusted is True),
                ("cluster-adjusted", study.cluster_adjusted),
            )
            if on
        )
        notes.append(
            f"Arm data shown are crude (descriptive); the effect is the trial's own "
            f"{which + ' ' if which else ''}estimate, not computed from them."
        )
    return notes


def _participants_note(
    meta: AnalysisResult,
    studies: Mapping[str, Mapping[str, str]],
    outcomes: Mapping[tuple[str, str], Mapping[str, str]],
) -> list[str]:
    """The analysis' participants, the count the summary of findings table gives."""
    if not meta.studies:
        return []
    counted = count_participants(meta, outcomes)
    parts = []
    if counted.analysed:
        parts.append("analysed n for " + ", ".join(study_label(s, studies) for s in counted.analysed))
    if any(s.multi_arm.startswith("split_control") for s in meta.studies):
        parts.append("a shared control counted once")
    if counted.missing:
        names = ", ".join(dict.fromkeys(study_label(s, studies) for s in counted.missing))
        parts.append(f"n not reported for {names}")
    return [f"Participants: {counted.total:g}" + (f" ({'; '.join(parts)})." if parts else ".")]


def _value_words(dimension: str, value: str) -> str:
    if dimension == "timepoint":
        return f"{value} months"
    words = VALUE_WORDS.get(dimension, {}).get(value, value.replace("_", " "))
    return words.split(" (")[0]


def _analysis_notes(
    meta: AnalysisResult,
    studies: Mapping[str, Mapping[str, str]],
    subgroup_label: Any,
) -> list[str]:
    """The analysis' notes in words, from the JSON's structured keys (ids become names)."""

    def names(labels: Sequence[str]) -> str:
        return ", ".join(dict.fromkeys(study_label(str(x).split(":")[0], studies) for x in labels))

    notes = []
    for dimension, values in meta.mixed.items():
        listing = "; ".join(f"{_value_words(dimension, v)} ({names(m)})" for v, m in values.items())
        notes.append(f"Pooled across different {DIMENSION_WORDS.get(dimension, dimension)}: {listing}.")
    if meta.pico.mix_reason:
        notes.append(f"Pooled together on purpose: {meta.pico.mix_reason.rstrip('.')}.")
    for dimension, labels in meta.not_recorded.items():
        words = DIMENSION_WORDS.get(dimension, dimension)
        notes.append(f"Not recorded, so not checked for differences in {words}: {names(labels)}.")
    models = [("overall", meta.overall), *meta.groups.items()]
    for name, model in models:
        if model is None or not model.pooled:
            continue
        who = "Overall" if name == "overall" else subgroup_label(name)
        for message in model.messages:
            text = re.sub(r" \(set \w+ to [^)]*\)", "", str(message))
            notes.append(f"{who}: {text}.")
    for name, why in meta.subgroup_test_excluded.items():
        notes.append(f"Test for subgroup differences leaves out {subgroup_label(name)} ({why}).")
    test = meta.subgroup_test
    if test and test.all_k1:
        notes.append("Every subgroup in the test holds one study: it compares single studies, not job roles.")
    if meta.groups and not test and meta.group_by != "none":
        notes.append("Test for subgroup differences not run: fewer than two subgroups to compare.")
    known = ("a single study", "mixed ", "comparability unchecked", "test for subgroup", "every subgroup")
    prefixes = tuple(f"{name}: " for name, _ in models)
    notes += [str(n) for n in meta.notes if not str(n).startswith(known) and not str(n).startswith(prefixes)]
    return notes


def group_of(job_role: str, group_by: str, roles: Mapping[str, JobRole]) -> str:
    """The subgroup a study belongs to, named as the engine names it (results/meta groups)."""
    return subgroup_of(job_role, group_by, roles)[0]


def _arms(row: Mapping[str, str] | None) -> ArmData:
    if not row:
        return ArmData()
    return ArmData(**{name: row.get(name, "") for name in ArmData.__dataclass_fields__})


def _favours(outcome_rows: Sequence[Mapping[str, str]]) -> tuple[str, str, list[str]]:
    """Left/right axis labels from the outcomes' direction; a footnote when rows disagree."""
    directions = {row.get("higher_is_better", "") for row in outcome_rows} - {""}
    if directions == {"true"}:
        return "Favours control", "Favours intervention", []
    if directions == {"false"}:
        return "Favours intervention", "Favours control", []
    note = (
        "Outcome direction differs between studies or is not recorded: axis labels give the direction only."
    )
    return "Lower with intervention", "Higher with intervention", [note] if directions else []


def build_forest_data(
    meta: AnalysisResult,
    studies: Mapping[str, Mapping[str, str]],
    outcomes: Mapping[tuple[str, str], Mapping[str, str]],
    roles: Mapping[str, JobRole],
    *,
    prediction_interval: bool = True,
    rob: Mapping[tuple[str, str], Mapping[str, str]] | None = None,
) -> ForestData:
    """The plot's content from one analysis' JSON (``ohevidence meta run``) and the curated tables.

    ``rob`` maps (study_id, outcome_id) to a rob.csv row (outcome_id empty: the study's main result);
    when at least one study row has an assessment, the plot gets RoB 2 columns.
    """
    rob = rob or {}
    measure = meta.measure.upper()
    ci_method = meta.ci_method
    group_by = meta.group_by
    groups: dict[str, Subgroup] = {}

    def subgroup(name: str) -> Subgroup:
        if name not in groups:
            label = role_label(name, roles) if group_by == "job_role" else (name[:1].upper() + name[1:])
            groups[name] = Subgroup(name=name, label=label)
        return groups[name]

    for name in meta.groups:
        subgroup(name)
    used_outcomes = []
    footnotes: list[str] = []
    letter_of: dict[str, str] = {}  # study-row footnote -> its letter, in order of first use
    entries = meta.studies
    repeated = {s.study_id for s in entries if sum(t.study_id == s.study_id for t in entries) > 1}
    for study in entries:
        outcome_ids = study.outcome_id.split("+")
        outcome = outcomes.get((study.study_id, outcome_ids[0]))
        used_outcomes.append(outcome or {})
        label = study_label(study.study_id, studies)
        if study.study_id in repeated:  # arms of a multi-arm trial: name the arm by its role
            arm_roles = split_multi(study.job_role)
            label += (
                " — " + (" + ".join(role_label(r, roles) for r in arm_roles) or study.outcome_id) + " arm"
            )
        arms = _arms(outcome if len(outcome_ids) == 1 else None)
        if study.multi_arm:  # the n behind the effect: split control or combined arms
            arms = replace(arms, n_int=_count(study.n_int), n_ctl=_count(study.n_ctl))
        shown = published_ci(study.published) if not study.converted else None
        estimate, low, high = shown or (study.estimate, study.ci_low, study.ci_high)
        marks = []
        for note in _study_notes(study, outcome or {}, arms, _arm_kind(measure), measure):
            if note not in letter_of:
                letter_of[note] = LETTERS[len(letter_of) % len(LETTERS)]
            marks.append(letter_of[note])
        subgroup(study.group or "not reported").studies.append(
            StudyEstimate(
                label=label,
                estimate=estimate,
                ci_low=low,
                ci_high=high,
                weight=study.weight,
                arms=arms,
                published=shown is not None,
                marks=tuple(marks),
                rob=_rob_of(rob, study.study_id, outcome_ids),
            )
        )
    for item in meta.excluded:
        reason = item.reason
        study_id = item.study_id
        row = studies.get(study_id) or {}
        if reason.startswith("none: pooled review estimate"):
            # a review's pooled estimate has numbers: say why it is not pooled, and show them
            outcome = outcomes.get((study_id, item.outcome_id)) or {}
            included = [study_label(s, studies) for s in split_multi(row.get("included_studies", ""))]
            text = "not pooled: " + (
                f"includes {', '.join(included)}" if included else "a review's pooled estimate"
            )
            if outcome.get("estimate") and outcome.get("ci_low") and outcome.get("ci_high"):
                text += (
                    f" (review estimate {outcome['estimate']} [{outcome['ci_low']}, {outcome['ci_high']}])"
                )
            name = group_of(row.get("job_role", ""), group_by, roles)
            subgroup(name).no_estimate.append(NoEstimate(study_label(study_id, studies), text))
        elif reason.startswith("none"):
            # no usable estimate: listed under its role so the gap shows
            why = reason.split(":", 1)[1].split("(")[0].strip() if ":" in reason else reason
            status = row.get("status", "") or "status unknown"
            name = group_of(row.get("job_role", ""), group_by, roles)
            subgroup(name).no_estimate.append(
                NoEstimate(study_label(study_id, studies), f"no estimate ({status}; {why})")
            )
        else:
            footnotes.append(f"Not shown: {study_label(study_id, studies)}, {item.outcome_id}: {reason}.")
    for name, model in meta.groups.items():
        subtotal = _pooled(model, ci_method)
        members = groups[name].studies
        if not subtotal.pooled and len(members) == 1 and members[0].published:
            # a subgroup of one study is that study: print it as published, like its row
            only = members[0]
            subtotal = replace(subtotal, estimate=only.estimate, ci_low=only.ci_low, ci_high=only.ci_high)
        groups[name].subtotal = subtotal
    overall = _pooled(meta.overall, ci_method) if meta.overall else None
    if overall is not None and not prediction_interval:
        overall = Pooled(**{**overall.__dict__, "pi_low": None, "pi_high": None})
    test = meta.subgroup_test
    subgroup_test = SubgroupTest(test.q, test.df, test.p, test.all_k1) if test else None
    left, right, notes = _favours(used_outcomes)
    method = meta.method
    model_note = (
        "Fixed-effect (inverse variance) model."
        if method.upper() in FIXED_METHODS
        else f"Random-effects model: τ² by {method}; "
        + (
            "Hartung-Knapp-Sidik-Jonkman (t) CIs for pooled estimates"
            + (", variance scale floored at 1" if meta.hksj_floor else "")
            + ("" if meta.hksj_small_k else "; z-based CIs for totals of fewer than 3 studies")
            + "."
            if ci_method == "hksj"
            else "z-based CIs."
        )
        + (
            " Prediction interval: t with k − 2 df (none below 3 studies)."
            if meta.pi_method == "t"
            else " Prediction interval: metafor's z-based interval."
        )
    )
    if any(g.studies for g in groups.values()):
        footnotes.insert(
            0, "Study effects and CIs are printed as published unless a lettered footnote says otherwise."
        )

    def subgroup_label(name: str) -> str:
        return groups[name].label if name in groups else name

    footnotes = [
        model_note,
        "Weights are from the overall model.",
        *_participants_note(meta, studies, outcomes),
        *notes,
        *footnotes,
        *_analysis_notes(meta, studies, subgroup_label),
    ]
    if meta.single_study:
        footnotes.insert(0, "A single study: reported as a single study, not a meta-analysis.")
    rob_keys = _rob_keys(groups.values())
    if rob_keys:
        footnotes.append(ROB_LEGEND_DOMAINS if "d1b" not in rob_keys else ROB_LEGEND_DOMAINS_CLUSTER)
        footnotes.append(ROB_LEGEND_JUDGEMENTS)
    else:
        footnotes.append(ROB_NOT_ASSESSED)
    return ForestData(
        analysis_id=meta.analysis_id,
        measure=measure,
        method=method,
        ci_method=ci_method,
        subgroups=list(groups.values()),
        overall=overall,
        subgroup_test=subgroup_test,
        show_subgroups=group_by != "none",
        favours_left=left,
        favours_right=right,
        footnotes=footnotes,
        lettered=[(letter, note) for note, letter in letter_of.items()],
        rob_keys=rob_keys,
    )


def _rob_of(
    rob: Mapping[tuple[str, str], Mapping[str, str]], study_id: str, outcome_ids: Sequence[str]
) -> tuple[tuple[str, str], ...]:
    """A study row's RoB 2 judgements: its outcome's assessment, else the study's main one."""
    row = rob.get((study_id, outcome_ids[0])) or rob.get((study_id, ""))
    if row is None:
        return ()
    return tuple((key, row.get(key, "")) for key in ROB_DOMAINS if row.get(key, ""))


def _rob_keys(groups: Iterable[Subgroup]) -> tuple[str, ...]:
    assessed = [dict(s.rob) for g in groups for s in g.studies if s.rob]
    if not assessed:
        return ()
    cluster = any("d1b" in r for r in assessed)
    return tuple(k for k in ROB_DOMAINS if k != "d1b" or cluster)


# ---------------------------------------------------------------------------
# Axis scale.
# ---------------------------------------------------------------------------
RATIO_LIMITS: tuple[float, ...] = (2, 5, 10, 20, 50, 100, 1000)
RATIO_TICKS: dict[float, tuple[float, ...]] = {
    2: (0.5, 0.7, 1, 1.5, 2),
    5: (0.2, 0.5, 1, 2, 5),
    10: (0.1, 0.2, 0.5, 1, 2, 5, 10),
    20: (0.05, 0.2, 1, 5, 20),
    50: (0.02, 0.1, 1, 10, 50),
    100: (0.01, 0.1, 1, 10, 100),
    1000: (0.001, 0.1, 1, 10, 1000),
}


def _nice(value: float) -> float:
    """Smallest 1, 2, 5 × 10ⁿ at least ``value``."""
    if value <= 0:
        return 1.0
    exponent = math.floor(math.log10(value))
    for step in (1, 2, 5, 10):
        if step * 10**exponent >= value * (1 - 1e-9):
            return float(step * 10**exponent)
    return float(10 ** (exponent + 1))


def axis_scale(data: ForestData) -> tuple[tuple[float, float], list[float]]:
    """Symmetric limits about the null and their ticks (RevMan's ladder for ratios).

    The limits cover every CI, unless one CI is over four times wider than the point estimates and
    diamonds need: then that whisker is clipped (and ends in an arrow) rather than squeezing the rest.
    """
    points = [s.estimate for s in data.all_studies()]
    bounds = [v for s in data.all_studies() for v in (s.ci_low, s.ci_high)]
    for pooled in [g.subtotal for g in data.subgroups] + [data.overall]:
        if pooled is not None:
            points.append(pooled.estimate)
            bounds += [pooled.ci_low, pooled.ci_high]
    if data.ratio:
        core = max([abs(math.log(v)) for v in points if v > 0] or [math.log(2)])
        full = max([abs(math.log(v)) for v in bounds if v > 0] or [core])
        reach = min(full, max(4 * core, math.log(5)))
        limit = next((lim for lim in RATIO_LIMITS if math.log(lim) >= reach * (1 - 1e-9)), RATIO_LIMITS[-1])
        return (1 / limit, limit), list(RATIO_TICKS[limit])
    core = max([abs(v) for v in points] or [1.0])
    full = max([abs(v) for v in bounds] or [core])
    limit = _nice(min(full, max(4 * core, 1e-9)) or 1.0)
    return (-limit, limit), [-limit, -limit / 2, 0.0, limit / 2, limit]


def _tick_text(value: float) -> str:
    text = f"{value:g}"
    return "0" if text in ("-0", "0") else text


# ---------------------------------------------------------------------------
# Rows and drawing.
# ---------------------------------------------------------------------------
@dataclass
class _Row:
    kind: str  # heading | study | no_estimate | subtotal | stat | blank | total | pi
    cells: dict[str, str] = field(default_factory=dict)
    lines: int = 1
    span: str = ""  # text running from the study column across the data columns
    span_from: str = "study"
    bold: bool = False
    italic: bool = False
    study: StudyEstimate | None = None
    pooled: Pooled | None = None
    y: float = 0.0


@dataclass
class ForestLayout:
    """What was drawn, for tests and logs (structure, not pixels)."""

    study_rows: int = 0
    diamonds: int = 0
    no_estimate_rows: int = 0
    prediction_bars: int = 0
    arrows: int = 0
    xscale: str = "linear"
    xlim: tuple[float, float] = (0.0, 0.0)
    ticks: list[str] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)
    rob_columns: list[str] = field(default_factory=list)  # RoB headers drawn (D1 ... Overall)
    rob_marks: int = 0  # judgement circles drawn
    rob_not_assessed: int = 0  # study rows reading "not assessed"
    width_in: float = 0.0
    height_in: float = 0.0


def _arm_columns(kind: str) -> list[tuple[str, str, str]]:
    """(column key, arm, sub-header) of the arm-data columns."""
    if kind == "binary":
        fields = [("events", "Events"), ("n", "Total")]
    elif kind == "continuous":
        fields = [("mean", "Mean"), ("sd", "SD"), ("n", "Total")]
    else:
        fields = [("n", "Total")]
    return [(f"{name}_{arm}", arm, header) for arm in ("int", "ctl") for name, header in fields]


def _wrap(label: str) -> list[str]:
    lines = textwrap.wrap(label, LABEL_WRAP, break_long_words=True) or [""]
    if len(lines) > 1 and set(lines[-1]) <= {",", *SUPERSCRIPTS.values()}:
        letters = lines.pop()
        lines[-1] += " " + letters  # footnote letters stay with the words they mark
    if len(lines) > MAX_LABEL_LINES:
        lines = [
            *lines[: MAX_LABEL_LINES - 1],
            textwrap.shorten(" ".join(lines[MAX_LABEL_LINES - 1 :]), LABEL_WRAP, placeholder=" …"),
        ]
    return lines


def _total(values: Sequence[str]) -> str:
    """Sum of an arm column across studies; empty unless every study reports it."""
    if not values or any(not v for v in values):
        return ""
    try:
        return f"{sum(float(v) for v in values):g}"
    except ValueError:
        return ""


def _effect_text(estimate: float, low: float, high: float) -> str:
    return f"{format_number(estimate)} [{format_number(low)}, {format_number(high)}]"


def _build_rows(data: ForestData) -> tuple[list[_Row], list[_Row]]:
    """Rows beside the graph, and the tail lines below the total (beside the axis)."""
    rows: list[_Row] = []
    arm_keys = [key for key, _, _ in _arm_columns(data.arm_kind)]

    def study_cells(study: StudyEstimate) -> dict[str, str]:
        arms = study.arms.__dict__
        cells = {key: arms.get(key, "") for key in arm_keys}
        cells["weight"] = f"{study.weight:.1f}%"
        cells["effect"] = _effect_text(study.estimate, study.ci_low, study.ci_high)
        return cells

    def totals(studies: Sequence[StudyEstimate]) -> dict[str, str]:
        cells = {
            key: _total([s.arms.__dict__.get(key, "") for s in studies])
            for key in arm_keys
            if key.startswith(("n_", "events_"))
        }
        if studies:
            cells["weight"] = f"{sum(s.weight for s in studies):.1f}%"
        return cells

    for group in data.subgroups:
        if data.show_subgroups:
            rows.append(_Row("heading", span=group.label, bold=True))
        for study in group.studies:
            lines = _wrap(study.marked_label)
            rows.append(
                _Row(
                    "study", {"study": "\n".join(lines), **study_cells(study)}, lines=len(lines), study=study
                )
            )
        for item in group.no_estimate:
            lines = _wrap(item.label)
            rows.append(
                _Row(
                    "no_estimate",
                    {"study": "\n".join(lines)},
                    lines=len(lines),
                    span=item.text,
                    span_from="arms",
                    italic=True,
                )
            )
        if data.show_subgroups:
            if group.subtotal is not None:
                cells = {"study": "Subtotal (95% CI)", **totals(group.studies)}
                cells["effect"] = _effect_text(
                    group.subtotal.estimate, group.subtotal.ci_low, group.subtotal.ci_high
                )
                rows.append(_Row("subtotal", cells, bold=True, pooled=group.subtotal))
                rows.append(_Row("stat", span=group.subtotal.heterogeneity_line()))
                rows.append(_Row("stat", span=group.subtotal.overall_effect_line()))
            elif not group.studies:
                rows.append(
                    _Row("subtotal", {"study": "Subtotal (95% CI)", "effect": "Not estimable"}, bold=True)
                )
            rows.append(_Row("blank"))
    tail: list[_Row] = []
    if data.overall is not None and not data.overall.pooled:
        if rows and rows[-1].kind != "blank":
            rows.append(_Row("blank"))
        rows.append(_Row("total", {"study": "Total", "effect": "Not pooled (single study)"}, bold=True))
        tail.append(_Row("stat", span="Test for overall effect: Not applicable (single study, not pooled)"))
    elif data.overall is not None:
        if rows and rows[-1].kind != "blank":
            rows.append(_Row("blank"))
        cells = {"study": "Total (95% CI)", **totals(data.all_studies())}
        cells["effect"] = _effect_text(data.overall.estimate, data.overall.ci_low, data.overall.ci_high)
        rows.append(_Row("total", cells, bold=True, pooled=data.overall))
        # the engine gives a t(k - 2) interval only from three studies up; a z-based one (pi: z)
        # exists for k = 2 but is not drawn either
        if (
            data.overall.pi_low is not None
            and data.overall.pi_high is not None
            and data.overall.k >= PI_MIN_K
        ):
            pi = data.overall
            rows.append(
                _Row(
                    "pi",
                    {
                        "study": "Prediction interval",
                        "effect": f"[{format_number(pi.pi_low)}, {format_number(pi.pi_high)}]",
                    },
                    pooled=pi,
                )
            )
        tail.append(_Row("stat", span=data.overall.heterogeneity_line()))
        tail.append(_Row("stat", span=data.overall.overall_effect_line()))
    else:
        rows.append(_Row("total", {"study": "Total (95% CI)", "effect": "Not estimable"}, bold=True))
    if data.subgroup_test is not None:
        tail.append(_Row("stat", span=data.subgroup_test.line()))
    else:
        tail.append(_Row("stat", span="Test for subgroup differences: Not applicable"))
    for letter, note in data.lettered:
        for i, line in enumerate(textwrap.wrap(note, 106)):
            tail.append(_Row("stat", span=f"({letter}) {line}" if i == 0 else f"     {line}", italic=True))
    for note in data.footnotes:
        for line in textwrap.wrap(note, 110):
            tail.append(_Row("stat", span=line, italic=True))
    return rows, tail


@dataclass
class _Grid:
    """The measured text columns: their order, headers, widths and left edges (inches)."""

    columns: list[str]
    headers_top: dict[str, str]
    headers_sub: dict[str, str]
    col_w: dict[str, float]
    x_col: dict[str, float]
    pad: float  # gap between columns
    plot_x0: float  # where the graph starts

    def cell_x(self, key: str) -> tuple[float, str]:
        """x and alignment of a cell: study left, effect centred, numbers right-aligned."""
        if key == "study":
            return self.x_col[key], "left"
        if key == "effect":
            return self.x_col[key] + self.col_w[key] / 2, "center"
        return self.x_col[key] + self.col_w[key], "right"

    def span_x(self, row: _Row) -> float:
        """Where a spanning text starts: under the study names (indented for statistics) or the arms."""
        if row.span_from == "arms":
            return self.x_col[self.columns[1]]
        return self.x_col["study"] + (self.pad * 1.5 if row.kind == "stat" else 0.0)


def _measure_grid(
    data: ForestData,
    rows: Sequence[_Row],
    tail: Sequence[_Row],
    measure: TextMeasurer,
    fontsize: float,
) -> _Grid:
    """Column widths: the widest text of each column as drawn; the graph starts after the widest span."""
    arm_columns = _arm_columns(data.arm_kind)
    pad = fontsize / 72 * 1.1

    def width(text: str, bold: bool = False, italic: bool = False) -> float:
        return max(
            (
                measure.width(part, fontsize, "bold" if bold else "normal", "italic" if italic else "normal")
                for part in text.split("\n")
            ),
            default=0.0,
        )

    columns = ["study", *[key for key, _, _ in arm_columns], "weight", "effect"]
    headers_top = {"study": "Study or Subgroup", "weight": "Weight", "effect": data.measure_name}
    headers_sub = {key: sub for key, _, sub in arm_columns} | {"effect": data.model_label}
    col_w = {
        c: max(width(headers_top.get(c, ""), bold=True), width(headers_sub.get(c, ""), bold=True))
        for c in columns
    }
    for row in rows:
        for key, text in row.cells.items():
            col_w[key] = max(col_w[key], width(text, row.bold, row.italic))
    # the arm group headers ("Intervention", "Control") must fit over their columns
    for arm, title in ARM_TITLES:
        keys = [key for key, a, _ in arm_columns if a == arm]
        need = width(title, bold=True) - (sum(col_w[k] for k in keys) + pad * (len(keys) - 1))
        if need > 0:
            for key in keys:
                col_w[key] += need / len(keys)
    x_col: dict[str, float] = {}
    x = 0.0
    for c in columns:
        x_col[c] = x
        x += col_w[c] + pad * (2.2 if c in ("study", "weight") or c.startswith("n_int") else 1)
    grid = _Grid(columns, headers_top, headers_sub, col_w, x_col, pad, 0.0)
    left_width = x
    # spanning lines (heterogeneity, tests, no-estimate notes) must end before the graph
    for row in [*rows, *tail]:
        if row.span:
            start = grid.span_x(row) if row.span_from == "study" else x_col[columns[1]]
            left_width = max(left_width, start + width(row.span, row.bold, row.italic) + pad)
    grid.plot_x0 = left_width + pad
    return grid


class _Canvas:
    """The figure, its graph axes and the text writer every part draws with."""

    def __init__(self, fig: Figure, ax: Any, layout: ForestLayout, fontsize: float) -> None:
        self.fig, self.ax, self.layout, self.fontsize = fig, ax, layout, fontsize
        # x in inches from the figure's left edge, y in row lines of the graph
        self.text_tf = transforms.blended_transform_factory(fig.dpi_scale_trans, ax.transData)

    def put(
        self,
        x_in: float,
        y_line: float,
        text: str,
        *,
        ha: str = "left",
        bold: bool = False,
        italic: bool = False,
    ) -> None:
        if not text:
            return
        self.ax.text(
            x_in,
            y_line,
            text,
            transform=self.text_tf,
            ha=ha,
            va="center",
            fontsize=self.fontsize,
            fontweight="bold" if bold else "normal",
            fontstyle="italic" if italic else "normal",
            linespacing=1.25,
            gid=None,
            clip_on=False,
        )
        self.layout.texts.append(text)


ARM_TITLES: tuple[tuple[str, str], ...] = (("int", "Intervention"), ("ctl", "Control"))
AXIS_LINES = 4.2  # lines under the graph for tick labels and the favours labels
HEADER_LINES = 2


def _new_canvas(
    grid: _Grid,
    graph_lines: float,
    tail_lines: float,
    plot_width: float,
    fontsize: float,
    dpi: float,
    extra_width: float = 0.0,
) -> _Canvas:
    """A figure sized to the columns, the rows and the footnotes, with the graph's axes placed
    (``extra_width``: the RoB columns right of the graph)."""
    line_h = fontsize * 1.5 / 72
    fig_w = grid.plot_x0 + plot_width + grid.pad + extra_width
    fig_h = (HEADER_LINES + graph_lines + tail_lines + 0.6) * line_h
    fig = Figure(figsize=(fig_w, fig_h), dpi=dpi)
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)
    bottom = (tail_lines + 0.3) * line_h
    ax = fig.add_axes(
        (grid.plot_x0 / fig_w, bottom / fig_h, plot_width / fig_w, graph_lines * line_h / fig_h)
    )
    ax.set_ylim(graph_lines, 0)
    layout = ForestLayout()
    layout.width_in, layout.height_in = fig_w, fig_h
    return _Canvas(fig, ax, layout, fontsize)


def _draw_headers(canvas: _Canvas, grid: _Grid, data: ForestData, plot_width: float) -> None:
    """Column headers, the arm group titles, the graph's title and the rule under them."""
    y_top, y_sub = -1.6, -0.6
    for key in grid.columns:
        xx, ha = grid.cell_x(key)
        canvas.put(xx, y_sub if key == "study" else y_top, grid.headers_top.get(key, ""), ha=ha, bold=True)
        if key != "study":
            canvas.put(xx, y_sub, grid.headers_sub.get(key, ""), ha=ha, bold=True)
    arm_columns = _arm_columns(data.arm_kind)
    for arm, title in ARM_TITLES:
        keys = [key for key, a, _ in arm_columns if a == arm]
        centre = (grid.x_col[keys[0]] + grid.x_col[keys[-1]] + grid.col_w[keys[-1]]) / 2
        canvas.put(centre, y_top, title, ha="center", bold=True)
    canvas.put(grid.plot_x0 + plot_width / 2, y_top, data.measure_name, ha="center", bold=True)
    canvas.put(grid.plot_x0 + plot_width / 2, y_sub, data.model_label, ha="center", bold=True)
    canvas.ax.plot(
        [0, grid.plot_x0 + plot_width],
        [-0.05, -0.05],
        transform=canvas.text_tf,
        color="black",
        lw=0.6,
        clip_on=False,
    )


def _draw_axis(canvas: _Canvas, data: ForestData) -> tuple[float, float]:
    """The effect axis (log for ratios), its ticks, the line of no effect and the favours labels."""
    ax, layout, fontsize = canvas.ax, canvas.layout, canvas.fontsize
    (lo, hi), ticks = axis_scale(data)
    if data.ratio:
        ax.set_xscale("log")
        layout.xscale = "log"
    ax.set_xlim(lo, hi)
    layout.xlim = (lo, hi)
    ax.xaxis.set_major_locator(FixedLocator(ticks))
    ax.xaxis.set_minor_locator(NullLocator())
    ax.set_xticklabels([_tick_text(t) for t in ticks], fontsize=fontsize)
    layout.ticks = [_tick_text(t) for t in ticks]
    ax.tick_params(axis="x", length=3, width=0.6, pad=2)
    ax.yaxis.set_visible(False)
    for side in ("left", "right", "top"):
        ax.spines[side].set_visible(False)
    ax.spines["bottom"].set_linewidth(0.6)
    ax.axvline(data.null, color="black", lw=0.6, zorder=1)
    offset = -(fontsize * 1.4 + 6)
    for text, dx, ha in ((data.favours_left, -4, "right"), (data.favours_right, 4, "left")):
        ax.annotate(
            text,
            xy=(data.null, 0),
            xycoords=("data", "axes fraction"),
            xytext=(dx, offset),
            textcoords="offset points",
            ha=ha,
            va="top",
            fontsize=fontsize,
        )
    layout.texts += [data.favours_left, data.favours_right]
    return lo, hi


class _Marks:
    """The graph's marks (whiskers, squares, diamonds, prediction bars) on an axis from lo to hi."""

    def __init__(self, canvas: _Canvas, lo: float, hi: float, max_weight: float) -> None:
        self.canvas, self.ax, self.lo, self.hi = canvas, canvas.ax, lo, hi
        self.max_weight = max_weight
        line_h = canvas.fontsize * 1.5 / 72
        self.max_side = min(canvas.fontsize * 1.35, line_h * 72 * 0.95)  # points: a square fits its row

    def clip_arrows(self, y_line: float, low: float, high: float) -> None:
        """An arrow at each axis end an interval runs past."""
        for clipped, edge, marker in ((low < self.lo, self.lo, "<"), (high > self.hi, self.hi, ">")):
            if clipped:
                self.ax.plot(
                    [edge],
                    [y_line],
                    marker=marker,
                    color="black",
                    markersize=4,
                    clip_on=False,
                    zorder=3,
                    gid="arrow",
                )
                self.canvas.layout.arrows += 1

    def whisker(self, y_line: float, low: float, high: float) -> None:
        lo_c, hi_c = max(low, self.lo), min(high, self.hi)
        if lo_c < hi_c:
            self.ax.plot(
                [lo_c, hi_c], [y_line, y_line], color="black", lw=0.8, solid_capstyle="butt", zorder=2
            )
        self.clip_arrows(y_line, low, high)

    def study(self, y_line: float, s: StudyEstimate) -> None:
        """A study: its CI as a whisker, its estimate as a square whose area is proportional to its weight."""
        self.whisker(y_line, s.ci_low, s.ci_high)
        if self.lo <= s.estimate <= self.hi:
            side = max(3.0, self.max_side * math.sqrt(s.weight / self.max_weight))
            self.ax.scatter(
                [s.estimate],
                [y_line],
                marker="s",
                s=side**2,
                color=SQUARE_COLOUR,
                zorder=4,
                linewidths=0,
                gid="study-square",
            )
        self.canvas.layout.study_rows += 1

    def diamond(self, y_line: float, p: Pooled, kind: str) -> None:
        """A subtotal or total: a diamond from the CI's ends through the estimate."""
        half = 0.36
        est = min(max(p.estimate, self.lo), self.hi)
        xs = [max(p.ci_low, self.lo), est, min(p.ci_high, self.hi), est]
        diamond = Polygon(
            list(zip(xs, [y_line, y_line - half, y_line, y_line + half], strict=True)),
            closed=True,
            facecolor="black",
            edgecolor="black",
            lw=0.6,
            zorder=4,
            gid=f"diamond-{kind}",
        )
        self.ax.add_patch(diamond)
        self.canvas.layout.diamonds += 1
        self.clip_arrows(y_line, p.ci_low, p.ci_high)

    def prediction_bar(self, y_line: float, p: Pooled) -> None:
        """The prediction interval as a whisker with end ticks, the CI as a grey bar over it."""
        assert p.pi_low is not None and p.pi_high is not None
        lo, hi = self.lo, self.hi
        self.whisker(y_line, p.pi_low, p.pi_high)
        for edge in (p.pi_low, p.pi_high):
            if lo <= edge <= hi:
                self.ax.plot([edge, edge], [y_line - 0.25, y_line + 0.25], color="black", lw=0.8, zorder=2)
        self.ax.add_patch(
            Polygon(
                [
                    (max(p.ci_low, lo), y_line - 0.22),
                    (min(p.ci_high, hi), y_line - 0.22),
                    (min(p.ci_high, hi), y_line + 0.22),
                    (max(p.ci_low, lo), y_line + 0.22),
                ],
                closed=True,
                facecolor="#b0b0b0",
                edgecolor="black",
                lw=0.5,
                zorder=3,
                gid="prediction-interval",
            )
        )
        self.canvas.layout.prediction_bars += 1


def _draw_rows(canvas: _Canvas, grid: _Grid, rows: Sequence[_Row], marks: _Marks) -> None:
    """Each row's text cells and spanning text, and its mark on the graph."""
    for row in rows:
        for key, text in row.cells.items():
            xx, ha = grid.cell_x(key)
            canvas.put(xx, row.y, text, ha=ha, bold=row.bold, italic=row.italic)
        if row.span:
            canvas.put(
                grid.span_x(row),
                row.y,
                row.span,
                bold=row.bold,
                italic=row.italic or row.kind == "no_estimate",
            )
        if row.kind == "no_estimate":
            canvas.layout.no_estimate_rows += 1
        if row.kind == "study" and row.study is not None:
            marks.study(row.y, row.study)
        if row.kind in ("subtotal", "total") and row.pooled is not None:
            marks.diamond(row.y, row.pooled, row.kind)
        if row.kind == "pi" and row.pooled is not None:
            marks.prediction_bar(row.y, row.pooled)


@dataclass(frozen=True)
class _RobColumns:
    """The RoB 2 columns right of the graph: left edge and cell width (inches)."""

    keys: tuple[str, ...]
    x0: float
    cell: float

    @property
    def width(self) -> float:
        return self.cell * len(self.keys)

    def x(self, j: int) -> float:
        return self.x0 + self.cell * (j + 0.5)


def _rob_columns(data: ForestData, grid: _Grid, plot_width: float, fontsize: float) -> _RobColumns | None:
    if not data.rob_keys:
        return None
    cell = max(TextMeasurer().width("Overall", fontsize, "bold") + grid.pad * 0.4, fontsize * 1.5 / 72 * 1.1)
    return _RobColumns(data.rob_keys, grid.plot_x0 + plot_width + grid.pad * 2, cell)


def _draw_rob(canvas: _Canvas, columns: _RobColumns, rows: Sequence[_Row]) -> None:
    """Headers, one circle per domain for assessed studies, "not assessed" for the others."""
    centre = columns.x0 + columns.width / 2
    canvas.put(centre, -1.6, "Risk of Bias", ha="center", bold=True)
    for j, key in enumerate(columns.keys):
        canvas.put(columns.x(j), -0.6, rob_header(key), ha="center", bold=True)
        canvas.layout.rob_columns.append(rob_header(key))
    size = (canvas.fontsize * 1.25) ** 2
    canvas.ax.plot(
        [columns.x0, columns.x0 + columns.width],
        [-0.05, -0.05],
        transform=canvas.text_tf,
        color="black",
        lw=0.6,
        clip_on=False,
    )
    for row in rows:
        if row.kind != "study" or row.study is None:
            continue
        judgements = dict(row.study.rob)
        if not judgements:
            canvas.put(centre, row.y, "not assessed", ha="center", italic=True)
            canvas.layout.rob_not_assessed += 1
            continue
        for j, key in enumerate(columns.keys):
            judgement = judgements.get(key, "")
            if not judgement:  # D1b of an individually randomised trial
                continue
            canvas.ax.scatter(
                [columns.x(j)],
                [row.y],
                transform=canvas.text_tf,
                s=size,
                color=ROB_COLOURS[judgement],
                edgecolors="black",
                linewidths=0.5,
                clip_on=False,
                zorder=4,
                gid=f"rob-{judgement}",
            )
            canvas.ax.text(
                columns.x(j),
                row.y,
                ROB_SYMBOLS[judgement],
                transform=canvas.text_tf,
                ha="center",
                va="center",
                fontsize=canvas.fontsize,
                fontweight="bold",
                zorder=5,
                clip_on=False,
            )
            canvas.layout.rob_marks += 1


def _draw_footnotes(canvas: _Canvas, grid: _Grid, tail: Sequence[_Row], graph_lines: float) -> None:
    """The footnotes under the graph, one line each."""
    y = graph_lines + 0.4
    for row in tail:
        canvas.put(grid.x_col["study"], y + 0.5, row.span, italic=row.italic)
        y += 1


def draw_forest(
    data: ForestData,
    *,
    fontsize: float = 8.0,
    plot_width: float = 2.6,
    dpi: float = 100.0,
) -> tuple[Figure, ForestLayout]:
    """Draw the forest plot; return the figure and what was drawn.

    The parts, in drawing order: the measured column grid (:func:`_measure_grid`), the figure sized
    to it, the headers, the axis, the rows with their marks, the footnotes.
    """
    rows, tail = _build_rows(data)
    grid = _measure_grid(data, rows, tail, TextMeasurer(), fontsize)
    y = 0.0
    for row in rows:  # every row has its own height (a wrapped study name takes two lines)
        row.y = y + row.lines / 2
        y += row.lines
    graph_lines = y
    rob_columns = _rob_columns(data, grid, plot_width, fontsize)
    canvas = _new_canvas(
        grid,
        graph_lines,
        max(len(tail), AXIS_LINES),
        plot_width,
        fontsize,
        dpi,
        extra_width=rob_columns.width + grid.pad if rob_columns else 0.0,
    )
    _draw_headers(canvas, grid, data, plot_width)
    lo, hi = _draw_axis(canvas, data)
    max_weight = max([s.weight for s in data.all_studies()] or [1.0]) or 1.0
    _draw_rows(canvas, grid, rows, _Marks(canvas, lo, hi, max_weight))
    if rob_columns is not None:
        _draw_rob(canvas, rob_columns, rows)
    _draw_footnotes(canvas, grid, tail, graph_lines)
    return canvas.fig, canvas.layout


def load_forest_data(
    meta_json: str | Path,
    studies_csv: str | Path,
    outcomes_csv: str | Path,
    job_roles: str | Path,
    *,
    prediction_interval: bool = True,
    rob_csv: str | Path | None = None,
) -> ForestData:
    """:func:`build_forest_data` from the files (``rob_csv``: optional rob.csv)."""
    meta = AnalysisResult.read(meta_json)
    studies = index_by(read_csv_rows(studies_csv), "study_id")
    outcomes = index_by(read_csv_rows(outcomes_csv), "study_id", "outcome_id")
    rob_rows = read_rob(rob_csv).to_dict("records") if rob_csv and Path(rob_csv).is_file() else []
    rob = {(r["study_id"], r["outcome_id"]): r for r in rob_rows}
    return build_forest_data(
        meta,
        studies,
        outcomes,
        read_job_roles(job_roles),
        prediction_interval=prediction_interval,
        rob=rob,
    )
