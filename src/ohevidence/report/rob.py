"""RoB 2 plots in robvis conventions (McGuinness & Higgins 2020).

* Traffic-light plot: one row per study (and outcome), one circle per domain D1–D5 (and D1b when a
  cluster-randomised trial is assessed) and Overall, coloured low (green, +), some concerns (yellow,
  −), high (red, ×), no information (blue, ?).
* Summary plots: per domain, the proportion of assessments (``summary``: each counts once) and, when
  rob.csv gives weights (e.g. the study's meta-analysis weight), the proportion of weight
  (``summary_weighted``) at each judgement, as stacked horizontal bars. D1b counts cluster trials only.

Input: data/curated/rob.csv (columns in :data:`ohevidence.schema.ROB_COLUMNS`). When the file is absent
no plot is drawn and the report says none were recorded.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import Circle, Patch

from ohevidence.appraisal import load_rob2
from ohevidence.report.common import TextMeasurer
from ohevidence.schema import ROB_DOMAINS, ROB_JUDGEMENTS

COLOURS = {"low": "#02C100", "some_concerns": "#E2DF07", "high": "#BF0000", "no_information": "#4EA1F7"}
SYMBOLS = {"low": "+", "some_concerns": "−", "high": "×", "no_information": "?"}
LABELS = {
    "low": "Low risk",
    "some_concerns": "Some concerns",
    "high": "High risk",
    "no_information": "No information",
}


def read_rob(path: str | Path) -> pd.DataFrame:
    """rob.csv checked against its contract and the RoB 2 algorithm (one error naming file, line and
    column); an empty overall is derived."""
    return load_rob2(path)


def domain_keys(rob: pd.DataFrame) -> tuple[str, ...]:
    """Columns to plot: D1, D1b (only when a cluster trial is assessed), D2–D5, Overall."""
    cluster = bool((rob["variant"] == "cluster").any())
    return tuple(k for k in ROB_DOMAINS if k != "d1b" or cluster)


def header(key: str) -> str:
    return "Overall" if key == "overall" else key.upper().replace("B", "b")


def not_recorded_note(path: str | Path) -> str:
    return (
        f"No risk-of-bias judgements were recorded ({path} is absent): the evidence base gives no published "
        "RoB 2 judgements for the included studies, so no traffic-light or summary plot is drawn."
    )


def _row_labels(rob: pd.DataFrame) -> list[str]:
    return [f"{s}: {o}" if o else s for s, o in zip(rob["study_id"], rob["outcome_id"], strict=True)]


def traffic_light(rob: pd.DataFrame, *, fontsize: float = 8.0) -> Figure:
    """One row per assessment, one circle per domain; legend and domain key in their own bands below."""
    labels = _row_labels(rob)
    keys = domain_keys(rob)
    measure = TextMeasurer()
    label_w = max(measure.width(t, fontsize) for t in labels) + 0.2
    cell = max(0.36, measure.width("Overall", fontsize, "bold") + 0.1)  # a column fits its header
    n = len(rob)
    width = max(label_w + cell * len(keys) + 0.3, 5.2)
    domains = "; ".join(f"{header(k)}: {ROB_DOMAINS[k].split(': ', 1)[1]}" for k in keys if k != "overall")
    key_text = _wrap(domains, max(40, int(width / (fontsize * 0.55 / 72))))
    key_h = (key_text.count("\n") + 1) * (fontsize - 1.5) * 1.4 / 72
    legend_h = 2 * fontsize * 1.6 / 72 + 0.1
    grid_h = cell * (n + 1)
    height = 0.15 + grid_h + 0.15 + legend_h + 0.1 + key_h + 0.1
    fig = Figure(figsize=(width, height), dpi=100)
    FigureCanvasAgg(fig)
    bottom = (0.1 + key_h + 0.1 + legend_h + 0.15) / height
    ax = fig.add_axes((label_w / width, bottom, cell * len(keys) / width, grid_h / height))
    ax.set_xlim(-0.5, len(keys) - 0.5)
    ax.set_ylim(n - 0.5, -1.5)
    ax.axis("off")
    for j, key in enumerate(keys):
        ax.text(j, -1, header(key), ha="center", va="center", fontsize=fontsize, fontweight="bold")
    for i, (label, (_, row)) in enumerate(zip(labels, rob.iterrows(), strict=True)):
        ax.text(-0.6, i, label, ha="right", va="center", fontsize=fontsize)
        for j, key in enumerate(keys):
            judgement = row[key]
            if not judgement:  # D1b of a parallel trial
                continue
            ax.add_patch(
                Circle(
                    (j, i),
                    0.38,
                    facecolor=COLOURS[judgement],
                    edgecolor="black",
                    lw=0.5,
                    gid=f"rob-{judgement}",
                )
            )
            ax.text(
                j, i, SYMBOLS[judgement], ha="center", va="center", fontsize=fontsize + 1, fontweight="bold"
            )
    ax.set_aspect("equal")
    legend = [Patch(facecolor=COLOURS[j], edgecolor="black", label=LABELS[j]) for j in ROB_JUDGEMENTS]
    fig.legend(
        handles=legend,
        loc="upper center",
        bbox_to_anchor=(0.5, (0.1 + key_h + 0.1 + legend_h) / height),
        ncol=4,
        fontsize=fontsize,
        frameon=False,
    )
    fig.text(0.02, 0.1 / height, key_text, fontsize=fontsize - 1.5, va="bottom")
    return fig


def _wrap(text: str, width: int) -> str:
    import textwrap

    return "\n".join(textwrap.wrap(text, width))


def summary_proportions(rob: pd.DataFrame, *, weighted: bool = False) -> pd.DataFrame:
    """Per domain, the share (%) of assessments (or of ``weight``) at each judgement.

    Weighted, an assessment without a weight counts 0; D1b counts only cluster trials.
    """
    if weighted:
        weights = pd.to_numeric(rob["weight"].where(rob["weight"] != "", "0"))
    else:
        weights = pd.Series(1.0, index=rob.index)
    rows = []
    for key in domain_keys(rob):
        applies = rob[key] != ""
        total = float(weights[applies].sum())
        rows.append(
            {
                "domain": ROB_DOMAINS[key],
                **{
                    j: float(weights[rob[key] == j].sum()) / total * 100 if total else 0.0
                    for j in ROB_JUDGEMENTS
                },
            }
        )
    return pd.DataFrame(rows)


def is_weighted(rob: pd.DataFrame) -> bool:
    return bool((rob["weight"] != "").any())


def summary_plot(rob: pd.DataFrame, *, weighted: bool = False, fontsize: float = 8.0) -> Figure:
    shares = summary_proportions(rob, weighted=weighted)
    fig = Figure(figsize=(7.5, 2.6 + 0.25 * (len(shares) - 6)), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0.42, 0.3, 0.55, 0.62))
    y = list(range(len(shares)))[::-1]
    left = [0.0] * len(shares)
    for judgement in ROB_JUDGEMENTS:
        values = shares[judgement].tolist()
        ax.barh(
            y,
            values,
            left=left,
            color=COLOURS[judgement],
            edgecolor="black",
            lw=0.4,
            height=0.7,
            label=LABELS[judgement],
            gid=f"rob-summary-{judgement}",
        )
        left = [a + b for a, b in zip(left, values, strict=True)]
    ax.set_yticks(y, shares["domain"].tolist(), fontsize=fontsize)
    ax.set_xlim(0, 100)
    ax.set_xticks([0, 25, 50, 75, 100], ["0%", "25%", "50%", "75%", "100%"], fontsize=fontsize)
    ax.set_xlabel(
        "Proportion of information (weighted by the meta-analysis weight in rob.csv)"
        if weighted
        else "Proportion of assessments (unweighted: each assessment counts once)",
        fontsize=fontsize,
    )
    ax.legend(loc="upper center", bbox_to_anchor=(0.3, -0.28), ncol=4, fontsize=fontsize, frameon=False)
    return fig


def rob_figures(rob: pd.DataFrame) -> Sequence[tuple[str, Figure]]:
    """The traffic-light plot, the unweighted summary and, when weights are given, the weighted one."""
    figures = [("traffic_light", traffic_light(rob)), ("summary", summary_plot(rob))]
    if is_weighted(rob):
        figures.append(("summary_weighted", summary_plot(rob, weighted=True)))
    return figures
