"""Roll-ups: from scored visits to specialists, points, regions and the network.

One pass, memory proportional to groups × items (never to visits), but for the
terms of `median` and `percentile`, which are not sums of anything: their values are
kept per group (`_Group.samples`, a float each) until the report sorts them. Sums are
exact (see `ExactSum`), and a percentile is computed exactly from the sorted values
and rounded once (`percentile`), so every figure is the correctly rounded result
whatever the order of the visits or the way they were chunked: the determinism the
language promises (semantics §9) holds byte for byte.

A roll-up is only as right as its input, and a wrong aggregate looks exactly like a
right one. So every record is checked before it counts (`shape_problem`, then
`Rollup.add` against the standard) and one that is not a scored visit of this
standard raises `ResultError` instead of being skipped or half-added.
"""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from fractions import Fraction
from typing import Any

import attrs

from .interpret import Env, Interpreter
from .ir import Arith
from .messages import message
from .model import Bound, StandardModel

LEVELS = {"point": "point", "specialist": "specialist", "region": "region", "network": None}

#: What a record needs to be rolled up at all: the scorer always writes these.
RESULT_FIELDS = ("standard", "version", "coefficients")

#: A check of one value in a result, and what it should have been (for the message).
_Check = tuple[Callable[[Any], bool], str]

#: Every finite float is a whole number of 2**-1074 (the smallest subnormal).
_UNIT_BITS = 1074

#: The rollup terms whose values are kept whole, not summed (`_Group.samples`).
QUANTILE_KINDS = ("median", "percentile")


class ResultError(ValueError):
    """A record that is not a scored visit of the standard being rolled up."""


class ExactSum:
    """A running sum with no rounding error and no overflow until it is read.

    Why integers: a float is num/2**k with k <= 1074, so the sum is kept as one
    Python integer counting units of 2**-1074. Adding is exact and independent of
    order, the integer cannot overflow, and reading divides two integers, which
    Python rounds correctly once: the mean of 1e308 and 1e308 is 1e308, not inf.
    """

    __slots__ = ("units",)

    def __init__(self) -> None:
        self.units = 0

    def add(self, x: float) -> None:
        num, den = float(x).as_integer_ratio()  # den is a power of two
        self.units += num << (_UNIT_BITS - den.bit_length() + 1)

    def value(self) -> float:
        """The sum, correctly rounded; ±inf when it lies beyond the float range."""
        return self.per(1 << _UNIT_BITS)

    def mean(self, n: int) -> float | None:
        """The mean of `n` addends, correctly rounded (always finite); None when n is 0."""
        return self.per(n << _UNIT_BITS) if n else None

    def ratio(self, other: ExactSum) -> float | None:
        """This sum divided by `other`, correctly rounded; None when `other` is 0."""
        return self.per(other.units) if other.units else None

    def per(self, units: int) -> float:
        try:
            return self.units / units
        except OverflowError:
            return math.inf if (self.units < 0) == (units < 0) else -math.inf


@attrs.define
class _Stat:
    total: ExactSum = attrs.Factory(ExactSum)
    n: int = 0
    hits: int = 0  # visits meeting the target, or true conditions for share()

    def add(self, x: float) -> None:
        self.total.add(float(x))
        self.n += 1

    def mean(self) -> float | None:
        return self.total.mean(self.n)

    def merge(self, other: _Stat) -> None:
        self.total.units += other.total.units
        self.n += other.n
        self.hits += other.hits


def percentile(values: Sequence[float], p: float) -> float | None:
    """The `p`-th percentile (0 ≤ p ≤ 100) of `values`, None when there are none.

    The definition of numpy's default method ('linear') and R's type 7: over the values
    sorted, x₀ ≤ … ≤ xₙ₋₁, with h = (n − 1)·p/100, it is x⌊h⌋ + (h − ⌊h⌋)·(x⌊h⌋₊₁ − x⌊h⌋).
    Computed exactly (fractions) and rounded once, so it depends only on the values, not
    on their order, and never overflows (it lies between two of them); numpy may differ
    in the last bit. The median is p = 50.
    """
    if not values:
        return None
    xs = sorted(values)
    h = Fraction(len(xs) - 1) * Fraction(p) / 100
    low = math.floor(h)
    a = Fraction(xs[low])
    if h == low:
        return float(a)
    return float(a + (h - low) * (Fraction(xs[low + 1]) - a))


@attrs.define
class _Group:
    visits: int = 0
    coefs: dict[str, _Stat] = attrs.Factory(dict)
    lost: dict[str, ExactSum] = attrs.Factory(dict)
    possible: ExactSum = attrs.Factory(ExactSum)
    terms: dict[str, _Stat] = attrs.Factory(dict)
    #: the values of each `median` and `percentile` term, in no particular order
    samples: dict[str, list[float]] = attrs.Factory(dict)
    #: per coefficient with bands: how many visits fell in each band (declared order)
    bands: dict[str, dict[str, int]] = attrs.Factory(dict)

    def merge(self, other: _Group) -> None:
        """Add another group's sums: exact, so merging in any order changes no figure."""
        self.visits += other.visits
        for name, stat in other.coefs.items():
            self.coefs[name].merge(stat)
        for name, lost in other.lost.items():
            self.lost[name].units += lost.units
        self.possible.units += other.possible.units
        for key, stat in other.terms.items():
            self.terms[key].merge(stat)
        for key, values in other.samples.items():
            self.samples[key].extend(values)
        for name, counts in other.bands.items():
            mine = self.bands[name]
            for label, k in counts.items():
                mine[label] += k


# -- what a record must look like ---------------------------------------------------------------


def describe(value: Any, limit: int = 40) -> str:
    """A short, readable rendering of a value from the input, for messages."""
    if isinstance(value, Mapping):
        return message("refusal.an_object")
    if isinstance(value, list | tuple):
        return message("refusal.a_list")
    text = json.dumps(value, ensure_ascii=False, default=repr)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def shape_problem(record: Any, *, history: bool = False) -> str | None:
    """Why `record` is not a scored visit of any standard, or None if it may be one;
    `history` for an earlier result of `sbm score --history` (the hints differ).

    Why guess what it is instead: the usual mistakes are passing the rejects file or
    the raw visits, and saying so is the fastest way to the fix.
    """
    if not isinstance(record, Mapping):
        return message("refusal.not_an_object", value=describe(record))
    if "coefficients" not in record and {"errors", "record"} <= record.keys():
        if history:
            return message("refusal.history.rejects_line")
        return message("refusal.rejects_line")
    if "coefficients" not in record and "answers" in record:
        if history:
            return message("refusal.history.unscored")
        return message("refusal.unscored")
    missing = [f"`{f}`" for f in RESULT_FIELDS if f not in record]
    if missing:
        return message("refusal.missing", fields=", ".join(missing))
    standard, version = record["standard"], record["version"]
    if not isinstance(standard, str) or not standard:
        return message("refusal.bad_standard", value=describe(standard))
    if version is not None and not (isinstance(version, str) or _is_number(version)):
        return message("refusal.bad_version", value=describe(version))
    return None


def same_version(seen: Any, declared: Any) -> bool:
    """Whether two versions are one, allowing for tabular readers that read
    "2026.1" as the number 2026.1."""
    if seen is None or declared is None or (isinstance(seen, str) and isinstance(declared, str)):
        return bool(seen == declared)
    try:
        return float(seen) == float(declared)
    except (TypeError, ValueError, OverflowError):
        return False


def show_version(version: Any) -> str:
    return "(no version)" if version is None else str(version)


def _is_number(x: Any) -> bool:
    """A finite JSON number (booleans are not numbers here)."""
    if isinstance(x, bool) or not isinstance(x, int | float):
        return False
    try:
        return math.isfinite(x)
    except OverflowError:  # an int too large for a float
        return False


def _is_share_value(x: Any) -> bool:
    return isinstance(x, bool) or (_is_number(x) and x in (0, 1))


def _is_term_value(x: Any) -> bool:
    return isinstance(x, bool) or _is_number(x)


def _is_score(x: Any) -> bool:
    return _is_number(x) and 0 <= x <= 1


def _is_group_key(x: Any) -> bool:
    return x is None or isinstance(x, str) or _is_number(x)


def _band_check(labels: Sequence[str]) -> _Check:
    """The check of a visit's band of a coefficient: one of its labels."""
    known = frozenset(labels)
    return (lambda x: isinstance(x, str) and x in known), "bands:" + ", ".join(labels)


# -- accumulating -------------------------------------------------------------------------------


class Rollup:
    """Accumulates scored visits (objects or their dicts) and reports per group."""

    def __init__(
        self, model: StandardModel, by: str, key: Callable[[Mapping[str, Any]], Any] | None = None
    ) -> None:
        """`key`: the group of a record, where it is not the `by` field (see `regroup`)."""
        if by not in LEVELS:
            raise ValueError(f"cannot roll up by {by!r}; choose one of {', '.join(LEVELS)}")
        self.m = model
        self.by = by
        self.key = key
        self.groups: dict[Any, _Group] = {}
        self.weights = {i.name: (i.weight, i.bonus) for i in model.items if i.scored}
        self.coef_names = [c.name for c in model.coefficients]
        self.term_kinds = {t.key: t.kind for r in model.rollups for t in r.terms}
        self.band_labels = {
            name: [label for label, _ in b.bands]
            for name, b in model.bands.items()
            if name in self.coef_names
        }
        # The second of each pair names what is wanted (`_wanted`), for a problem's message.
        number, score = (_is_number, "number"), (_is_score, "score")
        share, term = (_is_share_value, "share"), (_is_term_value, "number")
        self.checks: dict[str, dict[str, _Check]] = {
            "coefficients": dict.fromkeys(self.coef_names, number),
            "items": {i.name: score for i in model.items},
            "rollup_inputs": {
                k: share if v == "share" else term for k, v in self.term_kinds.items()
            },
            "bands": {c: _band_check(labels) for c, labels in self.band_labels.items()},
        }

    def add(self, result: Any) -> None:
        """Add one scored visit; rejected ones (`ok` false) carry no figures and are skipped.

        Raises `ResultError`, having added nothing, when `result` is not a scored
        visit of this standard (and version) with figures of the right kinds.
        """
        if not getattr(result, "ok", True):
            return
        if isinstance(result, Mapping):
            record = result
        elif callable(getattr(result, "to_dict", None)):
            record = result.to_dict()
        else:
            raise ResultError(f"expected a scored visit, got {type(result).__name__}")
        problems = self.problems(record)
        if problems:
            raise ResultError("; ".join(problems))
        self.add_checked(record)

    def problems(self, record: Any) -> list[str]:
        """What makes `record` unfit for this roll-up (the first few), or nothing."""
        shape = shape_problem(record)
        if shape:
            return [shape]
        out = self._identity_problems(record)
        for field in ("point", "specialist", "region"):  # at every level: one verdict per file
            if not _is_group_key(record.get(field)):
                out.append(message("refusal.bad_group", field=field, value=describe(record[field])))
        for name, checks in self.checks.items():
            if not _plainly_fine(record.get(name), checks, name):
                out += _map_problems(record, name, checks)
        return out[:3]

    def _identity_problems(self, record: Mapping[str, Any]) -> list[str]:
        standard, version = record["standard"], record["version"]
        if standard == self.m.name and same_version(version, self.m.version):
            return []
        return [
            message(
                "refusal.other_standard",
                standard=standard,
                version=show_version(version),
                expected=self.m.name,
                expected_version=show_version(self.m.version),
            )
        ]

    def add_checked(self, record: Mapping[str, Any]) -> None:
        """Add a record `problems` found nothing wrong with (`result_files` checks them)."""
        if self.key is not None:
            key = self.key(record)
        else:
            field = LEVELS[self.by]
            key = "network" if field is None else record.get(field)
        group = self.groups.get(key)
        if group is None:
            group = self.groups[key] = self._new_group()
        group.visits += 1
        coefs = record.get("coefficients") or {}
        for name, stat in group.coefs.items():
            value = coefs.get(name)
            if value is not None:
                stat.add(value)
                target = self.m.targets.get(name)
                if target is not None and value >= target:
                    stat.hits += 1
        items = record.get("items") or {}
        for name, (weight, bonus) in self.weights.items():
            score = items.get(name)
            if score is None or bonus:
                continue
            group.possible.add(weight)
            group.lost[name].add(weight * (1.0 - score))
        inputs = record.get("rollup_inputs") or {}
        for key_, stat in group.terms.items():
            value = inputs.get(key_)
            if value is None:
                continue
            if self.term_kinds[key_] == "share":
                stat.n += 1
                stat.hits += bool(value)
            else:
                stat.add(value)
        for key_, values in group.samples.items():
            value = inputs.get(key_)
            if value is not None:
                values.append(float(value))
        if group.bands:
            bands = record.get("bands") or {}
            for name, counts in group.bands.items():
                label = bands.get(name)
                if label is not None:
                    counts[label] += 1

    def _new_group(self) -> _Group:
        return _Group(
            coefs={c: _Stat() for c in self.coef_names},
            lost={i: ExactSum() for i in self.weights},
            terms={k: _Stat() for k, kind in self.term_kinds.items() if kind not in QUANTILE_KINDS},
            samples={k: [] for k, kind in self.term_kinds.items() if kind in QUANTILE_KINDS},
            bands={c: dict.fromkeys(labels, 0) for c, labels in self.band_labels.items()},
        )

    def regroup(self, by: str, key_of: Callable[[Any], Any]) -> Rollup:
        """The roll-up by `by` from this one's groups, each added into group
        `key_of(its key)`. Exact: the same figures as rolling the visits up by `by`.
        One pass keyed by (point, specialist) thus gives the network, the points and
        the specialists."""
        out = Rollup(self.m, by)
        for key, group in self.groups.items():
            new = key_of(key)
            target = out.groups.get(new)
            if target is None:
                target = out.groups[new] = out._new_group()
            target.merge(group)
        return out

    def add_many(self, results: Iterable[Any]) -> Rollup:
        for r in results:
            self.add(r)
        return self

    # -- reporting --------------------------------------------------------------------------------

    def report(self) -> dict[str, Any]:
        """The roll-up contract; a figure that is not a finite number (a sum beyond
        the float range, a formula that overflows) is None, never NaN or inf."""
        keys = sorted(self.groups, key=lambda k: (k is None, str(k)))
        return {
            "by": self.by,
            "standard": self.m.name,
            "version": self.m.version,
            "groups": [self._group(k, self.groups[k]) for k in keys],
        }

    def _group(self, key: Any, g: _Group) -> dict[str, Any]:
        coefficients = {}
        for name, stat in g.coefs.items():
            mean = stat.mean()
            target = self.m.targets.get(name)
            bands = self.m.bands.get(name)
            coefficients[name] = {
                "mean": mean,
                "n": stat.n,
                "target": target,
                "gap": None if mean is None or target is None else finite(mean - target),
                "meets_share": None if target is None or not stat.n else stat.hits / stat.n,
                "band": bands.band_of(mean) if bands else None,
                "bands": dict(g.bands[name]) if name in g.bands else None,
            }
        rollups = _RollupEval(self.m, g).all()
        shares = {name: lost.ratio(g.possible) or 0.0 for name, lost in g.lost.items()}
        order = list(self.weights)
        zones = sorted(
            (name for name, share in shares.items() if share > 0),
            key=lambda name: (-shares[name], order.index(name)),
        )
        return {
            "key": key,
            "visits": g.visits,
            "coefficients": coefficients,
            "rollups": rollups,
            "growth_zones": [{"item": name, "lost_share": shares[name]} for name in zones],
        }


_FLOAT_MAX = sys.float_info.max


def _plainly_fine(values: Any, checks: Mapping[str, _Check], field: str) -> bool:
    """The common case, checked fast: known names with floats (scores in [0, 1])
    or booleans (rollup inputs) or None. Anything else takes the slow path, which
    accepts what is right but unusual (ints) and words the problems."""
    if type(values) is not dict or not values.keys() <= checks.keys():
        return False
    if field == "items":
        return all(v is None or (type(v) is float and 0.0 <= v <= 1.0) for v in values.values())
    if field == "coefficients":
        low, high = -_FLOAT_MAX, _FLOAT_MAX  # NaN and ±inf fail these comparisons
        return all(v is None or (type(v) is float and low <= v <= high) for v in values.values())
    if field == "bands":
        return all(v is None or checks[k][0](v) for k, v in values.items())
    return all(v is None or type(v) is bool for v in values.values())


def _map_problems(record: Mapping[str, Any], field: str, checks: Mapping[str, _Check]) -> list[str]:
    """Problems with the object `record[field]`: values of the wrong kind (None is
    N/A, always fine) and names the standard does not have."""
    values = record.get(field)
    if values is None and field != "coefficients":  # no items or rollup inputs: all N/A
        return []
    if not isinstance(values, Mapping):
        return [message("refusal.not_a_map", field=field, value=describe(values))]
    out = []
    for name, value in values.items():
        check = checks.get(name)
        if check is None:
            out.append(message("refusal.unknown_name", field=field, name=str(name)[:40]))
        elif value is not None and not check[0](value):
            out.append(
                message(
                    "refusal.bad_value",
                    field=field,
                    name=name,
                    value=describe(value),
                    wanted=_wanted(check[1]),
                )
            )
    return out


def _wanted(kind: str) -> str:
    """What a value of a result must be ("a number or null"), in the reader's language."""
    if kind == "score":
        return message("refusal.score")
    if kind == "share":
        return message("refusal.share")
    if kind.startswith("bands:"):
        return message("refusal.bands.label", labels=kind.removeprefix("bands:"))
    return message("refusal.number")


def finite(x: Any) -> Any:
    """`x`, or None when it is a float that JSON cannot carry (NaN, ±inf)."""
    return None if isinstance(x, float) and not math.isfinite(x) else x


class _RollupEval(Interpreter):
    """Evaluates `rollup` formulas for one group from its accumulated terms.

    Exactly: shares, totals, means and the visits are the fractions they are (a
    share is hits ÷ visits, a sum is held to the last unit, `ExactSum`), numbers
    written in a formula the decimals they are, and `+ − × ÷` on them exact; a
    rollup's value is rounded to a float once, at the end. So `100 * share(x)` over
    57 of 100 visits is 57, not 56.99999999999999, whatever prints it. Percentiles
    are floats already (`percentile`), and stay so."""

    def __init__(self, model: StandardModel, group: _Group) -> None:
        super().__init__(model)
        self.group = group
        self.values: dict[str, float | str | None] = {}
        self.exact: dict[str, Any] = {}
        self.by_name = {r.name: r for r in model.rollups}
        self.params = {t.key: t.param for r in model.rollups for t in r.terms}

    def all(self) -> dict[str, float | str | None]:
        return {name: self.rollup(name) for name in self.by_name}

    def rollup(self, name: str, stack: tuple[str, ...] = ()) -> float | str | None:
        if name not in self.values:
            plain = self._plain(self.by_name[name].expr)
            if plain is _NOT_PLAIN:
                self._exact(name, stack)
            else:
                self.values[name] = finite(plain)
        return self.values[name]

    def _plain(self, b: Bound) -> Any:
        """The value of a formula that is one aggregate (`avg(x)`, `share(c)`, …) or a
        whole number times a share (`100 * share(c)`), without fractions: one division
        of two integers, which Python rounds correctly, as `float` of the fraction
        would; `_NOT_PLAIN` for any other formula (`_exact` computes it)."""
        op = b.op
        if op == "visits":
            return float(self.group.visits)
        if op == "mode_of":
            return self.eval(b, Env({}))
        if op == "agg":
            kind, key = b.data
            if kind == "mode":
                return self.eval(b, Env({}))
            if kind in QUANTILE_KINDS:
                p = self.params.get(key)
                return percentile(self.group.samples[key], 50.0 if p is None else p)
            stat = self.group.terms[key]
            if kind == "share":
                return stat.hits / stat.n if stat.n else None
            if kind == "total":
                return stat.total.value()
            return stat.total.mean(stat.n)
        if isinstance(b, Arith) and b.operator == "*":
            for whole, share in ((b.left, b.right), (b.right, b.left)):
                factor = _whole(whole)
                if factor is not None and share.op == "agg" and share.data[0] == "share":
                    stat = self.group.terms[share.data[1]]
                    return factor * stat.hits / stat.n if stat.n else None
        return _NOT_PLAIN

    def _exact(self, name: str, stack: tuple[str, ...] = ()) -> Any:
        """A rollup's exact value (a `Fraction`, a label or None), computed once."""
        if name not in self.exact:
            if name in stack:
                return None
            self._stack = (*stack, name)
            try:
                value = self.eval(self.by_name[name].expr, Env({}))
                shown = float(value) if isinstance(value, Fraction) else value
            except ArithmeticError:  # a share that is 0 in a denominator, a huge value: N/A
                value = shown = None
            self.exact[name] = value
            self.values[name] = finite(shown)  # inf or NaN from huge terms: N/A too
        return self.exact[name]

    def eval(self, b: Bound, env: Env) -> Any:
        if b.op == "mode_of":  # the candidate most visits gave, ties to the first listed
            candidates, keys = b.data
            hits = [self.group.terms[k].hits for k in keys]
            most = max(hits, default=0)
            return candidates[hits.index(most)] if most else None
        if b.op == "const":
            value = b.data
            if isinstance(value, float | int) and not isinstance(value, bool):
                return _fraction(value)
            return value
        if b.op == "agg":
            kind, key = b.data
            if kind == "mode":  # key: the coefficient; ties go to the band declared first
                counts = self.group.bands[key]
                most = max(counts.values(), default=0)
                return (
                    next((label for label, k in counts.items() if k == most), None)
                    if most
                    else None
                )
            if kind in QUANTILE_KINDS:
                p = self.params.get(key)
                return _fraction(percentile(self.group.samples[key], 50.0 if p is None else p))
            stat = self.group.terms[key]
            if kind == "share":
                return Fraction(stat.hits, stat.n) if stat.n else None
            units = Fraction(stat.total.units, 1 << _UNIT_BITS)
            if kind == "total":
                return units
            return units / stat.n if stat.n else None
        if b.op == "visits":
            return Fraction(self.group.visits)
        if b.op == "rollup_ref":
            return self._exact(b.data, getattr(self, "_stack", ()))
        return super().eval(b, env)


#: `_RollupEval._plain` of a formula that needs fractions.
_NOT_PLAIN = object()


def _whole(b: Bound) -> int | None:
    """A number written in a formula that is a whole number a float holds exactly
    (`100`), as an int; None for anything else."""
    if b.op != "const":
        return None
    v = b.data
    if isinstance(v, bool) or not isinstance(v, int | float):
        return None
    if isinstance(v, float) and not (math.isfinite(v) and v.is_integer()):
        return None
    return int(v) if abs(v) <= 2**53 else None


def _fraction(x: Any) -> Any:
    """A number as the exact fraction its shortest decimal spelling says (0.1 is 1/10);
    None and infinities as they are."""
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return x
    return Fraction(repr(float(x))) if isinstance(x, float) else Fraction(x)


def rollup(model: StandardModel, results: Iterable[Any], by: str) -> dict[str, Any]:
    """The roll-up contract for `results` (scored visits or their dicts) grouped `by`.

    Raises `ResultError` at the first result that is not a scored visit of `model`.
    """
    return Rollup(model, by).add_many(results).report()


def for_output(value: Any) -> Any:
    """Figures rounded to 12 significant digits (float noise such as
    9.999999999999998 becomes 10.0) and non-finite ones as None; group keys as read."""
    if isinstance(value, dict):
        return {k: v if k == "key" else for_output(v) for k, v in value.items()}
    if isinstance(value, list):
        return [for_output(v) for v in value]
    if isinstance(value, float):
        return float(f"{value:.12g}") if math.isfinite(value) else None
    return value
