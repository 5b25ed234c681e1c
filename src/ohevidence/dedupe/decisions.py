"""Reviewers' deduplication decisions (``data/curated/dedup_decisions.csv``, human-owned).

The file has the columns of :data:`ohevidence.schema.DEDUP_DECISION_COLUMNS`; extra columns
are ignored, so a filled-in copy of ``results/dedup/maybe_pairs.csv`` is a valid decisions
file. Rows with an empty ``decision`` are undecided and skipped. The pipeline reads this
file and never writes it.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ohevidence.csvio import unneutralise_frame
from ohevidence.errors import InputError
from ohevidence.schema import DEDUP_DECISION_COLUMNS, DEDUP_DECISIONS
from ohevidence.tableio import check_table

DECISION_FIELDS = [c.name for c in DEDUP_DECISION_COLUMNS]


def read_decisions(path: str | Path, record_ids: pd.Series) -> pd.DataFrame:
    """Validated decisions with record positions ``a``, ``b`` added; undecided rows dropped.

    Raises :class:`InputError` naming file, line and column for an unknown record id, an
    unknown decision, a pair of one record with itself, or one pair decided both ways.
    """
    path = Path(path)
    try:
        table = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as exc:
        raise InputError(path, f"cannot be read as UTF-8 CSV: {exc}") from exc
    table = unneutralise_frame(table)
    check_table(table, DEDUP_DECISION_COLUMNS, path)
    position = {rid: i for i, rid in enumerate(record_ids)}
    seen: dict[tuple[str, str], tuple[str, int]] = {}
    rows = []
    for index, row in enumerate(table[DECISION_FIELDS].itertuples(index=False)):
        line = index + 2
        decision = row.decision.strip().lower()
        if decision and decision not in DEDUP_DECISIONS:
            raise InputError(
                path,
                f"unknown decision {row.decision!r}",
                line=line,
                column="decision",
                expected=" or ".join(DEDUP_DECISIONS) + " (or empty: undecided)",
            )
        for column in ("record_id_a", "record_id_b"):
            rid = getattr(row, column).strip()
            if rid not in position:
                raise InputError(
                    path,
                    f"unknown record id {rid!r}",
                    line=line,
                    column=column,
                    expected="a record_id of the records being deduplicated",
                )
        a, b = row.record_id_a.strip(), row.record_id_b.strip()
        if a == b:
            raise InputError(
                path,
                f"record {a!r} paired with itself",
                line=line,
                column="record_id_b",
                expected="two records",
            )
        if not decision:
            continue
        pair = (min(a, b), max(a, b))
        if pair in seen and seen[pair][0] != decision:
            raise InputError(
                path,
                f"pair {a} / {b} decided '{decision}' here but '{seen[pair][0]}' on line {seen[pair][1]}",
                line=line,
                column="decision",
                expected="one decision per pair",
            )
        seen[pair] = (decision, line)
        rows.append({"record_id_a": a, "record_id_b": b, "decision": decision, "line": line})
    decisions = pd.DataFrame(rows, columns=["record_id_a", "record_id_b", "decision", "line"])
    decisions["a"] = decisions["record_id_a"].map(position).astype("int64")
    decisions["b"] = decisions["record_id_b"].map(position).astype("int64")
    return decisions.drop_duplicates(["a", "b", "decision"]).reset_index(drop=True)
