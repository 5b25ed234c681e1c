"""Curated evidence tables (data/curated/): load them and check every cell.

Reviewers edit studies.csv, outcomes.csv, job_roles.yaml and case_studies.csv by hand, and
optionally study_reports.csv (further reports of a curated study: process and economic
evaluations, follow-ups, each with the PMID/DOI that links it to its study) and costs.csv (every
cost figure the evidence prints, one row each). A typo
there (an SD of -21.7, 180 events out of 158) would flow silently into the meta-analysis, so
:func:`validate_curated` checks types, ranges, vocabularies, duplicate keys and references and
returns *every* problem at once, each naming file, line and column. Nothing is written.

ci_level is a fraction (0.95, 0.80): the issue's contract says 0 < ci_level < 1, while the
evidence prints "95%"/"80%"; a value like 95 is reported with the hint to write 0.95.
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ohevidence.appraisal import TOOLS, Tool
from ohevidence.cells import split_multi
from ohevidence.errors import InputError, separator_message, wrong_separator
from ohevidence.records import normalise_doi, normalise_pmid
from ohevidence.schema import (
    CASE_STUDY_COLUMNS,
    COST_COLUMNS,
    GRADE_COLUMNS,
    JOB_ROLE_KEYS,
    NO_ROLE_NAMED,
    OUTCOME_COLUMNS,
    OUTCOME_FLAGS,
    PROFESSIONAL_GROUPS,
    RATIO_MEASURES,
    REVIEW_CURATED_COLUMNS,
    REVIEW_FINDING_CURATED_COLUMNS,
    REVIEW_STUDY_COLUMNS,
    STUDY_COLUMNS,
    STUDY_REPORT_COLUMNS,
    Column,
    names,
)
from ohevidence.textfile import decode_text, read_bytes
from ohevidence.yamlio import YamlError, read_yaml

STUDIES_FILE = "studies.csv"
OUTCOMES_FILE = "outcomes.csv"
JOB_ROLES_FILE = "job_roles.yaml"
CASE_STUDIES_FILE = "case_studies.csv"
# Further reports of curated studies (process and economic evaluations, follow-ups): optional.
STUDY_REPORTS_FILE = "study_reports.csv"
# GRADE judgements per analysis for the summary of findings: optional (absent = not assessed).
GRADE_FILE = "grade.csv"
# Cost figures printed by the evidence (economic table): optional (absent = no cost figures).
COSTS_FILE = "costs.csv"
# Review of reviews (optional, together): review versions, their findings, their primary studies.
REVIEWS_FILE = "reviews.csv"
REVIEW_FINDINGS_FILE = "review_findings.csv"
REVIEW_STUDIES_FILE = "review_studies.csv"

# A ratio CI whose estimate sits further than this share of the half-width from the CI's
# log-scale midpoint is suspicious (rounding alone moves it a few per cent): e.g. RETAKE's
# printed OR 1.12 (0.8 to 1.87) sits 21% off centre.
ASYMMETRY_TOLERANCE = 0.15
_REGISTRY = re.compile(r"ISRCTN\d{8}|NCT\d{8}|EudraCT \d{4}-\d{6}-\d{2}")
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")


@dataclass(frozen=True)
class Problem:
    """One bad cell: printed as ``file:line:column: value — what was expected``."""

    file: str
    line: int
    column: str
    value: str
    expected: str
    severity: str = "error"  # or "warning": reported, but does not fail validation
    # The file as a whole cannot be read (missing, not text, wrong separator, not YAML...): this is
    # its one problem, and no check that refers to its content runs (no cascade of 'unknown id').
    whole_file: bool = False

    def __str__(self) -> str:
        prefix = "warning: " if self.severity == "warning" else ""
        if self.column == "-" and not self.value:  # about the file, not a cell: 'file:27: not valid YAML...'
            return f"{self.file}:{self.line}: {prefix}{self.expected}"
        return f"{self.file}:{self.line}:{self.column}: {self.value!r} — {prefix}{self.expected}"


@dataclass(frozen=True)
class Row:
    line: int  # 1-based line where the row starts (the header is line 1)
    cells: dict[str, str]


@dataclass
class CuratedTables:
    studies: list[Row]
    outcomes: list[Row]
    case_studies: list[Row]
    roles: dict[str, dict[str, Any]]  # id -> entry (with '_line')
    reports: list[Row] = field(default_factory=list)
    grade: list[Row] = field(default_factory=list)
    costs: list[Row] = field(default_factory=list)
    reviews: list[Row] = field(default_factory=list)
    review_findings: list[Row] = field(default_factory=list)
    review_studies: list[Row] = field(default_factory=list)


# ---------------------------------------------------------------------------
# Reading (every problem is collected, never raised)
# ---------------------------------------------------------------------------
def read_rows(path: Path, columns: Sequence[Column], problems: list[Problem]) -> list[Row]:
    """Rows of a curated CSV with their line numbers; header problems go to ``problems``."""
    label = str(path)
    if not path.exists():
        problems.append(Problem(label, 0, "-", "", "file not found", whole_file=True))
        return []
    rows: list[Row] = []
    try:
        decoded = decode_text(read_bytes(path), path)
    except InputError as exc:
        problems.append(
            Problem(label, exc.line or 0, "-", "", exc.message + f" ({exc.expected})", whole_file=True)
        )
        return []
    if decoded.note:  # Excel's plain "CSV" (Windows-1252): read, and say so
        problems.append(
            Problem(
                label,
                decoded.first_line or 1,
                "-",
                decoded.encoding,
                decoded.note,
                severity="warning",
            )
        )
    with io.StringIO(decoded.text, newline="") as handle:
        reader = csv.reader(handle)
        try:
            header = next(reader)
        except StopIteration:
            problems.append(
                Problem(label, 1, "-", "", "a header line " + ",".join(names(columns)), whole_file=True)
            )
            return []
        expected = names(columns)
        separator = wrong_separator(header, expected)
        if separator:  # one message, not one per column and per row
            problems.append(
                Problem(label, 1, "-", ",".join(header)[:60], separator_message(separator), whole_file=True)
            )
            return []
        if not set(header) & set(expected):
            problems.append(
                Problem(
                    label,
                    1,
                    "-",
                    ",".join(header)[:60],
                    "a header line " + ",".join(expected) + " (none of these columns found)",
                    whole_file=True,
                )
            )
            return []
        for name in expected:
            if name not in header:
                problems.append(Problem(label, 1, name, "", "this column in the header (missing)"))
        for name in header:
            if name not in expected:
                problems.append(Problem(label, 1, name, name, "only the columns " + ",".join(expected)))
        start = reader.line_num + 1
        for cells in reader:
            line = start
            start = reader.line_num + 1
            if not any(cell.strip() for cell in cells):
                continue
            if len(cells) != len(header):
                problems.append(
                    Problem(label, line, "-", f"{len(cells)} cells", f"{len(header)} cells, one per column")
                )
            rows.append(
                Row(line, {name: (cells[i] if i < len(cells) else "") for i, name in enumerate(header)})
            )
    return rows


def read_job_roles(path: Path, problems: list[Problem]) -> dict[str, dict[str, Any]]:
    """Taxonomy entries by id, each with the YAML line it starts on (``_line``)."""
    label = str(path)
    if not path.exists():
        problems.append(Problem(label, 0, "-", "", "file not found", whole_file=True))
        return {}
    try:
        data, node = read_yaml(path)
    except YamlError as exc:
        expected = f"{exc.message}; expected {exc.expected}" if exc.expected else exc.message
        problems.append(Problem(label, exc.line or 0, "-", "", expected, whole_file=True))
        return {}
    if node is None or not isinstance(data, dict) or not isinstance(data.get("roles"), list):
        problems.append(Problem(label, 1, "roles", "", "a top-level 'roles:' list", whole_file=True))
        return {}
    role_nodes = next(v for k, v in node.value if k.value == "roles").value
    roles: dict[str, dict[str, Any]] = {}
    for entry, entry_node in zip(data["roles"], role_nodes, strict=True):
        line = entry_node.start_mark.line + 1
        if not isinstance(entry, dict):
            problems.append(
                Problem(
                    label, line, "-", str(entry), "a mapping with id, label, synonyms, professional_group"
                )
            )
            continue
        key_lines = {key.value: key.start_mark.line + 1 for key, _ in entry_node.value}
        for key in entry:
            if key not in JOB_ROLE_KEYS:
                allowed = "only the keys " + ", ".join(JOB_ROLE_KEYS)
                problems.append(Problem(label, key_lines.get(key, line), str(key), str(key), allowed))
        role_id = str(entry.get("id", ""))
        for key in ("id", "label", "professional_group", "source"):
            if not str(entry.get(key) or "").strip():
                problems.append(Problem(label, line, key, "", "a non-empty value"))
        if role_id and not re.fullmatch(r"[a-z0-9_]+", role_id):
            problems.append(Problem(label, line, "id", role_id, "an id of a-z, 0-9 and _"))
        group = str(entry.get("professional_group") or "")
        if group and group not in PROFESSIONAL_GROUPS:
            problems.append(
                Problem(label, line, "professional_group", group, "one of " + ", ".join(PROFESSIONAL_GROUPS))
            )
        synonyms = entry.get("synonyms")
        if (
            not isinstance(synonyms, list)
            or not synonyms
            or not all(isinstance(s, str) and s for s in synonyms)
        ):
            problems.append(Problem(label, line, "synonyms", str(synonyms), "a non-empty list of strings"))
        if role_id in roles:
            problems.append(
                Problem(label, line, "id", role_id, f"a unique id (also on line {roles[role_id]['_line']})")
            )
            continue
        if role_id:
            roles[role_id] = {**entry, "_line": line}
    return roles


def load_job_roles(path: str | Path) -> dict[str, dict[str, Any]]:
    """The job-role taxonomy for a stage that uses it (effects, forest plots, tables).

    One reader for the taxonomy everywhere. It raises only when the file cannot serve as a
    taxonomy at all (missing, not YAML, no ``roles:`` list, an entry without a usable id);
    checking every field of every entry is ``ohevidence validate``'s job, the DAG's first rule.
    """
    problems: list[Problem] = []
    roles = read_job_roles(Path(path), problems)
    fatal = [p for p in errors(problems) if p.column in ("-", "roles", "id")]
    if fatal:
        first = fatal[0]
        raise InputError(
            first.file,
            f"{first.value!r} is not valid" if first.value else "cannot be read as a job-role taxonomy",
            line=first.line or None,
            column=None if first.column == "-" else first.column,
            expected=first.expected,
        )
    return roles


def load_curated(curated_dir: str | Path, problems: list[Problem]) -> CuratedTables:
    folder = Path(curated_dir)
    return CuratedTables(
        studies=read_rows(folder / STUDIES_FILE, STUDY_COLUMNS, problems),
        outcomes=read_rows(folder / OUTCOMES_FILE, OUTCOME_COLUMNS, problems),
        case_studies=read_rows(folder / CASE_STUDIES_FILE, CASE_STUDY_COLUMNS, problems),
        roles=read_job_roles(folder / JOB_ROLES_FILE, problems),
        reports=read_rows(folder / STUDY_REPORTS_FILE, STUDY_REPORT_COLUMNS, problems)
        if (folder / STUDY_REPORTS_FILE).exists()
        else [],
        grade=read_rows(folder / GRADE_FILE, GRADE_COLUMNS, problems)
        if (folder / GRADE_FILE).exists()
        else [],
        costs=read_rows(folder / COSTS_FILE, COST_COLUMNS, problems)
        if (folder / COSTS_FILE).exists()
        else [],
        **_review_tables(folder, problems),
    )


def _review_tables(folder: Path, problems: list[Problem]) -> dict[str, list[Row]]:
    """The review-of-reviews tables: all optional, but findings or studies need reviews.csv."""
    present = {
        name: (folder / file).exists()
        for name, file in (
            ("reviews", REVIEWS_FILE),
            ("review_findings", REVIEW_FINDINGS_FILE),
            ("review_studies", REVIEW_STUDIES_FILE),
        )
    }
    if not present["reviews"] and (present["review_findings"] or present["review_studies"]):
        problems.append(
            Problem(
                str(folder / REVIEWS_FILE), 0, "-", "", "file not found (review findings need their reviews)"
            )
        )
    return {
        "reviews": read_rows(folder / REVIEWS_FILE, REVIEW_CURATED_COLUMNS, problems)
        if present["reviews"]
        else [],
        "review_findings": read_rows(folder / REVIEW_FINDINGS_FILE, REVIEW_FINDING_CURATED_COLUMNS, problems)
        if present["review_findings"]
        else [],
        "review_studies": read_rows(folder / REVIEW_STUDIES_FILE, REVIEW_STUDY_COLUMNS, problems)
        if present["review_studies"]
        else [],
    }


# ---------------------------------------------------------------------------
# Checks
# ---------------------------------------------------------------------------
def check_cells(label: str, rows: Iterable[Row], columns: Sequence[Column]) -> list[Problem]:
    """Required cells, patterns (numbers, vocabularies, identifiers) of one table."""
    problems: list[Problem] = []
    for row in rows:
        for column in columns:
            if column.name not in row.cells:
                continue
            value = row.cells[column.name]
            if value != value.strip():
                problems.append(Problem(label, row.line, column.name, value, "no leading or trailing spaces"))
            value = value.strip()
            if column.required and not value:
                problems.append(Problem(label, row.line, column.name, value, "a non-empty value"))
            elif value and column.pattern and not re.fullmatch(column.pattern, value):
                problems.append(Problem(label, row.line, column.name, value, _describe(column)))
    return problems


def _describe(column: Column) -> str:
    pattern = column.pattern or ""
    if pattern == r"-?\d+(?:\.\d+)?":
        return "a number such as 9.3 or -16.18"
    if pattern == r"\d+":
        return "a whole number"
    if pattern == "true|false":
        return "true or false"
    if "|" in pattern and "\\d" not in pattern:
        return "one of: " + pattern.replace("\\", "").replace("|", ", ")
    return f"a value matching {pattern}"


def check_unique(label: str, rows: Iterable[Row], key: Sequence[str]) -> list[Problem]:
    problems: list[Problem] = []
    seen: dict[tuple[str, ...], int] = {}
    for row in rows:
        value = tuple(row.cells.get(k, "").strip() for k in key)
        if value in seen:
            problems.append(
                Problem(
                    label,
                    row.line,
                    "+".join(key),
                    "/".join(value),
                    f"a unique key (also on line {seen[value]})",
                )
            )
        else:
            seen[value] = row.line
    return problems


def _num(row: Row, name: str) -> float | None:
    value = row.cells.get(name, "").strip()
    return float(value) if _NUMBER.fullmatch(value) else None


def check_studies(label: str, rows: Sequence[Row], roles: dict[str, dict[str, Any]] | None) -> list[Problem]:
    """``roles`` None: job_roles.yaml could not be read (its one problem says why), so the study
    rows' role ids are not checked against it."""
    problems = check_cells(label, rows, STUDY_COLUMNS) + check_unique(label, rows, ["study_id"])
    for row in rows:
        for role in split_multi(row.cells.get("job_role", "")):
            if roles is not None and role not in roles:
                problems.append(
                    Problem(label, row.line, "job_role", role, f"a role id from {JOB_ROLES_FILE}")
                )
        for rid in split_multi(row.cells.get("registry_ids", "")):
            if not _REGISTRY.fullmatch(rid):
                problems.append(
                    Problem(
                        label,
                        row.line,
                        "registry_ids",
                        rid,
                        "ISRCTN + 8 digits, NCT + 8 digits or 'EudraCT yyyy-nnnnnn-cc'",
                    )
                )
        n = _num(row, "n_randomised")
        if n is not None and n <= 0:
            problems.append(Problem(label, row.line, "n_randomised", row.cells["n_randomised"], "n > 0"))
    known = {row.cells.get("study_id", "").strip() for row in rows}
    for row in rows:
        for included in split_multi(row.cells.get("included_studies", "")):
            if included not in known:
                problems.append(
                    Problem(
                        label, row.line, "included_studies", included, f"a study_id listed in {STUDIES_FILE}"
                    )
                )
    return problems


def check_outcomes(
    label: str,
    rows: Sequence[Row],
    studies: dict[str, Row] | None,
    roles: dict[str, dict[str, Any]] | None = None,
) -> list[Problem]:
    """``studies`` or ``roles`` None: that file could not be read, its ids are not checked."""
    problems = check_cells(label, rows, OUTCOME_COLUMNS)
    problems += check_unique(label, rows, ["study_id", "outcome_id", "timepoint_months"])
    for row in rows:
        problems += _check_outcome_row(label, row, studies)
        for role in split_multi(row.cells.get("job_role", "")):
            if roles is not None and role not in roles:
                problems.append(
                    Problem(label, row.line, "job_role", role, f"a role id from {JOB_ROLES_FILE}")
                )
        flags = split_multi(row.cells.get("flags", ""))
        if "between_arms" in flags and len(split_multi(row.cells.get("job_role", ""))) != 2:
            problems.append(
                Problem(
                    label,
                    row.line,
                    "flags",
                    "between_arms",
                    f"two role ids on a between_arms row in job_role (the first arm's role; the second's), "
                    f"not {row.cells.get('job_role', '')!r}",
                )
            )
        if "between_arms" in flags:
            for column in ("estimate", "ci_low", "ci_high", "ci_level"):
                if _num(row, column) is None:
                    problems.append(
                        Problem(
                            label, row.line, column, "", "the printed difference between the arms with its CI"
                        )
                    )
        if "shared_control" in flags:
            for column in ("n_int", "n_ctl"):
                if _num(row, column) is None:
                    problems.append(
                        Problem(
                            label,
                            row.line,
                            column,
                            "",
                            "arm sizes on a shared_control row (the shared control is split or the arms "
                            "combined by n)",
                        )
                    )
    return problems


def _check_outcome_row(label: str, row: Row, studies: dict[str, Row] | None) -> list[Problem]:
    problems: list[Problem] = []

    def bad(column: str, expected: str, severity: str = "error") -> None:
        problems.append(Problem(label, row.line, column, row.cells.get(column, ""), expected, severity))

    study_id = row.cells.get("study_id", "").strip()
    if studies is None:
        studies = {}
    elif study_id and study_id not in studies:
        bad("study_id", f"a study_id listed in {STUDIES_FILE}")
    for flag in split_multi(row.cells.get("flags", "")):
        if flag not in OUTCOME_FLAGS:
            problems.append(Problem(label, row.line, "flags", flag, "one of " + ", ".join(OUTCOME_FLAGS)))

    for arm in ("int", "ctl"):
        n = _num(row, f"n_{arm}")
        if n is not None and n <= 0:
            bad(f"n_{arm}", "n > 0")
        events = _num(row, f"events_{arm}")
        if events is not None:
            if n is None:
                bad(f"events_{arm}", f"events only together with n_{arm}")
            elif not 0 <= events <= n:
                bad(f"events_{arm}", f"0 <= events <= n_{arm} ({row.cells[f'n_{arm}']})")
        sd = _num(row, f"sd_{arm}")
        if sd is not None and sd <= 0:
            bad(f"sd_{arm}", "SD > 0")
        if sd is not None and _num(row, f"mean_{arm}") is None:
            bad(f"sd_{arm}", f"an SD only together with mean_{arm}")

    estimate, low, high = _num(row, "estimate"), _num(row, "ci_low"), _num(row, "ci_high")
    level = _num(row, "ci_level")
    measure = row.cells.get("measure", "").strip()
    low_given, high_given = (bool(row.cells.get(c, "").strip()) for c in ("ci_low", "ci_high"))
    if low_given != high_given:  # a malformed limit is reported once, by its pattern
        bad("ci_high" if not high_given else "ci_low", "both confidence limits, or neither")
    if low is not None and high is not None:
        if low > high:
            bad("ci_low", f"ci_low <= ci_high ({row.cells['ci_high']})")
        elif estimate is not None and not low <= estimate <= high:
            bad("estimate", f"an estimate inside its CI [{row.cells['ci_low']}, {row.cells['ci_high']}]")
        if level is None:
            bad("ci_level", "a confidence level (0.95 for a 95% CI) whenever a CI is given")
    if level is not None and not 0 < level < 1:
        hint = f" (write {level / 100:g}, not {row.cells['ci_level']})" if 1 < level < 100 else ""
        bad("ci_level", "0 < ci_level < 1" + hint)
    if measure in RATIO_MEASURES:
        for column, value in (("estimate", estimate), ("ci_low", low), ("ci_high", high)):
            if value is not None and value <= 0:
                bad(column, f"a positive value ({measure} is a ratio)")
    if estimate is not None and low is not None and high is not None:
        if low <= estimate <= high and low < high:
            problems += _asymmetry(label, row, measure, estimate, low, high)
    icc = _num(row, "icc")
    if icc is not None and not 0 <= icc <= 1:
        bad("icc", "0 <= icc <= 1")
    clusters = _num(row, "clusters")
    if clusters is not None and clusters <= 0:
        bad("clusters", "clusters > 0")
    timepoint = _num(row, "timepoint_months")
    if timepoint is not None and timepoint < 0:
        bad("timepoint_months", "timepoint_months >= 0")

    if study_id in studies:
        n_rand = _num(studies[study_id], "n_randomised")
        n_int, n_ctl = _num(row, "n_int"), _num(row, "n_ctl")
        if n_rand is not None and n_int is not None and n_ctl is not None and n_int + n_ctl > n_rand:
            bad(
                "n_ctl",
                f"n_int + n_ctl <= n_randomised of {study_id} ({studies[study_id].cells['n_randomised']})",
            )
    return problems


def _asymmetry(label: str, row: Row, measure: str, estimate: float, low: float, high: float) -> list[Problem]:
    """Warn when the estimate is far from the middle of its CI (log scale for ratios)."""
    if measure in RATIO_MEASURES:
        if min(estimate, low, high) <= 0:
            return []
        estimate, low, high = math.log(estimate), math.log(low), math.log(high)
        scale = "log scale"
    else:
        scale = "natural scale"
    half_width = (high - low) / 2
    offset = abs(estimate - (low + high) / 2)
    if half_width > 0 and offset / half_width > ASYMMETRY_TOLERANCE:
        return [
            Problem(
                label,
                row.line,
                "estimate",
                row.cells["estimate"],
                f"a CI roughly symmetric around the estimate on the {scale} (estimate is "
                f"{offset / half_width:.0%} of the half-width off centre: check the printed numbers)",
                "warning",
            )
        ]
    return []


def _check_role_ids(
    label: str, row: Row, column: str, roles: Mapping[str, Any], *, allow: str = ""
) -> list[Problem]:
    """Every '; '-joined id of ``column`` is a job_roles.yaml id (or the one ``allow`` token alone)."""
    value = row.cells.get(column, "").strip()
    if not value or (allow and value == allow):
        return []
    return [
        Problem(
            label, row.line, column, role, "a job_roles.yaml id" + (f" or '{allow}' alone" if allow else "")
        )
        for role in split_multi(value)
        if role not in roles
    ]


def check_case_studies(
    label: str, rows: Sequence[Row], roles: Mapping[str, Any] | None = None
) -> list[Problem]:
    """Cells, unique ids, and role codes from the taxonomy (or 'no role named'); ``roles`` None:
    job_roles.yaml could not be read (already one problem), role codes are not checked."""
    problems = check_cells(label, rows, CASE_STUDY_COLUMNS) + check_unique(label, rows, ["case_id"])
    if roles is None:
        return problems
    for row in rows:
        problems += _check_role_ids(label, row, "role_codes", roles, allow=NO_ROLE_NAMED)
    return problems


def check_costs(
    label: str,
    rows: Sequence[Row],
    studies: Mapping[str, Row] | None,
    roles: Mapping[str, Any] | None,
) -> list[Problem]:
    """Cost figures: cells (currency, perspective, amount, source), unique ids, their study and roles
    (``studies`` / ``roles`` None: that file could not be read, its ids are not checked)."""
    problems = check_cells(label, rows, COST_COLUMNS) + check_unique(label, rows, ["cost_id"])
    for row in rows:
        study_id = row.cells.get("study_id", "").strip()
        if studies is not None and study_id and study_id not in studies:
            problems.append(Problem(label, row.line, "study_id", study_id, "a study_id of studies.csv"))
        if roles is not None:
            problems += _check_role_ids(label, row, "job_role", roles)
    return problems


def check_reports(label: str, rows: Sequence[Row], studies: dict[str, Row] | None) -> list[Problem]:
    """Reports name a curated study and an identifier no other study or report claims
    (``studies`` None: studies.csv could not be read, study ids are not checked)."""
    problems = check_cells(label, rows, STUDY_REPORT_COLUMNS)
    known = studies is not None
    studies = studies or {}
    normalise = {"pmid": normalise_pmid, "doi": normalise_doi, "nihr_doi": normalise_doi}
    owner: dict[tuple[str, str], str] = {}
    for study_id, row in studies.items():
        for column, norm in normalise.items():
            value = norm(row.cells.get(column))
            if value:
                owner[(column.removeprefix("nihr_"), value)] = f"study {study_id}"
    for row in rows:
        study_id = row.cells.get("study_id", "").strip()
        if known and study_id and study_id not in studies:
            problems.append(Problem(label, row.line, "study_id", study_id, "a study_id of studies.csv"))
        found = {column: normalise[column](row.cells.get(column)) for column in ("pmid", "doi")}
        if not any(found.values()):
            problems.append(Problem(label, row.line, "pmid", "", "a pmid or a doi (both empty)"))
        for column, value in found.items():
            if not value:
                continue
            claimed = owner.get((column, value))
            if claimed:
                problems.append(
                    Problem(label, row.line, column, value, f"an identifier not already given to {claimed}")
                )
            else:
                owner[(column, value)] = f"the report on line {row.line}"
    return problems


def _check_roles(label: str, row: Row, roles: Mapping[str, Any] | None) -> list[Problem]:
    if roles is None:  # job_roles.yaml could not be read: already one problem
        return []
    return [
        Problem(label, row.line, "job_role", role, f"a role id from {JOB_ROLES_FILE}")
        for role in split_multi(row.cells.get("job_role", ""))
        if role not in roles
    ]


def check_reviews(
    folder: Path,
    tables: CuratedTables,
    studies: Mapping[str, Row] | None,
    roles: Mapping[str, Any] | None,
) -> list[Problem]:
    """reviews.csv, review_findings.csv and review_studies.csv: cells, keys, references, numbers
    (``studies`` / ``roles`` None: that file could not be read, its ids are not checked)."""
    known = studies is not None
    studies = studies or {}
    label = str(folder / REVIEWS_FILE)
    problems = check_cells(label, tables.reviews, REVIEW_CURATED_COLUMNS)
    problems += check_unique(label, tables.reviews, ["review_id"])
    reviews = {row.cells.get("review_id", "").strip() for row in tables.reviews}
    for row in tables.reviews:
        problems += _check_roles(label, row, roles)
        review_id = row.cells.get("review_id", "").strip()
        if review_id in studies:
            problems.append(
                Problem(
                    label,
                    row.line,
                    "review_id",
                    review_id,
                    "an id that is not also a study_id of studies.csv "
                    "(a review is never a primary study: its estimates must not enter a meta-analysis)",
                )
            )
        for other in split_multi(row.cells.get("other_reports", "")):
            if not (normalise_pmid(other) or normalise_doi(other)):
                problems.append(Problem(label, row.line, "other_reports", other, "a PMID or a DOI"))
    label = str(folder / REVIEW_FINDINGS_FILE)
    problems += check_cells(label, tables.review_findings, REVIEW_FINDING_CURATED_COLUMNS)
    problems += check_unique(
        label, tables.review_findings, ["review_id", "outcome", "comparison", "timepoint"]
    )
    for row in tables.review_findings:
        problems += _check_finding(label, row, reviews, roles)
    label = str(folder / REVIEW_STUDIES_FILE)
    problems += check_cells(label, tables.review_studies, REVIEW_STUDY_COLUMNS)
    problems += check_unique(label, tables.review_studies, ["review_id", "study"])
    for row in tables.review_studies:
        review_id = row.cells.get("review_id", "").strip()
        if review_id and review_id not in reviews:
            problems.append(
                Problem(label, row.line, "review_id", review_id, f"a review_id of {REVIEWS_FILE}")
            )
        study_id = row.cells.get("study_id", "").strip()
        if known and study_id and study_id not in studies:
            problems.append(
                Problem(label, row.line, "study_id", study_id, f"a study_id of {STUDIES_FILE} or empty")
            )
    return problems


def _check_finding(label: str, row: Row, reviews: set[str], roles: Mapping[str, Any] | None) -> list[Problem]:
    problems = _check_roles(label, row, roles)
    cells = row.cells

    def bad(column: str, expected: str) -> None:
        problems.append(Problem(label, row.line, column, cells.get(column, ""), expected))

    review_id = cells.get("review_id", "").strip()
    if review_id and review_id not in reviews:
        bad("review_id", f"a review_id of {REVIEWS_FILE}")
    measure = cells.get("measure", "").strip()
    numbers = {name: _num(row, name) for name in ("estimate", "ci_lower", "ci_upper")}
    if numbers["estimate"] is not None and not measure:
        bad("measure", "the effect measure of the estimate (HR, RR, OR, MD or SMD)")
    if measure and numbers["estimate"] is None:
        bad("measure", "a measure only with its estimate (estimate empty = NOT FOUND: leave measure empty)")
    if numbers["estimate"] is None and (numbers["ci_lower"] is not None or numbers["ci_upper"] is not None):
        bad("estimate", "an estimate for the confidence interval given")
    if measure in RATIO_MEASURES:
        for name, value in numbers.items():
            if value is not None and value <= 0:
                bad(name, f"a {measure} above 0 (ratios are printed on their own scale)")
    estimate, low, high = numbers["estimate"], numbers["ci_lower"], numbers["ci_upper"]
    if (low is None) != (high is None):
        bad("ci_upper" if high is None else "ci_lower", "both confidence limits, or neither")
    elif estimate is not None and low is not None and high is not None:
        if not low <= estimate <= high:
            bad("estimate", f"an estimate inside its interval [{low}, {high}]")
        else:
            problems += _asymmetry(label, row, measure, estimate, low, high)
    if cells.get("evidence_label", "").strip() == "S" and "[S]" not in cells.get("notes", "") + cells.get(
        "source", ""
    ):
        bad("notes", "the [S] label kept in notes or source (a secondary summary's value)")
    return problems


def check_appraisal(
    label: str, rows: Sequence[Row], tool: Tool, studies: Mapping[str, Row] | None
) -> list[Problem]:
    """An appraisal table (rob.csv, robins_i.csv, amstar2.csv): cells, keys, studies and the overall
    (``studies`` None: studies.csv could not be read, study ids are not checked)."""
    problems = check_cells(label, rows, tool.columns) + check_unique(label, rows, list(tool.key))
    for row in rows:
        study_id = row.cells.get("study_id", "").strip()
        if studies is not None and study_id and study_id not in studies:
            problems.append(
                Problem(
                    label,
                    row.line,
                    "study_id",
                    study_id,
                    "a study_id of studies.csv (AMSTAR 2: or a review_id of reviews.csv)",
                )
            )
        if any(p.line == row.line for p in problems):
            continue  # the algorithm needs valid cells
        problems += [
            Problem(label, row.line, c.column, c.value, c.expected) for c in tool.problems(row.cells)
        ]
    return problems


def validate_curated(
    curated_dir: str | Path, appraisal: Mapping[str, str | Path | None] | None = None
) -> list[Problem]:
    """Every problem in the curated tables (errors and warnings), in file and line order.

    ``appraisal`` maps an appraisal table's file name (rob.csv, robins_i.csv, amstar2.csv) to its
    configured path (default: that name in ``curated_dir``); an absent file is not an error.
    """
    folder = Path(curated_dir)
    problems: list[Problem] = []
    tables = load_curated(folder, problems)
    # A file that cannot be read at all is one problem: the ids other tables take from it are
    # not checked (a broken job_roles.yaml is not also 27 'unknown role' lines).
    unreadable = {p.file for p in problems if p.whole_file}
    studies_file, roles_file = str(folder / STUDIES_FILE), str(folder / JOB_ROLES_FILE)
    studies: dict[str, Row] | None = (
        None
        if studies_file in unreadable
        else {row.cells.get("study_id", "").strip(): row for row in tables.studies}
    )
    roles = None if roles_file in unreadable else tables.roles
    problems += check_studies(studies_file, tables.studies, roles)
    problems += check_outcomes(str(folder / OUTCOMES_FILE), tables.outcomes, studies, roles)
    problems += check_case_studies(str(folder / CASE_STUDIES_FILE), tables.case_studies, roles)
    problems += check_costs(str(folder / COSTS_FILE), tables.costs, studies, roles)
    problems += check_reports(str(folder / STUDY_REPORTS_FILE), tables.reports, studies)
    problems += check_cells(str(folder / GRADE_FILE), tables.grade, GRADE_COLUMNS)
    problems += check_unique(str(folder / GRADE_FILE), tables.grade, ["analysis_id"])
    problems += check_reviews(folder, tables, studies, roles)
    reviews = {row.cells.get("review_id", "").strip(): row for row in tables.reviews}
    for tool in TOOLS:
        path = Path((appraisal or {}).get(tool.file) or folder / tool.file)
        if path.is_file():
            rows = read_rows(path, tool.columns, problems)
            # AMSTAR 2 appraises reviews: their ids are review_ids of reviews.csv (or studies.csv ids)
            known = (
                None if studies is None else {**studies, **reviews} if tool.file == "amstar2.csv" else studies
            )
            problems += check_appraisal(str(path), rows, tool, known)
    return sorted(problems, key=lambda p: (p.file, p.line))


def errors(problems: Iterable[Problem]) -> list[Problem]:
    return [p for p in problems if p.severity == "error"]
