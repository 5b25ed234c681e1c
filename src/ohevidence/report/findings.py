"""The findings page: the review's answer in words, as one self-contained, escaped HTML page.

``results/report/findings.html`` is a whole page (opened by hand); ``findings_fragment.html`` is its
body, which the Snakemake report's home page includes (workflow/report/workflow.rst, a docutils
``raw`` directive). Every string that comes from data (titles, labels, table cells) goes through
``html.escape``: no title, label or cell becomes markup, and the rst never sees it (docutils reads
the raw file as-is, after Jinja). Figures are embedded as base64 PNG at a readable width.

Optional inputs (the review-of-reviews, role and map tables) may be absent: their section then
says in words what is missing.
"""

from __future__ import annotations

import base64
import html
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from ohevidence.findings import AnalysisFinding
from ohevidence.schema import MAP_DOMAIN_LABELS

# job_roles.yaml `origin` in words
# Columns of the economic and workforce tables shown on the findings page (contracts: schema.py).
ECONOMIC_COLUMNS = ["study", "job_role", "counted", "currency", "amount", "ci_range", "estimate", "ci",
                    "per", "price_year", "perspective", "result"]  # fmt: skip
WORKFORCE_COLUMNS = ["organisation", "role", "strategy", "strategy_type", "stage", "cost"]
ORIGIN_WORDS = {"brief": "workforce survey of the brief", "trial_delivery": "delivered a trial or review"}
CERTAINTY_NOT_REPORTED = "certainty not reported in the sources found"

# Layout of the Snakemake report's home page (snakemake 9 html_reporter): the workflow description
# sits in a narrow "prose max-w-lg" column beside the rule graph, vertically centred in a
# full-height box (the top of a long page cannot be scrolled to). These rules, inside the included
# fragment, let the findings take the page width, start at the top, and put the rule graph below.
REPORT_LAYOUT_CSS = """
div.grow.flex.items-center.justify-center.h-screen.overflow-auto { align-items: flex-start;
  justify-content: flex-start; }
div.grow.flex.gap-3.p-3.items-start { flex-direction: column; width: 100%; min-width: 0; }
div.grow.flex.gap-3.p-3.items-start > div { max-width: 100%; }
div.prose.max-w-lg { max-width: 100%; }
"""
PAGE_CSS = """
.ohe-findings { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; line-height: 1.45;
  max-width: 72rem; color: #1a1a1a; }
.ohe-findings h1 { font-size: 1.6rem; margin: 0.4rem 0; }
.ohe-findings h2 { font-size: 1.25rem; margin-top: 1.6rem; border-bottom: 1px solid #ccc; }
.ohe-findings h3 { font-size: 1.05rem; margin-top: 1rem; }
.ohe-findings table { border-collapse: collapse; margin: 0.5rem 0 1rem; font-size: 0.85rem; }
.ohe-findings th, .ohe-findings td { border: 1px solid #bbb; padding: 0.25rem 0.45rem;
  text-align: left; vertical-align: top; }
.ohe-findings th { background: #eef1f5; }
.ohe-findings .table-wrap { overflow-x: auto; max-width: 100%; }
.ohe-findings img { max-width: 100%; width: 60rem; height: auto; border: 1px solid #ddd; }
.ohe-findings .small-k { color: #555; }
.ohe-findings .certainty { font-weight: 600; }
.ohe-findings .missing { color: #8a4b00; font-style: italic; }
"""


def esc(value: object) -> str:
    """HTML-escaped text of a value (quotes too: safe in attributes)."""
    return html.escape("" if value is None else str(value), quote=True)


HEADER_WORDS = {"k": "Studies", "ci": "95% CI", "n": "Participants", "amstar2": "AMSTAR 2",
                "ci_range": "CI or range", "strategy_type": "Type of strategy"}  # fmt: skip


def header_words(column: str) -> str:
    """A column name as a table heading in words ('job_role' -> 'Job role', 'k' -> 'Studies')."""
    if column in HEADER_WORDS:
        return HEADER_WORDS[column]
    words = column.replace("_", " ").strip()
    return words[:1].upper() + words[1:]


def html_table(frame: pd.DataFrame, columns: Sequence[str] | None = None, *, caption: str = "") -> str:
    """A real <table> of ``frame`` (the given columns that it has), every cell escaped."""
    cols = [c for c in (columns or list(frame.columns)) if c in frame.columns]
    head = "".join(f"<th>{esc(header_words(c))}</th>" for c in cols)
    body = "".join(
        "<tr>" + "".join(f"<td>{esc(row[c])}</td>" for c in cols) + "</tr>" for _, row in frame.iterrows()
    )
    cap = f"<caption>{esc(caption)}</caption>" if caption else ""
    table = f"<table>{cap}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
    return f'<div class="table-wrap">{table}</div>'


def people_columns(frame: pd.DataFrame) -> list[str]:
    """The columns a reader needs: without identifiers (``*_id``) and source citations."""
    return [c for c in frame.columns if not (c == "id" or c.endswith("_id") or c in ("source", "sources"))]


def embedded_png(path: str | Path, alt: str) -> str:
    """An <img> with the PNG inline (data URI): the page needs no other file."""
    data = base64.b64encode(Path(path).read_bytes()).decode("ascii")
    return f'<img src="data:image/png;base64,{data}" alt="{esc(alt)}">'


@dataclass
class FindingsInputs:
    """What the page is drawn from; None = the table was not given (the section says so)."""

    title: str
    analyses: list[AnalysisFinding]
    roles: list[tuple[str, str, str]]  # taxonomy order: (role_id, label, origin)
    summary_of_findings: pd.DataFrame | None = None
    appraisal_status: pd.DataFrame | None = None
    role_evidence: pd.DataFrame | None = None
    gap_map: pd.DataFrame | None = None
    gap_map_png: Path | None = None
    review_findings: pd.DataFrame | None = None
    within_trial_roles: pd.DataFrame | None = None
    role_credibility: pd.DataFrame | None = None
    economic: pd.DataFrame | None = None
    workforce: pd.DataFrame | None = None
    thresholds_note: str = ""
    missing: list[str] = field(default_factory=list)


def role_lines(inputs: FindingsInputs) -> list[dict[str, str]]:
    """One line per taxonomy role: role_evidence.csv's statement, else that there is no table."""
    by_role: dict[str, Mapping[str, Any]] = {}
    if inputs.role_evidence is not None:
        by_role = {str(r["role_id"]): r for r in inputs.role_evidence.to_dict("records")}
    lines = []
    for role_id, label, origin in inputs.roles:
        row = by_role.get(role_id)
        if row is None:
            statement = (
                "No evidence table available (the role evidence table was not given)."
                if inputs.role_evidence is None
                else "Not in the role evidence table."
            )
            pooled = [
                (a.label, a.role_studies[role_id]) for a in inputs.analyses if a.role_studies.get(role_id)
            ]
            if inputs.role_evidence is None:
                statement += (
                    " Delivered interventions pooled in: "
                    + "; ".join(f"{label} ({n} {'row' if n == 1 else 'rows'})" for label, n in pooled)
                    + "."
                    if pooled
                    else " Not among the roles of the pooled trials."
                )
            lines.append({"role_id": role_id, "role": label, "origin": origin, "statement": statement,
                          "certainty": "", "trials": "", "reviews": ""})  # fmt: skip
            continue
        lines.append(
            {
                "role_id": role_id,
                "role": str(row.get("role_label") or label),
                "origin": str(row.get("role_origin") or origin),
                "statement": str(row.get("statement") or ""),
                "certainty": str(row.get("certainty") or ""),
                "trials": str(row.get("trials") or ""),
                "reviews": str(row.get("reviews") or ""),
            }
        )
    return lines


def review_paragraphs(frame: pd.DataFrame) -> list[str]:
    """One plain sentence per review finding, with the review's own certainty (as published)."""
    out = []
    for row in frame.to_dict("records"):
        numbers = ""
        if str(row.get("estimate") or ""):
            numbers = f"{row.get('measure', '')} {row['estimate']}".strip()
            if str(row.get("ci_lower") or "") and str(row.get("ci_upper") or ""):
                numbers += f" [{row['ci_lower']}, {row['ci_upper']}]"
        extent = "; ".join(
            part
            for part in (
                f"{row['k']} {'study' if str(row['k']) == '1' else 'studies'}"
                if str(row.get("k") or "")
                else "",
                f"{row['n']} participants" if str(row.get("n") or "") else "",
            )
            if part
        )
        secondary = str(row.get("evidence_label") or "").strip() == "S"
        certainty = str(row.get("certainty") or "").strip()
        certainty_text = f"{certainty} certainty (as published)" if certainty else CERTAINTY_NOT_REPORTED
        comparison = str(row.get("comparison") or "").strip()
        timepoint = str(row.get("timepoint") or "").strip()
        sentence = (
            f"{row.get('label', '')}: {row.get('outcome', '')}"
            + (f" ({timepoint})" if timepoint else "")
            + (f", {comparison}" if comparison else "")
            + f": {row.get('direction') or 'direction not stated'}"
            + (f", {numbers}" if numbers else "")
            + (f" ({extent})" if extent else "")
            + f"; {certainty_text}"
            + ("; numbers from a secondary summary, to check against the review" if secondary else "")
            + "."
        )
        out.append(sentence)
    return out


def limitations(inputs: FindingsInputs) -> list[str]:
    """The cautions the reader needs, in words, from what the run holds."""
    items = [
        "Comparisons between job roles are between trials: the role that delivered an intervention is "
        "confounded with the intervention itself, the condition and the setting, so a difference "
        "between roles is not evidence that one role is more effective than another."
    ]
    if inputs.within_trial_roles is not None and len(inputs.within_trial_roles):
        items.append(
            "Only trials that randomised participants to different roles compare roles directly; "
            "they are listed under within-trial role comparisons."
        )
    if inputs.appraisal_status is not None:
        awaiting = inputs.appraisal_status[inputs.appraisal_status["status"] != "assessed"]
        if len(awaiting):
            items.append(
                f"Risk of bias was not assessed for {len(awaiting)} of "
                f"{len(inputs.appraisal_status)} included studies (appraisal status table): the "
                "certainty ratings cannot take it into account."
            )
    else:
        items.append(
            "The appraisal status table was not given: whether risk of bias was assessed is unknown here."
        )
    small = [a for a in inputs.analyses if 0 < a.k <= 2]
    if small:
        items.append(
            f"{len(small)} of {len(inputs.analyses)} analyses rest on one or two studies: they are "
            "reported as single or two-study evidence, not as pooled headlines."
        )
    unrated = [a for a in inputs.analyses if not a.certainty]
    if unrated:
        items.append(
            f"The certainty of the evidence was not assessed for {len(unrated)} analyses: their "
            "statements draw no conclusion."
        )
    if inputs.review_findings is not None:
        missing = inputs.review_findings[inputs.review_findings["certainty"].astype(str).str.strip() == ""]
        if len(missing):
            items.append(
                f"{len(missing)} review findings have no certainty in the sources found (not reported or "
                "not found), so they are described without one."
            )
    return items


def _section(title: str, body: str, anchor: str) -> str:
    return f'<section id="{esc(anchor)}"><h2>{esc(title)}</h2>{body}</section>'


def _missing(what: str) -> str:
    return f'<p class="missing">{esc(what)}</p>'


def _analysis_items(findings: Iterable[AnalysisFinding]) -> str:
    items = []
    for f in findings:
        cls = "" if f.headline else ' class="small-k"'
        certainty = esc(f.certainty or "not assessed")
        items.append(
            f"<li{cls}><strong>{esc(f.label)}</strong> "
            f'(<span class="certainty">certainty: {certainty}</span>). {esc(f.statement)}</li>'
        )
    return "<ul>" + "".join(items) + "</ul>"


def _report_link(path: Path, text: str) -> str:
    """A link that opens a result of the Snakemake report (its JavaScript app; the key is the path)."""
    target = esc("javascript:app.showResultInfo(" + json.dumps(path.as_posix()) + ")")
    return f'<a href="{target}">{esc(text)}</a>'


def render_body(inputs: FindingsInputs, forest_plots: Mapping[str, Path], *, in_report: bool = False) -> str:
    """The page's content (no <html>/<head>).

    ``in_report``: the body the Snakemake report includes, where the forest plots are links to the
    report's own figures (the standalone page embeds them).
    """
    parts = [
        '<div class="ohe-findings" id="findings">',
        "<h1>Findings</h1>",
        f"<p>Review: <strong>{esc(inputs.title)}</strong>. This page states what the evidence shows, "
        "in GRADE's standard wording: <em>reduces</em> (high certainty), <em>probably reduces</em> "
        "(moderate), <em>may reduce</em> (low), <em>we are uncertain</em> (very low).</p>",
        "<nav><ol>" + "".join(
            f'<li><a href="#{a}">{esc(t)}</a></li>'
            for a, t in (
                ("by-question", "Answers by question"),
                ("by-role", "Evidence by job role"),
                ("reviews", "Findings of systematic reviews"),
                ("sof", "Summary of findings"),
                ("gap-map", "Evidence and gap map"),
                ("costs", "Costs and workforce"),
                ("limitations", "Limitations"),
                ("forest", "Forest plots"),
            )
        ) + "</ol></nav>",
    ]  # fmt: skip
    # 1. by question (map domain)
    body = []
    for domain, label in MAP_DOMAIN_LABELS.items():
        found = [f for f in inputs.analyses if f.domain == domain]
        if not found:
            continue
        headline = [f for f in found if f.headline]
        small = [f for f in found if not f.headline]
        body.append(f"<h3>{esc(label)}</h3>")
        if headline:
            body.append(_analysis_items(headline))
        if small:
            body.append("<p>One- and two-study evidence (not pooled headlines):</p>" + _analysis_items(small))
    if inputs.within_trial_roles is not None:
        body.append("<h3>Within-trial role comparisons (direct evidence)</h3>")
        rows = inputs.within_trial_roles
        body.append(
            "<ul>" + "".join(f"<li>{esc(s)}</li>" for s in rows["statement"]) + "</ul>"
            if len(rows)
            else "<p>No trial compared two job roles directly.</p>"
        )
    if inputs.thresholds_note:
        body.append(f"<p><small>{esc(inputs.thresholds_note)}</small></p>")
    parts.append(
        _section(
            "Answers by question",
            "".join(body) if inputs.analyses else _missing("No analysis results were given."),
            "by-question",
        )
    )
    # 2. by role
    lines = role_lines(inputs)
    role_table = pd.DataFrame(lines)
    if len(role_table):
        role_table["origin"] = [ORIGIN_WORDS.get(o, o) for o in role_table["origin"]]
    role_body = (
        html_table(role_table, ["role", "origin", "statement", "certainty"])
        if len(role_table)
        else _missing("The job-role taxonomy lists no roles.")
    )
    if inputs.role_evidence is None:
        role_body = _missing("The role evidence table (role_evidence.csv) was not given.") + role_body
    if inputs.role_credibility is not None and len(inputs.role_credibility):
        labels = {f.analysis_id: f.label for f in inputs.analyses}
        credibility = inputs.role_credibility
        if "analysis_id" in credibility.columns:
            credibility = credibility.assign(analysis=[labels.get(a, a) for a in credibility["analysis_id"]])
        role_body += "<h3>Credibility of role subgroup claims</h3>" + html_table(
            credibility, ["analysis", *(c for c in people_columns(credibility) if c != "analysis")]
        )
    parts.append(_section("Evidence by job role", role_body, "by-role"))
    # 3. reviews
    if inputs.review_findings is None:
        reviews = _missing("The review findings table (review_findings.csv) was not given.")
    elif not len(inputs.review_findings):
        reviews = "<p>No review findings were recorded.</p>"
    else:
        reviews = "".join(f"<p>{esc(p)}</p>" for p in review_paragraphs(inputs.review_findings))
    parts.append(_section("Findings of systematic reviews", reviews, "reviews"))
    # 4. summary of findings
    sof = inputs.summary_of_findings
    labels = {f.analysis_id: f.label for f in inputs.analyses}
    parts.append(
        _section(
            "Summary of findings",
            _missing("The summary of findings table was not given.")
            if sof is None
            else html_table(
                sof.assign(
                    analysis=[
                        labels.get(a, o) for a, o in zip(sof["analysis_id"], sof["outcome"], strict=True)
                    ]
                ),
                ["analysis", "k", "participants", "effect", "absolute_effect", "certainty"],
            )
            + "<p>Why each certainty was rated down (GRADE footnotes, per domain) is in the summary of "
            "findings table (the report's Tables category).</p>",
            "sof",
        )
    )
    # 5. gap map
    gap = []
    if inputs.gap_map_png is not None and inputs.gap_map_png.is_file():
        gap.append(embedded_png(inputs.gap_map_png, "Evidence and gap map: job roles by outcome domain"))
    if inputs.gap_map is not None and len(inputs.gap_map):
        cells = inputs.gap_map.assign(has=inputs.gap_map["evidence_id"].astype(str).str.strip() != "")
        grid = (
            cells.pivot_table(index="role_label", columns="domain", values="has", aggfunc="sum", sort=False)
            .reindex(columns=[d for d in MAP_DOMAIN_LABELS if d in set(cells["domain"])])
            .fillna(0)
            .astype(int)
            .rename(columns=MAP_DOMAIN_LABELS)
            .reset_index()
            .rename(columns={"role_label": "Job role"})
        )
        gap.append(
            "<p>Pieces of evidence per job role and outcome domain (0 = a gap):</p>" + html_table(grid)
        )
    parts.append(
        _section(
            "Evidence and gap map",
            "".join(gap) or _missing("The evidence and gap map was not given."),
            "gap-map",
        )
    )
    # 6. costs and workforce
    costs = []
    shown = {  # the columns a reader needs on this page; the rest stay in the full tables
        "Economic evidence": ECONOMIC_COLUMNS,
        "Workforce strategies": WORKFORCE_COLUMNS,
    }
    for name, frame in (("Economic evidence", inputs.economic), ("Workforce strategies", inputs.workforce)):
        costs.append(f"<h3>{esc(name)}</h3>")
        columns = [c for c in shown[name] if frame is not None and c in frame.columns]
        costs.append(
            _missing(f"The {name.lower()} table was not given.")
            if frame is None
            else html_table(frame, columns or people_columns(frame))
            + "<p>Identifiers and sources: the full table in the report's Tables category.</p>"
        )
    parts.append(_section("Costs and workforce", "".join(costs), "costs"))
    # 7. limitations
    parts.append(
        _section(
            "Limitations",
            "<ul>" + "".join(f"<li>{esc(item)}</li>" for item in limitations(inputs)) + "</ul>",
            "limitations",
        )
    )
    # 8. forest plots
    plots = []
    for f in inputs.analyses:
        path = forest_plots.get(f.analysis_id)
        if path is not None and path.is_file() and in_report:
            plots.append(f"<li>{_report_link(path, 'Forest plot: ' + f.label)}</li>")
        elif path is not None and path.is_file():
            plots.append(f"<figure><figcaption><strong>{esc(f.label)}</strong></figcaption>"
                         f"{embedded_png(path, 'Forest plot: ' + f.label)}</figure>")  # fmt: skip
        else:
            tag = "li" if in_report else "p"
            plots.append(f"<{tag}>{esc(f.label)}: forest plot not drawn.</{tag}>")
    intro = (
        "<p>Each analysis' forest plot opens in the report (Figures, Forest plots):</p><ul>"
        if in_report
        else "<p>Each analysis' forest plot (also in the Snakemake report under Figures, Forest plots).</p>"
    )
    parts.append(_section("Forest plots", intro + "".join(plots) + ("</ul>" if in_report else ""), "forest"))
    parts.append("</div>")
    return "\n".join(parts)


def fragment(body: str) -> str:
    """What the Snakemake report includes: the page's own style, the layout fix, the body."""
    return f"<style>{PAGE_CSS}{REPORT_LAYOUT_CSS}</style>\n{body}\n"


def page(title: str, body: str) -> str:
    """The whole page, self-contained."""
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>Findings: {esc(title)}</title><style>{PAGE_CSS}</style></head>\n"
        f"<body>\n{body}\n</body></html>\n"
    )
