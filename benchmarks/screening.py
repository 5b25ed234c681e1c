"""Screening benchmark: the ranking against ASReview LAB's default model (elas_u4) on labelled sets.

    .venv/bin/python benchmarks/screening.py [--tasks nudging_ferdinands2023,...] [--seeds 1,2,3,4,5]
        [--candidates default,switch,...] [--lodo-seeds 1,2,3] [--reuse]

Every setting tried for issue 16 (`--candidates all`: every entry of CANDIDATES; see
docs/benchmarks/screening.md):

    .venv/bin/python benchmarks/screening.py --candidates all

Tasks: the 20 of ../shared/benchmarks/screening/ANCHORS.md (13 labelled sets; the Cohen 2006 files give a
title/abstract task, TA, and a final-inclusion task, FT), each with its elas_u4 anchor.

Reads ../shared/benchmarks/screening/ beside the checkout (skips cleanly when absent). Each task runs
`ohevidence screen simulate` (a fresh process, so the seconds include start-up and features) with
1 random include and 1 random exclude as priors, for seeds 1-5, one run at a time (`--jobs 2`: two
at once, about twice as fast on two cores; their seconds then include waiting for the shared
memory bus and are not comparable with the anchor's). Metrics as
ANCHORS.md defines them (ranks count the priors): WSS@95, RRF@10, ATD, seconds. For the Cohen
sets it also checks that no final include (`label_included`) would be removed by an eligibility
rule: as configured (config/config.yaml) and with every exclude-type rule switched to
`action: exclude`. Table on stdout; JSON in results/benchmarks/screening.json.

Honest evaluation (issue 16): per task the mean, worst seed and spread (SD) over the seeds; over the
tasks the mean WSS@95, RRF@10 and ATD against elas_u4's, the WORST task and the worst single seed.
With more than one candidate setting (CANDIDATES), the setting scored on a dataset is chosen
leave-one-dataset-out: on the other datasets only (the Cohen TA and FT tasks share a file, so they
are held out together), by the best worst-case difference from elas_u4 over tasks with >= 20
relevant records, then the best mean difference; worst cases within one standard error of the best
one's are ties (`choose`). The strict rule, without ties, is reported beside it.

Stopping rule (ohevidence.screen.stopping): each simulated order is replayed record by record; the
benchmark reports where the rule first says it is safe to stop (records screened), the recall
actually reached there, and whether it fired before the last record.

Each simulation's order is saved under results/benchmarks/screening_runs/<candidate>/ (label and
seconds), with the settings that made it beside it (<task>_seed<n>.settings.json: the candidate's
options and the model's defaults); `--reuse` reads them instead of simulating again (to redo the
analysis), unless that record shows other settings (a default changed since): such an order is
simulated again, and `--saved-only` stops with an error naming it. Orders saved before stop 36 have
no such record; they are read, and the output says how many. A change in the code that leaves every
default as it was is not caught.

Targets (issues 5, 16 and 27): mean WSS@95 over the tasks >= elas_u4 + 2 points; never more than 1 point
below elas_u4 on a task with >= 20 relevant records, with the setting chosen leave one dataset out;
a ~2,500-record simulation < 60 s.
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from ohevidence.csvio import write_csv  # noqa: E402
from ohevidence.screen.evaluation import atd, rrf, wss  # noqa: E402
from ohevidence.screen.ranking import RankingSettings  # noqa: E402
from ohevidence.screen.rules import apply_rules, compile_rules  # noqa: E402
from ohevidence.screen.simulate import read_labelled  # noqa: E402
from ohevidence.screen.stopping import StoppingSettings, first_safe_stop  # noqa: E402

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
NAN = float("nan")  # the eleven later anchors were timed on a loaded machine: no comparable seconds
for _name, _file, _label, _wss, _rrf, _atd in (
    ("cohen_nsaids_TA", "cohen2006_nsaids/NSAIDS.csv", "label_abstract_screening", 30.3, 34.1, 21.9),
    ("cohen_nsaids_FT", "cohen2006_nsaids/NSAIDS.csv", "label_included", 72.6, 59.5, 11.3),
    ("cohen_triptans_TA", "cohen2006_triptans/Triptans.csv", "label_abstract_screening", 15.7, 25.4, 26.3),
    ("cohen_triptans_FT", "cohen2006_triptans/Triptans.csv", "label_included", 61.4, 54.2, 13.7),
    ("cohen_estrogens_TA", "cohen2006_estrogens/Estrogens.csv", "label_abstract_screening", 32.0, 24.5, 25.9),
    (
        "cohen_urinary_incontinence_TA",
        "cohen2006_urinary_incontinence/UrinaryIncontinence.csv",
        "label_abstract_screening",
        14.1,
        24.9,
        29.2,
    ),
    (
        "cohen_urinary_incontinence_FT",
        "cohen2006_urinary_incontinence/UrinaryIncontinence.csv",
        "label_included",
        45.3,
        43.5,
        17.6,
    ),
    (
        "cohen_antihistamines_TA",
        "cohen2006_antihistamines/Antihistamines.csv",
        "label_abstract_screening",
        17.1,
        17.2,
        33.4,
    ),
    (
        "cohen_antihistamines_FT",
        "cohen2006_antihistamines/Antihistamines.csv",
        "label_included",
        -1.5,
        40.0,
        22.9,
    ),
    (
        "cohen_oral_hypoglycemics_TA",
        "cohen2006_oral_hypoglycemics/OralHypoglycemics.csv",
        "label_abstract_screening",
        16.9,
        25.0,
        30.6,
    ),
):
    TASKS[_name] = (_file, _label, "record_id", _wss, _rrf, _atd, NAN)
# virus.csv: anchor seeds 1-3 (ANCHORS.md)
TASKS["virus_kwok2020"] = ("virus_kwok2020/virus.csv", "included", "id", 70.7, 75.1, 7.7, NAN)
ANCHOR_MEAN_WSS = 39.7  # elas_u4 over the 20 tasks (46.6 over the first nine)


# Candidate settings the benchmark can compare (extra `screen simulate` options). Whenever more than
# one is run, the setting for each dataset is chosen leave-one-dataset-out (see `lodo`).
# the model before issue 27: the default classifier alone outside a stall, records without features
# scored like any other
BEFORE_27 = ["--learner-choice", "none", "--featureless", "none", "--other-every", "0"]
# the learner choice of stops 32-33: whichever learner ranks the recent window better ranks alone
RECENT = ["--learner-choice", "recent", "--other-every", "0"]
CANDIDATES: dict[str, list[str]] = {
    # outside a stall, the default classifier or the include-weighted SVM, the first chosen as
    # "recent_choice" chooses and then kept until the other ranks the recent fifth better by DeLong's
    # test, with every 4th place given to the other; in a stall the ensemble of the character-weighted
    # view and that SVM; records without features not trained on, and listed first while their
    # estimated include rate beats the recent one, both rates shrunk by 3 pseudo-decisions (stop 35)
    "default": [],
    # stop 34's default: the rates of the records without features shrunk by 1 pseudo-decision
    "prior_1": ["--featureless-prior", "1"],
    # the same shrunk by 2 and by 5 pseudo-decisions (stop 35: how sensitive the choice of 3 is)
    "prior_2": ["--featureless-prior", "2"],
    "prior_5": ["--featureless-prior", "5"],
    # issue 27, stop 33's default: whichever learner separates the most recent fifth of the decisions
    # better (AUC) ranks alone; records without features not trained on, scored by the model
    "recent_choice": [*RECENT, "--featureless", "not_trained"],
    # issue 27: records without features trained on and scored like any other (the default of stop 32)
    "no_featureless": [*RECENT, "--featureless", "none"],
    # issue 27 (stop 33): the recent choice, with records without features placed by rate
    "featureless_rate": [*RECENT, "--featureless", "rate", "--featureless-prior", "1"],
    # issue 27: the model until issue 27
    "no_choice": BEFORE_27,
    # issue 27: the choice judged by 3-fold cross-validated AUC on all the decisions instead
    "cv_choice": ["--learner-choice", "cv", "--featureless", "none", "--other-every", "0"],
    # the stall settings of issue 16, on the default classifier alone
    "switch": [*BEFORE_27, "--stall-mode", "switch"],  # the character-weighted view alone
    "no_stall": [*BEFORE_27, "--stall-after", "0"],  # no stall handling at all
    # in a stall, average the percentile ranks of the default and the character-weighted views
    "stall_average": [*BEFORE_27, "--stall-mode", "average"],
    # the stall ensemble, firing earlier or later than the default (40 excludes and a quarter)
    "stall_early": [*BEFORE_27, "--stall-after", "20", "--stall-fraction", "0.15"],
    "stall_late": [*BEFORE_27, "--stall-after", "60", "--stall-fraction", "0.5"],
    # the ensemble ranks after any exclude: the default view only straight after an include
    "ensemble_always": [*BEFORE_27, "--stall-after", "1", "--stall-fraction", "0"],
    # issue 27: outside a stall, the mean percentile rank of the default classifier and the stall
    # ensemble's include-weighted SVM on words (ASReview LAB's learner); stall handling unchanged
    "svm_companion": [*BEFORE_27, "--companion", "svm"],
}
RUNS = ROOT / "results" / "benchmarks" / "screening_runs"


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


@functools.cache
def records_with_text(task: str) -> frozenset[str]:
    """Ids of the task's records with a title or abstract: the ones the ranking can read."""
    file, label, id_column, *_ = TASKS[task]
    ids, texts, _labels = read_labelled(SHARED / file, label, id_column)
    return frozenset(i for i, text in zip(ids, texts, strict=True) if text.strip())


def saved_order(candidate: str, task: str, seed: int) -> Path:
    """Where one simulation's order is saved (record id, label, seconds)."""
    return RUNS / candidate / f"{task}_seed{seed}.csv"


def run_settings(candidate: str, extra: list[str]) -> dict:
    """What made an order: the candidate, its `screen simulate` options and the model's defaults.

    Saved beside each order (:func:`settings_file`): a candidate is a set of options on top of the
    defaults, so when a default changes in the code, an order saved before is not that candidate's
    order any more.
    """
    settings: dict[str, object] = {
        "candidate": candidate,
        "options": [*CANDIDATES[candidate], *extra],
        "defaults": dataclasses.asdict(RankingSettings()),
    }
    return json.loads(json.dumps(settings))  # tuples as lists, as read back


def settings_file(order: Path) -> Path:
    return order.with_suffix(".settings.json")


def saved_with(candidate: str, task: str, seed: int, extra: list[str]) -> bool | None:
    """Whether the saved order was made with today's settings; None when it has no record of them
    (saved before stop 36) or does not exist."""
    order = saved_order(candidate, task, seed)
    recorded = settings_file(order)
    if not (order.exists() and recorded.exists()):
        return None
    return json.loads(recorded.read_text()) == run_settings(candidate, extra)


def reusable(candidate: str, task: str, seed: int, extra: list[str]) -> bool:
    """A saved order exists and no record says it was made with other settings."""
    return (
        saved_order(candidate, task, seed).exists() and saved_with(candidate, task, seed, extra) is not False
    )


def run_or_reuse(
    candidate: str, task: str, seed: int, extra: list[str], reuse: bool
) -> tuple[np.ndarray, float, np.ndarray | None]:
    """(labels in screening order, seconds, which of them have text) of one simulation.

    Saved under RUNS (record id, label, seconds) with the settings that made it, so analysis can be
    redone; an order saved with other settings is simulated again. Orders saved before issue 27 hold
    no record id, so which records had text is unknown (None).
    """
    file, label, id_column, *_ = TASKS[task]
    saved = saved_order(candidate, task, seed)
    if reuse and reusable(candidate, task, seed, extra):
        order = pd.read_csv(saved, dtype={"record_id": str})
        seconds = float(order["seconds"].iloc[0])
    else:
        order, seconds = simulate_once(
            SHARED / file, label, id_column, seed, [*CANDIDATES[candidate], *extra]
        )
        order = pd.DataFrame({"record_id": order["record_id"], "label": order["label"], "seconds": seconds})
        write_csv(order, saved)
        settings_file(saved).write_text(json.dumps(run_settings(candidate, extra), indent=1) + "\n")
    readable = None
    if "record_id" in order.columns:
        readable = order["record_id"].isin(records_with_text(task)).to_numpy()
    return order["label"].to_numpy(dtype=int), seconds, readable


def simulate_ahead(
    candidates: list[str],
    tasks: list[str],
    seeds: list[int],
    lodo_seeds: list[int],
    extra: list[str],
    reuse: bool,
    jobs: int,
) -> None:
    """Simulate (and save) every order the analysis will read, ``jobs`` at a time."""
    wanted = [
        (candidate, task, seed)
        for candidate in candidates
        for task in tasks
        if (SHARED / TASKS[task][0]).exists()
        for seed in (seeds if candidate == candidates[0] else lodo_seeds)
        if not (reuse and reusable(candidate, task, seed, extra))
    ]
    with ThreadPoolExecutor(max_workers=jobs) as pool:  # each simulation is its own process
        for future in [pool.submit(run_or_reuse, c, t, s, extra, False) for c, t, s in wanted]:
            future.result()


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


def run_metrics(
    labels: np.ndarray, seconds: float, seed: int, stopping: StoppingSettings, readable: np.ndarray | None
) -> dict:
    """WSS@95, RRF@10, ATD, seconds and where the stopping rule fired, for one simulated order.

    The rule is replayed as `screen run` applies it (ohevidence.screen.stage): on the records with
    a title or abstract, in screening order; records without text are ranked by chance, so the
    guidance tells reviewers to screen them by hand, and here they count as screened. When the order
    was saved without record ids (``readable`` None), every record is in the test.
    """
    n, relevant = len(labels), int(labels.sum())
    every = first_safe_stop(labels, stopping)
    text = np.ones(n, dtype=bool) if readable is None else readable
    stop = first_safe_stop(labels[text], stopping)
    found = int(labels[text][:stop].sum()) + int(labels[~text].sum()) if stop is not None else relevant
    screened = stop + int((~text).sum()) if stop is not None else n
    return {
        "seed": seed,
        "wss95": wss(labels),
        "rrf10": rrf(labels),
        "atd": atd(labels),
        "seconds": seconds,
        "stop_basis": "every record" if readable is None else "records with text; the rest by hand",
        "records_without_text": int((~text).sum()),
        "stop_fired": stop is not None,
        "stop_screened": screened,
        "stop_recall": found / relevant,
        "stop_work_saved": 100 * (n - screened) / n,
        # the rule with every record in the test, text or not (the replay before issue 27)
        "stop_every_record_fired": every is not None,
        "stop_every_record_recall": (int(labels[:every].sum()) if every is not None else relevant) / relevant,
    }


def task_summary(task: str, runs: list[dict], n: int, relevant: int, stopping: StoppingSettings) -> dict:
    file, label, _id, a_wss, a_rrf, a_atd, a_sec = TASKS[task]
    values = np.array([r["wss95"] for r in runs])
    mean = {k: float(np.mean([r[k] for r in runs])) for k in ("wss95", "rrf10", "atd", "seconds")}
    fired = [r for r in runs if r["stop_fired"]]
    return {
        "file": file,
        "label_column": label,
        "n": n,
        "relevant": relevant,
        "runs": runs,
        "mean": mean,
        "wss95_min": float(values.min()),  # the worst seed
        "wss95_max": float(values.max()),
        "wss95_sd": float(values.std(ddof=1)) if len(values) > 1 else 0.0,
        "anchor_elas_u4": {"wss95": a_wss, "rrf10": a_rrf, "atd": a_atd, "seconds": a_sec},
        "wss95_minus_anchor": mean["wss95"] - a_wss,
        "worst_seed_minus_anchor": float(values.min()) - a_wss,
        "stopping": {
            "runs_fired": len(fired),
            "runs": len(runs),
            "min_recall_when_fired": min((r["stop_recall"] for r in fired), default=None),
            "mean_recall_when_fired": float(np.mean([r["stop_recall"] for r in fired])) if fired else None,
            "mean_records_screened": float(np.mean([r["stop_screened"] for r in runs])),
            "mean_work_saved_percent": float(np.mean([r["stop_work_saved"] for r in runs])),
            "runs_below_target": sum(r["stop_recall"] < stopping.recall_target for r in fired),
        },
    }


def overall(tasks: dict[str, dict]) -> dict:
    """Mean and worst cases over the tasks of one setting."""
    diffs = {t: r["wss95_minus_anchor"] for t, r in tasks.items()}
    big = {t: d for t, d in diffs.items() if tasks[t]["relevant"] >= 20}
    seed_diffs = {
        (t, run["seed"]): run["wss95"] - r["anchor_elas_u4"]["wss95"]
        for t, r in tasks.items()
        for run in r["runs"]
    }
    worst_seed = min(seed_diffs, key=lambda key: seed_diffs[key])
    means = {
        f"{prefix}{metric}": float(np.mean([r[key][metric] for r in tasks.values()]))
        for prefix, key in (("mean_", "mean"), ("anchor_mean_", "anchor_elas_u4"))
        for metric in ("wss95", "rrf10", "atd")
    }
    return {
        **means,
        "n_tasks": len(tasks),
        "mean_diff": float(np.mean(list(diffs.values()))),
        "rrf10_mean_diff": means["mean_rrf10"] - means["anchor_mean_rrf10"],
        "atd_mean_diff": means["mean_atd"] - means["anchor_mean_atd"],  # lower is better
        "tasks_more_than_1_point_below": [t for t, d in diffs.items() if d < -1],
        "worst_task": min(diffs, key=lambda t: diffs[t]),
        "worst_task_diff": min(diffs.values()),
        "worst_task_20plus": min(big, key=lambda t: big[t]) if big else None,
        "worst_task_20plus_diff": min(big.values()) if big else None,
        "worst_seed": {"task": worst_seed[0], "seed": worst_seed[1], "diff": seed_diffs[worst_seed]},
        "tasks_with_20_plus_relevant_more_than_1_point_below": [t for t, d in big.items() if d < -1],
    }


def choice_key(tasks: dict[str, dict]) -> tuple[float, float]:
    """(worst difference from elas_u4 over tasks with >= 20 relevant, mean difference) on training tasks."""
    diffs = [r["wss95_minus_anchor"] for r in tasks.values()]
    big = [r["wss95_minus_anchor"] for r in tasks.values() if r["relevant"] >= 20] or diffs
    return (min(big), float(np.mean(diffs)))


def worst_task_se(tasks: dict[str, dict]) -> float:
    """Standard error of the seed mean on the worst task of ``choice_key`` (seed SD / sqrt(seeds))."""
    pool = {t: r for t, r in tasks.items() if r["relevant"] >= 20} or tasks
    worst = min(pool.values(), key=lambda r: r["wss95_minus_anchor"])
    return float(worst["wss95_sd"]) / math.sqrt(len(worst["runs"]))


def choose(by_candidate: dict[str, dict[str, dict]], rule: str = "one_se") -> str:
    """The candidate a set of training tasks picks.

    "strict": the best worst task (>= 20 relevant), then the best mean. "one_se" (the default since
    stop 36): candidates whose worst task is within one standard error of the best candidate's worst
    task are tied on it, and the best mean among them wins (the one-standard-error rule of model
    selection, Hastie, Tibshirani & Friedman, Elements of Statistical Learning, 2nd ed., section 7.10).
    On five or ten seeds a task's mean has a standard error of 0.5-3 points, so "strict" can turn on a
    difference of hundredths of a point on one task against a whole point on the mean of twenty.
    """
    keys = {c: choice_key(tasks) for c, tasks in by_candidate.items()}
    best = max(keys, key=lambda c: keys[c])
    if rule == "strict":
        return best
    if rule != "one_se":
        raise ValueError(f"unknown rule {rule!r} (expected one_se or strict)")
    floor = keys[best][0] - worst_task_se(by_candidate[best])
    tied = [c for c in by_candidate if keys[c][0] >= floor]
    return max(tied, key=lambda c: (keys[c][1], keys[c][0]))


def lodo(by_candidate: dict[str, dict[str, dict]], rule: str = "one_se") -> dict:
    """Leave one dataset (file) out: the setting for a held-out dataset is chosen on the others."""
    common = set.intersection(*(set(tasks) for tasks in by_candidate.values()))
    datasets = sorted({TASKS[t][0] for t in common})
    chosen: dict[str, dict] = {}
    for held_out in datasets:
        training = [t for t in common if TASKS[t][0] != held_out]
        if not training:
            continue
        pick = choose({c: {t: tasks[t] for t in training} for c, tasks in by_candidate.items()}, rule)
        for task in sorted(t for t in common if TASKS[t][0] == held_out):
            chosen[task] = {**by_candidate[pick][task], "chosen": pick}
    return {"rule": rule, "tasks": chosen, **(overall(chosen) if chosen else {})}


def print_table(name: str, tasks: dict[str, dict]) -> None:
    header = (
        f"{'task':26} {'N':>5} {'R':>4}  {'WSS@95 (worst-best)':>19} {'sd':>4} {'elas':>5} {'diff':>5}  "
        f"{'RRF':>5} {'elas':>5} {'ATD':>5} {'elas':>5} {'s':>5}  "
        f"{'stop fired':>10} {'screened':>8} {'saved%':>6} {'recall min':>10}"
    )
    print(f"== {name}")
    if not tasks:
        print("(no task scored)")
        return
    print(header)
    for task, r in tasks.items():
        stop = r["stopping"]
        spread = f"{fmt(r['mean']['wss95'])} ({fmt(r['wss95_min'])}-{fmt(r['wss95_max'])})"
        recall = (
            "-" if stop["min_recall_when_fired"] is None else f"{100 * stop['min_recall_when_fired']:.1f}"
        )
        print(
            f"{task:26} {r['n']:5d} {r['relevant']:4d}  {spread:>19} {r['wss95_sd']:4.1f} "
            f"{r['anchor_elas_u4']['wss95']:5.1f} {r['wss95_minus_anchor']:+5.1f}  "
            f"{fmt(r['mean']['rrf10']):>5} {fmt(r['anchor_elas_u4']['rrf10']):>5} {fmt(r['mean']['atd']):>5} "
            f"{fmt(r['anchor_elas_u4']['atd']):>5} {r['mean']['seconds']:5.1f}  "
            f"{stop['runs_fired']:>4}/{stop['runs']:<5} {stop['mean_records_screened']:8.0f} "
            f"{stop['mean_work_saved_percent']:6.1f} {recall:>10}"
            + (f"  [{r['chosen']}]" if "chosen" in r else ""),
            flush=True,
        )
    summary = overall(tasks)
    big = summary["worst_task_20plus"]
    print(
        f"mean {summary['mean_wss95']:.1f} (elas_u4 {summary['anchor_mean_wss95']:.1f}, diff "
        f"{summary['mean_diff']:+.1f}); worst task {summary['worst_task']} "
        f"{summary['worst_task_diff']:+.1f}; "
        + (
            f"worst with >= 20 relevant {big} {summary['worst_task_20plus_diff']:+.1f}; "
            if big
            else "no task with >= 20 relevant; "
        )
        + f"worst seed {summary['worst_seed']['task']} seed {summary['worst_seed']['seed']} "
        f"{summary['worst_seed']['diff']:+.1f}; RRF@10 {summary['mean_rrf10']:.1f} (elas_u4 "
        f"{summary['anchor_mean_rrf10']:.1f}); ATD {summary['mean_atd']:.1f} (elas_u4 "
        f"{summary['anchor_mean_atd']:.1f}, lower is better); more than 1 point below elas_u4: "
        f"{', '.join(summary['tasks_more_than_1_point_below']) or 'none'}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tasks", default=",".join(TASKS))
    parser.add_argument("--seeds", default="1,2,3,4,5")
    parser.add_argument(
        "--candidates", default="default", help=f"'all' or comma-separated, of: {', '.join(CANDIDATES)}"
    )
    parser.add_argument("--extra", default="", help="extra options passed to `screen simulate` (experiments)")
    parser.add_argument(
        "--lodo-seeds", default=None, help="seeds on which candidates are compared (default: --seeds)"
    )
    parser.add_argument("--reuse", action="store_true", help="read saved orders instead of simulating again")
    parser.add_argument(
        "--jobs", type=int, default=1, help="simulations run at once (default 1: seconds comparable)"
    )
    parser.add_argument(
        "--saved-only",
        action="store_true",
        help="analyse saved orders only, never simulate: a seed without one is left out (the table says so)",
    )
    args = parser.parse_args()
    if not SHARED.is_dir():
        print(f"skipped: {SHARED} not present")
        return 0
    seeds = [int(s) for s in args.seeds.split(",")]
    lodo_seeds = [int(s) for s in (args.lodo_seeds or args.seeds).split(",")]
    candidates = list(CANDIDATES) if args.candidates == "all" else args.candidates.split(",")
    unknown = [c for c in candidates if c not in CANDIDATES]
    if unknown:
        parser.error(f"--candidates: unknown {', '.join(unknown)} (known: {', '.join(CANDIDATES)})")
    stopping = StoppingSettings()
    load = {"start": os.getloadavg()}
    reuse = args.reuse or args.saved_only
    if args.jobs > 1 and not args.saved_only:
        simulate_ahead(
            candidates, args.tasks.split(","), seeds, lodo_seeds, args.extra.split(), reuse, args.jobs
        )
        reuse = True  # every order is saved now
    unrecorded = 0  # saved orders read without a record of their settings
    by_candidate: dict[str, dict[str, dict]] = {}
    lodo_runs: dict[str, dict[str, dict]] = {}  # every candidate on the LODO seeds
    for candidate in candidates:
        by_candidate[candidate], lodo_runs[candidate] = {}, {}
        for task in args.tasks.split(","):
            if not (SHARED / TASKS[task][0]).exists():
                print(f"{task:26} skipped: {SHARED / TASKS[task][0]} not present")
                continue
            runs = []
            for seed in seeds if candidate == candidates[0] else lodo_seeds:
                saved = saved_order(candidate, task, seed)
                if args.saved_only and not saved.exists():
                    continue
                made_with = saved_with(candidate, task, seed, args.extra.split())
                if args.saved_only and made_with is False:
                    parser.error(
                        f"{saved} was made with settings other than those of {candidate!r} now (see "
                        f"{settings_file(saved).name}); run without --saved-only to simulate it again"
                    )
                unrecorded += reuse and made_with is None and saved.exists()
                labels, seconds, readable = run_or_reuse(candidate, task, seed, args.extra.split(), reuse)
                runs.append(run_metrics(labels, seconds, seed, stopping, readable))
            if not runs:
                print(f"{task:26} {candidate}: no saved order for seeds {args.seeds} (--saved-only)")
                continue
            size = (len(labels), int(labels.sum()))
            by_candidate[candidate][task] = task_summary(task, runs, *size, stopping)
            lodo_only = [r for r in runs if r["seed"] in lodo_seeds]
            if lodo_only:
                lodo_runs[candidate][task] = task_summary(task, lodo_only, *size, stopping)
            if "cohen2006" in TASKS[task][0] and candidate == candidates[0]:
                by_candidate[candidate][task]["rule_check"] = rule_check(SHARED / TASKS[task][0])
    load["end"] = os.getloadavg()
    if unrecorded:
        print(
            f"note: {unrecorded} saved orders were read without a record of the settings that made them "
            "(saved before stop 36): each is what its candidate's name meant when it was saved"
        )
    if not any(by_candidate.values()):
        return 0
    for candidate, tasks in by_candidate.items():
        print_table(candidate, tasks)
    result: dict = {
        "candidates": {c: {"extra": CANDIDATES[c], **overall(t)} for c, t in lodo_runs.items()},
        "lodo_seeds": lodo_seeds,
        "saved_orders_without_settings": unrecorded,
        "jobs": args.jobs,
    }
    if len(candidates) > 1:
        if lodo_seeds != seeds:
            for candidate, tasks in lodo_runs.items():
                print_table(f"{candidate}, seeds {args.lodo_seeds}", tasks)
        result["lodo"] = lodo(lodo_runs)
        print_table("leave one dataset out (setting chosen on the other datasets)", result["lodo"]["tasks"])
        strict = result["lodo_strict"] = lodo(lodo_runs, "strict")
        if strict["tasks"]:  # none when only one dataset was scored
            picks = sorted({r["chosen"] for r in strict["tasks"].values()})
            big = strict["worst_task_20plus"]
            print(
                f"the same with the strict rule (best worst task, then best mean; {', '.join(picks)} "
                f"chosen): mean {strict['mean_diff']:+.1f}; "
                + (
                    f"worst with >= 20 relevant {big} {strict['worst_task_20plus_diff']:+.1f}"
                    if big
                    else "no task with >= 20 relevant"
                )
            )
    default = by_candidate[candidates[0]]
    fired = [run for r in default.values() for run in r["runs"] if run["stop_fired"]]
    runs = [run for r in default.values() for run in r["runs"]]
    result["stopping"] = {
        "method": "Callaghan & Mueller-Hansen 2020, ranked quasi-sampling (ohevidence.screen.stopping)",
        "recall_target": stopping.recall_target,
        "confidence": stopping.confidence,
        "runs": len(runs),
        "runs_fired_before_the_end": len(fired),
        "worst_recall_when_fired": min((run["stop_recall"] for run in fired), default=None),
        "runs_below_target": sum(run["stop_recall"] < stopping.recall_target for run in fired),
        "below_target": [
            {"task": t, "seed": run["seed"], "recall": run["stop_recall"], "screened": run["stop_screened"]}
            for t, r in default.items()
            for run in r["runs"]
            if run["stop_fired"] and run["stop_recall"] < stopping.recall_target
        ],
        "runs_on_records_with_text": sum(run["stop_basis"] != "every record" for run in runs),
        "every_record_in_the_test": {
            "runs_fired": sum(run["stop_every_record_fired"] for run in runs),
            "runs_below_target": sum(
                run["stop_every_record_fired"] and run["stop_every_record_recall"] < stopping.recall_target
                for run in runs
            ),
        },
        "mean_work_saved_percent": float(np.mean([run["stop_work_saved"] for run in runs])),
        "mean_work_saved_percent_when_fired": float(np.mean([run["stop_work_saved"] for run in fired]))
        if fired
        else None,
    }
    stop = result["stopping"]
    print(
        f"stopping rule ({candidates[0]}): fired before the end in {stop['runs_fired_before_the_end']}/"
        f"{stop['runs']} runs; worst recall when fired {100 * (stop['worst_recall_when_fired'] or 0):.1f}%; "
        f"runs below {stopping.recall_target:.0%}: {stop['runs_below_target']}"
        + "".join(
            f"\n  below target: {b['task']} seed {b['seed']} recall {100 * b['recall']:.1f}% "
            f"after {b['screened']} records"
            for b in stop["below_target"]
        )
        + f"\n  work saved when it fired: {stop['mean_work_saved_percent_when_fired'] or 0:.1f}% on average; "
        f"replayed on records with text (as screen run) in {stop['runs_on_records_with_text']} runs; "
        f"with every "
        f"record in the test: {stop['every_record_in_the_test']['runs_below_target']} runs below target"
    )
    sizes = [(r["n"], run["seconds"]) for r in default.values() for run in r["runs"]]
    result["summary"] = {
        **overall(default),
        "target_mean_met": overall(default)["mean_diff"] >= 2,
        "max_seconds_per_simulation": max(s for _, s in sizes),
        "max_seconds_2500_records": max((s for n, s in sizes if n >= 2500), default=None),
        "load_average_1_5_15_min": load,
        "final_includes_lost_to_rules_as_configured": sum(
            r.get("rule_check", {}).get("lost_as_configured", 0) for r in default.values()
        ),
        "retraining": "batched: at once after every include, otherwise after every "
        f"1 + {RankingSettings().growth} x (records screened) excludes",
        "model": "ohevidence.screen.ranking with these settings (docs/methods/screening.md, Ranking)",
        "settings": dataclasses.asdict(RankingSettings()),
    }
    print(
        f"slowest run {result['summary']['max_seconds_per_simulation']:.1f} s (load average {load}); "
        f"rules: {result['summary']['final_includes_lost_to_rules_as_configured']} final includes lost"
    )
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps({**result, "tasks": default}, indent=2) + "\n")
    print(f"-> {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
