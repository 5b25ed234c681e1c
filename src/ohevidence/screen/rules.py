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

import numpy as np
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


def _term_words(term: str) -> list[str]:
    return [w for w in re.split(r"[\s\-]+", term.strip()) if w]


def _term_body(term: str) -> str:
    """A search term as a regular expression after a word start: '*' truncation, spaces or hyphens
    between words, ending at a word end."""
    parts = [re.escape(w).replace(r"\*", r"\w*") for w in _term_words(term)]
    return r"[\s\-]+".join(parts) + r"(?!\w)"


def _term_pattern(term: str) -> str:
    """A search term as a regular expression: whole words, '*' truncation, spaces or hyphens between words."""
    return r"(?<!\w)" + _term_body(term)


def _literal_pieces(term: str) -> tuple[str, ...] | None:
    """The lower-case ASCII pieces of text (words, split at '*') every match of ``term`` holds, or None."""
    pieces = tuple(p for w in _term_words(term) for p in w.lower().split("*") if p)
    return pieces if pieces and all(p.isascii() for p in pieces) else None


def _add_matches(pattern: re.Pattern[str], text: str, field_name: str, labels: list[str]) -> None:
    """Append to ``labels`` each new '"matched text" (field)' of the pattern in the text."""
    for found in pattern.finditer(text):
        label = f'"{found.group(0)}" ({field_name})'
        if label not in labels:
            labels.append(label)


class CompiledRule:
    """A rule with its terms compiled into one regular expression per concept.

    Each concept's pattern is ``(?<!\\w)(?:term|synonym|...)``: the word-start test comes once,
    before the alternatives, so the search skips the inside of words quickly; it matches exactly
    what ``term|synonym|...`` with a word-start test on each would. ``pieces`` holds, per pattern,
    the literal pieces of text of each alternative when all are plain ASCII: an ASCII text that
    does not hold (in lower case) every piece of some alternative cannot match, so
    :func:`apply_rules` skips the search there.
    """

    def __init__(self, rule: EligibilityRule) -> None:
        self.rule = rule
        self.patterns: list[re.Pattern[str]] = []
        self.pieces: list[tuple[tuple[str, ...], ...] | None] = []
        for concept, synonyms in rule.terms.items():
            alternatives = [t for t in (concept, *synonyms) if t.strip()]
            self.patterns.append(
                re.compile(r"(?<!\w)(?:" + "|".join(_term_body(t) for t in alternatives) + ")", re.IGNORECASE)
            )
            pieces = [_literal_pieces(t) for t in alternatives]
            self.pieces.append(None if None in pieces else tuple(dict.fromkeys(p for p in pieces if p)))

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
                _add_matches(pattern, text, name, matched)
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


class _FieldText:
    """One field of every record, cleaned, with its ASCII texts in lower case joined for fast search."""

    def __init__(self, values: Sequence[Any]) -> None:
        self.texts = [clean_text(value) for value in values]
        # ASCII text only: under re.IGNORECASE a few non-ASCII letters (the Kelvin sign, the long
        # s, the dotless i) match ASCII ones, which lower() does not know; those texts are searched.
        ascii_rows = np.array([text.isascii() for text in self.texts], dtype=bool)
        self.searched_always = np.flatnonzero(~ascii_rows & np.array([bool(t) for t in self.texts]))
        lowered = [text.lower() if ascii else "" for text, ascii in zip(self.texts, ascii_rows, strict=True)]
        self.joined = "\n".join(lowered)  # no piece holds a line break: clean_text removes them
        self.starts = np.cumsum([0] + [len(text) + 1 for text in lowered[:-1]])
        self._rows: dict[str, np.ndarray] = {}

    def rows_holding(self, piece: str) -> np.ndarray:
        """Rows whose lower-case ASCII text holds ``piece``."""
        if piece not in self._rows:
            found = np.fromiter(
                (m.start() for m in re.finditer(re.escape(piece), self.joined)), dtype=np.int64
            )
            self._rows[piece] = np.unique(np.searchsorted(self.starts, found, side="right") - 1)
        return self._rows[piece]

    def candidates(self, pieces: tuple[tuple[str, ...], ...] | None) -> Iterable[int]:
        """Rows that may match a pattern with these literal pieces (all rows with text when None)."""
        if pieces is None:
            return (row for row, text in enumerate(self.texts) if text)
        rows = [self.searched_always]
        for alternative in pieces:
            holding = self.rows_holding(alternative[0])
            for piece in alternative[1:]:
                holding = np.intersect1d(holding, self.rows_holding(piece), assume_unique=True)
            rows.append(holding)
        return np.unique(np.concatenate(rows)).tolist()


def apply_rules(records: pd.DataFrame, rules: Sequence[CompiledRule]) -> pd.DataFrame:
    """One row per record: ``record_id, rule_flags, rule_score, excluded_by_rule, exclusion_reason``.

    Column by column: each field is cleaned once, and each pattern searched only in the texts
    that hold its literal pieces; the result is what :meth:`CompiledRule.match` gives record by
    record.
    """
    n = len(records)
    hits: list[list[RuleHit]] = [[] for _ in range(n)]
    fields: dict[str, _FieldText] = {}

    def column(name: str) -> list[Any]:
        return records[name].tolist() if name in records.columns else [""] * n

    for compiled in rules:
        rule = compiled.rule
        if rule.criterion in ("year", "language"):
            key = rule.criterion
            for row, value in enumerate(column(key)):
                if (hit := compiled.match({key: value})) is not None:
                    hits[row].append(hit)
            continue
        matched: dict[int, list[str]] = {}
        for name in rule.fields:
            if name not in fields:
                fields[name] = _FieldText(column(name))
            field_text = fields[name]
            for pattern, pieces in zip(compiled.patterns, compiled.pieces, strict=True):
                for row in field_text.candidates(pieces):
                    labels = matched.setdefault(row, [])
                    _add_matches(pattern, field_text.texts[row], name, labels)
        for row, labels in matched.items():
            if labels:
                hits[row].append(RuleHit(rule, tuple(labels)))
    rows = []
    for record_id, record_hits in zip(column("record_id"), hits, strict=True):
        result = RuleResult(tuple(record_hits))
        excluding = result.excluding_rule
        rows.append(
            {
                "record_id": record_id,
                "rule_flags": result.flags,
                "rule_score": result.score,
                "excluded_by_rule": excluding.name if excluding else "",
                "exclusion_reason": (excluding.reason or excluding.criterion) if excluding else "",
            }
        )
    return pd.DataFrame(
        rows, columns=["record_id", "rule_flags", "rule_score", "excluded_by_rule", "exclusion_reason"]
    )
