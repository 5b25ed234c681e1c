"""PRISMA 2020 flow-diagram counts from the pipeline's own outputs, checked, and the diagram.

Where each number comes from:

* identified: ``n_retrieved`` of every search in results/search/search_log.csv, per search;
* duplicates: records of results/dedup/clusters.csv not kept (``kept = no``);
* excluded by automation tools, screened, excluded at title/abstract, awaiting a title/abstract
  decision, reports sought, assessed, excluded with reasons, awaiting a full-text decision, included:
  results/screening/prisma_counts.json (built from the decision file);
* not retrieved: full-text exclusions whose reason code is listed in ``report.prisma.not_retrieved_reasons``
  (a report that could not be obtained is not assessed, PRISMA counts it apart);
* studies included: the included reports grouped into studies by the extraction stage (curated study
  by identifier, else the deduplication's study link, else the report is its own study):
  results/extraction/included_studies.csv, plus any study the review team declared in config
  (``synthesis.include_without_screened_report``), counted apart;
* studies in meta-analyses: distinct studies pooled in any results/meta/<id>.json, each of which
  must be an included study (a pooled study that screening did not include stops the rule).

All searches sit in PRISMA's "databases and registers" branch because one screening covers them all;
hand searching is named as such in the per-search counts. Counts that do not add up stop the rule with
every failed equation listed (:class:`PrismaCountError`): a wrong diagram is never drawn.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

from ohevidence.errors import InputError, OhevidenceError
from ohevidence.extract.included import BY_SCREENING
from ohevidence.meta.result import AnalysisResult
from ohevidence.report.common import TextMeasurer, read_csv_rows, read_json
from ohevidence.schema import INCLUDED_REVIEW_COLUMNS, INCLUDED_STUDY_COLUMNS, PRISMA_COUNT_COLUMNS
from ohevidence.tableio import read_table, write_table

# The diagram names each search by its source, in words (the search log keeps the ids).
SOURCE_NAMES: dict[str, str] = {
    "pubmed": "PubMed",
    "nihr": "NIHR Journals Library",
    "handsearch": "Hand search",
}


class PrismaCountError(OhevidenceError):
    """The pipeline's counts do not reconcile: no diagram is drawn."""


@dataclass
class PrismaCounts:
    searches: list[tuple[str, str, int]]  # (search_id, source / platform label, n_retrieved)
    duplicates: int
    excluded_automatic: int
    excluded_other: int
    records_screened: int
    records_excluded: int
    records_awaiting: dict[str, int]
    reports_sought: int
    reports_not_retrieved: int
    reports_assessed: int
    reports_excluded: dict[str, int]  # reason code -> n
    reports_awaiting: dict[str, int]
    new_reports: int
    new_studies: int
    studies_in_meta: int
    # cross-checks: the same quantity as other files count it
    records_in_file: int = -1  # rows of records.csv / clusters.csv
    unique_records_in_screening: int = -1
    included_reports_in_file: int = -1
    reason_labels: dict[str, str] = field(default_factory=dict)
    # studies the review team declared in config (no screened report): counted in the total
    declared_studies: int = 0
    # pooled studies that are not among the included studies (must be none)
    pooled_not_included: list[str] = field(default_factory=list)
    # reports that included_studies.csv assigns to a study (with review_reports: must equal reports included)
    reports_in_studies: int = -1
    # reviews included at the review level (included_reviews.csv), counted apart from studies
    reviews_included: int = 0
    review_reports: int = 0

    @property
    def total_studies(self) -> int:
        return self.new_studies + self.declared_studies

    @property
    def study_reports(self) -> int:
        """Reports included at full text that report primary studies (not reviews)."""
        return self.new_reports - self.review_reports

    @property
    def identified(self) -> int:
        return sum(n for _, _, n in self.searches)

    @property
    def excluded_total(self) -> int:
        return sum(self.reports_excluded.values())

    def problems(self) -> list[str]:
        """Every equation the counts break (empty when they reconcile)."""
        out: list[str] = []

        def check(label: str, left: int, right: int) -> None:
            if left != right:
                out.append(f"{label}: {left} != {right}")

        for name, value in self.__dict__.items():
            if isinstance(value, int) and value < -1:
                out.append(f"{name} is negative ({value})")
        if self.records_in_file >= 0:
            check(
                "records identified (search log) = records in clusters.csv",
                self.identified,
                self.records_in_file,
            )
        after_dedup = self.identified - self.duplicates
        if self.unique_records_in_screening >= 0:
            check(
                "identified - duplicates = records entering screening",
                after_dedup,
                self.unique_records_in_screening,
            )
        check(
            "identified - duplicates - automation - other removals = screened",
            after_dedup - self.excluded_automatic - self.excluded_other,
            self.records_screened,
        )
        check(
            "screened - excluded - awaiting title/abstract decision = reports sought",
            self.records_screened - self.records_excluded - sum(self.records_awaiting.values()),
            self.reports_sought,
        )
        check(
            "sought - not retrieved - awaiting full-text decision = assessed",
            self.reports_sought - self.reports_not_retrieved - sum(self.reports_awaiting.values()),
            self.reports_assessed,
        )
        check(
            "assessed - excluded = reports included",
            self.reports_assessed - self.excluded_total,
            self.new_reports,
        )
        if self.included_reports_in_file >= 0:
            check(
                "reports included = included reports in included.csv",
                self.new_reports,
                self.included_reports_in_file,
            )
        if self.reports_in_studies >= 0:
            check(
                "reports included = reports grouped into included studies (included_studies.csv) "
                "+ reports of included reviews (included_reviews.csv)",
                self.new_reports,
                self.reports_in_studies + self.review_reports,
            )
        if self.new_studies > self.study_reports:
            out.append(f"studies included ({self.new_studies}) > reports of studies ({self.study_reports})")
        if self.reviews_included > self.review_reports:
            out.append(
                f"reviews included ({self.reviews_included}) > reports of reviews ({self.review_reports})"
            )
        if self.study_reports and not self.new_studies:
            out.append("reports included but no study")
        if self.studies_in_meta > self.total_studies:
            out.append(
                f"studies in meta-analyses ({self.studies_in_meta}) > studies included ({self.total_studies})"
            )
        if self.pooled_not_included:
            out.append(
                "studies pooled in a meta-analysis but not included in the review: "
                + ", ".join(self.pooled_not_included)
            )
        return out

    def check(self, where: str = "PRISMA counts") -> None:
        problems = self.problems()
        if problems:
            raise PrismaCountError(
                f"{where} do not reconcile, no diagram drawn: "
                + "; ".join(problems)
                + ". Re-run the stage that wrote the inconsistent file (search, dedupe, screening)."
            )

    def reason_text(self, code: str) -> str:
        return self.reason_labels.get(code) or code.replace("_", " ")

    def rows(self) -> list[dict[str, str]]:
        """PRISMA2020 (R package / Shiny app) keys, then this pipeline's extra counts (prefixed)."""

        def row(key: str, n: object, description: str, source: str) -> dict[str, str]:
            return {"data": key, "n": str(n), "description": description, "source": source}

        per_search = "; ".join(f"{label}, {n}" for _, label, n in self.searches)
        excluded = "; ".join(f"{self.reason_text(c)}, {n}" for c, n in self.reports_excluded.items() if n)
        log, screen = "results/search/search_log.csv", "results/screening/prisma_counts.json"
        return [
            row("database_results", self.identified, "Records identified from databases and registers", log),
            row("database_specific_results", per_search, "Records per search ('Search, n; ...')", log),
            row("register_results", 0, "Records from registers (counted with the searches above)", log),
            row("website_results", 0, "Other methods: websites (not a separate branch here)", log),
            row("organisation_results", 0, "Other methods: organisations", log),
            row("citations_results", 0, "Other methods: citation searching", log),
            row("duplicates", self.duplicates, "Duplicate records removed", "results/dedup/clusters.csv"),
            row(
                "excluded_automatic",
                self.excluded_automatic,
                "Records marked ineligible by automation tools",
                screen,
            ),
            row("excluded_other", self.excluded_other, "Records removed for other reasons", screen),
            row("records_screened", self.records_screened, "Records screened (title/abstract)", screen),
            row("records_excluded", self.records_excluded, "Records excluded at title/abstract", screen),
            row("dbr_sought_reports", self.reports_sought, "Reports sought for retrieval", screen),
            row("dbr_notretrieved_reports", self.reports_not_retrieved, "Reports not retrieved", screen),
            row("dbr_assessed", self.reports_assessed, "Reports assessed for eligibility", screen),
            row("dbr_excluded", excluded, "Reports excluded, with reasons ('Reason, n; ...')", screen),
            row("other_sought_reports", 0, "Other methods: reports sought", screen),
            row("other_notretrieved_reports", 0, "Other methods: reports not retrieved", screen),
            row("other_assessed", 0, "Other methods: reports assessed", screen),
            row("other_excluded", "", "Other methods: reports excluded", screen),
            row(
                "new_studies",
                self.new_studies,
                "New studies included in review",
                "results/extraction/included_studies.csv",
            ),
            row(
                "new_reports",
                self.study_reports,
                "Reports of new included studies (reports of included reviews counted apart)",
                "results/extraction/included_reports.csv",
            ),
            row(
                "total_studies",
                self.total_studies,
                "Total studies included in review (screened, plus any added by the review team)",
                "results/extraction/included_studies.csv",
            ),
            row(
                "total_reports",
                self.study_reports,
                "Reports of total included studies",
                "results/extraction/included_reports.csv",
            ),
            row("previous_studies", 0, "Studies in a previous version of the review", "(none)"),
            row("previous_reports", 0, "Reports in a previous version of the review", "(none)"),
            row(
                "ohevidence_records_awaiting_title_abstract",
                sum(self.records_awaiting.values()),
                "Records awaiting a title/abstract decision: " + _parts(self.records_awaiting),
                screen,
            ),
            row(
                "ohevidence_reports_awaiting_full_text",
                sum(self.reports_awaiting.values()),
                "Reports awaiting a full-text decision: " + _parts(self.reports_awaiting),
                screen,
            ),
            row(
                "ohevidence_reviews_included",
                self.reviews_included,
                "Systematic reviews included at the review level (reported apart, never pooled)",
                "results/extraction/included_reviews.csv",
            ),
            row(
                "ohevidence_review_reports_included",
                self.review_reports,
                "Reports of included reviews",
                "results/extraction/included_reviews.csv",
            ),
            row(
                "ohevidence_studies_added_by_review_team",
                self.declared_studies,
                "Studies included without a screened report, declared by the review team (with reasons)",
                "results/extraction/included_studies.csv",
            ),
            row(
                "ohevidence_studies_in_meta_analyses",
                self.studies_in_meta,
                "Studies in at least one meta-analysis",
                "results/meta/*.json",
            ),
        ]


def _parts(counts: Mapping[str, int]) -> str:
    text = ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in counts.items() if v)
    return text or "none"


def _int(path: str | Path, data: Mapping[str, Any], key: str) -> int:
    value = data.get(key)
    if isinstance(value, bool) or not isinstance(value, int):
        raise InputError(path, f"{key!r} is {value!r}", column=key, expected="a whole number")
    return value


def _int_map(path: str | Path, data: Mapping[str, Any], key: str) -> dict[str, int]:
    value = data.get(key) or {}
    if not isinstance(value, dict) or not all(isinstance(v, int) for v in value.values()):
        raise InputError(path, f"{key!r} is {value!r}", column=key, expected="an object of whole numbers")
    return {str(k): int(v) for k, v in value.items()}


def studies_in_meta(meta_files: Iterable[str | Path]) -> set[str]:
    """Distinct study ids pooled in any of the analyses' JSON files."""
    pooled: set[str] = set()
    for path in meta_files:
        pooled.update(s.study_id for s in AnalysisResult.read(path).studies)
    return pooled


def compute_counts(
    *,
    search_log: str | Path,
    clusters: str | Path,
    screening_counts: str | Path,
    included: str | Path,
    included_studies: str | Path,
    meta_files: Sequence[str | Path],
    not_retrieved_reasons: Sequence[str] = (),
    reason_labels: Mapping[str, str] | None = None,
    included_reviews: str | Path | None = None,
) -> PrismaCounts:
    """Counts from the files (not yet checked: :meth:`PrismaCounts.check`)."""
    searches = []
    for line, row in enumerate(read_csv_rows(search_log), start=2):
        n = row.get("n_retrieved", "")
        if not n.isdigit():
            raise InputError(
                search_log, f"n_retrieved {n!r}", line=line, column="n_retrieved", expected="a whole number"
            )
        source = row.get("source", "")
        searches.append((row["search_id"], SOURCE_NAMES.get(source, source or row["search_id"]), int(n)))
    # a source searched more than once is told apart by its search id (PRISMA-S: each search reported)
    repeated = {label for _, label, _ in searches if sum(lab == label for _, lab, _ in searches) > 1}
    searches = [(sid, f"{label} ({sid})" if label in repeated else label, n) for sid, label, n in searches]
    cluster_rows = read_csv_rows(clusters)
    screen = read_json(screening_counts)
    included_rows = read_csv_rows(included)
    excluded = _int_map(screening_counts, screen, "reports_excluded")
    not_retrieved = sum(excluded.pop(code, 0) for code in not_retrieved_reasons)
    chosen = read_table(included_studies, INCLUDED_STUDY_COLUMNS)
    screened = chosen[chosen["included_by"] == BY_SCREENING]
    declared = chosen[chosen["included_by"] != BY_SCREENING]
    pooled = studies_in_meta(meta_files)
    reviews = read_table(included_reviews, INCLUDED_REVIEW_COLUMNS) if included_reviews else None
    return PrismaCounts(
        searches=searches,
        duplicates=sum(1 for r in cluster_rows if r.get("kept") == "no"),
        excluded_automatic=_int(screening_counts, screen, "records_excluded_by_automation_tools"),
        excluded_other=0,
        records_screened=_int(screening_counts, screen, "records_screened"),
        records_excluded=_int(screening_counts, screen, "records_excluded"),
        records_awaiting=_int_map(screening_counts, screen, "records_awaiting_title_abstract"),
        reports_sought=_int(screening_counts, screen, "reports_sought_for_retrieval"),
        reports_not_retrieved=not_retrieved,
        reports_assessed=_int(screening_counts, screen, "reports_assessed_for_eligibility") - not_retrieved,
        reports_excluded=excluded,
        reports_awaiting=_int_map(screening_counts, screen, "reports_awaiting_full_text"),
        new_reports=_int(screening_counts, screen, "reports_included"),
        new_studies=len(screened),
        studies_in_meta=len(pooled),
        declared_studies=len(declared),
        pooled_not_included=sorted(pooled - set(chosen["curated_study_id"])),
        records_in_file=len(cluster_rows),
        unique_records_in_screening=_int(screening_counts, screen, "records_in"),
        included_reports_in_file=sum(1 for r in included_rows if r.get("full_text") == "include"),
        reason_labels=dict(reason_labels or {}),
        reports_in_studies=int(screened["n_reports"].astype(int).sum()),
        reviews_included=0 if reviews is None else len(reviews),
        review_reports=0 if reviews is None else int(reviews["n_reports"].astype(int).sum()),
    )


def write_counts(counts: PrismaCounts, path: str | Path) -> None:
    frame = pd.DataFrame(counts.rows(), dtype="string")
    write_table(frame, path, PRISMA_COUNT_COLUMNS)


# ---------------------------------------------------------------------------
# The diagram (PRISMA 2020, Page et al. BMJ 2021;372:n71, databases-and-registers branch).
# ---------------------------------------------------------------------------
HEADER = "Identification of studies via databases and registers"
# The blue phase bands on the left: (label, first row, last row) of the flow they span.
PHASES = (("Identification", 0, 0), ("Screening", 1, 3), ("Included", 4, 4))


@dataclass(frozen=True)
class FlowRow:
    """One step of the flow: its box, and the side box of what left the flow there (if any)."""

    main: list[str]
    side: list[str] | None = None


def flow_rows(counts: PrismaCounts) -> list[FlowRow]:
    """The boxes' text, top to bottom: identification, screening, retrieval, eligibility, included."""
    n = "n = {}".format
    search_lines = [f"  {label} ({n(k)})" for _, label, k in counts.searches]
    removed = [
        "Records removed before screening:",
        f"  Duplicate records ({n(counts.duplicates)})",
        f"  Marked as ineligible by automation tools ({n(counts.excluded_automatic)})",
        f"  Removed for other reasons ({n(counts.excluded_other)})",
    ]
    awaiting_ta = sum(counts.records_awaiting.values())
    excluded_ta = [f"Records excluded ({n(counts.records_excluded)})"]
    if awaiting_ta:
        excluded_ta.append(f"Awaiting a decision ({n(awaiting_ta)}: {_parts(counts.records_awaiting)})")
    reasons = [f"  {counts.reason_text(c)} ({n(k)})" for c, k in counts.reports_excluded.items() if k]
    awaiting_ft = sum(counts.reports_awaiting.values())
    excluded_ft = ["Reports excluded:", *reasons] if reasons else [f"Reports excluded ({n(0)})"]
    if awaiting_ft:
        excluded_ft.append(f"Awaiting a decision ({n(awaiting_ft)}: {_parts(counts.reports_awaiting)})")
    added = [f"  of which added by the review team ({n(counts.declared_studies)})"]
    included = [
        f"Studies included in review ({n(counts.total_studies)})",
        *(added if counts.declared_studies else []),
        f"Reports of included studies ({n(counts.study_reports)})",
        f"Studies in meta-analyses ({n(counts.studies_in_meta)})",
    ]
    if counts.reviews_included or counts.review_reports:
        included += [
            f"Reviews included, reported apart ({n(counts.reviews_included)})",
            f"Reports of included reviews ({n(counts.review_reports)})",
        ]
    return [
        FlowRow(["Records identified from:", *search_lines, f"  Total ({n(counts.identified)})"], removed),
        FlowRow(["Records screened", f"({n(counts.records_screened)})"], excluded_ta),
        FlowRow(
            ["Reports sought for retrieval", f"({n(counts.reports_sought)})"],
            [f"Reports not retrieved ({n(counts.reports_not_retrieved)})"],
        ),
        FlowRow(["Reports assessed for eligibility", f"({n(counts.reports_assessed)})"], excluded_ft),
        FlowRow(included),
    ]


@dataclass(frozen=True)
class FlowLayout:
    """Where everything goes, in inches from the figure's lower left corner, measured from the text."""

    fontsize: float
    line_h: float  # one line of text
    main_w: float  # the flow's column
    side_w: float  # the side boxes' column
    heights: list[float]  # of each row: its taller box
    header_h: float
    width: float
    height: float
    pad: float = 0.12  # between a box's edge and its text
    gap: float = 0.45  # between the flow and the side boxes
    band_w: float = 0.32
    margin: float = 0.1
    v_gap: float = 0.32  # between rows

    @classmethod
    def measure(cls, rows: Sequence[FlowRow], fontsize: float) -> FlowLayout:
        measure = TextMeasurer()
        line_h = fontsize * 1.45 / 72
        pad, gap, band_w, margin, v_gap = cls.pad, cls.gap, cls.band_w, cls.margin, cls.v_gap

        def box_size(lines: Sequence[str]) -> tuple[float, float]:
            return (max(measure.width(t, fontsize) for t in lines) + 2 * pad, len(lines) * line_h + 2 * pad)

        main_w = max(box_size(row.main)[0] for row in rows)
        side_w = max(box_size(row.side)[0] for row in rows if row.side)
        heights = [max(box_size(row.main)[1], box_size(row.side)[1] if row.side else 0) for row in rows]
        header_h = line_h * 1.6 + 2 * pad
        height = header_h + v_gap + sum(heights) + v_gap * (len(heights) - 1) + 2 * margin
        width = margin + band_w + 0.15 + main_w + gap + side_w + margin
        return cls(fontsize, line_h, main_w, side_w, heights, header_h, width, height)

    @property
    def x_band(self) -> float:
        return self.margin

    @property
    def x_main(self) -> float:
        return self.x_band + self.band_w + 0.15

    @property
    def x_side(self) -> float:
        return self.x_main + self.main_w + self.gap

    def header_top(self) -> float:
        return self.height - self.margin

    def tops(self) -> list[float]:
        """The top of each row, below the header."""
        top = self.header_top()
        top -= self.header_h + self.v_gap
        tops = []
        for h in self.heights:
            tops.append(top)
            top -= h + self.v_gap
        return tops


def _box(
    fig: Figure,
    layout: FlowLayout,
    x: float,
    top: float,
    w: float,
    h: float,
    lines: Sequence[str],
    *,
    face: str = "white",
    bold: bool = False,
    center: bool = False,
    gid: str = "",
) -> None:
    """A square box with its lines of text, left-aligned (or centred)."""
    tf = fig.dpi_scale_trans
    fig.add_artist(
        FancyBboxPatch(
            (x, top - h),
            w,
            h,
            boxstyle="square,pad=0",
            transform=tf,
            facecolor=face,
            edgecolor="black",
            lw=0.8,
            gid=gid or None,
        )
    )
    for i, text in enumerate(lines):
        y = top - layout.pad - (i + 0.5) * layout.line_h
        fig.text(
            x + (w / 2 if center else layout.pad),
            y,
            text,
            transform=tf,
            ha="center" if center else "left",
            va="center",
            fontsize=layout.fontsize,
            fontweight="bold" if bold else "normal",
        )


def _arrow(fig: Figure, x0: float, y0: float, x1: float, y1: float) -> None:
    fig.add_artist(
        FancyArrowPatch(
            (x0, y0),
            (x1, y1),
            transform=fig.dpi_scale_trans,
            arrowstyle="-|>",
            mutation_scale=9,
            lw=0.8,
            color="black",
            shrinkA=0,
            shrinkB=0,
        )
    )


def _draw_header(fig: Figure, layout: FlowLayout) -> None:
    width = layout.main_w + layout.gap + layout.side_w
    top = layout.header_top()
    _box(
        fig,
        layout,
        layout.x_main,
        top,
        width,
        layout.header_h,
        [HEADER],
        face="#f7e39a",
        bold=True,
        center=True,
    )


def _draw_rows(fig: Figure, layout: FlowLayout, rows: Sequence[FlowRow]) -> None:
    """Each row's box, its side box, and the arrow between them."""
    for row, top, h in zip(rows, layout.tops(), layout.heights, strict=True):
        _box(fig, layout, layout.x_main, top, layout.main_w, h, row.main, gid="prisma-box")
        if row.side:
            _box(fig, layout, layout.x_side, top, layout.side_w, h, row.side, gid="prisma-box")
            _arrow(fig, layout.x_main + layout.main_w, top - h / 2, layout.x_side, top - h / 2)


def _draw_flow_arrows(fig: Figure, layout: FlowLayout) -> None:
    """Down the flow: from each box to the next."""
    tops, heights, x = layout.tops(), layout.heights, layout.x_main + layout.main_w / 2
    for i in range(len(tops) - 1):
        _arrow(fig, x, tops[i] - heights[i], x, tops[i + 1])


def _draw_phase_bands(fig: Figure, layout: FlowLayout) -> None:
    """The blue bands on the left naming each phase, beside the rows they span."""
    tops, heights = layout.tops(), layout.heights
    for label, first, last in PHASES:
        upper, lower = tops[first], tops[last] - heights[last]
        fig.add_artist(
            FancyBboxPatch(
                (layout.x_band, lower),
                layout.band_w,
                upper - lower,
                boxstyle="round,pad=0,rounding_size=0.06",
                transform=fig.dpi_scale_trans,
                facecolor="#a9c5e8",
                edgecolor="#5b7fb0",
                lw=0.8,
            )
        )
        fig.text(
            layout.x_band + layout.band_w / 2,
            (upper + lower) / 2,
            label,
            transform=fig.dpi_scale_trans,
            rotation=90,
            ha="center",
            va="center",
            fontsize=layout.fontsize,
            fontweight="bold",
        )


def draw_prisma(counts: PrismaCounts, *, fontsize: float = 8.0) -> Figure:
    """The flow diagram; refuses (PrismaCountError) when the counts do not reconcile."""
    counts.check()
    rows = flow_rows(counts)
    layout = FlowLayout.measure(rows, fontsize)
    fig = Figure(figsize=(layout.width, layout.height), dpi=100)
    FigureCanvasAgg(fig)
    _draw_header(fig, layout)
    _draw_rows(fig, layout, rows)
    _draw_flow_arrows(fig, layout)
    _draw_phase_bands(fig, layout)
    return fig
