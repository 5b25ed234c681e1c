"""Crossref works JSON parser: synthetic work-list and recorded habanero responses."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ohevidence.errors import InputError
from ohevidence.search import crossref
from ohevidence.search.crossref import jats_to_text, parse_crossref_json, parse_crossref_obj

DECODED = "crossref/decoded"


def test_synthetic_work_list(test_data: Path) -> None:
    first, second, third = parse_crossref_json(test_data / "crossref_synthetic.json", search_id="cr1")
    assert first["source"] == "nihr"
    assert first["doi"] == first["source_id"] == "10.9999/synthetic.21"  # lower-cased
    assert first["record_id"] == "cr1:10.9999/synthetic.21"
    assert first["title"] == "Synthetic trial of vocational advice in primary care"
    assert first["abstract"] == (
        "Background: Made-up background on work absence & advice. "
        "Methods: An invented design; H2O was not involved. "
        "Trial registration: Current Controlled Trials ISRCTN00000021."
    )
    # given names to initials, organisation 'name' kept, editors skipped
    assert first["authors"] == "Example, KA; Dupont, JP; Synthetic Trial Collaboration"
    assert first["journal"] == "Synthetic Technology Assessment"
    # published-print (2021-04) preferred
    assert (first["year"], first["volume"], first["issue"], first["pages"]) == ("2021", "25", "4", "1-120")
    assert first["publication_types"] == "journal-article"
    assert first["keywords"] == "Health Policy; Occupational Therapy"
    assert first["registry_ids"] == "NCT00000022; ACTRN99990000000001; ISRCTN00000021"
    assert first["language"] == "en"
    assert first["url"] == "https://doi.org/10.9999/synthetic.21"
    assert second["authors"] == "Onlyfamily" and second["year"] == "2020" and second["journal"] == ""
    assert second["publication_types"] == "report"
    assert second["url"] == "https://doi.org/10.9999/synthetic.22"
    assert third["year"] == "" and third["publication_types"] == "monograph"


def test_bare_list_and_single_work(test_data: Path) -> None:
    payload = json.loads((test_data / "crossref_synthetic.json").read_text())
    items = payload["message"]["items"]
    bare = parse_crossref_obj(items, name="bare", search_id="cr1")
    assert [r["doi"] for r in bare] == [
        "10.9999/synthetic.21",
        "10.9999/synthetic.22",
        "10.9999/synthetic.23",
    ]
    single = {"status": "ok", "message-type": "work", "message": items[1]}
    assert parse_crossref_obj(single, name="one", search_id="cr1")[0]["title"] == "Second synthetic report"


def test_jats_to_text() -> None:
    assert (
        jats_to_text("<jats:p>One &lt;two&gt; <jats:italic>three</jats:italic>.</jats:p>")
        == "One <two> three."
    )
    assert jats_to_text("<jats:sec><jats:title>Aim:</jats:title><jats:p>x</jats:p></jats:sec>") == "Aim: x"
    assert jats_to_text(None) == ""


def test_invalid_json_reports_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text('{"status": "ok",\n "message-type": "work-list",\n "message": {"items": [}\n}')
    with pytest.raises(InputError) as info:
        parse_crossref_json(path, search_id="cr1")
    assert info.value.line == 3
    assert info.value.column == "24"
    assert "broken.json" in str(info.value) and "invalid JSON" in str(info.value)


def test_item_without_doi_is_rejected() -> None:
    with pytest.raises(InputError, match="item 2 is not a Crossref work"):
        parse_crossref_obj([{"DOI": "10.9999/synthetic.1"}, {"title": ["x"]}], name="x", search_id="cr1")


def test_crossref_json_nested_200000_deep_is_one_error(tmp_path: Path) -> None:
    """Case 8: json raises RecursionError on absurd nesting; the user gets one InputError."""
    path = tmp_path / "deep.json"
    path.write_text(
        '{"status": "ok", "message-type": "work-list", "message": {"items": [{"DOI": "10.9999/d", '
        '"title": ' + "[" * 200_000 + "]" * 200_000 + "}]}}"
    )
    with pytest.raises(InputError, match=r"deep\.json: JSON nested too deeply"):
        parse_crossref_json(path, search_id="cr1")


@pytest.mark.parametrize(
    ("field", "value", "message", "expected"),
    [
        ("author", "Smith J", r'author is a string \("Smith J"\)', "a list of objects"),
        ("author", [{"family": ["Smith"]}], r"author\[0\]\.family is a list", "a string"),
        ("issued", [2020], r"issued is a list", "'date-parts' is a list of lists of whole numbers"),
        ("issued", {"date-parts": [2020]}, r"issued\.date-parts\[0\] is a number \(2020\)", "a list"),
        (
            "published-print",
            {"date-parts": [["2020"]]},
            r"published-print\.date-parts\[0\]\[0\] is a string",
            "whole number",
        ),
        ("title", {"text": "x"}, r"title is a JSON object", "a list or a string"),
        ("clinical-trial-number", "NCT00000001", r"clinical-trial-number is a string", "a list"),
        ("subject", [["nested"]], r"subject\[0\] is a list", "a string"),
    ],
)
def test_crossref_item_shapes_are_clear_errors_naming_item_and_doi(
    tmp_path: Path, field: str, value: object, message: str, expected: str
) -> None:
    """Case 8: a field of the wrong shape names the file, the item, its DOI and the field."""
    works = [
        {"DOI": "10.9999/ok.1", "title": ["Fine"]},
        {"DOI": "10.9999/bad.2", "title": ["Bad"], field: value},
    ]
    path = tmp_path / "works.json"
    path.write_text(json.dumps({"status": "ok", "message-type": "work-list", "message": {"items": works}}))
    with pytest.raises(
        InputError, match=rf"works\.json, column .*: item 2 \(DOI 10\.9999/bad\.2\): {message}"
    ) as info:
        parse_crossref_json(path, search_id="cr1")
    assert expected in str(info.value.expected)


@pytest.mark.parametrize("message", [[{"DOI": "10.9999/x"}], {"items": {"DOI": "10.9999/x"}}, "text"])
def test_crossref_work_list_message_of_wrong_shape_is_a_clear_error(message: object) -> None:
    payload = {"status": "ok", "message-type": "work-list", "message": message}
    with pytest.raises(InputError, match=r"x\.json, column 'message(\.items)?': work-list message"):
        parse_crossref_obj(payload, name="x.json", search_id="cr1")


# --- recorded real responses ---------------------------------------------------------------
def test_real_single_work(shared_fixtures: Path) -> None:
    [rec] = parse_crossref_json(shared_fixtures / DECODED / "test_works_with_one_id.0.json", search_id="h")
    assert rec["doi"] == "10.1371/journal.pone.0033693"
    assert rec["title"] == (
        "Methylphenidate Exposure Induces Dopamine Neuron Loss and Activation of Microglia "
        "in the Basal Ganglia of Mice"
    )
    assert rec["authors"] == "Sadasivan, S; Pond, BB; Pani, AK; Qu, C; Jiao, Y; Smeyne, RJ"
    assert (rec["journal"], rec["year"], rec["volume"], rec["issue"], rec["pages"]) == (
        "PLoS ONE",
        "2012",
        "7",
        "3",
        "e33693",
    )
    assert rec["publication_types"] == "journal-article" and rec["language"] == "en"
    assert rec["url"] == "https://doi.org/10.1371/journal.pone.0033693"


def test_real_prefix_work_list(shared_fixtures: Path) -> None:
    records = parse_crossref_json(shared_fixtures / DECODED / "test_prefixes_works.0.json", search_id="h")
    assert [r["doi"] for r in records] == [
        "10.1016/b978-0-08-102696-0.00020-8",
        "10.1016/b978-0-323-48253-0.00151-3",
    ]
    assert records[1]["title"] == "Gout" and records[1]["authors"] == "Orós, J"
    assert records[1]["pages"] == "1308-1309.e1" and records[1]["year"] == "2019"
    assert records[0]["publication_types"] == "book-chapter"


def test_real_abstracts_are_plain_text(shared_fixtures: Path) -> None:
    query = parse_crossref_json(shared_fixtures / DECODED / "test_works_query.0.json", search_id="h")
    assert [r["title"] for r in query] == ["Communicating Ecology", "Chemical Ecology"]
    assert query[0]["abstract"].startswith("Communication is perhaps the most important")
    assert all("<" not in r["abstract"] for r in query)
    assert query[0]["year"] == "2022" and query[0]["authors"] == ""
    cursor = parse_crossref_json(shared_fixtures / DECODED / "test_cursor.0.json", search_id="h")
    assert len(cursor) == 20
    jchem = next(r for r in cursor if r["doi"] == "10.59350/7mtwq-q3661")
    assert jchem["abstract"].startswith("In addition to this Swing-based screenshot of JChemPaint")
    assert "jats" not in jchem["abstract"]
    # 'issued': [[null]] gives no year rather than a crash
    assert next(r for r in cursor if r["doi"] == "10.1007/springerreference_66110")["year"] == ""


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("test_cursor_fails_cursor_value.0.json", "Cursor specified but it is invalid"),
        ("test_funders_fail_limit.0.json", "validation-failure"),
        ("test_members.0.json", "message-type 'member-list'"),
        ("test_prefixes.0.json", "message-type 'prefix'"),
    ],
)
def test_real_error_and_non_work_bodies_raise(shared_fixtures: Path, name: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        parse_crossref_json(shared_fixtures / DECODED / name, search_id="h")


def test_real_plain_text_404_body(shared_fixtures: Path) -> None:
    with pytest.raises(InputError) as info:
        parse_crossref_json(shared_fixtures / DECODED / "test_works_bad_id_warn.0.txt", search_id="h")
    assert info.value.line == 1 and "invalid JSON" in info.value.message


# --- issue 26 item 8: the shape check is cheap, and no more lenient than the schema ----------
def _paths(value: object, prefix: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
    """Every path to a value inside ``value`` (keys of objects, indexes of lists)."""
    found = [prefix]
    if isinstance(value, dict):
        for key, sub in value.items():
            found += _paths(sub, (*prefix, key))
    elif isinstance(value, list):
        for index, sub in enumerate(value):
            found += _paths(sub, (*prefix, index))
    return found


def _replaced(value: object, path: tuple[object, ...], new: object) -> object:
    if not path:
        return new
    copy = json.loads(json.dumps(value))
    target = copy
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = new
    return copy


_HOSTILE = [None, "", "x", 0, 2020, 2020.0, 1.5, True, [], {}, ["x"], [None], [1], [[1]], [["1"]], {"a": 1}]


def test_fast_shape_check_never_accepts_what_the_schema_refuses(test_data: Path) -> None:
    """Every field of real-shaped works replaced by every hostile value: the compiled check says
    'valid' only where jsonschema does (so skipping jsonschema on its 'valid' loses no guarantee)."""
    payload = json.loads((test_data / "crossref_synthetic.json").read_text())
    works = payload["message"]["items"]
    checked = refused = 0
    for work in works:
        for path in _paths(work):
            for value in _HOSTILE:
                mutated = _replaced(work, path, value)
                fast = crossref._WORK_SHAPE_OK(mutated)
                schema = crossref._WORK_VALIDATOR.is_valid(mutated)
                assert not fast or schema, (path, value)
                checked += 1
                refused += not schema
    assert checked > 1000 and refused > 300  # the mutations did reach fields the schema guards


def test_a_well_formed_work_is_not_walked_by_jsonschema(
    monkeypatch: pytest.MonkeyPatch, test_data: Path
) -> None:
    """jsonschema (~0.2 ms a work: 44 s for 200,000) runs only to word the error of a bad work."""

    class Refuse:
        def iter_errors(self, work: object) -> object:
            raise AssertionError("jsonschema walked a well-formed work")

    monkeypatch.setattr(crossref, "_WORK_VALIDATOR", Refuse())
    assert len(parse_crossref_json(test_data / "crossref_synthetic.json", search_id="cr1")) == 3


def test_a_year_written_as_2020_0_is_still_accepted_through_jsonschema() -> None:
    """Stricter than the schema only costs time: the slow path still accepts what it accepts."""
    work = {"DOI": "10.9999/x", "issued": {"date-parts": [[2020.0]]}}
    assert not crossref._WORK_SHAPE_OK(work)
    assert parse_crossref_obj([work], name="x", search_id="cr1")[0]["year"] == "2020"


def test_shape_check_refuses_a_schema_keyword_it_cannot_enforce() -> None:
    with pytest.raises(ValueError, match="supports only"):
        crossref.compile_shape_check({"type": "string", "pattern": "^10\\."})
    with pytest.raises(ValueError, match="needs 'type'"):
        crossref.compile_shape_check({"properties": {}})
