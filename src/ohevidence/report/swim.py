"""Figures of the synthesis without meta-analysis (see :mod:`ohevidence.meta.swim`).

* Effect direction plot (Thomson & Thomas 2013): rows are studies grouped under the job role that
  delivered the comparison, columns are outcome domains; the arrow is the direction of the point
  estimate, as the vote count reads it: ▲ favours the intervention, ▼ favours the control, ◄► mixed
  (fewer than 70% of the outcomes agree) or no change; a separate mark (*) says the 95% CI excludes
  the null. Arrow size by sample size (large ≥ 300, medium 50–299, small < 50); the left column
  shows the study's overall risk of bias (RoB 2 colours; grey: not assessed).
* Albatross plot (Harrison et al. 2017): each outcome's two-sided p (from its estimate and SE) on a
  mirrored log scale (left favours control, right favours the intervention, p = 1 in the middle)
  against the number of participants behind the comparison (a split shared control contributes the
  arm's share only), with contours where a standardised mean difference of 0.1,
  0.25 and 0.5 would lie (N = 4z²/d² for two equal arms; for other measures a guide only).
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import matplotlib

matplotlib.use("Agg")
import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from scipy import stats

from ohevidence.meta.swim import BENEFIT, DOMAIN_ORDER, HARM, MIXED, NO_CLEAR, NONE, OutcomeDirection
from ohevidence.report.rob import COLOURS as ROB_COLOURS

SYMBOLS: dict[str, str] = {BENEFIT: "▲", HARM: "▼", NO_CLEAR: "◄►", MIXED: "◄►", NONE: "?"}
SYMBOL_COLOURS: dict[str, str] = {
    BENEFIT: "#1a7f37",
    HARM: "#b22222",
    NO_CLEAR: "#555555",
    MIXED: "#555555",
    NONE: "#999999",
}
SIZES: dict[str, float] = {"large": 15.0, "medium": 11.0, "small": 7.5, "unknown": 9.0}
ROB_LABELS = {
    "low": "low",
    "some_concerns": "some concerns",
    "high": "high",
    "no_information": "no information",
}


@dataclass(frozen=True)
class Cell:
    """One arrow of the effect direction plot."""

    row: int
    study_id: str
    job_role: str
    domain: str
    symbol: str
    size: str
    significant: bool = False  # the 95% CI excludes the null (a separate mark, not the arrow)


def symbol_of(direction: str, category: str) -> str:
    """The arrow: the direction of the point estimate (a zero estimate reads as no change)."""
    if direction == NONE and category == NO_CLEAR:
        return SYMBOLS[NO_CLEAR]
    return SYMBOLS[direction]


def effect_direction_layout(
    table: pd.DataFrame, role_labels: Mapping[str, str]
) -> tuple[list[tuple[str, str]], list[str], list[Cell]]:
    """(rows as (kind, text) with kind 'role' or a study id, domain columns, arrows) of the plot."""
    order = {d: i for i, d in enumerate(DOMAIN_ORDER)}
    domains = sorted(table["domain"].unique(), key=lambda d: order.get(d, len(order)))
    rows: list[tuple[str, str]] = []
    cells: list[Cell] = []
    for role, block in table.groupby("job_role", sort=False):
        rows.append(("role", role_labels.get(str(role), str(role))))
        for study_id, study_rows in block.groupby("study_id", sort=False):
            rows.append((str(study_id), str(study_rows["study"].iloc[0])))
            for item in study_rows.itertuples():
                cells.append(
                    Cell(
                        len(rows) - 1,
                        str(study_id),
                        str(role),
                        str(item.domain),
                        symbol_of(item.direction, item.category),
                        item.size,
                        item.category in (BENEFIT, HARM),
                    )
                )
    return rows, domains, cells


def draw_effect_direction(table: pd.DataFrame, role_labels: Mapping[str, str]) -> Figure:
    """The effect direction plot (module notes)."""
    rows, domains, cells = effect_direction_layout(table, role_labels)
    rob_of = dict(zip(table["study_id"], table["rob_overall"], strict=False))
    row_h, col_w, label_w = 0.27, 1.05, 3.4
    height = 0.9 + row_h * (len(rows) + 2) + 0.6
    width = label_w + 0.5 + col_w * len(domains) + 0.3
    fig = Figure(figsize=(width, height), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0, 0.6 / height, 1, 1 - 1.0 / height))
    ax.set_xlim(0, width)
    ax.set_ylim(len(rows) + 0.5, -1.2)
    ax.axis("off")
    rob_x = label_w + 0.25
    ax.text(rob_x, -0.6, "RoB", ha="center", va="center", fontsize=8, fontweight="bold")
    for j, domain in enumerate(domains):
        x = label_w + 0.5 + col_w * (j + 0.5)
        header = textwrap.fill(domain.replace("_", " "), 12)
        ax.text(x, -0.6, header, ha="center", va="center", fontsize=8, fontweight="bold")
    for i, (kind, text) in enumerate(rows):
        if kind == "role":
            ax.text(0.1, i, text, fontsize=8.5, fontweight="bold", va="center")
            ax.axhline(i - 0.5, color="#cccccc", linewidth=0.6)
            continue
        ax.text(0.3, i, text, fontsize=8, va="center")
        judgement = rob_of.get(kind, "not assessed")
        ax.scatter([rob_x], [i], s=55, color=ROB_COLOURS.get(judgement, "#d9d9d9"), edgecolor="#666666")
    for cell in cells:
        x = label_w + 0.5 + col_w * (domains.index(cell.domain) + 0.5)
        colour = next(c for k, c in SYMBOL_COLOURS.items() if SYMBOLS[k] == cell.symbol)
        ax.text(x, cell.row, cell.symbol, ha="center", va="center", fontsize=SIZES[cell.size], color=colour)
        if cell.significant:
            ax.text(x + 0.22, cell.row - 0.2, "*", ha="left", va="center", fontsize=9, color=colour)
    fig.text(
        0.01,
        0.3 / height,
        "▲ point estimate favours the intervention   ▼ favours the control   ◄► mixed (< 70% of outcomes "
        "or arms agree) or no change   ? no direction   * 95% CI excludes no effect\nArrow size: sample "
        "size ≥ 300 (large), 50–299, < 50 (small).  RoB: overall risk of bias (green low, yellow some "
        "concerns, red high, grey not assessed).",
        fontsize=6.5,
        va="center",
    )
    fig.text(
        0.01, 1 - 0.25 / height, "Effect direction by job role", fontsize=10, fontweight="bold", va="center"
    )
    return fig


# ---------------------------------------------------------------------------
# Albatross plot.
# ---------------------------------------------------------------------------
@dataclass(frozen=True)
class AlbatrossPoint:
    label: str
    job_role: str
    domain: str
    x: float  # signed -log10(p): > 0 favours the intervention
    n: float


def albatross_points(directions: Sequence[OutcomeDirection]) -> list[AlbatrossPoint]:
    """Outcomes with a two-sided p, a direction and a sample size."""
    points = []
    for d in directions:
        if d.p_value is None or d.n is None or d.direction == NONE:
            continue
        sign = 1.0 if d.direction == BENEFIT else -1.0
        x = sign * -math.log10(max(d.p_value, 1e-12))
        points.append(
            AlbatrossPoint(f"{d.study_id}:{d.outcome_id}", d.job_role or "not reported", d.domain, x, d.n)
        )
    return points


def smd_contour(d: float, sizes: np.ndarray) -> np.ndarray:
    """-log10 two-sided p of an SMD ``d`` in two equal arms of total size N (z = d·√N / 2)."""
    return -np.log10(2 * stats.norm.sf(d * np.sqrt(sizes) / 2))


def draw_albatross(points: Sequence[AlbatrossPoint], role_labels: Mapping[str, str]) -> Figure:
    """The albatross plot (module notes)."""
    fig = Figure(figsize=(8.0, 5.2), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0.1, 0.14, 0.6, 0.76))
    top = max([abs(p.x) for p in points] + [3.0]) * 1.1
    n_high = max([p.n for p in points] + [1000.0]) * 1.5
    sizes = np.geomspace(10, n_high, 200)
    for d in (0.1, 0.25, 0.5):
        x = smd_contour(d, sizes)
        for sign in (-1, 1):
            ax.plot(sign * x, sizes, color="#aaaaaa", linestyle="--", linewidth=0.7)
        inside = np.nonzero(x <= top)[0]
        if inside.size:
            k = inside[-1]
            ax.text(x[k], sizes[k], f"SMD {d:g}", fontsize=6, color="#777777", ha="left", va="bottom")
    roles = sorted({p.job_role for p in points})
    markers = dict(zip(DOMAIN_ORDER, "osD^v<>p", strict=True))
    palette = matplotlib.colormaps["tab10"]
    for i, role in enumerate(roles):
        for p in (p for p in points if p.job_role == role):
            ax.scatter(
                [p.x], [p.n], marker=markers.get(p.domain, "o"), color=palette(i % 10), s=40, edgecolor="k"
            )
    ax.axvline(0, color="black", linewidth=0.8)
    ax.set_yscale("log")
    ax.set_ylim(10, n_high)
    ax.set_xlim(-top, top)
    step = max(1, math.ceil(top / 6))
    ticks = list(range(step, int(top) + 1, step))
    positions = [-t for t in ticks[::-1]] + [0] + ticks
    ax.set_xticks(positions, [f"{10.0 ** -abs(t):g}" for t in positions], fontsize=7)
    ax.set_xlabel("two-sided p   (left: favours control   |   right: favours intervention)", fontsize=8)
    ax.set_ylabel("participants (n, log scale)", fontsize=8)
    ax.tick_params(axis="y", labelsize=7)
    ax.set_title("Albatross plot: p against sample size, by job role", fontsize=9)
    handles = [
        Line2D([], [], marker="o", linestyle="", color=palette(i % 10), label=role_labels.get(r, r))
        for i, r in enumerate(roles)
    ]
    domains = [d for d in DOMAIN_ORDER if any(p.domain == d for p in points)]
    handles += [
        Line2D(
            [],
            [],
            marker=markers[d],
            linestyle="",
            color="white",
            markeredgecolor="k",
            label=d.replace("_", " "),
        )
        for d in domains
    ]
    fig.legend(handles=handles, loc="center left", bbox_to_anchor=(0.72, 0.55), fontsize=7, frameon=False)
    fig.text(0.01, 0.02, "Dashed: where an SMD of 0.1, 0.25, 0.5 would lie (two equal arms; a guide for "
             "other measures).", fontsize=6.5)  # fmt: skip
    return fig
