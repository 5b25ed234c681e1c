"""Issue 26 item 3: every output written whole or not at all; a cut or ragged table is refused;
a full disk is one line naming the file."""

from __future__ import annotations

import errno
import json
import re
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import pandas as pd
import pytest

from ohevidence.atomic import WriteError, atomic_write, write_json_atomic, write_text_atomic
from ohevidence.cli import main
from ohevidence.errors import InputError, SchemaError
from ohevidence.meta.io import read_csv_rows, read_rows, write_json
from ohevidence.records import make_record, records_frame
from ohevidence.report.common import save_figure
from ohevidence.schema import RECORD_COLUMNS
from ohevidence.tableio import read_table, write_table

FULL_DISK = OSError(errno.ENOSPC, "No space left on device")
ROOT = Path(__file__).resolve().parents[1]


def _records(n: int) -> pd.DataFrame:
    return records_frame(
        make_record(
            source="pubmed",
            search_id="pm",
            pmid=str(1000 + i),
            title=f"Return to work after sickness absence, cohort {i}",
            authors="Smith, J; Jones, K",
            abstract="Workers were followed for a year, and days off work were counted.",
            year="2020",
        )
        for i in range(n)
    )


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


def _cut_to_csv(monkeypatch: pytest.MonkeyPatch, error: Exception) -> None:
    """Make ``DataFrame.to_csv`` write the first half of its text, then fail with ``error``."""
    real = pd.DataFrame.to_csv

    def half_then_fail(self: pd.DataFrame, target: Any = None, *args: Any, **kwargs: Any) -> None:
        text = real(self, None, *args, **kwargs)
        assert text is not None
        if isinstance(target, str | Path):
            with open(target, "w", encoding="utf-8") as handle:
                handle.write(text[: len(text) // 2])
        else:
            target.write(text[: len(text) // 2])
        raise error

    monkeypatch.setattr(pd.DataFrame, "to_csv", half_then_fail)


def test_a_table_write_that_fails_midway_leaves_the_old_table_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "records.csv"
    write_table(_records(3), path, RECORD_COLUMNS)
    before = path.read_bytes()
    _cut_to_csv(monkeypatch, RuntimeError("killed"))
    with pytest.raises(RuntimeError, match="killed"):
        write_table(_records(40), path, RECORD_COLUMNS)
    assert path.read_bytes() == before
    assert _leftovers(tmp_path) == []


def test_a_first_write_that_fails_leaves_no_file_under_the_final_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "out" / "records.csv"
    _cut_to_csv(monkeypatch, KeyboardInterrupt())
    with pytest.raises(KeyboardInterrupt):
        write_table(_records(40), path, RECORD_COLUMNS)
    assert not path.exists()
    assert _leftovers(path.parent) == []


def test_a_full_disk_while_writing_json_names_the_file_and_keeps_the_old_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "result.json"
    write_json({"k": 3}, path)
    monkeypatch.setattr("ohevidence.atomic.os.fsync", lambda fd: (_ for _ in ()).throw(FULL_DISK))
    with pytest.raises(WriteError) as caught:
        write_json({"k": 4, "more": list(range(100))}, path)
    assert caught.value.errno == errno.ENOSPC
    assert str(caught.value).startswith(f"{path}: cannot be written: No space left on device")
    assert "disk or quota is full" in str(caught.value)
    assert json.loads(path.read_text(encoding="utf-8")) == {"k": 3}
    assert _leftovers(tmp_path) == []


def test_atomic_files_get_the_usual_permissions_and_text_helpers_round_trip(tmp_path: Path) -> None:
    write_text_atomic(tmp_path / "note.md", "Zoë\n")
    write_json_atomic(tmp_path / "a.json", {"name": "Zoë"})
    with atomic_write(tmp_path / "b.bin", "wb") as handle:
        handle.write(b"\x00\x01")
    assert (tmp_path / "note.md").read_text(encoding="utf-8") == "Zoë\n"
    assert json.loads((tmp_path / "a.json").read_text(encoding="utf-8")) == {"name": "Zoë"}
    assert (tmp_path / "b.bin").read_bytes() == b"\x00\x01"
    plain = tmp_path / "plain.txt"
    plain.write_text("x")
    assert (tmp_path / "note.md").stat().st_mode & 0o777 == plain.stat().st_mode & 0o777
    assert _leftovers(tmp_path) == []


def test_an_error_reading_another_file_inside_the_block_is_not_blamed_on_the_output(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError), atomic_write(tmp_path / "out.txt") as handle:
        handle.write("x")
        (tmp_path / "missing.txt").read_text()
    assert not (tmp_path / "out.txt").exists()
    assert _leftovers(tmp_path) == []


def test_a_figure_that_fails_midway_leaves_the_old_figure(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fig, ax = plt.subplots()
    ax.plot([0, 1], [0, 1])
    (png,) = save_figure(fig, tmp_path / "forest", formats=("png",))
    before = png.read_bytes()

    def cut(self: Any, target: Any, *args: Any, **kwargs: Any) -> None:
        data = b"\x89PNG\r\n\x1a\n partial"
        if isinstance(target, str | Path):
            Path(target).write_bytes(data)
        else:
            target.write(data)
        raise FULL_DISK

    monkeypatch.setattr(type(fig), "savefig", cut)
    with pytest.raises((WriteError, OSError)):
        save_figure(fig, tmp_path / "forest", formats=("png",))
    plt.close(fig)
    assert png.read_bytes() == before
    assert _leftovers(tmp_path) == []


# --- readers: a cut or ragged table is refused with file and line --------------------------------
def test_a_records_table_cut_mid_row_is_refused_with_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "records.csv"
    write_table(_records(5), path, RECORD_COLUMNS)
    text = path.read_text(encoding="utf-8")
    lines = text.splitlines(keepends=True)
    row = lines[4]
    for cut, message in (
        (row[: row.index(",,") + 1], "the file ends in the middle of this row"),  # after a comma
        (row[: row.index('"') + 5], "the file ends inside a quoted cell"),  # inside the quoted title
    ):
        path.write_text("".join(lines[:4]) + cut, encoding="utf-8")  # stopped inside the fourth record
        with pytest.raises(SchemaError) as caught:
            read_table(path, RECORD_COLUMNS)
        assert (caught.value.file, caught.value.line) == (str(path), 5)
        assert message in caught.value.message


def test_dedupe_refuses_a_cut_records_table_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "records.csv"
    write_table(_records(6), path, RECORD_COLUMNS)
    data = path.read_bytes()
    path.write_bytes(data[: data.rindex(b",")])  # the last record lost its last field
    code = main(["dedupe", "--records", str(path), "--out", str(tmp_path / "dedup")])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert err == [
        f"ohevidence: error: {path}, line 7: row has {len(RECORD_COLUMNS) - 1} field(s) but the header has "
        f"{len(RECORD_COLUMNS)}; the file ends in the middle of this row (cut short while being written?) "
        f"(expected {len(RECORD_COLUMNS)} comma-separated fields on every row)"
    ]
    assert not (tmp_path / "dedup" / "unique_records.csv").exists()


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("a,b,c\n1,2,3\n4,5\n6,7,8\n", 3, "row has 2 field(s) but the header has 3"),
        ("a,b,c\n1,2,3\n4,5,6,7\n", 3, "row has 4 field(s) but the header has 3"),
        ('a,b,c\n1,"two\nlines",3\n4,5\n', 4, "row has 2 field(s)"),
        ('a,b,c\n1,2,3\n4,5,"six\n', 3, "the file ends inside a quoted cell"),
        ('a,b,c\n1,2,3\n4,"5"x,6\n', 3, "cannot be read as CSV"),
    ],
)
def test_a_short_or_long_row_is_refused_by_every_table_reader(
    tmp_path: Path, text: str, line: int, message: str
) -> None:
    from ohevidence.schema import Column

    path = tmp_path / "t.csv"
    path.write_text(text, encoding="utf-8")
    columns = [Column("a", "x"), Column("b", "x"), Column("c", "x")]
    with pytest.raises(SchemaError) as caught:
        read_table(path, columns)
    assert caught.value.line == line and message in caught.value.message
    if "quoted" in message or "CSV" in message:
        return
    for reader in (read_csv_rows, read_rows):
        with pytest.raises(InputError) as caught_rows:
            reader(path)
        assert caught_rows.value.line == line and message in caught_rows.value.message


def test_blank_lines_and_multi_line_cells_still_read(tmp_path: Path) -> None:
    from ohevidence.schema import Column

    path = tmp_path / "t.csv"
    path.write_text('a,b\n\n1,"x\ny"\n\n2,3\n', encoding="utf-8")
    frame = read_table(path, [Column("a", "x"), Column("b", "x")])
    assert frame.to_dict("records") == [{"a": "1", "b": "x\ny"}, {"a": "2", "b": "3"}]


# --- a full disk at the command line: one line naming the file ------------------------------------
def test_a_full_disk_is_one_line_naming_the_file_without_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "records.csv"
    write_table(_records(6), path, RECORD_COLUMNS)
    out = tmp_path / "dedup"
    _cut_to_csv(monkeypatch, FULL_DISK)
    code = main(["dedupe", "--records", str(path), "--out", str(out)])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 1
    assert len(err) == 1, err
    assert err[0].startswith(f"ohevidence: error: {out / 'clusters.csv'}: cannot be written: No space left")
    assert "Traceback" not in err[0]
    assert not (out / "clusters.csv").exists() and _leftovers(out) == []


def test_an_os_error_outside_the_writer_is_one_line_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def full(*args: Any, **kwargs: Any) -> int:
        raise OSError(errno.ENOSPC, "No space left on device", str(tmp_path / "x.log"))

    monkeypatch.setattr("ohevidence.cli._cmd_unlock_stale", full)
    code = main(["unlock-stale", "--directory", str(tmp_path)])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 1
    assert err == [
        f"ohevidence: error: {tmp_path / 'x.log'}: No space left on device "
        "(the disk or quota is full: free some space and run again)"
    ]


def test_every_output_is_written_through_the_atomic_writer() -> None:
    """No module writes a file under its final name directly: new outputs use ohevidence.atomic."""
    direct = re.compile(
        r"\.write_text\(|\.write_bytes\(|json\.dump\(|shutil\.copy|\bopen\([^)]*[\"'][wax]b?\+?[\"']|\.savefig\("
    )
    # report/common.save_figure draws into an atomic_write handle
    allowed = {("common.py", ".savefig(")}
    offenders = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for path in sorted((ROOT / "src" / "ohevidence").rglob("*.py"))
        if path.name not in ("testing.py", "atomic.py")
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if (found := direct.search(line)) and (path.name, found.group()) not in allowed
    ]
    assert not offenders, "write outputs with ohevidence.atomic: " + ", ".join(offenders)
