"""`drivers`: what moves the client's opinion (analytics.md, "sbm drivers").

An outcome (a coefficient of the results that the standard did not compute from the
predictors, or a column of an outcomes table joined on a visit field) is explained
by predictors (items, sections or tags) and R² is split between them: Johnson's
relative weights, the exact Shapley/LMG decomposition, or plain squared correlations.

Memory is flat in visits. Relative weights and Shapley depend only on the
correlation matrix of [X, y], so one pass keeps n, Σz and Σzzᵀ of the complete cases
(shifted by the first batch's means, for precision). The interval of each importance
comes from the Poisson bootstrap: every visit gets an independent Poisson(1) weight
in each replicate and each replicate keeps its own weighted sums. The weights are a
hash of (seed, replicate, visit_id), so a visit weighs the same whatever the order of
the rows or the files: every figure, intervals included, is independent of row order.
"""

from __future__ import annotations

import difflib
import hashlib
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from ..messages import message
from ..result_files import CheckedResults, ResultsError
from . import stats
from .stats import SHAPLEY_MAX_PREDICTORS

if TYPE_CHECKING:
    from ..model import Bound, StandardModel
    from ..standard import CompiledStandard

Floats = npt.NDArray[np.float64]

METHODS = ("relative_weights", "shapley", "correlation")
PREDICTORS = ("items", "sections", "tags")
#: Bootstrap replicates behind ci_low / ci_high.
REPLICATES = 200
#: Confidence of the bootstrap interval (percentile method).
CONFIDENCE = 0.95
#: Visits converted to numpy at a time (fewer when there are many predictors).
BATCH = 4096
#: Predictors applied at fewer than this share of the visits with an outcome are left
#: out: N/A at many visits, they would leave few complete cases.
MIN_APPLIED = 0.8
#: Below this many complete visits no importance is computed.
MIN_VISITS = 3

#: Importance–performance quadrants (Martilla & James 1977), crosshairs at the means.
QUADRANTS = {
    (True, False): "concentrate here",
    (True, True): "keep up the good work",
    (False, False): "low priority",
    (False, True): "possible overkill",
}


class DriversError(ResultsError):
    """The drivers cannot be computed as asked; the message says why."""


# -- importances from a correlation matrix -------------------------------------------------------


def _varies(cov: Floats, raw_sq: Floats) -> npt.NDArray[np.bool_]:
    """Which columns vary, judged as `stats._regression` judges them."""
    sd = np.sqrt(np.clip(np.diag(cov), 0.0, None))
    return np.asarray(sd > 1e-12 * (np.sqrt(np.clip(raw_sq, 0.0, None)) + 1e-300))


def importances_from_cov(
    cov: Floats, raw_sq: Floats, method: str = "relative_weights"
) -> tuple[Floats, float, Floats]:
    """(importances, R², correlations with y) from the centred cross-products `cov`
    of [X, y] (outcome last) and the raw sums of squares `raw_sq` of each column.

    The same figures `stats.relative_weights` / `stats.shapley_r2` give on the rows
    behind `cov`: a constant predictor gets 0, collinear ones share through the
    pseudo-inverse; all NaN when y is constant. `method` "correlation" gives each
    predictor's squared correlation with y (they do not sum to R² when predictors
    correlate).
    """
    cov = np.asarray(cov, dtype=np.float64)
    p = cov.shape[0] - 1
    varies = _varies(cov, np.asarray(raw_sq, dtype=np.float64))
    out = np.zeros(p)
    corr = np.full(p, np.nan)
    if not varies[p]:
        return np.full(p, np.nan), math.nan, corr
    keep = np.flatnonzero(varies[:p])
    sd = np.sqrt(np.clip(np.diag(cov), 0.0, None))
    idx = np.append(keep, p)
    r = cov[np.ix_(idx, idx)] / np.outer(sd[idx], sd[idx])
    rxx, rxy = r[:-1, :-1], r[:-1, -1]
    corr[keep] = rxy
    if keep.size == 0:
        return out, 0.0, corr
    r2 = float(rxy @ np.linalg.pinv(rxx, rcond=1e-10, hermitian=True) @ rxy)
    if method == "relative_weights":
        out[keep] = stats.relative_weights_from_correlations(rxx, rxy)
    elif method == "shapley":
        out[keep] = stats.shapley_from_correlations(rxx, rxy)
    elif method == "correlation":
        out[keep] = rxy**2
    else:
        raise ValueError(f"unknown method {method!r}; choose one of {', '.join(METHODS)}")
    return out, r2, corr


# -- streaming sums ------------------------------------------------------------------------------


_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
#: P(Poisson(1) ≤ k), k = 0…19: weights are the inverse CDF of a uniform
_POISSON_CDF = np.cumsum([math.exp(-1.0) / math.factorial(k) for k in range(20)])


def visit_hash(visit_id: Any) -> int:
    """A 64-bit hash of a visit's id (the same in every run and on every machine)."""
    digest = hashlib.blake2b(str(visit_id).encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "little")


def poisson_weights(hashes: npt.NDArray[np.uint64], replicates: int, seed: int) -> Floats:
    """(replicates × visits) Poisson(1) weights, each a function of (seed, replicate,
    visit hash) only (splitmix64, then the inverse CDF)."""
    with np.errstate(over="ignore"):
        salt = np.uint64(seed % (1 << 64)) * _M2
        z = hashes[None, :] ^ salt
        z = z + (np.arange(1, replicates + 1, dtype=np.uint64)[:, None] * _GOLDEN)
        z = (z ^ (z >> np.uint64(30))) * _M1
        z = (z ^ (z >> np.uint64(27))) * _M2
        z = z ^ (z >> np.uint64(31))
    u = (z >> np.uint64(11)).astype(np.float64) * 2.0**-53
    return np.searchsorted(_POISSON_CDF, u, side="right").astype(np.float64)


class CrossSums:
    """n, Σz, Σzzᵀ of rows z (shifted by a fixed centre), and the same weighted per
    bootstrap replicate: enough for every correlation of the columns."""

    def __init__(self, k: int, replicates: int, seed: int) -> None:
        self.k, self.replicates, self.seed = k, replicates, seed
        self.centre: Floats | None = None
        self.n = 0
        self.s1 = np.zeros(k)
        self.s2 = np.zeros((k, k))
        self.wn = np.zeros(replicates)
        self.ws1 = np.zeros((replicates, k))
        self.ws2 = np.zeros((replicates, k, k))

    def add(self, z: Floats, hashes: npt.NDArray[np.uint64]) -> None:
        if not len(z):
            return
        if self.centre is None:
            self.centre = z.mean(axis=0)
        zc = z - self.centre
        self.n += len(z)
        self.s1 += zc.sum(axis=0)
        self.s2 += zc.T @ zc
        if self.replicates:
            w = poisson_weights(hashes, self.replicates, self.seed)
            self.wn += w.sum(axis=1)
            self.ws1 += w @ zc
            outer = (zc[:, :, None] * zc[:, None, :]).reshape(len(z), self.k * self.k)
            self.ws2 += (w @ outer).reshape(self.replicates, self.k, self.k)

    def moments(self, n: float, s1: Floats, s2: Floats) -> tuple[Floats, Floats, Floats]:
        """(means, centred cross-products, raw sums of squares) from shifted sums."""
        centre = self.centre if self.centre is not None else np.zeros(self.k)
        mean_shift = s1 / n
        cov = s2 - np.outer(s1, s1) / n
        raw_sq = np.diag(s2) + 2 * centre * s1 + n * centre**2
        return centre + mean_shift, cov, raw_sq


# -- predictors ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Predictor:
    name: str
    title: str
    items: frozenset[str]  # the items its value is computed from
    binary: bool  # a yes/no item: `impact` is defined
    target: float | None


def _binary(item: Any) -> bool:
    scale = item.scale
    return bool(
        item.kind == "scale"
        and scale is not None
        and {e.score for e in scale.entries} <= {0.0, 1.0}
        and len({e.score for e in scale.entries}) == 2
    )


def predictors_of(model: StandardModel, kind: str) -> list[Predictor]:
    """The candidate predictors of `kind`, in the standard's order."""
    targets = model.targets
    if kind == "items":
        out = []
        for item in model.items:
            if not item.scored or item.bonus:
                continue
            out.append(
                Predictor(
                    item.name,
                    item.question,
                    frozenset([item.name]),
                    _binary(item),
                    targets.get(item.name),
                )
            )
        return out
    if kind == "sections":
        return [
            Predictor(s.name, s.title or s.name, frozenset(s.items), False, targets.get(s.name))
            for s in model.sections
        ]
    if kind == "tags":
        tags: dict[str, set[str]] = {}
        for item in model.items:
            if item.scored and not item.bonus:
                for tag in item.tags:
                    tags.setdefault(tag, set()).add(item.name)
        return [
            Predictor(t, t, frozenset(names), False, targets.get(t)) for t, names in tags.items()
        ]
    raise DriversError(f"unknown predictors {kind!r}; choose one of {', '.join(PREDICTORS)}")


def items_behind(model: StandardModel, coefficient: str) -> set[str]:
    """Every item a coefficient is computed from, through coefficients and sections
    (its `expr`, walked transitively)."""
    coefs = {c.name: c for c in model.coefficients}
    sections = {s.name: s for s in model.sections}
    item_names = {i.name for i in model.items}
    out: set[str] = set()
    seen: set[str] = set()

    def data(value: Any) -> None:
        if hasattr(value, "name") and hasattr(value, "weight") and hasattr(value, "bonus"):
            out.add(value.name)  # SelectedItem
        elif isinstance(value, str):
            if value in item_names:
                out.add(value)
            elif value in sections:
                out.update(sections[value].items)
        elif isinstance(value, tuple | list | frozenset):
            for v in value:
                data(v)

    def walk(expr: Bound) -> None:
        for node in expr.walk():
            if node.op in ("item", "answer") and node.data in item_names:
                out.add(node.data)
            elif node.op == "section" and node.data in sections:
                out.update(sections[node.data].items)
            elif node.op == "coef" and node.data in coefs:
                if node.data not in seen:
                    seen.add(node.data)
                    walk(coefs[node.data].expr)
            elif node.op == "call":
                data(node.data)

    seen.add(coefficient)
    walk(coefs[coefficient].expr)
    return out


def did_you_mean(name: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(name, list(choices), n=3, cutoff=0.5)
    return f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""


# -- outcomes table ------------------------------------------------------------------------------


def read_outcomes(path: str | Path, on: str, outcome: str) -> dict[str, float | None]:
    """{key: outcome} from a CSV, JSONL, XLSX or Parquet table (`formats.read_visits`)."""
    from ..formats import read_visits
    from ..io import InputError

    table: dict[str, float | None] = {}
    columns: set[str] = set()
    try:
        for rec in read_visits(path, visit_fields=[on]):
            if rec.record is None:
                raise DriversError(f"{rec.source}: {rec.error}")
            row = dict(rec.record.get("answers") or {})
            row.update({k: v for k, v in rec.record.items() if k != "answers"})
            columns.update(row)
            if on not in row:
                raise DriversError(
                    f"{rec.source}: no column {on!r} to join on{did_you_mean(on, row)}"
                )
            key = _key(row[on])
            value = _number(row.get(outcome), rec.source, outcome)  # an empty cell: absent
            if key in table and table[key] != value:
                raise DriversError(
                    f"{rec.source}: a second {outcome!r} for {on} {key!r} "
                    f"({table[key]} and {value}); the table needs one row per {on}"
                )
            table[key] = value
    except InputError as err:
        raise DriversError(str(err)) from None
    if not table:
        raise DriversError(f"{path} has no rows")
    if outcome not in columns:
        raise DriversError(
            f"{path} has no column {outcome!r}{did_you_mean(outcome, columns)} "
            f"(its columns: {', '.join(sorted(columns))})"
        )
    return table


def _key(value: Any) -> str:
    from ..io.records import field_text

    return value if isinstance(value, str) else str(field_text(value))


def _number(value: Any, source: str, column: str) -> float | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, int | float):
        return float(value) if math.isfinite(value) else None
    try:
        return float(str(value).strip().replace(",", ".").replace("\u00a0", "").replace(" ", ""))
    except ValueError:
        raise DriversError(f"{source}: {column} is {value!r}, not a number") from None


# -- the analysis --------------------------------------------------------------------------------


class DriverTally:
    """One pass over scored visits: the sums behind every figure of `drivers`."""

    def __init__(
        self,
        model: StandardModel,
        predictors: list[Predictor],
        kind: str,
        outcome: str,
        table: Mapping[str, float | None] | None,
        on: str | None,
        replicates: int,
        seed: int,
    ) -> None:
        self.m = model
        self.preds = predictors
        self.kind = kind
        self.outcome = outcome
        self.table = table
        self.on = on
        self.visits = 0
        self.no_outcome = 0
        self.incomplete = 0
        self.unmatched: set[str] = set()
        self.with_outcome = 0
        self.matched: set[str] = set()  # join keys with visits: at most the table's rows
        self.applied = np.zeros(len(predictors), dtype=np.int64)
        k = len(predictors) + 1
        self.sums = CrossSums(k, replicates, seed)
        self.batch_rows = max(64, min(BATCH, 4_000_000 // (k * k)))
        if kind == "tags":
            names = sorted({n for p in predictors for n in p.items})
            weights = {i.name: i.weight for i in model.items}
            self.tag_items = names
            self.tag_matrix = np.array(
                [[weights[n] if n in p.items else 0.0 for p in predictors] for n in names]
            ).reshape(len(names), len(predictors))

    def add_records(self, records: Sequence[Mapping[str, Any]]) -> None:
        for start in range(0, len(records), self.batch_rows):
            self._add(records[start : start + self.batch_rows])

    def matrix(self, records: Sequence[Mapping[str, Any]]) -> tuple[Floats, Floats]:
        """(predictors, outcome) of a batch of records as numpy columns, NaN for N/A."""
        m = len(records)
        y = self._outcomes(records)
        if self.kind == "tags":
            maps = [r.get("items") or {} for r in records]
            scores = np.array(
                [[x.get(n) for n in self.tag_items] for x in maps], dtype=np.float64
            ).reshape(m, len(self.tag_items))
            applied = ~np.isnan(scores)
            with np.errstate(invalid="ignore", divide="ignore"):
                x = (np.where(applied, scores, 0.0) @ self.tag_matrix) / (
                    applied.astype(np.float64) @ self.tag_matrix
                )
        else:
            field = "items" if self.kind == "items" else "sections"
            maps = [r.get(field) or {} for r in records]
            names = [p.name for p in self.preds]
            x = np.array([[v.get(n) for n in names] for v in maps], dtype=np.float64).reshape(
                m, len(names)
            )
        return x, y

    def count(self, records: Sequence[Mapping[str, Any]]) -> None:
        """First pass: how often each predictor applies where the outcome is known."""
        if not records:
            return
        x, y = self.matrix(records)
        has_y = ~np.isnan(y)
        self.with_outcome += int(has_y.sum())
        self.applied += (~np.isnan(x[has_y])).sum(axis=0)

    def _add(self, records: Sequence[Mapping[str, Any]]) -> None:
        m = len(records)
        if not m:
            return
        self.visits += m
        x, y = self.matrix(records)
        has_y = ~np.isnan(y)
        complete = has_y & ~np.isnan(x).any(axis=1)
        self.no_outcome += int((~has_y).sum())
        self.incomplete += int((has_y & ~complete).sum())
        if not complete.any():
            return
        z = np.column_stack([x[complete], y[complete]])
        rows = [r for r, keep in zip(records, complete.tolist(), strict=True) if keep]
        first = self.visits - m
        hashes = np.fromiter(
            (
                visit_hash(r.get("visit_id") if r.get("visit_id") is not None else f"#{first + i}")
                for i, r in enumerate(rows)
            ),
            dtype=np.uint64,
            count=len(rows),
        )
        self.sums.add(z, hashes)

    def _outcomes(self, records: Sequence[Mapping[str, Any]]) -> Floats:
        if self.table is None:
            values = [(r.get("coefficients") or {}).get(self.outcome) for r in records]
        else:
            values = []
            for r in records:
                key = r.get(str(self.on))
                key = None if key is None else _key(key)
                if key is None or key not in self.table:
                    if key is not None and len(self.unmatched) < 1000:
                        self.unmatched.add(key)
                    values.append(None)
                else:
                    if self.table[key] is not None:
                        self.matched.add(key)
                    values.append(self.table[key])
        return np.array(values, dtype=np.float64).reshape(len(records))


def drivers(
    paths: Sequence[str | Path] | str | Path,
    outcome: str,
    *,
    outcomes: str | Path | None = None,
    on: str | None = None,
    predictors: str = "items",
    method: str = "relative_weights",
    seed: int = 2026,
    replicates: int = REPLICATES,
    min_applied: float = MIN_APPLIED,
    standard: CompiledStandard | None = None,
) -> dict[str, Any]:
    """What moves `outcome` (analytics.md, "sbm drivers").

    Two passes over the results, memory flat in visits: the first counts where each
    predictor applies, the second keeps the sums of the complete cases over the
    predictors that apply at `min_applied` of the visits with an outcome or more.

    Returns `{"outcome", "method", "r2", "n", "drivers": [...]}` and more (see
    docs/drivers_diagnose.md). Raises `DriversError` (a `ResultsError`) when the
    question cannot be answered as asked, `ResultsError` on unusable results.
    """
    if isinstance(paths, str | Path):
        paths = [paths]
    if method not in METHODS:
        raise DriversError(f"unknown method {method!r}; choose one of {', '.join(METHODS)}")
    if predictors not in PREDICTORS:
        raise DriversError(f"unknown predictors {predictors!r}; choose {', '.join(PREDICTORS)}")
    if (outcomes is None) != (on is None):
        raise DriversError("--outcomes FILE and --on FIELD go together")
    table = read_outcomes(outcomes, str(on), outcome) if outcomes is not None else None
    results = CheckedResults(paths, standard, done="analysed")
    first: DriverTally | None = None
    notes: list[str] = []
    left_out: list[dict[str, Any]] = []
    batch: list[dict[str, Any]] = []
    for _, record in results:
        if first is None:
            assert results.standard is not None
            model = results.standard.model
            preds = predictors_of(model, predictors)
            preds, dropped, why = _check_outcome(model, preds, predictors, outcome, table)
            if why:
                notes.append(why)
            left_out += [{"predictor": n, "why": "computed into the outcome"} for n in dropped]
            if not preds:
                raise DriversError(f"no {predictors} to explain {outcome!r} with")
            first = DriverTally(model, preds, predictors, outcome, table, on, 0, seed)
        batch.append(record)
        if len(batch) >= first.batch_rows:
            first.count(batch)
            batch = []
    assert first is not None and results.standard is not None
    first.count(batch)
    std = results.standard
    chosen: list[Predictor] = []
    for pred, k in zip(first.preds, first.applied.tolist(), strict=True):
        rate = k / first.with_outcome if first.with_outcome else 0.0
        if first.with_outcome and rate >= min_applied:
            chosen.append(pred)
        else:
            left_out.append(
                {"predictor": pred.name, "why": "N/A at too many visits", "applied": rate}
            )
    if len(chosen) < len(first.preds):
        notes.append(
            f"{len(first.preds) - len(chosen)} {predictors} applied at fewer than "
            f"{min_applied:.0%} of the visits with an outcome are left out (see left_out), "
            "so that enough visits are complete"
            + ("; --predictors sections keeps them in" if predictors == "items" else "")
        )
    if not chosen:
        raise DriversError(
            f"no {predictors} apply at {min_applied:.0%} of the visits with {outcome!r} "
            f"({first.with_outcome} visits have it); try --predictors sections"
        )
    if method == "shapley" and len(chosen) > SHAPLEY_MAX_PREDICTORS:
        raise DriversError(
            f"exact Shapley takes at most {SHAPLEY_MAX_PREDICTORS} predictors (it is "
            f"computed over all 2^p subsets), and there are {len(chosen)} {predictors}; "
            "use --predictors sections (or tags), or --method relative_weights, which "
            "approximates Shapley closely for any number of predictors"
        )
    tally = DriverTally(std.model, chosen, predictors, outcome, table, on, replicates, seed)
    batch = []
    for _, record in CheckedResults(paths, std, done="analysed"):
        batch.append(record)
        if len(batch) >= tally.batch_rows:
            tally.add_records(batch)
            batch = []
    tally.add_records(batch)
    return _report(tally, std, method, seed, replicates, notes, left_out)


def _check_outcome(
    model: StandardModel,
    preds: list[Predictor],
    kind: str,
    outcome: str,
    table: Mapping[str, float | None] | None,
) -> tuple[list[Predictor], list[str], str | None]:
    """The predictors to use, those dropped, and a note; refuses an outcome the
    standard computes from two or more of the predictors."""
    if table is not None:
        return preds, [], None
    coefs = [c.name for c in model.coefficients]
    if outcome not in coefs:
        raise DriversError(
            f"the standard has no coefficient {outcome!r}{did_you_mean(outcome, coefs)} "
            f"(its coefficients: {', '.join(coefs)}); an external measure (NPS, sales) "
            "comes from --outcomes FILE --on FIELD"
        )
    behind = items_behind(model, outcome)
    overlap = [p for p in preds if p.items & behind]
    if len(overlap) >= 2:
        shown = ", ".join(p.name for p in overlap[:8]) + (" …" if len(overlap) > 8 else "")
        raise DriversError(
            f"the standard computes {outcome!r} from {len(overlap)} of these {kind} "
            f"({shown}): regressing a standard's own total on its own {kind} only returns "
            "the weights the standard gave them, not what moves the client. Explain an "
            "outcome the standard does not compute from them: the client's subjective "
            "score (a coefficient over the client's own answers), or an external measure "
            "with --outcomes FILE --on point"
        )
    if overlap:
        only = overlap[0]
        return (
            [p for p in preds if p is not only],
            [only.name],
            f"{only.name!r} is left out of the predictors: the standard computes "
            f"{outcome!r} from it",
        )
    return preds, [], None


def _report(
    tally: DriverTally,
    std: CompiledStandard,
    method: str,
    seed: int,
    replicates: int,
    notes: list[str],
    left_out: list[dict[str, Any]],
) -> dict[str, Any]:
    sums = tally.sums
    n = sums.n
    preds = tally.preds
    p = len(preds)
    if tally.table is not None and tally.unmatched:
        notes.append(
            f"{len(tally.unmatched)}{'+' if len(tally.unmatched) >= 1000 else ''} "
            f"{tally.on} values of the results are not in the outcomes table "
            f"(e.g. {', '.join(sorted(tally.unmatched)[:5])}); their visits are not used"
        )
    if tally.table is not None:
        notes.append(
            f"the outcome is one figure per {tally.on} ({len(tally.matched)} of them): it "
            f"varies only between {tally.on} values, so the evidence is {len(tally.matched)} "
            f"{tally.on} values, not {n} visits; the intervals (a bootstrap over visits) "
            "are too narrow for that, read them as a lower bound of the uncertainty"
        )
    imp = np.full(p, np.nan)
    corr = np.full(p, np.nan)
    r2 = math.nan
    means = np.full(p + 1, np.nan)
    cov = np.full((p + 1, p + 1), np.nan)
    if n >= MIN_VISITS:
        means, cov, raw_sq = sums.moments(n, sums.s1, sums.s2)
        imp, r2, corr = importances_from_cov(cov, raw_sq, method)
        if math.isnan(r2):
            notes.append(message("note.drivers.constant"))
    else:
        notes.append(message("note.drivers.too_few", least=MIN_VISITS))
    low, high = (
        _intervals(sums, method, p)
        if n >= MIN_VISITS and not math.isnan(r2)
        else (
            np.full(p, np.nan),
            np.full(p, np.nan),
        )
    )
    rows: list[dict[str, Any]] = []
    for j, pred in enumerate(preds):
        perf = _f(means[j])
        target = pred.target
        gap = None if perf is None else (target if target is not None else 1.0) - perf
        row: dict[str, Any] = {
            "predictor": pred.name,
            "title": pred.title,
            "importance": _f(imp[j]),
            "share": _f(imp[j] / r2) if r2 and not math.isnan(r2) and r2 > 0 else None,
            "sign": None if math.isnan(corr[j]) else int(np.sign(corr[j])),
            "correlation": _f(corr[j]),
            "performance": perf,
            "target": target,
            "gap": gap,
            "quadrant": None,
            "ci_low": _f(low[j]),
            "ci_high": _f(high[j]),
        }
        if pred.binary:
            row.update(_impact(n, means, cov, j, p))
        rows.append(row)
    _quadrants(rows)
    rows.sort(key=lambda r: -(r["importance"] if r["importance"] is not None else -1.0))
    dropped = tally.no_outcome + tally.incomplete
    if dropped:
        notes.append(
            message(
                "note.drivers.complete_cases",
                n=n,
                visits=tally.visits,
                no_outcome=tally.no_outcome,
                incomplete=tally.incomplete,
            )
        )
    if n and n < 30:
        notes.append(message("note.drivers.rough", n=n))
    return {
        "outcome": tally.outcome,
        "method": method,
        "r2": None if math.isnan(r2) else r2,
        "n": n,
        "standard": std.id,
        "version": std.version,
        "predictors": tally.kind,
        "visits": tally.visits,
        "dropped": {"no_outcome": tally.no_outcome, "predictor_na": tally.incomplete},
        "groups": len(tally.matched) if tally.table is not None else None,
        "bootstrap": {
            "replicates": replicates,
            "seed": seed,
            "confidence": CONFIDENCE,
            "method": "Poisson bootstrap over visits, percentile interval",
        },
        "left_out": left_out,
        "notes": notes,
        "drivers": rows,
    }


def _f(x: Any) -> float | None:
    x = float(x)
    return x if math.isfinite(x) else None


def _impact(n: int, means: Floats, cov: Floats, j: int, p: int) -> dict[str, Any]:
    """Mean outcome when a yes/no item passed − when it failed, from the sums: with x
    in {0, 1}, n1 = Σx, Σxy and Σy give both means."""
    mx, my = means[j], means[p]
    n1 = round(float(mx) * n)
    n0 = n - n1
    if n1 == 0 or n0 == 0:
        return {"impact": None, "n_passed": n1, "n_failed": n0}
    sxy = cov[j, p] + n * mx * my  # Σ x y
    mean1 = sxy / n1
    mean0 = (n * my - sxy) / n0
    return {"impact": _f(mean1 - mean0), "n_passed": n1, "n_failed": n0}


def _quadrants(rows: list[dict[str, Any]]) -> None:
    known = [r for r in rows if r["importance"] is not None and r["performance"] is not None]
    if not known:
        return
    imp_mean = sum(r["importance"] for r in known) / len(known)
    perf_mean = sum(r["performance"] for r in known) / len(known)
    for r in known:
        r["quadrant"] = QUADRANTS[(r["importance"] >= imp_mean, r["performance"] >= perf_mean)]


def _intervals(sums: CrossSums, method: str, p: int) -> tuple[Floats, Floats]:
    if not sums.replicates:
        return np.full(p, np.nan), np.full(p, np.nan)
    draws = []
    for b in range(sums.replicates):
        wn = sums.wn[b]
        if wn < MIN_VISITS:
            continue
        _, cov, raw_sq = sums.moments(wn, sums.ws1[b], sums.ws2[b])
        imp, r2, _ = importances_from_cov(cov, raw_sq, method)
        if not math.isnan(r2):
            draws.append(imp)
    if not draws:
        return np.full(p, np.nan), np.full(p, np.nan)
    arr = np.array(draws)
    tail = (1 - CONFIDENCE) / 2 * 100
    return np.percentile(arr, tail, axis=0), np.percentile(arr, 100 - tail, axis=0)
