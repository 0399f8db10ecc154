"""Reading scored visits back: the files `sbm score` wrote, checked before they count.

Every command that reads results (`rollup`, `compare`, `calibrate`, …) reads them
here, so they all refuse the same things the same way: results of two standards or
two versions mixed in one input, a rejects file or raw visits passed as results,
and figures of the wrong kind. A wrong aggregate looks exactly like a right one, so
one record that is not a scored visit refuses the whole input (`ResultsError`, whose
message names the first problems with file and line) instead of being skipped.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .rollup import Rollup, same_version, shape_problem, show_version

if TYPE_CHECKING:
    from .standard import CompiledStandard

_NESTED = ("coefficients", "sections", "items", "bands", "labels", "gaps", "rollup_inputs")


class ResultsError(ValueError):
    """Results that cannot be used as given; the message says why and where."""


def unflatten(row: dict[str, Any]) -> dict[str, Any]:
    """A flattened result row (`coefficients.visit`, …) back to the nested contract shape."""
    out: dict[str, Any] = {}
    flat = dict(row)
    flat.update(flat.pop("answers", None) or {})  # tabular readers put unknown columns here
    for key, value in flat.items():
        head, _, rest = key.partition(".")
        if rest and head in _NESTED:
            # CSV has no booleans: the text of a `share(…)` input is one (a band or a
            # label called "true" stays text)
            if head == "rollup_inputs" and isinstance(value, str) and value in ("true", "false"):
                value = value == "true"
            out.setdefault(head, {})[rest] = value
        elif key in ("critical", "warnings") and isinstance(value, str):
            out[key] = _json_list(value)
        else:
            out[key] = value
    if "standard" in out and "version" in out:  # a standard whose coefficients are all labels
        out.setdefault("coefficients", {})
    return out


def _json_list(text: str) -> Any:
    """A list column (`critical`, `warnings`) written as JSON text; kept as text if it
    is not JSON, since nothing that reads results back needs these."""
    try:
        return json.loads(text) if text else []
    except ValueError:
        return text


def result_paths(paths: Sequence[str | Path]) -> list[str | Path]:
    """`paths` with each folder replaced by its `part-*.parquet` files in name order:
    the partitioned results `sbm score --dask` writes (its rejects and summary beside
    them are not results). A folder without parts stays, and fails to read as itself."""
    expanded: list[str | Path] = []
    for path in paths:
        parts = sorted(Path(path).glob("part-*.parquet")) if Path(path).is_dir() else []
        expanded.extend(parts or [path])
    return expanded


def read_results(paths: Sequence[str | Path]) -> Iterator[tuple[str, Any, str | None]]:
    """(source, record, why it could not be read) for every record of the result
    files; a folder stands for its Parquet parts (`result_paths`)."""
    from .formats import read_visits

    for path in result_paths(paths):
        suffix = Path(path).suffix.lower()
        if suffix == ".parquet":
            fast = _parquet_results(Path(path))
            if fast is not None:
                yield from fast
                continue
        tabular = suffix not in (".jsonl", ".ndjson")
        for rec in read_visits(path):
            if rec.record is None:
                yield rec.source, None, rec.error
            else:
                result = _tabular_result(rec.record, rec.raw) if tabular else rec.record
                yield rec.source, result, None


def _tabular_result(row: dict[str, Any], raw: Any = None) -> dict[str, Any]:
    """A tabular row as a result record, or as read when it has no result column at
    all (then it reads as the unscored visit it probably is). A label is text: a
    CSV cell the reader took for a number ("007", "1.50") is given back as written,
    from `raw`, the row as read."""
    record = unflatten(row)
    if not any(key in record for key in ("standard", "version", *_NESTED)):
        return row
    # an empty cell is an absent key, so a visit whose coefficients are all N/A has none
    record.setdefault("coefficients", {})
    labels = record.get("labels")
    if isinstance(labels, dict) and isinstance(raw, Mapping):
        for name, value in labels.items():
            text = raw.get(f"labels.{name}")
            if isinstance(text, str) and not isinstance(value, str):
                labels[name] = text
    return record


#: Arrow types a results table holds; a file with others is read by the visit reader.
_PLAIN_TYPES = ("string", "large_string", "double", "float", "int64", "int32", "bool", "null")


def _parquet_results(path: Path) -> Iterator[tuple[str, Any, str | None]] | None:
    """The records of a Parquet results file, a batch of columns at a time, or None
    when it is not a plain results table (the visit reader then reads it, and says
    what is wrong). The same records `unflatten` makes of the visit reader's rows:
    empty cells (null, NaN) are absent keys, `coefficients.x` columns nested."""
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        return None
    try:
        f = pq.ParquetFile(path)
    except (OSError, pa.ArrowException):
        return None
    schema = f.schema_arrow
    if "coefficients" in schema.names or not {"standard", "version"} <= set(schema.names):
        return None
    if any(str(field.type) not in _PLAIN_TYPES for field in schema):
        return None
    plan = [_column_plan(name) for name in schema.names]
    return _parquet_rows(path, f, plan)


def _column_plan(name: str) -> tuple[str | None, str]:
    head, _, rest = name.partition(".")
    if rest and head in _NESTED:
        return head, rest
    return None, name


def _parquet_rows(
    path: Path, f: Any, plan: list[tuple[str | None, str]]
) -> Iterator[tuple[str, Any, str | None]]:
    import math

    from .io import InputError

    heads = sorted({h for h, _ in plan if h is not None})
    number = 0
    try:
        for batch in f.iter_batches(batch_size=8192):
            columns = [column.to_pylist() for column in batch.columns]
            for cells in zip(*columns, strict=True):
                number += 1
                record: dict[str, Any] = {h: {} for h in heads}
                for (head, key), cell in zip(plan, cells, strict=True):
                    if cell is None or (type(cell) is float and math.isnan(cell)) or cell == "":
                        continue
                    if head is None:
                        record[key] = (
                            _json_list(cell) if key in _LISTS and type(cell) is str else cell
                        )
                    else:
                        record[head][key] = cell
                for h in heads:
                    if not record[h] and h != "coefficients":
                        del record[h]
                record.setdefault("coefficients", {})  # none when all give a label
                yield f"{path}:{number}", record, None
    except OSError as exc:
        raise InputError(f"cannot read {path} after row {number}: {exc}") from exc


def _top_level(key: str, cell: Any) -> Any:
    """A top-level cell as the visit reader gives it: visit fields as text (a point
    12 is the point "12" in every format), list columns parsed from their JSON."""
    from .io.records import field_text
    from .model import BUILTIN_FIELDS

    if key in _LISTS and type(cell) is str:
        return _json_list(cell)
    if key in BUILTIN_FIELDS.values() and type(cell) is not str:
        return field_text(cell)
    return cell


_LISTS = ("critical", "warnings")


class Refusals:
    """The records that cannot be used: the first few problems, and how many.

    Records with the same problem (every line of a rejects file, say) share one
    line of the message, so ten lines of it show ten different things to fix.
    """

    SHOWN = 10

    def __init__(self) -> None:
        self.count = 0
        self.first: dict[str, tuple[str, int]] = {}  # problem -> (first source, records)

    def add(self, source: str, problem: str) -> None:
        self.count += 1
        if problem in self.first:
            where, n = self.first[problem]
            self.first[problem] = (where, n + 1)
        elif len(self.first) < self.SHOWN:
            self.first[problem] = (source, 1)

    def message(self, standard: str | None, done: str = "rolled up") -> str:
        """All the problems shown: none of the input was used. `done` is what was not
        done, in English ("rolled up", "compared", …): it is said in the reader's language."""
        from .messages import message

        lines = [
            message("results.problem_more", where=where, count=n - 1, problem=problem)
            if n > 1
            else message("results.problem", where=where, problem=problem)
            for problem, (where, n) in self.first.items()
        ]
        more = self.count - sum(n for _, n in self.first.values())
        if more:
            lines.append(message("results.more_records", count=more))
        of = message("results.nothing_done_of", standard=standard) if standard else ""
        head = message("results.nothing_done", done=_done(done), count=self.count, of=of)
        return "\n".join([head, *lines])

    def history_message(self, standard: str | None, read: int) -> str:
        """`message` for `sbm score --history`: no earlier result is used when some
        cannot be, and the head says how many of how many."""
        from .messages import message

        lines = self.message(standard).split("\n")[1:]
        of = message("results.nothing_done_of", standard=standard) if standard else ""
        head = message("results.history.refused", count=self.count, total=self.count + read, of=of)
        return "\n".join([head, *lines])


def _done(done: str) -> str:
    """What was not done ("rolled up"), in the reader's language."""
    from .messages import message

    if done == "rolled up":
        return message("results.done.rolled_up")
    if done == "compared":
        return message("results.done.compared")
    if done == "calibrated":
        return message("results.done.calibrated")
    if done == "analysed":
        return message("results.done.analysed")
    if done == "diagnosed":
        return message("results.done.diagnosed")
    if done == "planned":
        return message("results.done.planned")
    if done == "history":
        return message("history.done")
    return done


def _verb(what: str) -> str:
    """What to do with each standard or version on its own ("roll up"), in the reader's
    language."""
    from .messages import message

    if what == "roll up":
        return message("results.verb.roll_up")
    if what == "compare":
        return message("results.verb.compare")
    if what == "calibrate":
        return message("results.verb.calibrate")
    if what == "use":
        return message("results.verb.use")
    return what


def identity(record: dict[str, Any]) -> str:
    """`standard` version, as messages name the standard a result was scored with."""
    return f"`{record['standard']}` {show_version(record['version'])}"


def same_identity(a: dict[str, Any], b: dict[str, Any]) -> bool:
    return bool(a["standard"] == b["standard"] and same_version(a["version"], b["version"]))


def mixing_message(
    first: tuple[str, dict[str, Any]], other: tuple[str, dict[str, Any]], what: str = "roll up"
) -> str:
    """Why two results cannot be used together, naming both and where they were read."""
    from .messages import message

    (src1, rec1), (src2, rec2) = first, other
    if rec1["standard"] != rec2["standard"]:
        return message(
            "results.two_standards",
            first=identity(rec1),
            first_source=src1,
            second=identity(rec2),
            second_source=src2,
            what=_verb(what),
        )
    return message(
        "results.two_versions",
        standard=rec1["standard"],
        first=show_version(rec1["version"]),
        first_source=src1,
        second=show_version(rec2["version"]),
        second_source=src2,
        what=_verb(what),
    )


def standard_mismatch(
    std: CompiledStandard, given: str, source: str, record: dict[str, Any]
) -> str | None:
    """Why `--standard` is not the standard (and version) the results were scored
    with, or None when it is."""
    if record["standard"] == std.id and same_version(record["version"], std.version):
        return None
    from .messages import message

    hint = (
        message("results.mismatch_standard")
        if record["standard"] != std.id
        else message(
            "results.mismatch_version",
            version=show_version(record["version"]),
            new_version=std.version,
        )
    )
    return message(
        "results.mismatch",
        scored_with=identity(record),
        source=source,
        given=given,
        standard=std.id,
        version=show_version(std.version),
        hint=hint,
    )


def standard_of_results(std_id: str, source: str) -> CompiledStandard:
    """The installed standard the results name; `ResultsError` saying to pass
    --standard FILE when it is not installed. A `CompileError` passes through.

    Only an installed id is looked up: a record's `standard` is never used as a path.
    """
    from .api import load
    from .messages import message
    from .sources import SourceError

    hint = message("results.pass_standard")
    if "/" in std_id or "\\" in std_id or std_id.endswith(".sbm"):
        raise ResultsError(
            message("results.not_an_id", source=source, standard=repr(std_id), hint=hint)
        )
    try:
        return load(std_id)
    except (FileNotFoundError, SourceError) as err:
        raise ResultsError(
            message("results.not_installed", error=err, source=source, hint=hint)
        ) from None


class CheckedResults:
    """The scored visits of result files, each checked against one standard and version.

    Iterating yields `(source, record)` for every scored visit, the records in the
    nested contract shape. The standard is `standard` if given (and then it must be
    the one the results were scored with), else the installed one the first result
    names; `self.standard` holds it once the first result is read.

    Raises `ResultsError` on results of a second standard or version (at once: the
    rest is not worth reading), and at the end when any record was not a scored
    visit of the standard or when there were none at all. Read as history
    (`done="history"`, `sbm score --history`), files without any result are no
    previous visits, not an error.
    """

    def __init__(
        self,
        paths: Sequence[str | Path],
        standard: CompiledStandard | None = None,
        *,
        given: str | None = None,
        done: str = "rolled up",
        like: tuple[str, dict[str, Any]] | None = None,
    ) -> None:
        self.paths = list(paths)
        self.standard = standard
        self.given = given if given is not None else (standard.id if standard else None)
        self.done = done
        #: the first result read, or `like` (a result of another input, such as an
        #: earlier wave): every result must share its standard and version
        self.first: tuple[str, dict[str, Any]] | None = like
        self.count = 0

    def __iter__(self) -> Iterator[tuple[str, dict[str, Any]]]:
        refusals = Refusals()
        checker: Rollup | None = None
        history = self.done == "history"
        for source, record, error in read_results(self.paths):
            problem = error or shape_problem(record, history=history)
            if problem:
                refusals.add(source, problem)
                continue
            if self.first is not None and not same_identity(self.first[1], record):
                raise ResultsError(mixing_message(self.first, (source, record), self.verb))
            if checker is None:
                self.first = self.first or (source, record)
                checker = Rollup(self._standard_for(source, record).model, "network")
            problems = checker.problems(record)
            if problems:
                refusals.add(source, "; ".join(problems))
                continue
            self.count += 1
            yield source, record
        if refusals.count:
            std = self.standard
            of = None if std is None else f"`{std.id}` {show_version(std.version)}"
            if history:
                raise ResultsError(refusals.history_message(of, self.count))
            raise ResultsError(refusals.message(of, self.done))
        if not self.count and not history:
            from .messages import message

            raise ResultsError(message("results.no_visits", paths=", ".join(map(str, self.paths))))

    @property
    def verb(self) -> str:
        return {"rolled up": "roll up", "compared": "compare", "calibrated": "calibrate"}.get(
            self.done, "use"
        )

    def _standard_for(self, source: str, record: dict[str, Any]) -> CompiledStandard:
        if self.standard is None:
            self.standard = standard_of_results(record["standard"], source)
            return self.standard
        problem = standard_mismatch(self.standard, str(self.given), source, record)
        if problem:
            raise ResultsError(problem)
        return self.standard
