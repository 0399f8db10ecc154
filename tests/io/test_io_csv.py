"""CSV reading: Russian Excel exports (cp1251, ';', decimal commas), BOM, sources."""

from __future__ import annotations

from pathlib import Path

import pytest

from sbm_engine.formats import read_visits
from sbm_engine.io import InputError
from sbm_engine.io.detect import detect_dialect, looks_cyrillic, number_parser

RUSSIAN_CSV = (
    "visit_id;point;specialist;date;Приветствие;Ожидание;Оценка;Комментарий\r\n"
    "001;Отделение 1;Иванова;02.11.2026;да;4,5;5;Всё хорошо, спасибо\r\n"
    "002;Отделение 2;Петров;03.11.2026;нет;;3,75;\r\n"
)


def _write(path: Path, text: str, encoding: str) -> Path:
    path.write_bytes(text.encode(encoding))
    return path


@pytest.mark.parametrize("encoding", ["cp1251", "utf-8", "utf-8-sig"])
def test_russian_excel_export_is_detected(tmp_path: Path, encoding: str) -> None:
    path = _write(tmp_path / "visits.csv", RUSSIAN_CSV, encoding)
    got = list(read_visits(path))
    assert [r.source for r in got] == [f"{path}:2", f"{path}:3"]
    assert got[0].record == {
        "visit_id": "001",
        "point": "Отделение 1",
        "specialist": "Иванова",
        "date": "02.11.2026",
        "answers": {
            "Приветствие": "да",
            "Ожидание": 4.5,
            "Оценка": 5,
            "Комментарий": "Всё хорошо, спасибо",
        },
    }
    # empty cells are absent keys, not empty values
    assert got[1].record is not None
    assert got[1].record["answers"] == {"Приветствие": "нет", "Оценка": 3.75}
    assert got[1].raw["Ожидание"] == ""


@pytest.mark.parametrize(
    ("encoding", "expected"),
    [("cp1251", "cp1251"), ("utf-8", "utf-8"), ("utf-8-sig", "utf-8-sig")],
)
def test_dialect_detection(tmp_path: Path, encoding: str, expected: str) -> None:
    path = _write(tmp_path / "visits.csv", RUSSIAN_CSV, encoding)
    dialect = detect_dialect(path)
    assert (dialect.encoding, dialect.delimiter, dialect.decimal) == (expected, ";", ",")


def test_comma_file_uses_decimal_point(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "visits.csv",
        'visit_id,point,wait,score,note\nv1,P1,4.5,7,"a, b"\nv2,P2,"4,5",-2,x\n',
        "utf-8",
    )
    got = [r.record for r in read_visits(path)]
    assert got[0] == {
        "visit_id": "v1",
        "point": "P1",
        "answers": {"wait": 4.5, "score": 7, "note": "a, b"},
    }
    assert got[1] is not None and got[1]["answers"]["wait"] == "4,5"


def test_explicit_options_override_detection(tmp_path: Path) -> None:
    path = _write(tmp_path / "visits.csv", "visit_id;wait\nv1;4.5\nv2;4,5\n", "utf-8")
    got = [r.record for r in read_visits(path, decimal=".")]
    assert got == [
        {"visit_id": "v1", "answers": {"wait": 4.5}},
        {"visit_id": "v2", "answers": {"wait": "4,5"}},
    ]
    got = [r.record for r in read_visits(path, delimiter=",")]
    assert got[0] == {"answers": {"visit_id;wait": "v1;4.5"}}


def test_tsv_and_decimal_comma_sniffing(tmp_path: Path) -> None:
    path = _write(tmp_path / "visits.tsv", "visit_id\twait\nv1\t4,5\nv2\t3\n", "cp1251")
    got = [r.record for r in read_visits(path)]
    assert got == [
        {"visit_id": "v1", "answers": {"wait": 4.5}},
        {"visit_id": "v2", "answers": {"wait": 3}},
    ]


def test_visit_fields_stay_text_and_declared_fields_go_top_level(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "visits.csv",
        "visit_id;shopper;channel;answers.wait;5\n007;12;3;2;4\n",
        "utf-8",
    )
    (record,) = [r.record for r in read_visits(path, visit_fields={"channel"})]
    assert record == {
        "visit_id": "007",
        "shopper": "12",
        "channel": "3",
        "answers": {"wait": 2, "5": 4},
    }


def test_cells_are_kept_as_read(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "visits.csv",
        "visit_id;a;b;c;d;e;f\nv1; да ; 5;1 234;NaN;4.5;1,5E-3\n",
        "utf-8",
    )
    (record,) = [r.record for r in read_visits(path)]
    assert record == {
        "visit_id": "v1",
        "answers": {"a": " да ", "b": " 5", "c": "1 234", "d": "NaN", "e": "4.5", "f": 0.0015},
    }


def test_wrong_cell_count_is_an_error_record(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "visits.csv",
        "visit_id;a;b\nv1;1;2\nv2;1;2;3\nv3;1\nv4;1;2\n",
        "utf-8",
    )
    got = list(read_visits(path))
    assert [r.ok for r in got] == [True, False, False, True]
    assert got[1].error == "row has 4 cells, header has 3"
    assert got[1].raw == ["v2", "1", "2", "3"]
    assert got[2].error == "row has 2 cells, header has 3"
    assert got[3].source == f"{path}:5"


def test_multiline_quoted_cell_source_is_the_starting_line(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "visits.csv",
        'visit_id;note\nv1;"first\nsecond\nthird"\n\n;\nv2;ok\n',
        "utf-8",
    )
    got = list(read_visits(path))
    assert [r.source for r in got] == [f"{path}:2", f"{path}:7"]
    assert got[0].record == {"visit_id": "v1", "answers": {"note": "first\nsecond\nthird"}}


def test_trailing_separator_column_without_header(tmp_path: Path) -> None:
    path = _write(tmp_path / "visits.csv", "visit_id;a;\nv1;1;\nv2;2;oops\n", "utf-8")
    got = list(read_visits(path))
    assert got[0].record == {"visit_id": "v1", "answers": {"a": 1}}
    assert got[1].record is None
    assert got[1].error == "column 3 has a value ('oops') but no header"


def test_header_bom_with_explicit_utf8(tmp_path: Path) -> None:
    path = _write(tmp_path / "visits.csv", "visit_id,a\nv1,1\n", "utf-8-sig")
    assert [r.record for r in read_visits(path, encoding="utf-8")] == [
        {"visit_id": "v1", "answers": {"a": 1}}
    ]


def test_duplicate_columns_are_an_input_error(tmp_path: Path) -> None:
    path = _write(tmp_path / "visits.csv", "visit_id,wait,answers.wait\nv1,1,2\n", "utf-8")
    with pytest.raises(InputError, match="both give answer 'wait'"):
        list(read_visits(path))


def test_ambiguous_delimiter_says_how_to_fix(tmp_path: Path) -> None:
    path = _write(tmp_path / "visits.csv", "visit_id;a,b\n", "utf-8")
    with pytest.raises(InputError, match=r"--delimiter ';' or --delimiter ','"):
        read_visits(path)


def test_delimiter_follows_consistent_rows(tmp_path: Path) -> None:
    # the header has more commas than semicolons, but only ';' splits rows evenly
    path = _write(
        tmp_path / "visits.csv",
        "visit_id;Вежливость, улыбка, тон\nv1;4,5\nv2;3\n",
        "cp1251",
    )
    assert detect_dialect(path).delimiter == ";"
    got = [r.record for r in read_visits(path)]
    assert got[0] == {"visit_id": "v1", "answers": {"Вежливость, улыбка, тон": 4.5}}


def test_undetectable_encoding_asks_for_encoding(tmp_path: Path) -> None:
    path = tmp_path / "visits.csv"
    path.write_bytes("visit_id;Straße;Müller\nv1;1;2\n".encode("latin-1"))
    with pytest.raises(InputError, match="--encoding"):
        read_visits(path)
    got = [r.record for r in read_visits(path, encoding="latin-1")]
    assert got == [{"visit_id": "v1", "answers": {"Straße": 1, "Müller": 2}}]


def test_non_ascii_after_a_long_ascii_prefix_is_found(tmp_path: Path) -> None:
    rows = "".join(f"v{i};{i % 10}\n" for i in range(20000))
    path = _write(tmp_path / "visits.csv", "visit_id;a\n" + rows + "v_last;да\n", "cp1251")
    assert detect_dialect(path).encoding == "cp1251"
    got = list(read_visits(path))
    assert got[-1].record == {"visit_id": "v_last", "answers": {"a": "да"}}
    assert got[-1].source == f"{path}:20002"


def test_wrong_explicit_encoding_midway_rejects_that_row_with_its_line(tmp_path: Path) -> None:
    """A line not in the encoding is one unreadable record, at its own line, naming the
    encoding it reads in; the rows around it are read (red team, issue 21 item 16)."""
    rows = "".join(f"v{i};{i % 10}\n" for i in range(20000))
    path = _write(tmp_path / "visits.csv", "visit_id;a\n" + rows + "v_last;да\nv_end;1\n", "cp1251")
    got = list(read_visits(path, encoding="utf-8"))
    assert len(got) == 20002
    bad = got[-2]
    assert (bad.source, bad.record) == (f"{path}:20002", None)
    assert bad.error is not None and bad.error.startswith("line 20002: not valid utf-8")
    assert "--encoding cp1251" in bad.error
    assert bad.raw == {"visit_id": "v_last", "a": "\ufffd\ufffd"}
    assert got[-1].record == {"visit_id": "v_end", "answers": {"a": 1}}


def test_empty_file_has_no_records(tmp_path: Path) -> None:
    path = _write(tmp_path / "visits.csv", "", "utf-8")
    assert list(read_visits(path)) == []


def test_looks_cyrillic() -> None:
    assert looks_cyrillic("Приветствие, ожидание — «да»")
    assert not looks_cyrillic("Mьller Straяe")
    assert not looks_cyrillic("plain ascii")


@pytest.mark.parametrize(
    ("decimal", "cell", "expected"),
    [
        (",", "5", 5),
        (",", "-12", -12),
        (",", "4,5", 4.5),
        (",", ",5", 0.5),
        (",", "4.5", "4.5"),
        (".", "4.5", 4.5),
        (".", "4,5", "4,5"),
        (".", "1e3", 1000.0),
        (",", "5,", "5,"),
        (",", "", ""),
        (",", "١٢", "١٢"),
        (".", "inf", "inf"),
        pytest.param(".", "9" * 5000, "9" * 5000, id="too-many-digits"),
    ],
)
def test_number_parser(decimal: str, cell: str, expected: object) -> None:
    got = number_parser(decimal)(cell)
    assert got == expected and type(got) is type(expected)
