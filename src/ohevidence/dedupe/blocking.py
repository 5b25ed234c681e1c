"""Step 2, ``block``: candidate pairs from exact blocking keys (never all pairs).

Each key is a short exact string built from normalised fields; only records sharing a key
are compared. Several keys cover each other's blind spots: a typo in the first half of a
title still leaves the title's tail and its word initials; a record without a title still
has first author + year + first page. Blocks larger than ``max_block`` (e.g. hundreds of
records titled 'Editorial') are not expanded into all pairs: their records are sorted by
title and each is compared with its ``window`` nearest neighbours (sorted neighbourhood).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import numpy as np
import pandas as pd

log = logging.getLogger("ohevidence.dedupe")

MIN_TITLE_KEY = 12  # shorter titles ('Editorial') are too common to block on alone
HALF_TITLE = 32
TITLE_END = 24


def _title_head(p: pd.DataFrame) -> pd.Series:
    keys = p["title_key"]
    return keys.str[:HALF_TITLE].where(keys.str.len() >= 2 * HALF_TITLE - 8, "")


def _title_tail(p: pd.DataFrame) -> pd.Series:
    keys = p["title_key"]
    return keys.str[-HALF_TITLE:].where(keys.str.len() >= 2 * HALF_TITLE - 8, "")


def _title_initials(p: pd.DataFrame) -> pd.Series:
    """First letter of every word of titles with at least six words: survives typos inside words."""
    words = p["title_n"].str.split()
    initials = words.map(lambda ws: "".join(w[0] for w in ws) if len(ws) >= 6 else "")
    return initials


def _year(p: pd.DataFrame) -> pd.Series:
    return p["year"].map(lambda y: "" if y != y else str(int(y)))


def _join(*parts: pd.Series) -> pd.Series:
    """'|'-join parts; empty when any part is empty (a key needs all its fields)."""
    out = parts[0].astype(str)
    empty = out == ""
    for part in parts[1:]:
        text = part.astype(str)
        empty |= text == ""
        out = out + "|" + text
    return out.where(~empty, "")


# name -> key builder. Every key is exact; each record may have an empty key (not blocked on it).
BLOCKING_KEYS: dict[str, Callable[[pd.DataFrame], pd.Series]] = {
    "doi": lambda p: p["doi_n"],
    "pmid": lambda p: p["pmid_n"],
    "title": lambda p: p["title_key"].where(p["title_key"].str.len() >= MIN_TITLE_KEY, ""),
    "title_head": _title_head,
    "title_tail": _title_tail,
    "title_initials": lambda p: _join(_title_initials(p), p["first_author"].str[:1]),
    "author_year_page": lambda p: _join(p["first_author"], _year(p), p["first_page"]),
    "year_volume_page": lambda p: _join(_year(p), p["volume_n"], p["first_page"]),
    "author_volume_page": lambda p: _join(p["first_author"], p["volume_n"], p["first_page"]),
    "author_year_title": lambda p: _join(p["first_author"], _year(p), p["title_key"].str[:12]),
    # A title with words put in front ('How did it ... Upwork's CEO on how ...') keeps its end.
    "author_title_end": lambda p: _join(
        p["first_author"], p["title_key"].str[-TITLE_END:].where(p["title_key"].str.len() >= TITLE_END, "")
    ),
    "abstract": lambda p: p["abstract_n"].str[:120].where(p["abstract_n"].str.len() >= 100, ""),
}


def block_pairs(keys: pd.Series, secondary: pd.Series, *, max_block: int, window: int) -> np.ndarray:
    """Pairs (i < j, positions) of records sharing a non-empty key; big blocks by sorted neighbourhood."""
    codes, _ = pd.factorize(keys.where(keys != "", None), use_na_sentinel=True)
    valid = np.flatnonzero(codes >= 0)
    if len(valid) < 2:
        return np.empty((0, 2), dtype=np.int64)
    sec_codes = pd.factorize(secondary.to_numpy()[valid], sort=True)[0]
    order = valid[np.lexsort((sec_codes, codes[valid]))]
    sorted_codes = codes[order]
    sizes = np.bincount(sorted_codes)
    big = sizes[sorted_codes] > max_block
    chunks = []
    for offset in range(1, min(max_block, int(sizes.max()))):
        same = sorted_codes[offset:] == sorted_codes[:-offset]
        if offset > window:
            same &= ~big[offset:]
        if not same.any():
            break  # no block (of the sizes still expanded) holds more than `offset` records
        chunks.append(np.column_stack((order[:-offset][same], order[offset:][same])))
    if not chunks:
        return np.empty((0, 2), dtype=np.int64)
    pairs = np.concatenate(chunks)
    return np.sort(pairs, axis=1)


def block(prepared: pd.DataFrame, *, max_block: int = 50, window: int = 8) -> pd.DataFrame:
    """Candidate pairs ``a < b`` (positions in ``prepared``) and the keys that proposed them.

    Pairs of two records from one search of a source with unique ids (PubMed, Crossref) are
    left out: such records are different items by construction.
    """
    n = len(prepared)
    encoded_parts = []
    key_bits = []
    for bit, (name, build) in enumerate(BLOCKING_KEYS.items()):
        keys = build(prepared).fillna("").astype(str)
        pairs = block_pairs(keys, prepared["title_key"], max_block=max_block, window=window)
        encoded_parts.append(pairs[:, 0] * n + pairs[:, 1])
        key_bits.append(np.full(len(pairs), 1 << bit, dtype=np.int64))
        oversized = int((keys[keys != ""].value_counts() > max_block).sum())
        log.debug(
            "block %-18s %9d pairs%s", name, len(pairs), f" ({oversized} big blocks)" if oversized else ""
        )
    encoded = np.concatenate(encoded_parts) if encoded_parts else np.empty(0, dtype=np.int64)
    bits = np.concatenate(key_bits) if key_bits else np.empty(0, dtype=np.int64)
    unique, inverse = np.unique(encoded, return_inverse=True)
    keys_mask = np.zeros(len(unique), dtype=np.int64)
    np.bitwise_or.at(keys_mask, inverse, bits)
    a, b = unique // n if n else unique, unique % n if n else unique
    same_search = prepared["unique_search"].to_numpy()
    keep = ~((same_search[a] != "") & (same_search[a] == same_search[b]))
    candidates = pd.DataFrame({"a": a[keep], "b": b[keep], "keys": keys_mask[keep]})
    log.info(
        "block: %d candidate pairs from %d keys (%d same-search pairs of unique-id sources left out)",
        len(candidates),
        len(BLOCKING_KEYS),
        int((~keep).sum()),
    )
    return candidates


def key_names(mask: int) -> str:
    return "+".join(name for bit, name in enumerate(BLOCKING_KEYS) if mask & (1 << bit))
