"""`ohevidence meta roles`: what the analyses can and cannot say about job roles.

Two tables (column contracts in :mod:`ohevidence.schema`):

* ``results/meta/role_credibility.csv`` (:func:`role_credibility`): one row per analysis whose
  role (or professional-group) subgroups make a claim, rated with ICEMAN-style items
  (Schandelmaier et al. 2020, CMAJ 192:E901): is the comparison within or between trials; was the
  direction hypothesised a priori (config ``role_hypothesis``); how easily does chance explain it
  (the test for subgroup differences); do related outcomes agree; how many studies per subgroup.
  Every item is computed from the analysis results; nothing is looked up in a fixed table.
* ``results/meta/within_trial_roles.csv`` (:func:`within_trial_roles`): trials whose arms were
  delivered by different roles against a shared control (outcomes.csv flag ``shared_control``
  with the arm's ``job_role``), reported as the direct comparison they are. A difference between
  the arms is never computed from the two arm-vs-control estimates: they share the control group,
  so they are not independent; the columns of a direct difference stay empty unless printed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import combinations

import pandas as pd

from ohevidence import effects as fx
from ohevidence.cells import split_multi
from ohevidence.meta.analysis import ROLE_CONFOUNDING
from ohevidence.meta.io import study_label
from ohevidence.meta.result import AnalysisResult, PooledModel
from ohevidence.meta.roles import JobRole
from ohevidence.meta.spec import AnalysisSpec
from ohevidence.schema import (
    CREDIBILITY_RATINGS,
    MEASURE_WORDS,
    OUTCOME_DEFINITIONS,
    ROLE_CREDIBILITY_COLUMNS,
    WITHIN_TRIAL_ROLE_COLUMNS,
    names,
)

A_PRIORI_CONCERNS = {
    "not stated": "no a priori hypothesis about role stated",
    "not confirmed": "the hypothesised role does not show the larger benefit",
    "not assessable": "the a priori hypothesis cannot be checked against these subgroups",
}
# ICEMAN item 3 cut-offs on the p of the test for subgroup differences
P_UNLIKELY_CHANCE = 0.005
P_POSSIBLY_CHANCE = 0.05


def _g(value: float | None) -> str:
    return "" if value is None else f"{value:.3g}"


def _role_words(name: str, roles: Mapping[str, JobRole]) -> str:
    """A subgroup name in running text: the taxonomy label of each role id ('; '-joined ids), else itself.

    A label's capital is dropped unless it starts an abbreviation ('Physiotherapist' -> 'physiotherapist',
    'OH nurse' stays).
    """
    ids = split_multi(name)
    if ids and all(i in roles for i in ids):
        words = [roles[i].label for i in ids]
        return " and ".join(w[:1].lower() + w[1:] if w[1:2].islower() else w for w in words)
    return name


def benefit_sign(result: AnalysisResult, outcomes: Mapping[tuple[str, str], Mapping[str, str]]) -> int | None:
    """+1 when a larger effect is a benefit (outcomes.csv higher_is_better true), -1 when smaller is, None
    when the pooled rows do not say or disagree."""
    found: set[str] = set()
    for study in result.studies:
        for outcome_id in study.outcome_id.split("+"):
            found.add((outcomes.get((study.study_id, outcome_id)) or {}).get("higher_is_better", ""))
    if found == {"true"}:
        return 1
    if found == {"false"}:
        return -1
    return None


@dataclass(frozen=True)
class _Claim:
    """The compared subgroups of one analysis, and what the credibility items need of them."""

    spec: AnalysisSpec
    result: AnalysisResult
    groups: dict[str, PooledModel]
    members: dict[str, set[str]]  # subgroup -> study ids
    sign: int | None

    def best(self, among: Sequence[str]) -> str | None:
        """The subgroup among ``among`` with the largest benefit (None without a direction)."""
        if self.sign is None:
            return None
        scored = sorted(((self.sign * (self.groups[g].estimate or 0.0), g) for g in among), reverse=True)
        if len(scored) > 1 and abs(scored[0][0] - scored[1][0]) < 1e-12:
            return None  # a tie: no role does better
        return scored[0][1]


def _claims(
    pairs: Sequence[tuple[AnalysisSpec, AnalysisResult]],
    outcomes: Mapping[tuple[str, str], Mapping[str, str]],
) -> list[_Claim]:
    claims = []
    for spec, result in pairs:
        if result.group_by == "none" or result.overall is None:
            continue
        compared = (
            list(result.subgroup_test.groups)
            if result.subgroup_test is not None
            else [g for g in result.groups if g not in result.subgroup_test_excluded]
        )
        if len(compared) < 2:
            continue
        members: dict[str, set[str]] = {g: set() for g in compared}
        for study in result.studies:
            if study.group in members:
                members[study.group].add(study.study_id)
        claims.append(
            _Claim(
                spec,
                result,
                {g: result.groups[g] for g in compared},
                members,
                benefit_sign(result, outcomes),
            )
        )
    return claims


def _comparison(members: Mapping[str, set[str]]) -> str:
    sets = list(members.values())
    if all(s == sets[0] for s in sets):
        return "within"
    shared = any(a & b for a, b in combinations(sets, 2))
    return "mixed" if shared else "between"


def _a_priori(claim: _Claim) -> str:
    hypothesis = claim.spec.role_hypothesis
    if hypothesis is None:
        return "not stated"
    best = claim.best(list(claim.groups))
    if hypothesis.favoured_role not in claim.groups or best is None:
        return "not assessable"
    return "confirmed" if best == hypothesis.favoured_role else "not confirmed"


def _chance(p: float | None, all_k1: bool) -> tuple[str, int]:
    """(words, credibility points lost) for ICEMAN item 3."""
    if p is None:
        return (
            "no test for subgroup differences (fewer than two subgroups to compare): chance not excluded",
            2,
        )
    k1 = (
        " (every subgroup holds one study: the test is heterogeneity between those studies)" if all_k1 else ""
    )
    if p < P_UNLIKELY_CHANCE:
        return f"p = {p:.2g}: chance is an unlikely explanation{k1}", 0
    if p < P_POSSIBLY_CHANCE:
        return f"p = {p:.2g}: chance may explain the difference{k1}", 1
    return f"p = {p:.2g}: chance explains the difference easily{k1}", 2


def _consistency(claim: _Claim, claims: Sequence[_Claim]) -> tuple[str, str]:
    """ICEMAN item 4: do other analyses (other outcomes) comparing the same roles favour the same one?"""
    best = claim.best(list(claim.groups))
    if best is None:
        why = (
            "no direction of benefit recorded (outcomes.csv higher_is_better)"
            if claim.sign is None
            else "the role subgroups' estimates are equal"
        )
        return "not assessable", why
    agree: list[str] = []
    disagree: list[str] = []
    for other in claims:
        if other.spec.id == claim.spec.id:
            continue
        same_question = (other.result.domain, other.result.measure, other.result.pico.outcome_definition) == (
            claim.result.domain,
            claim.result.measure,
            claim.result.pico.outcome_definition,
        )
        shared = [g for g in claim.groups if g in other.groups]
        if same_question or best not in shared or len(shared) < 2:
            continue
        (agree if other.best(shared) == best else disagree).append(_outcome_words(other.result))
    if not agree and not disagree:
        return "not assessable", "no other outcome compares these roles"
    if disagree:
        return "inconsistent", "other outcomes do not favour the same role (" + ", ".join(disagree) + ")"
    return "consistent", "other outcomes favour the same role (" + ", ".join(agree) + ")"


def _outcome_words(result: AnalysisResult) -> str:
    """An analysis named by its outcome in words: 'sickness absence (rate ratio)'."""
    return f"{result.domain.replace('_', ' ')} ({MEASURE_WORDS.get(result.measure, result.measure)})"


def _rating(points: int, comparison: str) -> str:
    """4 points = high; each concern costs its points; a between-trial comparison is at most low."""
    score = max(1, 4 - points)
    if comparison != "within":
        score = min(score, 2)
    return CREDIBILITY_RATINGS[score - 1]


def role_credibility(
    pairs: Sequence[tuple[AnalysisSpec, AnalysisResult]],
    outcomes: Mapping[tuple[str, str], Mapping[str, str]],
    roles: Mapping[str, JobRole],
) -> pd.DataFrame:
    """results/meta/role_credibility.csv (ROLE_CREDIBILITY_COLUMNS): one row per role-subgroup claim."""
    claims = _claims(pairs, outcomes)
    rows = []
    for claim in claims:
        result = claim.result
        test = result.subgroup_test
        comparison = _comparison(claim.members)
        a_priori = _a_priori(claim)
        chance, chance_points = _chance(test.p if test else None, bool(test and test.all_k1))
        consistency, consistency_why = _consistency(claim, claims)
        per_group = {g: len(m) for g, m in claim.members.items()}
        concerns: list[tuple[str, int]] = []
        if comparison != "within":
            concerns.append(("the roles are compared between trials", 1))
        if a_priori != "confirmed":
            concerns.append((A_PRIORI_CONCERNS[a_priori], 1))
        if chance_points:
            concerns.append((chance.split(": ", 1)[1].split(" (")[0], chance_points))
        if consistency != "consistent":
            concerns.append((f"consistency across related outcomes {consistency} ({consistency_why})", 1))
        if min(per_group.values()) < 2:
            concerns.append(("a subgroup rests on a single study", 1))
        rating = _rating(sum(p for _, p in concerns), comparison)
        claim_words = f"{_outcome_words(result)}: " + "; ".join(
            f"{_role_words(g, roles)} {_g(m.reported.estimate)} "
            f"[{_g(m.reported.ci_low)}, {_g(m.reported.ci_high)}] ({per_group[g]} "
            f"{'study' if per_group[g] == 1 else 'studies'})"
            for g, m in claim.groups.items()
        )
        context = ROLE_CONFOUNDING if comparison != "within" else (result.role_comparison or "")
        rows.append(
            {
                "analysis_id": claim.spec.id,
                "claim": claim_words,
                "comparison": comparison,
                "a_priori": a_priori,
                "subgroup_p": "" if test is None else repr(test.p),
                "chance": chance,
                "consistency": consistency,
                "studies_per_subgroup": "; ".join(f"{g}: {k}" for g, k in per_group.items()),
                "concerns": "; ".join(c for c, _ in concerns),
                "rating": rating,
                "statement": (
                    f"Role subgroups for {claim_words}. {context} "
                    f"Credibility that the effect differs by role: {rating}"
                    + (f" ({'; '.join(c for c, _ in concerns)})." if concerns else ".")
                ),
            }
        )
    return pd.DataFrame(rows, columns=names(ROLE_CREDIBILITY_COLUMNS), dtype="string").fillna("")


def _arm_effect(row: Mapping[str, str]) -> str:
    level = row.get("ci_level") or ""
    ci = f"{float(level) * 100:g}% CI" if level else "CI level not stated"
    if row.get("estimate") and row.get("ci_low") and row.get("ci_high"):
        return f"{row['estimate']} [{row['ci_low']}, {row['ci_high']}] ({ci}, as published)"
    return "no printed estimate"


def _direction(row: Mapping[str, str], measure: str) -> str:
    """benefit / harm / no clear difference of a printed difference (first arm vs second arm)."""
    low, high = (float(row[c]) for c in ("ci_low", "ci_high"))
    better = {"true": True, "false": False}.get(row.get("higher_is_better", ""))
    return fx.ci_direction(low, high, measure, better)


def within_trial_roles(
    outcomes: Sequence[Mapping[str, str]],
    studies: Mapping[str, Mapping[str, str]],
    roles: Mapping[str, JobRole],
) -> pd.DataFrame:
    """results/meta/within_trial_roles.csv (WITHIN_TRIAL_ROLE_COLUMNS): direct role comparisons in one trial.

    Arms are outcomes.csv rows of one study flagged ``shared_control`` with the same domain, measure
    and time point, each with its own ``job_role``; every pair of arms delivered by different roles is
    one row. The difference between the two arms is taken only from a row flagged ``between_arms``
    (the trial's printed comparison, job_role "first role; second role"), in its printed order;
    without one the direct estimate stays empty ("no estimate") and the statement gives each arm
    against the shared control, side by side.
    """
    arms: dict[tuple[str, str, str, str], list[Mapping[str, str]]] = {}
    printed: dict[tuple[str, str, str, str], list[Mapping[str, str]]] = {}
    for row in outcomes:
        flags = split_multi(row.get("flags", ""))
        key = (
            row["study_id"],
            row.get("domain", ""),
            row.get("measure", ""),
            row.get("timepoint_months", ""),
        )
        if "between_arms" in flags:
            printed.setdefault(key, []).append(row)
        elif "shared_control" in flags and row.get("job_role"):
            arms.setdefault(key, []).append(row)
    rows = []
    for key, members in arms.items():
        study_id, domain, measure, months = key
        arms_of = {
            role: sum(m["job_role"] == role for m in members) for role in {m["job_role"] for m in members}
        }
        for a, b in combinations(members, 2):
            if a["job_role"] == b["job_role"]:
                continue
            # a printed difference names roles, not arms: it belongs to this pair only when each role
            # delivered one arm
            direct = next(
                (
                    r
                    for r in printed.get(key, [])
                    if set(split_multi(r.get("job_role", ""))) == {a["job_role"], b["job_role"]}
                    and arms_of[a["job_role"]] == arms_of[b["job_role"]] == 1
                ),
                None,
            )
            if direct is not None and split_multi(direct["job_role"])[0] != a["job_role"]:
                a, b = b, a  # the printed order: first role's arm vs the second's
            label = study_label(study_id, studies)
            definition = a.get("outcome_definition") or ""
            outcome = OUTCOME_DEFINITIONS.get(definition, domain.replace("_", " "))
            if months:
                outcome += f" ({months} months)"
            role_a, role_b = _role_words(a["job_role"], roles), _role_words(b["job_role"], roles)
            what = MEASURE_WORDS.get(measure, measure)
            design = (
                f"{label} randomised participants to an arm delivered by {role_a} and an arm delivered by "
                f"{role_b}, with a shared control group, so it compares the two roles directly, within one "
                f"trial (each role also delivered a different intervention)."
            )
            arms_words = (
                f"Against the shared control ({outcome}, {what}): {role_a} {_arm_effect(a)}; "
                f"{role_b} {_arm_effect(b)}."
            )
            if direct is not None:
                statement = (
                    f"{design} The trial prints the difference between the arms ({role_a} vs {role_b}): "
                    f"{_arm_effect(direct)}. {arms_words}"
                )
            else:
                statement = (
                    f"{design} The curated evidence holds no printed difference between the two arms. "
                    f"{arms_words} No difference between the arms is computed from these two estimates: "
                    f"they share the control group, so they are not independent."
                )
            used = (a, b) if direct is None else (direct, a, b)
            rows.append(
                {
                    "study_id": study_id,
                    "study_label": label,
                    "outcome": outcome,
                    "role_a": a["job_role"],
                    "role_b": b["job_role"],
                    "measure": measure,
                    "estimate": direct["estimate"] if direct else "",
                    "ci_lower": direct["ci_low"] if direct else "",
                    "ci_upper": direct["ci_high"] if direct else "",
                    "n_a": a.get("n_int", ""),
                    "n_b": b.get("n_int", ""),
                    "direction": _direction(direct, measure) if direct else "no estimate",
                    "statement": statement,
                    "source": " | ".join(f"{r['outcome_id']}: {r.get('source', '')}" for r in used),
                }
            )
    return pd.DataFrame(rows, columns=names(WITHIN_TRIAL_ROLE_COLUMNS), dtype="string").fillna("")
