"""Data contracts: the columns of every table a stage writes, written down once.

Each table is a tuple of :class:`Column`; controlled vocabularies sit beside the tables that use
them. This module holds contracts only: records are built by :mod:`ohevidence.records`, cell text
conventions live in :mod:`ohevidence.cells`, and tables are read and written against these
contracts by :mod:`ohevidence.tableio` (``read_table`` / ``write_table``), so a malformed file
stops the run with one error naming file, line and column.

All tables are UTF-8 CSV; empty string means "unknown" (never ``NA`` or ``nan``).
Multi-valued fields are joined with ``"; "``. A text cell a spreadsheet would run as a formula is
written with a leading ``'`` and read back without it, except in the machine tables
(:func:`ohevidence.tableio.is_machine_table`: effects.csv and the results/meta CSVs), which the
pipeline and other programs read as data and which carry no such quote.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

PMID_PATTERN = r"\d{1,8}"  # a PubMed id: one number of 1-8 digits


@dataclass(frozen=True)
class Column:
    name: str
    description: str
    required: bool = False  # must be non-empty on every row
    pattern: str | None = None  # regular expression a non-empty value must match
    unique: bool = False  # no value appears twice in the table


# ---------------------------------------------------------------------------
# Record: one bibliographic record as retrieved by one search.
# ---------------------------------------------------------------------------
RECORD_COLUMNS: tuple[Column, ...] = (
    Column(
        "record_id",
        "Stable id: '<search_id>:<source_id>'. The same article found by two searches "
        "is two records (PRISMA counts both); deduplication links them.",
        required=True,
        unique=True,
    ),
    Column(
        "source",
        "Where the record came from: pubmed, nihr (NIHR Journals Library via Crossref), "
        "or the name of an imported database (e.g. embase, cochrane_library, handsearch).",
        required=True,
        pattern=r"[a-z0-9_]+",
    ),
    Column("search_id", "Id of the search that retrieved it (search_log.csv).", required=True),
    Column(
        "source_id",
        "The record's id in its source: PMID, DOI, RIS ID/AN, or 'h' + a content hash "
        "when the source gives none.",
        required=True,
    ),
    Column("pmid", "PubMed id: one number of 1-8 digits (a PMCID is not a PMID).", pattern=PMID_PATTERN),
    Column(
        "doi",
        "DOI, normalised: lower case, no 'https://doi.org/' or 'doi:' prefix.",
        pattern=r"10\.\S+",
    ),
    Column("title", "Article, chapter or report title."),
    Column(
        "abstract",
        "Abstract as plain text; structured abstracts keep their labels ('BACKGROUND: ...').",
    ),
    Column("authors", "'; '-joined 'Family, Initials' (collective names as written)."),
    Column("journal", "Journal (or book/series) title as the source gives it."),
    Column("year", "Publication year (4 digits).", pattern=r"\d{4}"),
    Column("volume", "Volume."),
    Column("issue", "Issue."),
    Column("pages", "Page range or article number as printed ('128-138', 'e0311101')."),
    Column("publication_types", "'; '-joined publication types (PubMed vocabulary where known)."),
    Column("mesh_terms", "'; '-joined MeSH descriptor names."),
    Column("keywords", "'; '-joined author keywords."),
    Column(
        "registry_ids",
        "'; '-joined trial registrations (ISRCTN12345678, NCT01234567, EudraCT 2010-012345-12).",
    ),
    Column("language", "Language code(s) as given by the source (PubMed uses 'eng')."),
    Column("url", "Link to the record (landing page or PubMed)."),
)

# ---------------------------------------------------------------------------
# Search log (PRISMA-S): one row per search.
# ---------------------------------------------------------------------------
# A search id names folders (results/search/<id>/, data/raw/searches/<id>/), so it is a name, never
# '.', '..' or a path; the config schema's $defs/name holds the same pattern (a test checks).
SEARCH_ID_PATTERN = r"[A-Za-z0-9][A-Za-z0-9_.-]*"

SEARCH_LOG_COLUMNS: tuple[Column, ...] = (
    Column("search_id", "Unique id of the search.", required=True, pattern=SEARCH_ID_PATTERN),
    Column("source", "Database or source searched (record.source).", required=True),
    Column(
        "platform",
        "Interface used, e.g. 'PubMed E-utilities', 'Crossref REST API', 'Ovid', 'hand search'.",
        required=True,
    ),
    Column("query", "The query exactly as run (or a description of a hand search)."),
    Column("filters", "Limits applied outside the query (dates, types), as text."),
    Column("run_at", "When the search was run, UTC ISO 8601.", required=True),
    Column("mode", "live | snapshot | import", required=True, pattern=r"live|snapshot|import"),
    Column("n_hits", "Hits as reported by the source (empty if it reports none).", pattern=r"\d+"),
    Column("n_retrieved", "Records parsed from the retrieved file(s).", required=True, pattern=r"\d+"),
    Column("file", "Retrieved file(s), '; '-joined, relative to the project.", required=True),
    Column("sha256", "SHA-256 of each file, '; '-joined in the same order.", required=True),
)


def names(columns: Sequence[Column]) -> list[str]:
    return [c.name for c in columns]


RECORD_FIELDS = names(RECORD_COLUMNS)
SEARCH_LOG_FIELDS = names(SEARCH_LOG_COLUMNS)

# ---------------------------------------------------------------------------
# Deduplication (results/dedup/) and reviewers' dedup decisions (data/curated/).
# Duplicate = two records of the same bibliographic item (the same article from two
# databases, early-view and final version). Different reports of one study (protocol, main
# paper, HTA monograph) are NOT duplicates: they are linked in study_links.csv.
# ---------------------------------------------------------------------------
DEDUP_CLUSTER_COLUMNS: tuple[Column, ...] = (
    Column("record_id", "A record of results/records/records.csv (each appears once).", required=True),
    Column("cluster_id", "Cluster of records that are one bibliographic item ('C0001' ...).", required=True),
    Column("kept", "'yes' for the one record kept per cluster (the richest), else 'no'.", required=True,
           pattern=r"yes|no"),
    Column(
        "matched_by",
        "'; '-joined rules or identifiers that linked this record to the others of its cluster "
        "(same_doi, same_pmid, title_authors_venue ..., decision); empty for a record alone.",
    ),
)  # fmt: skip

UNIQUE_RECORD_COLUMNS: tuple[Column, ...] = (
    *RECORD_COLUMNS,
    Column("cluster_id", "Cluster (clusters.csv) this merged record stands for.", required=True),
    Column("origin", "'; '-joined record_ids merged into this record, kept record first.", required=True),
    Column("sources", "'; '-joined sources of those records.", required=True),
    Column("search_ids", "'; '-joined searches that found this item.", required=True),
    Column("all_pmids", "'; '-joined PMIDs of every merged record (pmid holds the kept one)."),
    Column("all_dois", "'; '-joined DOIs of every merged record (doi holds the kept one)."),
)

DEDUP_DECISIONS: tuple[str, ...] = ("duplicate", "distinct")

DEDUP_DECISION_COLUMNS: tuple[Column, ...] = (
    Column("record_id_a", "One record of the pair.", required=True),
    Column("record_id_b", "The other record.", required=True),
    Column(
        "decision",
        "duplicate (same bibliographic item: merge) | distinct (never merge) | empty (undecided). "
        "Other columns (reviewer, note, the scores of maybe_pairs.csv) are kept for people and ignored.",
    ),
)

MAYBE_PAIR_COLUMNS: tuple[Column, ...] = (
    DEDUP_DECISION_COLUMNS[0],
    DEDUP_DECISION_COLUMNS[1],
    Column("decision", "Empty for a person to fill: duplicate | distinct (then copy the row to "
           "data/curated/dedup_decisions.csv). Pre-filled when that file already decides the pair."),
    Column("rule", "Rule of rules.csv that matched the pair.", required=True),
    Column("why_uncertain", "The veto or constraint that stopped an automatic merge, or the maybe rule."),
    Column("title_sim", "Title similarity 0-100 (empty: a title missing)."),
    Column("authors_sim", "Author (family names) similarity 0-100."),
    Column("journal_sim", "Journal similarity 0-100, abbreviations recognised."),
    Column("abstract_sim", "Abstract similarity 0-100."),
    Column("year_gap", "Years between the two records."),
    *(
        Column(f"{field}_{side}", f"{field} of record {side}.")
        for field in ("title", "authors", "journal", "year", "volume", "pages", "doi", "pmid", "source")
        for side in ("a", "b")
    ),
)  # fmt: skip

STUDY_LINK_COLUMNS: tuple[Column, ...] = (
    Column("record_id", "A record with study evidence (records without any are absent).", required=True),
    Column(
        "study_key",
        "The study: its first trial registration (ISRCTN/NCT/EudraCT), else 'acronym:<NAME>'.",
        required=True,
    ),
    Column(
        "evidence",
        "Why: 'registration ISRCTN...', 'acronym X + condition (...) as <record_id>', "
        "or 'duplicate of <record_id>'.",
    ),
)

DEDUP_CLUSTER_FIELDS = names(DEDUP_CLUSTER_COLUMNS)
UNIQUE_RECORD_FIELDS = names(UNIQUE_RECORD_COLUMNS)
MAYBE_PAIR_FIELDS = names(MAYBE_PAIR_COLUMNS)
STUDY_LINK_FIELDS = names(STUDY_LINK_COLUMNS)

# ---------------------------------------------------------------------------
# Curated evidence tables (data/curated/, human-owned) and automatic extraction.
# Controlled vocabularies are data: ohevidence.curated checks every cell against them.
# ---------------------------------------------------------------------------
STUDY_DESIGNS: tuple[str, ...] = (
    "RCT",
    "cluster RCT",
    "pilot/feasibility RCT",
    "non-randomised",
    "qualitative",
    "systematic review",
    "protocol only",
)
STUDY_STATUSES: tuple[str, ...] = ("completed", "ongoing", "discontinued")
OUTCOME_DOMAINS: tuple[str, ...] = (
    "return_to_work",
    "sickness_absence",
    "work_ability",
    "presenteeism",
    "job_retention",
    "pain",
    "function",
    "cost",
)
# Outcome domains of the evidence-and-gap map and the findings (issue 25 contracts), in this order,
# and the one mapping from an outcomes.csv domain to them.
MAP_DOMAINS = ("return_to_work", "sickness_absence", "work_ability", "costs", "health")
MAP_DOMAIN_LABELS = {
    "return_to_work": "Return to work",
    "sickness_absence": "Sickness absence",
    "work_ability": "Work ability and retention",
    "costs": "Costs",
    "health": "Health",
}
_MAP_DOMAIN_OF = {
    "return_to_work": "return_to_work",
    "sickness_absence": "sickness_absence",
    "work_ability": "work_ability",
    "productivity": "work_ability",
    "presenteeism": "work_ability",
    "job_retention": "work_ability",
    "job retention": "work_ability",
    "cost": "costs",
    "costs": "costs",
}


def map_domain(domain: str) -> str:
    """The map domain (:data:`MAP_DOMAINS`) of an outcomes.csv ``domain``: return to work, sickness
    absence, work ability (work ability, productivity, presenteeism, job retention), costs; every
    other outcome (pain, function, quality of life, mental health ...) is health."""
    return _MAP_DOMAIN_OF.get(domain.strip().lower(), "health")


# Ratio measures are compared on the log scale; difference measures on the natural scale.
RATIO_MEASURES: tuple[str, ...] = ("RR", "OR", "HR", "IRR", "ROM")
DIFFERENCE_MEASURES: tuple[str, ...] = ("MD", "SMD", "RD")
# Each measure in words, lower case, for sentences (the findings page, role statements).
MEASURE_WORDS: dict[str, str] = {
    "RR": "risk ratio",
    "OR": "odds ratio",
    "HR": "hazard ratio",
    "IRR": "rate ratio",
    "ROM": "ratio of means",
    "MD": "mean difference",
    "SMD": "standardised mean difference",
    "RD": "risk difference",
}
OUTCOME_MEASURES: tuple[str, ...] = RATIO_MEASURES + DIFFERENCE_MEASURES
# Row flags: what an analysis must know before it pools the row.
OUTCOME_FLAGS: dict[str, str] = {
    "pooled_review_estimate": "a review's pooled estimate: never pool it with trials (its own included "
    "trials may be among them); analyses exclude these rows",
    "needs_fulltext_check": "a printed number is internally inconsistent or unverified; use arm data, "
    "not the estimate, until the full text is checked",
    "reversed_direction": "the estimate is printed as control vs intervention (ctl - int, or favours "
    "intervention when positive for a lower-is-better outcome); re-sign before pooling",
    "shared_control": "the control arm is shared with another row of the same study; split it before "
    "pooling both rows",
    "same_participants": "another row of the study measures the same participants; use one",
    "cluster_adjusted_estimate_crude_arms": "the estimate accounts for clustering, the arm data do not",
    "exploratory": "exploratory analysis (e.g. of a discontinued trial)",
    "units_not_reported": "the publication does not state the outcome's units",
    "percentage_points": "a risk difference printed in percentage points, not as a proportion",
    "between_arms": "the printed estimate compares two intervention arms of the trial directly, first arm "
    "vs second (job_role: the first arm's role, then the second's, '; '-joined); reported as a "
    "within-trial role comparison, never pooled against a control",
}
# Comparability of rows an analysis pools (issue 15 item 4): outcome definition, comparator and
# population. An analysis that pools rows differing in any of these (or in timepoint_months) must
# declare it (config analyses: allow_mixed); empty = not recorded.
OUTCOME_DEFINITIONS: dict[str, str] = {
    "rtw_any": "any return to work (e.g. >= 2 h/week), not necessarily full or sustained",
    "rtw_partial": "partial return to work",
    "rtw_full": "full return to work",
    "rtw_sustained": "return to work sustained for a stated period",
    "rtw_full_sustained": "full return to work sustained for a stated period",
    "rtw_good_health": "return to work in good health",
    "at_work": "at work at the end of follow-up",
    "work_participation": "work participation score",
    "sickness_absence_days": "days of sickness absence over the follow-up",
    "recurrent_sickness_absence": "recurrence of sickness absence after return to work",
    "productivity_loss": "work productivity loss",
}
COMPARATOR_TYPES: dict[str, str] = {
    "usual_care": "usual care (usual primary, occupational health, case management or NHS care)",
    "active": "another active programme (the intervention is added to or compared with it)",
}
POPULATION_TYPES: dict[str, str] = {
    "sick_listed": "workers on sick leave",
    "prevention": "workers not on sick leave, at risk of it (prevention)",
    "returned_to_work": "workers back at work after sickness absence (preventing recurrence)",
    "mixed": "workers at work and workers on sick leave",
}
# Dimensions an analysis checks before pooling, and the effects.csv column holding each.
COMPARABILITY: dict[str, str] = {
    "outcome_definition": "outcome_definition",
    "timepoint": "timepoint_months",
    "comparator_type": "comparator_type",
    "population": "population_type",
}
PROFESSIONAL_GROUPS: tuple[str, ...] = (
    "allied health",
    "nursing",
    "medical",
    "psychological",
    "non-clinical",
    "multidisciplinary",
)
# The keys of one job_roles.yaml entry (config/README.md "job_roles.yaml"); any other key is an error.
JOB_ROLE_KEYS: tuple[str, ...] = (
    "id",
    "label",
    "origin",
    "professional_group",
    "group_note",
    "synonyms",
    "justification",
    "source",
)
_BOOL = r"true|false"
_INT = r"\d+"
_NUM = r"-?\d+(?:\.\d+)?"
_ID = r"[A-Za-z0-9_]+"


def _one_of(values: Iterable[str]) -> str:
    return "|".join(re.escape(v) for v in values)


STUDY_COLUMNS: tuple[Column, ...] = (
    Column("study_id", "Unique id of the study, e.g. SWAP_WynneJones2018 (letters, digits, _).", True, _ID),
    Column("acronym", "Trial acronym as published (SWAP, InSTEP, ...); empty when it has none."),
    Column("title", "Title of the main publication (results paper, report or protocol)."),
    Column("first_author", "First author, 'Family Initials'."),
    Column("year", "Year of the main publication.", pattern=r"\d{4}"),
    Column("design", "One of: " + ", ".join(STUDY_DESIGNS) + ".", True, _one_of(STUDY_DESIGNS)),
    Column("status", "One of: " + ", ".join(STUDY_STATUSES) + ".", True, _one_of(STUDY_STATUSES)),
    Column("country", "Country as printed in the evidence; empty when not stated."),
    Column("setting", "Where the intervention was delivered (primary care, OH service, ...)."),
    Column("condition", "Health condition of the population."),
    Column("population", "Who was studied, in a few words."),
    Column(
        "population_type",
        "One of: " + ", ".join(POPULATION_TYPES) + "; empty when the evidence does not say.",
        pattern=_one_of(POPULATION_TYPES),
    ),
    Column("intervention", "What was delivered, in a few words."),
    Column("comparator", "What the control arm received; empty when not printed."),
    Column(
        "job_role",
        "Profession that delivered the intervention: id(s) from job_roles.yaml, '; '-joined when arms "
        "differ; empty when no publication or the brief names it.",
    ),
    Column("job_role_detail", "The brief's wording and the publication's wording of who delivered it."),
    Column("registry_ids", "'; '-joined registrations (ISRCTN12345678, NCT01234567, EudraCT ...)."),
    Column("pmid", "PMID of the main publication.", pattern=PMID_PATTERN),
    Column("doi", "DOI of the main publication.", pattern=r"10\.\S+"),
    Column("nihr_doi", "NIHR Journals Library DOI (10.3310/...), if any.", pattern=r"10\.3310/\S+"),
    Column("funder", "Funder and grant number, as printed."),
    Column(
        "n_randomised", "Participants randomised (or enrolled, see notes); empty if unknown.", pattern=_INT
    ),
    Column(
        "included_studies",
        "Reviews: '; '-joined study_ids of this table that the review includes (its pooled rows are "
        "never pooled with them); empty otherwise.",
    ),
    Column("notes", "Anything a reviewer must know: caveats, secondary publications, what was NOT FOUND."),
    Column("source", "URL(s) printed in the evidence + evidence file and section.", True),
)

OUTCOME_COLUMNS: tuple[Column, ...] = (
    Column("study_id", "studies.csv study_id.", True, _ID),
    Column("outcome_id", "Outcome (and arm comparison) within the study, e.g. days_off_work.", True, _ID),
    Column("domain", "One of: " + ", ".join(OUTCOME_DOMAINS) + ".", True, _one_of(OUTCOME_DOMAINS)),
    Column("timepoint_months", "Follow-up in months; empty when not stated.", pattern=_NUM),
    Column(
        "measure", "Effect measure: " + ", ".join(OUTCOME_MEASURES) + ".", True, _one_of(OUTCOME_MEASURES)
    ),
    Column(
        "higher_is_better",
        "true when higher values of the outcome are better for the worker (more RTW); false for "
        "absence, recurrence, cost, pain. With the estimate read as int vs ctl, a ratio > 1 or a "
        "difference > 0 favours the intervention exactly when this is true (unless flagged "
        "reversed_direction).",
        True,
        _BOOL,
    ),
    Column("n_int", "Participants in the intervention arm (analysed or randomised; notes).", pattern=_INT),
    Column("n_ctl", "Participants in the control arm.", pattern=_INT),
    Column(
        "n_analysed",
        "Participants analysed in total (both arms) when the source states it and the arm n are not "
        "the analysed n; empty otherwise.",
        pattern=_INT,
    ),
    Column("events_int", "Events in the intervention arm (binary outcomes).", pattern=_INT),
    Column("events_ctl", "Events in the control arm.", pattern=_INT),
    Column("mean_int", "Mean in the intervention arm.", pattern=_NUM),
    Column("sd_int", "SD in the intervention arm.", pattern=_NUM),
    Column("mean_ctl", "Mean in the control arm.", pattern=_NUM),
    Column("sd_ctl", "SD in the control arm.", pattern=_NUM),
    Column("estimate", "Effect estimate as printed, int vs ctl (see flags).", pattern=_NUM),
    Column("ci_low", "Lower confidence limit as printed.", pattern=_NUM),
    Column("ci_high", "Upper confidence limit as printed.", pattern=_NUM),
    Column(
        "ci_level",
        "Confidence level as a FRACTION, 0 < ci_level < 1: 0.95 for a 95% CI, 0.80 for WAVE's 80% CI.",
        pattern=_NUM,
    ),
    Column("adjusted", "true if the estimate is covariate-adjusted; empty when not stated.", pattern=_BOOL),
    Column(
        "cluster_adjusted",
        "true if the estimate accounts for clustering (multilevel model, robust SE, ...); empty when "
        "the source does not say so. 'adjusted' alone never means cluster-adjusted.",
        pattern=_BOOL,
    ),
    Column("clusters", "Number of clusters analysed (cluster trials).", pattern=_INT),
    Column("icc", "Intra-cluster correlation, 0-1, when reported.", pattern=_NUM),
    Column("flags", "'; '-joined flags: " + ", ".join(OUTCOME_FLAGS) + "."),
    Column(
        "job_role",
        "Who delivered THIS comparison's intervention arm (job_roles.yaml id), when it differs from the "
        "study's job_role (multi-arm trials: one role per arm); empty = the study's job_role.",
    ),
    Column(
        "outcome_definition",
        "One of: " + ", ".join(OUTCOME_DEFINITIONS) + "; empty when not clear from the evidence.",
        pattern=_one_of(OUTCOME_DEFINITIONS),
    ),
    Column(
        "comparator_type",
        "One of: " + ", ".join(COMPARATOR_TYPES) + "; empty when the evidence does not name the comparator.",
        pattern=_one_of(COMPARATOR_TYPES),
    ),
    Column("notes", "Outcome definition as printed, n basis, caveats."),
    Column("source", "URL printed in the evidence + evidence file, table row / section.", True),
    Column("extracted_by", "Who copied the numbers.", True),
    Column("checked_by", "Who checked them against the source; empty until someone has."),
)

REPORT_TYPES = (
    "protocol",
    "main_results",
    "process_evaluation",
    "economic_evaluation",
    "follow_up",
    "secondary_analysis",
    "hta_monograph",
    "other",
)
STUDY_REPORT_COLUMNS: tuple[Column, ...] = (
    Column("study_id", "Study (studies.csv) the report belongs to.", True, _ID),
    Column("report_type", "Kind of report: " + ", ".join(REPORT_TYPES) + ".", True, "|".join(REPORT_TYPES)),
    Column("pmid", "PMID of the report; empty when unknown (then doi is required).", pattern=PMID_PATTERN),
    Column("doi", "DOI of the report, without resolver prefix; empty when unknown.", pattern=r"10\.\S+"),
    Column("citation", "Short citation: first author, journal, year.", True),
    Column("source", "Evidence file and position that names the report as the study's.", True),
)

# Workforce-strategy register (case_studies.csv, issue 25 item 4): a small controlled vocabulary.
NO_ROLE_NAMED = "no role named"
STRATEGY_TYPES: dict[str, str] = {
    "new role": "a post created or a profession brought in (e.g. a screening nurse, an occupational "
    "psychologist)",
    "service model": "how OH services are organised or shared (hub and spoke, shared or consolidated "
    "service, a service for GP practices, a new service approach)",
    "business case": "an investment or business plan for the OH service (staffing, development plan)",
    "training": "training for staff and managers",
    "staff health offer": "a health or wellbeing service offered to staff (gyms, MSK, menopause, "
    "financial wellbeing)",
    "quality standard": "accreditation or a quality standard (SEQOHS)",
    "organisational strategy": "an organisation's OHWB strategy or action plan",
}
CASE_STUDY_STAGES: dict[str, str] = {
    "developed": "designed, planned or in development (the seed says developing, design, plan)",
    "implemented": "running (the seed says launched, providing, available, has engaged)",
    "evaluated": "the seed reports an evaluation or outcome figures",
}
CASE_STUDY_COLUMNS: tuple[Column, ...] = (
    Column("case_id", "Unique id of the case study.", True, _ID),
    Column("organisation", "NHS organisation(s) or network.", True),
    Column("region", "Region or place named in the case study; empty when not named."),
    Column("year", "Year named in the case study (start or launch); empty when not named.", pattern=r"\d{4}"),
    Column("strategy", "The workforce strategy, as a short label.", True),
    Column("roles", "Roles created or involved, as named; empty when none are named."),
    Column("outcome_reported", "Outcome the case study reports; empty when none."),
    Column("recognition", "Award or commendation named."),
    Column("source", "Evidence file and position of the case study.", True),
    Column(
        "role_codes",
        "job_roles.yaml ids of the roles the case study names ('; '-joined), or '"
        + NO_ROLE_NAMED
        + "' when it names none (a role is coded only where the seed names it).",
        True,
    ),
    Column(
        "strategy_type",
        "One of: " + ", ".join(STRATEGY_TYPES) + " (meanings in config/README.md).",
        True,
        _one_of(STRATEGY_TYPES),
    ),
    Column(
        "stage",
        "How far the seed says the strategy got: " + ", ".join(CASE_STUDY_STAGES) + " ('evaluated' only "
        "where the seed reports an evaluation or figures).",
        True,
        _one_of(CASE_STUDY_STAGES),
    ),
    Column("cost", "Cost figure the seed prints (currency, amount, per what); empty when none is printed."),
    Column("coding_note", "Why each code: the seed's words behind the role codes, type and stage.", True),
)

# Curated cost figures (data/curated/costs.csv, optional): one row per cost, benefit or resource figure
# the evidence prints for a study. Amounts are copied as printed; an unstated field stays empty.
CURRENCIES: dict[str, str] = {
    "GBP": "pound sterling",
    "EUR": "euro",
    "USD": "US dollar",
    "NOK": "Norwegian krone",
    "SEK": "Swedish krona",
    "DKK": "Danish krone",
}
COST_PERSPECTIVES: dict[str, str] = {
    "societal": "society (work absence and health care together)",
    "health care": "the health service (NHS and personal social services)",
    "employer": "the employer",
    "intervention delivery": "the cost of delivering the intervention only",
}
COST_COLUMNS: tuple[Column, ...] = (
    Column("cost_id", "Unique id of the figure (letters, digits, _).", True, _ID, unique=True),
    Column("study_id", "studies.csv study_id the figure belongs to.", True, _ID),
    Column(
        "job_role",
        "Who delivered the intervention the figure costs: job_roles.yaml id(s), '; '-joined; empty = the "
        "study's job_role.",
    ),
    Column(
        "counted", "What is counted (net benefit, delivery cost, productivity loss, ...), in words.", True
    ),
    Column("currency", "ISO 4217 code: " + ", ".join(CURRENCIES) + ".", True, _one_of(CURRENCIES)),
    Column(
        "price_year", "Price year as printed ('2021/22'); empty when not stated.", pattern=r"\d{4}(?:/\d{2})?"
    ),
    Column(
        "perspective",
        "One of: " + ", ".join(COST_PERSPECTIVES) + "; empty when the evidence does not state it.",
        pattern=_one_of(COST_PERSPECTIVES),
    ),
    Column(
        "amount",
        "The figure as printed (a number, no currency sign); empty for a result in words only.",
        pattern=_NUM,
    ),
    Column("ci_range", "Its CI, SD or range as printed ('SD 7101.43'); empty when none."),
    Column("per", "Unit of the amount: participant, person, month, programme, ...; empty for a total."),
    Column("arm", "Arm the figure describes (intervention, control); empty for a comparison."),
    Column("result", "The result in words (ours, not the publication's sentence).", True),
    Column("notes", "Caveats; a [S] secondary-summary figure keeps its label here."),
    Column("source", "URL printed in the evidence + evidence file and section.", True),
)

AUTO_EXTRACTED_COLUMNS: tuple[Column, ...] = (
    Column("record_id", "Record (or unique record) id.", True),
    Column("pmid", "Record PMID.", pattern=PMID_PATTERN),
    Column("doi", "Record DOI.", pattern=r"10\.\S+"),
    Column("title", "Record title."),
    Column("year", "Record year.", pattern=r"\d{4}"),
    Column("acronyms", "'; '-joined trial acronyms (capitalised tokens near trial/study + known list)."),
    Column("registry_ids", "'; '-joined registrations in the record's fields and text."),
    Column(
        "design_cues",
        "'; '-joined cues: randomised, cluster, pilot, feasibility, protocol, qualitative, review.",
    ),
    Column("sample_size", "Largest participant count stated in the text.", pattern=_INT),
    Column("conditions", "'; '-joined conditions (config extraction.conditions) mentioned."),
    Column("job_roles", "'; '-joined job_roles.yaml ids whose synonyms the text mentions (rapidfuzz)."),
    Column(
        "looks_like_trial_report",
        "true when a design cue, RCT publication type or registration marks a trial.",
        True,
        _BOOL,
    ),
    Column("study_id", "Matching curated study_id(s), '; '-joined when ambiguous."),
    Column(
        "match_basis",
        "How study_id was matched: pmid, doi (the study's own record), report (a further report in "
        "study_reports.csv), registry, acronym or study link.",
    ),
)

WORKLIST_COLUMNS: tuple[Column, ...] = (
    Column("record_id", "Record id.", True),
    Column("pmid", "Record PMID.", pattern=PMID_PATTERN),
    Column("doi", "Record DOI.", pattern=r"10\.\S+"),
    Column("title", "Record title."),
    Column("year", "Record year.", pattern=r"\d{4}"),
    Column("acronyms", "Acronyms found."),
    Column("registry_ids", "Registrations found."),
    Column("design_cues", "Design cues found."),
    Column("reason", "Why it is on the list: a trial report with no curated study yet.", True),
)


# ---------------------------------------------------------------------------
# Screening (issue 5). Decisions are human-owned input (data/curated/screening/);
# the sheets and lists are outputs under results/screening/.
# ---------------------------------------------------------------------------
SCREENING_DECISION_COLUMNS: tuple[Column, ...] = (
    Column("record_id", "The screened record (any record id deduplication folded into it also works).", True),
    Column("stage", "title_abstract | full_text", True, r"title_abstract|full_text"),
    Column("reviewer", "Reviewer id, one of config screening.reviewers or screening.arbiters.", True),
    Column("decision", "include | exclude | maybe", True, r"include|exclude|maybe"),
    Column(
        "reason",
        "Exclusion reason code from config screening.exclusion_reasons; required for full-text exclusions.",
    ),
    Column("note", "Free text: why, and where the evidence for the decision is."),
    Column("decided_at", "When the decision was made, ISO 8601 (a later dated row replaces an earlier one)."),
)

# What a screener sees of a record, in sheet order (shared by the sheets and title_abstract.csv).
RECORD_DISPLAY_COLUMNS: tuple[Column, ...] = (
    Column("title", "Title."),
    Column("abstract", "Abstract."),
    Column("year", "Publication year."),
    Column("journal", "Journal."),
    Column("doi", "DOI."),
    Column("pmid", "PMID."),
)

# The reviewer's sheet (to_screen_<reviewer>.csv, full_text_<reviewer>.csv): fill decision/reason/note.
SCREENING_SHEET_COLUMNS: tuple[Column, ...] = (
    Column("record_id", "The record to screen.", True),
    Column("stage", "title_abstract | full_text (pre-filled).", True),
    Column("reviewer", "Whose sheet this is (pre-filled).", True),
    Column("rank", "Screening priority, 1 = likeliest include (active-learning model).", True, r"\d+"),
    Column("rule_flags", "Eligibility rules that fired, with matched text ('[for]'/'[against]')."),
    *RECORD_DISPLAY_COLUMNS,
    Column("decision", "To fill: include | exclude | maybe."),
    Column("reason", "To fill: reason code (required for full-text exclusions)."),
    Column("note", "To fill: free text."),
    Column("decided_at", "Optional: when (ISO 8601)."),
)

# results/screening/title_abstract.csv: one row per record, ASReview export order. Between
# `pmid` and `consensus` there is one `decision_<reviewer>` column per configured reviewer and arbiter.
TITLE_ABSTRACT_COLUMNS: tuple[Column, ...] = (
    Column("record_id", "The record (after deduplication when that stage ran).", True),
    Column("rank", "Screening priority, 1 = likeliest include.", True, r"\d+"),
    Column("score", "Model score (classifier decision value), or the rules' score before any decision."),
    Column(
        "rule_flags",
        "Eligibility rules that fired, with the matched text; '[note] no title, abstract or keywords: ...' "
        "on a record the ranking cannot read (screen it by hand).",
    ),
    *RECORD_DISPLAY_COLUMNS,
)
TITLE_ABSTRACT_TAIL: tuple[Column, ...] = (
    Column("consensus", "include | exclude | '' (not settled yet)."),
    Column("conflict", "'' | include_vs_exclude | maybe (a third reviewer decides)."),
    Column(
        "status",
        "included | excluded | excluded_by_automation | conflict | awaiting_second_reviewer | not_screened.",
        True,
    ),
)

SCREENING_CONFLICT_COLUMNS: tuple[Column, ...] = (
    Column("record_id", "The record in conflict.", True),
    Column("stage", "title_abstract | full_text.", True),
    Column("conflict", "include_vs_exclude | maybe | exclusion_reason.", True),
    Column("votes", "Each reviewer's decision (and reason): 'reviewer_a=include; reviewer_b=exclude'.", True),
    Column("notes", "The reviewers' notes."),
    Column("rank", "Screening priority.", True, r"\d+"),
    Column("rule_flags", "Eligibility rules that fired."),
    Column("title", "Title."),
    Column("abstract", "Abstract."),
    Column("year", "Publication year."),
    Column("doi", "DOI."),
    Column("pmid", "PMID."),
    Column("reviewer", "To fill: the third reviewer's id (one of config screening.arbiters)."),
    Column("decision", "To fill: include | exclude | maybe."),
    Column("reason", "To fill: reason code."),
    Column("note", "To fill: free text."),
)

# results/screening/included.csv: records that passed title/abstract screening (record schema +).
INCLUDED_EXTRA_COLUMNS: tuple[Column, ...] = (
    Column("origin", "Record ids deduplication folded into this record ('; '-joined; empty without it)."),
    Column("rank", "Screening priority at title/abstract.", True, r"\d+"),
    Column(
        "full_text",
        "Full-text consensus: include | exclude | conflict | awaiting_second_reviewer | not_screened.",
        True,
    ),
    Column("full_text_reason", "Exclusion reason code when full_text is exclude."),
)
INCLUDED_COLUMNS: tuple[Column, ...] = RECORD_COLUMNS + INCLUDED_EXTRA_COLUMNS


# ---------------------------------------------------------------------------
# Meta-analysis: effect sizes (results/extraction/effects.csv) and analysis results
# (results/meta/<analysis_id>.csv). See ohevidence.meta.effects_table for how each effect is derived.
# ---------------------------------------------------------------------------
_FLOAT = r"-?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?"
MULTI_ARM_METHODS: tuple[str, ...] = ("split_control", "combine")
EFFECT_COLUMNS: tuple[Column, ...] = (
    Column("study_id", "studies.csv study_id.", True),
    Column(
        "outcome_id",
        "outcomes.csv outcome_id ('+'-joined for arms combined into one); empty for a study with no "
        "outcome row.",
    ),
    Column("domain", "Outcome domain (outcomes.csv)."),
    Column("measure", "Effect measure (RR, OR, HR, IRR, ROM on the log scale; MD, SMD, RD as they are)."),
    Column(
        "job_role",
        "Who delivered this comparison's intervention: outcomes.csv job_role (the arm's role), else "
        "studies.csv job_role ('; '-joined ids).",
    ),
    Column("yi", "Effect on the analysis scale (log for ratios); empty when not estimable.", pattern=_FLOAT),
    Column("vi", "Sampling variance of yi; empty when not estimable.", pattern=_FLOAT),
    Column("se", "Standard error, √vi.", pattern=_FLOAT),
    Column(
        "from",
        "How the effect was derived (arm data, reported CI at level L, cluster adjustment, re-signing), "
        "or 'none: <reason>' when the row gives no effect.",
        True,
    ),
    Column(
        "multi_arm",
        "Multi-arm trial handling of this row (" + " | ".join(MULTI_ARM_METHODS) + ": what was divided "
        "or pooled); empty for a two-arm comparison.",
    ),
    Column("n_int", "Intervention n behind the effect (after combining arms).", pattern=_FLOAT),
    Column("n_ctl", "Control n behind the effect (after splitting a shared control).", pattern=_FLOAT),
    Column("n_analysed", "outcomes.csv n_analysed (total analysed, when stated).", pattern=_INT),
    Column(
        "adjusted",
        "Whether the effect used is covariate-adjusted: true (adjusted), false (crude: "
        "outcomes.csv false, or computed from arm data), empty (not stated).",
        pattern=r"true|false",
    ),
    Column(
        "cluster_adjusted", "outcomes.csv cluster_adjusted (accounts for clustering).", pattern=r"true|false"
    ),
    Column(
        "published",
        "The estimate and CI as published ('1.9 [1.2, 2.8] (95% CI)') when the effect came from them.",
    ),
    Column(
        "converted",
        "Empty when the 95% CI on yi reproduces the published one; otherwise what was converted and from "
        "what (80% CI to 95%, re-signed, shared control split, design effect), or why a printed estimate "
        "was not used ('not the published estimate: ...').",
    ),
    Column("timepoint_months", "outcomes.csv timepoint_months."),
    Column("outcome_definition", "outcomes.csv outcome_definition."),
    Column("comparator_type", "outcomes.csv comparator_type."),
    Column("population_type", "studies.csv population_type."),
)
META_RESULT_COLUMNS: tuple[Column, ...] = (
    Column(
        "row",
        "study | subgroup | overall | subgroup_test | excluded",
        True,
        r"study|subgroup|overall|subgroup_test|excluded",
    ),
    Column("label", "Study 'study_id:outcome_id', subgroup name, 'overall' or the test's name.", True),
    Column("study_id", "Study (study rows)."),
    Column("outcome_id", "Outcome (study rows)."),
    Column("group", "Subgroup (job role or professional group) of a study or subgroup row."),
    Column("k", "Studies pooled (subgroup and overall rows).", pattern=r"\d+"),
    Column("yi", "Estimate on the analysis scale (log for ratios).", pattern=_FLOAT),
    Column("vi", "Sampling variance (study rows).", pattern=_FLOAT),
    Column("se", "Standard error on the analysis scale.", pattern=_FLOAT),
    Column("estimate", "Estimate on the reporting scale (ratios back-transformed).", pattern=_FLOAT),
    Column("ci_low", "Lower confidence limit, reporting scale.", pattern=_FLOAT),
    Column("ci_high", "Upper confidence limit, reporting scale.", pattern=_FLOAT),
    Column("pi_low", "Lower prediction limit, reporting scale (random-effects models).", pattern=_FLOAT),
    Column("pi_high", "Upper prediction limit, reporting scale.", pattern=_FLOAT),
    Column("p", "p-value of the pooled effect.", pattern=_FLOAT),
    Column("weight", "Weight (%) of a study in the overall model.", pattern=_FLOAT),
    Column("tau2", "Between-study variance τ².", pattern=_FLOAT),
    Column("i2", "I² (%).", pattern=_FLOAT),
    Column("q", "Cochran's Q (or the subgroup test's Q / QM / F).", pattern=_FLOAT),
    Column("q_df", "Degrees of freedom of q.", pattern=r"\d+"),
    Column("q_p", "p-value of q.", pattern=_FLOAT),
    Column("from", "Study rows: how the effect was derived; excluded rows: why; models: method or notes."),
)

# results/meta/role_credibility.csv (ohevidence meta roles): one row per analysis with job-role (or
# professional-group) subgroups; ICEMAN-style items (Schandelmaier 2020) computed from the analysis.
CREDIBILITY_RATINGS: tuple[str, ...] = ("very low", "low", "moderate", "high")
ROLE_CREDIBILITY_COLUMNS: tuple[Column, ...] = (
    Column("analysis_id", "The analysis (config analyses: id) whose subgroups make the claim.", True),
    Column("claim", "The role-subgroup claim in words (the subgroups and their estimates).", True),
    Column(
        "comparison",
        "ICEMAN item 1: within (every compared subgroup holds arms of the same trials), between (different "
        "trials) or mixed.",
        True,
        r"within|between|mixed",
    ),
    Column(
        "a_priori",
        "ICEMAN item 2: hypothesis stated in the config (role_hypothesis): not stated | confirmed (the "
        "favoured role shows the larger benefit) | not confirmed | not assessable.",
        True,
        r"not stated|confirmed|not confirmed|not assessable",
    ),
    Column(
        "subgroup_p",
        "ICEMAN item 3: p of the test for subgroup differences (empty: no test).",
        pattern=_FLOAT,
    ),
    Column(
        "chance",
        "Item 3 in words: how easily chance explains the difference (p < 0.005 unlikely; 0.005 to 0.05 "
        "possibly; >= 0.05 or no test, easily).",
        True,
    ),
    Column(
        "consistency",
        "ICEMAN item 4: consistent | inconsistent | not assessable: the same roles compared in other "
        "analyses (related outcomes) favour the same role.",
        True,
        r"consistent|inconsistent|not assessable",
    ),
    Column("studies_per_subgroup", "ICEMAN item 5: studies in each subgroup ('role: k; ...').", True),
    Column(
        "concerns",
        "Items that lower credibility, '; '-joined in words (empty: none).",
    ),
    Column(
        "rating",
        "Credibility of the claim: " + ", ".join(CREDIBILITY_RATINGS) + ".",
        True,
        "|".join(CREDIBILITY_RATINGS),
    ),
    Column(
        "statement", "One plain paragraph: the claim, that role is confounded where it is, the rating.", True
    ),
)

# results/meta/within_trial_roles.csv (ohevidence meta roles): two arms of one trial delivered by
# different job roles against a shared control (outcomes.csv flag shared_control + job_role).
WITHIN_TRIAL_ROLE_COLUMNS: tuple[Column, ...] = (
    Column("study_id", "studies.csv study_id of the trial.", True),
    Column("study_label", "The trial in words (acronym, first author and year).", True),
    Column("outcome", "The outcome and time point in words.", True),
    Column("role_a", "Job role (job_roles.yaml id) delivering the first arm.", True),
    Column("role_b", "Job role delivering the second arm.", True),
    Column("measure", "Effect measure of the arms' comparisons with the shared control.", True),
    Column(
        "estimate",
        "Role a's arm vs role b's arm as printed by the evidence; empty when the evidence prints no "
        "direct difference (never computed from the two arm-vs-control estimates).",
        pattern=_FLOAT,
    ),
    Column("ci_lower", "Lower limit of the printed direct difference.", pattern=_FLOAT),
    Column("ci_upper", "Upper limit of the printed direct difference.", pattern=_FLOAT),
    Column("n_a", "Participants in role a's arm.", pattern=_FLOAT),
    Column("n_b", "Participants in role b's arm.", pattern=_FLOAT),
    Column(
        "direction",
        "benefit | harm | no clear difference | no estimate (role a vs role b; no estimate when no direct "
        "difference is printed).",
        True,
        r"benefit|harm|no clear difference|no estimate",
    ),
    Column(
        "statement", "Plain words: what the trial compares and what each arm showed against control.", True
    ),
    Column("source", "outcomes.csv source of the rows used.", True),
)

SENSITIVITY_COLUMNS: tuple[Column, ...] = (
    Column(
        "check",
        "main | leave_one_out | fixed_vs_random | exclude_flagged | exclude_high_rob | crude_vs_adjusted | "
        "cluster_adjustment | mh_peto | meta_regression | note",
        True,
        r"main|leave_one_out|fixed_vs_random|exclude_flagged|exclude_high_rob|crude_vs_adjusted|"
        r"cluster_adjustment|mh_peto|meta_regression|note",
    ),
    Column("label", "What was varied ('without <study>', 'fixed effect'), a coefficient, or a note's check.",
           True),
    Column("k", "Studies in the refitted model (0 when none is left).", pattern=r"\d+"),
    Column("method", "Model: FE, a τ² estimator, MH-<measure>, Peto-OR."),
    Column("yi", "Estimate (or meta-regression coefficient) on the analysis scale.", pattern=_FLOAT),
    Column("se", "Standard error on the analysis scale.", pattern=_FLOAT),
    Column("estimate", "Estimate on the reporting scale (ratios back-transformed).", pattern=_FLOAT),
    Column("ci_low", "Lower CI limit (reporting scale; coefficients: analysis scale).", pattern=_FLOAT),
    Column("ci_high", "Upper CI limit (reporting scale; coefficients: analysis scale).", pattern=_FLOAT),
    Column("p", "p-value of the estimate or coefficient.", pattern=_FLOAT),
    Column("tau2", "τ² (residual τ² for meta-regression).", pattern=_FLOAT),
    Column("i2", "I² (%).", pattern=_FLOAT),
    Column("q", "Cochran's Q.", pattern=_FLOAT),
    Column("q_p", "p-value of Q.", pattern=_FLOAT),
    Column("omitted", "'; '-joined study:outcome labels left out of this model."),
    Column("note", "Why rows were left out, what was substituted, a meta-regression's QM, or why a check "
           "did not run."),
)  # fmt: skip
# Synthesis without meta-analysis (SWiM) by job role: results/tables/swim_*.csv.
_DIRECTIONS = r"benefit|harm|no clear change|mixed|no direction"
SWIM_DIRECTION_COLUMNS: tuple[Column, ...] = (
    Column("job_role", "Job role that delivered the comparison (effects.csv job_role), or 'not reported'.",
           True),
    Column("study_id", "studies.csv study_id.", True),
    Column("study", "The study as the report names it (acronym, first author, year)."),
    Column("design", "studies.csv design."),
    Column("status", "studies.csv status."),
    Column("domain", "Outcome domain.", True),
    Column("outcomes", "'; '-joined outcome_ids of the study in this domain."),
    Column("n", "Participants behind the comparison (effects.csv n_int + n_ctl: a split control counts "
           "its share only; else outcomes.csv, else n_randomised); the largest of the outcomes.",
           pattern=_FLOAT),
    Column("size", "Arrow size: large (n >= 300), medium (50-299), small (< 50), unknown.", True,
           r"large|medium|small|unknown"),
    Column("direction", "Point estimate favours the intervention (benefit) or control (harm), combined over "
           "the domain's outcomes (>= 70% agree, else mixed).", True, _DIRECTIONS),
    Column("category", "benefit / harm when the 95% CI excludes the null, no clear change when it crosses.",
           True, _DIRECTIONS),
    Column("rob_overall", "Overall RoB 2 judgement (rob.csv) or 'not assessed'.", True),
    Column("pooled_in", "'; '-joined analyses that pooled one of these outcomes; empty: narrative only."),
    Column("basis", "How the direction was read (estimate with 95% CI, direction only, or why none)."),
)  # fmt: skip
SWIM_VOTE_COLUMNS: tuple[Column, ...] = (
    Column("domain", "Outcome domain.", True),
    Column("job_role", "'all roles' or one job role.", True),
    Column("trials", "Trials in the cell: the unit of the vote count (a multi-arm trial is one).", True,
           r"\d+"),
    Column("comparisons", "Study x role rows (comparisons) behind those trials.", True, r"\d+"),
    Column("favours_intervention", "Trials whose direction favours the intervention.", True, r"\d+"),
    Column("favours_control", "Trials whose direction favours the control.", True, r"\d+"),
    Column("mixed", "Trials with mixed directions across outcomes or arms (not in the sign test).", True,
           r"\d+"),
    Column("no_direction", "Trials without a direction.", True, r"\d+"),
    Column("clear_benefit", "Trials whose 95% CI excludes the null favouring the intervention.", True,
           r"\d+"),
    Column("clear_harm", "Trials whose 95% CI excludes the null favouring the control.", True, r"\d+"),
    Column("proportion_favouring", "favours_intervention / (favours_intervention + favours_control).",
           pattern=_FLOAT),
    Column("proportion_ci_low", "Exact (Clopper-Pearson) 95% CI, lower limit.", pattern=_FLOAT),
    Column("proportion_ci_high", "Exact 95% CI, upper limit.", pattern=_FLOAT),
    Column("sign_test_p", "Two-sided sign test (binomial, p = 0.5) p-value.", pattern=_FLOAT),
    Column("note", "Multi-arm trials counted once and how their direction was read."),
)  # fmt: skip
SWIM_ITEM_COLUMNS: tuple[Column, ...] = (
    Column("item", "SWiM reporting item number (Campbell et al. 2020).", True, r"\d"),
    Column("swim_item", "The item.", True),
    Column("this_synthesis", "How this synthesis meets it, with its numbers.", True),
)

# ---------------------------------------------------------------------------
# Report (issue 8): PRISMA counts, included reports, risk of bias, report tables.
# ---------------------------------------------------------------------------
PRISMA_COUNT_COLUMNS: tuple[Column, ...] = (
    Column(
        "data",
        "Key: the PRISMA2020 R package / Shiny app's names (database_results, duplicates, records_screened, "
        "dbr_excluded, new_studies, ...), then this pipeline's extra counts prefixed 'ohevidence_'.",
        True,
        r"[a-z_0-9]+",
    ),
    Column("n", "The count; 'Label, n; Label, n' for database_specific_results and dbr_excluded."),
    Column("description", "What the number counts.", True),
    Column("source", "The pipeline output it was computed from.", True),
)
# results/extraction/ (ohevidence extract): the chain from screening to synthesis
# (ohevidence.extract.included).
INCLUDED_REPORT_COLUMNS: tuple[Column, ...] = (
    Column("record_id", "A report (record) included at full text.", True),
    Column(
        "study", "The study it reports: curated study_id, a dedupe study key, or the record itself.", True
    ),
    Column("curated_study_id", "The curated study_id when the study is one; empty = awaiting extraction."),
    Column("basis", "How the report was matched to its study.", True),
    Column("title", "Title of the report."),
    Column("year", "Year of the report."),
    Column(
        "level",
        "study (a report of a primary study) or review (a report of a curated review, reviews.csv: "
        "included as a review, never pooled).",
        True,
        "study|review",
    ),
)
INCLUDED_BY: tuple[str, ...] = ("full-text screening", "review team")
INCLUDED_STUDY_COLUMNS: tuple[Column, ...] = (
    Column("study", "Included study: curated study_id, a dedupe study key, or a record id.", True),
    Column(
        "curated_study_id",
        "The curated study_id; only these studies' outcomes enter the synthesis. Empty = not yet extracted.",
    ),
    Column(
        "included_by",
        "full-text screening (a report's full-text consensus is include) or review team (declared in "
        "config synthesis.include_without_screened_report, with its reason in note).",
        True,
        "|".join(re.escape(v) for v in INCLUDED_BY),
    ),
    Column("reports", "'; '-joined record ids of its included reports."),
    Column("n_reports", "Number of included reports.", True, _INT),
    Column("note", "The review team's reason, or what is still missing."),
)
CURATED_NOT_INCLUDED_COLUMNS: tuple[Column, ...] = (
    Column("study_id", "Curated study (studies.csv) with no included report: never synthesised.", True),
    Column("acronym", "Its acronym."),
    Column("design", "Its design."),
    Column("status", "Its status."),
    Column("records", "'; '-joined unique records matched to it (none: no search found it)."),
    Column("reason", "Why it is not included.", True),
)
# data/curated/grade.csv (human-owned, optional): a reviewer's GRADE decisions per analysis, overriding
# the proposals `ohevidence meta grade` derives from the numbers (docs/methods/grade.md). An empty
# domain cell accepts the proposal; a filled one that differs from it needs a reason (its
# ``<domain>_reason`` or ``reasons``).
GRADE_CONCERNS: tuple[str, ...] = ("not serious", "serious", "very serious")
GRADE_PUBLICATION_BIAS: tuple[str, ...] = ("undetected", "strongly suspected")
GRADE_CERTAINTY: tuple[str, ...] = ("high", "moderate", "low", "very low")
GRADE_DOMAINS: tuple[str, ...] = (
    "risk_of_bias",
    "inconsistency",
    "indirectness",
    "imprecision",
    "publication_bias",
)


GRADE_COLUMNS: tuple[Column, ...] = (
    Column("analysis_id", "config analyses: id the judgements are for.", True, r"[A-Za-z0-9_.-]+"),
    *(
        column
        for domain in GRADE_DOMAINS
        for column in (
            Column(
                domain,
                f"GRADE {domain.replace('_', ' ')}: "
                + ", ".join(GRADE_PUBLICATION_BIAS if domain == "publication_bias" else GRADE_CONCERNS)
                + "; empty accepts the proposal of ohevidence meta grade.",
                False,
                _one_of(GRADE_PUBLICATION_BIAS if domain == "publication_bias" else GRADE_CONCERNS),
            ),
            Column(
                f"{domain}_reason",
                f"Why the {domain.replace('_', ' ')} decision differs from the proposal (then needed).",
            ),
        )
    ),
    Column(
        "certainty",
        "Overall certainty: " + ", ".join(GRADE_CERTAINTY) + "; empty = derived from the domain decisions.",
        False,
        _one_of(GRADE_CERTAINTY),
    ),
    Column("reasons", "Reasons for every override not given per domain (and for a certainty override)."),
    Column("source", "Who judged, or where the judgements were published.", True),
    Column("assessed_by", "Reviewer(s) who made or copied the judgements.", True),
)
ROB_JUDGEMENTS: tuple[str, ...] = ("low", "some_concerns", "high", "no_information")
ROB_VARIANTS: tuple[str, ...] = ("parallel", "cluster")
# RoB 2 domains in column order; d1b only for the cluster-randomised variant (Eldridge et al. 2021).
ROB_DOMAINS: dict[str, str] = {
    "d1": "D1: Bias arising from the randomisation process",
    "d1b": "D1b: Bias arising from the timing of identification and recruitment of participants",
    "d2": "D2: Bias due to deviations from intended interventions",
    "d3": "D3: Bias due to missing outcome data",
    "d4": "D4: Bias in measurement of the outcome",
    "d5": "D5: Bias in selection of the reported result",
    "overall": "Overall risk of bias",
}
_ROB = "|".join(ROB_JUDGEMENTS)
_APPRAISAL_TAIL: tuple[Column, ...] = (
    Column("overall_reason", "Why the overall differs from the tool's algorithm; empty when it follows it."),
    Column("support", "Support for the judgements (quotes or paraphrase of the source, per domain).", True),
    Column("source", "Where the judgements were published (URL + evidence file), or who assessed.", True),
    Column("assessed_by", "Reviewer(s) who made or copied the judgements.", True),
)
# data/curated/rob.csv (human-owned, optional): one RoB 2 assessment per study (and outcome).
ROB_COLUMNS: tuple[Column, ...] = (
    Column("study_id", "studies.csv study_id.", True, r"[A-Za-z0-9_]+"),
    Column("outcome_id", "outcomes.csv outcome_id assessed; empty for the study's main result."),
    Column("variant", "RoB 2 variant: parallel (individually randomised) or cluster (cluster-randomised).",
           True, "|".join(ROB_VARIANTS)),
    *(
        Column(key, f"{text}: {', '.join(ROB_JUDGEMENTS)}"
               + ("; cluster variant only (empty for parallel)." if key == "d1b" else
                  "; empty = derived by the RoB 2 algorithm." if key == "overall" else "."),
               key not in ("d1b", "overall"), _ROB)
        for key, text in ROB_DOMAINS.items()
    ),
    Column("weight", "Weight for the summary plot (e.g. the study's meta-analysis weight); empty for equal.",
           pattern=r"\d+(?:\.\d+)?"),
    *_APPRAISAL_TAIL,
)  # fmt: skip
# ROBINS-I (Sterne et al. 2016) for non-randomised studies of interventions.
ROBINS_I_JUDGEMENTS: tuple[str, ...] = ("low", "moderate", "serious", "critical", "no_information")
ROBINS_I_DOMAINS: dict[str, str] = {
    "d1": "D1: Bias due to confounding",
    "d2": "D2: Bias in selection of participants into the study",
    "d3": "D3: Bias in classification of interventions",
    "d4": "D4: Bias due to deviations from intended interventions",
    "d5": "D5: Bias due to missing data",
    "d6": "D6: Bias in measurement of outcomes",
    "d7": "D7: Bias in selection of the reported result",
    "overall": "Overall risk of bias",
}
# data/curated/robins_i.csv (human-owned, optional): one ROBINS-I assessment per study (and outcome).
ROBINS_I_COLUMNS: tuple[Column, ...] = (
    Column("study_id", "studies.csv study_id.", True, r"[A-Za-z0-9_]+"),
    Column("outcome_id", "outcomes.csv outcome_id assessed; empty for the study's main result."),
    *(
        Column(key, f"{text}: {', '.join(ROBINS_I_JUDGEMENTS)}"
               + ("; empty = the worst domain." if key == "overall" else "."),
               key != "overall", "|".join(ROBINS_I_JUDGEMENTS))
        for key, text in ROBINS_I_DOMAINS.items()
    ),
    *_APPRAISAL_TAIL,
)  # fmt: skip
# AMSTAR 2 (Shea et al. 2017, BMJ 358:j4008) for included systematic reviews.
AMSTAR2_ANSWERS: tuple[str, ...] = ("yes", "partial_yes", "no", "not_applicable")
AMSTAR2_CONFIDENCE: tuple[str, ...] = ("high", "moderate", "low", "critically_low")
AMSTAR2_CRITICAL: tuple[int, ...] = (2, 4, 7, 9, 11, 13, 15)
AMSTAR2_PARTIAL_YES: tuple[int, ...] = (2, 4, 7, 8, 9)  # items whose checklist offers "partial yes"
AMSTAR2_NOT_APPLICABLE: tuple[int, ...] = (9, 11, 12, 15)  # "only NRSI/RCTs" or "no meta-analysis"
AMSTAR2_ITEMS: dict[str, str] = {
    "q1": "PICO components in the research question and inclusion criteria",
    "q2": "Protocol registered before the review, deviations justified",
    "q3": "Selection of study designs explained",
    "q4": "Comprehensive literature search",
    "q5": "Study selection in duplicate",
    "q6": "Data extraction in duplicate",
    "q7": "List of excluded studies with reasons",
    "q8": "Included studies described in adequate detail",
    "q9": "Satisfactory technique for assessing risk of bias",
    "q10": "Sources of funding of the included studies reported",
    "q11": "Appropriate methods for statistical combination",
    "q12": "Impact of risk of bias on the meta-analysis assessed",
    "q13": "Risk of bias accounted for when interpreting the results",
    "q14": "Heterogeneity explained and discussed",
    "q15": "Publication bias investigated and discussed",
    "q16": "Conflicts of interest and funding of the review reported",
}
# data/curated/amstar2.csv (human-owned, optional): one AMSTAR 2 appraisal per included review.
AMSTAR2_COLUMNS: tuple[Column, ...] = (
    Column("study_id", "The systematic review: a review_id of reviews.csv (or a studies.csv study_id).", True,
           r"[A-Za-z0-9_]+", unique=True),
    *(
        Column(key, f"Item {key[1:]}{' (critical)' if int(key[1:]) in AMSTAR2_CRITICAL else ''}: {text}: "
               + ", ".join(AMSTAR2_ANSWERS) + ".", True, "|".join(AMSTAR2_ANSWERS))
        for key, text in AMSTAR2_ITEMS.items()
    ),
    Column("overall", "Overall confidence: " + ", ".join(AMSTAR2_CONFIDENCE)
           + "; empty = derived by Shea et al. 2017's rule.", pattern="|".join(AMSTAR2_CONFIDENCE)),
    *_APPRAISAL_TAIL,
)  # fmt: skip
# results/tables/appraisal_status.csv: which appraisal tool applies to each included study, and whether
# the curated tables hold its assessment.
APPRAISAL_TOOLS: dict[str, str] = {
    "RCT": "RoB 2 (parallel)",
    "pilot/feasibility RCT": "RoB 2 (parallel)",
    "cluster RCT": "RoB 2 (cluster)",
    "non-randomised": "ROBINS-I",
    "systematic review": "AMSTAR 2",
}
APPRAISAL_STATUSES: tuple[str, ...] = ("assessed", "awaiting assessment", "no tool")
APPRAISAL_STATUS_COLUMNS: tuple[Column, ...] = (
    Column("study_id", "Included study (results/extraction/included_studies.csv curated_study_id).", True),
    Column("design", "studies.csv design."),
    Column("tool", "Appraisal tool for the design: " + ", ".join(sorted(set(APPRAISAL_TOOLS.values())))
           + "; empty for designs none applies to (qualitative, protocol only)."),
    Column("status", "One of: " + ", ".join(APPRAISAL_STATUSES) + ".", True, _one_of(APPRAISAL_STATUSES)),
    Column("overall", "Overall judgement(s) recorded, '; '-separated (outcome: judgement)."),
    Column("table", "The curated table that holds (or would hold) the assessment."),
    Column("needed", "What is needed to assess the study; empty when assessed."),
)  # fmt: skip

# ---------------------------------------------------------------------------
# Evidence-and-gap map (issue 25 item 3): results/evidence_map/, job role x outcome domain.
# ---------------------------------------------------------------------------
MAP_DIRECTIONS: tuple[str, ...] = ("benefit", "harm", "no clear difference", "no estimate")
ROLE_ORIGINS: tuple[str, ...] = ("brief", "trial_delivery")
EVIDENCE_TYPES: tuple[str, ...] = ("trial", "review")
GAP_MAP_COLUMNS: tuple[Column, ...] = (
    Column("role_id", "job_roles.yaml id; empty on the rows of trials whose publications name no role.",
           pattern=_ID),
    Column("role_label", "The role in words (taxonomy label).", True),
    Column("role_origin", "Taxonomy origin: " + ", ".join(ROLE_ORIGINS) + "; empty for 'role not reported'.",
           pattern=_one_of(ROLE_ORIGINS)),
    Column("domain", "Outcome domain: " + ", ".join(MAP_DOMAINS) + ".", True, _one_of(MAP_DOMAINS)),
    Column("evidence_type", "trial (an included RCT or cluster RCT) or review; empty = an empty cell.",
           pattern=_one_of(EVIDENCE_TYPES)),
    Column("evidence_id", "studies.csv study_id of the trial, or review_id of the review."),
    Column("evidence_label", "The trial or review as the report names it, with the outcome."),
    Column("certainty", "GRADE certainty: " + ", ".join(GRADE_CERTAINTY) + "; empty = not assessed (a trial "
           "in no analysis, a review that gives none).", pattern=_one_of(GRADE_CERTAINTY)),
    Column("direction", "Intervention vs comparator: " + ", ".join(MAP_DIRECTIONS) + "; empty for an empty "
           "cell.", pattern=_one_of(MAP_DIRECTIONS)),
    Column("analysis_id", "Config analysis whose GRADE gives the certainty ('; ' when several)."),
)  # fmt: skip
ROLE_EVIDENCE_COLUMNS: tuple[Column, ...] = (
    Column("role_id", "job_roles.yaml id, in taxonomy order.", True, _ID, unique=True),
    Column("role_label", "The role in words.", True),
    Column("role_origin", "Taxonomy origin: " + ", ".join(ROLE_ORIGINS) + ".", True, _one_of(ROLE_ORIGINS)),
    Column("professional_group", "Taxonomy professional group."),
    Column("trials", "Included randomised trials (RCT, cluster RCT) delivered by the role.", True, _INT),
    Column("reviews", "Reviews whose findings name the role.", True, _INT),
    Column("domains", "Domains with evidence, in words, '; '-joined."),
    Column("certainty", "Certainty of that evidence, best to worst ('low to very low'); empty = not "
           "assessed."),
    Column("statement", "One plain sentence: the role's evidence, or 'No randomised evidence found.'", True),
)  # fmt: skip
# Studies that are not effectiveness evidence (feasibility and pilot trials, non-randomised and qualitative
# studies, randomised trials without outcome data), shown beside the map, never in its cells.
MAP_OTHER_STUDY_COLUMNS: tuple[Column, ...] = (
    Column("role_id", "job_roles.yaml id; empty when the study names no role.", pattern=_ID),
    Column("role_label", "The role in words.", True),
    Column("study_id", "studies.csv study_id.", True, _ID),
    Column("study_label", "The study as the report names it.", True),
    Column("design", "studies.csv design.", True),
    Column("in_review", "yes when the review includes the study (included_studies.csv), else no.", True,
           r"yes|no"),
    Column("why_not_in_map", "Why it is not effectiveness evidence, in words.", True),
)  # fmt: skip

# ---------------------------------------------------------------------------
# Review of reviews: curated review tables (data/curated/reviews.csv, review_findings.csv,
# review_studies.csv) and the outputs of ``ohevidence reviews`` (results/reviews/).
# ---------------------------------------------------------------------------
EVIDENCE_LABELS: tuple[str, ...] = ("V", "S", "C")  # [D] (derived) values are never entered
REVIEW_DIRECTIONS: tuple[str, ...] = MAP_DIRECTIONS
REVIEW_STUDY_STATUSES: tuple[str, ...] = ("included", "unconfirmed")
_REVIEW_ID = Column("review_id", "Unique id of the review version, e.g. Vogel2017_Cochrane.", True, _ID)
_REVIEW_FACTS: tuple[Column, ...] = (
    Column("label", "Short name for people: first author and year ('Vogel 2017').", True),
    Column("title", "Title of the review as the evidence gives it.", True),
    Column("year", "Publication year of this version.", True, r"\d{4}"),
    Column("version", "Cochrane review number and version, e.g. CD011618.pub2.", True),
    Column("doi", "DOI of this version (normalised, lower-case prefix 10.).", pattern=r"10\.\S+"),
    Column("pmid", "PubMed id of this version; empty when NOT FOUND.", pattern=PMID_PATTERN),
)
_REVIEW_QUESTION: tuple[Column, ...] = (
    Column("question", "The review's question in our words (population, intervention, comparator, designs)."),
    Column("population", "Who the review is about."),
    Column("intervention_type", "Kind of intervention reviewed."),
    Column("comparator", "What it was compared with."),
    Column("k", "Number of studies in the review; empty when NOT FOUND.", pattern=_INT),
    Column("n", "Number of participants in the review; empty when NOT FOUND.", pattern=_INT),
    Column("professions", "Who delivered the interventions, in the evidence's words; the brief's unverified "
           "lists are marked as the brief's."),
    Column("job_role", "'; '-joined job_roles.yaml ids, only where the evidence names the profession."),
)  # fmt: skip
REVIEW_CURATED_COLUMNS: tuple[Column, ...] = (
    Column("review_id", "Unique id of the review version, e.g. Vogel2017_Cochrane.", True, _ID, unique=True),
    *_REVIEW_FACTS,
    Column("other_reports", "'; '-joined PMIDs/DOIs of further reports of the review (journal versions)."),
    Column("review_group", "Cochrane group as the evidence shows it; empty when not shown."),
    *_REVIEW_QUESTION,
    Column("notes", "What is NOT FOUND, version notes, labels of secondary values."),
    Column("source", "Evidence file + section + URL(s) for the row.", True),
)  # fmt: skip
REVIEW_FINDING_CURATED_COLUMNS: tuple[Column, ...] = (
    _REVIEW_ID,
    Column("outcome_domain", "One of: " + ", ".join(MAP_DOMAINS) + ".", True, _one_of(MAP_DOMAINS)),
    Column("outcome", "The outcome in words.", True),
    Column("comparison", "Intervention vs comparator, in words.", True),
    Column("timepoint", "Follow-up in words ('6 months', 'long term'); empty when not stated."),
    Column("measure", "Effect measure: HR, RR, OR, MD or SMD; empty = no estimate.",
           pattern="HR|RR|OR|MD|SMD"),
    Column("estimate", "Pooled estimate as printed; empty when NOT FOUND.", pattern=_NUM),
    Column("ci_lower", "Lower 95% limit as printed.", pattern=_NUM),
    Column("ci_upper", "Upper 95% limit as printed.", pattern=_NUM),
    Column("k", "Studies behind this estimate; empty when NOT FOUND.", pattern=_INT),
    Column("n", "Participants behind this estimate; empty when NOT FOUND.", pattern=_INT),
    Column("certainty", "The review's own GRADE certainty: " + ", ".join(GRADE_CERTAINTY)
           + "; empty = NOT FOUND or not assessed.", pattern=_one_of(GRADE_CERTAINTY)),
    Column("better", "Which side favours the intervention: higher or lower (as the estimate is printed).",
           True, "higher|lower"),
    Column("job_role", "'; '-joined job_roles.yaml ids, only where the evidence names the profession."),
    Column("evidence_label", "Label of the values in the evidence: V (seen), S (secondary summary: keep "
           "the label), C (carried). D (derived) values are never entered.", True, _one_of(EVIDENCE_LABELS)),
    Column("notes", "NOT FOUND items, [S] labels, checks to make."),
    Column("source", "Evidence file + section + URL(s).", True),
)  # fmt: skip
REVIEW_STUDY_COLUMNS: tuple[Column, ...] = (
    _REVIEW_ID,
    Column("study", "Primary study as the evidence names it ('Lambeek 2010').", True),
    Column("study_id", "studies.csv study_id when the project curates the study; else empty.", pattern=_ID),
    Column("status", "included (the evidence states the inclusion) or unconfirmed (probable, not counted).",
           True, _one_of(REVIEW_STUDY_STATUSES)),
    Column("notes", "Why unconfirmed, what was seen."),
    Column("source", "Evidence file + section + URL(s).", True),
)  # fmt: skip
# results/extraction/included_reviews.csv: reviews included at the review level (reported apart).
INCLUDED_REVIEW_COLUMNS: tuple[Column, ...] = (
    Column("review_id", "reviews.csv review_id.", True, _ID, unique=True),
    Column("reports", "'; '-joined record ids of its included reports.", True),
    Column("n_reports", "Number of included reports.", True, _INT),
)
# results/reviews/reviews.csv and review_findings.csv (issue 25 contract).
REVIEW_TABLE_COLUMNS: tuple[Column, ...] = (
    Column("review_id", "reviews.csv review_id.", True, _ID, unique=True),
    *_REVIEW_FACTS,
    *_REVIEW_QUESTION,
    Column("amstar2", "AMSTAR 2 overall confidence (data/curated/amstar2.csv), else 'not assessed'.", True),
    Column("in_review", "'included' (at the review level, by screening), else why not.", True),
    Column("source", "Evidence file + section + URL(s).", True),
)  # fmt: skip
REVIEW_FINDING_COLUMNS: tuple[Column, ...] = (
    _REVIEW_ID,
    Column("label", "The review's short name.", True),
    *(c for c in REVIEW_FINDING_CURATED_COLUMNS[1:] if c.name not in {"better", "notes", "source", "job_role",
                                                                       "evidence_label"}),
    Column("direction", "For the intervention: " + ", ".join(REVIEW_DIRECTIONS) + ".", True,
           _one_of(REVIEW_DIRECTIONS)),
    Column("job_role", "'; '-joined job_roles.yaml ids, or empty."),
    Column("evidence_label", "V, S or C as in the evidence.", True, _one_of(EVIDENCE_LABELS)),
    Column("amstar2", "The review's AMSTAR 2 overall confidence, or 'not assessed'.", True),
    Column("in_review", "'included' at the review level, else why not.", True),
    Column("source", "Evidence file + section + URL(s).", True),
)  # fmt: skip
