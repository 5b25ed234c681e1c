"""The screening stage: rules, ranking, decisions, consensus, agreement, sheets and exports.

``screen(records, settings, decisions)`` is pure: it returns every table; ``write_outputs``
puts them on disk. The CLI (``ohevidence screen run``) reads the inputs and calls both.

Consensus at each stage (dual screening, Cochrane Handbook §4.6.4):
* all reviewers who decided agree and at least ``reviewers_per_record`` did -> that decision;
* include vs exclude, or any ``maybe`` -> conflict, settled by a third reviewer (an arbiter),
  whose decision stands (an arbiter's ``maybe`` at title/abstract sends the record on);
* at full text, two exclusions with different reasons are also a conflict: PRISMA 2020 counts
  each excluded report under one reason.
Records an ``action: exclude`` rule removes are "excluded by automation tools" unless a human
has decided them: a human decision always wins over a rule.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from itertools import combinations
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ohevidence.atomic import write_json_atomic
from ohevidence.cells import join_multi
from ohevidence.outputs import StageOutputs, output
from ohevidence.schema import (
    INCLUDED_COLUMNS,
    RECORD_FIELDS,
    SCREENING_CONFLICT_COLUMNS,
    SCREENING_SHEET_COLUMNS,
    TITLE_ABSTRACT_COLUMNS,
    TITLE_ABSTRACT_TAIL,
    names,
)
from ohevidence.screen.agreement import pair_agreement
from ohevidence.screen.export import write_asreview_csv, write_ris, write_sheet
from ohevidence.screen.ranking import (
    STALL_RANKERS,
    FeatureViews,
    LearnerChoice,
    RankingSettings,
    choose_learner,
    excludes_since_last_include,
    feature_views,
    featureless,
    featureless_placement,
    ranking_learner,
    score_records,
    screening_text,
    tie_breaker,
    with_features,
)
from ohevidence.screen.rules import apply_rules, compile_rules
from ohevidence.screen.stopping import StoppingSettings, stopping_report
from ohevidence.tableio import check_table

log = logging.getLogger("ohevidence.screen")

STAGES = ("title_abstract", "full_text")
NO_TEXT_FLAG = "[note] no title, abstract or keywords: the ranking cannot read this record, screen it by hand"


@dataclass(frozen=True)
class ScreeningSettings:
    """The `screening` section of the configuration, as the stage uses it."""

    reviewers: tuple[str, ...] = ("reviewer_a", "reviewer_b")
    arbiters: tuple[str, ...] = ()
    reviewers_per_record: int = 2
    seed: int = 1
    seed_records: tuple[str, ...] = ()
    exclusion_reasons: tuple[str, ...] = ()
    rules: tuple[Mapping[str, Any], ...] = ()
    ranking: RankingSettings = field(default_factory=RankingSettings)
    stopping: StoppingSettings = field(default_factory=StoppingSettings)

    @classmethod
    def from_config(cls, section: Mapping[str, Any]) -> ScreeningSettings:
        model = section.get("model") or {}
        return cls(
            reviewers=tuple(section.get("reviewers", cls.reviewers)),
            arbiters=tuple(section.get("arbiters", ())),
            reviewers_per_record=int(section.get("reviewers_per_record", 2)),
            seed=int(section.get("seed", 1)),
            seed_records=tuple(section.get("seed_records", ())),
            exclusion_reasons=tuple(r["code"] for r in section.get("exclusion_reasons", ())),
            rules=tuple(section.get("rules", ())),
            ranking=RankingSettings(**model),
            stopping=StoppingSettings(**(section.get("stopping") or {})),
        )

    @property
    def everyone(self) -> tuple[str, ...]:
        return self.reviewers + tuple(a for a in self.arbiters if a not in self.reviewers)


@dataclass
class ScreeningResult:
    title_abstract: pd.DataFrame
    sheets: dict[tuple[str, str], pd.DataFrame]  # (stage, reviewer) -> sheet
    conflicts: pd.DataFrame
    included: pd.DataFrame
    agreement: dict[str, Any]
    prisma: dict[str, Any]
    decision_columns: list[str]
    stopping: dict[str, Any]


# ---------------------------------------------------------------------------
# Consensus
# ---------------------------------------------------------------------------
def votes_by_record(decisions: pd.DataFrame, stage: str) -> dict[str, dict[str, tuple[str, str, str]]]:
    """{record_id: {reviewer: (decision, reason, note)}} for one stage."""
    votes: dict[str, dict[str, tuple[str, str, str]]] = {}
    for row in decisions[decisions["stage"] == stage].itertuples():
        votes.setdefault(row.record_id, {})[row.reviewer] = (row.decision, row.reason, row.note)
    return votes


def settle(
    votes: Mapping[str, tuple[str, str, str]], settings: ScreeningSettings, stage: str
) -> tuple[str, str, str, str]:
    """(consensus, reason, conflict, status) for one record at one stage."""
    arbiter_votes = [votes[a] for a in settings.arbiters if a in votes]
    if arbiter_votes:
        decision, reason, _ = arbiter_votes[-1]
        if decision == "maybe":
            decision = "include" if stage == "title_abstract" else ""
        if decision:
            return decision, reason, "", "included" if decision == "include" else "excluded"
    reviewer_votes = [votes[r] for r in settings.reviewers if r in votes]
    if not reviewer_votes:
        return "", "", "", "not_screened"
    decisions = {v[0] for v in reviewer_votes}
    if "maybe" in decisions:
        return "", "", "maybe", "conflict"
    if len(decisions) > 1:
        return "", "", "include_vs_exclude", "conflict"
    decision = decisions.pop()
    reasons = {v[1] for v in reviewer_votes if v[1]}
    if stage == "full_text" and decision == "exclude" and len(reasons) > 1:
        return "", "", "exclusion_reason", "conflict"
    if len(reviewer_votes) < settings.reviewers_per_record:
        return "", "", "", "awaiting_second_reviewer"
    reason = reasons.pop() if reasons else ""
    return decision, reason, "", "included" if decision == "include" else "excluded"


# ---------------------------------------------------------------------------
# Ranking
# ---------------------------------------------------------------------------
def training_labels(
    votes: Mapping[str, Mapping[str, tuple[str, str, str]]], consensus: pd.Series
) -> dict[str, int]:
    """What the model learns from: the consensus where there is one, else 1 if anyone voted include/maybe."""
    labels: dict[str, int] = {}
    for record_id, record_votes in votes.items():
        settled = consensus.get(record_id, "")
        if settled in ("include", "exclude"):
            labels[record_id] = int(settled == "include")
        else:
            labels[record_id] = int(any(v[0] in ("include", "maybe") for v in record_votes.values()))
    return labels


def record_texts(records: pd.DataFrame) -> list[str]:
    """What the ranking reads of each record (title, abstract, keywords); '' when there is nothing."""
    return [
        screening_text(t, a, k)
        for t, a, k in zip(records["title"], records["abstract"], records["keywords"], strict=True)
    ]


def rank_records(
    records: pd.DataFrame,
    texts: Sequence[str],
    rule_scores: np.ndarray,
    labels: Mapping[str, int],
    settings: ScreeningSettings,
) -> tuple[np.ndarray, np.ndarray, str]:
    """(rank 1..n, score, how) for every record.

    With both includes and excludes decided, the classifier's decision value orders the
    list (rules break ties). Before that, configured seed records come first, then the rules' score.
    """
    n = len(records)
    ids = records["record_id"].tolist()
    model_scores = None
    learner_note = ""
    if n and len(set(labels.values())) == 2:
        views = feature_views(texts, settings.ranking)
        position = {rid: i for i, rid in enumerate(ids)}
        labelled = [position[r] for r in labels]  # in the order the decisions were read
        decided = [labels[r] for r in labels]
        model_scores = score_records(views, labelled, decided, settings.ranking, settings.seed)
        if settings.ranking.learner_choice:
            learner_note = _chosen_learner(views, labelled, decided, settings)
        learner_note += _featureless_note(views, labelled, decided, settings.ranking)
    seeds = np.array([rid in settings.seed_records for rid in ids], dtype=float)
    ties = tie_breaker(n, settings.seed)
    if model_scores is not None:
        primary = model_scores
        how = f"{settings.ranking.classifier} model on {len(labels)} decided records{learner_note}"
        order = np.lexsort((ties, -rule_scores, -primary))
    else:
        primary, how = rule_scores + 1000 * seeds, "seed records and eligibility rules (no decisions yet)"
        if len(set(labels.values())) == 2:  # every include, or every exclude, is on a record without text
            how = (
                "seed records and eligibility rules (the decisions on records with a title, abstract or"
                " keywords are not yet both includes and excludes)"
            )
        order = np.lexsort((ties, -primary))
    rank = np.empty(n, dtype=int)
    rank[order] = np.arange(1, n + 1)
    return rank, primary, how


def _chosen_learner(
    views: FeatureViews, labelled: list[int], labels: list[int], settings: ScreeningSettings
) -> str:
    ranking = settings.ranking
    index, y = with_features(views, labelled, labels, ranking)
    if len(set(y.tolist())) < 2:
        return ""
    if ranking_learner(views, index, y, ranking, settings.seed) == "stall":
        return (
            f"; in a stall ({excludes_since_last_include(y)} excludes since the last include): ranked by"
            f" {STALL_RANKERS[ranking.stall_mode]} until the next include"
        )
    choice = choose_learner(views, index, y, ranking, settings.seed)
    share = ""
    if ranking.other_every:
        other = f"the {ranking.classifier} model" if choice.learner == "svm" else "the include-weighted SVM"
        share = f"; every {_ordinal(ranking.other_every)} place goes to the best record of {other}"
    if choice.auc_default is None or choice.auc_svm is None:
        return f" (too few includes or excludes to compare learners: {ranking.classifier} model){share}"
    chosen = "the include-weighted SVM" if choice.learner == "svm" else f"the {ranking.classifier} model"
    if choice.validation == "recent":
        how = (
            f"AUC on the most recent {choice.tested} of the first {choice.decisions} decisions"
            " (both learners trained on the earlier ones)"
        )
    else:
        how = f"{ranking.choice_folds}-fold cross-validated AUC on the first {choice.decisions} decisions"
    note = (
        f"; ranked by {chosen}, chosen by {how}: {ranking.classifier} {choice.auc_default:.3f},"
        f" include-weighted SVM {choice.auc_svm:.3f}"
    )
    if ranking.learner_choice == "kept":
        note += _kept_note(choice, ranking.choice_z)
    return note + share


def _kept_note(choice: LearnerChoice, choice_z: float) -> str:
    """DeLong's z, and why the learner ranking was kept where the AUCs favour the other."""
    if choice.z is None:
        return (
            " (kept: too few recent includes or excludes to test the other learner's lead)"
            if choice.kept
            else ""
        )
    if not choice.kept:
        return f" (DeLong's z {choice.z:+.2f})"
    return (
        f" (DeLong's z {choice.z:+.2f}; kept, as the other learner's lead is within chance,"
        f" |z| <= {choice_z:g})"
    )


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _featureless_note(
    views: FeatureViews, labelled: list[int], labels: list[int], ranking: RankingSettings
) -> str:
    """Where the records without title, abstract or keywords went and why ('' when there are none)."""
    without = featureless(views)
    count = int(without.sum())
    if not ranking.featureless or not count:
        return ""
    decided = without[np.asarray(labelled, dtype=int)]
    screened, included = int(decided.sum()), int(np.asarray(labels, dtype=int)[decided].sum())
    placement = featureless_placement(views, labelled, labels, ranking)
    if placement is None:  # not trained on, scored like the others
        return (
            f"; {count} records without title, abstract or keywords ({screened} screened,"
            f" {included} included): no learner is trained on them, and the model scores them all alike"
        )
    left = count - screened
    if not left:
        where = "all screened"
    elif placement.first == 0:
        where = "the rest listed last"
    elif placement.first == left:
        where = "the rest listed first"
    else:
        where = f"{placement.first} of the {left} unscreened listed first, the rest last"
    return (
        f"; {count} records without title, abstract or keywords ({screened} screened,"
        f" {included} included; {where}): estimated include rate"
        f" {100 * placement.rate:.1f}% against {100 * placement.ranked_rate:.1f}% among the"
        f" {placement.window} most recent decisions on the other records"
    )


# ---------------------------------------------------------------------------
# The stage
# ---------------------------------------------------------------------------
def screen(records: pd.DataFrame, settings: ScreeningSettings, decisions: pd.DataFrame) -> ScreeningResult:
    records = records.copy()
    if "origin" not in records.columns:
        records["origin"] = ""
    rules = compile_rules(settings.rules)
    flagged = apply_rules(records, rules)
    records = records.merge(flagged, on="record_id", how="left", validate="one_to_one")

    ta_votes = votes_by_record(decisions, "title_abstract")
    ft_votes = votes_by_record(decisions, "full_text")
    settled = {rid: settle(ta_votes.get(rid, {}), settings, "title_abstract") for rid in records["record_id"]}
    records["consensus"] = [settled[r][0] for r in records["record_id"]]
    records["conflict"] = [settled[r][2] for r in records["record_id"]]
    records["status"] = [settled[r][3] for r in records["record_id"]]
    automated = (records["excluded_by_rule"] != "") & ~records["record_id"].isin(ta_votes)
    records.loc[automated, ["consensus", "status"]] = ["exclude", "excluded_by_automation"]

    labels = training_labels(ta_votes, records.set_index("record_id")["consensus"])
    texts = record_texts(records)
    rank, score, how = rank_records(
        records, texts, records["rule_score"].to_numpy(dtype=float), labels, settings
    )
    # Nothing to read: no learner ranks these by what they say, so reviewers are told to screen them by hand.
    unreadable = np.array([not text.strip() for text in texts], dtype=bool)
    records.loc[unreadable, "rule_flags"] = [
        join_multi((NO_TEXT_FLAG, flags)) for flags in records.loc[unreadable, "rule_flags"]
    ]
    without_text = set(records.loc[unreadable, "record_id"])
    log.info("ranking: %s", how)
    records["rank"] = rank
    records["score"] = [f"{s:.4f}" for s in score]
    for reviewer in settings.everyone:
        records[f"decision_{reviewer}"] = [
            ta_votes.get(r, {}).get(reviewer, ("", "", ""))[0] for r in records["record_id"]
        ]

    # ASReview export order: decided includes, then everything undecided by rank, then excludes
    # (human exclusions before the automation tools' ones).
    group = records["status"].map({"included": 0, "excluded": 2, "excluded_by_automation": 3}).fillna(1)
    records = records.assign(_group=group).sort_values(["_group", "rank"]).drop(columns="_group")
    decision_columns = [f"decision_{r}" for r in settings.everyone]
    ta_columns = [*names(TITLE_ABSTRACT_COLUMNS), *decision_columns, *names(TITLE_ABSTRACT_TAIL)]
    title_abstract = records.loc[:, ta_columns].reset_index(drop=True)
    check_table(title_abstract, TITLE_ABSTRACT_COLUMNS + TITLE_ABSTRACT_TAIL, "title_abstract.csv")

    # Full text: the records that passed title/abstract.
    passed = records[records["consensus"] == "include"].sort_values("rank")
    ft_settled = {rid: settle(ft_votes.get(rid, {}), settings, "full_text") for rid in passed["record_id"]}
    included = passed.copy()
    included["full_text"] = [ft_settled[r][0] or ft_settled[r][3] for r in passed["record_id"]]
    included["full_text_reason"] = [ft_settled[r][1] for r in passed["record_id"]]
    included = included.loc[:, names(INCLUDED_COLUMNS)].reset_index(drop=True)
    check_table(included, INCLUDED_COLUMNS, "included.csv")

    sheets = _sheets(records, passed, ta_votes, ft_votes, settled, ft_settled, settings)
    conflicts = _conflicts(records, passed, ta_votes, ft_votes, settled, ft_settled)
    agreement = {
        stage: [
            pair_agreement(
                {r: v[a][0] for r, v in votes.items() if a in v},
                {r: v[b][0] for r, v in votes.items() if b in v},
                (a, b),
            )
            for a, b in combinations(settings.reviewers, 2)
        ]
        for stage, votes in (("title_abstract", ta_votes), ("full_text", ft_votes))
    }
    prisma = _prisma(records, included, settings)
    prisma["ranking"] = how
    stopping = _stopping(records, ta_votes, without_text, settings)
    return ScreeningResult(
        title_abstract, sheets, conflicts, included, agreement, prisma, decision_columns, stopping
    )


def _stopping(
    records: pd.DataFrame,
    ta_votes: Mapping[str, Mapping[str, Any]],
    without_text: set[str],
    settings: ScreeningSettings,
) -> dict[str, Any]:
    """Stopping guidance on the records reviewers screen (those no automation tool excluded).

    A record counts as screened once it has a title/abstract consensus (status included or
    excluded, as in title_abstract.csv), so the counts only grow as decisions are added; a lone
    vote or a conflict leaves it unscreened. The estimate covers the records the ranking can read;
    unscreened records without text are counted apart, to be screened by hand.
    """
    status = records.set_index("record_id")["status"]
    reviewed = status[status != "excluded_by_automation"]
    settled = reviewed[reviewed.isin(["included", "excluded"])]
    # in the order the decisions were read: the criterion treats the last ones as a sample
    in_order = [record_id for record_id in ta_votes if record_id in settled.index]
    label = {record_id: int(settled[record_id] == "included") for record_id in in_order}
    return stopping_report(
        [label[r] for r in in_order if r not in without_text],
        int((~reviewed.index.isin(list(without_text))).sum()),
        settings.stopping,
        unreadable_unscreened=int(
            (reviewed.index.isin(list(without_text)) & ~reviewed.index.isin(settled.index)).sum()
        ),
        unreadable_screened=[label[r] for r in in_order if r in without_text],
    )


def _rows(frame: pd.DataFrame, mask: Sequence[bool]) -> pd.DataFrame:
    return frame.loc[np.asarray(mask, dtype=bool).reshape(len(frame))]


def _sheet_frame(frame: pd.DataFrame, stage: str, reviewer: str) -> pd.DataFrame:
    sheet = frame.sort_values("rank").copy()
    sheet["stage"] = stage
    sheet["reviewer"] = reviewer
    for column in ("decision", "reason", "note", "decided_at"):
        sheet[column] = ""
    return sheet.loc[:, names(SCREENING_SHEET_COLUMNS)].reset_index(drop=True)


def _sheets(
    records: pd.DataFrame,
    passed: pd.DataFrame,
    ta_votes: Mapping[str, Mapping[str, Any]],
    ft_votes: Mapping[str, Mapping[str, Any]],
    settled: Mapping[str, tuple[str, str, str, str]],
    ft_settled: Mapping[str, tuple[str, str, str, str]],
    settings: ScreeningSettings,
) -> dict[tuple[str, str], pd.DataFrame]:
    """Each reviewer's undecided records, by rank: records they have not decided and nobody has settled."""
    sheets = {}
    open_ta = records[(records["consensus"] == "") & (records["status"] != "conflict")]
    open_ft = _rows(
        passed, [ft_settled[r][0] == "" and ft_settled[r][3] != "conflict" for r in passed["record_id"]]
    )
    for reviewer in settings.reviewers:
        todo = _rows(open_ta, [reviewer not in ta_votes.get(r, {}) for r in open_ta["record_id"]])
        sheets[("title_abstract", reviewer)] = _sheet_frame(todo, "title_abstract", reviewer)
        todo = _rows(open_ft, [reviewer not in ft_votes.get(r, {}) for r in open_ft["record_id"]])
        sheets[("full_text", reviewer)] = _sheet_frame(todo, "full_text", reviewer)
    return sheets


def _conflicts(
    records: pd.DataFrame,
    passed: pd.DataFrame,
    ta_votes: Mapping[str, Mapping[str, tuple[str, str, str]]],
    ft_votes: Mapping[str, Mapping[str, tuple[str, str, str]]],
    settled: Mapping[str, tuple[str, str, str, str]],
    ft_settled: Mapping[str, tuple[str, str, str, str]],
) -> pd.DataFrame:
    rows = []
    by_id = records.set_index("record_id")
    for stage, votes, states, ids in (
        ("title_abstract", ta_votes, settled, records.sort_values("rank")["record_id"]),
        ("full_text", ft_votes, ft_settled, passed["record_id"]),
    ):
        for record_id in ids:
            kind = states[record_id][2]
            if not kind:
                continue
            record = by_id.loc[record_id]
            record_votes = votes[record_id]
            rows.append(
                {
                    "record_id": record_id,
                    "stage": stage,
                    "conflict": kind,
                    "votes": "; ".join(
                        f"{who}={d}" + (f" ({reason})" if reason else "")
                        for who, (d, reason, _) in record_votes.items()
                    ),
                    "notes": " | ".join(
                        f"{who}: {note}" for who, (_, _, note) in record_votes.items() if note
                    ),
                    "rank": str(record["rank"]),
                    **{c: record[c] for c in ("rule_flags", "title", "abstract", "year", "doi", "pmid")},
                    "reviewer": "",
                    "decision": "",
                    "reason": "",
                    "note": "",
                }
            )
    frame = pd.DataFrame(rows, columns=names(SCREENING_CONFLICT_COLUMNS))
    check_table(frame, SCREENING_CONFLICT_COLUMNS, "conflicts.csv")
    return frame


def _prisma(records: pd.DataFrame, included: pd.DataFrame, settings: ScreeningSettings) -> dict[str, Any]:
    """PRISMA 2020 flow-diagram counts for the screening boxes, checked to reconcile."""
    status = records["status"].value_counts().to_dict()
    automated = records[records["status"] == "excluded_by_automation"]
    screened = len(records) - len(automated)
    ta_excluded = int(status.get("excluded", 0))
    ta_included = int(status.get("included", 0))
    awaiting = {
        "conflict": int(status.get("conflict", 0)),
        "awaiting_second_reviewer": int(status.get("awaiting_second_reviewer", 0)),
        "not_screened": int(status.get("not_screened", 0)),
    }
    ft = included["full_text"].value_counts().to_dict()
    ft_excluded = included[included["full_text"] == "exclude"]
    reasons = {
        code: int((ft_excluded["full_text_reason"] == code).sum()) for code in settings.exclusion_reasons
    }
    counts: dict[str, Any] = {
        "records_in": len(records),
        "records_excluded_by_automation_tools": len(automated),
        "automation_exclusions_by_rule": automated["excluded_by_rule"].value_counts().sort_index().to_dict(),
        "records_screened": screened,
        "records_excluded": ta_excluded,
        "records_awaiting_title_abstract": awaiting,
        "reports_sought_for_retrieval": ta_included,
        "reports_assessed_for_eligibility": int(ft.get("include", 0)) + len(ft_excluded),
        "reports_excluded": {code: n for code, n in reasons.items() if n},
        "reports_awaiting_full_text": {
            k: int(ft.get(k, 0)) for k in ("conflict", "awaiting_second_reviewer", "not_screened")
        },
        "reports_included": int(ft.get("include", 0)),
    }
    if screened != ta_excluded + ta_included + sum(awaiting.values()):
        raise AssertionError(f"screening counts do not reconcile: {counts}")
    if sum(counts["reports_excluded"].values()) != len(ft_excluded):
        raise AssertionError(f"full-text exclusions without a configured reason code: {counts}")
    return counts


# ---------------------------------------------------------------------------
# Writing
# ---------------------------------------------------------------------------
@dataclass(frozen=True)
class ScreeningOutputs(StageOutputs):
    """What ``ohevidence screen run`` writes (rule ``screen_records`` names every file)."""

    title_abstract: Path = field(
        metadata=output("title_abstract.csv", "every record: rank, flags, decisions")
    )
    conflicts: Path = field(metadata=output("conflicts.csv", "records the reviewers disagree on"))
    included: Path = field(metadata=output("included.csv", "records included at full text"))
    agreement: Path = field(metadata=output("agreement.json", "agreement between reviewers"))
    prisma: Path = field(metadata=output("prisma_counts.json", "PRISMA counts of the screening"))
    stopping: Path = field(metadata=output("stopping.json", "stopping guidance"))
    ris: Path = field(metadata=output("screening.ris", "records in screening order, RIS"))
    asreview: Path = field(metadata=output("asreview.csv", "records in screening order, ASReview CSV"))
    to_screen: tuple[Path, ...] = field(
        metadata=output("to_screen_{reviewer}.csv", "title/abstract sheets", per_reviewer=True)
    )
    full_text: tuple[Path, ...] = field(
        metadata=output("full_text_{reviewer}.csv", "full-text sheets", per_reviewer=True)
    )


def write_outputs(
    result: ScreeningResult, records: pd.DataFrame, outputs: ScreeningOutputs | str | Path
) -> dict[str, Path]:
    """Write every output (to ``outputs``, or under their usual names in a folder)."""
    reviewers = [reviewer for stage, reviewer in result.sheets if stage == "title_abstract"]
    if not isinstance(outputs, ScreeningOutputs):
        outputs = ScreeningOutputs.in_folder(outputs, reviewers=reviewers)
    paths = {
        "title_abstract": outputs.title_abstract,
        "conflicts": outputs.conflicts,
        "included": outputs.included,
        "agreement": outputs.agreement,
        "prisma": outputs.prisma,
        "stopping": outputs.stopping,
        "ris": outputs.ris,
        "asreview": outputs.asreview,
    }
    sheet_paths = {
        **{("title_abstract", r): path for r, path in zip(reviewers, outputs.to_screen, strict=True)},
        **{("full_text", r): path for r, path in zip(reviewers, outputs.full_text, strict=True)},
    }
    write_sheet(result.title_abstract, paths["title_abstract"], result.title_abstract.columns)
    write_sheet(result.conflicts, paths["conflicts"], names(SCREENING_CONFLICT_COLUMNS))
    write_sheet(result.included, paths["included"], names(INCLUDED_COLUMNS))
    for (stage, reviewer), sheet in result.sheets.items():
        paths[f"{stage}:{reviewer}"] = sheet_paths[stage, reviewer]
        write_sheet(sheet, sheet_paths[stage, reviewer], names(SCREENING_SHEET_COLUMNS))
    for key, value in (
        ("agreement", result.agreement),
        ("prisma", result.prisma),
        ("stopping", result.stopping),
    ):
        write_json_atomic(paths[key], value)
    labelled = records.loc[:, [c for c in RECORD_FIELDS]].merge(
        result.title_abstract[["record_id", "rank", "consensus"]], on="record_id"
    )
    labelled = labelled.sort_values("rank")
    write_ris(labelled, paths["ris"])
    write_asreview_csv(labelled, paths["asreview"])
    return paths
