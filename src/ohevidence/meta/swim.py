"""Synthesis without meta-analysis (SWiM; Campbell et al. 2020) by job role.

For the many outcomes the review cannot pool (8 of 11 job-role subgroups hold one study), the
synthesis is structured and explicit:

* **Standardised metric: direction of effect.** Each trial outcome row of effects.csv is read as
  intervention vs control and aligned to the worker (``higher_is_better`` of outcomes.csv): the point
  estimate favours the intervention (``benefit``) or the control (``harm``). Its 95% CI (from yi, vi)
  classifies it as a clear benefit, a clear harm, or ``no clear change`` (the CI crosses the null).
  Rows with no CI but a printed estimate keep the direction of the estimate (``direction only``).
* **Study × role × domain.** Rows are grouped by the job role that delivered the comparison
  (effects.csv ``job_role``). Several outcomes of one study in a domain give one direction when at
  least 70% of them share it, else ``mixed`` (Thomson & Thomas 2013, effect direction plot).
* **Vote counting by direction of effect** per domain and per role: the number favouring the
  intervention out of those with a direction, the proportion with its exact (Clopper–Pearson) 95% CI
  and the two-sided sign test (binomial, p = 0.5; Cochrane Handbook 12.2.2.5). It says nothing of
  the size of the effects.
* **One trial, one vote.** The unit of the vote count is the trial. A multi-arm trial whose arms
  share one control (effects.csv ``multi_arm`` split_control) enters the effect direction plot once
  per arm, under the role that delivered it, but is counted once in the "all roles" row: its
  direction is the arms' direction when they agree (the same >= 70% rule as for outcomes), else
  ``mixed``, which the sign test leaves out (Cochrane Handbook 12.2.2.5 and 23.3.4: a shared control
  must not be counted twice). The table gives trials and comparisons, and names such trials.
* **Sample size** is the n behind the comparison's effect: effects.csv n_int + n_ctl (a split
  control contributes the arm's share of it), else outcomes.csv n_int + n_ctl, else studies.csv
  n_randomised. It places the albatross points and sizes the arrows: large ≥ 300, medium 50–299,
  small < 50 (Thomson & Thomas's cut-points).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from scipy import stats

from ohevidence import effects as fx
from ohevidence.cells import split_multi
from ohevidence.meta.io import cell_number, text_frame
from ohevidence.meta.result import AnalysisResult
from ohevidence.schema import (
    OUTCOME_DOMAINS,
    SWIM_DIRECTION_COLUMNS,
    SWIM_ITEM_COLUMNS,
    SWIM_VOTE_COLUMNS,
    names,
)
from ohevidence.tableio import write_table

DOMAIN_ORDER: tuple[str, ...] = OUTCOME_DOMAINS  # columns of the effect direction plot
BENEFIT, HARM, NO_CLEAR, MIXED, NONE = "benefit", "harm", "no clear change", "mixed", "no direction"
AGREEMENT = 0.70  # Thomson & Thomas: a direction when >= 70% of a study's outcomes in a domain share it
NOT_REPORTED = "not reported"
_Z95 = 1.959963984540054


@dataclass(frozen=True)
class OutcomeDirection:
    """One trial outcome row, aligned so that ``benefit`` favours the intervention for the worker."""

    study_id: str
    outcome_id: str
    job_role: str
    domain: str
    measure: str
    direction: str  # benefit | harm | no direction (point estimate)
    category: str  # benefit | harm | no clear change | no direction
    p_value: float | None
    n: float | None
    basis: str  # 'estimate with 95% CI' | 'direction only' | why none


def _aligned_sign(value: float, higher_is_better: bool) -> int:
    """+1 when an effect of this sign (analysis scale, null 0) favours the intervention, -1 harm, 0 none."""
    if value == 0:
        return 0
    return 1 if (value > 0) == higher_is_better else -1


def _comparison_n(
    effect: Mapping[str, str], outcome: Mapping[str, str], study: Mapping[str, str]
) -> float | None:
    """Participants behind one comparison (module notes): a split control counts its share only."""
    for row in (effect, outcome):
        n1, n2 = cell_number(row, "n_int"), cell_number(row, "n_ctl")
        if n1 is not None and n2 is not None:
            return n1 + n2
    return cell_number(study, "n_randomised")


def outcome_direction(
    effect: Mapping[str, str], outcome: Mapping[str, str], study: Mapping[str, str]
) -> OutcomeDirection:
    """Direction, category, two-sided p and n of one effects.csv row."""
    higher = (outcome.get("higher_is_better") or "").strip().lower() == "true"
    measure = (effect.get("measure") or "").upper()
    yi, vi = cell_number(effect, "yi"), cell_number(effect, "vi")
    n = _comparison_n(effect, outcome, study)
    direction, category, p_value, basis = NONE, NONE, None, (effect.get("from") or "").strip()
    if yi is not None and vi is not None and vi > 0:
        sign = _aligned_sign(yi, higher)
        se = math.sqrt(vi)
        p_value = float(2 * stats.norm.sf(abs(yi) / se))
        direction = {1: BENEFIT, -1: HARM, 0: NONE}[sign]
        low, high = yi - _Z95 * se, yi + _Z95 * se
        category = direction if (low > 0 or high < 0) else NO_CLEAR
        basis = "estimate with 95% CI"
    else:
        estimate = cell_number(outcome, "estimate")
        flags = split_multi(outcome.get("flags", ""))
        if estimate is not None and "pooled_review_estimate" not in flags:
            ratio = measure in fx.RATIO_MEASURES
            value = (math.log(estimate) if estimate > 0 else None) if ratio else estimate
            if value is not None:
                value = -value if "reversed_direction" in flags else value
                direction = {1: BENEFIT, -1: HARM, 0: NONE}[_aligned_sign(value, higher)]
                category = NO_CLEAR if direction == NONE else direction
                basis = "direction only (printed estimate; no usable CI)"
    return OutcomeDirection(
        study_id=(effect.get("study_id") or "").strip(),
        outcome_id=(effect.get("outcome_id") or "").strip(),
        job_role=(effect.get("job_role") or "").strip(),
        domain=(effect.get("domain") or "").strip(),
        measure=measure,
        direction=direction,
        category=category,
        p_value=p_value,
        n=n,
        basis=basis,
    )


def trial_directions(
    effects: Sequence[Mapping[str, str]],
    outcomes: Sequence[Mapping[str, str]],
    studies: Sequence[Mapping[str, str]],
) -> list[OutcomeDirection]:
    """Every outcome row of a primary study (not a review's pooled estimate, not a study without outcomes)."""
    outcome_of: dict[tuple[str, str], Mapping[str, str]] = {}
    for row in outcomes:
        outcome_of.setdefault((row.get("study_id", ""), row.get("outcome_id", "")), row)
    study_of = {row.get("study_id", ""): row for row in studies}
    out = []
    for effect in effects:
        key = (effect.get("study_id", ""), effect.get("outcome_id", ""))
        study = study_of.get(key[0], {})
        if not key[1] or study.get("design") == "systematic review":
            continue
        outcome = outcome_of.get(key, {})
        if {"pooled_review_estimate", "between_arms"} & set(split_multi(outcome.get("flags", ""))):
            continue
        out.append(outcome_direction(effect, outcome, study))
    return out


def combine(values: Sequence[str]) -> str:
    """One direction from several (Thomson & Thomas): the one >= 70% share, else mixed; none if all none."""
    known = [v for v in values if v != NONE]
    if not known:
        return NONE
    value, count = Counter(known).most_common(1)[0]
    return value if count / len(known) >= AGREEMENT else MIXED


def size_class(n: float | None) -> str:
    """Arrow size of the effect direction plot (Thomson & Thomas 2013 cut-points)."""
    if n is None:
        return "unknown"
    return "large" if n >= 300 else "medium" if n >= 50 else "small"


def direction_table(
    directions: Sequence[OutcomeDirection],
    studies: Sequence[Mapping[str, str]],
    *,
    rob: Mapping[str, str] | None = None,
    pooled_in: Mapping[tuple[str, str], Sequence[str]] | None = None,
    label_of: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """One row per study × job role × domain: the combined direction (effect direction plot data)."""
    rob = rob or {}
    pooled_in = pooled_in or {}
    label_of = label_of or {}
    order = {d: i for i, d in enumerate(DOMAIN_ORDER)}
    study_of = {row.get("study_id", ""): row for row in studies}
    groups: dict[tuple[str, str, str], list[OutcomeDirection]] = {}
    for item in directions:
        groups.setdefault((item.job_role, item.study_id, item.domain), []).append(item)
    records = []
    for (role, study_id, domain), items in groups.items():
        sizes = [i.n for i in items if i.n is not None]
        analyses = sorted({a for i in items for a in pooled_in.get((i.study_id, i.outcome_id), [])})
        records.append(
            {
                "job_role": role or NOT_REPORTED,
                "study_id": study_id,
                "study": label_of.get(study_id, study_id),
                "design": study_of.get(study_id, {}).get("design", ""),
                "status": study_of.get(study_id, {}).get("status", ""),
                "domain": domain,
                "outcomes": "; ".join(i.outcome_id for i in items),
                "n": f"{max(sizes):g}" if sizes else "",
                "size": size_class(max(sizes) if sizes else None),
                "direction": combine([i.direction for i in items]),
                "category": combine([i.category for i in items]),
                "rob_overall": rob.get(study_id, "") or "not assessed",
                "pooled_in": "; ".join(analyses),
                "basis": "; ".join(dict.fromkeys(i.basis for i in items)),
            }
        )
    frame = pd.DataFrame(records, columns=names(SWIM_DIRECTION_COLUMNS))  # "basis" is one of them
    if frame.empty:
        return frame
    frame["_d"] = frame["domain"].map(lambda d: order.get(d, len(order)))
    frame["_r"] = frame["job_role"].map(lambda r: (r == NOT_REPORTED, r))
    return frame.sort_values(["_r", "study_id", "_d"]).drop(columns=["_d", "_r"]).reset_index(drop=True)


def sign_test(benefit: int, harm: int) -> tuple[float | None, float | None, float | None]:
    """Two-sided sign test p and the exact 95% CI of the proportion favouring the intervention."""
    total = benefit + harm
    if total == 0:
        return None, None, None
    result = stats.binomtest(benefit, total, 0.5)
    ci = result.proportion_ci(confidence_level=0.95, method="exact")
    return float(result.pvalue), float(ci.low), float(ci.high)


def trial_table(table: pd.DataFrame) -> pd.DataFrame:
    """One row per trial x domain: the arms of a multi-arm trial (one row per role) counted once.

    The trial's direction and category are its arms' when they agree (:func:`combine`, >= 70%),
    else ``mixed``; ``comparisons`` says how many study x role rows it stands for.
    """
    if table.empty:
        return table.assign(comparisons=pd.Series(dtype=int))
    records = []
    for (study_id, domain), rows in table.groupby(["study_id", "domain"], sort=False):
        records.append(
            {
                "study_id": study_id,
                "study": rows["study"].iloc[0],
                "domain": domain,
                "job_role": "; ".join(rows["job_role"]),
                "direction": combine(list(rows["direction"])),
                "category": combine(list(rows["category"])),
                "comparisons": len(rows),
                "arm_directions": "; ".join(rows["direction"]),
            }
        )
    return pd.DataFrame(records)


def _multi_arm_note(trials: pd.DataFrame) -> str:
    """Which trials stand for several comparisons and how their one vote was read."""
    notes = []
    for row in trials[trials["comparisons"] > 1].itertuples():
        words = {BENEFIT: "favour the intervention", HARM: "favour the control"}
        if len(set(row.arm_directions.split("; "))) == 1:
            every = "both" if row.comparisons == 2 else f"all {row.comparisons}"
            how = f"{every} {words.get(row.direction, row.direction)}"
        else:
            how = f"arms disagree ({row.arm_directions}): {row.direction}"
        notes.append(f"{row.study}: {row.comparisons} comparisons sharing one control, counted once ({how})")
    return "; ".join(notes)


def _vote_row(domain: str, role: str, trials: pd.DataFrame, comparisons: int, note: str) -> dict[str, Any]:
    counts = Counter(trials["direction"])
    benefit, harm = counts[BENEFIT], counts[HARM]
    p, low, high = sign_test(benefit, harm)
    return {
        "domain": domain,
        "job_role": role,
        "trials": len(trials),
        "comparisons": comparisons,
        "favours_intervention": benefit,
        "favours_control": harm,
        "mixed": counts[MIXED],
        "no_direction": counts[NONE],
        "clear_benefit": int((trials["category"] == BENEFIT).sum()),
        "clear_harm": int((trials["category"] == HARM).sum()),
        "proportion_favouring": benefit / (benefit + harm) if benefit + harm else None,
        "proportion_ci_low": low,
        "proportion_ci_high": high,
        "sign_test_p": p,
        "note": note,
    }


def vote_counting(table: pd.DataFrame) -> pd.DataFrame:
    """Per domain, for all roles and per role: trials favouring intervention / control, sign test.

    The unit is the trial (:func:`trial_table`): in "all roles" a multi-arm trial is one vote; in a
    role's row each trial has one comparison of that role (the study x role row), so trials and
    comparisons agree there.
    """
    records: list[dict[str, Any]] = []
    if table.empty:
        return pd.DataFrame(records, columns=names(SWIM_VOTE_COLUMNS))
    order = {d: i for i, d in enumerate(DOMAIN_ORDER)}
    for domain in sorted(table["domain"].unique(), key=lambda d: order.get(d, len(order))):
        rows = table[table["domain"] == domain]
        trials = trial_table(rows)
        records.append(_vote_row(domain, "all roles", trials, len(rows), _multi_arm_note(trials)))
        for role in sorted(rows["job_role"].unique(), key=lambda r: (r == NOT_REPORTED, r)):
            sub = rows[rows["job_role"] == role]
            records.append(_vote_row(domain, role, trial_table(sub), len(sub), ""))
    return pd.DataFrame(records)


def swim_items(
    table: pd.DataFrame, votes: pd.DataFrame, *, n_without_data: int, rob_recorded: bool
) -> pd.DataFrame:
    """The nine SWiM reporting items (Campbell et al. 2020) as this synthesis meets them, with its numbers."""
    studies = table["study_id"].nunique() if not table.empty else 0
    roles = table["job_role"].nunique() if not table.empty else 0
    overall = votes[votes["job_role"] == "all roles"] if not votes.empty else votes
    results = "; ".join(
        f"{r.domain}: {r.favours_intervention} of {r.favours_intervention + r.favours_control} trials "
        f"favour the intervention (sign test p = {r.sign_test_p:.3g})"
        if r.sign_test_p is not None and not pd.isna(r.sign_test_p)
        else f"{r.domain}: no trial with a direction"
        for r in overall.itertuples()
    )
    single = int((votes[votes["job_role"] != "all roles"]["trials"] == 1).sum()) if not votes.empty else 0
    assessed = int((table["rob_overall"] != "not assessed").sum()) if not table.empty else 0
    items = [
        ("1", "Grouping studies for synthesis",
         f"{studies} trials with outcome data, grouped by the job role that delivered the comparison "
         f"({roles} roles, 'not reported' kept apart) within outcome domains."),
        ("2", "Standardised metric and transformation",
         "Direction of effect, intervention vs control, aligned so that 'benefit' favours the worker "
         "(outcomes.csv higher_is_better; reversed rows re-signed); 95% CI from effects.csv yi, vi."),
        ("3", "Synthesis method",
         "Vote counting based on direction of effect with a two-sided sign test (binomial, p = 0.5) and the "
         "exact 95% CI of the proportion favouring the intervention; no pooling of effect sizes."),
        ("4", "Criteria to prioritise results",
         "Every trial outcome row; several outcomes of a study in one domain give one direction when >= 70% "
         "share it, else 'mixed' (Thomson & Thomas 2013). Review-level pooled estimates are not counted. "
         "The unit is the trial: the arms of a multi-arm trial sharing one control are one vote, their "
         "direction when they agree, else 'mixed' (not in the sign test)."),
        ("5", "Investigation of heterogeneity",
         f"Vote counts per job role within each domain ({single} role x domain cells hold a single study)."),
        ("6", "Certainty of evidence",
         f"Risk of bias from rob.csv: {assessed} of {len(table)} study x domain rows assessed"
         + ("" if rob_recorded else " (no judgements recorded: every row 'not assessed')") + "."),
        ("7", "Data presentation",
         "Effect direction plot (rows: studies by job role; columns: domains; arrows sized by sample size), "
         "albatross plot (two-sided p against n), vote-counting table."),
        ("8", "Reporting results", results or "no study with a direction"),
        ("9", "Limitations of the synthesis",
         "Vote counting ignores the size and precision of effects; most role x domain cells hold one "
         f"study, so sign tests have almost no power; {n_without_data} included studies gave no extractable "
         "outcome."),
    ]  # fmt: skip
    return pd.DataFrame(items, columns=["item", "swim_item", "this_synthesis"])


@dataclass(frozen=True)
class SwimResult:
    """The synthesis without meta-analysis: its three tables (contracts in ohevidence.schema) and the
    outcome directions behind them (the albatross plot's points).

    * ``table``: results/tables/swim_effect_direction.csv (SWIM_DIRECTION_COLUMNS, plus ``basis``)
    * ``votes``: results/tables/swim_vote_counting.csv (SWIM_VOTE_COLUMNS)
    * ``items``: results/tables/swim_items.csv (SWIM_ITEM_COLUMNS)
    """

    directions: list[OutcomeDirection]
    table: pd.DataFrame
    votes: pd.DataFrame
    items: pd.DataFrame

    @property
    def studies_with_data(self) -> set[str]:
        return set(self.table["study_id"]) if not self.table.empty else set()

    def write(self, direction_out: str | Path, votes_out: str | Path, items_out: str | Path) -> None:
        """The three tables, as the contracts' text."""
        for frame, columns, path in (
            (self.table, SWIM_DIRECTION_COLUMNS, direction_out),
            (self.votes, SWIM_VOTE_COLUMNS, votes_out),
            (self.items, SWIM_ITEM_COLUMNS, items_out),
        ):
            write_table(text_frame(frame.to_dict("records"), names(columns)), path, columns)


def synthesise(
    effects: Sequence[Mapping[str, str]],
    outcomes: Sequence[Mapping[str, str]],
    studies: Sequence[Mapping[str, str]],
    *,
    analyses: Sequence[AnalysisResult] = (),
    rob_rows: Sequence[Mapping[str, str]] = (),
    rob_recorded: bool = False,
    label_of: Mapping[str, str] | None = None,
) -> SwimResult:
    """SWiM by job role over the included studies' rows (module notes).

    ``analyses`` say which rows were pooled where (the table's ``pooled_in``); ``rob_rows`` are
    rob.csv's study-level judgements; ``label_of`` names each study as the report does.
    """
    rob = {r["study_id"]: r["overall"] for r in rob_rows if not r.get("outcome_id")}
    pooled_in: dict[tuple[str, str], list[str]] = {}
    for meta in analyses:
        for study in meta.studies:
            pooled_in.setdefault((study.study_id, study.outcome_id), []).append(meta.analysis_id)
    directions = trial_directions(effects, outcomes, studies)
    table = direction_table(directions, studies, rob=rob, pooled_in=pooled_in, label_of=label_of)
    votes = vote_counting(table)
    with_data = set(table["study_id"]) if not table.empty else set()
    primary = [s for s in studies if s.get("design") != "systematic review"]
    items = swim_items(
        table,
        votes,
        n_without_data=sum(s["study_id"] not in with_data for s in primary),
        rob_recorded=rob_recorded,
    )
    return SwimResult(directions, table, votes, items)
