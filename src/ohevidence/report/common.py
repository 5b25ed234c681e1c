"""Shared helpers of the report figures: saving, measuring text, number formats, curated look-ups."""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from matplotlib.figure import Figure

from ohevidence.atomic import atomic_write
from ohevidence.cells import split_multi
from ohevidence.errors import InputError
from ohevidence.meta.io import cell_number
from ohevidence.meta.io import read_csv_rows as read_csv_rows  # re-exported: the one row reader
from ohevidence.meta.io import study_label as study_label  # re-exported: one way to name a study
from ohevidence.meta.result import AnalysisResult
from ohevidence.meta.roles import JobRole

FORMATS: tuple[str, ...] = ("svg", "png", "pdf")
logging.getLogger("fontTools").setLevel(logging.WARNING)  # PDF font subsetting logs every glyph at INFO
FONT_FAMILY = "DejaVu Sans"  # ships with matplotlib: the same metrics on every machine
# SVG keeps text as text (searchable, editable in a report), and the same hash for the same figure.
plt.rcParams.update(
    {"svg.fonttype": "none", "svg.hashsalt": "ohevidence", "font.family": FONT_FAMILY, "pdf.fonttype": 42}
)


def save_figure(
    fig: Figure, stem: str | Path, *, dpi: int = 300, formats: Sequence[str] = FORMATS
) -> list[Path]:
    """Write ``stem.svg``, ``stem.png`` (at ``dpi``) and ``stem.pdf``; return the paths written."""
    stem = Path(stem)
    stem.parent.mkdir(parents=True, exist_ok=True)
    paths = []
    for ext in formats:
        path = stem.with_suffix(f".{ext}")
        metadata: dict[str, Any] = {"Date": None} if ext == "svg" else {}
        if ext == "pdf":
            metadata = {"CreationDate": None}
        with atomic_write(path, "wb") as handle:  # a killed run leaves no half-drawn figure
            fig.savefig(
                handle, format=ext, dpi=dpi, bbox_inches="tight", pad_inches=0.12, metadata=metadata or None
            )
        paths.append(path)
    return paths


class TextMeasurer:
    """Width and height (inches) of text as the Agg renderer will draw it, cached."""

    def __init__(self, dpi: float = 100.0) -> None:
        self._fig = Figure(figsize=(4, 4), dpi=dpi)
        from matplotlib.backends.backend_agg import FigureCanvasAgg

        FigureCanvasAgg(self._fig)
        self._renderer = self._fig.canvas.get_renderer()  # type: ignore[attr-defined]
        self._cache: dict[tuple[str, float, str, str], tuple[float, float]] = {}

    def size(
        self, text: str, fontsize: float, weight: str = "normal", style: str = "normal"
    ) -> tuple[float, float]:
        key = (text, fontsize, weight, style)
        if key not in self._cache:
            if not text:
                self._cache[key] = (0.0, 0.0)
            else:
                artist = self._fig.text(0, 0, text, fontsize=fontsize, fontweight=weight, fontstyle=style)
                box = artist.get_window_extent(self._renderer)
                artist.remove()
                self._cache[key] = (box.width / self._fig.dpi, box.height / self._fig.dpi)
        return self._cache[key]

    def width(self, text: str, fontsize: float, weight: str = "normal", style: str = "normal") -> float:
        return self.size(text, fontsize, weight, style)[0]


def format_p(p: float | None) -> str:
    """RevMan's P-value text: 'P = 0.18', 'P = 0.004', 'P < 0.00001'."""
    if p is None or not math.isfinite(p):
        return "P = n/a"
    if p < 0.00001:
        return "P < 0.00001"
    # two decimals, or one significant digit below 0.01 (RevMan: P = 0.003, P = 0.0007)
    digits = 2 if p >= 0.01 else -math.floor(math.log10(p))
    return f"P = {p:.{digits}f}"


def format_number(value: float | None, digits: int = 2) -> str:
    if value is None or not math.isfinite(value):
        return ""
    text = f"{value:.{digits}f}"
    return "0." + "0" * digits if text in (f"-0.{'0' * digits}",) else text


def read_json(path: str | Path) -> dict[str, Any]:
    """A JSON object written by an earlier stage (meta, screening counts, agreement)."""
    path = Path(path)
    try:
        return dict(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, json.JSONDecodeError) as exc:
        raise InputError(path, f"cannot be read as JSON: {exc}") from exc


def index_by(rows: Iterable[Mapping[str, str]], *keys: str) -> dict[Any, Mapping[str, str]]:
    """First row per key (one column: the value; several: a tuple)."""
    out: dict[Any, Mapping[str, str]] = {}
    for row in rows:
        key = row.get(keys[0], "") if len(keys) == 1 else tuple(row.get(k, "") for k in keys)
        out.setdefault(key, row)
    return out


def role_label(group: str, roles: Mapping[str, JobRole]) -> str:
    """A subgroup name of the meta outputs ('nurse; occupational_physician', 'medical') in words."""
    parts = split_multi(group)
    if not parts:
        return "Not reported"
    words = [roles[p].label if p in roles else p.replace("_", " ") for p in parts]
    text = " + ".join(words)
    return text[:1].upper() + text[1:]


@dataclass(frozen=True)
class Participants:
    """Participants of one analysis, counted once (the summary of findings and the forest plot)."""

    total: float
    comparisons: int
    missing: tuple[str, ...]  # study ids of comparisons whose n is not reported
    analysed: tuple[str, ...]  # study ids counted by their stated n_analysed

    @property
    def text(self) -> str:
        return f"{self.total:g}" + (
            f" (n not reported by {len(self.missing)} of {self.comparisons} comparisons)"
            if self.missing
            else ""
        )


def count_participants(
    meta: AnalysisResult, outcomes: Mapping[tuple[str, str], Mapping[str, str]]
) -> Participants:
    """Analysed n where the source states it, else the arm n behind the effect.

    The arm n come from the analysis JSON (after splitting a shared control into whole
    participants, so a multi-arm trial's control is counted once and the total is a whole number),
    else from outcomes.csv; a study's n_analysed is counted once.
    """
    total, missing, analysed = 0.0, [], []
    for study in meta.studies:
        sid = study.study_id
        if study.n_analysed is not None:
            if sid not in analysed:
                total += study.n_analysed
                analysed.append(sid)
            continue
        n_int, n_ctl = study.n_int, study.n_ctl
        if n_int is None or n_ctl is None:
            row = outcomes.get((sid, study.outcome_id.split("+")[0])) or {}
            n_int, n_ctl = cell_number(row, "n_int"), cell_number(row, "n_ctl")
        if n_int is None or n_ctl is None:
            missing.append(sid)
            continue
        total += n_int + n_ctl
    return Participants(total, len(meta.studies), tuple(missing), tuple(analysed))
