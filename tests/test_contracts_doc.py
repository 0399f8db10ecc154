"""`docs/contracts.md` against the engine: the page must not drift from the code.

The page states the input and output contracts; this module checks every fact of it
that a machine can check: the reject codes (each one the engine can emit is named,
and each one named exists), the visit fields, the formats, the keys of a scored
visit, a reject, a roll-up and the summary (with their order and JSON types), the
flattened header, the Parquet column types, the formula guard, the exit statuses,
the sources and the examples, which must be what a real run writes.

The tables are read by their first column (a key path such as
`coefficients.NAME` or `errors[].code`) and the real objects are walked into the
same paths, `NAME` standing for any name of the standard.
"""

from __future__ import annotations

import ast
import contextlib
import csv
import json
import re
import signal
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from demo import DEMO

import sbm_engine
from sbm_engine.cli import cli
from sbm_engine.io import VISIT_FIELDS, flatten
from sbm_engine.io.writers import FORMULA_START
from sbm_engine.model import BUILTIN_FIELDS

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "contracts.md"
PACKAGE = ROOT / "sbm_engine"
VISITS = Path(__file__).parent / "conformance" / "demo_visits.jsonl"
#: The record engine: it starts at once (the batch engine writes the same, `test_fastpath`).
PY = ("--engine", "python")

# -- reading the page ----------------------------------------------------------------------------

_HEADING = re.compile(r"^(#+)\s+(.*?)\s*$")


def doc_text() -> str:
    return DOC.read_text(encoding="utf-8")


def section(title: str) -> str:
    """The text under the heading `title` (without its `#`s), up to the next heading of
    the same or a higher level."""
    lines = doc_text().splitlines()
    for i, line in enumerate(lines):
        m = _HEADING.match(line)
        if m and m.group(2) == title:
            level = len(m.group(1))
            body = []
            for nxt in lines[i + 1 :]:
                h = _HEADING.match(nxt)
                if h and len(h.group(1)) <= level:
                    break
                body.append(nxt)
            return "\n".join(body)
    raise AssertionError(f"docs/contracts.md has no heading {title!r}")


def tables(text: str) -> list[list[list[str]]]:
    """The Markdown tables of `text`: rows of cells, header and rule left out."""
    found: list[list[list[str]]] = []
    current: list[list[str]] | None = None
    in_code = False
    for line in text.splitlines():
        if line.startswith("```"):
            in_code = not in_code
        if in_code or not line.startswith("|"):
            current = None
            continue
        cells = [c.strip() for c in re.split(r"(?<!\\)\|", line.strip().strip("|"))]
        if current is None:
            current = []
            found.append(current)
            continue  # the header row
        if all(set(c) <= set("-: ") for c in cells):
            continue  # the rule under the header
        current.append(cells)
    return found


def ticked(cell: str) -> list[str]:
    """The `code` spans of a cell, in order."""
    return re.findall(r"`([^`]+)`", cell)


def first_column(text: str, index: int = 0) -> list[str]:
    """The first cell of each row of the `index`-th table, without its backticks."""
    return [row[0].strip("`") for row in tables(text)[index]]


def code_blocks(text: str, lang: str) -> list[str]:
    return re.findall(rf"^```{lang}\n(.*?)^```", text, flags=re.S | re.M)


def key_table(title: str) -> dict[str, str]:
    """The key table of a section: key path -> the cell naming its JSON type."""
    return {row[0].strip("`"): row[1] for row in tables(section(title))[0]}


# -- walking real objects into key paths ---------------------------------------------------------

Leaf = tuple[str, Any]


def walk(
    value: Any, path: str, is_map: Callable[[str], bool], opaque: frozenset[str]
) -> Iterator[Leaf]:
    """(key path, value) of every leaf: a map's keys as `.NAME`, list elements as `[]`.
    An empty list or map gives no leaf; a path in `opaque` is a leaf whatever it holds."""
    if path in opaque:
        yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            name = "NAME" if is_map(path) else key
            yield from walk(item, f"{path}.{name}" if path else name, is_map, opaque)
    elif isinstance(value, list):
        for item in value:
            yield from walk(item, f"{path}[]", is_map, opaque)
    else:
        yield path, value


def leaves(
    objects: list[dict[str, Any]], maps: set[str], opaque: frozenset[str] = frozenset()
) -> dict[str, list[Any]]:
    """Every key path of the objects, in order of first appearance, with its values."""
    found: dict[str, list[Any]] = {}
    for obj in objects:
        for path, value in walk(obj, "", maps.__contains__, opaque):
            found.setdefault(path, []).append(value)
    return found


_JSON_TYPES = {str: "text", bool: "boolean", int: "number", float: "number", type(None): "null"}


def check_keys(
    title: str,
    objects: list[dict[str, Any]],
    maps: set[str],
    optional: frozenset[str] = frozenset(),
    **kw: Any,
) -> None:
    """The section's key table names exactly the key paths of `objects` (but the
    `optional` ones, which the table says appear only for some standards), top-level
    keys in their order, and every value is of a JSON type the table allows ("as
    read": any)."""
    table = key_table(title)
    found = leaves(objects, maps, **kw)
    assert set(table) - optional == set(found) - optional, (
        f"{title}: the page names {sorted(set(table) - set(found))} that the engine does "
        f"not write and leaves out {sorted(set(found) - set(table))}"
    )
    top = list(dict.fromkeys(re.split(r"[.\[]", p)[0] for p in table))
    for obj in objects:
        assert set(obj) <= set(top), f"{title}: keys {set(obj) - set(top)} are not on the page"
        assert list(obj) == [k for k in top if k in obj], f"{title}: keys out of order"
    for path, values in found.items():
        cell = table[path]
        if "as read" in cell:
            continue
        allowed = set(re.findall(r"\b(text|number|boolean|null)\b", cell))
        for value in values:
            kind = "object" if isinstance(value, dict) else _JSON_TYPES.get(type(value), "?")
            assert kind in allowed, f"{title}: {path} holds {value!r}, the page says {cell!r}"


# -- one real run of `sbm score` on the conformance wave -----------------------------------------


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args))


@pytest.fixture(scope="module")
def wave(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A folder holding `demo_visits.jsonl` scored to JSONL and CSV (relative paths,
    so that sources read `demo_visits.jsonl:LINE`); the tests run inside it."""
    folder = tmp_path_factory.mktemp("contracts")
    (folder / "demo_visits.jsonl").write_bytes(VISITS.read_bytes())
    with contextlib.chdir(folder):
        for out in ("scored.jsonl", "scored.csv"):
            done = run("score", str(DEMO), "demo_visits.jsonl", "-o", out, "--engine", "python")
            assert done.exit_code == 1, done.output
        yield folder


def jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


@pytest.fixture(scope="module")
def standard() -> Any:
    return sbm_engine.load(str(DEMO))


# -- input ---------------------------------------------------------------------------------------


def _codes_in_source() -> dict[str, str]:
    """Every `code` of a `VisitError(item, code, message)` made in the package: a string,
    or a module-level constant naming one. Anything else fails: the page could not
    name it."""
    codes: dict[str, str] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        source = path.read_text(encoding="utf-8")
        if "VisitError(" not in source:
            continue
        tree = ast.parse(source)
        constants = {
            target.id: node.value.value
            for node in tree.body
            if isinstance(node, ast.Assign)
            and isinstance(node.value, ast.Constant)
            and isinstance(node.value.value, str)
            for target in node.targets
            if isinstance(target, ast.Name)
        }
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
            if name != "VisitError":
                continue
            arg = node.args[1] if len(node.args) > 1 else None
            arg = next((k.value for k in node.keywords if k.arg == "code"), arg)
            where = f"{path.relative_to(ROOT)}:{node.lineno}"
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                codes.setdefault(arg.value, where)
            elif isinstance(arg, ast.Name) and arg.id in constants:
                codes.setdefault(constants[arg.id], where)
            else:
                raise AssertionError(f"{where}: a VisitError code that is not a plain string")
    return codes


def test_every_reject_code_is_named_and_every_name_is_a_code() -> None:
    named = first_column(section("Reject codes"))
    assert len(named) == len(set(named)), "a code named twice"
    codes = _codes_in_source()
    assert set(named) - set(codes) == set(), "codes on the page that the engine never makes"
    missing = {code: codes[code] for code in set(codes) - set(named)}
    assert missing == {}, "codes the engine makes (where) that the page does not name"


def test_the_visit_fields_are_the_engines() -> None:
    named = first_column(section("The visit record"))
    assert named == list(VISIT_FIELDS) == list(BUILTIN_FIELDS.values())


def _registered(module: str, function: str) -> set[str]:
    """The extensions a module registers at import (`register_reader(".csv", …)`)."""
    tree = ast.parse((PACKAGE / "io" / f"{module}.py").read_text(encoding="utf-8"))
    return {
        node.value.args[0].value
        for node in tree.body
        if isinstance(node, ast.Expr)
        and isinstance(node.value, ast.Call)
        and getattr(node.value.func, "id", None) == function
    }


@pytest.mark.parametrize(
    "title, module, function",
    [("Formats", "readers", "register_reader"), ("2. Output", "writers", "register_writer")],
)
def test_the_formats_are_the_registered_ones(title: str, module: str, function: str) -> None:
    named = {ext for row in tables(section(title))[0] for ext in ticked(row[0])}
    assert named == _registered(module, function)


def test_a_csv_from_russian_excel_and_unknown_columns(wave: Path) -> None:
    """cp1251, `;` and decimal commas detected; an empty cell is an absent key; a column
    that is no item is `unknown_item` unless `--allow-unknown`."""
    header = "visit_id;scenario;greeted;smile;wait;questions;card;secrecy;clean;overall;заметка"
    row = "v1;loan;да;нет;4,5;4;;yes;5;;без замечаний"
    (wave / "ru.csv").write_bytes(f"{header}\r\n{row}\r\n".encode("cp1251"))
    done = run("score", str(DEMO), "ru.csv", "-o", "ru.jsonl", *PY)
    assert done.exit_code == 1, done.output
    (reject,) = jsonl(wave / "ru.rejects.jsonl")
    assert [(e["item"], e["code"]) for e in reject["errors"]] == [("заметка", "unknown_item")]
    assert reject["record"]["answers"]["wait"] == 4.5
    assert "card" not in reject["record"]["answers"]
    done = run("score", str(DEMO), "ru.csv", "-o", "ru.jsonl", "--allow-unknown", *PY)
    assert done.exit_code == 0, done.output
    (visit,) = jsonl(wave / "ru.jsonl")
    assert (visit["items"]["wait"], visit["items"]["overall"]) == (1.0, None)


def _sources(folder: Path) -> list[str]:
    return [r["source"] for r in jsonl(folder / "bad.jsonl")]


def test_sources_count_as_the_page_says(wave: Path) -> None:
    rows = {row[0]: ticked(row[1])[0] for row in tables(section("Sources"))[0]}
    assert rows == {
        "JSON Lines": "FILE:LINE",
        "CSV, TSV": "FILE:LINE",
        "XLSX": "FILE:SHEET:ROW",
        "Parquet": "FILE:ROW",
    }
    # JSON Lines: blank lines count; CSV: a quoted cell over two lines, then a row that
    # does not fit the header on line 4.
    (wave / "w.jsonl").write_text('\n{"visit_id": "a"}\n', encoding="utf-8")
    (wave / "w.csv").write_text('visit_id,point\n"a\nb",P1\nc,P2,extra\n', encoding="utf-8")
    for name, source in (("w.jsonl", "w.jsonl:2"), ("w.csv", "w.csv:4")):
        run("score", str(DEMO), name, "-o", "out.jsonl", "--rejects", "bad.jsonl", *PY)
        assert source in _sources(wave), name
    with contextlib.suppress(ImportError):
        import pyarrow as pa
        import pyarrow.parquet as pq

        pq.write_table(pa.table({"visit_id": ["a", "b"]}), wave / "w.parquet")
        run("score", str(DEMO), "w.parquet", "-o", "out.jsonl", "--rejects", "bad.jsonl", *PY)
        assert _sources(wave) == ["w.parquet:1", "w.parquet:2"]
    with contextlib.suppress(ImportError):
        import openpyxl

        book = openpyxl.Workbook()
        book.active.title = "Wave"
        book.active.append(["visit_id"])
        book.active.append(["a"])
        book.save(wave / "w.xlsx")
        run("score", str(DEMO), "w.xlsx", "-o", "out.jsonl", "--rejects", "bad.jsonl", *PY)
        assert _sources(wave) == ["w.xlsx:Wave:2"]


# -- output --------------------------------------------------------------------------------------

SCORED_MAPS = {"coefficients", "sections", "items", "bands", "labels", "gaps", "rollup_inputs"}
#: Keys a scored visit has only for some standards (the conformance standard has none).
LABELS = frozenset({"labels.NAME"})


def test_the_keys_of_a_scored_visit(wave: Path, standard: Any) -> None:
    scored = jsonl(wave / "scored.jsonl")
    assert any(v["warnings"] for v in scored) and any(v["critical"] for v in scored)
    check_keys("The scored visit (JSON Lines)", scored, SCORED_MAPS, LABELS)
    api = [o.to_dict() for o in standard.score_many(jsonl(VISITS))]
    assert [v for v in api if "errors" not in v] == scored
    assert list(standard.result_template()) == list(scored[0])


def test_the_labels_of_a_scored_visit() -> None:
    """`labels`, which the conformance standard lacks, on a standard that has them."""
    std = sbm_engine.loads(
        'standard t.labels {\n    version "1"\n    item a "A" answer { y = 1, n = 0 } optional\n'
        '    coefficient c = if a == 1 then "yes" else "no"\n'
        "    coefficient n = if a == 1 then 1 else 0\n    bands n { top >= 1, rest }\n}\n"
    )
    scored = [
        o.to_dict()
        for o in std.score_many([{"visit_id": "1", "answers": {"a": "y"}}, {"visit_id": "2"}])
    ]
    assert [v["labels"] for v in scored] == [{"c": "yes"}, {"c": "no"}]
    table = key_table("The scored visit (JSON Lines)")
    assert "labels.NAME" in table
    top = list(dict.fromkeys(re.split(r"[.\[]", p)[0] for p in table))
    assert list(scored[0]) == [k for k in top if k in scored[0]]


def test_the_example_of_a_scored_visit_is_a_real_line(wave: Path) -> None:
    (example,) = code_blocks(section("The scored visit (JSON Lines)"), "json")
    first = (wave / "scored.jsonl").read_text(encoding="utf-8").splitlines()[0]
    assert example.strip() == first


def _expand(path: str, standard: Any) -> list[str]:
    """The flat columns of one key path of a scored visit, as the page's rule says."""
    head = re.split(r"[.\[]", path)[0]
    if not path.endswith(".NAME"):
        return [head]
    model = standard.model
    names = {
        "coefficients": standard.coefficient_names,
        "sections": standard.section_names,
        "items": standard.item_names,
        "bands": tuple(model.bands),
        "labels": standard.label_names,
        "gaps": tuple(model.targets),
        "rollup_inputs": standard.term_keys,
    }[head]
    return [f"{head}.{name}" for name in names]


def test_the_flattened_header_follows_the_rule(wave: Path, standard: Any) -> None:
    text = section("Flattened: CSV, XLSX and Parquet")
    (example,) = code_blocks(text, "text")
    with (wave / "scored.csv").open(encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        row, header = next(reader), list(reader.fieldnames or ())
    keys = key_table("The scored visit (JSON Lines)")
    rule = list(dict.fromkeys(c for path in keys for c in _expand(path, standard)))
    assert example.strip().split(",") == header == rule
    assert list(flatten(standard.result_template())) == header
    assert json.loads(row["critical"]) == [] and row["warnings"] == "[]"
    # no visit scored: the header all the same
    (wave / "none.jsonl").write_text("", encoding="utf-8")
    done = run("score", str(DEMO), "none.jsonl", "-o", "none.csv")
    assert done.exit_code == 0, done.output
    assert (wave / "none.csv").read_bytes() == (",".join(header) + "\r\n").encode()


def _parquet_rules() -> list[tuple[list[str], set[str], str]]:
    """(column patterns, rollup term kinds or empty, Arrow type) per row of the table."""
    rules = []
    for row in tables(section("Flattened: CSV, XLSX and Parquet"))[0]:
        spans = ticked(row[0])
        kinds = {s.split("(")[0] for s in spans if "(" in s}
        rules.append(([s for s in spans if "(" not in s], kinds, row[1].strip("`")))
    return rules


def _arrow_type(column: str, kind: str | None) -> str:
    for patterns, kinds, arrow in _parquet_rules():
        for p in patterns:
            hit = column.startswith(p[:-1]) if p.endswith("*") else column == p
            if hit and (not kinds or kind in kinds):
                return arrow
    raise AssertionError(f"the page gives no Parquet type for {column}")


@pytest.mark.parametrize("engine", ["python", "batch"])
def test_the_parquet_column_types(wave: Path, standard: Any, engine: str) -> None:
    pq = pytest.importorskip("pyarrow.parquet")
    if engine == "batch":
        pytest.importorskip("numpy")
    rows = jsonl(VISITS)
    columns = list(dict.fromkeys(k for r in rows for k in (*r, *r["answers"]) if k != "answers"))
    with (wave / "demo.csv").open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(columns)
        for r in rows:
            writer.writerow(
                ["" if (v := r.get(c, r["answers"].get(c))) is None else v for c in columns]
            )
    out = f"demo_{engine}.parquet"
    done = run("score", str(DEMO), "demo.csv", "-o", out, "--engine", engine)
    assert done.exit_code == 1, done.output
    kinds = {t.key: t.kind for r in standard.model.rollups for t in r.terms}
    schema = pq.read_schema(wave / out)
    with (wave / "scored.csv").open(encoding="utf-8", newline="") as f:
        assert schema.names == next(csv.reader(f))
    for field in schema:
        kind = kinds.get(field.name.removeprefix("rollup_inputs."))
        assert str(field.type) == _arrow_type(field.name, kind), field.name
        assert field.nullable


def test_the_formula_guard(wave: Path) -> None:
    text = section("Flattened: CSV, XLSX and Parquet")
    guard = next(p for p in text.split("\n\n") if p.startswith("**Formula guard"))
    sentence = guard.split(" gets a leading")[0]
    named = {s for s in ticked(sentence) if len(s) == 1}
    named |= {"\t"} if "a tab" in sentence else set()
    named |= {"\r"} if "a carriage return" in sentence else set()
    assert named == set(FORMULA_START)
    visit = {"visit_id": "g1", "point": "=1+2", "specialist": "-S", "scenario": "loan"}
    visit["answers"] = {"greeted": "yes", "smile": "no", "wait": 3, "questions": 4}
    visit["answers"] |= {"secrecy": "yes", "clean": 5}
    (wave / "g.jsonl").write_text(json.dumps(visit) + "\n", encoding="utf-8")
    for out in ("g.csv", "g.jsonl.out.jsonl"):
        assert run("score", str(DEMO), "g.jsonl", "-o", out).exit_code == 0
    with (wave / "g.csv").open(encoding="utf-8", newline="") as f:
        row = next(csv.DictReader(f))
    assert (row["point"], row["specialist"], row["gaps.visit"][0]) == ("'=1+2", "'-S", "-")
    (line,) = jsonl(wave / "g.jsonl.out.jsonl")
    assert (line["point"], line["specialist"]) == ("=1+2", "-S")


def test_the_keys_of_a_reject_and_the_examples(wave: Path) -> None:
    rejects = jsonl(wave / "scored.rejects.jsonl")
    (wave / "u.jsonl").write_text("[1]\n{bad\n", encoding="utf-8")
    run("score", str(DEMO), "u.jsonl", "-o", "u.out.jsonl")
    unreadable = jsonl(wave / "u.out.rejects.jsonl")
    assert [r["errors"][0]["item"] for r in unreadable] == ["record", "record"]
    assert [r["record"] for r in unreadable] == ["[1]", "{bad"]
    check_keys("The rejects file", rejects + unreadable, set(), opaque=frozenset({"record"}))

    def without_messages(reject: dict[str, Any]) -> dict[str, Any]:
        errors = [{k: v for k, v in e.items() if k != "message"} for e in reject["errors"]]
        return {**reject, "errors": errors}

    (block,) = code_blocks(section("The rejects file"), "json")
    by_source = {r["source"]: without_messages(r) for r in rejects}
    for line in block.strip().splitlines():
        example = without_messages(json.loads(line))
        assert by_source.get(example["source"]) == example


def test_the_rejects_file_is_named_and_written_as_the_page_says(wave: Path) -> None:
    text = section("The rejects file")
    output, rejects = ticked(text.split(" gives ")[0])[-1], ticked(text.split(" gives ")[1])[0]
    assert (output, rejects) == ("scored.2026-03.csv", "scored.2026-03.rejects.jsonl")
    good = VISITS.read_text(encoding="utf-8").splitlines()[:2]
    (wave / "good.jsonl").write_text("\n".join(good) + "\n", encoding="utf-8")
    done = run("score", str(DEMO), "good.jsonl", "-o", output)
    assert done.exit_code == 0, done.output
    assert (wave / rejects).read_bytes() == b""  # written, empty


def test_the_keys_of_a_rollup(wave: Path, standard: Any) -> None:
    done = run(
        "rollup", "scored.jsonl", "--by", "point", "--standard", str(DEMO), "--format", "json"
    )
    assert done.exit_code == 0, done.output
    report = json.loads(done.stdout)
    maps = {"groups[].coefficients", "groups[].rollups", "groups[].coefficients.NAME.bands"}
    check_keys("The roll-up (`sbm rollup`)", [report], maps)
    api = standard.rollup(jsonl(wave / "scored.jsonl"), by="point")
    assert leaves([api], maps).keys() == leaves([report], maps).keys()
    # the flat rows of `-o FILE.csv`
    assert (
        run(
            "rollup", "scored.jsonl", "--by", "point", "--standard", str(DEMO), "-o", "r.csv"
        ).exit_code
        == 0
    )
    with (wave / "r.csv").open(encoding="utf-8", newline="") as f:
        header = next(csv.reader(f))
    stats = [
        p.rsplit(".", 1)[1]
        for p in key_table("The roll-up (`sbm rollup`)")
        if p.startswith("groups[].coefficients.NAME.") and p.count(".") == 3
    ]
    expected = ["by", "key", "visits"]
    for c in standard.coefficient_names:
        bands = standard.model.bands.get(c)
        expected += [f"{c}.{s}" for s in stats if s != "bands"]
        expected += [f"{c}.bands.{label}" for label, _ in bands.bands] if bands else []
    expected += [f"rollup.{r.name}" for r in standard.model.rollups] + ["growth_zones"]
    assert header == expected


# -- guarantees ----------------------------------------------------------------------------------


def test_exit_statuses(wave: Path) -> None:
    from sbm_engine.cli.common import EXIT_FAILED, EXIT_OK, EXIT_REJECTED, Interrupted

    assert first_column(section("Exit status")) == ["0", "1", "2"]
    assert (EXIT_OK, EXIT_REJECTED, EXIT_FAILED) == (0, 1, 2)
    text = section("Exit status")
    for sig, status in ((signal.SIGINT, 130), (signal.SIGTERM, 143)):
        assert Interrupted(sig).exit_code == status == 128 + sig
        assert f"{status} for" in text
    assert run("score", str(DEMO), "missing.jsonl", "-o", "m.jsonl").exit_code == 2
    assert not (wave / "m.jsonl").exists() and not (wave / "m.rejects.jsonl").exists()


def test_the_summary(wave: Path) -> None:
    done = run("score", str(DEMO), "demo_visits.jsonl", "-o", "s.jsonl", "--format", "json")
    assert done.exit_code == 1
    summary = json.loads(done.stdout)
    check_keys("The summary", [summary], set())
    assert summary["read"] == summary["scored"] + summary["rejected"] == 12
    assert len(jsonl(wave / "s.jsonl")) == summary["scored"]
    assert len(jsonl(wave / "s.rejects.jsonl")) == summary["rejected"]
    line = r"read [\d,]+, scored [\d,]+, rejected [\d,]+ in \d+\.\d\d s -> \S+(; rejects -> \S+)?"
    (example,) = code_blocks(section("The summary"), "text")
    assert re.fullmatch(line, example.strip())
    done = run("score", str(DEMO), "demo_visits.jsonl", "-o", "s.jsonl")
    assert re.fullmatch(line, done.stderr.strip()), done.stderr


def _slug(heading: str) -> str:
    """The anchor GitHub gives a heading."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def test_the_links_lead_somewhere() -> None:
    for target, anchor in re.findall(r"\]\(([\w./-]*?)(?:#([\w-]+))?\)", doc_text()):
        page = DOC.parent / target if target else DOC
        assert page.is_file(), f"a link to {target}, which does not exist"
        if anchor:
            headings = [m.group(2) for m in map(_HEADING.match, page.read_text().splitlines()) if m]
            assert anchor in {_slug(h) for h in headings}, f"no heading #{anchor} in {page.name}"
