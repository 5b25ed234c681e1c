"""The job-role taxonomy (job_roles.yaml) and the one rule that puts a study in a subgroup.

The taxonomy is read by :func:`ohevidence.curated.load_job_roles` (the checked reader); this module
gives the views the synthesis needs. :func:`subgroup_of` is the rule every analysis, meta-regression
and forest plot uses to name a study's subgroup, so a study sits in the same subgroup everywhere.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from ohevidence.cells import split_multi
from ohevidence.curated import load_job_roles

NOT_REPORTED = "not reported"
NOT_CLASSIFIED = "not classified"
MULTIDISCIPLINARY = "multidisciplinary"


@dataclass(frozen=True)
class JobRole:
    """One role of job_roles.yaml: how a report names it and its professional group."""

    label: str
    professional_group: str


def read_job_roles(path: str | Path) -> dict[str, JobRole]:
    """Role id -> :class:`JobRole` (label defaults to the id; group '' when not given)."""
    return {
        role: JobRole(
            label=str(entry.get("label") or role),
            professional_group=str(entry.get("professional_group") or ""),
        )
        for role, entry in load_job_roles(path).items()
    }


def subgroup_of(job_role: str, group_by: str, roles: Mapping[str, JobRole]) -> tuple[str, str]:
    """(subgroup name, kind) of a ``job_role`` cell ('; '-separated ids) under ``group_by``.

    kind is ``single``, ``combined`` (several roles, or several professional groups:
    "multidisciplinary") or ``not_reported`` (no role). ``group_by`` job_role keeps the ids as they
    are; professional_group maps each id to its group ("not classified" when it has none).
    """
    ids = split_multi(job_role)
    if not ids:
        return NOT_REPORTED, "not_reported"
    if group_by == "professional_group":
        found = list(
            dict.fromkeys((roles[r].professional_group if r in roles else "") or NOT_CLASSIFIED for r in ids)
        )
        return (found[0], "single") if len(found) == 1 else (MULTIDISCIPLINARY, "combined")
    return "; ".join(ids), "single" if len(ids) == 1 else "combined"
