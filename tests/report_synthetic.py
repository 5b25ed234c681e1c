"""Invented analyses for the report tests: k studies in job roles, run through the real meta engine.

Nothing here is evidence: study names, counts and effects are generated from a seed.
"""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path
from typing import Any

import numpy as np

from ohevidence.meta.analysis import run_analysis
from ohevidence.meta.spec import AnalysisSpec

ROLES = ("physiotherapist", "occupational_therapist", "oh_nurse", "case_manager")
LONG_NAME = "AVERYLONGTRIALACRONYMTHATGOESONANDON-EXTENDED-FOLLOW-UP-COHORT"


def _write_csv(path: Path, rows: list[dict[str, Any]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def synthetic_analysis(
    folder: Path,
    k: int,
    *,
    measure: str = "RR",
    seed: int = 8,
    long_names: bool = False,
    no_estimate: int = 1,
    group_by: str = "job_role",
) -> dict[str, Path]:
    """Write studies/outcomes/effects/job_roles for k invented studies and run the engine on them."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    studies, outcomes, effects = [], [], []
    ratio = measure in ("RR", "OR", "HR", "IRR", "ROM")
    for i in range(k + no_estimate):
        study_id = f"S{i + 1:02d}"
        role = ROLES[i % len(ROLES)] if k > 1 else ROLES[0]
        name = f"{LONG_NAME} {i + 1}" if long_names and i % 3 == 0 else f"Trial{i + 1}"
        studies.append(
            {
                "study_id": study_id,
                "acronym": name,
                "first_author": f"Author{i + 1} A",
                "year": str(2000 + i % 25),
                "status": "ongoing" if i >= k else "completed",
                "job_role": role,
            }
        )
        if i >= k:  # listed with no usable estimate
            outcomes.append({"study_id": study_id, "outcome_id": "rtw", "higher_is_better": "true"})
            effects.append(
                {
                    "study_id": study_id,
                    "outcome_id": "rtw",
                    "domain": "return_to_work",
                    "measure": measure,
                    "job_role": role,
                    "yi": "",
                    "vi": "",
                    "se": "",
                    "from": "none: no estimate printed",
                }
            )
            continue
        n_int, n_ctl = int(rng.integers(20, 400)), int(rng.integers(20, 400))
        events_int, events_ctl = int(rng.integers(5, n_int)), int(rng.integers(5, n_ctl))
        yi = float(rng.normal(0.15 if ratio else 2.0, 0.3 if ratio else 3.0))
        vi = float(1 / n_int + 1 / n_ctl) * (4 if ratio else 40)
        if i == 0 and k >= 2:
            vi *= 60  # one very imprecise study: its whisker runs off the axis
        outcomes.append(
            {
                "study_id": study_id,
                "outcome_id": "rtw",
                "higher_is_better": "true",
                "n_int": str(n_int),
                "n_ctl": str(n_ctl),
                "events_int": str(events_int),
                "events_ctl": str(events_ctl),
            }
        )
        effects.append(
            {
                "study_id": study_id,
                "outcome_id": "rtw",
                "domain": "return_to_work",
                "measure": measure,
                "job_role": role,
                "yi": repr(yi),
                "vi": repr(vi),
                "se": repr(math.sqrt(vi)),
                "from": "invented",
            }
        )
    paths = {name: folder / f"{name}.csv" for name in ("studies", "outcomes", "effects")}
    _write_csv(paths["studies"], studies)
    columns = dict.fromkeys(key for row in outcomes for key in row)
    _write_csv(paths["outcomes"], [{**dict.fromkeys(columns, ""), **row} for row in outcomes])
    _write_csv(paths["effects"], effects)
    roles = folder / "job_roles.yaml"
    roles.write_text(
        "roles:\n"
        + "".join(
            f"  - id: {r}\n    label: {r.replace('_', ' ').capitalize()}\n"
            "    professional_group: allied health\n"
            for r in ROLES
        ),
        encoding="utf-8",
    )
    paths["job_roles"] = roles
    analysis = {
        "id": f"synthetic_{k}",
        "domain": "return_to_work",
        "measure": measure,
        "method": "REML",
        "ci": "z",
        "group_by": group_by,
    }
    paths["json"], paths["csv"] = folder / f"synthetic_{k}.json", folder / f"synthetic_{k}_meta.csv"
    run_analysis(
        AnalysisSpec.from_entry(analysis),
        paths["effects"],
        paths["studies"],
        roles,
        paths["json"],
        paths["csv"],
    )
    json.loads(paths["json"].read_text(encoding="utf-8"))
    return paths
