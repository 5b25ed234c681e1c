"""Figures, tables and counts for the review's report (issue 8): they draw what the meta stage computed.

Results are read through the typed classes of :mod:`ohevidence.meta.result` (contract:
docs/contracts/meta_analysis_json.md); nothing here re-estimates a statistic.

* :mod:`~ohevidence.report.forest`: RevMan 5-layout forest plots by job role, from results/meta/<id>.json.
* :mod:`~ohevidence.report.funnel`: contour-enhanced funnel plots with Egger's test (k ≥ 10; the
  test from :mod:`ohevidence.meta.funnel`).
* :mod:`~ohevidence.report.sensitivity`: the sensitivity forest and meta-regression bubble plot.
* :mod:`~ohevidence.report.swim`: effect direction and albatross plots (SWiM from
  :mod:`ohevidence.meta.swim`).
* :mod:`~ohevidence.report.prisma`: PRISMA 2020 counts from the pipeline's own outputs, checked, and the
  flow diagram.
* :mod:`~ohevidence.report.rob`: RoB 2 traffic-light and summary plots (robvis conventions).
* :mod:`~ohevidence.report.tables`: characteristics, summary of findings, economic evidence, workforce
  strategies and the brief's trials.

Every figure is drawn with matplotlib's Agg backend and written as SVG, PNG and PDF.
"""

from __future__ import annotations

import matplotlib

from ohevidence.escape import draw_text_literally

matplotlib.use("Agg")
# Labels come from the curated tables and the config: '$x$' in one is four characters, not maths
# (every report module imports this package first, so every figure draws text this way).
draw_text_literally()
