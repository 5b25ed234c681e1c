"""Step 4, ``cluster``: join duplicate pairs into clusters without creating a forbidden cluster.

Plain connected components would let a sparse record bridge two different articles
(A ~ X ~ B). Union-find here refuses a union that would put into one cluster:

- two different DOIs or two different PMIDs (a DOI/PMID names one item);
- two records of one search of a source with unique ids (PubMed, Crossref/NIHR);
- two records a veto or a person declared distinct.

One veto is lifted inside clusters: ``adjacent_pages`` says two records on consecutive pages
are two papers, but when one of the two clusters already holds records on both pages (joined
by a stronger edge, typically an identical DOI: one abstract indexed on p51 and on p52), the
page numbers are shown to be one item's and no longer tell two papers apart.

Edges are taken strongest first (people's 'duplicate' decisions, identical identifiers,
then by similarity), so a refused edge is the weakest one. Refused edges go to the people
as 'maybe' pairs.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ohevidence.dedupe.matching import IDENTIFIER_RULES

log = logging.getLogger("ohevidence.dedupe")


@dataclass
class Clustering:
    labels: np.ndarray  # cluster number per record position, numbered by first appearance
    accepted: list[tuple[int, int, str]] = field(default_factory=list)
    refused: list[tuple[int, int, str, str]] = field(default_factory=list)  # a, b, rule, why


class _Forest:
    def __init__(self, constraints: list[dict[str, frozenset[object]]], pages: list[str]) -> None:
        n = len(constraints)
        self.parent = np.arange(n)
        self.size = np.ones(n, dtype=np.int64)
        self.constraints: dict[int, dict[str, set[object]]] = {
            i: {k: set(v) for k, v in c.items()} for i, c in enumerate(constraints) if c
        }
        self.cannot: dict[int, set[int]] = {}
        # Page-based cannot-links (adjacent_pages): root -> {(partner, own record)}, and the page
        # values each cluster holds, for the lifting rule of the module docstring.
        self.pages = pages
        self.soft: dict[int, set[tuple[int, int]]] = {}
        self.cluster_pages: dict[int, set[str]] = {i: {p} for i, p in enumerate(self.pages) if p}

    def find(self, i: int) -> int:
        parent = self.parent
        root = i
        while parent[root] != root:
            root = parent[root]
        while parent[i] != root:  # path compression
            parent[i], i = root, parent[i]
        return int(root)

    def forbid(self, a: int, b: int) -> None:
        self.cannot.setdefault(self.find(a), set()).add(b)
        self.cannot.setdefault(self.find(b), set()).add(a)

    def forbid_pages(self, a: int, b: int) -> None:
        self.soft.setdefault(self.find(a), set()).add((b, a))
        self.soft.setdefault(self.find(b), set()).add((a, b))

    def conflict(self, ra: int, rb: int) -> str:
        ca, cb = self.constraints.get(ra), self.constraints.get(rb)
        if ca and cb:
            small, large = (ca, cb) if len(ca) <= len(cb) else (cb, ca)
            for key, values in small.items():
                other = large.get(key)
                if other is not None and not (values <= other or other <= values):
                    return key.split(":")[0]
        for root, other_root in ((ra, rb), (rb, ra)):
            for partner in self.cannot.get(root, ()):
                if self.find(partner) == other_root:
                    return "declared distinct"
            for partner, own in self.soft.get(root, ()):
                if self.find(partner) == other_root and not self._pages_shown_one(
                    root, own, other_root, partner
                ):
                    return "declared distinct"
        return ""

    def _pages_shown_one(self, root: int, own: int, other_root: int, partner: int) -> bool:
        """Does either cluster already hold both records' pages (the lifting rule)?"""
        here, there = self.cluster_pages.get(root, set()), self.cluster_pages.get(other_root, set())
        return self.pages[own] in there or self.pages[partner] in here

    def union(self, ra: int, rb: int) -> None:
        if self.size[ra] < self.size[rb]:
            ra, rb = rb, ra
        self.parent[rb] = ra
        self.size[ra] += self.size[rb]
        cb = self.constraints.pop(rb, None)
        if cb:
            ca = self.constraints.setdefault(ra, {})
            for key, values in cb.items():
                ca.setdefault(key, set()).update(values)
        nb = self.cannot.pop(rb, None)
        if nb:
            self.cannot.setdefault(ra, set()).update(nb)
        sb = self.soft.pop(rb, None)
        if sb:
            self.soft.setdefault(ra, set()).update(sb)
        pb = self.cluster_pages.pop(rb, None)
        if pb:
            self.cluster_pages.setdefault(ra, set()).update(pb)


def record_constraints(prepared: pd.DataFrame) -> list[dict[str, frozenset[object]]]:
    """Per record: the values a cluster may hold only one of (DOI, PMID, record of a unique-id search)."""
    out: list[dict[str, frozenset[object]]] = []
    for position, (doi, pmid, search) in enumerate(
        zip(prepared["doi_n"], prepared["pmid_n"], prepared["unique_search"], strict=True)
    ):
        c: dict[str, frozenset[object]] = {}
        if doi:
            c["doi"] = frozenset([doi])
        if pmid:
            c["pmid"] = frozenset([pmid])
        if search:
            c[f"same search:{search}"] = frozenset([position])
        out.append(c)
    return out


def cluster(
    prepared: pd.DataFrame,
    pairs: pd.DataFrame,
    decisions: pd.DataFrame | None = None,
) -> Clustering:
    """Cluster records from decided pairs and people's decisions (positions ``a``, ``b``, ``decision``)."""
    forest = _Forest(record_constraints(prepared), prepared["pages_n"].tolist())
    clustering = Clustering(labels=np.empty(0, dtype=np.int64))
    decided: set[tuple[int, int]] = set()
    if decisions is not None and len(decisions):
        for a, b, decision in decisions[["a", "b", "decision"]].itertuples(index=False):
            decided.add((min(a, b), max(a, b)))
            if decision == "distinct":
                forest.forbid(int(a), int(b))
        for a, b, decision in decisions[["a", "b", "decision"]].itertuples(index=False):
            if decision == "duplicate":  # a person's word overrides every automatic constraint
                ra, rb = forest.find(int(a)), forest.find(int(b))
                if ra != rb:
                    forest.union(ra, rb)
                clustering.accepted.append((int(a), int(b), "decision"))
    vetoed = pairs[(pairs["outcome"] == "distinct") & (pairs["veto"] != "")]
    for a, b, veto in zip(vetoed["a"], vetoed["b"], vetoed["veto"], strict=True):
        if (a, b) in decided:
            continue
        if veto == "adjacent_pages":
            forest.forbid_pages(int(a), int(b))
        else:
            forest.forbid(int(a), int(b))
    duplicates = pairs[pairs["outcome"] == "duplicate"].copy()
    duplicates["identifier"] = duplicates["rule"].isin(IDENTIFIER_RULES)
    duplicates["strength"] = duplicates["title"].fillna(50) + duplicates["authors"].fillna(50)
    duplicates = duplicates.sort_values(["identifier", "strength"], ascending=[False, False], kind="stable")
    for a, b, rule in zip(duplicates["a"], duplicates["b"], duplicates["rule"], strict=True):
        if (a, b) in decided:
            continue
        ra, rb = forest.find(int(a)), forest.find(int(b))
        if ra == rb:
            clustering.accepted.append((int(a), int(b), rule))
            continue
        why = forest.conflict(ra, rb)
        if why:
            clustering.refused.append((int(a), int(b), rule, why))
            continue
        forest.union(ra, rb)
        clustering.accepted.append((int(a), int(b), rule))
    roots = np.array([forest.find(i) for i in range(len(prepared))], dtype=np.int64)
    clustering.labels = pd.factorize(roots)[0]
    log.info(
        "cluster: %d records -> %d clusters (%d merges refused by a constraint)",
        len(prepared),
        int(clustering.labels.max()) + 1 if len(prepared) else 0,
        len(clustering.refused),
    )
    return clustering
