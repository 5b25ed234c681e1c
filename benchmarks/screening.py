"""Screening benchmark: the ranking against ASReview LAB's default model (elas_u4) on labelled sets.

    .venv/bin/python benchmarks/screening.py [--tasks nudging_ferdinands2023,...] [--seeds 1,2,3,4,5]

Reads ../shared/benchmarks/screening/ beside the checkout (skips cleanly when absent). Each task runs
`ohevidence screen simulate` (a fresh process, so the seconds include start-up and features) with
1 random include and 1 random exclude as priors, for seeds 1-5, one run at a time. Metrics as
ANCHORS.md defines them (ranks count the priors): WSS@95, RRF@10, ATD, seconds. For the Cohen
sets it also checks that no final include (`label_included`) would be removed by an eligibility
rule: as configured (config/config.yaml) and with every exclude-type rule switched to
`action: exclude`. Table on stdout; JSON in results/benchmarks/screening.json.

Targets (issue 5): mean WSS@95 over the tasks >= elas_u4 + 2 points; never more than 1 point
below elas_u4 on a task with >= 20 relevant records; a ~2,500-record simulation < 60 s.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from ohevidence.screen.evaluation import atd, rrf, wss  # noqa: E402
from ohevidence.screen.ranking import RankingSettings  # noqa: E402
from ohevidence.screen.rules import apply_rules, compile_rules  # noqa: E402

SHARED = ROOT.parent / "shared" / "benchmarks" / "screening"
OUT = ROOT / "results" / "benchmarks" / "screening.json"

# task: (file, label column, id column or None = row number, anchor elas_u4 WSS@95, RRF@10, ATD, seconds)
TASKS: dict[str, tuple[str, str, str | None, float, float, float, float]] = {
    "ace_ferdinands2023": ("ace_ferdinands2023/ace.csv", "label_included", "pubmedID", 77.7, 85.4, 6.2, 51),
    "nudging_ferdinands2023": ("nudging_ferdinands2023/nudging.csv", "included", "id", 71.5, 64.0, 9.0, 46),
    # ids are not unique in wilson.csv: key by row (ANCHORS.md)
    "wilson_ferdinands2023": ("wilson_ferdinands2023/wilson.csv", "included", None, 83.7, 94.8, 3.9, 51),
    "cohen_ace_inhibitors_TA": (
        "cohen2006_ace_inhibitors/ACEInhibitors.csv",
        "label_abstract_screening",
        "record_id",
        31.5,
        45.5,
        18.6,
        64,
    ),
    "cohen_ace_inhibitors_FT": (
        "cohen2006_ace_inhibitors/ACEInhibitors.csv",
        "label_included",
        "record_id",
        70.1,
        66.8,
        13.6,
        89,
    ),
    "cohen_opioids_TA": (
        "cohen2006_opioids/Opiods.csv",
        "label_abstract_screening",
        "record_id",
        38.5,
        58.8,
        15.8,
        43,
    ),
    "cohen_opioids_FT": ("cohen2006_opioids/Opiods.csv", "label_included", "record_id", 23.3, 65.3, 18.7, 62),
    "cohen_smr_TA": (
        "cohen2006_skeletal_muscle_relaxants/SkeletalMuscleRelaxants.csv",
        "label_abstract_screening",
        "record_id",
        6.7,
        53.5,
        19.4,
        31,
    ),
    "cohen_smr_FT": (
        "cohen2006_skeletal_muscle_relaxants/SkeletalMuscleRelaxants.csv",
        "label_included",
        "record_id",
        16.2,
        17.8,
        44.4,
        60,
    ),
}
ANCHOR_MEAN_WSS = 46.6


def simulate_once(
    path: Path, label: str, id_column: str | None, seed: int, extra: list[str]
) -> tuple[pd.DataFrame, float]:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "order.csv"
        command = [
            sys.executable, "-m", "ohevidence", "screen", "simulate",
            "--data", str(path), "--label-column", label,
            "--prior-included", "1", "--prior-excluded", "1", "--seed", str(seed), "--out", str(out), *extra,
        ]  # fmt: skip
        if id_column:
            command[command.index("--out") : command.index("--out")] = ["--id-column", id_column]
        start = time.perf_counter()
        subprocess.run(command, check=True, cwd=ROOT, capture_output=True, text=True)
        seconds = time.perf_counter() - start
        return pd.read_csv(out, dtype={"record_id": str}), seconds


def rule_check(path: Path) -> dict[str, int]:
    """Final includes that an eligibility rule would remove, as configured and with every exclude rule on."""
    config = yaml.safe_load((ROOT / "config/config.yaml").read_text())
    entries = config.get("screening", {}).get("rules", [])
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    frame["record_id"] = [str(i) for i in range(len(frame))]
    for column in ("keywords", "mesh_terms", "publication_types", "journal", "language"):
        frame[column] = ""
    finals = frame["label_included"] == "1"
    as_configured = apply_rules(frame, compile_rules(entries))
    forced = apply_rules(
        frame,
        compile_rules([{**e, "action": "exclude"} if e.get("effect") == "exclude" else e for e in entries]),
    )
    return {
        "final_includes": int(finals.sum()),
        "lost_as_configured": int(((as_configured["excluded_by_rule"] != "") & finals.to_numpy()).sum()),
        "lost_if_every_exclude_rule_excluded": int(
            ((forced["excluded_by_rule"] != "") & finals.to_numpy()).sum()
        ),
        "records_removed_if_every_exclude_rule_excluded": int((forced["excluded_by_rule"] != "").sum()),
    }


def fmt(value: float) -> str:
    return "nan" if value is None or math.isnan(value) else f"{value:.1f}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tasks", default=",".join(TASKS))
    parser.add_argument("--seeds", default="1,2,3,4,5")
    parser.add_argument("--extra", default="", help="extra options passed to `screen simulate` (experiments)")
    args = parser.parse_args()
    if not SHARED.is_dir():
        print(f"skipped: {SHARED} not present")
        return 0
    seeds = [int(s) for s in args.seeds.split(",")]
    results: dict[str, dict] = {}
    header = (
        f"{'task':26} {'N':>5} {'R':>4}  {'WSS@95 (min-max)':>19} {'anchor':>6} {'diff':>5}  "
        f"{'RRF@10':>6} {'anchor':>6}  {'ATD':>5} {'anchor':>6}  {'s':>5} {'anchor':>6}"
    )
    print(header)
    print("-" * len(header))
    for task in args.tasks.split(","):
        file, label, id_column, a_wss, a_rrf, a_atd, a_sec = TASKS[task]
        path = SHARED / file
        if not path.exists():
            print(f"{task:26} skipped: {path} not present")
            continue
        runs = []
        for seed in seeds:
            order, seconds = simulate_once(path, label, id_column, seed, args.extra.split())
            labels = order["label"].to_numpy()
            runs.append(
                {
                    "seed": seed,
                    "wss95": wss(labels),
                    "rrf10": rrf(labels),
                    "atd": atd(labels),
                    "seconds": seconds,
                }
            )
        mean = {k: float(np.mean([r[k] for r in runs])) for k in ("wss95", "rrf10", "atd", "seconds")}
        n, relevant = len(order), int(order["label"].sum())
        results[task] = {
            "file": file,
            "label_column": label,
            "n": n,
            "relevant": relevant,
            "runs": runs,
            "mean": mean,
            "wss95_min": min(r["wss95"] for r in runs),
            "wss95_max": max(r["wss95"] for r in runs),
            "anchor_elas_u4": {"wss95": a_wss, "rrf10": a_rrf, "atd": a_atd, "seconds": a_sec},
            "wss95_minus_anchor": mean["wss95"] - a_wss,
        }
        if label in ("label_abstract_screening", "label_included") and "cohen2006" in file:
            results[task]["rule_check"] = rule_check(path)
        spread = f"{fmt(mean['wss95'])} ({fmt(results[task]['wss95_min'])}-{fmt(results[task]['wss95_max'])})"
        print(
            f"{task:26} {n:5d} {relevant:4d}  {spread:>19} {a_wss:6.1f} {mean['wss95'] - a_wss:+5.1f}  "
            f"{fmt(mean['rrf10']):>6} {a_rrf:6.1f}  {fmt(mean['atd']):>5} {a_atd:6.1f}  "
            f"{mean['seconds']:5.1f} {a_sec:6.0f}",
            flush=True,
        )
    if results:
        mean_wss = float(np.mean([r["mean"]["wss95"] for r in results.values()]))
        anchor = float(np.mean([r["anchor_elas_u4"]["wss95"] for r in results.values()]))
        worst = {t: r["wss95_minus_anchor"] for t, r in results.items() if r["relevant"] >= 20}
        summary = {
            "mean_wss95": mean_wss,
            "anchor_mean_wss95": anchor,
            "target_mean_met": mean_wss >= anchor + 2,
            "tasks_with_20_plus_relevant_more_than_1_point_below": [t for t, d in worst.items() if d < -1],
            "max_seconds_per_simulation": max(r["seconds"] for t in results.values() for r in t["runs"]),
            "final_includes_lost_to_rules_as_configured": sum(
                r.get("rule_check", {}).get("lost_as_configured", 0) for r in results.values()
            ),
            "retraining": "batched: at once after every include, otherwise after every "
            f"1 + {RankingSettings().growth} x (records screened) excludes",
            "model": "ohevidence.screen.ranking with these settings (described in config/README.md, Ranking)",
            "settings": dataclasses.asdict(RankingSettings()),
        }
        print("-" * len(header))
        print(
            f"mean WSS@95 over {len(results)} tasks: {mean_wss:.1f} (elas_u4 {anchor:.1f}; "
            f"target >= {anchor + 2:.1f}: {'met' if summary['target_mean_met'] else 'NOT met'}); "
            "tasks >= 20 relevant more than 1 point below: "
            f"{summary['tasks_with_20_plus_relevant_more_than_1_point_below'] or 'none'}; slowest run "
            f"{summary['max_seconds_per_simulation']:.1f} s"
        )
        for task, result in results.items():
            if "rule_check" in result:
                print(f"rules on {task}: {result['rule_check']}")
        OUT.parent.mkdir(parents=True, exist_ok=True)
        OUT.write_text(json.dumps({"summary": summary, "tasks": results}, indent=2) + "\n")
        print(f"-> {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
