"""Study linking: reports of one study (protocol, main paper, HTA monograph, economic paper).

Reports of one study are *not* duplicates: each is its own bibliographic item and stays a
separate unique record. They are linked to a study key so extraction can treat them as one
study. Evidence, strongest first:

- a shared trial registration (ISRCTN, NCT, EudraCT), from the registry field or the title;
- the same trial acronym ('the RETAKE trial', '(OPAL)') *and* at least one shared
  condition word in the titles (so 'SWAP' in a back-pain trial does not link a 'SWAP' trial
  in another field; generic trial and method words do not count);
- curated links (a later stage; none yet).

Duplicates (one dedupe cluster) always share their study.
"""

from __future__ import annotations

import re
from collections import defaultdict

import numpy as np
import pandas as pd

from ohevidence.cells import MULTI_SEP, split_multi
from ohevidence.dedupe.normalise import fold

_TOKEN = r"([A-Za-z][A-Za-z0-9]*(?:-[A-Za-z0-9]+)*)"
_TRIAL_WORDS = (
    r"(?:trial|study|rct|randomi[sz]ed|feasibility|pilot|programme|program|initiative|intervention|cohort)"
)
_ACRONYM_CONTEXTS = (
    re.compile(
        r"\(\s*" + _TOKEN + r"\s*\)\s*:?\s*(?:an?\s+|the\s+)?(?:[a-z-]+\s+)?" + _TRIAL_WORDS + r"\b",
        re.IGNORECASE,
    ),
    re.compile(r"\b(?:the|a)\s+" + _TOKEN + r"\s+" + _TRIAL_WORDS + r"\b", re.IGNORECASE),
    re.compile(r"\b" + _TOKEN + r"\s+(?:trial|rct)\b", re.IGNORECASE),
)
# Upper-case words that are not trial names.
_NOT_ACRONYMS = frozenset(
    {
        "RCT", "RCTS", "HTA", "NHS", "NIHR", "UK", "USA", "US", "EU", "WHO", "COVID", "COVID-19", "HIV",
        "AIDS", "ISRCTN", "NCT", "GP", "GPS", "CBT", "MRC", "BMJ", "PRISMA", "CONSORT", "SPIRIT",
        "II", "III", "IV", "PHASE",
    }
)  # fmt: skip
# Words every trial report uses: they say nothing about which condition a study is about.
_GENERIC_WORDS = frozenset(
    """trial trials randomised randomized controlled control study studies protocol feasibility pilot
    effectiveness efficacy cost costs consequences analysis evaluation intervention interventions
    return work working worker workers people patients adults employed employees vocational
    rehabilitation occupational health support care primary usual early specialist based multi
    centre center phase results outcomes process economic qualitative findings exploratory
    development description delivered synopsis programme program service services model case
    management with from after following versus compared improve improving future randomised
    investigating exploring views stakeholders about carrying recruiting implementation potential
    report reports paper review systematic meta design mapping parallel pragmatic cluster arm
    group groups adding addition between within their among using through into over under than
    that this these those what which when where does whether more less long term short term
    retention job jobs employment""".split()
)


def trial_acronyms(title: str) -> list[str]:
    """Trial acronyms named in a title: 'the RETAKE RCT' -> ['RETAKE'], '(the InSTEP study)' -> ['INSTEP']."""
    found: list[str] = []
    for pattern in _ACRONYM_CONTEXTS:
        for match in pattern.finditer(title or ""):
            token = match.group(1)
            letters = [c for c in token if c.isalpha()]
            upper = sum(c.isupper() for c in letters)
            if upper < 3 or upper < 0.5 * len(letters):
                continue
            name = token.upper()
            if name not in _NOT_ACRONYMS and name not in found:
                found.append(name)
    return found


def condition_words(title: str, acronyms: list[str]) -> set[str]:
    skip = {a.lower() for a in acronyms}
    return {w for w in fold(title).split() if len(w) >= 4 and w not in _GENERIC_WORDS and w not in skip}


MAX_ACRONYM_REPORTS = 50


class _Union:
    def __init__(self, n: int) -> None:
        self.parent = list(range(n))

    def find(self, i: int) -> int:
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = self.parent[i]
        return i

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


def link_studies(records: pd.DataFrame, prepared: pd.DataFrame, labels: np.ndarray) -> pd.DataFrame:
    """``record_id, study_key, evidence`` for every record with study evidence (others are absent).

    Works on clusters: a link found on one record holds for its duplicates.
    """
    n_clusters = int(labels.max()) + 1 if len(labels) else 0
    union = _Union(n_clusters)
    evidence: dict[int, list[str]] = defaultdict(list)  # record position -> reasons
    registry_of_cluster: dict[int, set[str]] = defaultdict(set)
    first_cluster_of_registry: dict[str, int] = {}
    for position, registry in enumerate(prepared["registry"]):
        for rid in split_multi(registry):
            label = int(labels[position])
            registry_of_cluster[label].add(rid)
            evidence[position].append(f"registration {rid}")
            if rid in first_cluster_of_registry:
                union.union(first_cluster_of_registry[rid], label)
            else:
                first_cluster_of_registry[rid] = label
    titles = records["title"].fillna("").astype(str).tolist()
    record_ids = records["record_id"].tolist()
    by_acronym: dict[str, list[tuple[int, set[str]]]] = defaultdict(list)
    for position, title in enumerate(titles):
        acronyms = trial_acronyms(title)
        words = condition_words(title, acronyms)
        for acronym in acronyms:
            by_acronym[acronym].append((position, words))
    for acronym, members in by_acronym.items():
        if len(members) > MAX_ACRONYM_REPORTS:
            continue  # a name this common is an abbreviation, not one study's name
        for i, (pa, words_a) in enumerate(members):
            for pb, words_b in members[i + 1 :]:
                if labels[pa] == labels[pb]:
                    continue
                shared = sorted(words_a & words_b)
                if not shared:
                    continue
                union.union(int(labels[pa]), int(labels[pb]))
                terms = ", ".join(shared[:4])
                evidence[pa].append(f"acronym {acronym} + condition ({terms}) as {record_ids[pb]}")
                evidence[pb].append(f"acronym {acronym} + condition ({terms}) as {record_ids[pa]}")
    studies: dict[int, list[int]] = defaultdict(list)
    for label in range(n_clusters):
        studies[union.find(label)].append(label)
    members_of_cluster: dict[int, list[int]] = defaultdict(list)
    for position, label in enumerate(labels):
        members_of_cluster[int(label)].append(position)
    rows = []
    for root in sorted(studies):
        clusters = studies[root]
        registrations = sorted({rid for c in clusters for rid in registry_of_cluster.get(c, ())})
        positions = sorted(p for c in clusters for p in members_of_cluster[c])
        if not registrations and len(clusters) < 2:
            continue
        if registrations:
            key = registrations[0]
        else:
            acronyms = sorted({a for p in positions for a in trial_acronyms(titles[p])})
            key = "acronym:" + (acronyms[0] if acronyms else record_ids[positions[0]])
        for position in positions:
            reasons = list(dict.fromkeys(evidence.get(position, [])))
            if not reasons:
                kin = [record_ids[p] for p in members_of_cluster[int(labels[position])] if p != position]
                reasons = [f"duplicate of {kin[0]}"] if kin else []
            rows.append(
                {"record_id": record_ids[position], "study_key": key, "evidence": MULTI_SEP.join(reasons)}
            )
    return pd.DataFrame(rows, columns=["record_id", "study_key", "evidence"])
