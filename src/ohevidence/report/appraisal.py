"""Appraisal status of every included study (results/tables/appraisal_status.csv).

For each study of results/extraction/included_studies.csv: its design (studies.csv), the tool that
applies (:data:`ohevidence.schema.APPRAISAL_TOOLS`: RoB 2 parallel or cluster, ROBINS-I, AMSTAR 2),
whether the curated appraisal tables hold its assessment, and what is needed when they do not. A
study is never given a judgement here: "awaiting assessment" is the honest state until a reviewer
(or a published source, cited per row) fills the table.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from ohevidence.appraisal import AMSTAR2, ROB2, ROBINS_I, Tool, load_appraisal
from ohevidence.schema import APPRAISAL_STATUS_COLUMNS, APPRAISAL_TOOLS, names

_TOOL_OF_NAME: dict[str, Tool] = {
    "RoB 2 (parallel)": ROB2,
    "RoB 2 (cluster)": ROB2,
    "ROBINS-I": ROBINS_I,
    "AMSTAR 2": AMSTAR2,
}
NEEDED: dict[str, str] = {
    "RoB 2 (parallel)": "RoB 2 judgements D1-D5 per outcome (trial report, protocol, registry), with support "
    "and source; no published RoB 2 judgement was found (a Cochrane RoB 1 table is not RoB 2)",
    "RoB 2 (cluster)": "RoB 2 cluster-variant judgements D1, D1b and D2-D5 per outcome, with support and "
    "source; no published RoB 2 judgement was found",
    "ROBINS-I": "ROBINS-I judgements D1-D7 per outcome (confounders pre-specified), with support and source",
    "AMSTAR 2": "answers to all 16 AMSTAR 2 items from the full review and its protocol; the evidence "
    "states only some items (cochrane_work_reviews.md)",
}


def _overalls(path: str | Path | None, tool: Tool) -> dict[str, list[str]]:
    """study_id -> ['outcome: overall', ...] of one appraisal table (absent: none)."""
    if not path or not Path(path).is_file():
        return {}
    found: dict[str, list[str]] = {}
    for row in load_appraisal(path, tool).to_dict("records"):
        label = f"{row['outcome_id']}: {row['overall']}" if row.get("outcome_id") else row["overall"]
        found.setdefault(row["study_id"], []).append(label)
    return found


def appraisal_status(
    included: pd.DataFrame,
    studies: pd.DataFrame,
    tables: Mapping[str, str | Path | None],
) -> pd.DataFrame:
    """One row per included study; ``tables`` maps a tool's file name (rob.csv, ...) to its path."""
    design_of = dict(zip(studies["study_id"], studies["design"], strict=True))
    recorded = {tool.file: _overalls(tables.get(tool.file), tool) for tool in (ROB2, ROBINS_I, AMSTAR2)}
    rows = []
    for study_id in included["curated_study_id"]:
        design = design_of.get(study_id, "")
        tool_name = APPRAISAL_TOOLS.get(design, "")
        tool = _TOOL_OF_NAME.get(tool_name)
        if tool is None:
            rows.append({"study_id": study_id, "design": design, "tool": "", "status": "no tool",
                         "overall": "", "table": "", "needed": ""})  # fmt: skip
            continue
        overall = recorded[tool.file].get(study_id, [])
        rows.append(
            {
                "study_id": study_id,
                "design": design,
                "tool": tool_name,
                "status": "assessed" if overall else "awaiting assessment",
                "overall": "; ".join(overall),
                "table": str(tables.get(tool.file) or tool.file),
                "needed": "" if overall else NEEDED[tool_name],
            }
        )
    return pd.DataFrame(rows, columns=names(APPRAISAL_STATUS_COLUMNS))
