"""Screening at scale: the ranking step of `screen run` and re-ranking after a batch of decisions.

    .venv/bin/python benchmarks/screen_scale.py [--sizes 20000,60000,250000] [--keep DIR]
    .venv/bin/python benchmarks/screen_scale.py --folders DIR/review_20000,...   # reviews kept before

Builds each review with benchmarks/scale.py (multi-database exports of the labelled screening sets,
imported, merged and deduplicated, then `screen run` with both reviewers' decisions on 400 records;
`--until screening`) or reuses folders it kept (`--keep`). Then, in a fresh process per review (so
its peak RSS is the ranking's own), on the deduplicated records:

- features: `feature_views` on every record's text (what `screen run` computes once per run);
- first ranking: `score_records` on the 400 decisions, and the order it gives;
- re-ranking after a batch: 100 further records decided (excludes, as most decisions are) on
  features already computed, once outside a stall (after an include) and once in a stall (100
  excludes in a row after 400 decisions: the two-learner ensemble).

Per review: records, seconds and peak RSS of each step, and of the whole `screen run` stage (from
scale.py). Table on stdout; JSON in results/benchmarks/screen_scale.json (later runs replace
entries of the same size).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "results" / "benchmarks" / "screen_scale.json"


def measure(folder: Path) -> dict:
    """The ranking steps on one kept review (run in its own process)."""
    sys.path.insert(0, str(ROOT / "src"))
    import numpy as np
    import pandas as pd

    from ohevidence.schema import RECORD_COLUMNS
    from ohevidence.screen.ranking import RankingSettings, feature_views, score_records, tie_breaker
    from ohevidence.screen.stage import record_texts
    from ohevidence.tableio import read_table

    def peak_mb() -> int:
        return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)

    records = read_table(folder / "results/dedup/unique_records.csv", RECORD_COLUMNS)
    decisions = pd.read_csv(folder / "screening/decisions.csv", dtype=str, keep_default_na=False)
    decisions = decisions.drop_duplicates("record_id")
    position = {rid: i for i, rid in enumerate(records["record_id"])}
    labelled = [position[r] for r in decisions["record_id"]]
    labels = (decisions["decision"] == "include").astype(int).tolist()
    texts = record_texts(records)
    settings = RankingSettings()
    n = len(texts)
    result: dict = {"records": n, "large_review_features": n > settings.large_review}
    result["before_features_peak_rss_mb"] = peak_mb()

    started = time.perf_counter()
    views = feature_views(texts, settings)
    result["features_seconds"] = round(time.perf_counter() - started, 2)
    result["features_peak_rss_mb"] = peak_mb()
    result["nonzeros_per_record"] = {
        "default": round(views.default.nnz / n),
        "words": round(views.words.nnz / n),
    }
    ties = tie_breaker(n, 1)

    def rank(order_labelled: list[int], order_labels: list[int]) -> float:
        started = time.perf_counter()
        scores = score_records(views, order_labelled, order_labels, settings, 1)
        assert scores is not None
        np.lexsort((ties, -scores))
        return round(time.perf_counter() - started, 2)

    result["first_ranking_seconds"] = rank(labelled, labels)
    rng = np.random.default_rng(1)
    undecided = np.setdiff1d(np.arange(n), labelled)
    batch = rng.choice(undecided, size=100, replace=False).tolist()
    # outside a stall: the batch, then an include (its own record) last
    result["rerank_after_batch_seconds"] = rank(labelled + batch, labels + [0] * 99 + [1])
    # a stall: 100 excludes in a row after 400 decisions (the ensemble of two learners)
    result["rerank_in_stall_seconds"] = rank(labelled + batch, labels + [0] * 100)
    result["peak_rss_mb"] = peak_mb()
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--sizes", default="20000,60000", help="records per review (scale.py sizes)")
    parser.add_argument("--folders", default="", help="kept review folders to measure instead of building")
    parser.add_argument("--keep", default=None, help="folder to keep the built reviews in")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--measure", default=None, help=argparse.SUPPRESS)  # one folder, in this process
    args = parser.parse_args(argv)
    if args.measure:
        print(json.dumps(measure(Path(args.measure))))
        return 0
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import scale

    if not scale.SHARED.is_dir():
        print(f"skipped: {scale.SHARED} not present")
        return 0
    runs: list[tuple[int | None, Path, dict | None]] = []
    if args.folders:
        runs = [(None, Path(f), None) for f in args.folders.split(",") if f]
    else:
        for wanted in (int(s) for s in args.sizes.split(",") if s):
            keep = Path(args.keep) if args.keep else None
            made = scale.run_size(wanted, args.seed, keep, until="screening")
            folder = Path(made["folder"]) if made["folder"] else None
            if folder is None:
                raise SystemExit("--keep is needed to measure the ranking on the built review")
            runs.append((wanted, folder, made))
    results = []
    for size, folder, built in runs:
        measured = subprocess.run(
            [sys.executable, __file__, "--measure", str(folder)],
            capture_output=True,
            text=True,
            check=True,
        )
        entry = json.loads(measured.stdout.strip().splitlines()[-1])
        entry["size"] = size or int(folder.name.removeprefix("review_"))
        if built:
            entry["screen_run"] = next(s for s in built["stages"] if s["stage"] == "screening")
        entry["load_average"] = os.getloadavg()
        results.append(entry)
        print(json.dumps(entry), flush=True)
    print(
        f"\n{'size':>8}{'records':>9}{'features s':>11}{'MB':>7}{'first s':>9}"
        f"{'batch s':>9}{'stall s':>9}{'peak MB':>9}{'screen run s':>13}{'MB':>7}"
    )
    for r in results:
        run = r.get("screen_run", {})
        print(
            f"{r['size']:>8}{r['records']:>9}{r['features_seconds']:>11.1f}{r['features_peak_rss_mb']:>7}"
            f"{r['first_ranking_seconds']:>9.2f}{r['rerank_after_batch_seconds']:>9.2f}"
            f"{r['rerank_in_stall_seconds']:>9.2f}{r['peak_rss_mb']:>9}"
            f"{run.get('seconds', float('nan')):>13.1f}{run.get('peak_rss_mb', 0):>7}"
        )
    OUT.parent.mkdir(parents=True, exist_ok=True)
    previous = json.loads(OUT.read_text(encoding="utf-8"))["results"] if OUT.is_file() else []
    merged = {r["size"]: r for r in previous} | {r["size"]: r for r in results}
    payload = {"benchmark": "benchmarks/screen_scale.py", "results": [merged[k] for k in sorted(merged)]}
    OUT.write_text(json.dumps(payload, indent=2), encoding="utf-8")
    print(f"JSON: {OUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
