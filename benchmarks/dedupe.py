"""Deduplication benchmark: the labelled sets of bib-dedupe / ASySD, then a scale run.

    .venv/bin/python benchmarks/dedupe.py [--sets stroke,haematology] [--scale 10000,50000,100000]

Reads ../shared/benchmarks/dedupe/<set>/ beside the checkout (skips cleanly when absent).
For every set: record-level TP/FP/TN/FN, sensitivity and specificity ("records to remove",
the convention of bib-dedupe and ASySD: per gold group the first retained record is TN,
further retained ones FN, removed ones TP; a group with no retained record counts one FP;
a removed gold singleton is FP), pair-level FP pairs and pair recall, wall time of the
whole stage (prep -> block -> match -> cluster -> merge, study linking off) and the peak
RSS of a fresh process running it, next to bib-dedupe 0.11.0's figures from ANCHORS.md.

Label conflicts. Some gold groups join records that the issue's duplicate definition and
vetoes keep apart: an erratum or reply with its article, two records with different DOIs,
consecutive page ranges, a conference abstract and a journal article. Those misses are not
chased; they are counted by one generic rule, the stage's own veto table (vetoes.csv with
its 'unless' conditions, ``matching.veto_fires``) applied to the gold pairs: within a gold
group the predicted clusters are joined wherever no cross pair between them is vetoed, and
every predicted cluster that cannot be joined that way is one label conflict
(``fn_label_conflicts``, at most the group's FN). ``sens_excl`` is TP / (TP + FN - conflicts).
Pairs are listed in the JSON (``label_conflict_examples``) so a reader can check them.
A second, separately reported count (``fn_reviewed_conflicts``) adds the gold pairs we read
one by one and judged distinct, each with its reason, in ``benchmarks/dedupe_label_review.csv``
(different trials whose titles differ in the population, one abstract printed in two journals,
a thesis whose identical twin case the same set labels distinct). It is our judgement, not the
labels': the headline sensitivity is always the raw one.
The scale run builds 10k/50k/100k records from all benchmark records plus corrupted copies
(typos, dropped fields, abbreviated journals, shuffled authors, short page ranges,
upper-case titles, DOI URLs) and reports the same metrics against the known truth.
Table on stdout; JSON in results/benchmarks/dedupe.json.
"""

from __future__ import annotations

import argparse
import itertools
import json
import logging
import multiprocessing as mp
import random
import re
import resource
import sys
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "benchmarks" / "dedupe"
OUT = ROOT / "results" / "benchmarks" / "dedupe.json"
LABEL_REVIEW = Path(__file__).resolve().with_name("dedupe_label_review.csv")
SETS = (
    "special_cases",
    "stroke",
    "haematology",
    "cytology_screening",
    "respiratory",
    "diabetes",
    "digital_work",
)

# bib-dedupe 0.11.0 on these files (ANCHORS.md): TP, FP, TN, FN, sensitivity, specificity, FP pairs,
# pair recall, seconds.
ANCHORS = {
    "special_cases": (1, 0, 9, 2, 0.3333, 1.0, 0, 0.333, 0.2),
    "stroke": (312, 0, 978, 2, 0.9936, 1.0, 0, 0.996, 2.9),
    "haematology": (120, 1, 1279, 15, 0.8889, 0.9992, 2, 0.828, 3.8),
    "cytology_screening": (766, 0, 1084, 6, 0.9922, 1.0, 0, 0.985, 3.9),
    "respiratory": (408, 0, 1552, 28, 0.9358, 1.0, 0, 0.925, 5.1),
    "diabetes": (1261, 0, 584, 0, 1.0, 1.0, 0, 1.0, 5.8),
    "digital_work": (368, 0, 6790, 1, 0.9973, 1.0, 0, 0.998, 24.1),
}
# ASySD sensitivity per set (bib-dedupe's published evaluation, quoted in ANCHORS.md).
ASYSD_SENSITIVITY = {
    "stroke": 0.9618,
    "haematology": 0.8074,
    "cytology_screening": 0.9728,
    "respiratory": 0.9151,
    "diabetes": 0.9984,
    "digital_work": 0.8320,
}
# Documented label gap (haematology/SOURCE.md): id_0000002 is a true duplicate of id_0000001/3
# missing from the ground truth.
LABEL_GAPS = {"haematology": {"id_0000002"}}
# In these four EndNote-derived sets the 'number' column holds EndNote record numbers, not
# issues (their SOURCE.md), so it is not passed on as the issue.
ENDNOTE_RECORD_NUMBERS = frozenset({"stroke", "haematology", "cytology_screening", "respiratory"})


# ---------------------------------------------------------------------------
# Loading a labelled set as records of the ohevidence record schema.
# ---------------------------------------------------------------------------
def _bibtex_authors(value: str) -> str:
    return "; ".join(a.strip() for a in re.split(r"\s+and\s+", value or "") if a.strip())


def load_set(name: str) -> tuple[pd.DataFrame, list[list[str]]]:
    folder = SHARED / name
    if name == "diabetes":
        raw = pd.read_csv(
            folder / "labelled_test_set.csv", dtype=str, keep_default_na=False, encoding="latin1"
        )
        raw["ID"] = raw["record_id"].map(lambda x: f"id_{int(x):07d}")
        raw = raw.rename(columns={"number": "issue"}).drop(columns=["record_id", "source", "label"])
    else:
        raw = pd.read_csv(folder / "records_pre_merged.csv", dtype=str, keep_default_na=False)
    raw = raw.rename(columns={"number": "issue"})
    get = lambda col: raw[col] if col in raw.columns else pd.Series([""] * len(raw))  # noqa: E731
    entry = get("ENTRYTYPE")
    journal = get("journal").where(get("journal") != "", get("booktitle"))
    records = pd.DataFrame(
        {
            "record_id": raw["ID"],
            "source": "benchmark",
            "search_id": name,
            "source_id": raw["ID"],
            "pmid": "",
            "doi": get("doi"),
            "title": get("title"),
            "abstract": get("abstract"),
            "authors": get("author").map(_bibtex_authors),
            "journal": journal,
            "year": get("year"),
            "volume": get("volume"),
            "issue": "" if name in ENDNOTE_RECORD_NUMBERS else get("issue"),
            "pages": get("pages"),
            "publication_types": entry.map(lambda e: "Conference Paper" if e == "inproceedings" else ""),
        }
    ).fillna("")
    for column in ("mesh_terms", "keywords", "registry_ids", "language", "url"):
        records[column] = ""
    gold = pd.read_csv(folder / "merged_record_ids.csv", dtype=str)["merged_ids"]
    groups = [g.split(";") for g in gold]
    return records, groups


# ---------------------------------------------------------------------------
# Metrics.
# ---------------------------------------------------------------------------
def vetoed_gold_pairs(records: pd.DataFrame, groups: list[list[str]]) -> dict[tuple[str, str], str]:
    """Gold pairs a veto of vetoes.csv stops from merging (label conflicts), with the veto's name."""
    from ohevidence.dedupe.matching import VETOES, features, veto_fires
    from ohevidence.dedupe.normalise import prep

    records = records.reset_index(drop=True)
    position = {rid: i for i, rid in enumerate(records["record_id"])}
    pairs = [(position[x], position[y]) for g in groups for x, y in itertools.combinations(g, 2)]
    if not pairs:
        return {}
    prepared = prep(records)
    candidates = pd.DataFrame(sorted({(min(a, b), max(a, b)) for a, b in pairs}), columns=["a", "b"])
    scored = features(prepared, candidates)
    name = pd.Series("", index=scored.index, dtype=object)
    for veto in VETOES:
        if veto.name == "same_search_unique_ids":  # one search per benchmark set: not a label question
            continue
        fires = veto_fires(veto, prepared, scored) & (name == "").to_numpy()
        name[fires] = veto.name
    ids = records["record_id"].to_numpy()
    return {(ids[a], ids[b]): v for a, b, v in zip(candidates["a"], candidates["b"], name, strict=True) if v}


def label_conflicts(
    groups: list[list[str]], cluster_of: dict[str, str], vetoed: dict[tuple[str, str], str]
) -> tuple[int, list[tuple[str, str, str]]]:
    """FN records that are label conflicts (module docstring), and the vetoed gold pairs behind them."""
    total, examples = 0, []
    for group in groups:
        components: dict[str, list[str]] = {}
        for rid in group:
            components.setdefault(cluster_of[rid], []).append(rid)
        parts = list(components.values())
        if len(parts) < 2:
            continue
        parent = list(range(len(parts)))

        def find(i: int, parent: list[int] = parent) -> int:
            while parent[i] != i:
                i = parent[i]
            return i

        for i, j in itertools.combinations(range(len(parts)), 2):
            cross = [vetoed.get((x, y)) or vetoed.get((y, x)) for x in parts[i] for y in parts[j]]
            if not any(cross):
                parent[find(i)] = find(j)
            else:
                examples += [
                    (x, y, vetoed.get((x, y)) or vetoed.get((y, x)) or "") for x in parts[i] for y in parts[j]
                ]
        joined = len({find(i) for i in range(len(parts))})
        total += joined - 1
    return total, [e for e in examples if e[2]]


def reviewed_pairs(name: str) -> dict[tuple[str, str], str]:
    """Gold pairs of set ``name`` judged distinct on reading (LABEL_REVIEW), with the reason."""
    review = pd.read_csv(LABEL_REVIEW, dtype=str, keep_default_na=False)
    review = review[(review["set"] == name) & (review["judgement"] == "distinct")]
    return {
        (a, b): f"reviewed: {why}"
        for a, b, why in zip(review["record_a"], review["record_b"], review["reason"], strict=True)
    }


def evaluate(
    record_ids: list[str],
    clusters: pd.DataFrame,
    groups: list[list[str]],
    gap: set[str],
    vetoed: dict[tuple[str, str], str] | None = None,
    reviewed: dict[tuple[str, str], str] | None = None,
) -> dict:
    kept = dict(zip(clusters["record_id"], clusters["kept"] == "yes", strict=True))
    in_group = {rid for g in groups for rid in g}
    all_groups = groups + [[rid] for rid in record_ids if rid not in in_group]
    tp = fp = tn = fn = 0
    for group in all_groups:
        retained = sum(kept[r] for r in group)
        removed = len(group) - retained
        if len(group) == 1:
            fp += removed
            tn += retained
            continue
        if retained:
            tp += removed
            tn += 1
            fn += retained - 1
        else:
            fp += 1
            tp += removed - 1
    predicted_pairs: set[tuple[str, ...]] = set()
    for members in clusters.groupby("cluster_id")["record_id"]:
        ids = sorted(members[1])
        predicted_pairs.update(itertools.combinations(ids, 2))
    gold_pairs = {p for g in groups for p in itertools.combinations(sorted(g), 2)}
    fp_pairs = predicted_pairs - gold_pairs
    gap_pairs = {p for p in fp_pairs if set(p) & gap}
    cluster_of = dict(zip(clusters["record_id"], clusters["cluster_id"], strict=True))
    conflicts, conflict_pairs = label_conflicts(groups, cluster_of, vetoed or {})
    conflicts = min(conflicts, fn)
    with_review, _ = label_conflicts(groups, cluster_of, {**(vetoed or {}), **(reviewed or {})})
    reviewed_conflicts = max(0, min(with_review, fn) - conflicts)
    settled = conflicts + reviewed_conflicts
    return {
        "TP": tp,
        "FP": fp,
        "TN": tn,
        "FN": fn,
        "sensitivity": tp / (tp + fn) if tp + fn else 1.0,
        "specificity": tn / (tn + fp) if tn + fp else 1.0,
        "fn_label_conflicts": conflicts,
        "sensitivity_excl_conflicts": tp / (tp + fn - conflicts) if tp + fn - conflicts else 1.0,
        "label_conflict_examples": conflict_pairs[:20],
        "fn_reviewed_conflicts": reviewed_conflicts,
        "sensitivity_excl_reviewed": tp / (tp + fn - settled) if tp + fn - settled else 1.0,
        "fp_pairs": len(fp_pairs),
        "fp_pairs_label_gap": len(gap_pairs),
        "pair_recall": len(predicted_pairs & gold_pairs) / len(gold_pairs) if gold_pairs else 1.0,
        "fp_pair_examples": sorted(fp_pairs - gap_pairs)[:10],
        "missed_pair_examples": sorted(gold_pairs - predicted_pairs)[:10],
    }


# ---------------------------------------------------------------------------
# The scale run: corrupted copies of benchmark records.
# ---------------------------------------------------------------------------
_ABBREVIATIONS = {
    "journal": "J",
    "international": "Int",
    "american": "Am",
    "medicine": "Med",
    "research": "Res",
    "clinical": "Clin",
    "british": "Br",
    "european": "Eur",
    "information": "Inf",
    "systems": "Syst",
    "management": "Manage",
    "health": "Health",
    "science": "Sci",
    "review": "Rev",
    "society": "Soc",
    "national": "Natl",
}


def _typo(text: str, rng: random.Random) -> str:
    if len(text) < 10:
        return text
    i = rng.randrange(1, len(text) - 1)
    op = rng.choice(("swap", "drop", "replace", "double"))
    if op == "swap":
        return text[:i] + text[i + 1] + text[i] + text[i + 2 :]
    if op == "drop":
        return text[:i] + text[i + 1 :]
    if op == "replace":
        return text[:i] + rng.choice("abcdefghijklmnopqrstuvwxyz") + text[i + 1 :]
    return text[:i] + text[i] + text[i:]


def _abbreviate_journal(journal: str) -> str:
    words = [w for w in re.split(r"\s+", journal) if w.lower() not in {"of", "the", "and", "&"}]
    out = []
    for w in words:
        key = w.lower().strip(",.")
        out.append(_ABBREVIATIONS.get(key, w[:5] if len(w) > 6 else w))
    return " ".join(out)


def _short_pages(pages: str) -> str:
    match = re.fullmatch(r"\s*(\d+)\s*-+\s*(\d+)\s*", pages or "")
    if not match or len(match.group(1)) != len(match.group(2)):
        return pages
    start, end = match.groups()
    k = 0
    while k < len(start) - 1 and start[k] == end[k]:
        k += 1
    return f"{start}-{end[k:]}"


def corrupt(record: dict[str, str], rng: random.Random) -> dict[str, str]:
    """A realistic other-database copy: 1-2 of the changes exports make, plus maybe a typo."""
    copy = dict(record)
    changes = rng.sample(
        ["typo", "drop", "journal", "authors", "pages", "upper", "doi_url", "drop_abstract"],
        k=rng.randint(1, 3),
    )
    for change in changes:
        if change == "typo":
            copy["title"] = _typo(copy["title"], rng)
        elif change == "drop":
            for field in rng.sample(["volume", "issue", "pages", "doi", "journal"], k=rng.randint(1, 2)):
                copy[field] = ""
        elif change == "journal" and copy["journal"]:
            copy["journal"] = _abbreviate_journal(copy["journal"])
        elif change == "authors" and ";" in copy["authors"]:
            authors = copy["authors"].split("; ")
            rng.shuffle(authors)
            copy["authors"] = "; ".join(authors)
        elif change == "pages":
            copy["pages"] = _short_pages(copy["pages"])
        elif change == "upper":
            copy["title"] = copy["title"].upper()
        elif change == "doi_url" and copy["doi"]:
            copy["doi"] = "https://doi.org/" + copy["doi"].upper()
        elif change == "drop_abstract":
            copy["abstract"] = ""
    return copy


def scale_dataset(size: int, seed: int = 2026) -> tuple[pd.DataFrame, list[list[str]]]:
    """``size`` records: every benchmark record once, then corrupted copies of random ones."""
    rng = random.Random(seed)
    frames, groups = [], []
    for name in SETS:
        if name == "special_cases":
            continue
        records, gold = load_set(name)
        records["record_id"] = name + ":" + records["record_id"]
        records["search_id"] = name
        frames.append(records)
        groups += [[f"{name}:{rid}" for rid in g] for g in gold]
    base = pd.concat(frames, ignore_index=True)
    entity = {rid: i for i, g in enumerate(groups) for rid in g}
    rows = base.to_dict("records")
    extra = []
    for k in range(max(0, size - len(rows))):
        original = rows[rng.randrange(len(rows))]
        copy = corrupt(original, rng)
        copy["record_id"] = f"copy{k}:{original['record_id']}"
        copy["search_id"] = "copies"
        extra.append(copy)
        key = entity.get(original["record_id"])
        if key is None:
            key = entity[original["record_id"]] = len(groups)
            groups.append([original["record_id"]])
        groups[key].append(copy["record_id"])
    records = pd.DataFrame(rows[:size] + extra)
    present = set(records["record_id"])
    groups = [[r for r in g if r in present] for g in groups]
    return records, [g for g in groups if len(g) > 1]


# ---------------------------------------------------------------------------
# Running one task in a fresh process (so peak RSS is the task's own).
# ---------------------------------------------------------------------------
def run_task(task: tuple[str, int]) -> dict:
    sys.path.insert(0, str(ROOT / "src"))
    from ohevidence.dedupe import deduplicate

    name, size = task
    records, groups = scale_dataset(size) if size else load_set(name)
    started = time.perf_counter()
    result = deduplicate(records, link=False)
    seconds = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    vetoed = {} if size else vetoed_gold_pairs(records, groups)
    metrics = evaluate(
        records["record_id"].tolist(),
        result.clusters,
        groups,
        LABEL_GAPS.get(name, set()),
        vetoed,
        {} if size else reviewed_pairs(name),
    )
    maybe = len(result.maybe_pairs)
    return {
        "set": name if not size else f"scale_{size // 1000}k",
        "records": len(records),
        "seconds": seconds,
        "peak_rss_mb": peak_mb,
        "maybe_pairs": maybe,
        "candidate_pairs": len(result.pairs),
        **metrics,
    }


def run_isolated(task: tuple[str, int]) -> dict:
    context = mp.get_context("spawn")
    with context.Pool(1, maxtasksperchild=1) as pool:
        return pool.apply(run_task, (task,))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--sets", default=",".join(SETS))
    parser.add_argument("--scale", default="10000,50000,100000", help="sizes of the scale run ('' for none)")
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(message)s")
    if not SHARED.is_dir():
        print(f"skipped: {SHARED} not present")
        return 0
    tasks = [(name, 0) for name in args.sets.split(",") if name and (SHARED / name).is_dir()]
    tasks += [("scale", int(s)) for s in args.scale.split(",") if s]
    results = [run_isolated(task) for task in tasks]
    header = (
        f"{'set':<19}{'records':>8}{'TP':>6}{'FP':>4}{'TN':>7}{'FN':>5}{'confl':>6}{'rev':>4}"
        f"{'sens':>8}{'sens_ex':>8}{'sens_rv':>8}{'spec':>8}"
        f"{'FPpairs':>8}{'pairrec':>8}{'maybe':>6}{'sec':>7}{'RSS MB':>8}"
        " | bib-dedupe: sens, FN, FP pairs, sec"
    )
    print(header)
    print("-" * len(header))
    for r in results:
        anchor = ANCHORS.get(r["set"])
        fp_pairs = f"{r['fp_pairs']}" + (f"({r['fp_pairs_label_gap']}g)" if r["fp_pairs_label_gap"] else "")
        line = (
            f"{r['set']:<19}{r['records']:>8}{r['TP']:>6}{r['FP']:>4}{r['TN']:>7}{r['FN']:>5}"
            f"{r['fn_label_conflicts']:>6}{r['fn_reviewed_conflicts']:>4}{r['sensitivity']:>8.4f}"
            f"{r['sensitivity_excl_conflicts']:>8.4f}{r['sensitivity_excl_reviewed']:>8.4f}"
            f"{r['specificity']:>8.4f}{fp_pairs:>8}{r['pair_recall']:>8.3f}"
            f"{r['maybe_pairs']:>6}{r['seconds']:>7.2f}{r['peak_rss_mb']:>8.0f}"
        )
        if anchor:
            line += f" | {anchor[4]:.4f}, {anchor[3]}, {anchor[6]}, {anchor[8]} s"
        print(line)
    print(
        "(Ng) = FP pairs from the documented haematology label gap (id_0000002), counted as correct merges.\n"
        "confl = FN that are label conflicts (gold pairs vetoes.csv forbids: erratum/reply vs article,\n"
        "distinct DOIs, consecutive pages, conference vs journal); sens_ex = sensitivity without them.\n"
        "rev = further FN whose gold pairs we read and judged distinct (benchmarks/dedupe_label_review.csv,\n"
        "one reason per pair; our judgement, not the labels'); sens_rv = sensitivity without confl and rev."
    )
    OUT.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "metric_conventions": (
            "record level: records to remove (bib-dedupe/ASySD); pair level: all pairs within groups; "
            "fn_label_conflicts: FN whose gold pairs the stage's vetoes forbid (module docstring); "
            "fn_reviewed_conflicts: further FN whose gold pairs "
            "benchmarks/dedupe_label_review.csv judges distinct"
        ),
        "anchors_bib_dedupe_0_11_0": {
            k: dict(
                zip(
                    [
                        "TP",
                        "FP",
                        "TN",
                        "FN",
                        "sensitivity",
                        "specificity",
                        "fp_pairs",
                        "pair_recall",
                        "seconds",
                    ],
                    v,
                    strict=True,
                )
            )
            for k, v in ANCHORS.items()
        },
        "asysd_sensitivity": ASYSD_SENSITIVITY,
        "results": results,
    }
    OUT.write_text(json.dumps(payload, indent=2, default=str), encoding="utf-8")
    print(f"JSON: {OUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
