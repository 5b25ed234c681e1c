"""Deduplication and study linking: prep -> block -> match -> cluster -> merge, then link.

A *duplicate* is another record of the same bibliographic item (the same article exported
by two databases, its early-view and final version). Different reports of one study
(protocol, main results, HTA monograph, economic evaluation) are not duplicates: they stay
separate and are *linked* to one study key. Each step is a pure function over one
DataFrame; :func:`deduplicate` runs them all and :func:`write_outputs` is the only I/O.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ohevidence.cells import MULTI_SEP
from ohevidence.dedupe.blocking import block
from ohevidence.dedupe.clustering import Clustering, cluster
from ohevidence.dedupe.links import link_studies
from ohevidence.dedupe.matching import match
from ohevidence.dedupe.merging import cluster_ids, kept_positions, merge
from ohevidence.dedupe.normalise import prep
from ohevidence.outputs import StageOutputs, output
from ohevidence.schema import (
    DEDUP_CLUSTER_COLUMNS,
    MAYBE_PAIR_COLUMNS,
    MAYBE_PAIR_FIELDS,
    STUDY_LINK_COLUMNS,
    UNIQUE_RECORD_COLUMNS,
    names,
)
from ohevidence.tableio import write_table

__all__ = [
    "DedupeOutputs",
    "Deduplication",
    "block",
    "cluster",
    "deduplicate",
    "match",
    "merge",
    "prep",
    "write_outputs",
]

log = logging.getLogger("ohevidence.dedupe")


@dataclass
class Deduplication:
    clusters: pd.DataFrame  # DEDUP_CLUSTER_COLUMNS
    unique_records: pd.DataFrame  # UNIQUE_RECORD_COLUMNS
    maybe_pairs: pd.DataFrame  # MAYBE_PAIR_COLUMNS
    study_links: pd.DataFrame  # STUDY_LINK_COLUMNS
    pairs: pd.DataFrame  # every scored candidate pair (positions a, b), for benchmarks and debugging
    labels: np.ndarray  # cluster number per record position


def _timed(step: str, started: float) -> float:
    now = time.perf_counter()
    log.info("%s done in %.2f s", step, now - started)
    return now


def deduplicate(
    records: pd.DataFrame,
    decisions: pd.DataFrame | None = None,
    *,
    max_block: int = 50,
    window: int = 8,
    link: bool = True,
) -> Deduplication:
    """Run the whole stage on records (record schema). ``decisions`` as from :func:`read_decisions`."""
    records = records.reset_index(drop=True)
    started = time.perf_counter()
    log.info("dedupe: %d records", len(records))
    if records.empty:  # a review before its first search: nothing to compare, empty tables
        return Deduplication(
            pd.DataFrame(columns=names(DEDUP_CLUSTER_COLUMNS)),
            records.assign(**{c: "" for c in names(UNIQUE_RECORD_COLUMNS) if c not in records}),
            pd.DataFrame(columns=names(MAYBE_PAIR_COLUMNS)),
            pd.DataFrame(columns=names(STUDY_LINK_COLUMNS)),
            pd.DataFrame({column: np.empty(0, dtype=np.int64) for column in ("a", "b", "keys")}),
            np.empty(0, dtype=np.int64),
        )
    prepared = prep(records)
    started = _timed("prep", started)
    candidates = block(prepared, max_block=max_block, window=window)
    started = _timed("block", started)
    pairs = match(prepared, candidates)
    started = _timed("match", started)
    clustering = cluster(prepared, pairs, decisions)
    started = _timed("cluster", started)
    labels = clustering.labels
    kept = kept_positions(records, labels) if len(records) else np.empty(0, dtype=np.int64)
    unique_records = merge(records, labels, kept) if len(records) else records.iloc[0:0]
    clusters = cluster_table(records, clustering, kept)
    maybe = maybe_pairs(records, pairs, clustering, decisions)
    started = _timed("merge", started)
    links = link_studies(records, prepared, labels) if link else pd.DataFrame()
    _timed("link", started)
    log.info(
        "dedupe: %d records -> %d unique (%d duplicates removed), %d maybe pairs, %d records in studies",
        len(records),
        len(unique_records),
        len(records) - len(unique_records),
        len(maybe),
        len(links),
    )
    return Deduplication(clusters, unique_records, maybe, links, pairs, labels)


def cluster_table(records: pd.DataFrame, clustering: Clustering, kept: np.ndarray) -> pd.DataFrame:
    labels = clustering.labels
    ids = cluster_ids(labels)
    matched: list[list[str]] = [[] for _ in range(len(records))]
    for a, b, rule in clustering.accepted:
        for position in (a, b):
            if rule not in matched[position]:
                matched[position].append(rule)
    is_kept = np.zeros(len(records), dtype=bool)
    is_kept[kept] = True
    return pd.DataFrame(
        {
            "record_id": records["record_id"].to_numpy(),
            "cluster_id": [ids[label] for label in labels],
            "kept": np.where(is_kept, "yes", "no"),
            "matched_by": [MULTI_SEP.join(m) for m in matched],
        }
    )


def _fmt(values: pd.Series) -> list[str]:
    return ["" if v != v else f"{v:.0f}" for v in values]


def maybe_pairs(
    records: pd.DataFrame,
    pairs: pd.DataFrame,
    clustering: Clustering,
    decisions: pd.DataFrame | None,
) -> pd.DataFrame:
    """Uncertain pairs for a person: 'maybe' outcomes and merges refused by a constraint.

    Pairs already in one cluster are left out (nothing to decide), except those a person
    has decided, which are listed with their decision so a copy of this file keeps them.
    """
    labels = clustering.labels
    maybe = pairs[pairs["outcome"] == "maybe"][["a", "b", "rule", "veto"]].copy()
    maybe["why_uncertain"] = maybe["veto"].where(maybe["veto"] != "", "maybe rule " + maybe["rule"])
    refused = pd.DataFrame(clustering.refused, columns=["a", "b", "rule", "why_uncertain"])
    refused["why_uncertain"] = "cluster would hold two " + refused["why_uncertain"].astype(str)
    table = pd.concat([maybe.drop(columns="veto"), refused], ignore_index=True)
    table[["a", "b"]] = table[["a", "b"]].astype("int64")
    decided: dict[tuple[int, int], str] = {}
    if decisions is not None:
        for a, b, decision in decisions[["a", "b", "decision"]].itertuples(index=False):
            decided[(min(a, b), max(a, b))] = decision
    if len(table):
        keys = list(zip(table["a"].to_numpy(), table["b"].to_numpy(), strict=True))
        table["decision"] = [decided.get((int(a), int(b)), "") for a, b in keys]
        open_pair = labels[table["a"].to_numpy()] != labels[table["b"].to_numpy()]
        table = table[open_pair | (table["decision"] != "")]
    else:
        table["decision"] = pd.Series(dtype=str)
    table = table.drop_duplicates(["a", "b"])
    scores = pairs.set_index(["a", "b"])[["title", "authors", "journal", "abstract", "year_gap"]]
    scored = scores.reindex(pd.MultiIndex.from_arrays([table["a"], table["b"]]))
    out = pd.DataFrame(
        {
            "record_id_a": records["record_id"].to_numpy()[table["a"].to_numpy()],
            "record_id_b": records["record_id"].to_numpy()[table["b"].to_numpy()],
            "decision": table["decision"].to_numpy(),
            "rule": table["rule"].to_numpy(),
            "why_uncertain": table["why_uncertain"].to_numpy(),
            "title_sim": _fmt(scored["title"]),
            "authors_sim": _fmt(scored["authors"]),
            "journal_sim": _fmt(scored["journal"]),
            "abstract_sim": _fmt(scored["abstract"]),
            "year_gap": _fmt(scored["year_gap"]),
        }
    )
    for field in ("title", "authors", "journal", "year", "volume", "pages", "doi", "pmid", "source"):
        values = records[field].fillna("").astype(str).to_numpy()
        out[f"{field}_a"] = values[table["a"].to_numpy()]
        out[f"{field}_b"] = values[table["b"].to_numpy()]
    return out.loc[:, MAYBE_PAIR_FIELDS].sort_values(["record_id_a", "record_id_b"], ignore_index=True)


@dataclass(frozen=True)
class DedupeOutputs(StageOutputs):
    """The four tables ``ohevidence dedupe`` writes (rule ``deduplicate`` names them)."""

    clusters: Path = dataclasses.field(metadata=output("clusters.csv", "every record and its cluster"))
    unique_records: Path = dataclasses.field(metadata=output("unique_records.csv", "one record per cluster"))
    maybe_pairs: Path = dataclasses.field(metadata=output("maybe_pairs.csv", "uncertain pairs for reviewers"))
    study_links: Path = dataclasses.field(metadata=output("study_links.csv", "reports linked to one study"))


def write_outputs(result: Deduplication, outputs: DedupeOutputs | str | Path) -> dict[str, Path]:
    """Write the four tables (to ``outputs``, or under their usual names in a folder)."""
    if not isinstance(outputs, DedupeOutputs):
        outputs = DedupeOutputs.in_folder(outputs)
    paths = {
        "clusters": outputs.clusters,
        "unique_records": outputs.unique_records,
        "maybe_pairs": outputs.maybe_pairs,
        "study_links": outputs.study_links,
    }
    write_table(result.clusters, paths["clusters"], DEDUP_CLUSTER_COLUMNS)
    write_table(result.unique_records, paths["unique_records"], UNIQUE_RECORD_COLUMNS)
    write_table(result.maybe_pairs, paths["maybe_pairs"], MAYBE_PAIR_COLUMNS)
    write_table(result.study_links, paths["study_links"], STUDY_LINK_COLUMNS)
    return paths
