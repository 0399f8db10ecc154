"""The workload's `sbm score` done by DuckDB and by polars: the yardsticks of the format matrix.

Why: `sbm score STANDARD IN -o OUT` should cost no more than a competent engineer
doing the same job with a fast query engine. Each yardstick reads the input file,
checks every answer, scores the visits and writes the same columns `sbm score`
writes, in the same order and shape:

* DuckDB: one SQL statement, `COPY (SELECT …) TO OUT`;
* polars: one lazy query, `scan_*` … `sink_*` (`read_excel` / `write_excel` for XLSX).

Both are generated from a `Spec`, plain data derived from `workload.criteria()` and
the workload's constants (`spec()`), so they know the standard exactly as the
engine does and nothing is written by hand per criterion. What they compute, per
visit: every item's score (scale labels and aliases, N/A as null, waiting times by
their thresholds, deposit-only items null unless `scenario` is `deposit`, the rating
over 10), section and tag means weighted by item weight, the specialist, point,
subjective, visit (0 when a critical item failed) and stages coefficients, the band,
the gap to the target, the failed critical items and a warning for each answer to
an item that does not apply (JSON text in flat formats, as `sbm score` writes them,
lists in JSONL), and the two NPS inputs; in CSV, input text that starts like a
formula gets a leading `'`, as `sbm score` writes it. Visits with an answer
the standard refuses (an unknown label, a missing or N/A required answer, a time out
of range) are left out, as `sbm score` moves them to its rejects file; the
yardsticks do not write that file nor look for duplicate visit ids.

The child processes of the benchmark run this file, so it imports neither the
engine nor the workload at module level (their import would be counted as the
yardstick's start-up):

    python benchmarks/score_baselines.py duckdb SPEC.json IN OUT
    python benchmarks/score_baselines.py polars SPEC.json IN OUT
    python benchmarks/score_baselines.py sql SPEC.json IN OUT   # print the statement

`read_output(path, spec)` reads any of the four output formats back as one flat
Arrow table and `compare(a, b)` checks two of them equal (floats within 1e-12,
everything else exactly): the matrix's `--check` and the tests use them.
"""

from __future__ import annotations

import json
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

FORMATS = ("jsonl", "csv", "xlsx", "parquet")
#: Visit fields `sbm score` writes after the visit id, in its order.
VISIT_FIELDS = ("point", "specialist", "region", "date", "scenario", "shopper")
#: Visit fields the workload's input files hold (`shopper` is absent: null in the output).
INPUT_FIELDS = ("visit_id", "point", "specialist", "region", "date", "scenario")
NA = "na"
#: `sbm score`'s warning for an answer to an item whose `when` does not hold.
NOT_APPLICABLE = (
    "`{item}` was answered but does not apply to this visit (condition: {condition}); "
    "the answer is ignored"
)
#: Text `sbm score` prefixes with ' in CSV, so that a spreadsheet runs no formula.
FORMULA = r"^[=+\-@\t\r]"
TOLERANCE = 1e-12


@dataclass(frozen=True)
class Item:
    """One item of the standard: how its answer is checked and scored, where it counts."""

    name: str
    kind: str  # "scale" or "number"
    weight: float
    section: str | None = None
    tags: tuple[str, ...] = ()
    labels: dict[str, float] = field(default_factory=dict)  # scale: label -> score
    na: bool = True  # scale: N/A allowed
    required: bool = True  # an answer must be given when the item applies
    critical: bool = False
    deposit_only: bool = False
    condition: str | None = None  # the `when` of a deposit-only item, as the standard says it
    high: float = 0.0  # number: answers 0..high
    thresholds: tuple[tuple[float, float], ...] = ()  # number: (limit, score) in order
    otherwise: float = 0.0  # number: score above every limit
    divisor: float | None = None  # number without thresholds: score = value / divisor


@dataclass(frozen=True)
class Spec:
    """The standard as the yardsticks need it: items, groupings, coefficients, bands."""

    standard: str
    version: str
    items: tuple[Item, ...]
    sections: tuple[tuple[str, float], ...]
    tags: tuple[str, ...]  # coefficient = weighted mean of the items with the tag
    specialist: tuple[tuple[str, float], ...]
    point_tag: str
    subjective: str  # an item
    top: tuple[tuple[str, float], ...]  # visit = weighted mean of these, 0 if critical failed
    coefficients: tuple[str, ...]  # output order
    bands: tuple[tuple[str, float | None], ...]
    target: float
    #: Rollup inputs: name, (">=" or "<=", bound on the rating answer).
    nps: tuple[tuple[str, tuple[str, float]], ...]

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False)

    @staticmethod
    def from_json(text: str) -> Spec:
        def tuples(x: Any) -> Any:
            return tuple(tuples(v) for v in x) if isinstance(x, list) else x

        data = json.loads(text)
        items = []
        for d in data.pop("items"):
            items.append(Item(**{k: v if k == "labels" else tuples(v) for k, v in d.items()}))
        return Spec(items=tuple(items), **{k: tuples(v) for k, v in data.items()})

    @property
    def item_names(self) -> list[str]:
        return [i.name for i in self.items]

    def columns(self) -> list[str]:
        """The flat output columns, in `sbm score`'s order."""
        return [
            "visit_id",
            "standard",
            "version",
            *VISIT_FIELDS,
            *(f"coefficients.{c}" for c in self.coefficients),
            *(f"sections.{s}" for s, _ in self.sections),
            *(f"items.{i}" for i in self.item_names),
            "bands.visit",
            "gaps.visit",
            "critical",
            "warnings",
            *(f"rollup_inputs.{n}" for n, _ in self.nps),
        ]

    def column_kinds(self) -> dict[str, str]:
        """Output column -> "text", "float" or "bool"."""
        kinds = {}
        for c in self.columns():
            if c.startswith(("coefficients.", "sections.", "items.", "gaps.")):
                kinds[c] = "float"
            elif c.startswith("rollup_inputs."):
                kinds[c] = "bool"
            else:
                kinds[c] = "text"
        return kinds


def spec(seed: int = 2026) -> Spec:
    """The workload standard (`workload.standard_text(seed)`, labels) as a Spec."""
    here = str(Path(__file__).resolve().parent)
    if here not in sys.path:
        sys.path.insert(0, here)
    import workload as wl

    scales = {
        # `standard_text`'s scales: yes/no with the aliases да/нет, grades 1..5.
        "yes_no": {"yes": 1.0, "да": 1.0, "no": 0.0, "нет": 0.0},
        "grade5": {str(k): v for k, v in wl.SCALES["grade5"].items()},
    }
    items = []
    for c in wl.criteria(seed):
        if c.kind == "number":
            high, full, half = c.limits  # type: ignore[misc]
            items.append(
                Item(
                    c.name,
                    "number",
                    float(c.weight),
                    c.section,
                    (c.tag,),
                    required=False,
                    high=float(high),
                    thresholds=((float(full), 1.0), (float(half), 0.5)),
                    otherwise=0.0,
                )
            )
        else:
            items.append(
                Item(
                    c.name,
                    "scale",
                    float(c.weight),
                    c.section,
                    (c.tag,),
                    labels=scales[c.kind],
                    na=not c.critical,
                    critical=c.critical,
                    deposit_only=c.deposit_only,
                    condition='visit.scenario == "deposit"' if c.deposit_only else None,
                )
            )
    items.append(Item("rating", "number", 1.0, None, (), required=False, high=10.0, divisor=10.0))
    std = wl.standard_text(seed)
    version = std.split('version "', 1)[1].split('"', 1)[0]
    standard = std.split("standard ", 1)[1].split(" ", 1)[0]
    return Spec(
        standard=standard,
        version=version,
        items=tuple(items),
        sections=tuple((s, float(w)) for s, _t, w, _n in wl.SECTIONS),
        tags=tuple(wl.TAGS),
        specialist=tuple((k, float(v)) for k, v in wl.VISIT_TERMS.items()),
        point_tag="premises",
        subjective="rating",
        top=tuple((k, float(v)) for k, v in wl.TOP_TERMS.items()),
        coefficients=(*wl.TAGS, "specialist", "point", "subjective", "visit", "stages"),
        bands=tuple(wl.BANDS),
        target=float(wl.TARGET),
        nps=(("nps.1", (">=", 9.0)), ("nps.2", ("<=", 6.0))),
    )


# -- the scoring, as layers of named expressions ------------------------------------------


class Backend:
    """The few operations the scoring needs, rendered by DuckDB SQL or polars."""

    def col(self, name: str) -> Any: ...
    def num(self, x: float) -> Any: ...
    def text(self, s: str) -> Any: ...
    def null(self, kind: str) -> Any: ...
    def case(self, branches: list[tuple[Any, Any]], otherwise: Any = None) -> Any: ...
    def is_null(self, e: Any) -> Any: ...
    def not_null(self, e: Any) -> Any: ...
    def not_(self, e: Any) -> Any: ...
    def op(self, a: Any, o: str, b: Any) -> Any: ...
    def all_of(self, parts: list[Any]) -> Any: ...
    def fill0(self, e: Any) -> Any: ...
    def join_texts(self, parts: list[Any], sep: str) -> Any: ...
    def list_of(self, parts: list[Any]) -> Any: ...
    def empty_list(self) -> Any: ...
    def struct(self, fields: list[tuple[str, Any]]) -> Any: ...
    def formula_safe(self, e: Any) -> Any: ...


def _sum(b: Backend, parts: list[Any]) -> Any:
    """Left to right, as the engine adds: ((p1 + p2) + p3) …"""
    out = parts[0]
    for p in parts[1:]:
        out = b.op(out, "+", p)
    return out


def _weighted_mean(b: Backend, terms: list[tuple[Any, float]]) -> Any:
    """sum(w·x) / sum(w) over the terms that are not null; null when none is."""
    num = _sum(b, [b.fill0(b.op(b.num(w), "*", x)) for x, w in terms])
    den = _sum(b, [b.case([(b.not_null(x), b.num(w))], b.num(0.0)) for x, w in terms])
    return b.case([(b.op(den, ">", b.num(0.0)), b.op(num, "/", den))], b.null("float"))


def answer(name: str) -> str:
    return f"a.{name}"


def validity(spec: Spec, b: Backend) -> Any:
    """True when every answer is one the standard accepts (else `sbm score` rejects it),
    from the answers and the item scores of the first layer: a scale answer is valid
    when it scored or is N/A (where N/A is allowed), and must be given when the item
    applies (deposit-only items apply to deposit visits only); a time or rating, when
    given, lies in its range."""
    deposit = b.op(b.col("scenario"), "=", b.text("deposit"))
    checks = []
    for it in spec.items:
        a = b.col(answer(it.name))
        if it.kind == "scale":
            ok = b.not_null(b.col(f"items.{it.name}"))
            if it.na:
                ok = b.op(ok, "or", b.op(a, "=", b.text(NA)))
            if not it.required:
                ok = b.op(b.is_null(a), "or", ok)
        else:
            ok = b.op(b.op(a, ">=", b.num(0.0)), "and", b.op(a, "<=", b.num(it.high)))
            ok = b.op(b.is_null(a), "or", ok) if not it.required else ok
        if it.deposit_only:
            ok = b.op(b.not_(deposit), "or", ok)
        checks.append(ok)
    return b.all_of(checks)


def layers(spec: Spec, b: Backend) -> list[list[tuple[str, Any]]]:
    """The scoring as layers: each layer's expressions use the columns of the earlier
    ones. The first is the item scores; `validity` filters the visits after it."""
    items = []
    deposit = b.op(b.col("scenario"), "=", b.text("deposit"))
    for it in spec.items:
        a = b.col(answer(it.name))
        if it.kind == "scale":
            score = b.case(
                [(b.op(a, "=", b.text(k)), b.num(v)) for k, v in it.labels.items()], b.null("float")
            )
        elif it.divisor is not None:
            score = b.op(a, "/", b.num(it.divisor))
        else:
            branches = [(b.is_null(a), b.null("float"))]
            branches += [(b.op(a, "<=", b.num(limit)), b.num(s)) for limit, s in it.thresholds]
            score = b.case(branches, b.num(it.otherwise))
        if it.deposit_only:
            score = b.case([(deposit, score)], b.null("float"))
        items.append((f"items.{it.name}", score))

    def score(name: str) -> Any:
        return b.col(f"items.{name}")

    groups = [
        (f"sections.{s}", [i for i in spec.items if i.section == s]) for s, _ in spec.sections
    ]
    groups += [(f"coefficients.{t}", [i for i in spec.items if t in i.tags]) for t in spec.tags]
    groups += [("coefficients.point", [i for i in spec.items if spec.point_tag in i.tags])]
    means = [
        (name, _weighted_mean(b, [(score(i.name), i.weight) for i in members]))
        for name, members in groups
    ]
    critical = [i for i in spec.items if i.critical]
    failed = [(f"failed.{i.name}", b.op(score(i.name), "=", b.num(0.0))) for i in critical]
    coef = lambda c: b.col(f"coefficients.{c}")  # noqa: E731
    second = [
        ("coefficients.specialist", _weighted_mean(b, [(coef(t), w) for t, w in spec.specialist])),
        ("coefficients.subjective", score(spec.subjective)),
        (
            "coefficients.stages",
            _weighted_mean(b, [(b.col(f"sections.{s}"), w) for s, w in spec.sections]),
        ),
        (
            "critical_failed",
            b.op(
                _sum(b, [b.case([(b.col(n), b.num(1.0))], b.num(0.0)) for n, _ in failed]),
                ">",
                b.num(0.0),
            ),
        ),
        (
            "critical",
            b.join_texts(
                [
                    b.case([(b.col(n), b.text(json.dumps(i.name)))], b.null("text"))
                    for (n, _), i in zip(failed, critical, strict=True)
                ],
                ",",
            ),
        ),
        (
            "critical_list",
            b.list_of(
                [
                    b.case([(b.col(n), b.text(i.name))], b.null("text"))
                    for (n, _), i in zip(failed, critical, strict=True)
                ]
            ),
        ),
    ]
    ignored = [  # answers to items that do not apply: a warning each
        (b.op(b.not_(deposit), "and", b.not_null(b.col(answer(i.name)))), i)
        for i in spec.items
        if i.deposit_only
    ]

    def warning(i: Item) -> dict[str, str]:
        return {
            "item": i.name,
            "message": NOT_APPLICABLE.format(item=i.name, condition=i.condition),
        }

    compact = {"ensure_ascii": False, "separators": (",", ":")}
    second += [
        (
            "warnings",
            b.join_texts(
                [b.case([(c, b.text(json.dumps(warning(i), **compact)))]) for c, i in ignored], ","
            ),
        )
        if ignored
        else ("warnings", b.text("")),
        (
            "warnings_list",
            b.list_of(
                [
                    b.case([(c, b.struct([(k, b.text(v)) for k, v in warning(i).items()]))])
                    for c, i in ignored
                ]
            )
            if ignored
            else b.empty_list(),
        ),
    ]
    visit = [
        (
            "coefficients.visit",
            b.case(
                [(b.col("critical_failed"), b.num(0.0))],
                _weighted_mean(b, [(coef(t), w) for t, w in spec.top]),
            ),
        )
    ]
    v = coef("visit")
    bands = [(b.op(v, ">=", b.num(t)), b.text(label)) for label, t in spec.bands if t is not None]
    last = [label for label, t in spec.bands if t is None]
    rating = b.col(answer(spec.subjective))
    final = [
        (
            "bands.visit",
            b.case(
                [(b.is_null(v), b.null("text")), *bands],
                b.text(last[0]) if last else b.null("text"),
            ),
        ),
        ("gaps.visit", b.op(v, "-", b.num(spec.target))),
        *((f"rollup_inputs.{n}", b.op(rating, o, b.num(x))) for n, (o, x) in spec.nps),
    ]
    return [items, [*means, *failed], second, visit, final]


def outputs(spec: Spec, b: Backend, fmt: str) -> list[tuple[str, Any]]:
    """The output columns from the last layer: flat, or nested for JSONL."""
    consts = {"standard": b.text(spec.standard), "version": b.text(spec.version)}
    flat: list[tuple[str, Any]] = []
    for c in spec.columns():
        if c in consts:
            flat.append((c, consts[c]))
        elif c == "critical":
            flat.append((c, b.op(b.op(b.text("["), "||", b.col("critical")), "||", b.text("]"))))
        elif c == "warnings":
            flat.append((c, b.op(b.op(b.text("["), "||", b.col("warnings")), "||", b.text("]"))))
        elif fmt == "csv" and c in ("visit_id", *VISIT_FIELDS):
            flat.append((c, b.formula_safe(b.col(c))))
        else:
            flat.append((c, b.col(c)))
    if fmt != "jsonl":
        return flat
    nested: list[tuple[str, Any]] = []
    groups: dict[str, list[tuple[str, Any]]] = {}
    for name, e in flat:
        if name == "critical":
            nested.append((name, b.col("critical_list")))
        elif name == "warnings":
            nested.append((name, b.col("warnings_list")))
        elif "." in name:
            head, tail = name.split(".", 1)
            if head not in groups:
                groups[head] = []
                nested.append((head, None))
            groups[head].append((tail, e))
        else:
            nested.append((name, e))
    return [(n, b.struct(groups[n]) if e is None else e) for n, e in nested]


# -- DuckDB ---------------------------------------------------------------------------------


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _s(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


class Sql(Backend):
    def col(self, name: str) -> str:
        return _q(name)

    def num(self, x: float) -> str:
        return f"CAST({float(x)!r} AS DOUBLE)"

    def text(self, s: str) -> str:
        return _s(s)

    def null(self, kind: str) -> str:
        return {
            "float": "CAST(NULL AS DOUBLE)",
            "text": "CAST(NULL AS VARCHAR)",
            "bool": "CAST(NULL AS BOOLEAN)",
        }[kind]

    def case(self, branches: list[tuple[str, str]], otherwise: str | None = None) -> str:
        whens = " ".join(f"WHEN {c} THEN {v}" for c, v in branches)
        return f"CASE {whens}{'' if otherwise is None else f' ELSE {otherwise}'} END"

    def is_null(self, e: str) -> str:
        return f"({e} IS NULL)"

    def not_null(self, e: str) -> str:
        return f"({e} IS NOT NULL)"

    def not_(self, e: str) -> str:
        return f"(NOT {e})"

    def op(self, a: str, o: str, b: str) -> str:
        return f"({a} {o.upper()} {b})"

    def all_of(self, parts: list[str]) -> str:
        return "(" + "\n    AND ".join(parts) + ")"

    def fill0(self, e: str) -> str:
        return f"COALESCE({e}, CAST(0.0 AS DOUBLE))"

    def join_texts(self, parts: list[str], sep: str) -> str:
        return f"concat_ws({_s(sep)}, {', '.join(parts)})"

    def list_of(self, parts: list[str]) -> str:
        return f"list_filter([{', '.join(parts)}], lambda x: x IS NOT NULL)"

    def empty_list(self) -> str:
        return "CAST([] AS VARCHAR[])"

    def struct(self, fields: list[tuple[str, str]]) -> str:
        return "struct_pack(" + ", ".join(f"{_q(k)} := {v}" for k, v in fields) + ")"

    def formula_safe(self, e: str) -> str:
        quoted = f"({_s(chr(39))} || {e})"
        return f"CASE WHEN regexp_matches({e}, {_s(FORMULA)}) THEN {quoted} ELSE {e} END"


def _duckdb_source(spec: Spec, fmt: str, path: str) -> str:
    """The input as a table of the visit fields and one `a.<item>` column per answer."""
    types = {i.name: "VARCHAR" if i.kind == "scale" else "DOUBLE" for i in spec.items}
    fields = ", ".join(_q(f) for f in INPUT_FIELDS)
    if fmt == "jsonl":
        answers = ", ".join(f"{_q(n)} {t}" for n, t in types.items())
        columns = {f: "VARCHAR" for f in INPUT_FIELDS} | {"answers": f"STRUCT({answers})"}
        spec_sql = "{" + ", ".join(f"{_s(k)}: {_s(v)}" for k, v in columns.items()) + "}"
        source = f"read_json({_s(path)}, format = 'newline_delimited', columns = {spec_sql})"
        get = lambda n: f"answers.{_q(n)}"  # noqa: E731
    elif fmt == "csv":
        columns = {f: "VARCHAR" for f in INPUT_FIELDS} | types
        spec_sql = "{" + ", ".join(f"{_s(k)}: {_s(v)}" for k, v in columns.items()) + "}"
        source = f"read_csv({_s(path)}, header = true, delim = ',', columns = {spec_sql})"
        get = _q
    elif fmt == "parquet":
        source = f"read_parquet({_s(path)})"
        get = _q
    else:
        raise ValueError(f"DuckDB reads no {fmt} here (its excel extension is not installed)")
    answers_sql = ", ".join(f"CAST({get(n)} AS {t}) AS {_q(answer(n))}" for n, t in types.items())
    return f"SELECT {fields}, CAST(NULL AS VARCHAR) AS shopper, {answers_sql} FROM {source}"


def duckdb_sql(spec: Spec, fmt_in: str, path_in: str, fmt_out: str, path_out: str) -> str:
    """One statement: COPY (the scoring of IN) TO OUT."""
    b = Sql()
    query = _duckdb_source(spec, fmt_in, path_in)
    for k, layer in enumerate(layers(spec, b)):
        exprs = ",\n  ".join(f"{e} AS {_q(n)}" for n, e in layer)
        where = f"\nWHERE {validity(spec, b)}" if k == 1 else ""
        query = f"SELECT *,\n  {exprs}\nFROM ({query}){where}"
    cols = ",\n  ".join(f"{e} AS {_q(n)}" for n, e in outputs(spec, b, fmt_out))
    query = f"SELECT\n  {cols}\nFROM ({query})"
    options = {
        "parquet": "FORMAT parquet",
        "csv": "FORMAT csv, HEADER true",
        "jsonl": "FORMAT json",
    }.get(fmt_out)
    if options is None:
        raise ValueError(f"DuckDB writes no {fmt_out} here (its excel extension is not installed)")
    return f"COPY (\n{query}\n) TO {_s(path_out)} ({options})"


def run_duckdb(spec: Spec, path_in: str, path_out: str) -> None:
    import duckdb

    sql = duckdb_sql(spec, fmt_of(path_in), path_in, fmt_of(path_out), path_out)
    duckdb.sql(sql)


# -- polars ---------------------------------------------------------------------------------


class Polars(Backend):
    def __init__(self) -> None:
        import polars as pl

        self.pl = pl

    def col(self, name: str) -> Any:
        return self.pl.col(name)

    def num(self, x: float) -> Any:
        return self.pl.lit(float(x), dtype=self.pl.Float64)

    def text(self, s: str) -> Any:
        return self.pl.lit(s, dtype=self.pl.String)

    def null(self, kind: str) -> Any:
        dtype = {"float": self.pl.Float64, "text": self.pl.String, "bool": self.pl.Boolean}[kind]
        return self.pl.lit(None, dtype=dtype)

    def case(self, branches: list[tuple[Any, Any]], otherwise: Any = None) -> Any:
        (c0, v0), *rest = branches
        chain = self.pl.when(c0).then(v0)
        for c, v in rest:
            chain = chain.when(c).then(v)
        return chain if otherwise is None else chain.otherwise(otherwise)

    def is_null(self, e: Any) -> Any:
        return e.is_null()

    def not_null(self, e: Any) -> Any:
        return e.is_not_null()

    def not_(self, e: Any) -> Any:
        return ~e

    def op(self, a: Any, o: str, b: Any) -> Any:
        if o == "||":
            return self.pl.concat_str([a, b])
        return {
            "+": a.__add__,
            "-": a.__sub__,
            "*": a.__mul__,
            "/": a.__truediv__,
            "=": a.__eq__,
            ">": a.__gt__,
            ">=": a.__ge__,
            "<=": a.__le__,
            "and": a.__and__,
            "or": a.__or__,
        }[o](b)

    def all_of(self, parts: list[Any]) -> Any:
        return self.pl.all_horizontal(parts)

    def fill0(self, e: Any) -> Any:
        return e.fill_null(0.0)

    def join_texts(self, parts: list[Any], sep: str) -> Any:
        return self.pl.concat_str(parts, separator=sep, ignore_nulls=True)

    def list_of(self, parts: list[Any]) -> Any:
        return self.pl.concat_list(parts).list.drop_nulls()

    def empty_list(self) -> Any:
        return self.list_of([self.null("text")])

    def struct(self, fields: list[tuple[str, Any]]) -> Any:
        return self.pl.struct([e.alias(k) for k, e in fields])

    def formula_safe(self, e: Any) -> Any:
        quoted = self.pl.concat_str([self.pl.lit("'"), e])
        return self.pl.when(e.str.contains(FORMULA)).then(quoted).otherwise(e)


def polars_query(spec: Spec, fmt_in: str, path_in: str, fmt_out: str) -> Any:
    """The lazy query: IN scanned, checked, scored, in the output's columns."""
    import polars as pl

    b = Polars()
    types = {i.name: pl.String if i.kind == "scale" else pl.Float64 for i in spec.items}
    fields = {f: pl.String for f in INPUT_FIELDS}
    if fmt_in == "parquet":
        lf = pl.scan_parquet(path_in)
    elif fmt_in == "csv":
        lf = pl.scan_csv(path_in, schema=fields | types)
    elif fmt_in == "jsonl":
        schema = fields | {"answers": pl.Struct(types)}
        lf = pl.scan_ndjson(path_in, schema=schema).unnest("answers")
    elif fmt_in == "xlsx":
        lf = pl.read_excel(path_in, engine="calamine", schema_overrides=fields | types).lazy()
    else:
        raise ValueError(f"no reader for {fmt_in}")
    lf = lf.select(
        *(pl.col(f).cast(pl.String) for f in INPUT_FIELDS),
        pl.lit(None, dtype=pl.String).alias("shopper"),
        *(pl.col(n).cast(t).alias(answer(n)) for n, t in types.items()),
    )
    for k, layer in enumerate(layers(spec, b)):
        if k == 1:
            lf = lf.filter(validity(spec, b))
        lf = lf.with_columns(e.alias(n) for n, e in layer)
    return lf.select(e.alias(n) for n, e in outputs(spec, b, fmt_out))


def run_polars(spec: Spec, path_in: str, path_out: str) -> None:
    fmt_out = fmt_of(path_out)
    lf = polars_query(spec, fmt_of(path_in), path_in, fmt_out)
    if fmt_out == "parquet":
        lf.sink_parquet(path_out)
    elif fmt_out == "csv":
        lf.sink_csv(path_out)
    elif fmt_out == "jsonl":
        lf.sink_ndjson(path_out)
    elif fmt_out == "xlsx":
        lf.collect().write_excel(path_out, worksheet=Path(path_out).stem)
    else:
        raise ValueError(f"no writer for {fmt_out}")


def fmt_of(path: str | Path) -> str:
    fmt = Path(path).suffix.lstrip(".").lower()
    if fmt not in FORMATS:
        raise ValueError(f"{path}: not one of {FORMATS}")
    return fmt


# -- reading outputs back --------------------------------------------------------------------


def read_output(path: str | Path, spec: Spec) -> Any:
    """Any output file as one flat Arrow table: the flat columns of `spec.columns()`
    in the file's own order (nested JSONL objects flattened to dotted names, the
    critical list as the JSON text flat formats hold), texts, float64 and bools."""
    import pyarrow as pa

    path = Path(path)
    fmt = fmt_of(path)
    kinds = spec.column_kinds()
    types = {"text": pa.string(), "float": pa.float64(), "bool": pa.bool_()}
    if fmt == "parquet":
        import pyarrow.parquet as pq

        table = pq.read_table(path)
    elif fmt == "csv":
        import pyarrow.csv as pcsv

        header = path.open(encoding="utf-8").readline().rstrip("\r\n").split(",")
        opts = pcsv.ConvertOptions(
            column_types={c: types[kinds.get(c, "text")] for c in header},
            strings_can_be_null=True,
            quoted_strings_can_be_null=False,
        )
        table = pcsv.read_csv(path, convert_options=opts)
    elif fmt == "jsonl":
        table = _read_jsonl(path, spec, types)
    else:
        table = _read_xlsx(path, kinds)
    columns = []
    for name, col in zip(table.column_names, table.columns, strict=True):
        kind = kinds.get(name)
        if kind is not None and col.type != types[kind]:
            col = col.cast(types[kind])
        columns.append(col)
    return pa.table(columns, names=table.column_names)


def _read_jsonl(path: Path, spec: Spec, types: dict[str, Any]) -> Any:
    """JSONL read by pyarrow with the nested schema of `spec`'s columns (a key the schema
    lacks is an error), flattened, in the key order of the file's first record."""
    import pyarrow as pa
    import pyarrow.json as pjson

    kinds = spec.column_kinds()
    lists = {
        "critical": pa.list_(pa.string()),
        "warnings": pa.list_(pa.struct([("item", pa.string()), ("message", pa.string())])),
    }
    top: dict[str, Any] = {}
    for c in spec.columns():
        head, _, tail = c.partition(".")
        if c in lists:
            top[c] = lists[c]
        elif tail:
            top.setdefault(head, []).append(pa.field(tail, types[kinds[c]]))
        else:
            top[c] = types[kinds[c]]
    schema = pa.schema([(k, pa.struct(v) if isinstance(v, list) else v) for k, v in top.items()])
    options = pjson.ParseOptions(explicit_schema=schema, unexpected_field_behavior="error")
    table = pjson.read_json(path, parse_options=options).flatten()
    compact = {"ensure_ascii": False, "separators": (",", ":")}
    for name in lists:
        texts = [json.dumps(v, **compact) for v in table.column(name).to_pylist()]
        table = table.set_column(table.column_names.index(name), name, pa.array(texts))
    with path.open(encoding="utf-8") as f:
        first = json.loads(f.readline() or "{}")
    order = []
    for k, v in first.items():
        order += [f"{k}.{k2}" for k2 in v] if isinstance(v, dict) else [k]
    return table.select([c for c in order if c in table.column_names])


def _read_xlsx(path: Path, kinds: dict[str, str]) -> Any:
    import pyarrow as pa
    from python_calamine import CalamineWorkbook

    rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python()
    header, body = [str(h) for h in rows[0]], rows[1:]
    data = {}
    for j, name in enumerate(header):
        values = [None if r[j] == "" else r[j] for r in body]
        if kinds.get(name) == "float":
            values = [None if v is None else float(v) for v in values]
        elif kinds.get(name) == "text":
            values = [None if v is None else str(v) for v in values]
        data[name] = pa.array(values)
    return pa.table(data)


def compare(got: Any, want: Any, label: str = "") -> list[str]:
    """Differences between two tables of `read_output`: columns, rows, values (floats
    within TOLERANCE, nulls at the same places, everything else equal). Empty: equal."""
    import numpy as np
    import pyarrow.compute as pc

    if got.column_names != want.column_names:
        return [f"{label}: columns differ: {got.column_names} != {want.column_names}"]
    if got.num_rows != want.num_rows:
        return [f"{label}: {got.num_rows} rows, not {want.num_rows}"]
    problems = []
    for name in want.column_names:
        a, b = got.column(name), want.column(name)
        if not pc.all(pc.equal(pc.is_null(a), pc.is_null(b))).as_py():
            problems.append(f"{label}: {name}: nulls at other rows")
            continue
        if a.type.equals(b.type) and str(a.type) == "double":
            x = a.to_numpy(zero_copy_only=False)
            y = b.to_numpy(zero_copy_only=False)
            diff = np.nanmax(np.abs(x - y), initial=0.0)
            if diff > TOLERANCE:
                problems.append(f"{label}: {name}: values differ by up to {diff:g}")
        elif not a.equals(b):
            bad = pc.invert(pc.fill_null(pc.equal(a, b), True))
            idx = pc.index(bad, True).as_py()
            problems.append(f"{label}: {name}: row {idx}: {a[idx].as_py()!r} != {b[idx].as_py()!r}")
    return problems


def main(argv: list[str]) -> int:
    if len(argv) != 4 or argv[0] not in ("duckdb", "polars", "sql"):
        print(__doc__, file=sys.stderr)
        return 2
    tool, spec_path, path_in, path_out = argv
    s = Spec.from_json(Path(spec_path).read_text(encoding="utf-8"))
    if tool == "duckdb":
        run_duckdb(s, path_in, path_out)
    elif tool == "polars":
        run_polars(s, path_in, path_out)
    else:
        print(duckdb_sql(s, fmt_of(path_in), path_in, fmt_of(path_out), path_out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
