"""One configured analysis (an entry of the config's ``analyses:``) as a typed, frozen object.

The config schema (workflow/schemas/config.schema.yaml) documents every key and fills its default;
:class:`AnalysisSpec` is built only from an entry the schema has validated, so no default is
repeated here. An entry written by hand (a test, a notebook) goes through the same schema with
:meth:`AnalysisSpec.from_entry`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ohevidence.errors import ConfigError


@dataclass(frozen=True)
class GradeSettings:
    """The analysis' ``grade:`` block (GRADE inputs; see the config schema and docs/methods/grade.md)."""

    population: str | None  # studies.csv population_type of the review question
    mid: float | None  # minimal important difference, on the reporting scale
    optimal_information_size: int | None  # participants
    control_risk: float | None  # proportion with the event in the control group (0-1)
    control_mean: float | None  # control-group mean, in the outcome's units
    unit: str  # the outcome's units for the absolute effect (e.g. days)

    @classmethod
    def from_validated(cls, block: Mapping[str, Any]) -> GradeSettings:
        return cls(
            population=block["population"],
            mid=block["mid"],
            optimal_information_size=block["optimal_information_size"],
            control_risk=block["control_risk"],
            control_mean=block["control_mean"],
            unit=str(block["unit"]),
        )


@dataclass(frozen=True)
class Pico:
    """The analysis' ``pico:`` block: the question it answers (an empty dimension is not declared)."""

    population: tuple[str, ...]  # studies.csv population_type values accepted
    intervention_type: str  # words; described, not checked
    comparator_type: tuple[str, ...]  # outcomes.csv comparator_type values accepted
    outcome_definition: tuple[str, ...]  # outcomes.csv outcome_definition values accepted
    timepoint_min: float | None  # months, inclusive
    timepoint_max: float | None

    @classmethod
    def from_validated(cls, block: Mapping[str, Any]) -> Pico:
        window = block["timepoint_months"]
        return cls(
            population=tuple(block["population"]),
            intervention_type=str(block["intervention_type"]),
            comparator_type=tuple(block["comparator_type"]),
            outcome_definition=tuple(block["outcome_definition"]),
            # --config hands every value over as text: "12" is the number 12 (the schema checked it)
            timepoint_min=None if window["min"] is None else float(window["min"]),
            timepoint_max=None if window["max"] is None else float(window["max"]),
        )

    def accepted(self, dimension: str) -> tuple[str, ...]:
        """The values declared for a listed dimension (population, comparator_type, outcome_definition)."""
        values: tuple[str, ...] = getattr(self, dimension)
        return values

    @property
    def has_window(self) -> bool:
        return self.timepoint_min is not None or self.timepoint_max is not None


@dataclass(frozen=True)
class RoleHypothesis:
    """``role_hypothesis:``: the role subgroup expected a priori to do better, and why."""

    favoured_role: str
    rationale: str


@dataclass(frozen=True)
class AnalysisSpec:
    """What to pool and how: the keys of one ``analyses:`` entry (see the config schema)."""

    id: str
    domain: str
    measure: str  # RR, OR, HR, IRR, ROM, MD, SMD, RD
    method: str  # FE or the τ² estimator
    ci: str  # z | hksj
    group_by: str  # job_role | professional_group | none
    subgroup_tau2: str  # separate | common
    exclude_studies: tuple[str, ...]
    dependent: str  # one_per_study | three_level
    sensitivity: tuple[str, ...]
    sensitivity_exclude: tuple[str, ...]
    mods: tuple[str, ...]
    pi: str  # t | z
    hksj_floor: bool
    hksj_small_k: bool
    subgroup_test_excludes: tuple[str, ...]
    allow_mixed: tuple[str, ...]
    grade: GradeSettings
    pico: Pico
    mix_reason: str
    role_hypothesis: RoleHypothesis | None

    @classmethod
    def from_validated(cls, entry: Mapping[str, Any]) -> AnalysisSpec:
        """The spec of an entry whose defaults the schema has filled (``validate_config``)."""
        try:
            spec = cls(
                id=str(entry["id"]),
                domain=str(entry["domain"]),
                measure=str(entry["measure"]).upper(),
                method=str(entry["method"]),
                ci=str(entry["ci"]),
                group_by=str(entry["group_by"]),
                subgroup_tau2=str(entry["subgroup_tau2"]),
                exclude_studies=tuple(entry["exclude_studies"]),
                dependent=str(entry["dependent"]),
                sensitivity=tuple(entry["sensitivity"]),
                sensitivity_exclude=tuple(entry["sensitivity_exclude"]),
                mods=tuple(entry["mods"]),
                pi=str(entry["pi"]),
                hksj_floor=bool(entry["hksj_floor"]),
                hksj_small_k=bool(entry["hksj_small_k"]),
                subgroup_test_excludes=tuple(entry["subgroup_test_excludes"]),
                allow_mixed=tuple(entry["allow_mixed"]),
                grade=GradeSettings.from_validated(entry["grade"]),
                pico=Pico.from_validated(entry["pico"]),
                mix_reason=str(entry["mix_reason"]),
                role_hypothesis=RoleHypothesis(**entry["role_hypothesis"])
                if entry["role_hypothesis"]
                else None,
            )
        except KeyError as exc:  # a dict that did not go through validate_config
            raise ConfigError(
                f"analyses: {entry.get('id', '?')}: {exc.args[0]} missing (validate the config first)"
            ) from None
        spec.check_pico()
        return spec

    def check_pico(self) -> None:
        """A declared PICO accepting several values of a dimension must declare the mix (allow_mixed)."""
        for key, dimension in (
            ("population", "population"),
            ("comparator_type", "comparator_type"),
            ("outcome_definition", "outcome_definition"),
        ):
            values = self.pico.accepted(key)
            if len(values) > 1 and dimension not in self.allow_mixed:
                raise ConfigError(
                    f"analyses: {self.id}: pico.{key} accepts {len(values)} values ({', '.join(values)}) "
                    f"but allow_mixed does not list {dimension}: declare the mix on purpose "
                    f"(allow_mixed: [{dimension}] and mix_reason) or split the analysis"
                )
        low, high = self.pico.timepoint_min, self.pico.timepoint_max
        if low is not None and high is not None and low > high:
            raise ConfigError(
                f"analyses: {self.id}: pico.timepoint_months: min {low:g} is after max {high:g}"
            )

    @classmethod
    def from_entry(cls, entry: Mapping[str, Any], *, source: str = "analysis") -> AnalysisSpec:
        """Validate one hand-written entry against the config schema (defaults filled), then build it."""
        from ohevidence.config import validate_config

        config = validate_config({"analyses": [dict(entry)]}, source=source)
        return cls.from_validated(config["analyses"][0])

    def pool_options(self) -> dict[str, Any]:
        """The prediction interval and HKSJ guardrails, as keyword arguments of ``meta.model.pool``."""
        return {"pi": self.pi, "hksj_floor": self.hksj_floor, "hksj_small_k": self.hksj_small_k}


def find_analysis(config: Mapping[str, Any], analysis_id: str, where: str | Path) -> AnalysisSpec:
    """The analysis ``analysis_id`` of a validated config (``ohevidence.config.settings_config``)."""
    for entry in config.get("analyses") or []:
        if entry.get("id") == analysis_id:
            return AnalysisSpec.from_validated(entry)
    raise ConfigError(f"{where}: analyses: no analysis with id {analysis_id!r}")
