"""Whole-pipeline scale benchmark: multi-database RIS exports of real records, end to end.

    .venv/bin/python benchmarks/scale.py [--sizes 20000,60000] [--seed 2026] [--keep DIR]
        [--until dedupe] [--import-jobs 2]

Reads the labelled screening sets in ../shared/benchmarks/screening/*/ beside the checkout (skips
cleanly when absent): about 14,600 distinct records with real titles and abstracts (authors, years
and PMIDs where the set has them). Each item is exported by one to four of four databases
(MEDLINE, Embase, CINAHL, PsycINFO; 35/30/20/15 %), each writing the item its own way:

Some records of each export (3-8 %) are early-view versions without volume, issue or pages.

- MEDLINE (Ovid): title as published (sentence case, final full stop), 'Surname, A. B.', the ISO
  journal abbreviation, short page ranges ('123-9'), the PMID as accession number (AN, DB), DOI on
  90 % of records; the only export with accession numbers.
- Embase: no final full stop, 'Surname, Given' (a given name chosen for the initial, as Embase
  prints full names), full journal name, DOI on 95 %, 3 % dated one year later (print vs early view).
- CINAHL: Title Case, 'Surname, A', full journal name in capitals, DOI on 50 %, abstract on 80 %.
- PsycINFO: no final full stop, 'Surname, A. B.', full journal name, DOI on 75 %, abstract on 90 %.

The screening sets carry no journal, volume, pages or DOI, and four of them no authors or year:
those are drawn per item (a real journal name and its abbreviation, a volume and page range, a DOI
of the item; surnames and initials from the other sets' authors, a year 1990-2020) and said so in
the JSON. Sizes beyond the distinct pool use derived items whose text really differs: the first
half of one record's title and abstract joined to the second half of another's, the authors of a
third and another year; a derived title never equals another item's title.

Each export gets a reference id (RIS ID; AN for MEDLINE), so every imported record is known to be
one item (the truth). The pipeline then runs stage by stage through the `ohevidence` subcommands
the Snakemake rules call (workflow/rules/*.smk), in a temporary folder with the demo config's
screening, extraction and design settings: `search file` per export (``--import-jobs`` of them side
by side, default 2, as Snakemake runs the search_file jobs with --cores 2), `search merge`, `dedupe`,
`screen run` (two reviewers' title/abstract decisions on 400 records, from the sets' labels, so the
ranking model trains), `validate --curated-only` and `extract` (the demo's curated tables). Per
stage: wall time and peak RSS of its process (os.wait4); per run: the sum of the stages' times and the
wall time from the first import to the last stage (imports side by side counted once). Dedupe
against the truth: pair recall, false-merge pairs (with the rules that merged them), maybe-band
size. Table on stdout; JSON in results/benchmarks/scale.json (one entry per size and --authors,
later runs replace it; --until dedupe or --until screening writes
results/benchmarks/scale_until_<stage>.json).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
from ohevidence.csvio import write_csv

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "benchmarks" / "screening"
OUT = ROOT / "results" / "benchmarks" / "scale.json"
BIN = Path(sys.executable).parent

DATABASES = ("medline", "embase", "cinahl", "psycinfo")
PLATFORMS = {"medline": "Ovid", "embase": "Embase.com", "cinahl": "EBSCOhost", "psycinfo": "Ovid"}
EXPORT_WEIGHTS = (0.35, 0.30, 0.20, 0.15)  # items in 1, 2, 3, 4 exports
DOI_SHARE = {"medline": 0.90, "embase": 0.95, "cinahl": 0.50, "psycinfo": 0.75}
IN_PRESS_SHARE = {"medline": 0.03, "embase": 0.08, "cinahl": 0.05, "psycinfo": 0.05}
ABSTRACT_SHARE = {"medline": 1.0, "embase": 0.95, "cinahl": 0.80, "psycinfo": 0.90}
SYNTHETIC_PMID_START = 90_000_000  # above every real PMID (8 digits, as make_record accepts)

# Real journal names and their ISO abbreviations (NLM catalogue).
JOURNALS = (
    ("The Lancet", "Lancet"),
    ("British Medical Journal", "BMJ"),
    ("Journal of the American Medical Association", "JAMA"),
    ("New England Journal of Medicine", "N Engl J Med"),
    ("Annals of Internal Medicine", "Ann Intern Med"),
    ("American Journal of Cardiology", "Am J Cardiol"),
    ("Journal of Hypertension", "J Hypertens"),
    ("Hypertension", "Hypertension"),
    ("Circulation", "Circulation"),
    ("European Heart Journal", "Eur Heart J"),
    ("Diabetes Care", "Diabetes Care"),
    ("Diabetologia", "Diabetologia"),
    ("Clinical Therapeutics", "Clin Ther"),
    ("British Journal of Clinical Pharmacology", "Br J Clin Pharmacol"),
    ("Journal of Clinical Pharmacology", "J Clin Pharmacol"),
    ("Pain", "Pain"),
    ("Anesthesia and Analgesia", "Anesth Analg"),
    ("British Journal of Anaesthesia", "Br J Anaesth"),
    ("Headache", "Headache"),
    ("Cephalalgia", "Cephalalgia"),
    ("Neurology", "Neurology"),
    ("Journal of Urology", "J Urol"),
    ("Obstetrics and Gynecology", "Obstet Gynecol"),
    ("American Journal of Obstetrics and Gynecology", "Am J Obstet Gynecol"),
    ("Menopause", "Menopause"),
    ("Journal of Allergy and Clinical Immunology", "J Allergy Clin Immunol"),
    ("Allergy", "Allergy"),
    ("Annals of the Rheumatic Diseases", "Ann Rheum Dis"),
    ("Arthritis and Rheumatism", "Arthritis Rheum"),
    ("Journal of Rheumatology", "J Rheumatol"),
    ("Gastroenterology", "Gastroenterology"),
    ("Alimentary Pharmacology and Therapeutics", "Aliment Pharmacol Ther"),
    ("Veterinary Microbiology", "Vet Microbiol"),
    ("Journal of Virology", "J Virol"),
    ("Virus Research", "Virus Res"),
    ("Journal of Hepatology", "J Hepatol"),
    ("Hepatology", "Hepatology"),
    ("Movement Disorders", "Mov Disord"),
    ("Journal of General Internal Medicine", "J Gen Intern Med"),
    ("Implementation Science", "Implement Sci"),
    ("American Journal of Preventive Medicine", "Am J Prev Med"),
    ("BMC Public Health", "BMC Public Health"),
    ("Preventive Medicine", "Prev Med"),
    ("Journal of Medical Internet Research", "J Med Internet Res"),
)
GIVEN_NAMES = {
    "A": "Anna",
    "B": "Bernard",
    "C": "Clara",
    "D": "David",
    "E": "Elena",
    "F": "Frank",
    "G": "Giulia",
    "H": "Hans",
    "I": "Ingrid",
    "J": "John",
    "K": "Karin",
    "L": "Laura",
    "M": "Maria",
    "N": "Nils",
    "O": "Olga",
    "P": "Peter",
    "Q": "Qing",
    "R": "Robert",
    "S": "Sara",
    "T": "Thomas",
    "U": "Ulla",
    "V": "Victor",
    "W": "Walter",
    "X": "Xavier",
    "Y": "Yuki",
    "Z": "Zoe",
}
SMALL_WORDS = {
    "a",
    "an",
    "and",
    "as",
    "at",
    "by",
    "for",
    "from",
    "in",
    "of",
    "on",
    "or",
    "the",
    "to",
    "vs",
    "with",
}


# ---------------------------------------------------------------------------
# The pool of distinct real records.
# ---------------------------------------------------------------------------
def _split_author(name: str) -> tuple[str, str] | None:
    """'J Y Douillard' -> ('Douillard', 'JY'); 'T Le Chevalier' -> ('Le Chevalier', 'T')."""
    words = name.split()
    initials = []
    while len(words) > 1 and re.fullmatch(r"[A-Z]", words[0]):
        initials.append(words.pop(0))
    if not words or not initials:
        return None
    return " ".join(words), "".join(initials)


def _key(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "", title.lower())


def load_pool() -> list[dict]:
    """Distinct records of every screening set: one per PMID, then one per title (but see below)."""
    frames = []
    for path in sorted(SHARED.glob("*/*.csv")):
        raw = pd.read_csv(path, dtype=str, keep_default_na=False)
        label = raw.get("label_included", raw.get("included", pd.Series("0", index=raw.index)))
        frames.append(
            pd.DataFrame(
                {
                    "set": path.parent.name,
                    "pmid": raw.get("pubmedID", pd.Series("", index=raw.index)),
                    "title": raw["title"].str.strip(),
                    "abstract": raw["abstract"].str.strip(),
                    "authors": raw.get("authors", pd.Series("", index=raw.index)),
                    "year": raw.get("year", pd.Series("", index=raw.index)),
                    "label": label.map(lambda v: v.strip() in {"1", "1.0", "yes", "True"}),
                }
            )
        )
    records = pd.concat(frames, ignore_index=True)
    records = records[(records["title"].str.len() > 10) & (records["abstract"].str.len() > 50)]
    # Sets that share PMIDs (ACE inhibitors twice) lend each other authors and years.
    by_pmid = records[records["pmid"] != ""].sort_values("authors", ascending=False)
    by_pmid = by_pmid.drop_duplicates("pmid").set_index("pmid")
    for column in ("authors", "year"):
        known = records["pmid"].map(by_pmid[column]).fillna("")
        records[column] = records[column].where(records[column] != "", known)
    records = records[(records["pmid"] == "") | ~records.duplicated("pmid")]
    # One record per title, except records of different PMIDs: distinct citations with one title
    # ('Cerebral palsy.', a paper printed twice) stay, as hard cases a deduplication must not merge.
    records = records.assign(key=records["title"].map(_key))
    records = records.assign(title_key=records["key"] + "|" + records["pmid"])
    records = records[
        ~records.duplicated("key") | ((records["pmid"] != "") & ~records.duplicated("title_key"))
    ]
    return records.to_dict("records")


# ---------------------------------------------------------------------------
# Items: the pool, then derived items; each with authors, year, journal, volume, pages, DOI.
# ---------------------------------------------------------------------------
def _halves(text: str, splitter: str) -> tuple[str, str]:
    parts = [p for p in re.split(splitter, text) if p]
    cut = max(1, len(parts) // 2)
    return " ".join(parts[:cut]), " ".join(parts[cut:])


def journal_shelf(topic: str, size: int = 6) -> list[int]:
    """The journals (indexes of JOURNALS) a screening set's papers appear in: fixed per set."""
    return random.Random(topic).sample(range(len(JOURNALS)), size)


def build_items(n_items: int, rng: random.Random, draw: bool = True) -> tuple[list[dict], dict]:
    pool = load_pool()
    rng.shuffle(pool)  # every size draws from every set
    people = [a for r in pool for a in (_split_author(x.strip()) for x in r["authors"].split(";")) if a]
    titles = {r["key"] for r in pool}
    items: list[dict] = []
    drawn: Counter[str] = Counter()

    def draw_authors() -> list[tuple[str, str]]:
        if not draw:
            return []
        drawn["authors"] += 1
        return rng.sample(people, k=rng.randint(1, 8))

    def draw_year() -> str:
        drawn["year"] += 1
        return str(rng.randint(1990, 2020))

    for k in range(n_items):
        if k < len(pool):
            record = pool[k]
            title, abstract = record["title"], record["abstract"]
            authors = [a for a in (_split_author(x.strip()) for x in record["authors"].split(";")) if a]
            authors = authors or draw_authors()
            topic = record["set"]
            year = str(int(float(record["year"]))) if record["year"] else draw_year()
            pmid, label, origin = record["pmid"], record["label"], record["set"]
        else:
            while True:
                first, second, third = rng.sample(range(len(pool)), 3)
                head, _ = _halves(pool[first]["title"], r"\s+")
                _, tail = _halves(pool[second]["title"], r"\s+")
                title = f"{head} {tail}".strip()
                if _key(title) not in titles and len(title.split()) >= 6:
                    break
            titles.add(_key(title))
            a_head, _ = _halves(pool[first]["abstract"], r"(?<=\.)\s+")
            _, a_tail = _halves(pool[second]["abstract"], r"(?<=\.)\s+")
            abstract = f"{a_head} {a_tail}".strip()
            authors = [a for a in (_split_author(x.strip()) for x in pool[third]["authors"].split(";")) if a]
            authors = rng.sample(authors, len(authors)) if authors else draw_authors()
            year = draw_year()
            pmid, label, origin = "", pool[first]["label"] and pool[second]["label"], "derived"
            topic = pool[first]["set"]
        # A topic's papers cluster in a few journals (as a search's results do), and one journal's
        # volume follows the year: near-identical titles of companion papers then share journal,
        # year and volume, as they do in real searches.
        shelf = journal_shelf(topic)
        journal = JOURNALS[shelf[rng.randrange(len(shelf))]]
        start = rng.randint(1, 2400)
        items.append(
            {
                "item": k,
                "origin": origin,
                "title": title,
                "abstract": abstract,
                "authors": authors,
                "year": year,
                "pmid": pmid or str(SYNTHETIC_PMID_START + k),
                "journal": journal,
                "volume": str(int(year) - 1960 + JOURNALS.index(journal) % 7),
                "issue": str(rng.randint(1, 12)),
                "pages": (start, start + rng.randint(3, 14)),
                "doi": f"10.{rng.randint(1000, 9999)}/scale.{k:07d}",
                "label": bool(label),
            }
        )
    return items, {
        "pool_distinct_records": len(pool),
        "authors_where_missing": "drawn" if draw else "empty",
        "drawn": dict(drawn),
    }


# ---------------------------------------------------------------------------
# Per-database formatting and the RIS writer.
# ---------------------------------------------------------------------------
def title_case(title: str) -> str:
    words = title.split(" ")
    return " ".join(
        w if (w.isupper() and len(w) > 1) or (i and w.lower() in SMALL_WORDS) else w[:1].upper() + w[1:]
        for i, w in enumerate(words)
    )


def format_record(item: dict, db: str, ref: int, rng: random.Random) -> list[tuple[str, str]]:
    title = item["title"]
    if db != "medline":
        title = title.rstrip(".").rstrip()
    if db == "cinahl":
        title = title_case(title)
    initials = [(s, i) for s, i in item["authors"]]
    if db == "medline":
        authors = [f"{s}, {' '.join(c + '.' for c in i)}" for s, i in initials]
    elif db == "embase":
        authors = [
            f"{s}, {GIVEN_NAMES.get(i[0], i[0])}" + (f" {' '.join(i[1:])}" if len(i) > 1 else "")
            for s, i in initials
        ]
    elif db == "cinahl":
        authors = [f"{s}, {i[0]}" for s, i in initials]
    else:
        authors = [f"{s}, {'. '.join(i)}." for s, i in initials]
    full, abbreviation = item["journal"]
    start, end = item["pages"]
    year = int(item["year"])
    if db == "embase" and rng.random() < 0.03:
        year += 1
    doi = [("DO", item["doi"])] if rng.random() < DOI_SHARE[db] else []
    tags = [("TY", "JOUR"), ("ID", f"{db}{ref:07d}")] if db != "medline" else [("TY", "JOUR")]
    tags.append(("TI", title))
    tags += [("AU", a) for a in authors]
    tags.append(("PY", str(year)))
    if rng.random() < ABSTRACT_SHARE[db]:
        tags.append(("AB", item["abstract"]))
    if db == "medline":
        tags.append(("JO", abbreviation))
        first, last = str(start), str(end)
        common = 0
        while len(first) == len(last) and common < len(last) - 1 and first[common] == last[common]:
            common += 1
        tags.append(("SP", f"{first}-{last[common:]}"))
        tags.append(("AN", item["pmid"]))
        tags.append(("DB", "Ovid MEDLINE(R)"))
    else:
        tags.append(("JF", full.upper() if db == "cinahl" else full))
        tags += [("SP", str(start)), ("EP", str(end))]
    if rng.random() < IN_PRESS_SHARE[db]:  # an early-view record: no volume, issue or pages yet
        return [t for t in tags if t[0] not in {"SP", "EP"}] + doi
    tags += [("VL", item["volume"]), ("IS", item["issue"])]
    return tags + doi


def write_exports(items: list[dict], size: int, folder: Path, rng: random.Random) -> tuple[dict, dict]:
    """RIS files in ``folder`` holding ``size`` records; returns {record_id: item} and counts."""
    handles = {db: (folder / f"{db}.ris").open("w", encoding="utf-8") for db in DATABASES}
    truth: dict[str, int] = {}
    counts: Counter[str] = Counter()
    written = 0
    for item in items:
        if written >= size:
            break
        k = min(rng.choices((1, 2, 3, 4), weights=EXPORT_WEIGHTS)[0], size - written)
        for db in sorted(rng.sample(DATABASES, k), key=DATABASES.index):
            counts[db] += 1
            ref = counts[db]
            tags = format_record(item, db, ref, rng)
            handles[db].write("".join(f"{tag}  - {value}\n" for tag, value in tags) + "ER  - \n\n")
            source_id = item["pmid"] if db == "medline" else f"{db}{ref:07d}"
            truth[f"{db}:{source_id}"] = item["item"]
            written += 1
    for handle in handles.values():
        handle.close()
    return truth, dict(counts)


# ---------------------------------------------------------------------------
# Running the stages.
# ---------------------------------------------------------------------------
# Runs one stage and reports its peak RSS. A process forked from this (large) one starts with this
# one's memory high-water mark, which Linux keeps across exec: the stage is therefore started by a
# small fresh launcher, whose child's ru_maxrss is the stage's own.
LAUNCHER = """
import os, subprocess, sys
with open(sys.argv[1], "w", encoding="utf-8") as log:
    process = subprocess.Popen(sys.argv[2:], stdout=log, stderr=subprocess.STDOUT)
    _, status, usage = os.wait4(process.pid, 0)
print(os.waitstatus_to_exitcode(status), usage.ru_maxrss)
"""


def run_stage(name: str, args: list[str], cwd: Path, stages: list[dict]) -> None:
    log = cwd / "logs" / f"{name}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    launched = subprocess.run(
        [sys.executable, "-c", LAUNCHER, str(log), str(BIN / "ohevidence"), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=True,
    )
    seconds = time.perf_counter() - started
    code, maxrss_kb = (int(x) for x in launched.stdout.split())
    stages.append({"stage": name, "seconds": round(seconds, 2), "peak_rss_mb": round(maxrss_kb / 1024)})
    print(f"  {name:<22}{seconds:>8.1f} s{maxrss_kb / 1024:>8.0f} MB", flush=True)
    if code:
        tail = log.read_text(encoding="utf-8", errors="replace")[-3000:]
        raise SystemExit(f"stage {name} failed (exit {code}); {log}:\n{tail}")


def decisions_file(items_by_record: dict[str, dict], path: Path, rng: random.Random, n: int = 400) -> int:
    """Both reviewers' title/abstract decisions on ``n`` records: the sets' labels, all includes first."""
    ids = sorted(items_by_record)
    included = [r for r in ids if items_by_record[r]["label"]]
    chosen = rng.sample(included, min(len(included), n // 4))
    chosen += rng.sample([r for r in ids if not items_by_record[r]["label"]], n - len(chosen))
    rows = [
        {
            "record_id": record_id,
            "stage": "title_abstract",
            "reviewer": reviewer,
            "decision": "include" if items_by_record[record_id]["label"] else "exclude",
            "reason": "" if items_by_record[record_id]["label"] else "wrong_population",
            "note": "benchmark label",
            "decided_at": "2026-12-01",
        }
        for record_id in chosen
        for reviewer in ("reviewer_a", "reviewer_b")
    ]
    write_csv(pd.DataFrame(rows), path)
    return len(chosen)


def dedupe_metrics(folder: Path, truth: dict[str, int], items: list[dict]) -> dict:
    clusters = pd.read_csv(folder / "results/dedup/clusters.csv", dtype=str, keep_default_na=False)
    unknown = set(clusters["record_id"]) - set(truth)
    if unknown:
        raise SystemExit(f"records without truth: {sorted(unknown)[:5]}")
    clusters["item"] = clusters["record_id"].map(truth)
    per_item = Counter(truth.values())
    gold_pairs = sum(n * (n - 1) // 2 for n in per_item.values())
    true_pairs = predicted_pairs = 0
    false_examples = []
    by_rule: Counter[str] = Counter()
    for _, members in clusters.groupby("cluster_id"):
        n = len(members)
        predicted_pairs += n * (n - 1) // 2
        counts = members["item"].value_counts()
        true_pairs += int(sum(c * (c - 1) // 2 for c in counts))
        if len(counts) > 1:
            rows = members.to_dict("records")
            for i, x in enumerate(rows):
                for y in rows[i + 1 :]:
                    if x["item"] != y["item"]:
                        rules = sorted(
                            {r for r in (x["matched_by"] + "; " + y["matched_by"]).split("; ") if r}
                        )
                        by_rule["; ".join(rules)] += 1
                        false_examples.append(
                            {
                                "record_a": x["record_id"],
                                "record_b": y["record_id"],
                                "matched_by": rules,
                                "title_a": items[x["item"]]["title"],
                                "title_b": items[y["item"]]["title"],
                            }
                        )
    maybe = pd.read_csv(folder / "results/dedup/maybe_pairs.csv", dtype=str, keep_default_na=False)
    maybe_true = sum(
        truth[a] == truth[b] for a, b in zip(maybe["record_id_a"], maybe["record_id_b"], strict=True)
    )
    return {
        "gold_pairs": gold_pairs,
        "pair_recall": true_pairs / gold_pairs if gold_pairs else 1.0,
        "false_merge_pairs": predicted_pairs - true_pairs,
        "false_merges_by_rule": dict(by_rule),
        "false_merge_examples": false_examples[:30],
        "unique_records": int(clusters["cluster_id"].nunique()),
        "items": len(per_item),
        "maybe_pairs": len(maybe),
        "maybe_pairs_same_item": int(maybe_true),
    }


def run_size(
    size: int,
    seed: int,
    keep: Path | None,
    until: str = "extraction",
    draw_authors: bool = True,
    import_jobs: int = 2,
) -> dict:
    sys.path.insert(0, str(ROOT / "src"))
    from ohevidence.config import load_config

    config = load_config(ROOT / "config" / "config.yaml")
    rng = random.Random(seed)
    n_items = int(size / sum((k + 1) * w for k, w in enumerate(EXPORT_WEIGHTS))) + 200
    items, provenance = build_items(n_items, rng, draw_authors)
    base = Path(keep) if keep else Path(tempfile.mkdtemp(prefix=f"ohevidence-scale-{size}-"))
    folder = base / f"review_{size}"
    (folder / "exports").mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    truth, per_db = write_exports(items, size, folder / "exports", rng)
    print(
        f"{size} records of {len(set(truth.values()))} items: {per_db}"
        f" ({time.perf_counter() - started:.0f} s to write)"
    )
    stages: list[dict] = []
    run_started = time.perf_counter()
    imports = [
        (
            f"import_{db}",
            [
                "search",
                "file",
                f"exports/{db}.ris",
                f"--search-id={db}",
                f"--source={db}",
                "--mode=import",
                "--run-at=2026-12-01T00:00:00Z",
                f"--platform={PLATFORMS[db]}",
                "--format=ris",
                f"--out=results/search/{db}",
            ],
        )
        for db in DATABASES
    ]
    # One search_file job per export: Snakemake with --cores N runs N of them side by side.
    with ThreadPoolExecutor(max_workers=import_jobs) as pool:
        for future in [pool.submit(run_stage, name, args, folder, stages) for name, args in imports]:
            future.result()
    stages.sort(key=lambda s: [name for name, _ in imports].index(s["stage"]))
    import_wall = time.perf_counter() - run_started
    print(f"  imports, {import_jobs} at a time{import_wall:>10.1f} s (wall)", flush=True)
    run_stage(
        "merge",
        [
            "search",
            "merge",
            *[f"results/search/{db}" for db in DATABASES],
            "--records-out=results/records/records.csv",
            "--log-out=results/search/search_log.csv",
        ],
        folder,
        stages,
    )
    dedupe = config.get("dedupe", {})
    run_stage(
        "dedupe",
        [
            "dedupe",
            "--records",
            "results/records/records.csv",
            f"--max-block={dedupe.get('max_block', 50)}",
            f"--window={dedupe.get('window', 8)}",
            "--clusters-out",
            "results/dedup/clusters.csv",
            "--unique-records-out",
            "results/dedup/unique_records.csv",
            "--maybe-pairs-out",
            "results/dedup/maybe_pairs.csv",
            "--study-links-out",
            "results/dedup/study_links.csv",
        ],
        folder,
        stages,
    )
    metrics = dedupe_metrics(folder, truth, items)
    print(
        f"  dedupe: pair recall {metrics['pair_recall']:.4f},"
        f" false-merge pairs {metrics['false_merge_pairs']},"
        f" maybe pairs {metrics['maybe_pairs']} ({metrics['maybe_pairs_same_item']} same item)",
        flush=True,
    )
    if until == "dedupe":
        return summary(
            size, truth, per_db, seed, 0, stages, metrics, provenance, items, folder if keep else None
        ) | {
            "import_jobs": import_jobs,
            "import_wall_seconds": round(import_wall, 1),
            "wall_seconds": round(time.perf_counter() - run_started, 1),
        }
    screening = dict(config["screening"])
    decisions = folder / "screening" / "decisions.csv"
    decisions.parent.mkdir(parents=True, exist_ok=True)
    kept = pd.read_csv(folder / "results/dedup/clusters.csv", dtype=str, keep_default_na=False)
    kept = kept[kept["kept"] == "yes"]["record_id"]
    n_decided = decisions_file({r: items[truth[r]] for r in kept}, decisions, rng)
    screening.update(decisions=str(decisions.relative_to(folder)), sheets_dir="screening", seed_records=[])
    run_stage(
        "screening",
        [
            "screen",
            "run",
            "--records",
            "results/dedup/unique_records.csv",
            "--settings",
            json.dumps({"screening": screening}),
            "--out",
            "results/screening",
        ],
        folder,
        stages,
    )
    if until == "screening":
        return summary(
            size, truth, per_db, seed, n_decided, stages, metrics, provenance, items, folder if keep else None
        )
    curated = ROOT / config["extraction"]["curated_dir"]
    run_stage(
        "validate_curated",
        [
            "validate",
            "--curated-only",
            "--curated",
            str(curated),
            "--rob",
            str(ROOT / config["report"]["rob"]),
            "--robins-i",
            str(ROOT / config["appraisal"]["robins_i"]),
            "--amstar2",
            str(ROOT / config["appraisal"]["amstar2"]),
            "--report",
            "results/extraction/curated_validation.txt",
        ],
        folder,
        stages,
    )
    settings = {
        "extraction": config["extraction"],
        "designs": config["designs"],
        "synthesis": {
            "include_without_screened_report": config["synthesis"]["include_without_screened_report"]
        },
    }
    out = "results/extraction"
    run_stage(
        "extraction",
        [
            "extract",
            "--records",
            "results/dedup/unique_records.csv",
            "--study-links",
            "results/dedup/study_links.csv",
            "--included",
            "results/screening/included.csv",
            "--title-abstract",
            "results/screening/title_abstract.csv",
            "--curated",
            str(curated),
            "--settings",
            json.dumps(settings),
            "--out",
            f"{out}/auto_extracted.csv",
            "--worklist",
            f"{out}/worklist.csv",
            "--included-reports-out",
            f"{out}/included_reports.csv",
            "--included-studies-out",
            f"{out}/included_studies.csv",
            "--included-reviews-out",
            f"{out}/included_reviews.csv",
            "--not-included-out",
            f"{out}/curated_not_included.csv",
        ],
        folder,
        stages,
    )
    return summary(
        size, truth, per_db, seed, n_decided, stages, metrics, provenance, items, folder if keep else None
    ) | {
        "import_jobs": import_jobs,
        "import_wall_seconds": round(import_wall, 1),
        "wall_seconds": round(time.perf_counter() - run_started, 1),
    }


def summary(size, truth, per_db, seed, n_decided, stages, metrics, provenance, items, folder) -> dict:
    return {
        "size": size,
        "records": len(truth),
        "records_per_export": per_db,
        "seed": seed,
        "screening_decisions": n_decided,
        "stages": stages,
        "total_seconds": round(sum(s["seconds"] for s in stages), 1),
        "peak_rss_mb": max(s["peak_rss_mb"] for s in stages),
        "dedupe": metrics,
        "provenance": {
            **provenance,
            "derived_items": sum(1 for i in items[: len(set(truth.values()))] if i["origin"] == "derived"),
            "drawn_fields": (
                "journal, volume, issue, pages, DOI for every item; authors and year where the set has none"
            ),
        },
        "folder": str(folder or ""),
        "cpu_count": os.cpu_count(),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--sizes", default="20000", help="records per run, comma-separated (default 20000)")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument(
        "--until",
        choices=["dedupe", "screening", "extraction"],
        default="extraction",
        help="last stage to run",
    )
    parser.add_argument(
        "--authors",
        choices=["draw", "empty"],
        default="draw",
        help="records whose set has no authors: drawn from the other sets' authors, or left without",
    )
    parser.add_argument(
        "--keep", default=None, help="folder to keep the generated reviews in (default: a temp dir)"
    )
    parser.add_argument(
        "--import-jobs",
        type=int,
        default=2,
        help="exports imported side by side, as Snakemake --cores N runs search_file jobs (default 2)",
    )
    args = parser.parse_args(argv)
    if not SHARED.is_dir():
        print(f"skipped: {SHARED} not present")
        return 0
    results = []
    for size in (int(s) for s in args.sizes.split(",") if s):
        keep = Path(args.keep) if args.keep else None
        result = run_size(size, args.seed, keep, args.until, args.authors == "draw", args.import_jobs)
        results.append(result)
        out = OUT if args.until == "extraction" else OUT.with_name(f"scale_until_{args.until}.json")
        out.parent.mkdir(parents=True, exist_ok=True)
        previous = json.loads(out.read_text(encoding="utf-8"))["results"] if out.is_file() else []
        run_key = lambda r: (r["size"], r["provenance"].get("authors_where_missing", "drawn"))  # noqa: E731
        merged = {run_key(r): r for r in previous} | {run_key(r): r for r in results}
        payload = {"benchmark": "benchmarks/scale.py", "results": [merged[k] for k in sorted(merged)]}
        out.write_text(json.dumps(payload, indent=2), encoding="utf-8")
    names = max(([s["stage"] for s in r["stages"]] for r in results), key=len, default=[])
    print(
        f"\n{'records':>8}"
        + "".join(f"{n[:10]:>11}" for n in names)
        + f"{'sum s':>9}{'wall s':>9}{'peak MB':>9}{'recall':>8}{'false':>6}{'maybe':>6}"
    )
    for r in results:
        print(
            f"{r['records']:>8}"
            + "".join(f"{s['seconds']:>11.1f}" for s in r["stages"])
            + f"{r['total_seconds']:>9.1f}{r['wall_seconds']:>9.1f}{r['peak_rss_mb']:>9}"
            + f"{r['dedupe']['pair_recall']:>8.4f}"
            + f"{r['dedupe']['false_merge_pairs']:>6}{r['dedupe']['maybe_pairs']:>6}"
        )
    print(f"JSON: {out.relative_to(ROOT)}" if results else "no sizes given")
    return 0


if __name__ == "__main__":
    sys.exit(main())
