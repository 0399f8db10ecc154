"""History across visits: a point's previous visit, and what a standard reads of it.

`previous(NAME)`, `has_previous()` and `repeated(SELECTION)` read the result of the
same point's previous visit. The previous visit of a visit is the newest visit of the
same `point` that comes before it in the order (`visit.date`, `visit.id`), both
compared as texts (a visit without a date comes before the dated ones); a visit
without a point has none, and a rejected visit is nobody's previous. The values read
are those computed at that visit, with its own history: the visits of one point are
scored in order.

Where previous visits come from: the visits scored together (one `score_many` call,
one `sbm score` run) and earlier results (`History`, `sbm score --history`), the
newest one before each visit. Both backends score such a standard with
`score_in_order`, in *generations*: the first visit of every point, then the second,
and so on, each generation with the results of the ones before it. That needs every
visit in memory: a standard that uses history is scored whole before anything is
written.

What the generated code reads is a `Previous` mapping merged into the visit record
under tuple keys (`ir.previous_key`), which no record key (always a text) can equal.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from .io.records import field_text
from .ir import HAS_PREVIOUS, Call, PreviousOf, previous_key
from .model import StandardModel, expressions
from .results import RejectedVisit, Row, ScoredVisit, VisitOutcome, duplicate, visit_key
from .runtime import label_text, number_of

#: The functions that read a previous visit.
FUNCTIONS = ("previous", "has_previous", "repeated")


class Previous(dict[tuple[str, str, str], Any]):
    """The values a standard reads of one previous visit, under `ir.previous_key`s,
    and `ir.HAS_PREVIOUS` (True)."""


def reads(model: StandardModel) -> frozenset[tuple[str, str]] | None:
    """What a standard reads of a previous visit, as (kind, name); None when it uses no
    history at all (then nothing of this module runs when it scores)."""
    found: set[tuple[str, str]] = set()
    uses = False
    exprs = list(expressions(model))
    for ex in model.examples:
        exprs += [b for b, _ in ex.expects]
    for b in exprs:
        for node in b.walk():
            if not isinstance(node, Call) or node.fn not in FUNCTIONS:
                continue
            uses = True
            if node.fn == "previous" and isinstance(node.payload, PreviousOf):
                found.add((node.payload.kind, node.payload.name))
            elif node.fn == "repeated":
                found.update(("item", x.name) for x in node.payload[1])
    return frozenset(found) if uses else None


class Reader:
    """Makes the `Previous` of a result for one standard (`reads`)."""

    def __init__(self, model: StandardModel, wanted: frozenset[tuple[str, str]]) -> None:
        self.wanted = tuple(sorted(wanted))
        self.labels = frozenset(c.name for c in model.labels)
        #: per part of a result (items, sections, coefficients, labels): the names read
        #: there and the keys they go under
        self.parts: dict[str, tuple[tuple[str, ...], tuple[tuple[str, str, str], ...]]] = {}
        for part, chosen in (
            ("items", [n for k, n in self.wanted if k == "item"]),
            ("sections", [n for k, n in self.wanted if k == "section"]),
            ("coefficients", [n for k, n in self.wanted if k == "coef" and n not in self.labels]),
            ("labels", [n for k, n in self.wanted if k == "coef" and n in self.labels]),
        ):
            kind = {"items": "item", "sections": "section"}.get(part, "coef")
            self.parts[part] = (tuple(chosen), tuple(previous_key(kind, n) for n in chosen))

    def of(self, result: Any) -> Previous | None:
        """The `Previous` of a scored visit (a `ScoredVisit` or its dict form,
        `to_dict()`, as `result_files` reads it back); None for None and for a
        rejected visit (`RejectedVisit` or its dict form: nobody's previous). A
        `Previous` is given back as it is."""
        if result is None or isinstance(result, Previous):
            return result
        if rejected(result):
            return None
        out = Previous({HAS_PREVIOUS: True})
        if isinstance(result, ScoredVisit):  # the values as scored: no conversion
            for part, (names, keys) in self.parts.items():
                if names:
                    values = _plain(getattr(result, part))
                    out.update(zip(keys, map(values.get, names), strict=True))
            return out
        if not isinstance(result, Mapping):
            raise TypeError(
                f"previous must be a scored visit or its dict form, not {type(result).__name__}"
            )
        coefs = result.get("coefficients") or {}
        for part, (names, keys) in self.parts.items():
            given = result.get(part) or {}
            for name, k in zip(names, keys, strict=True):
                if part == "labels":  # a label once written as a number reads as text
                    out[k] = label_text(given.get(name, coefs.get(name)))
                else:
                    out[k] = _number(given.get(name))
        return out


def rejected(result: Any) -> bool:
    """`result` is a rejected visit, a `RejectedVisit` or its dict form (`errors` and
    `record`, no `coefficients`)."""
    if isinstance(result, RejectedVisit):
        return True
    return (
        isinstance(result, Mapping)
        and "coefficients" not in result
        and "errors" in result
        and "record" in result
    )


def _plain(mapping: Mapping[str, Any]) -> dict[str, Any]:
    """A result's mapping as a dict, at C speed for the `Row`s a scored visit holds."""
    return mapping.as_dict() if isinstance(mapping, Row) else dict(mapping)


def _number(value: Any) -> float | None:
    return None if value is None else number_of(value)


def order_key(record: Mapping[str, Any]) -> tuple[str, tuple[str, str]] | None:
    """A record's point and its place among the point's visits, (date, id) as texts;
    None for a visit without a point."""
    point = record.get("point")
    if point is None or (isinstance(point, str) and not point.strip()):
        return None
    date = record.get("date")
    when = "" if date is None else field_text(date)
    return field_text(point), (when, visit_key(record.get("visit_id")) or "")


class History:
    """Earlier results, by point: where a visit's previous one may come from besides
    the visits scored with it (`sbm score --history`). Add results with `add`.

    An earlier result of a visit being scored again (the same visit_id: a corrected
    visit submitted anew) is not history: `score_in_order` leaves it out, so a visit
    is never its own previous visit."""

    def __init__(self) -> None:
        self._points: dict[str, list[tuple[tuple[str, str], Any, str | None]]] = {}
        self._sorted = True

    def add(self, result: Any) -> None:
        """One scored visit (a `ScoredVisit` or its dict form); a rejected visit or
        one without a point is nobody's previous and is left out."""
        if rejected(result):
            return
        record = result._asdict() if isinstance(result, ScoredVisit) else result
        where = order_key(record)
        if where is None:
            return
        vid = visit_key(record.get("visit_id"))
        self._points.setdefault(where[0], []).append((where[1], result, vid))
        self._sorted = False

    def __len__(self) -> int:
        return sum(len(v) for v in self._points.values())

    def before(
        self, point: str, place: tuple[str, str], skip: frozenset[str] | set[str] = frozenset()
    ) -> tuple[tuple[str, str], Any] | None:
        """The newest result of `point` that comes before `place`, with its place;
        results whose visit_id is in `skip` are passed over."""
        if not self._sorted:
            for entries in self._points.values():
                entries.sort(key=_place)
            self._sorted = True
        entries = self._points.get(point) or []
        if not entries:
            return None
        i = bisect.bisect_left(entries, place, key=_place)
        while i:
            i -= 1
            where, result, vid = entries[i]
            if vid is None or vid not in skip:
                return where, result
        return None


def _place(entry: tuple[tuple[str, str], Any, str | None]) -> tuple[str, str]:
    return entry[0]


#: Scores some records of a group, each with its previous visit's values (or None):
#: `(indices, previous) -> outcomes`, one per index, as `CompiledStandard.score` would.
ScoreGroup = Callable[[list[int], list["Previous | None"]], list[VisitOutcome]]


def score_in_order(
    records: Sequence[Any],
    sources: Sequence[str | None],
    reader: Reader,
    score_group: ScoreGroup,
    history: History | None = None,
) -> list[VisitOutcome]:
    """The outcomes of `records` (in their order) for a standard that uses history,
    each visit scored after its point's earlier ones, with the newest accepted one (or
    the newest earlier result of `history`) as its previous visit.

    A visit_id seen earlier in `records` is rejected as a duplicate (first its own
    errors found with no previous visit) and is nobody's previous. An earlier result
    of `history` with the visit_id of one of `records` is left out: that visit is
    scored anew. Visits are scored
    in generations (`score_group` once per generation: every point's first visit, then
    every point's second, …), so a batch backend scores a generation as one batch."""
    n = len(records)
    outcomes: list[VisitOutcome | None] = [None] * n
    seen: set[str] = set()
    dups: list[int] = []
    points: dict[str, list[tuple[tuple[str, str], int]]] = {}
    alone: list[int] = []  # no point: no previous, nobody's previous
    for i, rec in enumerate(records):
        where = order_key(rec) if isinstance(rec, Mapping) else None
        vid = visit_key(rec.get("visit_id")) if isinstance(rec, Mapping) else None
        if vid is not None:
            if vid in seen:
                dups.append(i)
                continue
            seen.add(vid)
        if where is None:
            alone.append(i)
        else:
            points.setdefault(where[0], []).append((where[1], i))
    # the points with a visit left to score: a generation costs its own visits, not
    # one step per point (one point of many visits among many short ones)
    active = [(point, sorted(entries)) for point, entries in points.items()]
    last: dict[str, tuple[tuple[str, str], int]] = {}  # the newest accepted visit of a point
    g = 0
    while active or g == 0:
        group: list[int] = []
        previous: list[Previous | None] = []
        if g == 0:
            group += [*alone, *dups]
            previous += [None] * (len(alone) + len(dups))
        for point, seq in active:
            place, i = seq[g]
            group.append(i)
            previous.append(
                _previous_of(point, place, last.get(point), outcomes, history, reader, seen)
            )
        if group:
            for i, outcome in zip(group, score_group(group, previous), strict=True):
                outcomes[i] = outcome
        for point, seq in active:
            place, i = seq[g]
            if outcomes[i] is not None and outcomes[i].ok:  # type: ignore[union-attr]
                last[point] = (place, i)
        g += 1
        active = [entry for entry in active if len(entry[1]) > g]
    for i in dups:
        rec = records[i]
        outcomes[i] = duplicate(rec.get("visit_id"), sources[i], rec, outcomes[i])
    return outcomes  # type: ignore[return-value]


def _previous_of(
    point: str,
    place: tuple[str, str],
    newest: tuple[tuple[str, str], int] | None,
    outcomes: list[VisitOutcome | None],
    history: History | None,
    reader: Reader,
    scored: set[str],
) -> Previous | None:
    """The previous visit's values: the newest accepted visit scored before it, or an
    earlier result that is newer still (a visit scored with it wins a tie) and not of
    a visit scored now (`scored`, visit_ids)."""
    earlier = history.before(point, place, scored) if history is not None else None
    if newest is not None and (earlier is None or earlier[0] <= newest[0]):
        return reader.of(outcomes[newest[1]])
    return reader.of(earlier[1]) if earlier is not None else None


def previous_visits(
    std: Any, records: Sequence[Any], history: History | None = None
) -> list[Previous | None]:
    """The previous visit each of `records` reads when they are scored together
    (`score_in_order` with `std`, a `CompiledStandard` that uses history): what
    `sbm explain` shows a visit of a wave with."""
    reader = std.history_reader
    found: list[Previous | None] = [None] * len(records)

    def group(rows: list[int], previous: list[Previous | None]) -> list[VisitOutcome]:
        out = []
        for i, p in zip(rows, previous, strict=True):
            found[i] = p
            out.append(std.score(records[i], None, p))
        return out

    score_in_order(records, [None] * len(records), reader, group, history)
    return found
