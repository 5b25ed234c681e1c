"""`ohevidence init DIR`: the folder of a new review, ready for its first run.

A review is a folder holding what the workflow reads (paths relative to it, as in this project):

    config/config.yaml                      no snapshot, no searches yet, no analyses yet
    data/raw/imports/                       where exported search results go
    data/curated/studies.csv, outcomes.csv, case_studies.csv, study_reports.csv   header rows only
    data/curated/job_roles.yaml             the project's job-role taxonomy, to edit
    README.md                               what to do next

The workflow itself stays in the project: ``snakemake --snakefile <project>/Snakefile --directory
DIR`` (or ``make run REVIEW=DIR`` in the project) runs it on the folder. Screening starts with
``screening.no_decisions_yet: true``: the decision file appears with the first decisions. Nothing
that exists is overwritten.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ohevidence.atomic import write_bytes_atomic, write_text_atomic
from ohevidence.csvio import write_csv
from ohevidence.curated import (
    CASE_STUDIES_FILE,
    JOB_ROLES_FILE,
    OUTCOMES_FILE,
    REVIEW_FINDINGS_FILE,
    REVIEW_STUDIES_FILE,
    REVIEWS_FILE,
    STUDIES_FILE,
    STUDY_REPORTS_FILE,
)
from ohevidence.errors import OhevidenceError
from ohevidence.schema import (
    CASE_STUDY_COLUMNS,
    OUTCOME_COLUMNS,
    REVIEW_CURATED_COLUMNS,
    REVIEW_FINDING_CURATED_COLUMNS,
    REVIEW_STUDY_COLUMNS,
    STUDY_COLUMNS,
    STUDY_REPORT_COLUMNS,
    Column,
    names,
)

# The project checkout this package was installed from (pip install -e): it holds the workflow.
PROJECT_DIR = Path(__file__).resolve().parents[2]

CURATED_TABLES: dict[str, tuple[Column, ...]] = {
    STUDIES_FILE: STUDY_COLUMNS,
    OUTCOMES_FILE: OUTCOME_COLUMNS,
    CASE_STUDIES_FILE: CASE_STUDY_COLUMNS,
    STUDY_REPORTS_FILE: STUDY_REPORT_COLUMNS,
    REVIEWS_FILE: REVIEW_CURATED_COLUMNS,
    REVIEW_FINDINGS_FILE: REVIEW_FINDING_CURATED_COLUMNS,
    REVIEW_STUDIES_FILE: REVIEW_STUDY_COLUMNS,
}

CONFIG_TEMPLATE = """\
# Configuration of this review (`ohevidence init`). Every key, its default and its meaning:
# {project}/config/README.md; check it with `ohevidence validate` in this folder.
review:
  title: "{title}"
  question: ""

# `live`: the records come from the `imports` below and any `live_searches` (none yet, so no
# network is used). `snapshot` would read the ohevidence project's demonstration records.
mode: live

# Exported search results (RIS, .nbib, PubMed XML, Crossref JSON or CSV) saved under
# data/raw/imports/. One entry per export, e.g.
#   - search_id: embase_2026_11
#     source: embase
#     platform: Ovid
#     format: ris
#     file: data/raw/imports/embase_2026-11-02.ris
#     query: "exp return to work/ and ..."
#     filters: "2000-current; English"
#     run_at: "2026-11-02T10:30:00Z"
imports: []

# Searches run against PubMed or the NIHR Journals Library (needs the network), e.g.
#   - search_id: pubmed_rtw
#     source: pubmed
#     query: '"return to work"[tiab] AND randomized controlled trial[pt]'
live_searches: []

screening:
  reviewers: [reviewer_a, reviewer_b]
  decisions: data/curated/screening/decisions.csv
  sheets_dir: data/curated/screening
  # Nothing screened yet. With the first decisions, save them (or the filled sheets of
  # results/screening/to_screen_<reviewer>.csv) under data/curated/screening/ and set this to false.
  no_decisions_yet: true
  exclusion_reasons:
    - {{code: wrong_population, description: "Population not eligible"}}
    - {{code: wrong_intervention, description: "Intervention not eligible"}}
    - {{code: wrong_design, description: "Design not eligible"}}

# Meta-analyses, one per question, once data/curated/outcomes.csv has rows. Each declares its PICO;
# rows outside it are left out and named. Pooling different populations, comparators, outcome
# definitions or time points needs allow_mixed and mix_reason. E.g.
#   - id: return_to_work_hr_by_role
#     domain: return_to_work
#     measure: HR
#     group_by: job_role
#     pico:
#       population: [sick_listed]
#       intervention_type: "work-focused intervention"
#       comparator_type: [usual_care]
#       outcome_definition: [rtw_full_sustained]
#       timepoint_months: {{min: 12, max: 12}}
analyses: []
"""

README_TEMPLATE = """\
# {title}

A review set up with `ohevidence init`. Run it from the ohevidence project ({project}):

    cd {project}
    make run REVIEW={folder}
    # or: .venv/bin/snakemake --snakefile Snakefile --directory {folder} --cores 2

1. Save your database exports under `data/raw/imports/` and list each under `imports:` in
   `config/config.yaml`; run. `results/screening/to_screen_<reviewer>.csv` then lists the records.
2. Screen: save decisions as `data/curated/screening/decisions.csv` (or the filled sheets in
   `data/curated/screening/`) and set `screening.no_decisions_yet: false`; run again.
3. Extract: fill `data/curated/studies.csv` and `outcomes.csv` (every row with its `source`),
   declare `analyses:` in the config; run again.

`data/curated/` is yours: no rule writes it. Outputs land in `results/`.
"""


def init_review(folder: str | Path, title: str = "", project: Path = PROJECT_DIR) -> list[Path]:
    """Write a new review into ``folder`` (new or empty); return the files written.

    Raises OhevidenceError if ``folder`` already holds files (nothing is overwritten) or if the
    project's job-role taxonomy cannot be found.
    """
    target = Path(folder)
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise OhevidenceError(f"{target}: not an empty folder; `ohevidence init` writes a new review only")
    taxonomy = project / "data" / "curated" / JOB_ROLES_FILE
    if not taxonomy.is_file():
        raise OhevidenceError(
            f"{taxonomy}: job-role taxonomy not found; `ohevidence init` needs the ohevidence project "
            "it was installed from (pip install -e <project>)"
        )
    title = title or target.resolve().name
    if '"' in title or "\\" in title:
        raise OhevidenceError(f"--title {title!r}: no double quotes or backslashes, please")
    files: dict[Path, str] = {
        Path("config/config.yaml"): CONFIG_TEMPLATE.format(project=project, title=title),
        Path("README.md"): README_TEMPLATE.format(project=project, title=title, folder=target.resolve()),
        Path("data/raw/imports/.gitkeep"): "",
    }
    written = []
    for relative, text in files.items():
        path = target / relative
        write_text_atomic(path, text)
        written.append(path)
    for name, columns in CURATED_TABLES.items():  # header rows only
        path = target / "data" / "curated" / name
        write_csv(pd.DataFrame(columns=names(columns)), path)
        written.append(path)
    roles = target / "data" / "curated" / JOB_ROLES_FILE
    write_bytes_atomic(roles, taxonomy.read_bytes())
    written.append(roles)
    return written
