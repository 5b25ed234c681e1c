"""The evidence-and-gap map drawn: a role x outcome-domain matrix (figure) and a plain HTML table.

Both draw results/evidence_map/gap_map.csv and other_studies.csv as :mod:`ohevidence.evidence_map`
wrote them; nothing is computed here. In the figure each trial is a circle and each review a square,
coloured by direction; a cell says how many trials and reviews it holds and their certainty; an empty
cell says "no evidence". Studies that are not effectiveness evidence (feasibility and pilot trials,
non-randomised and qualitative studies) sit in a last column, apart from the map.
"""

from __future__ import annotations

import html
import textwrap
from collections.abc import Sequence

import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from ohevidence.schema import GRADE_CERTAINTY, MAP_DOMAIN_LABELS, MAP_DOMAINS

DIRECTION_COLOURS: dict[str, str] = {  # Okabe-Ito: safe for colour-blind readers
    "benefit": "#009E73",
    "harm": "#D55E00",
    "no clear difference": "#56B4E9",
    "no estimate": "#BBBBBB",
}
DIRECTION_WORDS: dict[str, str] = {
    "benefit": "favours the intervention (95% CI excludes no effect)",
    "harm": "favours the comparator (95% CI excludes no effect)",
    "no clear difference": "no clear difference (CI includes no effect)",
    "no estimate": "no numeric estimate",
}
ORIGIN_HEADINGS: dict[str, str] = {
    "brief": "Occupational health roles of the workforce survey (the brief)",
    "trial_delivery": "Professions that delivered the trials and reviews",
    "": "Evidence that names no role",
}
OTHER_HEADING = "Feasibility, pilot and other studies (not effectiveness evidence)"
EMPTY_MARK = "no evidence"
MAX_MARKS = 6
CELL_CHARS = 24  # characters of a cell label that fit one domain column at fontsize 6.5


def _cell_text(items: pd.DataFrame) -> str:
    """'2 trials · 1 review' on one line, the certainty range on the next."""
    trials = items.loc[items["evidence_type"] == "trial", "evidence_id"].nunique()
    reviews = items.loc[items["evidence_type"] == "review", "evidence_id"].nunique()
    counts = " · ".join(
        f"{n} {noun}{'' if n == 1 else 's'}" for n, noun in ((trials, "trial"), (reviews, "review")) if n
    )
    found = [c for c in GRADE_CERTAINTY if c in set(items["certainty"])]
    certainty = (found[0] if len(found) == 1 else f"{found[0]} to {found[-1]}") if found else "not assessed"
    return f"{counts}\n{certainty}"


def _role_rows(table: pd.DataFrame) -> list[tuple[str, str, str]]:
    """(role_id, label, origin) in map order."""
    seen = table[["role_id", "role_label", "role_origin"]].drop_duplicates()
    return [tuple(row) for row in seen.itertuples(index=False, name=None)]  # type: ignore[misc]


def draw_gap_map(table: pd.DataFrame, other: pd.DataFrame) -> Figure:
    """The matrix figure (roles down, domains across, other studies in a last column)."""
    rows = _role_rows(table)
    headings = [o for o in ORIGIN_HEADINGS if any(r[2] == o for r in rows)]
    label_w, cell_w, other_w, row_h, head_h = 3.4, 1.45, 3.0, 0.46, 0.75
    lines = len(rows) + len(headings)
    width = label_w + cell_w * len(MAP_DOMAINS) + other_w
    height = head_h + row_h * lines + 1.1
    fig = Figure(figsize=(width, height))
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, width)
    ax.set_ylim(height, 0)
    ax.axis("off")
    x_cells = [label_w + cell_w * (i + 0.5) for i in range(len(MAP_DOMAINS))]
    x_other = label_w + cell_w * len(MAP_DOMAINS) + 0.12
    for x, domain in zip(x_cells, MAP_DOMAINS, strict=True):
        ax.text(x, head_h - 0.1, MAP_DOMAIN_LABELS[domain].replace(" and ", "\nand "), ha="center",
                va="bottom", fontsize=9, fontweight="bold")  # fmt: skip
    ax.text(x_other, head_h - 0.1, "Feasibility, pilot and other\nstudies (not effectiveness)", ha="left",
            va="bottom", fontsize=8.5, fontweight="bold", color="#444444")  # fmt: skip
    y = head_h
    for origin in headings:
        ax.text(0.1, y + row_h * 0.6, ORIGIN_HEADINGS[origin], fontsize=9, fontweight="bold", va="center")
        ax.plot([0.1, width - 0.1], [y + row_h * 0.95] * 2, color="#888888", lw=0.6)
        y += row_h
        for index, (role_id, label, role_origin) in enumerate(r for r in rows if r[2] == origin):
            if index % 2 == 0:
                ax.axhspan(y, y + row_h, color="#F3F3F3", zorder=0, lw=0)
            ax.text(0.15, y + row_h / 2, textwrap.fill(label, 46), fontsize=8.5, va="center", linespacing=1.0)
            mine = table[(table["role_id"] == role_id) & (table["role_origin"] == role_origin)]
            for x, domain in zip(x_cells, MAP_DOMAINS, strict=True):
                items = mine[(mine["domain"] == domain) & (mine["evidence_type"] != "")]
                if items.empty:
                    ax.text(x, y + row_h / 2, EMPTY_MARK, ha="center", va="center", fontsize=7,
                            color="#9A9A9A", style="italic")  # fmt: skip
                    continue
                marks = items.drop_duplicates(["evidence_type", "evidence_id", "direction"])
                shown = marks.head(MAX_MARKS)
                step = 0.16
                start = x - step * (len(shown) - 1) / 2
                for i, mark in enumerate(shown.itertuples(index=False)):
                    ax.plot(start + i * step, y + row_h * 0.3, marker="o" if mark.evidence_type == "trial"
                            else "s", markersize=7, color=DIRECTION_COLOURS.get(mark.direction, "#BBBBBB"),
                            markeredgecolor="#333333", markeredgewidth=0.5, linestyle="none")  # fmt: skip
                if len(marks) > MAX_MARKS:
                    ax.text(start + len(shown) * step, y + row_h * 0.3, f"+{len(marks) - MAX_MARKS}",
                            fontsize=6.5, va="center")  # fmt: skip
                text = _cell_text(items)  # one line when it fits the column, else counts over certainty
                one_line = text.replace("\n", ", ")
                ax.text(x, y + row_h * 0.5, one_line if len(one_line) <= CELL_CHARS else text, ha="center",
                        va="top", fontsize=6.5, linespacing=1.0)  # fmt: skip
            theirs = other[other["role_id"] == role_id] if not other.empty else other
            if len(theirs):
                names = "; ".join(
                    dict.fromkeys(
                        f"{s.study_label}{'' if s.in_review == 'yes' else '*'}" for s in theirs.itertuples()
                    )
                )
                ax.text(x_other, y + row_h / 2, textwrap.fill(_shorten(names, 150), 52), fontsize=6.5,
                        va="center", color="#444444", linespacing=1.0)  # fmt: skip
            y += row_h
    handles = [
        Line2D([], [], marker="o", linestyle="none", markersize=7, color=colour, markeredgecolor="#333333",
               markeredgewidth=0.5, label=DIRECTION_WORDS[direction])
        for direction, colour in DIRECTION_COLOURS.items()
    ]  # fmt: skip
    handles += [
        Line2D([], [], marker="o", linestyle="none", markersize=7, color="white", markeredgecolor="#333333",
               label="circle: a randomised trial"),
        Line2D([], [], marker="s", linestyle="none", markersize=7, color="white", markeredgecolor="#333333",
               label="square: a systematic review"),
    ]  # fmt: skip
    fig.legend(handles=handles, loc="lower left", ncol=3, fontsize=7.5, frameon=False,
               bbox_to_anchor=(0.01, 0.005))  # fmt: skip
    ax.text(0.1, height - 0.95, "Each cell: trials and reviews delivered by the role, with their GRADE "
            "certainty; 'no evidence' marks an empty cell. * not included in the review.", fontsize=7.5,
            color="#444444")  # fmt: skip
    return fig


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip("; ") + "…"


def gap_map_html(table: pd.DataFrame, other: pd.DataFrame, *, title: str = "Evidence-and-gap map") -> str:
    """A plain, self-contained HTML table of the map (every cell escaped)."""
    esc = html.escape
    head = "".join(f"<th>{esc(MAP_DOMAIN_LABELS[d])}</th>" for d in MAP_DOMAINS)
    body: list[str] = []
    for origin in ORIGIN_HEADINGS:
        rows = [r for r in _role_rows(table) if r[2] == origin]
        if not rows:
            continue
        body.append(f'<tr class="group"><th colspan="{len(MAP_DOMAINS) + 2}">{esc(ORIGIN_HEADINGS[origin])}'
                    "</th></tr>")  # fmt: skip
        for role_id, label, role_origin in rows:
            mine = table[(table["role_id"] == role_id) & (table["role_origin"] == role_origin)]
            cells = [f'<th scope="row">{esc(label)}</th>']
            for domain in MAP_DOMAINS:
                items = mine[(mine["domain"] == domain) & (mine["evidence_type"] != "")]
                if items.empty:
                    cells.append(f'<td class="empty">{EMPTY_MARK}</td>')
                    continue
                entries = [
                    f"<li>{esc(item.evidence_label)} ({esc(item.evidence_type)}): {esc(item.direction)}; "
                    f"{esc(item.certainty or 'certainty not assessed')}</li>"
                    for item in items.itertuples(index=False)
                ]
                cells.append(f"<td><ul>{''.join(entries)}</ul></td>")
            theirs = other[other["role_id"] == role_id] if not other.empty else other
            others = "".join(
                f"<li>{esc(s.study_label)}: {esc(s.why_not_in_map)}</li>"
                for s in theirs.itertuples(index=False)
            )
            cells.append(f"<td><ul>{others}</ul></td>" if others else '<td class="empty"></td>')
            body.append("<tr>" + "".join(cells) + "</tr>")
    style = (
        "body{font-family:sans-serif;margin:1em}table{border-collapse:collapse;font-size:0.85em}"
        "th,td{border:1px solid #ccc;padding:4px;vertical-align:top;text-align:left}"
        "td.empty{color:#999;font-style:italic}tr.group th{background:#eee}ul{margin:0;padding-left:1.1em}"
    )
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{esc(title)}</title><style>{style}</style></head><body>\n"
        f"<h1>{esc(title)}</h1>\n<p>Rows: job roles; columns: outcome domains. Each cell lists the included "
        "randomised trials and the reviews delivered by the role, with the direction of effect "
        "(intervention vs comparator) and the GRADE certainty; an empty cell says "
        f"&ldquo;{EMPTY_MARK}&rdquo;. The last column lists {esc(OTHER_HEADING.lower())}.</p>\n"
        f"<table><thead><tr><th>Job role</th>{head}<th>{esc(OTHER_HEADING)}</th></tr></thead>\n<tbody>\n"
        + "\n".join(body)
        + "\n</tbody></table>\n</body></html>\n"
    )


def cell_counts(table: pd.DataFrame) -> Sequence[int]:
    """(cells, empty cells) of the map, for the log."""
    cells = table.groupby(["role_id", "role_label", "domain"])["evidence_type"].apply(
        lambda s: (s != "").any()
    )
    return len(cells), int((~cells).sum())
