"""`sbm plan`: the cheapest investments that reach a target, checked by simulation.

The model (docs/plan.md says it for quality managers):

* For each group (point, region or the network) the results give each item's mean
  score over the visits where it applied, the coefficient's observed mean (`current`),
  and the specialists and points seen (what per-specialist and per-point costs multiply).
* A lever raises each of its items' means by `adds`, or by `closes × (1 − mean)`;
  the gains of several levers on one item add up, capped at a full score (1). A
  divisible lever bought in part gives that part of its gain for that part of its cost.
* The coefficient's change is the standard's structure applied to the item means:
  the coefficient is evaluated on the means and, once per item, on the means with
  that item at a full score; the difference over the gap is the item's slope. For a
  weighted mean of items (or sections, or coefficients that are such) this is exact:
  the coefficient is linear in the item scores. `expected` is `current` plus
  Σ slope × gain. Rules that are not linear (critical items, conditions) are not in
  the slopes: the simulation shows what they do.
* The choice is a mixed-integer programme (scipy's HiGHS): binary variables for
  indivisible levers, [0, 1] for divisible ones, and one gain variable per item below
  both the levers' summed gains and the item's gap. Cheapest plan reaching the target
  (within 1e-9); with `budget`, the cheapest reaching it within the budget, else the
  best expected value within the budget; a group that no combination lifts to the
  target gets the cheapest plan with the best reachable value, and says so.
* The simulation re-scores the group's visits with the reference evaluator: each
  failed (below full) score of an item the plan raises becomes a pass with the
  probability that gives the planned gain, `gain / (1 − mean)`; N/A stays N/A (the
  applicability as observed). `simulated` is `current` plus the mean change over the
  draws; `simulated_ci` the 2.5 and 97.5 percentiles of the draws.

Memory: the optimisation needs groups × items exact sums. The simulation keeps at
most `SAMPLE` visits per group (item scores and visit fields): the ones whose
visit id hashes lowest (a bottom-k sample, so it does not depend on the order of
the rows); a group with more visits is simulated on that sample, whose mean change
is added to the whole group's `current`. Time: a visit with at most five failed
answers among the raised items is re-scored once per distinct outcome; one with
more is re-scored for `PER_VISIT` draws of its own, which the group's draws pick
from at random (so at most SAMPLE × PER_VISIT evaluations per group). When the
coefficient is built of weighted means, constants and `if critical_failed then …`
(`_Columns`), a group's re-scorings are evaluated together in numpy with the
interpreter's arithmetic, in the same order, so to the same floats; otherwise one
by one by the interpreter. The item sums are added a batch of records at a time
(`_ExactSums`), exactly as `Moments` adds them one by one.
"""

from __future__ import annotations

import hashlib
import heapq
import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from ..builtins import wmean
from ..interpret import Env, Interpreter
from ..messages import message
from ..model import Bound, StandardModel
from .levers import Lever, Levers, read_levers
from .moments import Moments

if TYPE_CHECKING:
    from ..standard import CompiledStandard

#: Visits per group kept for the simulation (the lowest hashes of their visit ids).
SAMPLE = 300
#: Monte Carlo draws of the simulation.
DRAWS = 200
#: Draws of its own re-scored for a visit with many failed raised items (at most).
PER_VISIT = 40
#: How close counts as equal (the engine's tolerance for numbers).
TOL = 1e-9
#: Records whose scores are summed in numpy at a time.
_BATCH = 4096
LEVELS = {"point": "point", "region": "region", "network": None}
_NESTED = ("coefficients", "sections", "items", "bands", "gaps", "rollup_inputs")


class PlanError(ValueError):
    """A plan that cannot be made as asked (unknown coefficient, bad what-if plan, …)."""


# ---- the optimisation core --------------------------------------------------------------------


@attrs.frozen
class Problem:
    """One group's planning problem: what the optimisation needs, nothing more."""

    current: float
    means: Mapping[str, float]  # item -> mean score where it applied (items never seen: absent)
    slopes: Mapping[str, float]  # item -> change of the coefficient per point of mean score
    levers: Sequence[Lever]
    costs: Sequence[float]  # each lever's full cost in this group

    def gains(self) -> list[dict[str, float]]:
        """Per lever: item -> gain of buying it whole (items applicable in the group)."""
        return [
            {i: lever.gain(self.means[i]) for i in lever.items if i in self.means}
            for lever in self.levers
        ]


@attrs.frozen
class Choice:
    fractions: tuple[float, ...]  # per lever, 0 … 1
    gains: dict[str, float]  # item -> capped gain of the mean
    expected: float
    cost: float


def score(problem: Problem, fractions: Sequence[float]) -> Choice:
    """What buying `fractions` of the levers gives: capped gains, expected value, cost."""
    total: dict[str, float] = {}
    for f, gains in zip(fractions, problem.gains(), strict=True):
        for item, g in gains.items():
            total[item] = total.get(item, 0.0) + f * g
    capped = {i: min(g, 1.0 - problem.means[i]) for i, g in sorted(total.items()) if g > 0.0}
    capped = {i: g for i, g in capped.items() if g > 0.0}
    expected = problem.current + math.fsum(
        problem.slopes.get(i, 0.0) * g for i, g in capped.items()
    )
    cost = math.fsum(f * c for f, c in zip(fractions, problem.costs, strict=True))
    return Choice(tuple(fractions), capped, expected, cost)


def solve(
    problem: Problem, target: float, budget: float | None = None
) -> tuple[Choice, str | None]:
    """The plan for one group and a note (None when the target is reached as asked).

    Cheapest reaching `target`; within `budget` when given, else the best within it;
    when nothing reaches the target, the cheapest plan of the best reachable value."""
    import numpy as np

    n_levers = len(problem.levers)
    if problem.current >= target - TOL or n_levers == 0:
        choice = score(problem, [0.0] * n_levers)
        if problem.current >= target - TOL:
            return choice, None
        return choice, "no lever raises this group's items"
    gains = problem.gains()
    items = sorted({i for g in gains for i in g})
    n = n_levers + len(items)
    slope = np.zeros(n)
    for k, i in enumerate(items):
        slope[n_levers + k] = max(0.0, problem.slopes.get(i, 0.0))
    cost = np.zeros(n)
    cost[:n_levers] = problem.costs
    link = np.zeros((len(items), n))  # g_i − Σ gain_li x_l ≤ 0
    for k, i in enumerate(items):
        link[k, n_levers + k] = 1.0
        for li, g in enumerate(gains):
            link[k, li] = -g.get(i, 0.0)
    lower = np.zeros(n)
    upper = np.ones(n)
    for k, i in enumerate(items):
        upper[n_levers + k] = max(0.0, 1.0 - problem.means[i])
    integrality = np.zeros(n)
    for li, lever in enumerate(problem.levers):
        integrality[li] = 0 if lever.divisible else 1

    def run(objective: Any, rows: list[tuple[Any, float, float]]) -> Any:
        from scipy.optimize import (
            Bounds,
            LinearConstraint,
            milp,
        )

        a = np.vstack([link, *[r[0] for r in rows]])
        lo = np.concatenate([np.full(len(items), -np.inf), [r[1] for r in rows]])
        hi = np.concatenate([np.zeros(len(items)), [r[2] for r in rows]])
        res = milp(
            objective,
            constraints=LinearConstraint(a, lo, hi),
            integrality=integrality,
            bounds=Bounds(lower, upper),
            options={"mip_rel_gap": 0.0, "presolve": True},
        )
        return res.x if res.status == 0 and res.x is not None else None

    budget_rows = [] if budget is None else [(cost, -np.inf, budget)]
    need = target - problem.current
    best = run(-slope, budget_rows)  # the best within the budget (or with every lever)
    best_value = float(slope @ best) if best is not None else 0.0
    note: str | None = None
    if best_value >= need - TOL:
        x = run(cost, [*budget_rows, (slope, need, np.inf)])
        if x is None:  # a numerical edge: the best plan does reach it
            x = best
    else:
        x = run(cost, [*budget_rows, (slope, best_value - TOL, np.inf)])
        if x is None:
            x = best
        note = (
            message("note.plan.out_of_budget")
            if budget is not None
            else message("note.plan.no_combination")
        )
    if x is None:
        return score(problem, [0.0] * n_levers), message("note.plan.failed")
    # among plans of that cost, the best value (free levers, ties)
    spent = float(cost @ x)
    better = run(-slope, [*budget_rows, (cost, -np.inf, spent + TOL * max(1.0, spent))])
    if better is not None and float(slope @ better) > float(slope @ x) + TOL:
        x = better
    fractions = []
    for li, lever in enumerate(problem.levers):
        f = float(min(1.0, max(0.0, x[li])))
        if not lever.divisible:
            f = float(round(f))
        fractions.append(0.0 if f < 1e-12 else f)
    choice = score(problem, fractions)
    if note is not None:
        note += message("note.plan.best_reachable", value=f"{choice.expected:.4f}")
    return choice, note


# ---- the coefficient on item scores ----------------------------------------------------------


class Evaluator:
    """One coefficient of a standard evaluated from item scores, with the reference
    interpreter: the sections and the coefficients it needs, in evaluation order."""

    def __init__(self, std: CompiledStandard, coefficient: str) -> None:
        model: StandardModel = std.model
        self.model = model
        self.coefficient = coefficient
        self.interp = Interpreter(model, std.functions)
        coefs = {c.name: c for c in (*model.coefficients, *model.labels)}
        needed: set[str] = set()
        sections: set[str] = set()
        todo = [coefficient]
        while todo:
            name = todo.pop()
            if name in needed:
                continue
            needed.add(name)
            for node in coefs[name].expr.walk():
                _collect(node, todo, sections)
        self.steps: list[tuple[str, Any]] = []
        items = {i.name: i for i in model.items}
        for kind, name in model.order:
            if kind == "section" and name in sections:
                sec = next(s for s in model.sections if s.name == name)
                members = [
                    (i, items[i].weight, items[i].bonus) for i in sec.items if items[i].scored
                ]
                self.steps.append(("section", (name, members)))
            elif kind in ("coef", "label") and name in needed:
                self.steps.append(("coef", (name, coefs[name].expr)))

    def __call__(
        self, visit: Mapping[str, Any], scores: Mapping[str, float | None]
    ) -> float | None:
        env = Env(visit, items=dict(scores))
        try:
            for kind, payload in self.steps:
                if kind == "section":
                    name, members = payload
                    env.sections[name] = wmean([(env.items.get(i), w, b) for i, w, b in members])
                else:
                    name, expr = payload
                    env.coefs[name] = self.interp.eval(expr, env)
        except (ArithmeticError, TypeError, ValueError):
            return None
        value = env.coefs.get(self.coefficient)
        if isinstance(value, bool) or not isinstance(value, int | float):
            return None
        return float(value) if math.isfinite(value) else None


def _collect(node: Bound, coefs: list[str], sections: set[str]) -> None:
    if node.op == "coef":
        coefs.append(node.data)
    elif node.op == "section":
        sections.add(node.data)
    elif node.op == "call":
        data = node.data
        if isinstance(data, tuple) and len(data) == 2:
            payload = data[1]
            if isinstance(payload, tuple) and len(payload) == 2 and payload[0] == "sections":
                for entry in payload[1]:
                    sections.add(entry[0] if isinstance(entry, tuple) else entry)


def slopes(
    evaluate: Evaluator, means: Mapping[str, float], items: Sequence[str]
) -> dict[str, float]:
    """Per item, the coefficient's change per point of the item's mean score: the
    coefficient on the means with the item at 1, less on the means, over the gap."""
    base = evaluate({}, means)
    out: dict[str, float] = {}
    if base is None:
        return out
    for i in items:
        gap = 1.0 - means[i]
        if gap <= 0.0:
            continue
        lifted = evaluate({}, {**means, i: 1.0})
        if lifted is not None:
            out[i] = (lifted - base) / gap
    return out


# ---- reading the results ------------------------------------------------------------------------


@attrs.define
class _Group:
    key: str
    coef: Moments = attrs.Factory(Moments)
    sums: dict[str, Moments] = attrs.Factory(dict)
    specialists: set[str] = attrs.Factory(set)
    points: set[str] = attrs.Factory(set)
    n: int = 0
    #: max-heap (by negated hash) of the visits kept for the simulation
    sample: list[tuple[int, str, int, dict[str, Any], dict[str, float | None], float]] = (
        attrs.Factory(list)
    )

    def means(self) -> dict[str, float]:
        return {i: m.mean() for i, m in sorted(self.sums.items()) if m.n}  # type: ignore[misc]


def _visit_hash(seed: int, vid: str) -> int:
    digest = hashlib.blake2b(f"{seed}\x00{vid}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


def read_groups(
    paths: Sequence[str | Path],
    coefficient: str,
    by: str,
    standard: CompiledStandard | None,
    seed: int,
    sample: int = SAMPLE,
) -> tuple[CompiledStandard, dict[str, _Group]]:
    from ..result_files import CheckedResults

    results = CheckedResults(paths, standard, done="planned")
    field = LEVELS[by]
    groups: dict[str, _Group] = {}
    serial = 0
    sums: _ExactSums | None = None
    for _source, record in results:
        std = results.standard
        if serial == 0 and std and coefficient not in {c.name for c in std.model.coefficients}:
            raise PlanError(_unknown_coefficient(coefficient, std.model))
        if sums is None:
            assert std is not None
            sums = _ExactSums(coefficient, [i.name for i in std.model.items])
        serial += 1
        raw_key = "network" if field is None else record.get(field)
        key = "(none)" if raw_key is None else str(raw_key)
        g = groups.get(key)
        if g is None:
            g = groups[key] = _Group(key)
        g.n += 1
        value = (record.get("coefficients") or {}).get(coefficient)
        items = record.get("items") or {}
        sums.add(key, record)
        if record.get("specialist") is not None:
            g.specialists.add(str(record["specialist"]))
        if record.get("point") is not None:
            g.points.add(str(record["point"]))
        if not isinstance(value, int | float) or isinstance(value, bool):
            continue  # an N/A coefficient has no change to simulate
        vid = str(record.get("visit_id") or json.dumps(items, sort_keys=True))
        h = _visit_hash(seed, vid)
        entry = (
            -h,
            vid,
            serial,
            {k: v for k, v in record.items() if k not in _NESTED and not isinstance(v, dict)},
            {k: (float(v) if isinstance(v, int | float) else None) for k, v in items.items()},
            float(value),
        )
        if len(g.sample) < sample:
            heapq.heappush(g.sample, entry)
        elif (-h, vid) > (g.sample[0][0], g.sample[0][1]):
            heapq.heapreplace(g.sample, entry)
    std = results.standard
    assert std is not None
    if coefficient not in {c.name for c in std.model.coefficients}:
        raise PlanError(_unknown_coefficient(coefficient, std.model))
    if sums is not None:
        sums.fold_into(groups)
    return std, groups


def _number(value: Any) -> float | None:
    """A score or coefficient as `Moments` counts it: numbers only (not booleans)."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return None


class _ExactSums:
    """Each group's `Moments` of the coefficient and of every item score, a batch of
    records at a time in numpy (`columnar.WaveSums`' exact integer sums): the same
    counts and sums as `Moments.add` value by value, in a few steps per batch."""

    def __init__(self, coefficient: str, items: Sequence[str]) -> None:
        from types import SimpleNamespace

        from .columnar import WaveSums

        self.coefficient = coefficient
        self.items = list(items)
        self.names = [f"coef.{coefficient}", *(f"item.{i}" for i in self.items)]
        tally = SimpleNamespace(
            field=None, coef_names=self.names, item_names=[], m=SimpleNamespace(targets={})
        )
        self.sums = WaveSums(tally)  # type: ignore[arg-type]
        self.keys: list[int] = []
        self.records: list[Mapping[str, Any]] = []

    def add(self, key: str, record: Mapping[str, Any]) -> None:
        keys = self.sums.keys
        self.keys.append(keys.setdefault(key, len(keys)))
        self.records.append(record)
        if len(self.records) >= _BATCH:
            self._flush()

    def _flush(self) -> None:
        import numpy as np

        records = self.records
        if not records:
            return
        rows = len(records)
        codes = np.array(self.keys, dtype=np.int64)
        coef = self.coefficient
        values = np.array(
            [
                [_number((r.get("coefficients") or {}).get(coef))]
                + [v if type(v) is float else _number(v) for v in map(items.get, self.items)]
                for r in records
                for items in (r.get("items") or {},)
            ],
            dtype=np.float64,
        ).reshape(rows, len(self.names))
        valid = ~np.isnan(values)
        cols = {
            f"coefficients.{name}": (valid[:, j], values[:, j]) for j, name in enumerate(self.names)
        }
        self.sums.add(codes, cols)
        self.keys, self.records = [], []

    def fold_into(self, groups: Mapping[str, _Group]) -> None:
        self._flush()
        self.sums._fold()
        keys = list(self.sums.keys)
        for j, name in enumerate(self.names):
            for gi, *exact in self.sums.exact_sums(name):
                g = groups[keys[gi]]
                target = g.coef if j == 0 else g.sums.setdefault(self.items[j - 1], Moments())
                target.add_exact(*exact)


def _unknown_coefficient(name: str, model: StandardModel) -> str:
    from ..diagnostics import did_you_mean

    names = [c.name for c in model.coefficients]
    near = did_you_mean(name, names)
    hint = f"did you mean `{near}`?" if near else f"the coefficients are: {', '.join(names)}"
    return f"`{model.name}` has no coefficient `{name}`; {hint}"


# ---- the simulation --------------------------------------------------------------------------


class _Unsupported(Exception):
    """An expression `_Columns` does not evaluate: the reference interpreter does."""


class _Columns:
    """The evaluator's coefficient over many score vectors at once, in numpy, with the
    reference interpreter's arithmetic: `builtins.wmean`'s sums are made item by item in the same
    order, so every value is the same float. It covers weighted means of items, sections
    and terms, constants, `if critical_failed then … else …` and references; anything
    else (visit fields, answers, other functions) is left to the interpreter."""

    def __init__(self, evaluate: Evaluator) -> None:
        self.evaluate = evaluate

    @classmethod
    def of(cls, evaluate: Evaluator) -> _Columns | None:
        cached = evaluate.__dict__.get("_columns", False)
        if cached is not False:
            return cached  # type: ignore[no-any-return]
        import numpy as np

        columns: _Columns | None = cls(evaluate)
        try:  # the expressions decide, not the values: a dry run on one row
            columns(["\x00"], np.full((1, 1), np.nan))  # type: ignore[misc]
        except _Unsupported:
            columns = None
        evaluate.__dict__["_columns"] = columns
        return columns

    def __call__(self, names: Sequence[str], scores: Any) -> Any:
        """Per row of `scores` (rows × names, NaN for N/A) the coefficient, NaN for N/A."""
        import numpy as np

        self.rows = scores.shape[0]
        self.nan = np.full(self.rows, np.nan)
        self.items = {n: scores[:, j] for j, n in enumerate(names)}
        self.sections: dict[str, Any] = {}
        self.coefs: dict[str, Any] = {}
        with np.errstate(all="ignore"):
            for kind, payload in self.evaluate.steps:
                if kind == "section":
                    name, members = payload
                    pairs = [(self.items.get(i, self.nan), w, b) for i, w, b in members]
                    self.sections[name] = self._wmean(pairs)
                else:
                    name, expr = payload
                    self.coefs[name] = self._number(self._eval(expr))
        value = self.coefs.get(self.evaluate.coefficient, self.nan)
        return np.where(np.isfinite(value), value, np.nan)

    @staticmethod
    def _number(x: Any) -> Any:
        if isinstance(x, tuple):  # a truth value, not a number
            raise _Unsupported("a condition where a number is expected")
        return x

    def _wmean(self, pairs: Sequence[tuple[Any, float, bool]]) -> Any:
        import numpy as np

        num = np.zeros(self.rows)
        den = np.zeros(self.rows)
        for s, w, bonus in pairs:
            ok = ~np.isnan(s)
            num = np.where(ok, num + w * np.where(ok, s, 0.0), num)
            if not bonus:
                den = np.where(ok, den + w, den)
        return np.where(den != 0, num / np.where(den != 0, den, 1.0), np.nan)

    def _eval(self, b: Bound) -> Any:
        import numpy as np

        op = b.op
        if op == "const":
            if isinstance(b.data, bool) or not isinstance(b.data, int | float):
                raise _Unsupported("a constant that is not a number")
            return np.full(self.rows, float(b.data))
        if op == "item":
            return self.items.get(b.data, self.nan)
        if op == "section":
            return self.sections.get(b.data, self.nan)
        if op == "coef":
            return self.coefs.get(b.data, self.nan)
        if op == "if":
            cond = self._eval(b.args[0])
            if not isinstance(cond, tuple):
                raise _Unsupported("a condition on a number")
            then = self._number(self._eval(b.args[1]))
            other = self._number(self._eval(b.args[2]))
            return np.where(cond[0], then, other)
        if op == "call":
            fn, payload = b.data
            if fn == "weighted_mean":
                kind, sel = payload
                if kind == "sections":
                    return self._wmean(
                        [(self.sections.get(name, self.nan), w, False) for name, w in sel]
                    )
                return self._wmean(
                    [(self.items.get(x.name, self.nan), x.weight, x.bonus) for x in sel]
                )
            if fn == "weighted_terms":
                terms = [self._number(self._eval(a)) for a in b.args]
                return self._wmean([(v, w, False) for v, w in zip(terms, payload, strict=True)])
            if fn == "critical_failed":
                failed = np.zeros(self.rows, dtype=bool)
                for name in payload:
                    failed |= self.items.get(name, self.nan) == 0
                return (failed,)
        raise _Unsupported(op)


def _failed_draws(
    rng: Any, raised: list[str], rates: Mapping[str, float], scores: Mapping[str, Any], draws: int
) -> tuple[list[str], int, Any] | None:
    """A visit's raised items that it failed, how many draws of its own it gets, and
    which of them pass in each draw; None when it failed none. Few failed items: every
    draw (their outcomes repeat, and are re-scored once); many: PER_VISIT draws of its
    own, which the group's draws pick at random. Both simulations draw through here,
    in the same order, so they give the same figures."""
    import numpy as np

    failed = [i for i in raised if scores.get(i) is not None and scores[i] < 1.0]
    if not failed:
        return None
    p = np.array([rates[i] for i in failed])
    own = draws if 2 ** len(failed) <= PER_VISIT else min(draws, PER_VISIT)
    return failed, own, rng.random((own, len(failed))) < p


def _simulate_columns(
    columns: _Columns,
    group: _Group,
    visits: list[Any],
    rates: Mapping[str, float],
    current: float,
    seed: int,
    draws: int,
) -> tuple[float, list[float], int]:
    """`simulate` with every re-scoring of the group in one `_Columns` call: the same
    draws of the generator in the same order, the same distinct outcomes per visit,
    the same sums, so the same figures."""
    import numpy as np

    rng = np.random.default_rng([seed % 2**63, _visit_hash(seed, group.key) & 0xFFFFFFFF])
    raised = sorted(i for i, p in rates.items() if p > 0.0)
    names = sorted({name for entry in visits for name in entry[4]})
    index = {name: j for j, name in enumerate(names)}
    blocks: list[Any] = []
    rows = 0
    plans: list[tuple[int, Any, Any, Any, int, Any]] = []
    for _, _, _, _fields, scores, _ in visits:
        drawn = _failed_draws(rng, raised, rates, scores, draws)
        if drawn is None:
            continue
        failed, own, passes = drawn
        pick = None if own == draws else rng.integers(0, own, size=draws)
        if len(failed) <= 62:
            code = passes @ (np.int64(1) << np.arange(len(failed), dtype=np.int64))
            _, first, inverse = np.unique(code, return_index=True, return_inverse=True)
        else:
            packed = np.packbits(passes, axis=1)
            _, first, inverse = np.unique(packed, axis=0, return_index=True, return_inverse=True)
        base = np.array([np.nan if scores.get(n) is None else scores[n] for n in names])
        block = np.repeat(base[None, :], len(first) + 1, axis=0)
        cols = np.array([index[i] for i in failed])
        lifted = block[1:, cols]
        lifted[passes[first]] = 1.0
        block[1:, cols] = lifted
        blocks.append(block)
        plans.append((rows, first, inverse.ravel(), passes, own, pick))
        rows += len(block)
    if not plans:
        return current, [current, current], len(visits)
    values = columns(names, np.vstack(blocks))
    total = np.zeros(draws)
    for start, first, inverse, passes, own, pick in plans:
        base_value = values[start]
        after = values[start + 1 : start + 1 + len(first)]
        if math.isnan(base_value):
            change = np.zeros(len(first))
        else:
            hit = passes[first].any(axis=1) & ~np.isnan(after)
            change = np.where(hit, after - base_value, 0.0)
        outcomes = change[inverse]
        total += outcomes if own == draws else outcomes[pick]
    if not total.any():  # nothing changes: exactly the current value
        return current, [current, current], len(visits)
    results = current + total / len(visits)
    lo, hi = np.percentile(results, [2.5, 97.5])
    return math.fsum(results) / draws, [float(lo), float(hi)], len(visits)


def simulate(
    evaluate: Evaluator,
    group: _Group,
    rates: Mapping[str, float],
    current: float,
    seed: int,
    draws: int = DRAWS,
) -> tuple[float, list[float], int]:
    """`current` plus the sample's mean change of the coefficient, over `draws` draws in
    which each failed score of a raised item passes with its rate: (mean, [2.5 %,
    97.5 %] of the draws, visits simulated)."""
    import numpy as np

    visits = sorted(group.sample, key=lambda e: (-e[0], e[1], e[2]))
    if not visits:
        return current, [current, current], 0
    columns = _Columns.of(evaluate)
    if columns is not None:
        return _simulate_columns(columns, group, visits, rates, current, seed, draws)
    rng = np.random.default_rng([seed % 2**63, _visit_hash(seed, group.key) & 0xFFFFFFFF])
    total = np.zeros(draws)
    raised = sorted(i for i, p in rates.items() if p > 0.0)
    for _, _, _, fields, scores, _ in visits:
        drawn = _failed_draws(rng, raised, rates, scores, draws)
        if drawn is None:
            continue
        failed, own, passes = drawn
        base = evaluate(fields, scores)
        memo: dict[bytes, float] = {}
        outcomes = np.zeros(own)
        for d in range(own):
            mask = passes[d]
            code = mask.tobytes()
            if code not in memo:
                if not mask.any() or base is None:
                    memo[code] = 0.0
                else:
                    changed = dict(scores)
                    for i, hit in zip(failed, mask, strict=True):
                        if hit:
                            changed[i] = 1.0
                    after = evaluate(fields, changed)
                    memo[code] = 0.0 if after is None else after - base
            outcomes[d] = memo[code]
        total += outcomes if own == draws else outcomes[rng.integers(0, own, size=draws)]
    if not total.any():  # nothing changes: exactly the current value
        return current, [current, current], len(visits)
    values = current + total / len(visits)
    lo, hi = np.percentile(values, [2.5, 97.5])
    return math.fsum(values) / draws, [float(lo), float(hi)], len(visits)


# ---- the plan ------------------------------------------------------------------------------


def parse_target(text: str) -> tuple[str, float | None]:
    """`visit=0.85` as ("visit", 0.85); a bare `visit` as ("visit", None): the
    standard's own target. `PlanError` when it is neither."""
    name, eq, value = text.partition("=")
    if not eq and name.strip() and "=" not in text:
        return name.strip(), None
    try:
        number = float(value)
    except ValueError:
        number = math.nan
    if not name.strip() or not math.isfinite(number):
        raise PlanError(f"--target {text!r}: write COEFFICIENT=VALUE, e.g. visit=0.85")
    return name.strip(), number


def _load_standard(standard: Any) -> CompiledStandard | None:
    if standard is None or not isinstance(standard, str | Path):
        return standard  # type: ignore[no-any-return]
    from ..api import load

    return load(str(standard))  # type: ignore[no-any-return]


def plan(
    results: str | Path | Sequence[str | Path],
    levers: str | Path | Levers,
    target: str | tuple[str, float],
    by: str = "point",
    budget: float | None = None,
    what_if: str | Path | Mapping[str, Any] | None = None,
    seed: int = 2026,
    standard: Any = None,
    draws: int = DRAWS,
    sample: int = SAMPLE,
) -> dict[str, Any]:
    """The plan (analytics.md, `sbm plan`) as a Python object.

    `results`: result files of `sbm score`; `levers`: a levers file (or `Levers`);
    `target`: "COEF=VALUE", "COEF" (the standard's own target) or (coef, value);
    `by`: point, region or network;
    `budget`: the most to spend per group; `what_if`: a plan to score instead of
    choosing one (a file or its JSON object, see docs/plan.md); `standard`: a
    `CompiledStandard`, a path or an installed id (default: the results' own).

    Raises `ResultsError` (bad results), `LeversError` (bad levers file), `PlanError`.
    """
    if by not in LEVELS:
        raise PlanError(f"--by {by!r}: choose point, region or network")
    if budget is not None and not (math.isfinite(budget) and budget >= 0):
        raise PlanError(f"--budget {budget}: a budget is a finite amount of 0 or more")
    coefficient, wanted = parse_target(target) if isinstance(target, str) else target
    paths = [results] if isinstance(results, str | Path) else list(results)
    std, groups = read_groups(paths, coefficient, by, _load_standard(standard), seed, sample)
    value = std.model.targets.get(coefficient) if wanted is None else wanted
    if value is None:
        raise PlanError(
            f"`{std.id}` sets no target for `{coefficient}`: write COEFFICIENT=VALUE, "
            f"e.g. {coefficient}=0.85"
        )
    lever_set = levers if isinstance(levers, Levers) else read_levers(levers, std.model)
    given = _what_if(what_if, lever_set) if what_if is not None else None
    evaluate = Evaluator(std, coefficient)
    out_groups = []
    for key in sorted(groups):
        out_groups.append(
            _plan_group(groups[key], lever_set, evaluate, value, budget, given, seed, draws)
        )
    unmatched = sorted(set(given["groups"]) - set(groups)) if given else []
    doc: dict[str, Any] = {
        "standard": std.id,
        "version": std.version,
        "target": {"coefficient": coefficient, "value": value},
        "by": by,
        "currency": lever_set.currency,
        "budget": budget,
        "mode": "what-if" if given else ("budget" if budget is not None else "cheapest"),
        "seed": seed,
        "draws": draws,
        "groups": out_groups,
        "total_cost": math.fsum(g["cost"] for g in out_groups),
        "reached": sum(1 for g in out_groups if g["reaches_target"]),
    }
    if unmatched:
        doc["unmatched"] = unmatched
    return doc


def _plan_group(
    group: _Group,
    lever_set: Levers,
    evaluate: Evaluator,
    target: float,
    budget: float | None,
    given: dict[str, Any] | None,
    seed: int,
    draws: int,
) -> dict[str, Any]:
    levers = list(lever_set.levers)
    current = group.coef.mean()
    base: dict[str, Any] = {"key": group.key, "n": group.coef.n, "current": current}
    if current is None:
        return {
            **base,
            "levers": [],
            "cost": 0.0,
            "expected": None,
            "simulated": None,
            "simulated_ci": [None, None],
            "n_simulated": 0,
            "reaches_target": False,
            "lifts": [],
            "note": message("note.plan.all_na"),
        }
    means = group.means()
    touched = sorted({i for lever in levers for i in lever.items if i in means})
    slope = slopes(evaluate, means, touched)
    costs = [lever.cost_for(len(group.specialists), len(group.points)) for lever in levers]
    problem = Problem(current, means, slope, levers, costs)
    notes: list[str] = []
    if evaluate({}, means) is None:
        notes.append(message("note.plan.not_on_means"))
    if given is not None:
        fractions = given["groups"].get(group.key, given["all"])
        choice = score(problem, [fractions.get(lever.id, 0.0) for lever in levers])
    else:
        choice, note = solve(problem, target, budget)
        if note:
            notes.append(note)
    rates = {
        i: (min(1.0, g / (1.0 - means[i])) if means[i] < 1.0 else 0.0)
        for i, g in choice.gains.items()
    }
    simulated, ci, n_sim = simulate(evaluate, group, rates, current, seed, draws)
    reaches = choice.expected >= target - TOL
    if ci[0] > choice.expected + TOL:
        notes.append(message("note.plan.simulated_more", value=f"{simulated:.4f}"))
    elif ci[1] < choice.expected - TOL:
        notes.append(message("note.plan.simulated_less", value=f"{simulated:.4f}"))
    if n_sim < group.coef.n:
        notes.append(message("note.plan.sample", sample=n_sim, visits=group.coef.n))
    return {
        **base,
        "levers": [
            {
                "id": lever.id,
                "title": lever.title,
                "kind": lever.kind,
                "fraction": f,
                "cost": f * c,
            }
            for lever, f, c in zip(levers, choice.fractions, costs, strict=True)
            if f > 0.0
        ],
        "cost": choice.cost,
        "expected": choice.expected,
        "simulated": simulated,
        "simulated_ci": ci,
        "n_simulated": n_sim,
        "reaches_target": reaches,
        "lifts": [
            {"item": i, "mean": means[i], "gain": g, "rate": rates[i]}
            for i, g in choice.gains.items()
        ],
        "note": "; ".join(notes) or None,
    }


def _what_if(source: str | Path | Mapping[str, Any], lever_set: Levers) -> dict[str, Any]:
    """A given plan: `{"levers": [...]}` for every group and/or `"groups"` (a list of
    {"key", "levers"}, as `sbm plan` writes, or an object key -> levers); a lever is
    its id (bought whole) or {"id", "fraction"}."""
    if isinstance(source, str | Path):
        try:
            doc = json.loads(Path(source).read_text(encoding="utf-8-sig"))
        except (OSError, UnicodeDecodeError) as err:
            raise PlanError(f"cannot read {source}: {err}") from None
        except ValueError as err:
            raise PlanError(f"{source} is not JSON: {err}") from None
        where = str(source)
    else:
        doc, where = source, "the plan"
    if not isinstance(doc, Mapping) or not ({"levers", "groups"} & set(doc)):
        raise PlanError(f"{where}: a plan is an object with `levers` (every group) or `groups`")
    known = lever_set.by_id()
    out: dict[str, Any] = {
        "all": _lever_fractions(doc.get("levers") or [], known, where),
        "groups": {},
    }
    groups = doc.get("groups") or {}
    if isinstance(groups, Mapping):
        pairs = list(groups.items())
    elif isinstance(groups, list) and all(isinstance(g, Mapping) and "key" in g for g in groups):
        pairs = [(g["key"], g.get("levers") or []) for g in groups]
    else:
        raise PlanError(
            f"{where}: `groups` is an object key -> levers, or a list of {{key, levers}}"
        )
    for key, entries in pairs:
        out["groups"][str(key)] = _lever_fractions(entries, known, f"{where}, group {key}")
    return out


def _lever_fractions(entries: Any, known: dict[str, Lever], where: str) -> dict[str, float]:
    from ..diagnostics import did_you_mean

    if not isinstance(entries, list):
        raise PlanError(f"{where}: `levers` is a list of lever ids or {{id, fraction}}")
    out: dict[str, float] = {}
    for entry in entries:
        ident, fraction = (entry, 1.0) if isinstance(entry, str) else (None, None)
        if isinstance(entry, Mapping):
            ident, fraction = entry.get("id"), entry.get("fraction", 1.0)
        if not isinstance(ident, str):
            raise PlanError(f"{where}: {entry!r} is not a lever id or {{id, fraction}}")
        if ident not in known:
            near = did_you_mean(ident, known)
            hint = f"; did you mean `{near}`?" if near else ""
            raise PlanError(f"{where}: no lever `{ident}` in the levers file{hint}")
        if (
            not isinstance(fraction, int | float)
            or isinstance(fraction, bool)
            or not 0.0 <= fraction <= 1.0
        ):
            raise PlanError(f"{where}: the fraction of `{ident}` must be between 0 and 1")
        if not known[ident].divisible and fraction not in (0, 1):
            raise PlanError(
                f"{where}: `{ident}` is not divisible: buy it whole (fraction 1) or not at all"
            )
        out[ident] = out.get(ident, 0.0) + float(fraction)
        if out[ident] > 1.0 + TOL:
            raise PlanError(f"{where}: `{ident}` is bought more than once")
    return out
