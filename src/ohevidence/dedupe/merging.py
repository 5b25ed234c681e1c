"""Step 5, ``merge``: one record per cluster, keeping the richest value of every field.

The kept record is the cluster's richest (abstract, identifiers, most filled fields; the
earliest on a tie). Each field of the merged record then takes the best value any member
has: a title without invisible characters (zero-width, text-direction controls) over one with
them, then a mixed-case title over an upper-case or truncated one, the longest abstract and
author list, the full journal name, the full page range. No identifier is lost: ``pmid``
and ``doi`` hold the kept record's (or the first known), ``all_pmids`` and ``all_dois`` hold
every one in the cluster.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

from ohevidence.cells import MULTI_SEP, join_multi, split_multi, visible_text
from ohevidence.dedupe.normalise import normalise_pages
from ohevidence.schema import RECORD_FIELDS

RICHNESS_FIELDS = ("title", "authors", "journal", "year", "volume", "issue", "pages", "doi", "pmid")
UNION_FIELDS = ("publication_types", "mesh_terms", "keywords", "registry_ids", "language")


def richness(records: pd.DataFrame) -> np.ndarray:
    """How complete each record is: abstract and identifiers weigh most."""
    score = np.zeros(len(records))
    for name in RICHNESS_FIELDS:
        score += (records[name].to_numpy(dtype=object) != "").astype(float)
    score += 3 * (records["abstract"].to_numpy(dtype=object) != "")
    score += (records["doi"].to_numpy(dtype=object) != "") + (records["pmid"].to_numpy(dtype=object) != "")
    return score


def kept_positions(records: pd.DataFrame, labels: np.ndarray) -> np.ndarray:
    """Per cluster number: position of the record kept (richest; first on a tie)."""
    order = pd.DataFrame({"label": labels, "score": -richness(records), "pos": np.arange(len(records))})
    best = order.sort_values(["label", "score", "pos"], kind="stable").drop_duplicates("label")
    kept = np.empty(int(labels.max()) + 1 if len(labels) else 0, dtype=np.int64)
    kept[best["label"].to_numpy()] = best["pos"].to_numpy()
    return kept


def _title_quality(value: str) -> tuple[int, int, int, int]:
    # records are cleaned at import (cells.clean_text); a table from elsewhere may still hold
    # invisible characters: such a title is never preferred, nor longer for them
    visible = visible_text(value)
    letters = [c for c in visible if c.isalpha()]
    not_upper = int(not letters or not all(c.isupper() for c in letters))
    whole = int("…" not in visible and "..." not in visible)
    return (int(visible == value), whole, not_upper, len(visible))


def _author_quality(value: str) -> tuple[int, int]:
    return (len(split_multi(value)), len(value))


def _page_quality(value: str) -> tuple[int, int]:
    full, _ = normalise_pages(value)
    return (int("-" in full), len(value))


# How good a field value is; the member's value with the highest quality wins.
Quality = Callable[[str], int | tuple[int, ...]]

BEST_OF: dict[str, Quality] = {
    "title": _title_quality,
    "abstract": len,
    "authors": _author_quality,
    "journal": len,
    "pages": _page_quality,
}


def _best(values: Sequence[str], quality: Quality | None) -> str:
    present = [v for v in values if v]
    if not present:
        return ""
    if quality is None:
        return present[0]  # members come kept-first, so the kept record's value wins
    return max(present, key=quality)


def merge(records: pd.DataFrame, labels: np.ndarray, kept: np.ndarray) -> pd.DataFrame:
    """Unique records: record columns plus cluster_id, origin, sources, search_ids, all_pmids, all_dois."""
    records = records.reset_index(drop=True)
    ids = cluster_ids(labels)
    order = pd.DataFrame({"label": labels, "pos": np.arange(len(records))})
    is_kept = np.zeros(len(records), dtype=bool)
    is_kept[kept] = True
    order["not_kept"] = ~is_kept
    order = order.sort_values(["label", "not_kept", "pos"], kind="stable")
    sizes = np.bincount(labels) if len(labels) else np.empty(0, dtype=np.int64)
    merged = records.iloc[kept].reset_index(drop=True).copy()
    merged["cluster_id"] = ids
    merged["origin"] = merged["record_id"]
    merged["sources"] = merged["source"]
    merged["search_ids"] = merged["search_id"]
    merged["all_pmids"] = merged["pmid"]
    merged["all_dois"] = merged["doi"]
    multi = np.flatnonzero(sizes > 1)
    if len(multi):
        members = order[order["label"].isin(multi)].groupby("label", sort=True)["pos"].agg(list)
        columns = {name: records[name].tolist() for name in records.columns}
        rows = []
        for label, positions in members.items():
            row = {
                name: _best([columns[name][p] for p in positions], BEST_OF.get(name))
                for name in RECORD_FIELDS
            }
            for name in ("record_id", "source", "search_id", "source_id", "url"):
                row[name] = columns[name][positions[0]]
            for name in UNION_FIELDS:
                row[name] = join_multi(part for p in positions for part in split_multi(columns[name][p]))
            row["origin"] = MULTI_SEP.join(columns["record_id"][p] for p in positions)
            row["sources"] = join_multi(columns["source"][p] for p in positions)
            row["search_ids"] = join_multi(columns["search_id"][p] for p in positions)
            row["all_pmids"] = join_multi(columns["pmid"][p] for p in positions)
            row["all_dois"] = join_multi(columns["doi"][p] for p in positions)
            row["cluster_id"] = ids[label]
            rows.append((label, row))
        replacement = pd.DataFrame([r for _, r in rows], index=[int(label) for label, _ in rows])
        merged.loc[replacement.index, replacement.columns] = replacement
    return merged


def cluster_ids(labels: np.ndarray) -> list[str]:
    count = int(labels.max()) + 1 if len(labels) else 0
    width = max(4, len(str(count)))
    return [f"C{k + 1:0{width}d}" for k in range(count)]
