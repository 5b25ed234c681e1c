"""Step 3, ``match``: compare candidate pairs field by field, then apply the rule and veto tables.

The decisions themselves are data: ``rules.csv`` (when a pair is a duplicate or a 'maybe')
and ``vetoes.csv`` (what stops an automatic merge), both readable in a spreadsheet. Each
rule row lists conditions per feature; the first row whose conditions all hold decides the
pair. A condition cell holds alternatives separated by ``|``:

- ``>=90``, ``<=1``: a similarity (0-100: title, authors, journal, abstract) or the year gap;
- ``same``, ``compatible`` (same first page, one range partial; or same last page), ``range``
  (the same range of several pages), ``differ``, ``missing``
  (either record lacks the field): the state of doi, pmid, volume, pages, or of any
  similarity (``missing`` only);
- ``!differ``: anything but ``differ``.

An empty cell places no condition. Vetoes are checked in table order after a rule matched;
``unless`` holds conditions joined by ``&`` (``feature=cell`` or ``feature>=N``) that lift
the veto; several such sets may be given, separated by `` or ``. A veto turns the rule's
outcome into the veto's outcome (``distinct`` or ``maybe``); a match on an identical DOI or
PMID is never turned below ``maybe``, so a person sees it.
"""

from __future__ import annotations

import csv
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import numpy as np
import pandas as pd
from rapidfuzz import fuzz, process

from ohevidence.dedupe.normalise import normalise_journal

log = logging.getLogger("ohevidence.dedupe")

SIMILARITIES = ("title", "title_main", "authors", "journal", "abstract")
STATES = ("doi", "pmid", "volume", "issue", "pages")
FEATURES = (*SIMILARITIES, "year_gap", *STATES)
OUTCOMES = ("distinct", "maybe", "duplicate")  # in order of strength
IDENTIFIER_RULES = frozenset({"same_doi", "same_pmid", "same_doi_other_title", "same_pmid_other_title"})


# ---------------------------------------------------------------------------
# The rule and veto tables.
# ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Rule:
    name: str
    outcome: str
    conditions: dict[str, str]
    why: str


@dataclass(frozen=True)
class Veto:
    name: str
    outcome: str
    applies_to_identifier_matches: bool
    unless: tuple[dict[str, str], ...]  # alternatives; each lifts the veto when all its conditions hold
    why: str


def _read_package_csv(name: str) -> list[dict[str, str]]:
    text = resources.files("ohevidence.dedupe").joinpath(name).read_text(encoding="utf-8")
    return list(csv.DictReader(text.splitlines()))


def load_rules() -> tuple[Rule, ...]:
    rows = _read_package_csv("rules.csv")
    rules = []
    for row in rows:
        conditions = {f: row[f].strip() for f in FEATURES if row.get(f, "").strip()}
        for feature, cell in conditions.items():
            parse_condition(feature, cell)  # fail early on a typo in the table
        rules.append(Rule(row["rule"], row["outcome"], conditions, row["why"]))
    return tuple(rules)


_UNLESS_PART = re.compile(r"^\s*(\w+)\s*(>=|<=|=)\s*(\S+)\s*$")


def parse_unless(text: str) -> tuple[dict[str, str], ...]:
    """'volume=same & pages=same or journal>=90 & year_gap<=0' -> two sets of conditions."""
    alternatives = []
    for alternative in filter(None, (a.strip() for a in re.split(r"\s+or\s+", text))):
        conditions = {}
        for part in filter(None, (p.strip() for p in alternative.split("&"))):
            match = _UNLESS_PART.match(part)
            if not match:
                raise ValueError(f"vetoes.csv: bad 'unless' condition {part!r} (expected feature=cell)")
            feature, op, cell = match.groups()
            conditions[feature] = cell if op == "=" else f"{op}{cell}"
        alternatives.append(conditions)
    return tuple(alternatives)


def load_vetoes() -> tuple[Veto, ...]:
    vetoes = []
    for row in _read_package_csv("vetoes.csv"):
        unless = parse_unless(row["unless"])
        for conditions in unless:
            for feature, cell in conditions.items():
                parse_condition(feature, cell)
        if row["veto"] not in VETO_TESTS:
            raise ValueError(f"vetoes.csv: veto {row['veto']!r} has no test in matching.VETO_TESTS")
        vetoes.append(
            Veto(
                row["veto"], row["outcome"], row["applies_to_identifier_matches"] == "yes", unless, row["why"]
            )
        )
    return tuple(vetoes)


def parse_condition(feature: str, cell: str) -> list[tuple[str, float | str]]:
    """'>=90|missing' -> [('>=', 90.0), ('state', 'missing')]."""
    if feature not in FEATURES:
        raise ValueError(f"unknown feature {feature!r} in a rule table (known: {', '.join(FEATURES)})")
    alternatives: list[tuple[str, float | str]] = []
    for alt in (a.strip() for a in cell.split("|")):
        for op in (">=", "<=", "="):
            if alt.startswith(op) and alt[len(op) :].strip().replace(".", "", 1).isdigit():
                alternatives.append((op, float(alt[len(op) :])))
                break
        else:
            if alt not in {"same", "range", "compatible", "differ", "missing", "!differ"}:
                raise ValueError(f"bad condition {alt!r} for {feature!r}")
            alternatives.append(("state", alt))
    return alternatives


def condition_mask(features: pd.DataFrame, feature: str, cell: str) -> np.ndarray:
    values = features[feature]
    mask = np.zeros(len(features), dtype=bool)
    numeric = feature in SIMILARITIES or feature == "year_gap"
    for op, arg in parse_condition(feature, cell):
        if op == ">=":
            mask |= (values >= arg).to_numpy()
        elif op == "<=":
            mask |= (values <= arg).to_numpy()
        elif op == "=":
            mask |= (values == arg).to_numpy()
        elif arg == "missing":
            mask |= values.isna().to_numpy() if numeric else (values == "missing").to_numpy()
        elif arg == "!differ":
            mask |= (values != "differ").to_numpy()
        elif arg == "same" and feature == "pages":
            mask |= values.isin(["same", "range"]).to_numpy()
        else:
            mask |= (values == arg).to_numpy()
    return mask


# ---------------------------------------------------------------------------
# Features of a pair.
# ---------------------------------------------------------------------------
def _abbreviates(short: str, long: str) -> bool:
    """'j' ~ 'journal', 'occup' ~ 'occupational', 'natl' ~ 'national' (same first letter, in order)."""
    if short == long:
        return True
    if len(short) > len(long):
        short, long = long, short
    if not short or short[0] != long[0]:
        return False
    if long.startswith(short):
        return True
    position = 0
    for char in short:
        position = long.find(char, position) + 1
        if position == 0:
            return False
    return len(short) >= 3


@lru_cache(maxsize=200_000)
def journal_similarity(a: str, b: str) -> float:
    """0-100: the larger of plain similarity and word-by-word abbreviation agreement.

    'health technol assess' vs 'health technology assessment' -> 100; ISO abbreviations
    truncate or contract words, so each word of one name must abbreviate the word in the
    same position of the other (longest common subsequence of words). Names written with
    and without spaces ('zhongguo zhenjiu', 'zhongguo zhen jiu') agree. Parallel titles
    ('|'-joined by :func:`normalise_journal`) are compared name by name, best pair counts.
    """
    if a == b:
        return 100.0
    if "|" in a or "|" in b:
        return max(_journal_similarity(x, y) for x in a.split("|") for y in b.split("|"))
    return _journal_similarity(a, b)


def _journal_similarity(a: str, b: str) -> float:
    if a.replace(" ", "") == b.replace(" ", ""):
        return 100.0
    ta, tb = a.split(), b.split()
    table = [[0] * (len(tb) + 1) for _ in range(len(ta) + 1)]
    for i, x in enumerate(ta):
        for j, y in enumerate(tb):
            table[i + 1][j + 1] = (
                table[i][j] + 1 if _abbreviates(x, y) else max(table[i][j + 1], table[i + 1][j])
            )
    words = 200.0 * table[-1][-1] / (len(ta) + len(tb)) if ta and tb else 0.0
    return max(words, fuzz.ratio(a, b))


def _pairwise(left: np.ndarray, right: np.ndarray, scorer: Callable[..., float]) -> np.ndarray:
    scores = process.cpdist(left, right, scorer=scorer, workers=-1, dtype=np.float32)
    return np.asarray(scores, dtype=np.float64)


def _similarity(prepared: pd.DataFrame, column: str, a: np.ndarray, b: np.ndarray, scorer) -> np.ndarray:
    values = prepared[column].to_numpy(dtype=object)
    left, right = values[a], values[b]
    scores = _pairwise(left, right, scorer) if len(a) else np.empty(0)
    empty = (left == "") | (right == "")
    scores[empty] = np.nan
    return scores


# A pair's state of an identifier or a bibliographic field, kept as one byte per pair (a
# categorical column): millions of candidate pairs at 250,000 records.
STATE_VALUES = ("missing", "same", "differ", "compatible", "range")
MISSING, SAME, DIFFER, COMPATIBLE, RANGE = (np.int8(k) for k in range(len(STATE_VALUES)))


def _state_column(codes: np.ndarray) -> pd.Categorical:
    return pd.Categorical.from_codes(codes, categories=STATE_VALUES)


def _state(values: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Codes: MISSING when either record lacks the value, else SAME or DIFFER."""
    left, right = values[a], values[b]
    state = np.where(left == right, SAME, DIFFER).astype(np.int8)
    state[(left == "") | (right == "")] = MISSING
    return state


def _issue_state(values: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Issues 'differ' only when they share no number: '3' and '3 4' (a double issue) agree."""
    state = _state(values, a, b)
    for i in np.flatnonzero(state == DIFFER):
        if set(values[a[i]].split()) & set(values[b[i]].split()):
            state[i] = SAME
    return state


def _page_state(prepared: pd.DataFrame, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    full = prepared["pages_n"].to_numpy(dtype=object)
    first = prepared["first_page"].to_numpy(dtype=object)
    last_page = prepared["last_page"].to_numpy(dtype=object)
    numeric = prepared["page_first"].notna().to_numpy()
    start = prepared["page_first"].to_numpy()
    end = prepared["page_last"].to_numpy()
    state = _state(full, a, b)
    # Same first page (one range partial), same last page (a typo in the first: '2297-2108' and
    # '2097-2108'; or one record gives only the last page: '488' and '487-488'), or two ranges
    # of several pages that overlap (a typo in both: '676-682' and '678-684'); no two items of
    # one journal share pages that way.
    same_last = (last_page[a] != "") & (last_page[a] == last_page[b])
    with np.errstate(invalid="ignore"):
        overlap = (end[a] > start[a]) & (end[b] > start[b]) & (start[a] < end[b]) & (start[b] < end[a])
    # A section prefix one record drops ('c37-c42' in Nephron Clinical Practice, '37-42').
    digits = np.array([re.sub(r"[a-z]+", "", p) for p in full], dtype=object)
    same_digits = (digits[a] != "") & (digits[a] == digits[b])
    compatible = (state == DIFFER) & ((first[a] == first[b]) | same_last | overlap | same_digits)
    state[compatible] = COMPATIBLE
    # An article number (e12345, c1035) and a printed page range cannot be compared: early-view
    # and final versions of one article carry one each. A range with a section prefix
    # ('JC6-9', 'S417-S429') is printed pages, not an article number.
    article_number = np.array([bool(p) and "-" not in p and not p.isdigit() for p in full], dtype=bool)
    incomparable = (state == DIFFER) & (numeric[a] != numeric[b]) & (article_number[a] | article_number[b])
    state[incomparable] = MISSING
    # 'range': the same range of several pages, which no two items share (a single page can
    # hold several conference abstracts or letters).
    spans = prepared["page_last"].to_numpy() > prepared["page_first"].to_numpy()
    state[(state == SAME) & spans[a] & spans[b]] = RANGE
    return state


def features(prepared: pd.DataFrame, candidates: pd.DataFrame) -> pd.DataFrame:
    """One row per candidate pair: similarities (0-100, NaN if a field is missing), year gap, states.

    States (doi, pmid, volume, issue, pages) are categorical columns of :data:`STATE_VALUES`.
    """
    a = candidates["a"].to_numpy()
    b = candidates["b"].to_numpy()
    out = pd.DataFrame({"a": a, "b": b}, index=candidates.index)
    out["title"] = _similarity(prepared, "title_n", a, b, fuzz.ratio)
    out["title_main"] = _similarity(prepared, "title_main", a, b, fuzz.ratio)
    # Family names first; all name words catch exports that swap family and given names.
    out["authors"] = np.fmax(
        _similarity(prepared, "authors_n", a, b, fuzz.token_set_ratio),
        _similarity(prepared, "author_words", a, b, fuzz.token_set_ratio),
    )
    out["abstract"] = _similarity(prepared, "abstract_n", a, b, fuzz.ratio)
    journals = prepared["journal_n"].to_numpy(dtype=object)
    codes, uniques = pd.factorize(journals)
    pair_codes = pd.DataFrame({"x": codes[a], "y": codes[b]})
    distinct_pairs = pair_codes.drop_duplicates()
    scores = {
        (x, y): journal_similarity(uniques[x], uniques[y])
        for x, y in zip(distinct_pairs["x"], distinct_pairs["y"], strict=True)
    }
    journal = np.array([scores[(x, y)] for x, y in zip(pair_codes["x"], pair_codes["y"], strict=True)])
    journal = journal.astype(float) if len(journal) else np.empty(0)
    journal[(journals[a] == "") | (journals[b] == "")] = np.nan
    out["journal"] = journal
    years = prepared["year"].to_numpy()
    out["year_gap"] = np.abs(years[a] - years[b])
    out["doi"] = _state_column(_state(prepared["doi_n"].to_numpy(dtype=object), a, b))
    out["pmid"] = _state_column(_state(prepared["pmid_n"].to_numpy(dtype=object), a, b))
    out["volume"] = _state_column(_state(prepared["volume_n"].to_numpy(dtype=object), a, b))
    out["issue"] = _state_column(_issue_state(prepared["issue_n"].to_numpy(dtype=object), a, b))
    out["pages"] = _state_column(_page_state(prepared, a, b))
    return out


# ---------------------------------------------------------------------------
# Vetoes: the tests behind vetoes.csv, one per row.
# ---------------------------------------------------------------------------
def _pair_values(prepared: pd.DataFrame, column: str, pairs: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    values = prepared[column].to_numpy()
    return values[pairs["a"].to_numpy()], values[pairs["b"].to_numpy()]


def _veto_same_search(prepared: pd.DataFrame, pairs: pd.DataFrame) -> np.ndarray:
    left, right = _pair_values(prepared, "unique_search", pairs)
    return (left != "") & (left == right)


def _veto_part(prepared: pd.DataFrame, pairs: pd.DataFrame) -> np.ndarray:
    left, right = _pair_values(prepared, "part", pairs)
    return (left != "") & (right != "") & (left != right)


def _veto_kind(prepared: pd.DataFrame, pairs: pd.DataFrame) -> np.ndarray:
    left, right = _pair_values(prepared, "kind", pairs)
    return left != right


def follows(first_a, last_a, first_b, last_b):  # numbers or arrays alike
    """Range b starts where range a ends (or on the next page) and runs on beyond it.

    '945-948' then '948-961', or page 51 then page 52: consecutive items. A single page
    inside the other range ('488' and '487-488') is not consecutive: one item, pages misprinted.
    """
    gap = first_b - last_a
    return (gap >= 0) & (gap <= 1) & (first_b > first_a) & (last_b > last_a)


def _veto_adjacent_pages(prepared: pd.DataFrame, pairs: pd.DataFrame) -> np.ndarray:
    """Consecutive ranges, also of supplement pages with one prefix ('iii19-iii32', 'iii33-iii44')."""
    first_a, first_b = _pair_values(prepared, "page_start_any", pairs)
    last_a, last_b = _pair_values(prepared, "page_end_any", pairs)
    prefix_a, prefix_b = _pair_values(prepared, "page_prefix", pairs)
    with np.errstate(invalid="ignore"):
        consecutive = follows(first_a, last_a, first_b, last_b) | follows(first_b, last_b, first_a, last_a)
    return consecutive & (prefix_a == prefix_b)


def _veto_conference(prepared: pd.DataFrame, pairs: pd.DataFrame) -> np.ndarray:
    left, right = _pair_values(prepared, "conference", pairs)
    return left != right


def _venue_initials(venue: str) -> tuple[str, set[str]]:
    """Initials of a conference's name ('European Conference on Information Systems': 'ecis'), its words."""
    main = re.split(r"\s[-:]\s|:|,", venue.lower())[0]
    words = [w for w in re.findall(r"[a-z0-9]+", main) if w not in {"of", "the", "on", "and", "for", "in"}]
    words = [w for w in words if not re.fullmatch(r"\d+(?:st|nd|rd|th)?", w) and w != "proceedings"]
    return "".join(w[0] for w in words), set(re.findall(r"[a-z]+", venue.lower()))


def same_conference(a: str, b: str) -> bool:
    """'ICIS : Transforming Society...' and 'International Conference on Information Systems' agree."""
    if journal_similarity(normalise_journal(a), normalise_journal(b)) >= 75:
        return True
    initials_a, words_a = _venue_initials(a)
    initials_b, words_b = _venue_initials(b)
    return (len(initials_a) >= 3 and initials_a in words_b) or (
        len(initials_b) >= 3 and initials_b in words_a
    )


def _veto_conference_year(prepared: pd.DataFrame, pairs: pd.DataFrame) -> np.ndarray:
    """Both conference papers, different years, and not recognisably the same conference."""
    left, right = _pair_values(prepared, "conference", pairs)
    fires = left & right & (pairs["year_gap"] > 0).to_numpy()
    venues_a, venues_b = _pair_values(prepared, "journal_raw", pairs)
    for i in np.flatnonzero(fires):
        if same_conference(venues_a[i], venues_b[i]):
            fires[i] = False
    return fires


VETO_TESTS: dict[str, Callable[[pd.DataFrame, pd.DataFrame], np.ndarray]] = {
    "same_search_unique_ids": _veto_same_search,
    "distinct_doi": lambda prepared, pairs: (pairs["doi"] == "differ").to_numpy(),
    "distinct_pmid": lambda prepared, pairs: (pairs["pmid"] == "differ").to_numpy(),
    "part_number": _veto_part,
    "erratum_comment_reply": _veto_kind,
    "adjacent_pages": _veto_adjacent_pages,
    "conference_vs_journal": _veto_conference,
    "conference_years": _veto_conference_year,
    "year_gap": lambda prepared, pairs: (pairs["year_gap"] > 1).to_numpy(),
}

RULES = load_rules()
VETOES = load_vetoes()


def veto_fires(v: Veto, prepared: pd.DataFrame, pairs: pd.DataFrame) -> np.ndarray:
    """Where veto ``v`` stops a merge of scored pairs (``features``), its ``unless`` applied."""
    fires = VETO_TESTS[v.name](prepared, pairs).astype(bool)
    for conditions in v.unless:
        lifted = np.ones(len(pairs), dtype=bool)
        for feature, cell in conditions.items():
            lifted &= condition_mask(pairs, feature, cell)
        fires &= ~lifted
    return fires


def match(
    prepared: pd.DataFrame,
    candidates: pd.DataFrame,
    *,
    rules: tuple[Rule, ...] = RULES,
    vetoes: tuple[Veto, ...] = VETOES,
) -> pd.DataFrame:
    """Score candidate pairs and decide each: columns of ``features`` plus ``rule``, ``veto``, ``outcome``.

    Pairs no rule matches get outcome 'distinct' and an empty rule.
    """
    pairs = features(prepared, candidates)
    n = len(pairs)
    rule = np.full(n, "", dtype=object)
    outcome = np.full(n, "distinct", dtype=object)
    undecided = np.ones(n, dtype=bool)
    for r in rules:
        hit = undecided.copy()
        for feature, cell in r.conditions.items():
            if not hit.any():
                break
            hit &= condition_mask(pairs, feature, cell)
        rule[hit] = r.name
        outcome[hit] = r.outcome
        undecided &= ~hit
    veto = np.full(n, "", dtype=object)
    identifier = np.isin(rule, list(IDENTIFIER_RULES))
    strength = {name: i for i, name in enumerate(OUTCOMES)}
    level = np.array([strength[o] for o in outcome], dtype=np.int8)
    for v in vetoes:
        fires = (level > 0) & (veto == "") & veto_fires(v, prepared, pairs)
        if not v.applies_to_identifier_matches:
            fires &= ~identifier
        veto[fires] = v.name
        # An identical identifier is strong evidence: a veto leaves it to a person, never to 'distinct'.
        target = np.where(identifier, max(strength[v.outcome], strength["maybe"]), strength[v.outcome])
        level = np.where(fires, np.minimum(level, target), level)
    outcome = np.array(OUTCOMES, dtype=object)[level]
    pairs["rule"] = rule
    pairs["veto"] = veto
    pairs["outcome"] = outcome
    counts = pd.Series(outcome).value_counts()
    log.info(
        "match: %d pairs scored: %d duplicate, %d maybe, %d vetoed",
        n,
        int(counts.get("duplicate", 0)),
        int(counts.get("maybe", 0)),
        int((veto != "").sum()),
    )
    return pairs
