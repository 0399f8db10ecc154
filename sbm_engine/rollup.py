"""Roll-ups: from scored visits to specialists, points, regions and the network.

One pass, memory proportional to groups × items (never to visits). Sums are exact
(Shewchuk partials, as in `math.fsum`), so every figure is the correctly rounded
result whatever the order of the visits or the way they were chunked: the
determinism the language promises (semantics §9) holds byte for byte.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

import attrs

from .interpret import Env, Interpreter
from .model import Bound, StandardModel

LEVELS = {"point": "point", "specialist": "specialist", "region": "region", "network": None}


class ExactSum:
    """A running sum with no rounding error until `value()` rounds once."""

    __slots__ = ("partials",)

    def __init__(self) -> None:
        self.partials: list[float] = []

    def add(self, x: float) -> None:
        partials = self.partials
        i = 0
        for y in partials:
            if abs(x) < abs(y):
                x, y = y, x
            hi = x + y
            lo = y - (hi - x)
            if lo:
                partials[i] = lo
                i += 1
            x = hi
        partials[i:] = [x]

    def value(self) -> float:
        return math.fsum(self.partials)


@attrs.define
class _Stat:
    total: ExactSum = attrs.Factory(ExactSum)
    n: int = 0
    hits: int = 0  # visits meeting the target, or true conditions for share()

    def add(self, x: float) -> None:
        self.total.add(float(x))
        self.n += 1

    def mean(self) -> float | None:
        return self.total.value() / self.n if self.n else None


@attrs.define
class _Group:
    visits: int = 0
    coefs: dict[str, _Stat] = attrs.Factory(dict)
    lost: dict[str, ExactSum] = attrs.Factory(dict)
    possible: ExactSum = attrs.Factory(ExactSum)
    terms: dict[str, _Stat] = attrs.Factory(dict)


class Rollup:
    """Accumulates scored visits (objects or their dicts) and reports per group."""

    def __init__(self, model: StandardModel, by: str) -> None:
        if by not in LEVELS:
            raise ValueError(f"cannot roll up by {by!r}; choose one of {', '.join(LEVELS)}")
        self.m = model
        self.by = by
        self.groups: dict[Any, _Group] = {}
        self.weights = {i.name: (i.weight, i.bonus) for i in model.items if i.scored}
        self.coef_names = [c.name for c in model.coefficients]
        self.term_kinds = {t.key: t.kind for r in model.rollups for t in r.terms}

    def add(self, result: Any) -> None:
        """Add one scored visit; rejected ones (`ok` false) carry no figures and are skipped."""
        if not getattr(result, "ok", True):
            return
        record = result if isinstance(result, Mapping) else result.to_dict()
        field = LEVELS[self.by]
        key = "network" if field is None else record.get(field)
        group = self.groups.get(key)
        if group is None:
            group = self.groups[key] = _Group(
                coefs={c: _Stat() for c in self.coef_names},
                lost={i: ExactSum() for i in self.weights},
                terms={k: _Stat() for k in self.term_kinds},
            )
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

    def add_many(self, results: Iterable[Any]) -> Rollup:
        for r in results:
            self.add(r)
        return self

    def report(self) -> dict[str, Any]:
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
                "gap": None if mean is None or target is None else mean - target,
                "meets_share": None if target is None or not stat.n else stat.hits / stat.n,
                "band": bands.band_of(mean) if bands else None,
            }
        rollups = _RollupEval(self.m, g).all()
        possible = g.possible.value()
        shares = {
            name: (lost.value() / possible if possible else 0.0) for name, lost in g.lost.items()
        }
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


class _RollupEval(Interpreter):
    """Evaluates `rollup` formulas for one group from its accumulated terms."""

    def __init__(self, model: StandardModel, group: _Group) -> None:
        super().__init__(model)
        self.group = group
        self.values: dict[str, float | None] = {}
        self.by_name = {r.name: r for r in model.rollups}

    def all(self) -> dict[str, float | None]:
        return {name: self.rollup(name) for name in self.by_name}

    def rollup(self, name: str, stack: tuple[str, ...] = ()) -> float | None:
        if name not in self.values:
            if name in stack:
                return None
            self._stack = (*stack, name)
            try:
                self.values[name] = self.eval(self.by_name[name].expr, Env({}))
            except ArithmeticError:  # e.g. a share that is 0 in a denominator: N/A here
                self.values[name] = None
        return self.values[name]

    def eval(self, b: Bound, env: Env) -> Any:
        if b.op == "agg":
            kind, key = b.data
            stat = self.group.terms[key]
            if kind == "share":
                return stat.hits / stat.n if stat.n else None
            if kind == "total":
                return stat.total.value()
            return stat.mean()
        if b.op == "visits":
            return float(self.group.visits)
        if b.op == "rollup_ref":
            return self.rollup(b.data, getattr(self, "_stack", ()))
        return super().eval(b, env)


def rollup(model: StandardModel, results: Iterable[Any], by: str) -> dict[str, Any]:
    """The roll-up contract for `results` (scored visits or their dicts) grouped `by`."""
    return Rollup(model, by).add_many(results).report()
