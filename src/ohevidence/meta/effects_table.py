"""`ohevidence meta effects`: from the curated tables to effect sizes (results/extraction/effects.csv).

Each outcome row of ``outcomes.csv`` becomes one effect, derived in this order (the ``from`` column
says which, in words):

1. A review's pooled estimate (flag ``pooled_review_estimate``) is never pooled with trials (its
   own trials may be among them): ``from`` = ``none: ...``.
2. A reported estimate with its CI at the stated ``ci_level`` (generic inverse variance, Cochrane
   Handbook 6.3) — the trial's own analysis, adjusted and cluster-aware where the trial did that —
   unless the row is flagged ``needs_fulltext_check`` (a printed estimate that does not fit its CI).
3. Arm data: events/n for RR, OR, RD; means, SDs and n for MD, SMD (Hedges' g) and ROM.
4. Otherwise ``none``, with the reason.

Then: ``reversed_direction`` rows are re-signed to intervention vs control; ``percentage_points``
RDs become proportions; effects from arm data of a cluster RCT that did not account for clustering
get the design effect 1 + (m − 1)·ICC (Handbook 23.1.4) when the ICC and the number of clusters are
known, and say "not cluster-adjusted" when not. Every study of ``studies.csv`` without an outcome row
is listed once with ``from`` = ``none: no outcome data extracted``, so counts reconcile.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ohevidence import effects as fx
from ohevidence.cells import split_multi
from ohevidence.errors import ConfigError, InputError
from ohevidence.meta.io import CsvRow, read_rows
from ohevidence.meta.roles import read_job_roles
from ohevidence.schema import EFFECT_COLUMNS, MULTI_ARM_METHODS, OUTCOME_FLAGS, names
from ohevidence.tableio import write_table

NONE = "none"  # the ``from`` of a row without a usable effect starts with it


@dataclass(frozen=True)
class Derived:
    """One effect row's numbers and how they were obtained (see EFFECT_COLUMNS)."""

    yi: float | None
    vi: float | None
    source: str
    n_int: float | None = None
    n_ctl: float | None = None
    published: str = ""
    converted: tuple[str, ...] = ()


def _uses_reported_ci(row: CsvRow) -> bool:
    """Whether :func:`derive_effect` takes this row's effect from its printed estimate and CI."""
    flags = split_multi(row.text("flags"))
    return (
        "pooled_review_estimate" not in flags
        and "between_arms" not in flags
        and "needs_fulltext_check" not in flags
        and None not in (row.number("estimate"), row.number("ci_low"), row.number("ci_high"))
        and row.number("ci_level") is not None
    )


def _published(row: CsvRow) -> str:
    level = row.number("ci_level") or 0.95
    return f"{row.text('estimate')} [{row.text('ci_low')}, {row.text('ci_high')}] ({level * 100:g}% CI)"


def split_control_n(n_ctl: float, share: int, index: int) -> float:
    """The control n of the ``index``-th (0-based) of ``share`` comparisons sharing one control arm.

    A whole-number control is split as evenly as integers allow, the first comparisons (in
    outcomes.csv order) taking the remainder: 171 in two is 86 and 85, so the comparisons' n add up
    to the trial's and no report shows half a participant (Cochrane Handbook 23.3.4: split the
    shared group into smaller groups). A control n that is not a whole number is divided exactly.
    """
    if share < 1 or not 0 <= index < share:
        raise ValueError(f"comparison {index} of {share} sharing a control")
    if float(n_ctl).is_integer():
        base, extra = divmod(int(n_ctl), share)
        return float(base + (1 if index < extra else 0))
    return n_ctl / share


def split_control_scale(n_int: float, n_ctl: float, n_ctl_split: float) -> float:
    """Variance factor for a comparison whose control arm (n_ctl) keeps ``n_ctl_split`` of its n.

    The published SE is read as SE = SD·√(1/n_int + 1/n_ctl) (pooled SD), so the SD is backed out
    and the SE recomputed with the split n: vi' = vi·(1/n_int + 1/n_split)/(1/n_int + 1/n_ctl)
    (Cochrane Handbook 23.3.4: split the shared group; means and SDs are kept, only n changes).
    """
    return (1 / n_int + 1 / n_ctl_split) / (1 / n_int + 1 / n_ctl)


def derive_effect(row: CsvRow, design: str, *, control_share: int = 1, control_index: int = 0) -> Derived:
    """The effect of one outcome row; ``yi``/``vi`` None with ``source`` = 'none: reason'.

    ``control_share`` > 1 splits the row's control arm among that many comparisons (multi-arm
    trial; this row is comparison ``control_index``): the control keeps :func:`split_control_n`
    of its n and the same share of its events for arm data; a printed CI is widened by
    :func:`split_control_scale`.
    """
    measure = row.text("measure").upper()
    flags = split_multi(row.text("flags"))
    n1, n2 = row.number("n_int"), row.number("n_ctl")
    if "pooled_review_estimate" in flags:
        return Derived(None, None, f"{NONE}: pooled review estimate (never pooled with trials)", n1, n2)
    if "between_arms" in flags:
        return Derived(
            None,
            None,
            f"{NONE}: a difference between two intervention arms (a within-trial role comparison, "
            "results/meta/within_trial_roles.csv; never pooled against a control)",
            n1,
            n2,
        )
    estimate, low, high = row.number("estimate"), row.number("ci_low"), row.number("ci_high")
    level = row.number("ci_level")
    e1, e2 = row.number("events_int"), row.number("events_ctl")
    m1, s1, m2, s2 = (row.number(c) for c in ("mean_int", "sd_int", "mean_ctl", "sd_ctl"))
    n2_used, e2_used = n2, e2
    if control_share > 1:
        if n1 is None or n2 is None:
            raise InputError(
                row.file,
                "a shared control can only be split with both arm sizes known",
                line=row.line,
                column="n_ctl" if n2 is None else "n_int",
            )
        n2_used = split_control_n(n2, control_share, control_index)
        e2_used = None if e2 is None else e2 * n2_used / n2
    effect: fx.Effect | None = None
    from_arms = False
    reasons: list[str] = []
    converted: list[str] = []
    published = ""
    try:
        if None not in (estimate, low, high) and "needs_fulltext_check" not in flags:
            if level is None:
                reasons.append("reported CI without its level (ci_level)")
            else:
                assert estimate is not None and low is not None and high is not None
                published = _published(row)
                if "percentage_points" in flags:
                    estimate, low, high = estimate / 100, low / 100, high / 100
                effect = fx.from_confidence_interval(measure, estimate, low, high, level=level)
                if abs(level - 0.95) > 1e-9:
                    converted.append(f"95% CI converted from the published {published}")
        if effect is None:
            effect = fx.from_arm_data(
                measure,
                n1,
                n2_used,
                events_int=e1,
                events_ctl=e2_used,
                mean_int=m1,
                sd_int=s1,
                mean_ctl=m2,
                sd_ctl=s2,
            )
            from_arms = effect is not None
    except fx.NotEstimable as exc:
        return Derived(None, None, f"{NONE}: {exc}", n1, n2_used)
    except ValueError as exc:
        raise InputError(
            row.file, str(exc), line=row.line, column="measure", expected="consistent numbers"
        ) from exc
    if effect is None:
        if "needs_fulltext_check" in flags and None not in (estimate, low, high):
            reasons.append("printed estimate awaits a full-text check and no arm data give this measure")
        why = "; ".join(reasons) or f"no estimate with CI and no arm data for {measure}"
        return Derived(None, None, f"{NONE}: {why}", n1, n2_used)
    if from_arms:
        published = ""
        if None not in (estimate, low, high):
            converted.append(_printed_not_used(row, measure, effect.source, flags, level))
    source = effect.source
    if control_share > 1:
        assert n1 is not None and n2 is not None
        if from_arms:
            source += f"; control arm shared by {control_share} comparisons: its n (and events) divided"
        else:
            assert n2_used is not None
            scale = split_control_scale(n1, n2, n2_used)
            effect = fx.Effect(effect.yi, effect.vi * scale, effect.measure, effect.source)
            source += (
                f"; control arm (n {n2:g}) shared by {control_share} comparisons: SE recomputed with "
                f"n_ctl {n2_used:g} from the SD backed out of the published SE "
                f"(variance x {scale:.4g})"
            )
            converted.append(f"CI widened for the split shared control (published {published})")
    if "reversed_direction" in flags:
        effect = fx.Effect(-effect.yi, effect.vi, effect.measure, effect.source)
        source += "; re-signed to intervention vs control (printed as control vs intervention)"
        if published:
            converted.append(
                f"re-signed to intervention vs control (published as control vs intervention: {published})"
            )
    if "percentage_points" in flags and not from_arms:
        source += "; percentage points converted to a proportion"
        converted.append(f"percentage points converted to a proportion (published {published})")
    effect, source, clustering = _clustering(row, design, effect, source, from_arms, n1, n2)
    if clustering and published:
        converted.append(f"{clustering} (published {published})")
    return Derived(effect.yi, effect.vi, source, n1, n2_used, published, tuple(converted))


def _printed_not_used(
    row: CsvRow, measure: str, source: str, flags: Sequence[str], level: float | None
) -> str:
    """Why a row with a printed estimate and CI is plotted from its arm data instead."""
    printed = (
        _published(row)
        if level is not None
        else (f"{row.text('estimate')} [{row.text('ci_low')}, {row.text('ci_high')}] (CI level not stated)")
    )
    kind = {"true": "adjusted ", "false": "crude "}.get(row.text("adjusted"), "")
    why = (
        "needs_fulltext_check: " + OUTCOME_FLAGS["needs_fulltext_check"]
        if "needs_fulltext_check" in flags
        else "its CI level (ci_level) is not stated"
    )
    return (
        f"not the published estimate: crude {measure} from arm data ({source}); the published "
        f"{kind}{measure} {printed} is not used ({why})"
    )


def _clustering(
    row: CsvRow,
    design: str,
    effect: fx.Effect,
    source: str,
    from_arms: bool,
    n1: float | None,
    n2: float | None,
) -> tuple[fx.Effect, str, str]:
    """Cluster RCTs (Handbook 23.1.4): the trial's cluster-aware estimate, or a design effect, or a note.

    Only ``cluster_adjusted`` (or the flag ``cluster_adjusted_estimate_crude_arms``) says that an
    estimate accounts for clustering; ``adjusted`` (covariates) does not.
    """
    if design != "cluster RCT":
        return effect, source, ""
    flags = split_multi(row.text("flags"))
    accounts = row.text("cluster_adjusted") == "true" or "cluster_adjusted_estimate_crude_arms" in flags
    if accounts and not from_arms:
        return effect, source + "; the trial's own estimate, which accounts for clustering", ""
    icc, clusters = row.number("icc"), row.number("clusters")
    if icc is not None and clusters and n1 and n2:
        adjusted = fx.cluster_adjusted(effect, (n1 + n2) / clusters, icc)
        return adjusted, adjusted.source, "design effect applied for clustering"
    adjusted_only = (
        " (it is covariate-adjusted, which is not the same)" if row.text("adjusted") == "true" else ""
    )
    return (
        effect,
        source
        + f"; cluster trial: no design effect applied (the source does not say the estimate accounts for "
        f"clustering{adjusted_only}, and ICC or number of clusters is missing)",
        "",
    )


def combine_arms(rows: Sequence[CsvRow], design: str) -> Derived:
    """One comparison from several intervention arms against their shared control (Handbook 23.3.4).

    Arm data: events and n are summed; means and SDs are pooled with the Handbook's formula
    (Table 6.5.2.a): N = N1 + N2, M = (N1·M1 + N2·M2)/N,
    SD² = [(N1−1)SD1² + (N2−1)SD2² + N1·N2/(N1+N2)·(M1² + M2² − 2·M1·M2)] / (N − 1).
    Printed estimates with CIs: the estimate is the n-weighted mean of the arms' estimates (exact
    for a mean difference); each arm's SD is backed out of its SE as SD² = vi/(1/n_j + 1/n_ctl),
    pooled as Σ n_j SD_j² / Σ n_j, and vi = SD²·(1/Σn_j + 1/n_ctl). For ratios this treats the log
    ratio like a mean difference (an approximation, said in ``from``).
    """
    first = rows[0]
    ids = "+".join(r.text("outcome_id") for r in rows)
    kinds = {_uses_reported_ci(r) for r in rows}
    if len(kinds) > 1:
        raise InputError(
            first.file,
            f"arms {ids} cannot be combined: some give a printed estimate with CI and some only arm data",
            line=first.line,
            column="estimate",
        )
    n_ctl = first.number("n_ctl")
    if kinds == {True}:
        parts = [derive_effect(r, design) for r in rows]
        ns = [r.number("n_int") for r in rows]
        if n_ctl is None or any(n is None for n in ns):
            raise InputError(
                first.file, "arms need n_int and n_ctl to be combined", line=first.line, column="n_int"
            )
        arm_n = [n for n in ns if n is not None]
        effects = [(p.yi, p.vi) for p in parts if p.yi is not None and p.vi is not None]
        if len(effects) < len(parts):  # a printed estimate and CI always give yi and vi
            raise InputError(
                first.file, f"arms {ids}: an arm has no effect", line=first.line, column="estimate"
            )
        total = float(sum(arm_n))
        sd2 = [v / (1 / n + 1 / n_ctl) for (_, v), n in zip(effects, arm_n, strict=True)]
        pooled_sd2 = sum(n * v for n, v in zip(arm_n, sd2, strict=True)) / total
        yi = sum(n * y for n, (y, _) in zip(arm_n, effects, strict=True)) / total
        vi = pooled_sd2 * (1 / total + 1 / n_ctl)
        scale = (
            " (log scale: log ratio treated like a mean difference, an approximation)"
            if first.text("measure").upper() in fx.RATIO_MEASURES
            else ""
        )
        source = (
            f"arms {ids} combined against their shared control: n-weighted mean of the printed estimates, "
            f"SD backed out of each SE and pooled{scale}; " + " | ".join(p.source for p in parts)
        )
        published = "; ".join(
            f"{r.text('outcome_id')}: {p.published}" for r, p in zip(rows, parts, strict=True)
        )
        return Derived(yi, vi, source, total, n_ctl, "", (f"arms combined (published {published})",))
    cells = dict(first.cells)
    n_total = [r.number("n_int") for r in rows]
    events = [r.number("events_int") for r in rows]
    if None not in n_total and None not in events:
        cells["events_int"] = repr(float(sum(events)))  # type: ignore[arg-type]
    means, sds = [r.number("mean_int") for r in rows], [r.number("sd_int") for r in rows]
    if None not in n_total and None not in means and None not in sds:
        n, m, sd = n_total[0], means[0], sds[0]
        for n_j, m_j, sd_j in zip(n_total[1:], means[1:], sds[1:], strict=True):
            n, m, sd = combine_groups(n, m, sd, n_j, m_j, sd_j)  # type: ignore[arg-type]
        cells["mean_int"], cells["sd_int"] = repr(m), repr(sd)
    if None not in n_total:
        cells["n_int"] = repr(float(sum(n_total)))  # type: ignore[arg-type]
    cells["outcome_id"] = ids
    derived = derive_effect(CsvRow(first.file, first.line, cells), design)
    if derived.yi is None:
        return derived
    return Derived(
        derived.yi,
        derived.vi,
        f"arms {ids} combined into one intervention arm (Handbook 23.3.4); " + derived.source,
        derived.n_int,
        derived.n_ctl,
    )


def combine_groups(
    n1: float, m1: float, sd1: float, n2: float, m2: float, sd2: float
) -> tuple[float, float, float]:
    """(N, mean, SD) of two groups merged into one (Cochrane Handbook Table 6.5.2.a)."""
    n = n1 + n2
    mean = (n1 * m1 + n2 * m2) / n
    var = ((n1 - 1) * sd1**2 + (n2 - 1) * sd2**2 + n1 * n2 / n * (m1**2 + m2**2 - 2 * m1 * m2)) / (n - 1)
    return n, mean, math.sqrt(var)


def multi_arm_sets(rows: Sequence[CsvRow]) -> list[list[CsvRow]]:
    """Rows flagged ``shared_control`` that compare arms with one control on the same outcome.

    Rows of one study with the same domain, measure and time point form a set; a set of one row
    (its sibling has another measure) is an ordinary comparison.
    """
    sets: dict[tuple[str, str, str, str], list[CsvRow]] = {}
    for row in rows:
        if "shared_control" in split_multi(row.text("flags")):
            key = (
                row.text("study_id"),
                row.text("domain"),
                row.text("measure").upper(),
                row.text("timepoint_months"),
            )
            sets.setdefault(key, []).append(row)
    return [members for members in sets.values() if len(members) > 1]


def _fmt(value: float | None) -> str:
    return "" if value is None else f"{value:g}"


def build_effects(
    outcomes: str | Path,
    studies: str | Path,
    job_roles: str | Path,
    *,
    multi_arm: str = "split_control",
    included: Collection[str] | None = None,
) -> pd.DataFrame:
    """The effects table (schema EFFECT_COLUMNS) for every outcome row and every study without one.

    ``included`` (the curated study_ids of results/extraction/included_studies.csv): only these
    studies' rows enter the table, so nothing is synthesised that screening did not include;
    None takes every curated study (a by-hand run on curated tables alone).

    ``multi_arm`` (config ``synthesis.multi_arm``): ``split_control`` keeps each arm of a multi-arm
    trial as its own comparison with the shared control divided among them; ``combine`` pools the
    arms into one comparison (see :func:`combine_arms`).
    """
    if multi_arm not in MULTI_ARM_METHODS:
        raise ConfigError(f"multi_arm must be one of {', '.join(MULTI_ARM_METHODS)}, not {multi_arm!r}")
    roles = read_job_roles(job_roles)
    study_rows = read_rows(studies, ("study_id", "design", "job_role"))
    outcome_rows = read_rows(outcomes, ("study_id", "outcome_id", "domain", "measure", "flags"))
    study_of = {row.text("study_id"): row for row in study_rows}
    for row in [*study_rows, *outcome_rows]:
        for role in split_multi(row.text("job_role")):
            if role not in roles:
                raise InputError(
                    row.file,
                    f"unknown job role {role!r}",
                    line=row.line,
                    column="job_role",
                    expected="an id in job_roles.yaml",
                )
    for row in outcome_rows:
        if row.text("study_id") not in study_of:
            raise InputError(
                row.file,
                f"study {row.text('study_id')!r} is not in {Path(studies).name}",
                line=row.line,
                column="study_id",
            )
    if included is not None:
        study_rows = [row for row in study_rows if row.text("study_id") in included]
        outcome_rows = [row for row in outcome_rows if row.text("study_id") in included]
    set_of: dict[int, list[CsvRow]] = {}
    for arm_set in multi_arm_sets(outcome_rows):
        for member in arm_set:
            set_of[id(member)] = arm_set
    records = []
    for row in outcome_rows:
        study = study_of[row.text("study_id")]
        members: list[CsvRow] | None = set_of.get(id(row))
        role = row.text("job_role") or study.text("job_role")
        outcome_id = row.text("outcome_id")
        handling = ""
        if members is None:
            derived = derive_effect(row, study.text("design"))
        elif multi_arm == "split_control":
            derived = derive_effect(
                row, study.text("design"), control_share=len(members), control_index=members.index(row)
            )
            others = ", ".join(m.text("outcome_id") for m in members)
            handling = (
                f"split_control: control arm shared by {len(members)} comparisons ({others}); "
                f"control n {row.text('n_ctl')} -> {_fmt(derived.n_ctl)}"
            )
        else:
            if row is not members[0]:
                continue
            derived = combine_arms(members, study.text("design"))
            outcome_id = "+".join(m.text("outcome_id") for m in members)
            member_roles = [m.text("job_role") or study.text("job_role") for m in members]
            role = "; ".join(dict.fromkeys(r for mr in member_roles for r in split_multi(mr)))
            handling = f"combine: arms {', '.join(m.text('outcome_id') for m in members)} pooled into one"
        records.append(
            {
                "study_id": row.text("study_id"),
                "outcome_id": outcome_id,
                "domain": row.text("domain"),
                "measure": row.text("measure").upper(),
                "job_role": role,
                "yi": "" if derived.yi is None else repr(float(derived.yi)),
                "vi": "" if derived.vi is None else repr(float(derived.vi)),
                "se": "" if derived.vi is None else repr(math.sqrt(derived.vi)),
                "from": _with_includes(derived.source, study),
                "multi_arm": handling,
                "n_int": _fmt(derived.n_int),
                "n_ctl": _fmt(derived.n_ctl),
                "n_analysed": row.text("n_analysed"),
                "adjusted": _adjusted_cell(row, derived),
                "cluster_adjusted": row.text("cluster_adjusted"),
                "published": derived.published,
                "converted": "; ".join(derived.converted),
                "timepoint_months": row.text("timepoint_months"),
                "outcome_definition": row.text("outcome_definition"),
                "comparator_type": row.text("comparator_type"),
                "population_type": study.text("population_type"),
            }
        )
    with_outcomes = {row.text("study_id") for row in outcome_rows}
    for row in study_rows:
        if row.text("study_id") not in with_outcomes:
            records.append(
                {
                    "study_id": row.text("study_id"),
                    "job_role": row.text("job_role"),
                    "from": f"{NONE}: no outcome data extracted",
                    "population_type": row.text("population_type"),
                }
            )
    return pd.DataFrame(records, columns=names(EFFECT_COLUMNS), dtype="string").fillna("")


def _adjusted_cell(row: CsvRow, derived: Derived) -> str:
    """effects.csv ``adjusted`` of the effect actually used: true, false (crude) or '' (not stated).

    An effect computed from arm data is crude whatever the printed estimate was (RETAKE's printed
    OR is adjusted; the 2x2 counts used instead are not).
    """
    if derived.yi is not None and fx.is_from_arm_data(derived.source):
        return "false"
    return row.text("adjusted")


def _with_includes(source: str, study: CsvRow) -> str:
    """A review's pooled row names the trials of this table it includes (why it is not pooled)."""
    included = split_multi(study.text("included_studies"))
    if source.startswith(f"{NONE}: pooled review estimate") and included:
        names_ = ", ".join(included)
        return f"{NONE}: pooled review estimate; includes {names_} (never pooled with its own trials)"
    return source


def write_effects(effects: pd.DataFrame, path: str | Path) -> None:
    write_table(effects, path, EFFECT_COLUMNS)
