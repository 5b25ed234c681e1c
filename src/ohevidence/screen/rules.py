"""Eligibility rules: transparent keyword flags a reviewer can read, configured per criterion.

Each rule belongs to one eligibility criterion (population, intervention, design, publication
type, year, language) and says what a match means: ``effect: include`` (the record looks
eligible on that criterion, e.g. "randomised controlled trial") or ``effect: exclude`` (it
looks ineligible, e.g. "protocol", "qualitative"). A rule that fires is written into the
record's ``rule_flags`` with the text it matched, so a reviewer sees *why* a record was flagged.
A rule may point to an inclusion level (``level: review``: a systematic review, included as a
review rather than excluded, see config ``designs``); its flag then says "(review level)".

By default rules only flag and order the screening list. A rule excludes a record on its own
only when the configuration says ``action: exclude``; those records are reported separately as
"excluded by automation tools" (PRISMA 2020 item 16a / flow diagram), never mixed with human
exclusions. Missing data never fires a rule: a record with no year or language is not out of
range.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from ohevidence.cells import MULTI_SEP, clean_text, split_multi

CRITERIA = ("population", "intervention", "design", "publication_type", "year", "language")
TEXT_FIELDS = ("title", "abstract", "keywords", "mesh_terms", "publication_types", "journal")
DEFAULT_FIELDS = ("title", "abstract", "keywords", "mesh_terms")
LEVELS = ("study", "review")  # inclusion levels (config designs.studies / designs.reviews)


@dataclass(frozen=True)
class EligibilityRule:
    """One configured rule (see the `screening.rules` section of the config schema)."""

    name: str
    criterion: str
    effect: str = "include"  # include | exclude: what a match says about eligibility
    action: str = "flag"  # flag | exclude (exclude only acts on effect: exclude rules)
    terms: Mapping[str, Sequence[str]] = field(default_factory=dict)  # concept -> synonyms
    fields: Sequence[str] = DEFAULT_FIELDS
    reason: str = ""  # exclusion reason code recorded when the rule excludes
    level: str = "study"  # study | review: the inclusion level a match points to (config designs)
    weight: float = 1.0
    min_year: int | None = None
    max_year: int | None = None
    languages: Sequence[str] = ()

    @property
    def excludes(self) -> bool:
        return self.effect == "exclude" and self.action == "exclude"

    @classmethod
    def from_config(cls, entry: Mapping[str, Any]) -> EligibilityRule:
        return cls(
            name=str(entry["name"]),
            criterion=str(entry["criterion"]),
            effect=str(entry.get("effect", "include")),
            action=str(entry.get("action", "flag")),
            terms={str(k): [str(s) for s in (v or [])] for k, v in (entry.get("terms") or {}).items()},
            fields=tuple(entry.get("fields") or DEFAULT_FIELDS),
            reason=str(entry.get("reason", "")),
            level=str(entry.get("level", "study")),
            weight=float(entry.get("weight", 1.0)),
            min_year=entry.get("min_year"),
            max_year=entry.get("max_year"),
            languages=tuple(str(x).lower() for x in entry.get("languages") or ()),
        )


@dataclass(frozen=True)
class RuleHit:
    rule: EligibilityRule
    matched: tuple[str, ...]  # the record's own text that fired the rule, with its field

    def describe(self) -> str:
        side = "for" if self.rule.effect == "include" else "against"
        action = " [excluded]" if self.rule.excludes else ""
        level = " (review level)" if self.rule.level == "review" else ""
        return f"[{side}] {self.rule.criterion}/{self.rule.name}{level}: {', '.join(self.matched)}{action}"


def _term_pattern(term: str) -> str:
    """A search term as a regular expression: whole words, '*' truncation, spaces or hyphens between words."""
    words = [w for w in re.split(r"[\s\-]+", term.strip()) if w]
    parts = [re.escape(w).replace(r"\*", r"\w*") for w in words]
    return r"(?<!\w)" + r"[\s\-]+".join(parts) + r"(?!\w)"


class CompiledRule:
    """A rule with its terms compiled into one regular expression per concept."""

    def __init__(self, rule: EligibilityRule) -> None:
        self.rule = rule
        self.patterns: list[re.Pattern[str]] = []
        for concept, synonyms in rule.terms.items():
            alternatives = [concept, *synonyms]
            self.patterns.append(
                re.compile("|".join(_term_pattern(t) for t in alternatives if t.strip()), re.IGNORECASE)
            )

    def match(self, record: Mapping[str, str]) -> RuleHit | None:
        rule = self.rule
        if rule.criterion == "year":
            year = clean_text(record.get("year", ""))
            if not year.isdigit():
                return None
            value = int(year)
            if (rule.min_year is not None and value < rule.min_year) or (
                rule.max_year is not None and value > rule.max_year
            ):
                return RuleHit(rule, (f"year {value}",))
            return None
        if rule.criterion == "language":
            given = [x.lower() for x in split_multi(record.get("language", ""))]
            if not given or any(x in rule.languages for x in given):
                return None
            return RuleHit(rule, (f"language {'/'.join(given)}",))
        matched: list[str] = []
        for name in rule.fields:
            text = clean_text(record.get(name, ""))
            if not text:
                continue
            for pattern in self.patterns:
                for found in pattern.finditer(text):
                    label = f'"{found.group(0)}" ({name})'
                    if label not in matched:
                        matched.append(label)
        return RuleHit(rule, tuple(matched)) if matched else None


@dataclass(frozen=True)
class RuleResult:
    """What the rules say about one record."""

    hits: tuple[RuleHit, ...]

    @property
    def flags(self) -> str:
        return MULTI_SEP.join(hit.describe() for hit in self.hits)

    @property
    def score(self) -> float:
        """Prior ordering score: include-type matches raise a record, exclude-type matches lower it."""
        return sum(hit.rule.weight * (1 if hit.rule.effect == "include" else -1) for hit in self.hits)

    @property
    def excluding_rule(self) -> EligibilityRule | None:
        return next((hit.rule for hit in self.hits if hit.rule.excludes), None)


def compile_rules(entries: Iterable[Mapping[str, Any]]) -> list[CompiledRule]:
    rules = [EligibilityRule.from_config(entry) for entry in entries]
    names = [rule.name for rule in rules]
    duplicated = sorted({n for n in names if names.count(n) > 1})
    if duplicated:
        raise ValueError(f"screening.rules: rule name(s) used twice: {', '.join(duplicated)}")
    for rule in rules:
        if rule.level not in LEVELS:
            raise ValueError(
                f"screening.rules: rule {rule.name!r} has level {rule.level!r}, expected study or review"
            )
    return [CompiledRule(rule) for rule in rules]


def apply_rules(records: pd.DataFrame, rules: Sequence[CompiledRule]) -> pd.DataFrame:
    """One row per record: ``record_id, rule_flags, rule_score, excluded_by_rule, exclusion_reason``."""
    rows = []
    for record in records.to_dict("records"):
        result = RuleResult(tuple(hit for rule in rules if (hit := rule.match(record)) is not None))
        excluding = result.excluding_rule
        rows.append(
            {
                "record_id": record["record_id"],
                "rule_flags": result.flags,
                "rule_score": result.score,
                "excluded_by_rule": excluding.name if excluding else "",
                "exclusion_reason": (excluding.reason or excluding.criterion) if excluding else "",
            }
        )
    return pd.DataFrame(
        rows, columns=["record_id", "rule_flags", "rule_score", "excluded_by_rule", "exclusion_reason"]
    )
