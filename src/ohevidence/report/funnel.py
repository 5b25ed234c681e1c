"""Contour-enhanced funnel plots (Peters et al. 2008) with Egger's regression test.

Effects against their standard error (SE axis inverted: large studies at the top). Shaded contours
mark where a study's two-sided P against the null would be 0.10–0.05, 0.05–0.01 and < 0.01, so a
reader can tell asymmetry from publication bias (missing studies in the non-significant area) from
asymmetry for other reasons. Dashed lines: the pseudo-95% confidence region around the pooled
estimate. Egger's test is computed in the meta stage (:func:`ohevidence.meta.funnel.small_study_test`
on the analysis' own yi, vi); this module draws.

With fewer than ``min_k`` (10, Cochrane Handbook 13.3.5.4) studies the tests have too little power
to tell chance from asymmetry: no plot is drawn and the note says so.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import matplotlib

matplotlib.use("Agg")
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from scipy import stats

from ohevidence.meta.contract import to_dict
from ohevidence.meta.funnel import MIN_K, EggerSummary, small_study_test
from ohevidence.meta.result import AnalysisResult
from ohevidence.report.common import format_p
from ohevidence.report.forest import MEASURE_NAMES

CONTOURS: tuple[tuple[float, float, str], ...] = (  # (p from, p to, grey) from the null outwards
    (0.10, 0.05, "#e6e6e6"),
    (0.05, 0.01, "#bdbdbd"),
    (0.01, 0.0, "#8c8c8c"),
)


@dataclass(frozen=True)
class FunnelResult:
    """results/figures/funnel/<id>/funnel.json: whether a plot was drawn, the note, Egger's test."""

    analysis_id: str
    k: int
    drawn: bool
    note: str
    egger: EggerSummary | None = None

    def to_dict(self) -> dict[str, Any]:
        result: dict[str, Any] = to_dict(self)
        return result


def funnel(
    meta: AnalysisResult, *, min_k: int = MIN_K, fontsize: float = 8.0
) -> tuple[Figure | None, FunnelResult]:
    """The funnel figure (None below ``min_k``) and Egger's test / the note."""
    k = len(meta.studies)
    analysis_id = meta.analysis_id
    test = small_study_test(meta, min_k=min_k)
    if test is None:
        note = (
            f"Funnel plot not drawn for {analysis_id}: k = {k} studies, fewer than {min_k}. With so few "
            "studies funnel asymmetry and Egger's test cannot tell small-study effects from chance "
            "(Cochrane Handbook 13.3.5.4)."
        )
        return None, FunnelResult(analysis_id, k, False, note)
    ratio = meta.ratio
    yi = np.array([s.yi for s in meta.studies])
    se = np.array([s.se for s in meta.studies])
    note = f"Egger's test: t = {test.t:.2f}, df = {test.df}, {format_p(test.p)} (k = {k})."
    if meta.overall is None or meta.overall.estimate is None:
        raise ValueError(f"{analysis_id}: no pooled estimate to centre the funnel on")
    pooled = meta.overall.estimate  # analysis scale (log for ratios)

    fig = Figure(figsize=(4.6, 4.0), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    se_max = float(se.max()) * 1.1
    grid = np.linspace(0, se_max, 50)
    span = max(float(np.abs(yi).max()), 1.96 * se_max, abs(pooled) + 1.96 * se_max) * 1.08
    ax.fill_between([-span, span], 0, se_max, color="white", zorder=0)
    for p_from, p_to, grey in CONTOURS:
        z_in = stats.norm.ppf(1 - p_from / 2)
        z_out = stats.norm.ppf(1 - p_to / 2) if p_to > 0 else None
        for sign in (-1, 1):
            inner = sign * z_in * grid
            outer = sign * z_out * grid if z_out is not None else np.full_like(grid, sign * span)
            ax.fill_betweenx(grid, inner, outer, color=grey, lw=0, zorder=1, label=None)
    ax.plot(pooled - 1.96 * grid, grid, ls="--", color="black", lw=0.7, zorder=2)
    ax.plot(pooled + 1.96 * grid, grid, ls="--", color="black", lw=0.7, zorder=2)
    ax.axvline(pooled, color="black", lw=0.8, zorder=2)
    ax.scatter(yi, se, s=16, color="#1f3f9f", edgecolor="white", linewidths=0.4, zorder=3, gid="funnel-study")
    ax.set_ylim(se_max, 0)
    ax.set_xlim(-span, span)
    ax.set_ylabel("Standard error", fontsize=fontsize)
    name = MEASURE_NAMES.get(meta.measure, meta.measure)
    if ratio:
        ticks = [t for t in (0.1, 0.2, 0.5, 1, 2, 5, 10) if abs(math.log(t)) <= span]
        ax.set_xticks([math.log(t) for t in ticks], [f"{t:g}" for t in ticks])
        ax.set_xlabel(f"{name} (log scale)", fontsize=fontsize)
    else:
        ax.set_xlabel(name, fontsize=fontsize)
    ax.tick_params(labelsize=fontsize)
    from matplotlib.patches import Patch

    handles = [Patch(facecolor="white", edgecolor="grey", label="p > 0.10")] + [
        Patch(facecolor=grey, label=f"{p_to:g} < p < {p_from:g}" if p_to else f"p < {p_from:g}")
        for p_from, p_to, grey in CONTOURS
    ]
    ax.legend(handles=handles, fontsize=fontsize - 1, loc="lower left", frameon=True)
    ax.set_title(f"{analysis_id}\n{note}", fontsize=fontsize)
    return fig, FunnelResult(analysis_id, k, True, note, test)
