"""`calibrate`: do the evaluators agree? (analytics.md, "sbm calibrate")

Several evaluators (the `shopper` of each result) score the same case (the same
`visit_id`, or another `case_field`): a calibration visit, or the "double control"
of SBM programmes. From their scores this module says, with the number of cases
behind every figure:

- per item: how often they agree (`p_o`), Cohen's kappa (two evaluators in all) or
  Fleiss' kappa (more), Gwet's AC1, PABAK and Krippendorff's alpha, and a verdict
  from alpha (≥ 0.8 reliable, ≥ 0.667 tentative, else unreliable). Items are rated
  by their score in the results (the scale's scores are the categories); alpha is
  nominal for yes/no scales (two labels), ordinal for graded scales and interval
  for number items. Show all of them: on a skewed item (95 % "yes") kappa and
  alpha collapse although evaluators agree, AC1 and PABAK do not;
- per coefficient: ICC(2,1) (absolute agreement; cases scored by every evaluator)
  and interval alpha (any cases, missing scores allowed);
- per evaluator and coefficient: the mean deviation of their score from the
  consensus (the mean of the other evaluators on the same case) or from a
  reference evaluator, with a 95 % t interval: `lenient` when the interval lies
  above 0, `severe` below, `consistent` otherwise.

What a figure cannot say, a `note` says: fewer than two cases (`"n < 2"`), too few
cases for a verdict, a statistic that is 0/0 (every rating the same).

Scores are gathered into a cases × evaluators × items array, cases and evaluators
in sorted order, so the figures do not depend on the order of rows or files, and
the statistics run over whole columns (numpy), not over single ratings.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import numpy as np
import numpy.typing as npt

from ..messages import message
from ..result_files import CheckedResults, ResultsError
from ..rollup import Rollup
from . import stats

if TYPE_CHECKING:
    from ..model import ItemModel, StandardModel
    from ..standard import CompiledStandard

__all__ = [
    "MIN_UNITS_FOR_VERDICT",
    "RELIABLE",
    "TENTATIVE",
    "CalibrationError",
    "Ratings",
    "calibrate",
    "calibrate_files",
    "read_ratings",
    "verdict",
]

#: Krippendorff's thresholds: alpha ≥ 0.8 reliable, ≥ 0.667 tentative, below unreliable.
RELIABLE, TENTATIVE = 0.8, 0.667
#: Fewer cases than this get their statistics but no verdict (a note says so).
MIN_UNITS_FOR_VERDICT = 10
#: A number item with more distinct scores than this gets alpha only (no categories).
MAX_CATEGORIES = 20
#: Deviations within this of 0 are no deviation (like every comparison in the engine).
TOLERANCE = 1e-9


class CalibrationError(ResultsError):
    """Results that cannot be calibrated as given; the message says why."""


def verdict(alpha: float | None) -> str | None:
    """`reliable` (alpha ≥ 0.8), `tentative` (≥ 0.667), `unreliable`, or None."""
    if alpha is None or math.isnan(alpha):
        return None
    if alpha >= RELIABLE - TOLERANCE:
        return "reliable"
    if alpha >= TENTATIVE - TOLERANCE:
        return "tentative"
    return "unreliable"


def _key(value: Any) -> str:
    """A case or evaluator as text, so that 17 (from a CSV) and "17" (from JSONL) meet."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, int | float):
        return repr(value)
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _num(x: float | None) -> float | None:
    """A figure for the output: a plain float, None when it is not finite."""
    if x is None:
        return None
    value = float(x)
    return value if math.isfinite(value) else None


class Ratings:
    """The scores of every evaluator on every case, gathered for `report`.

    `add` takes scored visits one by one (in the nested contract shape); with
    `check`, each is first checked against the standard as `sbm rollup` checks it
    (records read by `CheckedResults` already are).
    """

    def __init__(
        self, model: StandardModel, *, case_field: str = "visit_id", check: bool = True
    ) -> None:
        self.m = model
        self.case_field = case_field
        self.items: list[ItemModel] = [i for i in model.items if i.scored]
        self.coef_names = [c.name for c in model.coefficients]
        self._item_names = [i.name for i in self.items]
        self._checker = Rollup(model, "network") if check else None
        self._cases: dict[str, int] = {}
        self._shoppers: dict[str, int] = {}
        self._case_of: list[int] = []
        self._shopper_of: list[int] = []
        self._item_rows = _Rows(len(self.items))
        self._coef_rows = _Rows(len(self.coef_names))
        self._seen: dict[tuple[int, int], str] = {}
        self._problems: dict[str, tuple[str, int]] = {}
        self._refused = 0

    def add(self, record: Mapping[str, Any], source: str = "") -> None:
        """Add one scored visit. Raises `CalibrationError` when an evaluator scored the
        same case twice; records without `shopper` or a case are refused at `report`."""
        if self._checker is not None:
            problems = self._checker.problems(record)
            if problems:
                self._refuse(source, "; ".join(problems))
                return
        shopper, case = record.get("shopper"), record.get(self.case_field)
        if _blank(shopper):
            self._refuse(
                source,
                "no `shopper` (the evaluator who scored the visit): score the visits with "
                "their `shopper` field, so that each result says who scored it",
            )
            return
        if _blank(case):
            self._refuse(
                source, f"no `{self.case_field}` (the case the evaluators scored; see --case-field)"
            )
            return
        s = self._shoppers.setdefault(_key(shopper), len(self._shoppers))
        c = self._cases.setdefault(_key(case), len(self._cases))
        first = self._seen.get((c, s))
        if first is not None:
            raise CalibrationError(
                f"evaluator `{_key(shopper)}` scored case `{_key(case)}` twice ({first} and "
                f"{source}); keep one result per evaluator and case"
            )
        self._seen[c, s] = source
        items = record.get("items") or {}
        coefs = record.get("coefficients") or {}
        self._item_rows.add([items.get(n) for n in self._item_names])
        self._coef_rows.add([coefs.get(n) for n in self.coef_names])
        self._case_of.append(c)
        self._shopper_of.append(s)

    def _refuse(self, source: str, problem: str) -> None:
        self._refused += 1
        where, n = self._problems.get(problem, (source, 0))
        if n or len(self._problems) < 10:
            self._problems[problem] = (where, n + 1)

    @property
    def shoppers(self) -> list[str]:
        """The evaluators, sorted."""
        return sorted(self._shoppers)

    # -- the report ---------------------------------------------------------------------------

    def report(self, reference: str | None = None) -> dict[str, Any]:
        """The calibration (analytics.md): `{"standard", "version", "case_field",
        "reference", "shoppers", "cases", "visits", "items", "coefficients",
        "evaluators"}`. Raises `CalibrationError` when it cannot be made."""
        self._check_usable(reference)
        shoppers = self.shoppers
        cases = sorted(self._cases)
        case_rank = _ranks(self._cases, cases)
        shop_rank = _ranks(self._shoppers, shoppers)
        ci = case_rank[np.asarray(self._case_of, dtype=np.intp)]
        si = shop_rank[np.asarray(self._shopper_of, dtype=np.intp)]
        per_case = np.bincount(ci, minlength=len(cases))
        if not (per_case >= 2).any():
            raise CalibrationError(
                f"no case was scored by two evaluators: {len(shoppers)} evaluators, "
                f"{len(cases)} cases, each `{self.case_field}` scored once; pass the results "
                "of evaluators who scored the same cases, or name the field that tells the "
                "case with --case-field"
            )
        shared = per_case >= 2
        remap = np.cumsum(shared) - 1  # old case rank -> row among the shared cases
        rows = shared[ci]
        at = (remap[ci[rows]], si[rows])
        n_cases, n_shop = int(shared.sum()), len(shoppers)
        item_cube = _cube(self._item_rows, rows, at, (n_cases, n_shop, len(self.items)))
        coef_cube = _cube(self._coef_rows, rows, at, (n_cases, n_shop, len(self.coef_names)))
        ref = None if reference is None else shoppers.index(reference)
        return {
            "standard": self.m.name,
            "version": self.m.version,
            "case_field": self.case_field,
            "reference": reference,
            "shoppers": shoppers,
            "cases": n_cases,
            "visits": len(self._case_of),
            "items": [
                _item_stats(item, item_cube[:, :, j], n_shop) for j, item in enumerate(self.items)
            ],
            "coefficients": [
                _coef_stats(name, coef_cube[:, :, j]) for j, name in enumerate(self.coef_names)
            ],
            "evaluators": [
                row
                for j, name in enumerate(self.coef_names)
                for row in _deviations(name, coef_cube[:, :, j], shoppers, ref)
            ],
        }

    def _check_usable(self, reference: str | None) -> None:
        if self._refused:
            lines = [
                f"  {where}{f' (and {n - 1} more like it)' if n > 1 else ''}: {problem}"
                for problem, (where, n) in self._problems.items()
            ]
            more = self._refused - sum(n for _, n in self._problems.values())
            if more:
                lines.append(f"  … and {more} more")
            what = "result" if self._refused == 1 else "results"
            raise CalibrationError(
                "\n".join([f"nothing calibrated: {self._refused} {what} cannot be used:", *lines])
            )
        if not self._case_of:
            raise CalibrationError("no scored visits to calibrate")
        shoppers = self.shoppers
        if len(shoppers) < 2:
            raise CalibrationError(
                f"only one evaluator in the results (`{shoppers[0]}`, {len(self._case_of)} "
                "visits): calibration compares evaluators who scored the same cases; pass "
                "the results of the others too"
            )
        if reference is not None and reference not in self._shoppers:
            shown = ", ".join(f"`{s}`" for s in shoppers[:20])
            rest = f" and {len(shoppers) - 20} more" if len(shoppers) > 20 else ""
            raise CalibrationError(
                f"--reference `{reference}` is not among the evaluators of the results: "
                f"{shown}{rest}"
            )


def _ranks(index: Mapping[str, int], order: Sequence[str]) -> npt.NDArray[np.intp]:
    """For each id given in order of arrival, its position in `order`."""
    ranks = np.empty(len(order), dtype=np.intp)
    for position, key in enumerate(order):
        ranks[index[key]] = position
    return ranks


class _Rows:
    """Rows of scores (None for N/A) kept as float64 blocks: 8 bytes a score, not a
    Python float and a list slot."""

    BLOCK = 4096

    def __init__(self, width: int) -> None:
        self.width = width
        self.blocks: list[npt.NDArray[np.float64]] = []
        self.pending: list[list[Any]] = []

    def add(self, row: list[Any]) -> None:
        self.pending.append(row)
        if len(self.pending) >= self.BLOCK:
            self._flush()

    def _flush(self) -> None:
        if self.pending:
            block = np.array(self.pending, dtype=np.float64)  # None -> NaN
            self.blocks.append(block.reshape(len(self.pending), self.width))
            self.pending = []

    def array(self) -> npt.NDArray[np.float64]:
        self._flush()
        if not self.blocks:
            return np.zeros((0, self.width))
        if len(self.blocks) > 1:
            self.blocks = [np.concatenate(self.blocks)]
        return self.blocks[0]


def _cube(
    rows: _Rows,
    keep: npt.NDArray[np.bool_],
    at: tuple[npt.NDArray[np.intp], npt.NDArray[np.intp]],
    shape: tuple[int, int, int],
) -> npt.NDArray[np.float64]:
    """cases × evaluators × measures, NaN where a score is missing (N/A or not scored)."""
    cube = np.full(shape, np.nan)
    if shape[2]:
        cube[at] = rows.array()[keep]
    return cube


# -- per item ----------------------------------------------------------------------------------


def _level(item: ItemModel) -> str:
    """Alpha's level: interval for numbers and multi-selects (a share of their points),
    nominal for yes/no scales, else ordinal."""
    if item.kind in ("number", "multi"):
        return "interval"
    if item.scale is not None and len(item.scale.entries) <= 2:
        return "nominal"
    return "ordinal"


def _categories(item: ItemModel, values: npt.NDArray[np.float64]) -> npt.NDArray[np.float64] | None:
    """The possible scores of an item: its scale's (used or not: K counts them all,
    which AC1 and PABAK need) and any other seen; None for a number item whose
    scores are too many to be categories."""
    seen = np.unique(values)
    if item.kind == "scale" and item.scale is not None:
        declared = np.array(sorted({e.score for e in item.scale.entries}), dtype=np.float64)
        return np.union1d(declared, seen)
    if seen.size > MAX_CATEGORIES:
        return None
    return seen


def _modal(counts: npt.NDArray[np.int64]) -> int:
    """The most common number of raters per case (the larger one on a tie)."""
    values, freq = np.unique(counts, return_counts=True)
    best = freq.max()
    return int(values[freq == best].max())


def _item_stats(item: ItemModel, data: npt.NDArray[np.float64], n_shoppers: int) -> dict[str, Any]:
    present = ~np.isnan(data)
    raters = present.sum(axis=1)
    pair = raters >= 2
    units = int(pair.sum())
    level = _level(item)
    out: dict[str, Any] = {
        "item": item.name,
        "level": level,
        "units": units,
        "ratings": int(raters[pair].sum()),
        "categories": None,
        "p_o": None,
        "kappa": None,
        "kappa_method": None,
        "kappa_units": 0,
        "ac1": None,
        "pabak": None,
        "alpha": None,
        "verdict": None,
        "note": None,
    }
    if units < 2:
        out["note"] = message("note.calibration.item_few")
        return out
    notes: list[str] = []
    data, present, raters = data[pair], present[pair], raters[pair]
    alpha = stats.krippendorff_alpha(data.T, level)
    out["alpha"] = _num(alpha)
    cats = _categories(item, data[present])
    if cats is None:
        notes.append(message("note.calibration.categories", count=MAX_CATEGORIES))
    else:
        k = int(cats.size)
        out["categories"] = k
        rows = np.broadcast_to(np.arange(units)[:, None], data.shape)[present]
        codes = np.searchsorted(cats, data[present])
        counts = np.bincount(rows * k + codes, minlength=units * k).reshape(units, k)
        out["p_o"] = _num(stats.observed_agreement(counts))
        out["ac1"] = _num(stats.gwet_ac1_counts(counts))
        out["pabak"] = _num(stats.pabak_counts(counts))
        if k < 2:
            notes.append(message("note.calibration.one_score"))
        out.update(_kappa(data, present, cats, counts, raters, n_shoppers, notes))
    if math.isnan(alpha):
        notes.append(message("note.calibration.alpha_same_rating"))
    out["verdict"] = _verdict(out["alpha"], units, notes)
    out["note"] = "; ".join(notes) or None
    return out


def _kappa(
    data: npt.NDArray[np.float64],
    present: npt.NDArray[np.bool_],
    cats: npt.NDArray[np.float64],
    counts: npt.NDArray[np.int64],
    raters: npt.NDArray[np.int64],
    n_shoppers: int,
    notes: list[str],
) -> dict[str, Any]:
    """Cohen's kappa when there are two evaluators in all (their k × k table), else
    Fleiss' over the cases with the most common number of evaluators."""
    k = int(cats.size)
    if n_shoppers == 2:
        a = np.searchsorted(cats, data[:, 0])
        b = np.searchsorted(cats, data[:, 1])
        table = np.bincount(a * k + b, minlength=k * k).reshape(k, k)
        kappa, method, used = stats.cohen_kappa(table).kappa, "cohen", data.shape[0]
    else:
        m = _modal(raters)
        rows = raters == m
        used = int(rows.sum())
        method = "fleiss"
        kappa = stats.fleiss_kappa(counts[rows]) if used >= 2 else math.nan
        if used < 2:
            notes.append(message("note.calibration.fleiss_few"))
            return {"kappa": None, "kappa_method": method, "kappa_units": used}
        if used < raters.size:
            notes.append(message("note.calibration.fleiss_subset", used=used, raters=m))
    if math.isnan(kappa):
        notes.append(message("note.calibration.kappa_undefined"))
    return {"kappa": _num(kappa), "kappa_method": method, "kappa_units": used}


def _verdict(alpha: float | None, units: int, notes: list[str]) -> str | None:
    if alpha is None:
        return None
    if units < MIN_UNITS_FOR_VERDICT:
        notes.append(message("note.calibration.too_few", units=units, least=MIN_UNITS_FOR_VERDICT))
        return None
    return verdict(alpha)


# -- per coefficient ---------------------------------------------------------------------------


def _coef_stats(name: str, data: npt.NDArray[np.float64]) -> dict[str, Any]:
    present = ~np.isnan(data)
    raters = present.sum(axis=1)
    units = int((raters >= 2).sum())
    complete = present.all(axis=1)
    icc_units = int(complete.sum())
    out: dict[str, Any] = {
        "coefficient": name,
        "units": units,
        "alpha": None,
        "icc": None,
        "icc_form": "2,1",
        "icc_units": icc_units,
        "verdict": None,
        "note": None,
    }
    if units < 2:
        out["note"] = message("note.calibration.coefficient_few")
        return out
    notes: list[str] = []
    alpha = stats.krippendorff_alpha(data[raters >= 2].T, "interval")
    out["alpha"] = _num(alpha)
    if math.isnan(alpha):
        notes.append(message("note.calibration.alpha_same_score"))
    if icc_units >= 2:
        icc = stats.icc(data[complete], "2,1")
        out["icc"] = _num(icc)
        if math.isnan(icc):
            notes.append(message("note.calibration.icc_undefined"))
    else:
        notes.append(message("note.calibration.icc_few", evaluators=data.shape[1], units=icc_units))
    out["verdict"] = _verdict(out["alpha"], units, notes)
    out["note"] = "; ".join(notes) or None
    return out


# -- per evaluator -----------------------------------------------------------------------------


def _deviations(
    name: str, data: npt.NDArray[np.float64], shoppers: Sequence[str], ref: int | None
) -> list[dict[str, Any]]:
    """Each evaluator's mean deviation on coefficient `name` from the consensus (the
    mean of the others on each case) or from the reference evaluator `ref`."""
    out = []
    present = ~np.isnan(data)
    for e, shopper in enumerate(shoppers):
        if e == ref:
            continue
        mine = present[:, e]
        if ref is not None:
            both = mine & present[:, ref]
            dev = data[both, e] - data[both, ref]
        else:
            # the mean of (mine − other) over the others: exactly 0 when they agree
            with np.errstate(all="ignore"):
                diffs = data[mine, e][:, None] - np.delete(data[mine], e, axis=1)
            known = ~np.isnan(diffs)
            count = known.sum(axis=1)
            total = np.where(known, diffs, 0.0).sum(axis=1)
            dev = total[count > 0] / count[count > 0]
        mean = stats.t_interval(dev)
        row: dict[str, Any] = {
            "shopper": shopper,
            "coefficient": name,
            "against": "consensus" if ref is None else "reference",
            "n": mean.n,
            "mean_deviation": _num(mean.mean),
            "sd": _num(mean.sd),
            "ci_low": _num(mean.ci_low),
            "ci_high": _num(mean.ci_high),
            "verdict": None,
            "note": None,
        }
        if mean.n < 2:
            row["note"] = (
                message("note.calibration.evaluator_few_reference", n=mean.n)
                if ref is not None
                else message("note.calibration.evaluator_few", n=mean.n)
            )
        elif row["ci_low"] > TOLERANCE:
            row["verdict"] = "lenient"
        elif row["ci_high"] < -TOLERANCE:
            row["verdict"] = "severe"
        else:
            row["verdict"] = "consistent"
        out.append(row)
    return out


# -- entry points ------------------------------------------------------------------------------


def calibrate(
    results: Iterable[Mapping[str, Any]],
    standard_model: StandardModel | CompiledStandard,
    *,
    reference: str | None = None,
    case_field: str = "visit_id",
) -> dict[str, Any]:
    """The calibration of already-read scored visits (dicts in the result contract).

    Each result is checked against the standard (and version) first; raises
    `CalibrationError` (a `ResultsError`) when results lack `shopper` or a case,
    an evaluator scored a case twice, there is one evaluator only, `reference` is
    not among them, or no case was scored by two evaluators.
    """
    model = cast("StandardModel", getattr(standard_model, "model", standard_model))
    ratings = Ratings(model, case_field=case_field)
    for n, record in enumerate(results, 1):
        ratings.add(record, f"result {n}")
    return ratings.report(reference)


def read_ratings(
    paths: str | Path | Sequence[str | Path],
    standard: CompiledStandard | None = None,
    *,
    given: str | None = None,
    case_field: str = "visit_id",
) -> tuple[CompiledStandard, Ratings]:
    """Read result files (`sbm score`'s outputs) into `Ratings`, checked as every
    analytics command checks them (`result_files.CheckedResults`); the standard is
    `standard`, else the installed one the results name. Raises `ResultsError`."""
    files = [paths] if isinstance(paths, str | Path) else list(paths)
    seen: set[Path] = set()
    for path in files:
        resolved = Path(path).resolve()
        if resolved in seen:
            raise CalibrationError(f"{path} is given twice: each results file once, please")
        seen.add(resolved)
    results = CheckedResults(files, standard, given=given, done="calibrated")
    ratings: Ratings | None = None
    for source, record in results:
        if ratings is None:
            assert results.standard is not None
            ratings = Ratings(results.standard.model, case_field=case_field, check=False)
        ratings.add(record, source)
    assert ratings is not None and results.standard is not None  # else CheckedResults raised
    return results.standard, ratings


def calibrate_files(
    paths: str | Path | Sequence[str | Path],
    standard: CompiledStandard | None = None,
    *,
    reference: str | None = None,
    case_field: str = "visit_id",
) -> dict[str, Any]:
    """The calibration of result files, as `sbm calibrate` computes it."""
    _, ratings = read_ratings(paths, standard, case_field=case_field)
    return ratings.report(reference)
