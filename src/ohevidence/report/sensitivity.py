"""Plots of the sensitivity analyses (``results/meta/sensitivity/<id>.json``).

* Sensitivity forest: the main analysis, then one block per check (leave-one-out, fixed vs random,
  exclusions, crude vs adjusted, cluster adjustment, MH/Peto), each model as its estimate with CI
  (a diamond when pooled, a square for a single study), k and the numbers on the right, and the
  main estimate as a dashed line so a reader sees at once which omission moves it.
* Bubble plot of a meta-regression on job role or professional group: each study's effect at its
  level, bubble area proportional to its random-effects weight 1/(vi + τ²), the fitted level means
  as horizontal bars.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import matplotlib

matplotlib.use("Agg")
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import FixedFormatter, FixedLocator, NullLocator

from ohevidence.meta.result import ModelSummary, SensitivityResult
from ohevidence.report.common import format_number

CHECK_TITLES: dict[str, str] = {
    "leave_one_out": "Leave one out",
    "fixed_vs_random": "Fixed vs random effects",
    "exclude_flagged": "Excluding flagged rows",
    "exclude_high_rob": "Excluding high risk of bias",
    "crude_vs_adjusted": "Crude vs adjusted estimates",
    "cluster_adjustment": "Cluster adjustment",
    "mh_peto": "Mantel-Haenszel / Peto (2x2 counts)",
}


@dataclass(frozen=True)
class ForestRow:
    """One line of the sensitivity forest: a block header or a model."""

    kind: str  # header | main | model
    label: str
    k: int = 0
    estimate: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    pooled: bool = True


def _model_row(kind: str, label: str, fit: ModelSummary | None) -> ForestRow:
    if fit is None:
        return ForestRow(kind, label, 0)
    # the main row is drawn as a diamond whatever its k; a variant of one study as a square
    return ForestRow(kind, label, fit.k, fit.estimate, fit.ci_low, fit.ci_high, fit.pooled or kind == "main")


def forest_rows(report: SensitivityResult) -> list[ForestRow]:
    """The rows the sensitivity forest draws, top to bottom."""
    rows = [_model_row("main", report.main.label, report.main.fit)]
    current = None
    for variant in report.variants:
        if variant.check != current:
            current = variant.check
            rows.append(ForestRow("header", CHECK_TITLES.get(current, current)))
        rows.append(_model_row("model", variant.label, variant.fit))
    return rows


def _numbers(row: ForestRow) -> str:
    if row.kind == "header":
        return ""
    if row.estimate is None:
        return f"k = {row.k}: no estimate"
    return (
        f"k = {row.k}   {format_number(row.estimate)} "
        f"[{format_number(row.ci_low)}, {format_number(row.ci_high)}]"
    )


def draw_sensitivity(report: SensitivityResult) -> Figure:
    """The sensitivity forest of one analysis (see the module notes)."""
    rows = forest_rows(report)
    ratio = report.ratio
    height = 0.9 + 0.26 * len(rows)
    fig = Figure(figsize=(10.5, height), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0.42, 0.6 / height, 0.3, 1 - 0.9 / height))
    n = len(rows)
    ax.set_ylim(n - 0.5, -0.8)
    values = [v for r in rows for v in (r.ci_low, r.ci_high) if v is not None and (v > 0 or not ratio)]
    if ratio:
        ax.set_xscale("log")
    null = 1.0 if ratio else 0.0
    ax.axvline(null, color="black", linewidth=0.8)
    main = rows[0]
    if main.estimate is not None:
        ax.axvline(main.estimate, color="grey", linewidth=0.8, linestyle="--")
    for i, row in enumerate(rows):
        weight = "bold" if row.kind in {"header", "main"} else "normal"
        indent = 0.0 if row.kind != "model" else 0.02
        fig.text(0.01 + indent, _y(ax, fig, i), row.label, fontsize=8, fontweight=weight, va="center")
        fig.text(0.74, _y(ax, fig, i), _numbers(row), fontsize=8, fontweight=weight, va="center")
        if row.estimate is None or row.ci_low is None or row.ci_high is None:
            continue
        ax.plot([row.ci_low, row.ci_high], [i, i], color="black", linewidth=1)
        if row.pooled:
            ax.fill(
                [row.ci_low, row.estimate, row.ci_high, row.estimate],
                [i, i - 0.3, i, i + 0.3],
                color="black" if row.kind == "main" else "#4a4a4a",
            )
        else:
            ax.plot([row.estimate], [i], marker="s", color="#1f4e79", markersize=5)
    if values:
        low, high = min([*values, null]), max([*values, null])
        pad = (math.log(high / low) if ratio else high - low) * 0.05 or 0.1
        ax.set_xlim(low / math.exp(pad), high * math.exp(pad)) if ratio else ax.set_xlim(
            low - pad, high + pad
        )
    if ratio:
        plain_log_ticks(ax, "x")
    ax.set_yticks([])
    for side in ("left", "right", "top"):
        ax.spines[side].set_visible(False)
    ax.set_xlabel(f"{report.measure} ({'log scale' if ratio else 'natural scale'})", fontsize=8)
    ax.tick_params(labelsize=7)
    fig.text(
        0.01,
        1 - 0.25 / height,
        f"Sensitivity analyses: {report.analysis_id}",
        fontsize=10,
        fontweight="bold",
        va="center",
    )
    return fig


_NICE = (0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0)


def plain_log_ticks(ax: Any, axis: str = "x") -> list[float]:
    """Ticks at 0.5, 1, 2, ... (plain numbers, no 10^x) on a log axis; returns the ticks set."""
    low, high = ax.get_xlim() if axis == "x" else ax.get_ylim()
    ticks = [t for t in _NICE if low <= t <= high] or [1.0]
    target = ax.xaxis if axis == "x" else ax.yaxis
    target.set_major_locator(FixedLocator(ticks))
    target.set_major_formatter(FixedFormatter([f"{t:g}" for t in ticks]))
    target.set_minor_locator(NullLocator())
    return ticks


def _y(ax: Any, fig: Figure, row: int) -> float:
    """Figure y coordinate of data row ``row`` of ``ax``."""
    display = ax.transData.transform((1.0 if ax.get_xscale() == "log" else 0.0, row))
    return float(fig.transFigure.inverted().transform(display)[1])


# ---------------------------------------------------------------------------
# Meta-regression bubble plot.
# ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Bubble:
    label: str
    level: str
    yi: float
    weight: float


def bubble_data(report: SensitivityResult) -> tuple[list[str], list[Bubble], dict[str, float]] | None:
    """(levels in plotting order, one bubble per study, fitted value per level) of the first moderator."""
    regression = report.meta_regression
    if not regression:
        return None
    moderator = regression.mods[0]
    reference = regression.reference[moderator]
    coef = {c["term"]: c["estimate"] for c in regression.coefficients}
    levels = [reference, *sorted({s.levels[moderator] for s in regression.studies} - {reference})]
    fitted = {level: coef["intercept"] + coef.get(f"{moderator}={level}", 0.0) for level in levels}
    bubbles = [Bubble(s.label, s.levels[moderator], s.yi, s.weight) for s in regression.studies]
    return levels, bubbles, fitted


def draw_bubble(report: SensitivityResult) -> Figure | None:
    """The meta-regression bubble plot, or None when no meta-regression was fitted."""
    data = bubble_data(report)
    regression = report.meta_regression
    if data is None or regression is None:
        return None
    levels, bubbles, fitted = data
    ratio = report.ratio
    fig = Figure(figsize=(max(5.5, 1.6 * len(levels) + 1.5), 4.2), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0.12, 0.25, 0.84, 0.62))
    top = max(b.weight for b in bubbles)
    back = math.exp if ratio else (lambda v: v)
    for bubble in bubbles:
        x = levels.index(bubble.level)
        ax.scatter(
            [x],
            [back(bubble.yi)],
            s=40 + 600 * bubble.weight / top,
            alpha=0.5,
            color="#1f4e79",
            edgecolor="k",
        )
        ax.annotate(
            bubble.label.split(":")[0],
            (x, back(bubble.yi)),
            fontsize=6,
            xytext=(6, 4),
            textcoords="offset points",
        )
    for x, level in enumerate(levels):
        ax.plot([x - 0.3, x + 0.3], [back(fitted[level])] * 2, color="#b22222", linewidth=2)
    if ratio:
        ax.set_yscale("log")
        plain_log_ticks(ax, "y")
    ax.axhline(1.0 if ratio else 0.0, color="black", linewidth=0.8)
    ax.set_xticks(range(len(levels)), [level.replace("; ", ";\n") for level in levels], fontsize=7)
    ax.set_xlim(-0.6, len(levels) - 0.4)
    ax.set_ylabel(f"{report.measure}" + (" (log scale)" if ratio else ""), fontsize=8)
    ax.tick_params(axis="y", labelsize=7)
    moderator = regression.mods[0].replace("_", " ")
    ax.set_title(
        f"Meta-regression on {moderator}: {report.analysis_id}\n"
        f"QM = {regression.qm:.2f} (df {regression.qm_df}), p = {regression.qm_p:.3f}; "
        f"residual τ² = {regression.tau2:.3f}; k = {regression.k}",
        fontsize=8,
    )
    fig.text(
        0.01,
        0.02,
        "Bubble area ∝ random-effects weight 1/(vi + τ²); red bars: fitted value per level.",
        fontsize=6.5,
    )
    return fig
