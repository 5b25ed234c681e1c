"""Text patterns that find trial facts in a record's title, abstract and keywords.

Pure functions over strings, so each pattern is tested alone. They propose; a reviewer
decides: nothing found here goes into data/curated/ without a person checking it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence

import numpy as np
from rapidfuzz import fuzz, process

from ohevidence.records import find_registry_ids

# An acronym: a capitalised token with at least two capitals (SWAP, InSTEP, I-SWAP, MI-NAV, WORK-IA).
_TOKEN = re.compile(r"\b[A-Za-z][A-Za-z0-9]*(?:-[A-Za-z0-9]+)*\b")
_TRIAL_WORD = re.compile(r"\b(?:trial|study|RCT)s?\b", re.IGNORECASE)
ACRONYM_WINDOW = 4  # tokens either side of "trial"/"study"

DESIGN_CUES: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "randomised",
        re.compile(r"\brandomi[sz]ed\b|\brandomi[sz]ation\b|\bRCTs?\b|randomly allocated", re.IGNORECASE),
    ),
    ("cluster", re.compile(r"\bcluster[- ](?:randomi[sz]ed|RCT|trial)", re.IGNORECASE)),
    ("pilot", re.compile(r"\bpilot\b", re.IGNORECASE)),
    ("feasibility", re.compile(r"\bfeasibility\b", re.IGNORECASE)),
    ("protocol", re.compile(r"\bprotocol\b", re.IGNORECASE)),
    (
        "qualitative",
        re.compile(r"\bqualitative\b|\bfocus groups?\b|semi-structured interviews?", re.IGNORECASE),
    ),
    ("review", re.compile(r"\bsystematic review\b|\bmeta-analys[ie]s\b|\bCochrane\b", re.IGNORECASE)),
)
_PEOPLE = (
    r"participants|patients|workers|employees|adults|people|individuals|persons|subjects|"
    r"survivors|staff|women|men|employed people"
)
_N = r"(\d{1,3}(?:,\d{3})+|\d+)"
SAMPLE_SIZE_PATTERNS: tuple[re.Pattern[str], ...] = (
    re.compile(rf"\bn\s*=\s*{_N}", re.IGNORECASE),
    re.compile(rf"\b{_N}\s+(?:[a-z-]+\s+){{0,3}}?(?:{_PEOPLE})\b", re.IGNORECASE),
    re.compile(rf"\b(?:randomi[sz]ed|recruited|enrolled|included)\s+{_N}\b", re.IGNORECASE),
    re.compile(rf"\b{_N}\s+(?:were\s+)?(?:randomi[sz]ed|recruited|enrolled)\b", re.IGNORECASE),
)


def _tokens(text: str) -> list[str]:
    return _TOKEN.findall(text)


_ROMAN = re.compile(r"[IVXLC]+")


def _looks_like_acronym(token: str) -> bool:
    letters = token.replace("-", "")
    capitals = sum(ch.isupper() for ch in letters)
    return (
        3 <= len(letters) <= 12
        and capitals >= 2
        and capitals >= len(letters) - 3
        and not letters.isdigit()
        and not _ROMAN.fullmatch(letters)  # 'phase III'
    )


def _is_shouting(tokens: Sequence[str]) -> bool:
    """An all-capitals title (common in RIS exports) makes every word look like an acronym."""
    words = [t for t in tokens if len(t) >= 4]
    return bool(words) and sum(t.isupper() for t in words) > len(words) / 2


def acronym_key(acronym: str) -> str:
    """IN-STEP, InSTEP and INSTEP are one trial: compare without case and hyphens."""
    return re.sub(r"[^A-Z0-9]", "", acronym.upper())


def find_acronyms(text: str, known: Sequence[str] = (), stopwords: Iterable[str] = ()) -> list[str]:
    """Trial acronyms: capitalised tokens within a few words of 'trial'/'study', plus known ones.

    Known acronyms are matched as whole tokens ignoring case and hyphens, and reported in their
    configured spelling; common abbreviations (RCT, NHS, ...) in ``stopwords`` are never acronyms.
    """
    stop = {acronym_key(s) for s in stopwords}
    tokens = _tokens(text)
    found: list[str] = []

    def add(value: str) -> None:
        if acronym_key(value) not in stop and acronym_key(value) not in {acronym_key(f) for f in found}:
            found.append(value)

    known_by_key = {acronym_key(k): k for k in known}
    token_keys = [acronym_key(t) for t in tokens]
    for key, spelling in known_by_key.items():
        if key in token_keys:
            add(spelling)
    if _is_shouting(tokens):
        return found
    for index, token in enumerate(tokens):
        if not _TRIAL_WORD.fullmatch(token):
            continue
        window = tokens[max(0, index - ACRONYM_WINDOW) : index + ACRONYM_WINDOW + 1]
        for candidate in window:
            if candidate is not token and _looks_like_acronym(candidate):
                add(known_by_key.get(acronym_key(candidate), candidate))
    return found


def find_design_cues(text: str) -> list[str]:
    return [name for name, pattern in DESIGN_CUES if pattern.search(text)]


def find_sample_size(text: str) -> int | None:
    """Largest participant count stated ('n = 583', '338 patients', 'randomised 130')."""
    counts: list[int] = []
    for pattern in SAMPLE_SIZE_PATTERNS:
        for match in pattern.finditer(text):
            value = int(match.group(1).replace(",", ""))
            # a year ('in 2018 patients') or a percentage is not a sample size
            if 0 < value < 1_000_000 and not (1900 <= value <= 2100 and "," not in match.group(1)):
                counts.append(value)
    return max(counts) if counts else None


def find_conditions(text: str, conditions: Mapping[str, Sequence[str]]) -> list[str]:
    """Condition labels whose terms appear as words in the text (config extraction.conditions)."""
    found: list[str] = []
    for label, terms in conditions.items():
        for term in terms:
            if re.search(rf"\b{re.escape(term)}", text, re.IGNORECASE):
                found.append(label)
                break
    return found


_WORD = re.compile(r"[a-z0-9']+")


def _windows(words: Sequence[str], size: int) -> list[str]:
    return [" ".join(words[i : i + size]) for i in range(max(0, len(words) - size + 1))]


def find_job_roles(text: str, synonyms: Mapping[str, Sequence[str]], threshold: float) -> list[str]:
    """Role ids whose synonyms the text mentions.

    Each synonym is compared (rapidfuzz ratio >= threshold) with every run of as many words in
    the text, so spelling variants match ('physiotherapists', 'occupational-therapist',
    'dietician') but a phrase with a word inserted does not ('specialist vocational
    rehabilitation' is not 'specialist OT vocational rehabilitation'). Short synonyms (OT, FCP,
    MDT) would match inside ordinary words, so they must appear as a whole word in the same case.
    The synonyms of one length are compared with the text's windows of that length in one
    rapidfuzz call (cdist).
    """
    words = _WORD.findall(text.lower().replace("-", " "))
    phrases: dict[str, int] = {}  # normalised synonym -> its number of words
    for terms in synonyms.values():
        for term in terms:
            if len(term) > 3:
                term_words = _WORD.findall(term.lower().replace("-", " "))
                phrases[" ".join(term_words)] = len(term_words)
    mentioned: set[str] = set()
    for size in set(phrases.values()):
        windows = _windows(words, size)
        if not windows:
            continue
        sized = [phrase for phrase, n in phrases.items() if n == size]
        scores = np.asarray(
            process.cdist(sized, windows, scorer=fuzz.ratio, score_cutoff=threshold, dtype=np.float64)
        )
        hits = np.flatnonzero((scores >= threshold).any(axis=1))
        mentioned.update(sized[k] for k in hits)
    found: list[str] = []
    for role_id, terms in synonyms.items():
        for term in terms:
            if len(term) <= 3:
                hit = re.search(rf"\b{re.escape(term)}\b", text) is not None
            else:
                hit = " ".join(_WORD.findall(term.lower().replace("-", " "))) in mentioned
            if hit:
                found.append(role_id)
                break
    return found


def registry_ids(*texts: object) -> list[str]:
    return find_registry_ids(*texts)
