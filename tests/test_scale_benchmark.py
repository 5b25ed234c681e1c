"""benchmarks/scale.py's generator: per-database formats, a truth for every imported record, derived items."""

from __future__ import annotations

import importlib.util
import random
import re
from collections import Counter
from pathlib import Path

import pytest

from ohevidence.search.formats import parse_file

ROOT = Path(__file__).resolve().parents[1]
SPEC = importlib.util.spec_from_file_location("scale_benchmark", ROOT / "benchmarks" / "scale.py")
assert SPEC and SPEC.loader
scale = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(scale)

pytestmark = pytest.mark.skipif(not scale.SHARED.is_dir(), reason="../shared/benchmarks/screening absent")


@pytest.fixture(scope="module")
def pool_size() -> int:
    return len(scale.load_pool())


def test_exports_parse_with_truth_for_every_record(tmp_path: Path, pool_size: int) -> None:
    rng = random.Random(7)
    items, _ = scale.build_items(pool_size + 300, rng)
    # the last 300 items are derived; write some pool and some derived items
    chosen = items[:400] + items[-300:]
    truth, counts = scale.write_exports(chosen, 1500, tmp_path, rng)
    assert sum(counts.values()) == 1500 == len(truth)
    imported = {}
    for db in scale.DATABASES:
        for record in parse_file(tmp_path / f"{db}.ris", fmt="ris", source=db, search_id=db):
            imported[record["record_id"]] = record
    assert set(imported) == set(truth)  # every imported record is one known item
    # MEDLINE alone carries the PMID (accession number); its records keep the final full stop
    assert all(bool(r["pmid"]) == (r["search_id"] == "medline") for r in imported.values())
    per_item: dict[int, list[dict[str, str]]] = {}
    for record_id, item in truth.items():
        per_item.setdefault(item, []).append(imported[record_id])
    spread = Counter(len(records) for records in per_item.values())
    assert set(spread) <= {1, 2, 3, 4} and spread[1] and spread[4]
    # one item's records differ in form across databases, not in substance
    formats = [records for records in per_item.values() if len(records) >= 3]
    assert any(len({r["title"] for r in records}) > 1 for records in formats)
    assert any(len({r["authors"] for r in records}) > 1 for records in formats)
    for records in formats:
        keys = {re.sub(r"[^a-z0-9]", "", r["title"].lower()) for r in records}
        assert len(keys) == 1


def test_derived_items_really_differ(pool_size: int) -> None:
    items, _ = scale.build_items(pool_size + 500, random.Random(3))
    derived = [i for i in items if i["origin"] == "derived"]
    assert len(derived) == 500
    key = lambda item: re.sub(r"[^a-z0-9]", "", item["title"].lower())  # noqa: E731
    derived_keys = [key(i) for i in derived]
    assert len(set(derived_keys)) == 500  # no derived item copies another's title
    assert not set(derived_keys) & {key(i) for i in items if i["origin"] != "derived"}
    pool_abstracts = {i["abstract"] for i in items if i["origin"] != "derived"}
    assert not any(i["abstract"] in pool_abstracts for i in derived)
