"""Text from the config or the data, made inert for the medium that shows it (issue 26).

The review's title and question (config), study, role and analysis labels (curated tables,
config) and record titles (searches) reach three media; each has one rule here, used everywhere:

* **reStructuredText** (the Snakemake report's captions, ``workflow/report/*.rst``, rendered by
  Jinja and then docutils with raw HTML and ``include`` enabled): :func:`rst_text` backslash-escapes
  every ASCII punctuation character and folds line breaks into spaces, so no directive
  (``.. raw:: html``, ``.. include::``), role (``:ref:``), substitution (``|x|``), link, comment or
  emphasis can start inside it. A caption prints config text only through
  :func:`report_rst` (``snakemake.config["report_rst"]``, set by ``workflow/rules/common.smk``).
* **Figures** (matplotlib): :func:`draw_text_literally` turns mathtext and LaTeX off for every
  text artist, so ``$x$`` in a study label is drawn as the four characters, not as maths; set once for
  every figure by :mod:`ohevidence.report`.
* **HTML**: docutils escapes the text of a caption when it writes HTML; the tables the report
  shows are CSV files, which Snakemake's report shows as text. ohevidence writes no HTML itself.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

__all__ = ["REPORT_RST_KEY", "draw_text_literally", "report_rst", "rst_text"]

# Every ASCII punctuation character: reStructuredText markup is made of these (`` ` * _ | [ ] : . ..``,
# ``<>`` of links, ``#`` of comments...). A backslash before one makes it a plain character.
_RST_PUNCTUATION = re.compile(r"([!-/:-@\[-`{-~])")
# Line breaks, tabs and other control characters: a break would let the next line start a directive.
_BREAKS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\s]+")


# The config key (set by the workflow after validation) holding the config text captions print.
REPORT_RST_KEY = "report_rst"


def rst_text(value: object) -> str:
    """``value`` as reStructuredText that reads back as exactly its characters (on one line).

    ``None`` is ''. Runs of whitespace (line breaks included) become one space; every ASCII
    punctuation character gets a backslash. Use it for inline text (a paragraph, ``**strong**``),
    not inside an inline literal (double backquotes), where backslashes are shown.
    """
    text = _BREAKS.sub(" ", "" if value is None else str(value)).strip()
    return _RST_PUNCTUATION.sub(r"\\\1", text)


def report_rst(config: Mapping[str, Any]) -> dict[str, str]:
    """The config text the report's captions print, escaped: ``{"title": ..., "question": ...}``."""
    review = config.get("review") or {}
    return {key: rst_text(review.get(key)) for key in ("title", "question")}


def draw_text_literally() -> None:
    """From now on matplotlib draws every text as its characters: no mathtext (``$...$``), no LaTeX."""
    import matplotlib

    matplotlib.rc("text", parse_math=False, usetex=False)
