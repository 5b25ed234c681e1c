"""Step 1, ``prep``: normalised comparison fields for every record.

Databases write the same article differently: upper-case titles, HTML entities, MEDLINE's
"[Article in German]" and "[Review]" tags, 'Health Technol Assess' for 'Health Technology
Assessment', '128-38' for '128-138', DOIs as URLs. ``prep`` turns each record into the
fields the matcher compares; the original record is never changed.
"""

from __future__ import annotations

import html
import re
import unicodedata
from urllib.parse import unquote

import numpy as np
import pandas as pd

from ohevidence.cells import split_multi
from ohevidence.records import find_registry_ids, normalise_doi, normalise_pmid

# Sources whose record ids are unique within one search: two records of one such search are
# two different items by construction (PubMed PMIDs; Crossref / NIHR Journals Library DOIs).
UNIQUE_ID_SOURCES: frozenset[str] = frozenset({"pubmed", "nihr", "crossref"})

_TAG = re.compile(r"<[^<>]{1,200}>")
# MEDLINE/EndNote annotations that are not part of the title proper.
_TITLE_NOISE = re.compile(
    r"\[(?:(?:article|text)\s+in\s+[a-z ,]+|in\s+[a-z]+|review(?:\s+article)?|\d+\s+refs?\.?|see\s+comments?"
    r"|comment|editorial|published\s+erratum[^\]]*|erratum[^\]]*|letter|abstract)\]"
    r"|\((?:author'?s?\s+transl\.?|translated\s+by[^)]*)\)",
    re.IGNORECASE,
)
# The citation of the corrected article that erratum titles end with (see _KIND_TITLE): two records
# of one erratum cite it in different styles, so it is no part of the title proper.
_ERRATUM_CITATION = re.compile(
    r"\((?:vol\.?\s*\d+[^)]*\bpg\.?\s*\w+[^)]*|[^()]*\(\d{4}\)\s*\d+\s*(?:\(\w+\)\s*)?\([^()]*\d[^()]*\))\)\s*$",
    re.IGNORECASE,
)
_NON_WORD = re.compile(r"[\W_]+")
_PARENS = re.compile(r"\([^)]*\)")
_PAGE_DASH = re.compile(r"\s*(?:--|–|—|‐|−|-)\s*")
_PAGE = re.compile(r"^([a-z]*)(\d+)(?:-([a-z]*)(\d+))?$")
_YEAR = re.compile(r"(1[5-9]\d\d|20\d\d)")
_MONTHS = {m: str(i) for i, m in enumerate("jan feb mar apr may jun jul aug sep oct nov dec".split(), 1)}
_UNKNOWN = frozenset({"unknown", "na", "n/a", "none", "nan", "null", "-"})
_PART = re.compile(r"\bpart\s+(\d{1,2}|[ivx]{1,5}|one|two|three|four|five|[a-e])\b", re.IGNORECASE)
_PART_WORDS = {"one": "1", "two": "2", "three": "3", "four": "4", "five": "5"}
_ROMAN = {"i": 1, "v": 5, "x": 10}

# What kind of bibliographic item a record is, when it is not the article itself.
_KIND_TITLE: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("erratum", re.compile(r"^\W*(?:erratum|errata|corrigendum|correction(?:\s+to)?\b)", re.IGNORECASE)),
    # Web of Science titles an erratum by its article plus '(vol 360, pg 542, 2009)'; EMBASE by its
    # article plus '(New England Journal of Medicine (2009) 360 (542-544))'.
    ("erratum", re.compile(r"\(vol\.?\s*\d+[^)]*\bpg\.?\s*\w+[^)]*\)\s*$", re.IGNORECASE)),
    ("erratum", re.compile(r"\([^()]*\(\d{4}\)\s*\d+\s*(?:\(\w+\)\s*)?\([^()]*\d[^()]*\)\)\s*$")),
    ("retraction", re.compile(r"^\W*(?:retraction|retracted|notice of retraction)\b", re.IGNORECASE)),
    ("reply", re.compile(r"^\W*(?:reply|response|authors?'?\s+reply|in\s+reply)\b", re.IGNORECASE)),
    # Web of Science: the letter's title plus ' - Reply'.
    ("reply", re.compile(r"\s[-:]\s*(?:authors?'?\s+)?reply\W*$", re.IGNORECASE)),
    ("comment", re.compile(r"^\W*(?:comment(?:ary)?\s+(?:on|to)\b|re\s*:)", re.IGNORECASE)),
)
_KIND_TYPES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("erratum", re.compile(r"published erratum|erratum|correction", re.IGNORECASE)),
    ("retraction", re.compile(r"retraction of publication|retraction notice", re.IGNORECASE)),
)
_CONFERENCE_TYPES = re.compile(r"congress|conference|meeting abstract|proceedings", re.IGNORECASE)
_CONFERENCE_VENUE = re.compile(
    r"\b(?:conference|congress|proceedings|symposium|meeting|workshop|colloquium|annual\s+scientific)\b"
    r"|\bconf\b|\bproc\b|\bsymp\b",
    re.IGNORECASE,
)
# Function words of journal names in the languages MEDLINE and EMBASE titles come in; 'd' and 'l'
# are the elided articles of "d'Anesthésie", "l'Enfant".
_JOURNAL_STOPWORDS = frozenset(
    "the of and for in on a an de la le les et des du d l und der die das fur".split()
    + "y e di del della da do dos".split()
)
# What follows the journal's name proper: EMBASE's '.Conference: 44th Annual Meeting ...' or a
# bare '. Conference' (the meeting whose abstracts the journal printed), a subtitle after ' : '
# ('Journal of clinical virology : the official publication of ...'), a publisher after ' / '.
_JOURNAL_TAIL = re.compile(
    r"\.\s*conference\s*(?::.*)?$|\s+conference\s*:.*$|\s:\s.*$|\s/\s.*$", re.IGNORECASE
)
_SUPPLEMENT_WORDS = frozenset({"supplement", "supplements", "suppl", "supplementum"})
_BRACKETS = re.compile(r"\[[^\]]*\]")
_LOST_CHARACTER = re.compile(r"(?<=[^\W\d_])\?(?=[^\W\d_])")


def fold(text: str) -> str:
    """Lower case, accents removed, HTML entities and tags gone, non-word runs as one space."""
    if not text:
        return ""
    text = html.unescape(_TAG.sub(" ", text))
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return _NON_WORD.sub(" ", text.lower()).strip()


def normalise_title(title: str) -> str:
    """Comparable title: no MEDLINE tags ('[Review]', '[Article in German]'), no HTML, no punctuation.

    MEDLINE prints translated titles in brackets ('[Return to work after stroke].'): the
    brackets go, the words stay.
    """
    text = _TITLE_NOISE.sub(" ", html.unescape(_TAG.sub(" ", title or "")))
    return fold(_ERRATUM_CITATION.sub(" ", text))


def family_names(authors: str) -> str:
    """Family names, space-joined, from '; '-joined 'Family, Initials' (or 'Last, F. and Last, F.').

    Names without a comma (collective names, or lists run together by an export) keep their
    words longer than one letter, so initials do not count as names.
    """
    names: list[str] = []
    for part in split_multi(authors.replace(" and ", "; ")):
        family = part.split(",", 1)[0] if "," in part else part
        words = [w for w in fold(family).split() if len(w) > 1]
        names.append(" ".join(words))
    return " ".join(n for n in names if n)


def first_author(authors: str) -> str:
    parts = split_multi(authors.replace(" and ", "; "))
    if not parts:
        return ""
    family = parts[0].split(",", 1)[0] if "," in parts[0] else parts[0]
    words = [w for w in fold(family).split() if len(w) > 1]
    return words[0] if words else ""


def normalise_journal(journal: str) -> str:
    """'J. Public Health (Oxf.)' -> 'j public health': no function words, brackets, subtitle or meeting.

    A trailing 'Supplement(s)' goes too: a journal's supplement series carries its abstracts.

    MEDLINE prints parallel titles ('Ai zheng = Aizheng = Chinese journal of cancer'): each
    name is kept, '|'-joined, and :func:`~ohevidence.dedupe.matching.journal_similarity`
    compares the best-matching pair. A '?' inside a word stands for a character an export
    could not encode ('fran?aises') and is dropped.
    """
    text = _LOST_CHARACTER.sub("", journal or "")
    names = []
    for part in text.split(" = "):
        part = _PARENS.sub(" ", _BRACKETS.sub(" ", _JOURNAL_TAIL.sub("", part.strip(' "'))))
        words = [w for w in fold(part.replace("&", " and ")).split() if w not in _JOURNAL_STOPWORDS]
        if len(words) > 1 and words[-1] in _SUPPLEMENT_WORDS:
            words = words[:-1]  # 'Atherosclerosis Supplements' prints abstracts of 'Atherosclerosis'
        if words and " ".join(words) not in names:
            names.append(" ".join(words))
    return "|".join(names)


def normalise_pages(pages: str) -> tuple[str, str]:
    """('128-138', '128') from '128-38', 'pp. 128 -- 138', '128–138'; article numbers kept.

    Returns (full range, first page); ('', '') when unknown. A short end page borrows the
    start page's leading digits, as printed ranges do ('1128-9' = '1128-1129').
    """
    text = (pages or "").strip().lower()
    if not text or text in _UNKNOWN:
        return "", ""
    text = re.sub(r"^(?:pp?\.?\s*)", "", text)
    # Spreadsheets turn '1-9' into '01-Sep': give the month its number back.
    text = re.sub(
        r"^(\d+)-(" + "|".join(_MONTHS) + r")$", lambda m: f"{m.group(1)}-{_MONTHS[m.group(2)]}", text
    )
    text = _PAGE_DASH.sub("-", text).replace(" ", "").strip('"')
    if re.fullmatch(r"[a-z]+-\d+", text):
        # MEDLINE's 'Suppl-29' (from 'S417-29'): the start page is lost, and an end page alone
        # ('29' of 429?) cannot be compared.
        return "", ""
    parts = [p for p in re.split(r"[,+;]", text) if p]
    if len(parts) > 1:
        # An article printed in several places (bilingual journals): '230-5, 246-51, 233-8'
        # and '233-238+230-235+246-251' are one set of ranges, in any order.
        ranges = sorted({normalise_pages(p)[0] for p in parts} - {""})
        return ",".join(ranges), ranges[0].split("-")[0] if ranges else ""
    match = _PAGE.match(text)
    if not match:
        return text, text.split("-")[0]
    prefix, start, end_prefix, end = match.groups()
    first = f"{prefix}{start.lstrip('0') or '0'}"
    if end is None:
        return first, first
    if len(end) < len(start):
        end = start[: len(start) - len(end)] + end
    end = end.lstrip("0") or "0"
    last = f"{end_prefix or prefix}{end}"
    return (first if last == first else f"{first}-{last}"), first


def last_page(pages_full: str) -> str:
    """'s429' of 's417-s429', '488' of '488'; '' for several ranges or none."""
    if "," in pages_full:
        return ""
    return pages_full.rsplit("-", 1)[-1]


def prefixed_page_numbers(pages_full: str) -> tuple[str, int, int] | None:
    """Section prefix and numeric (first, last) of one range: 'iii19-iii32' -> ('iii', 19, 32).

    A range whose ends carry different prefixes ('s19-20' is read as 's19-s20' by
    ``normalise_pages``) or several ranges give None.
    """
    match = re.fullmatch(r"([a-z]*)(\d+)(?:-([a-z]*)(\d+))?", pages_full)
    if not match or (match.group(3) is not None and match.group(3) != match.group(1)):
        return None
    first = int(match.group(2))
    return match.group(1), first, int(match.group(4)) if match.group(4) else first


def normalise_volume(volume: str) -> str:
    """'Vol. 24' -> '24'; 'Drug Discovery. 9' (a journal's subtitle exported into the volume) -> '9'.

    A fragment such as '1)' is the tail of a mangled issue ('(Suppl 1)'), not a volume: unknown.
    """
    raw = (volume or "").strip()
    if raw.count(")") > raw.count("("):
        return ""
    text = fold(raw)
    if not text or text in _UNKNOWN:
        return ""
    text = re.sub(r"^(?:vol(?:ume)?)\s*", "", text)
    if not re.search(r"\d", text):
        # '(Jul)' is an issue date, not a volume; a word ('Ph.D.' for a thesis) is kept, so a
        # thesis and an article never agree on their volume.
        return "" if text[:3] in _MONTHS else text.replace(" ", "")
    words = text.split(" ")
    if len(words) > 1 and words[-1].isdigit() and not words[0].isdigit():
        return words[-1].lstrip("0") or "0"
    return words[0].lstrip("0") or "0"


def normalise_issue(issue: str) -> str:
    """The numbers of an issue: 'Suppl. 1' -> '1', '3-4' -> '3 4', 'SI' (special issue) or 'NA' -> ''."""
    return " ".join(n.lstrip("0") or "0" for n in re.findall(r"\d+", issue or ""))


_SUBTITLE = re.compile(r"\s*(?::|\?|!|\s[-–—]\s|\.\s|\s\[)")


def main_title(title: str) -> str:
    """The title before its subtitle ('Diminished control in crowdsourcing: an investigation ...').

    Databases drop subtitles; '' when the main part has fewer than three words (too generic).
    """
    text = _TITLE_NOISE.sub(" ", html.unescape(_TAG.sub(" ", title or ""))).strip().lstrip("[\"'")
    main = fold(_SUBTITLE.split(text, maxsplit=1)[0])
    return main if len(main.split()) >= 3 else ""


def all_name_words(authors: str) -> str:
    """Every word of every author name longer than an initial: finds family/given names swapped."""
    return " ".join(w for w in fold(authors.replace(" and ", "; ")).split() if len(w) > 1)


def part_number(title: str) -> str:
    """'Part II' -> '2': Part I and Part II are two papers, not one."""
    match = _PART.search(title or "")
    if not match:
        return ""
    token = match.group(1).lower()
    if token.isdigit():
        return str(int(token))
    if token in _PART_WORDS:
        return _PART_WORDS[token]
    if set(token) <= set(_ROMAN) and len(token) > 0 and token not in {"a", "b", "c", "d", "e"}:
        values = [_ROMAN[c] for c in token]
        total = sum(-v if i + 1 < len(values) and v < values[i + 1] else v for i, v in enumerate(values))
        return str(total)
    return token


def item_kind(title: str, publication_types: str) -> str:
    """'erratum', 'retraction', 'reply', 'comment', or '' for the article itself."""
    for kind, pattern in _KIND_TITLE:
        if pattern.search(title or ""):
            return kind
    for kind, pattern in _KIND_TYPES:
        if pattern.search(publication_types or ""):
            return kind
    return ""


def is_conference(journal: str, publication_types: str) -> bool:
    """Conference paper or abstract: by publication type or by a venue named as a meeting."""
    return bool(_CONFERENCE_TYPES.search(publication_types or "")) or bool(
        _CONFERENCE_VENUE.search(journal or "")
    )


def clean_doi(value: str) -> str:
    doi = normalise_doi(unquote(value or ""))
    return doi.rstrip(".")


def prep(records: pd.DataFrame) -> pd.DataFrame:
    """One row per record (same order): the normalised fields every later step compares.

    Columns: title_n, title_key, title_main, authors_n, author_words, first_author, journal_n,
    journal_raw, year (float, NaN if unknown), volume_n, issue_n, pages_n, first_page,
    page_first/page_last (NaN unless a plain numeric range), last_page, page_prefix and
    page_start_any/page_end_any (the range of one section prefix), doi_n, pmid_n, abstract_n, part,
    kind, conference, registry,
    unique_search (search id for sources with unique ids, else '').
    """

    def col(name: str) -> list[str]:
        if name not in records.columns:
            return [""] * len(records)
        return records[name].fillna("").astype(str).tolist()

    titles, authors, journals = col("title"), col("authors"), col("journal")
    types, pages = col("publication_types"), col("pages")
    title_n = [normalise_title(t) for t in titles]
    page_pairs = [normalise_pages(p) for p in pages]
    prefixed = [prefixed_page_numbers(full) for full, _ in page_pairs]
    ranges = [r[1:] if r and not r[0] else None for r in prefixed]  # plain numeric ranges only
    years = []
    for value in col("year"):
        match = _YEAR.search(value)
        years.append(float(match.group(1)) if match else np.nan)
    sources, search_ids = col("source"), col("search_id")
    abstracts = col("abstract")
    prepared = pd.DataFrame(
        {
            "title_n": title_n,
            "title_key": [t.replace(" ", "") for t in title_n],
            "title_main": [main_title(t) for t in titles],
            "authors_n": [family_names(a) for a in authors],
            "author_words": [all_name_words(a) for a in authors],
            "first_author": [first_author(a) for a in authors],
            "journal_n": [normalise_journal(j) for j in journals],
            "journal_raw": journals,
            "year": np.array(years, dtype=float),
            "volume_n": [
                # A volume that repeats the year ('2016' in 2016) is a magazine's issue date, not a volume.
                "" if len(v) == 4 and y == y and v == str(int(y)) else v
                for v, y in zip((normalise_volume(v) for v in col("volume")), years, strict=True)
            ],
            "issue_n": [normalise_issue(v) for v in col("issue")],
            "pages_n": [full for full, _ in page_pairs],
            "first_page": [first for _, first in page_pairs],
            "page_first": [r[0] if r else np.nan for r in ranges],
            "page_last": [r[1] if r else np.nan for r in ranges],
            "last_page": [last_page(full) for full, _ in page_pairs],
            # The same range with its section prefix ('iii' of 'iii19-iii32') set apart, for
            # consecutive supplement pages.
            "page_prefix": [r[0] if r else "" for r in prefixed],
            "page_start_any": [r[1] if r else np.nan for r in prefixed],
            "page_end_any": [r[2] if r else np.nan for r in prefixed],
            "doi_n": [clean_doi(d) for d in col("doi")],
            "pmid_n": [normalise_pmid(p) for p in col("pmid")],
            "abstract_n": [fold(a[:600])[:400] for a in abstracts],
            "part": [part_number(t) for t in titles],
            "kind": [item_kind(t, p) for t, p in zip(titles, types, strict=True)],
            "conference": [is_conference(j, p) for j, p in zip(journals, types, strict=True)],
            "registry": [
                "; ".join(find_registry_ids(r, t)) for r, t in zip(col("registry_ids"), titles, strict=True)
            ],
            "unique_search": [
                sid if src in UNIQUE_ID_SOURCES else "" for src, sid in zip(sources, search_ids, strict=True)
            ],
        },
        index=records.index,
    )
    return prepared
