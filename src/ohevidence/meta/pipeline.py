"""From the curated tables to effect sizes (effects.csv) and to the configured analyses (results/meta/).

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

An analysis (config ``analyses:``) takes the effects of one domain and measure, at most one row per
study (the first in outcomes.csv order; a second row of the same study — another arm sharing the
control, the same participants measured twice — would count its participants twice, so it is listed
as excluded with the reason), pools them, and by default compares job roles.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from ohevidence import effects as fx
from ohevidence.curated import load_job_roles
from ohevidence.errors import ConfigError, InputError, require_columns
from ohevidence.meta.io import clean, write_json
from ohevidence.meta.model import MetaResult, pool
from ohevidence.meta.subgroup import SubgroupResult, subgroup_analysis
from ohevidence.schema import EFFECT_COLUMNS, META_RESULT_COLUMNS, names, split_multi, write_table
from ohevidence.textfile import read_text

NONE = "none"


@dataclass(frozen=True)
class _Row:
    file: Path
    line: int
    cells: dict[str, str]

    def text(self, column: str) -> str:
        return (self.cells.get(column) or "").strip()

    def number(self, column: str) -> float | None:
        text = self.text(column)
        if not text:
            return None
        try:
            value = float(text)
        except ValueError:
            raise InputError(self.file, f"{text!r} is not a number", line=self.line, column=column) from None
        if not math.isfinite(value):
            raise InputError(self.file, f"{text!r} is not finite", line=self.line, column=column)
        return value


def _read_rows(path: str | Path, required: tuple[str, ...]) -> list[_Row]:
    path = Path(path)
    handle = io.StringIO(read_text(path), newline="")  # UTF-8/UTF-16 with BOM, or Windows-1252
    rows = []
    with handle:
        reader = csv.DictReader(handle)
        require_columns(path, reader.fieldnames or [], required)
        start = 2
        for cells in reader:
            rows.append(_Row(path, start, cells))
            start = reader.line_num + 1
    return rows


def read_job_roles(path: str | Path) -> dict[str, str]:
    """Job-role id → professional group, from job_roles.yaml."""
    return {role: str(entry.get("professional_group") or "") for role, entry in load_job_roles(path).items()}


# ---------------------------------------------------------------------------
# Effects.
# ---------------------------------------------------------------------------
def derive_effect(row: _Row, design: str) -> tuple[float | None, float | None, str]:
    """(yi, vi, from) for one outcome row; yi/vi None with ``from`` = 'none: reason'."""
    measure = row.text("measure").upper()
    flags = split_multi(row.text("flags"))
    if "pooled_review_estimate" in flags:
        return None, None, f"{NONE}: pooled review estimate (never pooled with trials)"
    estimate, low, high = row.number("estimate"), row.number("ci_low"), row.number("ci_high")
    level = row.number("ci_level")
    n1, n2 = row.number("n_int"), row.number("n_ctl")
    e1, e2 = row.number("events_int"), row.number("events_ctl")
    m1, s1, m2, s2 = (row.number(c) for c in ("mean_int", "sd_int", "mean_ctl", "sd_ctl"))
    effect: fx.Effect | None = None
    from_arms = False
    reasons: list[str] = []
    try:
        if None not in (estimate, low, high) and "needs_fulltext_check" not in flags:
            if level is None:
                reasons.append("reported CI without its level (ci_level)")
            else:
                assert estimate is not None and low is not None and high is not None
                if "percentage_points" in flags:
                    estimate, low, high = estimate / 100, low / 100, high / 100
                effect = fx.from_confidence_interval(measure, estimate, low, high, level=level)
        if effect is None and measure in {"RR", "OR", "RD"} and None not in (n1, n2, e1, e2):
            effect = fx.two_by_two(measure, e1, n1, e2, n2)  # type: ignore[arg-type]
            from_arms = True
        if effect is None and measure in {"MD", "SMD", "ROM"} and None not in (n1, n2, m1, s1, m2, s2):
            arms = (m1, s1, n1, m2, s2, n2)
            if measure == "MD":
                effect = fx.mean_difference(*arms)  # type: ignore[arg-type]
            elif measure == "SMD":
                effect = fx.standardised_mean_difference(*arms)  # type: ignore[arg-type]
            else:
                effect = fx.log_ratio_of_means(*arms)  # type: ignore[arg-type]
            from_arms = True
    except fx.NotEstimable as exc:
        return None, None, f"{NONE}: {exc}"
    except ValueError as exc:
        raise InputError(
            row.file, str(exc), line=row.line, column="measure", expected="consistent numbers"
        ) from exc
    if effect is None:
        if "needs_fulltext_check" in flags and None not in (estimate, low, high):
            reasons.append("printed estimate awaits a full-text check and no arm data give this measure")
        return (
            None,
            None,
            f"{NONE}: " + ("; ".join(reasons) or f"no estimate with CI and no arm data for {measure}"),
        )
    source = effect.source
    if "reversed_direction" in flags:
        effect = fx.Effect(-effect.yi, effect.vi, effect.measure, effect.source)
        source += "; re-signed to intervention vs control (printed as control vs intervention)"
    if "percentage_points" in flags and not from_arms:
        source += "; percentage points converted to a proportion"
    clustered = design == "cluster RCT"
    accounts_for_clusters = row.text("adjusted") == "true" or "cluster_adjusted_estimate_crude_arms" in flags
    if clustered and not from_arms and accounts_for_clusters:
        source += "; the trial's own estimate, which accounts for clustering"
    if clustered and (from_arms or not accounts_for_clusters):
        icc, clusters = row.number("icc"), row.number("clusters")
        if icc is not None and clusters and n1 and n2:
            effect = fx.cluster_adjusted(effect, (n1 + n2) / clusters, icc)
            source = effect.source
        else:
            source += (
                "; cluster trial: no design effect applied (the row does not mark the estimate as "
                "accounting for clustering, and ICC or number of clusters is missing)"
            )
    return effect.yi, effect.vi, source


def build_effects(outcomes: str | Path, studies: str | Path, job_roles: str | Path) -> pd.DataFrame:
    """The effects table (schema EFFECT_COLUMNS) for every outcome row and every study without one."""
    roles = read_job_roles(job_roles)
    study_rows = _read_rows(studies, ("study_id", "design", "job_role"))
    outcome_rows = _read_rows(outcomes, ("study_id", "outcome_id", "domain", "measure", "flags"))
    study_of = {row.text("study_id"): row for row in study_rows}
    for row in study_rows:
        for role in split_multi(row.text("job_role")):
            if role not in roles:
                raise InputError(
                    row.file,
                    f"unknown job role {role!r}",
                    line=row.line,
                    column="job_role",
                    expected="an id in job_roles.yaml",
                )
    records = []
    for row in outcome_rows:
        study_id = row.text("study_id")
        study = study_of.get(study_id)
        if study is None:
            raise InputError(
                row.file,
                f"study {study_id!r} is not in {Path(studies).name}",
                line=row.line,
                column="study_id",
            )
        yi, vi, source = derive_effect(row, study.text("design"))
        records.append(
            {
                "study_id": study_id,
                "outcome_id": row.text("outcome_id"),
                "domain": row.text("domain"),
                "measure": row.text("measure").upper(),
                "job_role": study.text("job_role"),
                "yi": "" if yi is None else repr(float(yi)),
                "vi": "" if vi is None else repr(float(vi)),
                "se": "" if vi is None else repr(math.sqrt(vi)),
                "from": source,
            }
        )
    with_outcomes = {row.text("study_id") for row in outcome_rows}
    for row in study_rows:
        if row.text("study_id") not in with_outcomes:
            records.append(
                {
                    "study_id": row.text("study_id"),
                    "outcome_id": "",
                    "domain": "",
                    "measure": "",
                    "job_role": row.text("job_role"),
                    "yi": "",
                    "vi": "",
                    "se": "",
                    "from": f"{NONE}: no outcome data extracted",
                }
            )
    return pd.DataFrame(records, columns=names(EFFECT_COLUMNS), dtype="string").fillna("")


def write_effects(effects: pd.DataFrame, path: str | Path) -> None:
    write_table(effects, path, EFFECT_COLUMNS)


# ---------------------------------------------------------------------------
# Analyses.
# ---------------------------------------------------------------------------
def find_analysis(config: Mapping[str, Any], analysis_id: str, where: str | Path) -> dict[str, Any]:
    for analysis in config.get("analyses") or []:
        if analysis.get("id") == analysis_id:
            return dict(analysis)
    raise ConfigError(f"{where}: analyses: no analysis with id {analysis_id!r}")


def _group_label(job_role: str, group_by: str, roles: Mapping[str, str]) -> str:
    ids = split_multi(job_role)
    if not ids:
        return "not reported"
    if group_by == "professional_group":
        groups = list(dict.fromkeys(roles.get(r, "") or "not classified" for r in ids))
        return groups[0] if len(groups) == 1 else "multidisciplinary"
    return "; ".join(ids)


def _back(value: float | None, ratio: bool) -> float | None:
    return None if value is None else (math.exp(value) if ratio else value)


def _reported(model: MetaResult, ratio: bool) -> dict[str, Any]:
    """A model's contract keys, plus its estimate, CI and PI on the reporting scale (ratios exponentiated)."""
    data = model.to_dict()
    data["reported"] = {
        key: _back(data[key], ratio) for key in ("estimate", "ci_low", "ci_high", "pi_low", "pi_high")
    }
    data["pooled"] = model.pooled
    data["messages"] = list(model.messages)
    return data


def run_analysis(
    analysis: Mapping[str, Any],
    effects_path: str | Path,
    studies_path: str | Path,
    job_roles_path: str | Path,
    json_out: str | Path,
    csv_out: str | Path,
) -> str:
    """Run one configured analysis; write its JSON and CSV; return a one-line summary."""
    roles = read_job_roles(job_roles_path)
    effects = _read_rows(effects_path, tuple(names(EFFECT_COLUMNS)))
    measure = str(analysis["measure"]).upper()
    ratio = measure in fx.RATIO_MEASURES
    group_by = analysis.get("group_by", "job_role")
    method = analysis.get("method", "REML")
    ci_method = analysis.get("ci", "z")
    excluded_ids = set(analysis.get("exclude_studies") or [])
    chosen: list[_Row] = []
    excluded: list[dict[str, str]] = []
    seen: set[str] = set()
    for row in effects:
        if row.text("domain") != analysis["domain"] or row.text("measure").upper() != measure:
            continue
        study_id = row.text("study_id")
        reason = ""
        if row.text("from").startswith(NONE):
            reason = row.text("from")
        elif study_id in excluded_ids:
            reason = "excluded by the analysis (config exclude_studies)"
        elif study_id in seen:
            reason = "study already in this analysis (one row per study: no double counting)"
        if reason:
            excluded.append({"study_id": study_id, "outcome_id": row.text("outcome_id"), "reason": reason})
            continue
        seen.add(study_id)
        chosen.append(row)
    labels = [f"{r.text('study_id')}:{r.text('outcome_id')}" for r in chosen]
    groups = [_group_label(r.text("job_role"), group_by, roles) for r in chosen]
    notes: list[str] = []
    result: SubgroupResult | None = None
    if chosen:
        yi = [r.number("yi") for r in chosen]
        vi = [r.number("vi") for r in chosen]
        if group_by != "none" and len(set(groups)) > 1:
            result = subgroup_analysis(
                yi,
                vi,
                groups,
                labels,
                method=method,
                ci_method=ci_method,
                tau2_mode=analysis.get("subgroup_tau2", "separate"),
            )
        else:
            result = SubgroupResult(pool(yi, vi, labels, method=method, ci_method=ci_method), {}, None)
        if len(chosen) == 1:
            notes.append("fewer than two studies: the single study is reported as such, not pooled")
    else:
        notes.append("no study has a usable effect for this domain and measure: nothing to pool")
    data: dict[str, Any] = {
        "analysis_id": analysis["id"],
        "domain": analysis["domain"],
        "measure": measure,
        "scale": "log" if ratio else "natural",
        "method": method,
        "ci_method": ci_method,
        "group_by": group_by,
        "subgroup_tau2": analysis.get("subgroup_tau2", "separate"),
        "k": len(chosen),
        "overall": _reported(result.overall, ratio) if result else None,
        "groups": {g: _reported(m, ratio) for g, m in result.groups.items()} if result else {},
        "subgroup_test": result.test.to_dict() if result and result.test else None,
        "studies": [],
        "excluded": excluded,
        "notes": notes,
    }
    rows: list[dict[str, Any]] = []
    if result is not None:
        weights = dict(zip(result.overall.labels, result.overall.weights, strict=True))
        for r, label, group in zip(chosen, labels, groups, strict=True):
            y, v = r.number("yi"), r.number("vi")
            assert y is not None and v is not None
            se = math.sqrt(v)
            study = {
                "study_id": r.text("study_id"),
                "outcome_id": r.text("outcome_id"),
                "group": group,
                "yi": y,
                "vi": v,
                "se": se,
                "estimate": _back(y, ratio),
                "ci_low": _back(y - 1.959963984540054 * se, ratio),
                "ci_high": _back(y + 1.959963984540054 * se, ratio),
                "weight": float(weights[label]),
                "from": r.text("from"),
            }
            data["studies"].append(study)
            rows.append({"row": "study", "label": label, **study})
        for name, model in [*result.groups.items(), ("overall", result.overall)]:
            rows.append(_model_row("subgroup" if name != "overall" else "overall", name, model, ratio))
        if result.test is not None:
            rows.append(
                {
                    "row": "subgroup_test",
                    "label": f"test for subgroup differences ({result.test.tau2_mode} tau2)",
                    "q": result.test.q,
                    "q_df": result.test.df,
                    "q_p": result.test.p,
                }
            )
    for item in excluded:
        rows.append(
            {"row": "excluded", "label": f"{item['study_id']}:{item['outcome_id']}", "from": item["reason"]}
        )
    write_json(data, json_out)
    table = pd.DataFrame(
        [{key: _cell(value) for key, value in clean(r).items()} for r in rows],
        columns=names(META_RESULT_COLUMNS),
        dtype="string",
    )
    write_table(table.fillna(""), csv_out, META_RESULT_COLUMNS)
    if result is None:
        return "k = 0: nothing pooled"
    o = result.overall
    return (
        f"k = {o.k}, {measure} {_back(o.estimate, ratio):.3g} [{_back(o.ci_low, ratio):.3g}, "
        f"{_back(o.ci_high, ratio):.3g}]" + ("" if o.pooled else " (single study, not pooled)")
    )


def _cell(value: Any) -> str:
    """CSV text: empty for unknown, integers without a decimal point, floats at full precision."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    return str(value)


def _model_row(kind: str, name: str, model: MetaResult, ratio: bool) -> dict[str, Any]:
    data = model.to_dict()
    return {
        "row": kind,
        "label": name,
        "group": name if kind == "subgroup" else "",
        "k": model.k,
        "yi": data["estimate"],
        "se": data["se"],
        "estimate": _back(data["estimate"], ratio),
        "ci_low": _back(data["ci_low"], ratio),
        "ci_high": _back(data["ci_high"], ratio),
        "pi_low": _back(data["pi_low"], ratio),
        "pi_high": _back(data["pi_high"], ratio),
        "p": data["p"],
        "tau2": data["tau2"],
        "i2": data["i2"],
        "q": data["q"],
        "q_df": data["q_df"],
        "q_p": data["q_p"],
        "weight": 100.0 if kind == "overall" else None,
        "from": "; ".join(model.messages)
        or (f"{model.method}, CI {model.ci_method}" if model.pooled else ""),
    }
