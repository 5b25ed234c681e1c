"""Text from config and data is shown literally in every medium (issue 26 item 1).

The report's captions are rendered as Snakemake renders them (Jinja, then docutils to HTML, with
raw HTML and include enabled); figures are drawn and saved as SVG (text kept as text).
"""

from __future__ import annotations

import csv
import html
import re
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import jinja2
import pytest
import yaml
from docutils.core import publish_parts

from ohevidence.config import load_config
from ohevidence.escape import REPORT_RST_KEY, report_rst, rst_text
from ohevidence.report.common import save_figure
from ohevidence.report.forest import draw_forest, load_forest_data
from report_synthetic import synthetic_analysis

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = ROOT / "workflow/schemas/config.schema.yaml"
TEMPLATES = ROOT / "workflow/report"

# Markup of every kind a careless or hostile user could type: a reference and a footnote
# reference, mathtext, a role, HTML, an inline link, a substitution, emphasis, a comment.
INLINE = "Work_ [1]_ $x$ :ref:`a` <script>alert(1)</script> `l <javascript:alert(2)>`_ |s| *e* .. c"
# ... and the block markup a line break lets in: raw HTML, and an include of the environment.
BLOCK = "\n\n.. raw:: html\n\n   <script>alert(3)</script>\n\n.. include:: /proc/self/environ\n"


def render_caption(template: Path, config: dict[str, Any], **wildcards: str) -> str:
    """HTML of a caption as Snakemake's report makes it (snakemake/report/__init__.py)."""
    env = jinja2.Environment(trim_blocks=True, lstrip_blocks=True)
    snakemake = SimpleNamespace(config=config, wildcards=SimpleNamespace(**wildcards))
    text = env.from_string(template.read_text(encoding="utf-8")).render(snakemake=snakemake)
    return str(publish_parts(text, writer="html")["html_body"])


def shown_text(body: str) -> str:
    """The text a reader sees in ``body`` (tags dropped, entities decoded, spaces folded)."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", body)).split())


def assert_inert(body: str) -> None:
    assert "<script" not in body.lower() and "href=" not in body.lower()
    assert "system-message" not in body and "problematic" not in body  # nothing parsed as markup
    assert 'class="reference' not in body and "<em>" not in body and "footnote" not in body


@pytest.fixture(autouse=True)
def _in_a_finished_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The home page includes results/report/findings_fragment.html (the findings rule writes it)
    relative to the run's folder: run each test in a folder holding a plain one."""
    fragment = tmp_path / "results/report/findings_fragment.html"
    fragment.parent.mkdir(parents=True)
    fragment.write_text('<div id="findings">Findings</div>\n', encoding="utf-8")
    monkeypatch.chdir(tmp_path)


def workflow_config(tmp_path: Path, **review: str) -> dict[str, Any]:
    """The shipped config with ``review`` keys set, validated, plus what common.smk adds."""
    data = yaml.safe_load((ROOT / "config/config.yaml").read_text(encoding="utf-8"))
    data["review"].update(review)
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    config = load_config(path, SCHEMA)
    config[REPORT_RST_KEY] = report_rst(config)
    return config


def test_the_title_is_shown_literally_in_the_report(tmp_path: Path) -> None:
    """A title the schema allows (one line) with inline markup: strong ends, a link, a role..."""
    title = INLINE + " ** `x <javascript:alert(4)>`_ ** \\ [#]_ <b>b</b> &amp; |s|_"
    config = workflow_config(tmp_path, title=title)
    body = render_caption(TEMPLATES / "workflow.rst", config)
    assert_inert(body)
    assert f"ohevidence review: {title} ." in shown_text(body)  # ' .': the </strong> before the stop


def test_the_question_is_shown_literally_with_no_block_markup(tmp_path: Path) -> None:
    question = INLINE + BLOCK
    config = workflow_config(tmp_path, question=question)
    body = render_caption(TEMPLATES / "workflow.rst", config)
    assert_inert(body)
    assert "alert(3)" in shown_text(body) and "/proc/self/environ" in shown_text(body)  # as text
    assert f"Review question: {' '.join(question.split())}" in shown_text(body)


def test_no_question_no_line(tmp_path: Path) -> None:
    body = render_caption(TEMPLATES / "workflow.rst", workflow_config(tmp_path, question=""))
    assert "Review question" not in body


@pytest.mark.parametrize("text", [INLINE, INLINE + BLOCK, "\\", "a\\`b", "**", "- item", "1. first", "::"])
def test_rst_text_reads_back_as_its_characters(text: str) -> None:
    body = str(publish_parts(f"Text: {rst_text(text)}", writer="html")["html_body"])
    assert_inert(body)
    assert shown_text(body) == "Text: " + " ".join(text.split())


def test_every_caption_prints_config_text_only_escaped() -> None:
    """Every ``{{ ... }}`` in workflow/report/*.rst: escaped config text, the mode (an enum) or the
    analysis wildcard (an id: letters, digits, '_', '-', '.', checked by the config schema)."""
    allowed = {
        'snakemake.config["report_rst"]["title"]',
        'snakemake.config["report_rst"]["question"]',
        'snakemake.config["mode"]',
        "snakemake.wildcards.analysis",
    }
    found = {
        (path.name, expression.strip())
        for path in TEMPLATES.glob("*.rst")
        for expression in re.findall(r"\{\{(.*?)\}\}|\{%(.*?)%\}", path.read_text(encoding="utf-8"))
        for expression in expression
        if expression
    }
    for name, expression in found:
        used = re.sub(r"^(if|endif)\b", "", expression).strip()
        assert not used or used in allowed, f"{name}: {{{{ {expression} }}}} prints unescaped text"
    assert ("workflow.rst", 'snakemake.config["report_rst"]["title"]') in found


def test_the_workflow_sets_the_escaped_text_after_validation() -> None:
    """common.smk adds report_rst once the config is valid (so no config file can set it)."""
    common = (ROOT / "workflow/rules/common.smk").read_text(encoding="utf-8")
    assert "config[REPORT_RST_KEY] = report_rst(config)" in common
    assert common.index("config.update(load_workflow_config(") < common.index("config[REPORT_RST_KEY] =")
    schema = SCHEMA.read_text(encoding="utf-8")
    assert "report_rst" not in schema  # not a user key: a config that sets it is refused


def test_curated_labels_are_drawn_literally_in_figures(tmp_path: Path) -> None:
    """A study acronym and a job-role label with '$...$' and HTML: the SVG holds the characters."""
    paths = synthetic_analysis(tmp_path, 2)
    with paths["studies"].open(encoding="utf-8", newline="") as handle:
        studies = list(csv.DictReader(handle))
    studies[0]["acronym"] = "T$x$ <script>alert(1)</script>"
    with paths["studies"].open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(studies[0]))
        writer.writeheader()
        writer.writerows(studies)
    roles = paths["job_roles"].read_text(encoding="utf-8")
    first_label = re.search(r"label: (.*)", roles)
    assert first_label
    paths["job_roles"].write_text(roles.replace(first_label.group(0), "label: Nurse $\\alpha$ <b>", 1))
    data = load_forest_data(paths["json"], paths["studies"], paths["outcomes"], paths["job_roles"])
    fig, _ = draw_forest(data)
    [svg] = save_figure(fig, tmp_path / "forest", dpi=40, formats=("svg",))
    text = svg.read_text(encoding="utf-8")
    assert "<script" not in text and "<b>" not in text
    # drawn text (matplotlib also copies each string into an XML comment: not what is shown)
    drawn = [html.unescape(t) for t in re.findall(r"<text\b[^>]*>(.*?)</text>", text, flags=re.DOTALL)]
    assert any("T$x$ <script>alert(1)</script>" in t for t in drawn), drawn
    assert any("Nurse $\\alpha$ <b>" in t for t in drawn), drawn
