"""Screening at scale: column-wise rules and the features of large reviews give what they should."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import yaml

from ohevidence.screen.rules import RuleResult, apply_rules, compile_rules

ROOT = Path(__file__).resolve().parents[1]

TRICKY_TITLES = [
    "Return-to-work after sick leave: a RANDOMISED controlled trial",
    "Return  to\twork; workers, workforce and the unemployed",
    "Sickness absence in the workforce (study protocol)",
    "Non-randomized, quasi-experimental and nonrandomised designs",
    "Occupational health services and occupational physicians: a systematic review and meta-analysis",
    "Framework of a network of workers",  # 'work' inside words must not fire
    "Pilot feasibility study of intervention mapping",
    "Wor\u212aers in a \u212aitchen",  # Kelvin sign: cleaning makes it K
    "\u017fick leave and \u017ftaff",  # long s: re.IGNORECASE matches it to s, lower() does not
    "Cluster-randomi\u017fed trial of RCT designs in the \u0130stanbul workforce",
    "",
    "Focus groups, interviews and perceptions of staff",
    "A congress of employees; Cochrane review",
]


def _tricky_records() -> pd.DataFrame:
    rows = []
    for i, title in enumerate(TRICKY_TITLES):
        rows.append(
            {
                "record_id": f"r{i}",
                "title": title,
                "abstract": TRICKY_TITLES[-1 - i] + " Randomized clinical trial; return to work.",
                "keywords": "workplace intervention; RTW" if i % 3 == 0 else "",
                "publication_types": "Meeting Abstract" if i % 4 == 0 else "Journal Article",
                "journal": "Cochrane Database Syst Rev" if i % 5 == 0 else "",
                "year": str(1985 + 3 * i) if i % 6 else "",
                "language": ["eng", "ger", "", "eng; fre"][i % 4],
            }
        )
    frame = pd.DataFrame(rows)
    frame.loc[2, "abstract"] = float("nan")  # a missing cell never fires a rule
    return frame


def test_column_wise_rules_equal_the_record_by_record_reference() -> None:
    config = yaml.safe_load((ROOT / "config" / "config.yaml").read_text(encoding="utf-8"))
    rules = compile_rules(config["screening"]["rules"])
    records = _tricky_records()
    flagged = apply_rules(records, rules)
    for record, row in zip(records.to_dict("records"), flagged.itertuples(), strict=True):
        expected = RuleResult(tuple(hit for rule in rules if (hit := rule.match(record)) is not None))
        assert row.record_id == record["record_id"]
        assert row.rule_flags == expected.flags
        assert row.rule_score == expected.score
    flags = flagged.set_index("record_id")["rule_flags"]
    assert '"\u017fick leave" (title)' in flags["r8"]  # found by the regular expression, not lower()
    assert '"WorKers" (title)' in flags["r7"]
    assert "Framework" not in flags["r5"] and "network" not in flags["r5"]  # words, not parts of words
