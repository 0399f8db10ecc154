"""Request bodies to visit records, and scored visits to response bodies.

Why the engine's own readers: the service must read a CSV or Parquet body exactly
as `sbm score` reads the same file (dialect detection, decimal commas, column
layout), so a tabular body is put in a temporary file and read by `read_visits`.
JSON Lines, the common case, is read in memory line by line with the same rules
(`parse_json_line`, a UTF-8 BOM ignored, blank lines skipped).

Every record's source is `request:N` (N the line of a JSONL or CSV body, the row of
a Parquet or Arrow one, the position in a JSON list), where `sbm score` writes
`FILE:N`.
"""

from __future__ import annotations

import codecs
import json
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sbm_engine.io import InputError, SourceRecord
from sbm_engine.serve.errors import ApiError

SOURCE = "request"

JSONL = "application/x-ndjson"
JSON = "application/json"
CSV = "text/csv"
PARQUET = "application/vnd.apache.parquet"
ARROW = "application/vnd.apache.arrow.stream"

#: Content types a body may have, by the name of the format they mean.
INPUT_TYPES = {
    JSONL: "jsonl",
    "application/jsonl": "jsonl",
    "application/json-lines": "jsonl",
    JSON: "json",
    CSV: "csv",
    "text/tab-separated-values": "tsv",
    PARQUET: "parquet",
    "application/x-parquet": "parquet",
    ARROW: "arrow",
}

#: Formats an answer may take, by the media types that ask for them.
OUTPUT_TYPES = {JSON: "json", JSONL: "jsonl", "application/jsonl": "jsonl", PARQUET: "parquet"}


def media_type(header: str | None) -> tuple[str, dict[str, str]]:
    """`text/csv; charset=cp1251` -> ("text/csv", {"charset": "cp1251"})."""
    if not header:
        return "", {}
    kind, *params = header.split(";")
    out = {}
    for p in params:
        name, _, value = p.partition("=")
        out[name.strip().lower()] = value.strip().strip('"')
    return kind.strip().lower(), out


def input_format(content_type: str | None) -> tuple[str, dict[str, str]]:
    kind, params = media_type(content_type)
    fmt = INPUT_TYPES.get(kind)
    if fmt is None:
        supported = ", ".join(sorted(INPUT_TYPES))
        raise ApiError(
            415,
            "unsupported_media_type",
            f"cannot read a body of type {kind or '(none)'!r}; send one of: {supported}",
        )
    return fmt, params


def output_format(accept: str | None) -> str:
    """The answer's format from `Accept` (by its q-values; JSON when anything goes);
    406 when it names only formats the service cannot write."""
    if not accept:
        return "json"
    offers: list[tuple[float, int, str]] = []
    for position, part in enumerate(accept.split(",")):
        kind, params = media_type(part)
        try:
            q = float(params.get("q", "1"))
        except ValueError:
            q = 0.0
        if q <= 0:
            continue
        if kind in OUTPUT_TYPES:
            offers.append((-q, position, OUTPUT_TYPES[kind]))
        elif kind in ("*/*", "application/*"):
            offers.append((-q, position, "json"))
    if not offers:
        supported = ", ".join(sorted(OUTPUT_TYPES))
        raise ApiError(406, "not_acceptable", f"cannot answer as {accept!r}; ask for {supported}")
    return min(offers)[2]


# reading --------------------------------------------------------------------------------


def read_records(
    body: bytes, fmt: str, params: dict[str, str], visit_fields: frozenset[str], folder: Path
) -> Iterator[SourceRecord]:
    """The records of a body; `folder` is a private temporary folder for formats read
    from a file. Raises `ApiError` (400) for a body that cannot be read at all."""
    charset = params.get("charset")
    if fmt == "jsonl" and (charset is None or codecs.lookup(charset).name == "utf-8"):
        return _jsonl(body)
    if fmt == "json":
        return _json(body, charset)
    if fmt == "arrow":
        return _from_file(_arrow_to_parquet(body, folder), visit_fields, None)
    suffix = {"jsonl": ".jsonl", "csv": ".csv", "tsv": ".tsv", "parquet": ".parquet"}[fmt]
    path = folder / ("body" + suffix)
    path.write_bytes(body)
    return _from_file(path, visit_fields, charset)


def _from_file(
    path: Path, visit_fields: frozenset[str], charset: str | None
) -> Iterator[SourceRecord]:
    from sbm_engine.formats import read_visits

    prefix = str(path)
    try:
        records = read_visits(path, visit_fields=visit_fields, encoding=charset)
    except (InputError, LookupError) as err:
        raise bad_body(str(err).replace(prefix, SOURCE)) from None
    return _renamed(records, prefix)


def _renamed(records: Iterator[SourceRecord], prefix: str) -> Iterator[SourceRecord]:
    try:
        for rec in records:
            source = rec.source
            if source is not None and source.startswith(prefix):
                source = SOURCE + source[len(prefix) :]
            yield SourceRecord(source, rec.record, rec.raw, rec.error)
    except InputError as err:
        raise bad_body(str(err).replace(prefix, SOURCE)) from None


def _jsonl(body: bytes) -> Iterator[SourceRecord]:
    from sbm_engine.io.readers import parse_json_line
    from sbm_engine.messages import message

    lines = body.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    for number, line in enumerate(lines, start=1):
        if number == 1:
            line = line.removeprefix(codecs.BOM_UTF8)
        source = f"{SOURCE}:{number}"
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError as exc:
            error = message(
                "visit.row.line_not_encoded", encoding="utf-8", reason=exc.reason, byte=exc.start
            )
            yield SourceRecord(source, None, line.decode("utf-8", "replace").rstrip("\r\n"), error)
            continue
        text = text.rstrip("\r\n")
        if text.strip() == "":
            continue
        record, problem = parse_json_line(text)
        yield SourceRecord(source, record, text, problem)


def _json(body: bytes, charset: str | None) -> Iterator[SourceRecord]:
    """One visit object, or a list of them (each `request:N`, N counted from 1), read
    with the JSONL rules: no duplicate keys, no NaN or Infinity."""
    try:
        text = body.decode(charset or "utf-8").removeprefix("\ufeff")
    except (UnicodeDecodeError, LookupError) as exc:
        raise bad_body(f"the body is not JSON in {charset or 'utf-8'}: {exc}") from None
    try:
        items = json.loads(text, object_pairs_hook=_unique_keys, parse_constant=_no_constant)
    except json.JSONDecodeError as exc:
        raise bad_body(
            f"the body is not valid JSON: line {exc.lineno} column {exc.colno}: {exc.msg}"
        ) from None
    except ValueError as exc:
        raise bad_body(f"the body is not valid JSON: {exc}") from None
    except RecursionError:
        raise bad_body("the body is not valid JSON: nested too deeply") from None
    if isinstance(items, dict):
        items = [items]
    if not isinstance(items, list):
        raise bad_body("a JSON body must be one visit object or a list of them")
    return _json_items(items)


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    from sbm_engine.messages import message

    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise ValueError(message("visit.row.json_duplicate_key", key=repr(key)))
        out[key] = value
    return out


def _no_constant(name: str) -> Any:
    from sbm_engine.messages import message

    raise ValueError(message("visit.row.json_constant", name=name))


def _json_items(items: list[Any]) -> Iterator[SourceRecord]:
    from sbm_engine.io.readers import _json_kind
    from sbm_engine.messages import message

    for number, item in enumerate(items, start=1):
        source = f"{SOURCE}:{number}"
        if isinstance(item, dict):
            yield SourceRecord(source, item, item, None)
        else:
            kind = _json_kind(item)
            yield SourceRecord(source, None, item, message("visit.row.not_an_object", kind=kind))


def _arrow_to_parquet(body: bytes, folder: Path) -> Path:
    """An Arrow IPC stream as a Parquet file, so it is read as Parquet is (one layout
    of columns, nulls as absent keys)."""
    try:
        import pyarrow
        import pyarrow.ipc
        import pyarrow.parquet
    except ImportError:
        raise ApiError(415, "unsupported_media_type", "Arrow bodies need pyarrow") from None
    try:
        table = pyarrow.ipc.open_stream(pyarrow.py_buffer(body)).read_all()
    except (OSError, pyarrow.ArrowException) as exc:
        raise bad_body(f"the body is not an Arrow IPC stream: {exc}") from None
    path = folder / "body.parquet"
    pyarrow.parquet.write_table(table, path)
    return path


def bad_body(text: str) -> ApiError:
    return ApiError(400, "malformed_body", text)


# writing --------------------------------------------------------------------------------


def json_bytes(value: Any) -> bytes:
    """Strict JSON in UTF-8, as the JSONL writer writes a record (a lone surrogate in
    some text is escaped rather than breaking the encoding)."""
    try:
        return json.dumps(value, ensure_ascii=False, allow_nan=False).encode("utf-8")
    except UnicodeEncodeError:
        return json.dumps(value, ensure_ascii=True, allow_nan=False).encode("ascii")


def jsonl_bytes(records: list[dict[str, Any]]) -> bytes:
    """Records as the JSONL writer writes them (`io.writers.json_line`)."""
    from sbm_engine.io.writers import json_line

    return b"".join(json_line(r) for r in records)


def parquet_bytes(std: Any, results: list[dict[str, Any]], folder: Path) -> bytes:
    """The scored visits as the Parquet file `sbm score -o out.parquet` writes."""
    from sbm_engine.pipeline import record_writer

    path = folder / "results.parquet"
    with record_writer(std, path) as writer:
        for r in results:
            writer.write(r)
    return path.read_bytes()


def scratch_folder() -> tempfile.TemporaryDirectory[str]:
    return tempfile.TemporaryDirectory(prefix="sbm-serve-")
