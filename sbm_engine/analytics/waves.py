"""`compare`: waves by group, whether each change is more than noise, and the effect of
an intervention (analytics.md, "sbm compare").

One pass over the results of every wave keeps, per wave and group, exact moments of
each coefficient (`Moments`) and counts of each item's applications and passes;
memory is proportional to waves × groups × measures, never to visits. Everything
after that pass is computed from those sums, so every figure is independent of the
order of the input rows.

Units: a visit is the unit of every test (visits within a point are treated as
independent; `mde` says how small a change the samples could show at all).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from ..messages import message
from ..result_files import CheckedResults, ResultsError, standard_of_results
from ..rollup import LEVELS
from .columnar import WaveSums
from .moments import Moments

if TYPE_CHECKING:
    from ..model import StandardModel
    from ..standard import CompiledStandard

#: Significance level of every interval and of `significant` (after Benjamini–Hochberg).
ALPHA = 0.05
#: Power at which `mde` is the smallest detectable change.
POWER = 0.8
#: Records read on the record path are added a chunk of this many at a time.
RECORD_CHUNK = 4096
#: Replicates of the cluster bootstrap for the difference in differences.
REPLICATES = 2000

WaveInput = str | Path | Sequence[str | Path]


@attrs.define
class _Cell:
    """One group in one wave: visits, coefficient moments, item counts."""

    visits: int = 0
    coefs: dict[str, Moments] = attrs.Factory(dict)
    hits: dict[str, int] = attrs.Factory(dict)  # visits meeting the coefficient's target
    applied: dict[str, int] = attrs.Factory(dict)
    passed: dict[str, int] = attrs.Factory(dict)


class WaveTally:
    """The figures of scored visits by cell: (wave label, group key). Filled by
    `columnar.WaveSums`, from columns or from records."""

    def __init__(self, model: StandardModel, by: str) -> None:
        if by not in LEVELS:
            raise ValueError(message("waves.bad_level", level=repr(by), levels=", ".join(LEVELS)))
        self.m = model
        self.field = LEVELS[by]
        self.coef_names = [c.name for c in model.coefficients]
        self.item_names = [i.name for i in model.items if i.scored]
        self.cells: dict[tuple[str, Any], _Cell] = {}

    def cell(self, wave: str, key: Any) -> _Cell:
        """The cell of a group in a wave, made empty on first use."""
        cell = self.cells.get((wave, key))
        if cell is None:
            cell = self.cells[(wave, key)] = _Cell(
                coefs={c: Moments() for c in self.coef_names},
                hits=dict.fromkeys(self.coef_names, 0),
                applied=dict.fromkeys(self.item_names, 0),
                passed=dict.fromkeys(self.item_names, 0),
            )
        return cell

    def merge(self, other: WaveTally) -> None:
        """Add the cells of another tally of the same standard and level."""
        for (wave, key), theirs in other.cells.items():
            self._add_cell(self.cell(wave, key), theirs)

    def regrouped(self, by: str, key_of: Callable[[Any], Any]) -> WaveTally:
        """The tally by `by`, each cell added into group `key_of(its key)`: exact, the
        same as tallying the visits by `by` (one pass keyed by (point, specialist) gives
        the network, the points and the specialists)."""
        out = WaveTally(self.m, by)
        for (wave, key), theirs in self.cells.items():
            out._add_cell(out.cell(wave, key_of(key)), theirs)
        return out

    def _add_cell(self, mine: _Cell, theirs: _Cell) -> None:
        mine.visits += theirs.visits
        for c, moments in theirs.coefs.items():
            mine.coefs[c].merge(moments)
            mine.hits[c] += theirs.hits[c]
        for i in self.item_names:
            mine.applied[i] += theirs.applied[i]
            mine.passed[i] += theirs.passed[i]


# -- reading the waves -------------------------------------------------------------------------


def _wave_paths(wave: WaveInput) -> list[str | Path]:
    if isinstance(wave, str | Path):
        return [wave]
    return list(wave)


def _label(paths: Sequence[str | Path]) -> str:
    return "+".join(Path(p).stem for p in paths)


def month_of(record: Mapping[str, Any], wave_field: str) -> str | None:
    """The wave of a record when one input holds several: its `wave_field`, else the
    month of its `date` (YYYY-MM)."""
    value = record.get(wave_field)
    if value is not None and value != "":
        return str(value)
    date = record.get("date")
    if isinstance(date, str) and len(date) >= 7 and date[4] == "-":
        return date[:7]
    return None


def read_waves(
    waves: Sequence[WaveInput],
    by: str,
    *,
    standard: CompiledStandard | None = None,
    labels: Sequence[str] | None = None,
    wave_field: str = "wave",
) -> tuple[CompiledStandard, list[str], WaveTally]:
    """Read every wave into one tally; all of them must be scored with one standard
    and version. One input is split into waves by `wave_field` (else the month of the
    visit's date); several are a wave each, labelled by `labels` or their file names."""
    if not waves:
        raise ResultsError(message("waves.no_waves"))
    if labels is not None and len(labels) != len(waves):
        raise ResultsError(message("waves.labels", labels=len(labels), waves=len(waves)))
    tally: WaveTally | None = None
    std = standard
    like: tuple[str, dict[str, Any]] | None = None
    names: list[str] = []
    split = len(waves) == 1
    for i, wave in enumerate(waves):
        paths = _wave_paths(wave)
        label = labels[i] if labels else _label(paths)
        if not split and label in names:
            raise ResultsError(message("waves.same_label", label=repr(label)))
        names.append(label)
        if not split:
            fast = _columnar(paths, by, std, like, tally, label)
            if fast is not None:
                std, like, tally = fast
                continue
        results = CheckedResults(paths, std, done="compared", like=like)
        chunks: dict[str, list[Mapping[str, Any]]] = {}
        sums: dict[str, WaveSums] = {}
        for source, record in results:
            if tally is None:
                assert results.standard is not None
                std = results.standard
                tally = WaveTally(std.model, by)
            wave_label = label
            if split:
                found = month_of(record, wave_field)
                if found is None:
                    raise ResultsError(
                        message("waves.no_wave_field", source=source, field=wave_field)
                    )
                wave_label = found
            chunk = chunks.setdefault(wave_label, [])
            chunk.append(record)
            if len(chunk) >= RECORD_CHUNK:
                sums.setdefault(wave_label, WaveSums(tally)).add_records(chunk)
                chunk.clear()
        # reached only when every record passed its checks: the tally is all or nothing
        assert tally is not None
        for wave_label, chunk in chunks.items():
            wave_sums = sums.setdefault(wave_label, WaveSums(tally))
            wave_sums.add_records(chunk)
            wave_sums.fold_into(tally, wave_label)
        like = results.first
    assert tally is not None and std is not None
    if split:
        names = sorted({w for w, _ in tally.cells})
        if len(names) < 2:
            raise ResultsError(message("waves.one_wave", wave=names[0], field=wave_field))
    return std, names, tally


def _columnar(
    paths: Sequence[str | Path],
    by: str,
    std: CompiledStandard | None,
    like: tuple[str, dict[str, Any]] | None,
    tally: WaveTally | None,
    label: str,
) -> tuple[CompiledStandard, tuple[str, dict[str, Any]], WaveTally] | None:
    """Tally a wave of Parquet or CSV results column-wise (`columnar`), or None when it
    must be read record by record: another format, no pyarrow, or anything the
    column checks do not pass (the record path then says what and where)."""
    from .columnar import Fallback, first_identity, tally_columnar

    if not all(Path(p).suffix.lower() in (".parquet", ".csv") for p in paths):
        return None
    try:
        source, found = first_identity(paths[0])
        if like is not None and not _same(like[1], found):
            return None
        if std is None:
            std = standard_of_results(found["standard"], source)
        elif not _same({"standard": std.id, "version": std.version}, found):
            return None
        wave = WaveTally(std.model, by)
        tally_columnar(paths, wave, label, (std.id, std.version))
    except Fallback:
        return None
    if tally is None:
        return std, like or (source, found), wave
    tally.merge(wave)
    return std, like or (source, found), tally


def _same(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    from ..rollup import same_version

    return bool(a["standard"] == b["standard"] and same_version(a["version"], b["version"]))


# -- comparing ---------------------------------------------------------------------------------


def compare(
    waves: Sequence[WaveInput],
    by: str = "point",
    *,
    standard: CompiledStandard | None = None,
    labels: Sequence[str] | None = None,
    wave_field: str = "wave",
    treated: Iterable[Any] | None = None,
    seed: int = 2026,
    replicates: int = REPLICATES,
) -> dict[str, Any]:
    """Compare two or more waves of scored visits by group (analytics.md, "sbm compare").

    Returns `{"by", "standard", "version", "waves", "rows", "unmatched", "effect",
    "trend", "control_chart"}`. Raises `ResultsError` (with file and line) on results
    that cannot be compared.
    """
    std, names, tally = read_waves(
        waves, by, standard=standard, labels=labels, wave_field=wave_field
    )
    return report(std.model, by, names, tally, treated=treated, seed=seed, replicates=replicates)


def report(
    model: StandardModel,
    by: str,
    names: list[str],
    tally: WaveTally,
    *,
    treated: Iterable[Any] | None = None,
    seed: int = 2026,
    replicates: int = REPLICATES,
) -> dict[str, Any]:
    from .stats import benjamini_hochberg

    keys_by_wave: dict[str, set[Any]] = {w: set() for w in names}
    for w, key in tally.cells:
        keys_by_wave[w].add(key)
    all_keys = sorted(set().union(*keys_by_wave.values()), key=_key_order)
    rows: list[dict[str, Any]] = []
    for a, b in itertools.pairwise(names):
        for key in all_keys:
            if key in keys_by_wave[a] and key in keys_by_wave[b]:
                rows += _pair_rows(model, tally, key, a, b)
    adjusted = benjamini_hochberg([r["p"] for r in rows])
    for row, p_adj in zip(rows, adjusted, strict=True):
        row["p_adjusted"] = p_adj
        row["significant"] = p_adj is not None and p_adj < ALPHA
    unmatched = [
        {"key": key, "waves": [w for w in names if key in keys_by_wave[w]]}
        for key in all_keys
        if not all(key in keys_by_wave[w] for w in names)
    ]
    effect = None
    if treated is not None:
        effect = did_effect(model, tally, names[0], names[-1], treated, seed, replicates)
    trend: list[dict[str, Any]] = []
    chart: dict[str, Any] | None = None
    if len(names) >= 3:
        trend = _trends(model, tally, names, all_keys)
        chart = control_chart(model, tally, names, all_keys)
    return {
        "by": by,
        "standard": model.name,
        "version": model.version,
        "waves": names,
        "rows": rows,
        "unmatched": unmatched,
        "effect": effect,
        "trend": trend,
        "control_chart": chart,
    }


def _key_order(key: Any) -> tuple[bool, str]:
    return (key is None, str(key))


def _pair_rows(
    model: StandardModel, tally: WaveTally, key: Any, a: str, b: str
) -> list[dict[str, Any]]:
    ca, cb = tally.cells[(a, key)], tally.cells[(b, key)]
    rows = []
    for c in model.coefficients:
        ma, mb = ca.coefs[c.name], cb.coefs[c.name]
        if ma.count or mb.count:
            rows.append(_mean_row(key, c.name, a, b, ma, mb))
    for name in tally.item_names:
        na, nb = ca.applied[name], cb.applied[name]
        if na or nb:
            rows.append(_share_row(key, name, a, b, ca.passed[name], na, cb.passed[name], nb))
    return rows


def _row(key: Any, measure: str, kind: str, a: str, b: str) -> dict[str, Any]:
    return {"key": key, "measure": measure, "kind": kind, "wave_a": a, "wave_b": b}


def _mean_row(key: Any, name: str, a: str, b: str, ma: Moments, mb: Moments) -> dict[str, Any]:
    from .stats import mde_means, welch_from_stats

    mean_a, mean_b, n_a, n_b = ma.mean(), mb.mean(), ma.count, mb.count
    row = _row(key, name, "coefficient", a, b)
    row.update(mean_a=mean_a, mean_b=mean_b, n_a=n_a, n_b=n_b)
    row.update(change=None, ci_low=None, ci_high=None, p=None, mde=None, note=None)
    if mean_a is not None and mean_b is not None:
        row["change"] = mean_b - mean_a
    var_a, var_b = ma.variance(), mb.variance()
    if var_a is None or var_b is None:
        row["note"] = "n < 2"
        return row
    row["mde"] = _finite(mde_means(var_a, n_a, var_b, n_b, alpha=ALPHA, power=POWER))
    if var_a == 0 and var_b == 0:
        # no spread in either wave: the change is what it is, and a test has nothing to say
        row["note"] = message("note.waves.no_variation")
        return row
    assert mean_a is not None and mean_b is not None
    w = welch_from_stats(mean_b, var_b, n_b, mean_a, var_a, n_a)  # of b − a
    row.update(ci_low=_finite(w.ci_low), ci_high=_finite(w.ci_high), p=_finite(w.p))
    return row


def _share_row(
    key: Any, name: str, a: str, b: str, x_a: int, n_a: int, x_b: int, n_b: int
) -> dict[str, Any]:
    from .stats import mde_proportions, two_proportions

    row = _row(key, name, "item", a, b)
    p_a = x_a / n_a if n_a else None
    p_b = x_b / n_b if n_b else None
    row.update(mean_a=p_a, mean_b=p_b, n_a=n_a, n_b=n_b)
    row.update(change=None, ci_low=None, ci_high=None, p=None, mde=None, note=None)
    if p_a is None or p_b is None:
        row["note"] = message("note.waves.not_applied")
        return row
    row["change"] = p_b - p_a
    row["mde"] = _finite(mde_proportions(p_a, n_a, p_b, n_b, alpha=ALPHA, power=POWER))
    t = two_proportions(x_b, n_b, x_a, n_a)  # of p_b − p_a
    row.update(ci_low=_finite(t.ci_low), ci_high=_finite(t.ci_high), p=_finite(t.p))
    if row["p"] is None:
        row["note"] = message("note.waves.all_same")
    return row


def _finite(x: Any) -> float | None:
    if x is None:
        return None
    x = float(x)
    return x if math.isfinite(x) else None


# -- difference in differences -----------------------------------------------------------------


def did_effect(
    model: StandardModel,
    tally: WaveTally,
    a: str,
    b: str,
    treated: Iterable[Any],
    seed: int,
    replicates: int,
) -> dict[str, Any]:
    """The change of treated groups minus the change of the others, per coefficient,
    with a 95 % interval from a cluster bootstrap over groups (treated and control
    groups resampled apart, with replacement; fixed seed).

    Means pool visits: the treated change is the mean of the treated groups' visits
    in wave b minus the same in wave a."""
    import numpy as np

    wanted = {str(k) for k in treated}
    both = sorted((k for (w, k) in tally.cells if w == a and (b, k) in tally.cells), key=_key_order)
    treated_keys = [k for k in both if str(k) in wanted]
    control_keys = [k for k in both if str(k) not in wanted]
    missing = sorted(wanted - {str(k) for k in both})
    if not treated_keys:
        raise ResultsError(message("waves.no_treated", count=len(wanted), a=a, b=b))
    if not control_keys:
        raise ResultsError(message("waves.all_treated"))
    rng = np.random.Generator(np.random.PCG64(seed))
    t_draws = rng.integers(0, len(treated_keys), size=(replicates, len(treated_keys)))
    c_draws = rng.integers(0, len(control_keys), size=(replicates, len(control_keys)))
    out = []
    for c in model.coefficients:
        sums = {
            k: [
                (tally.cells[(w, k)].coefs[c.name].sum(), tally.cells[(w, k)].coefs[c.name].count)
                for w in (a, b)
            ]
            for k in both
        }
        t = np.array([[x for pair in sums[k] for x in pair] for k in treated_keys], dtype=float)
        u = np.array([[x for pair in sums[k] for x in pair] for k in control_keys], dtype=float)
        point = _did(t.sum(axis=0), u.sum(axis=0))
        if point is None:
            continue
        boot = _did_many(t[t_draws].sum(axis=1), u[c_draws].sum(axis=1))
        boot = boot[np.isfinite(boot)]
        low, high = np.quantile(boot, [0.025, 0.975]) if boot.size else (math.nan, math.nan)
        ta, tb = _means(t.sum(axis=0))
        ua, ub = _means(u.sum(axis=0))
        out.append(
            {
                "measure": c.name,
                "effect": point,
                "ci_low": _finite(low),
                "ci_high": _finite(high),
                "significant": bool(boot.size) and bool(low > 0 or high < 0),
                "change_treated": float(tb - ta),
                "change_control": float(ub - ua),
                "n_treated": [int(t[:, 1].sum()), int(t[:, 3].sum())],
                "n_control": [int(u[:, 1].sum()), int(u[:, 3].sum())],
            }
        )
    return {
        "waves": [a, b],
        "treated": treated_keys,
        "control_groups": len(control_keys),
        "missing": missing,
        "replicates": replicates,
        "seed": seed,
        "coefficients": out,
    }


def _means(totals: Any) -> tuple[float, float]:
    sum_a, n_a, sum_b, n_b = totals
    return sum_a / n_a, sum_b / n_b


def _did(t: Any, u: Any) -> float | None:
    if not (t[1] and t[3] and u[1] and u[3]):
        return None
    ta, tb = _means(t)
    ua, ub = _means(u)
    return float((tb - ta) - (ub - ua))


def _did_many(t: Any, u: Any) -> Any:
    import numpy as np

    with np.errstate(divide="ignore", invalid="ignore"):
        return (t[:, 2] / t[:, 3] - t[:, 0] / t[:, 1]) - (u[:, 2] / u[:, 3] - u[:, 0] / u[:, 1])


# -- three or more waves -----------------------------------------------------------------------


def _trends(
    model: StandardModel, tally: WaveTally, names: list[str], keys: list[Any]
) -> list[dict[str, Any]]:
    """Per group and coefficient: the means by wave and the least-squares slope per
    wave (visit = unit, wave index 0, 1, 2, …) with its p."""
    out = []
    for key in keys:
        for c in model.coefficients:
            points = []
            for i, w in enumerate(names):
                cell = tally.cells.get((w, key))
                mom = cell.coefs[c.name] if cell else None
                if mom is not None and mom.count:
                    points.append((i, mom))
            if not points:
                continue
            slope = _slope(points)
            out.append(
                {
                    "key": key,
                    "measure": c.name,
                    "means": [_mean_at(tally, w, key, c.name) for w in names],
                    "n": [_count_at(tally, w, key, c.name) for w in names],
                    **slope,
                }
            )
    return out


def _mean_at(tally: WaveTally, wave: str, key: Any, name: str) -> float | None:
    cell = tally.cells.get((wave, key))
    return cell.coefs[name].mean() if cell else None


def _count_at(tally: WaveTally, wave: str, key: Any, name: str) -> int:
    cell = tally.cells.get((wave, key))
    return cell.coefs[name].count if cell else 0


def _slope(points: list[tuple[int, Moments]]) -> dict[str, Any]:
    """OLS of visit values on the wave index, from per-wave n, mean and variance."""
    from scipy import stats as sps

    none = {"slope": None, "p": None, "note": None}
    if len(points) < 2:
        return {**none, "note": message("note.waves.one_wave")}
    n = [m.count for _, m in points]
    mean = [m.mean() or 0.0 for _, m in points]
    within = sum((m.variance() or 0.0) * (m.count - 1) for _, m in points)
    total = sum(n)
    t_bar = sum(k * i for (i, _), k in zip(points, n, strict=True)) / total
    y_bar = sum(k * y for k, y in zip(n, mean, strict=True)) / total
    sxx = sum(k * (i - t_bar) ** 2 for (i, _), k in zip(points, n, strict=True))
    sxy = sum(k * (i - t_bar) * (y - y_bar) for (i, _), k, y in zip(points, n, mean, strict=True))
    slope = sxy / sxx
    between = sum(k * (y - y_bar) ** 2 for k, y in zip(n, mean, strict=True))
    sse = max(within + between - slope * slope * sxx, 0.0)
    df = total - 2
    if df < 1:
        return {**none, "slope": slope, "note": "n < 3"}
    se = math.sqrt(sse / df / sxx)
    if se == 0:
        return {**none, "slope": slope, "note": message("note.waves.no_trend_variation")}
    p = float(2 * sps.t.sf(abs(slope / se), df))
    return {"slope": slope, "p": p, "note": None}


def control_chart(
    model: StandardModel, tally: WaveTally, names: list[str], keys: list[Any]
) -> dict[str, Any]:
    """A p-chart per wave and proportion: items' pass rates and the shares of visits
    meeting each coefficient's target. Limits vary with each group's n:
    p̄ ± 3·√(p̄(1 − p̄)/n), p̄ the wave's share over all groups. Only the points
    outside their limits are listed; `checked` says how many were looked at."""
    measures = [(c, "target") for c in model.targets] + [(i, "item") for i in tally.item_names]
    outside = []
    checked = 0
    for w in names:
        cells = [(k, tally.cells[(w, k)]) for k in keys if (w, k) in tally.cells]
        for measure, kind in measures:
            counts = [(k, *_proportion(cell, measure, kind)) for k, cell in cells]
            x_all = sum(x for _, x, _ in counts)
            n_all = sum(n for _, _, n in counts)
            if not n_all:
                continue
            center = x_all / n_all
            for key, x, n in counts:
                if not n:
                    continue
                checked += 1
                half = 3 * math.sqrt(center * (1 - center) / n)
                p = x / n
                lcl, ucl = max(0.0, center - half), min(1.0, center + half)
                if p < lcl - 1e-12 or p > ucl + 1e-12:
                    outside.append(
                        {
                            "wave": w,
                            "key": key,
                            "measure": measure,
                            "kind": kind,
                            "p": p,
                            "n": n,
                            "center": center,
                            "lcl": lcl,
                            "ucl": ucl,
                            "side": "above" if p > ucl else "below",
                        }
                    )
    return {"checked": checked, "outside": outside}


def _proportion(cell: _Cell, measure: str, kind: str) -> tuple[int, int]:
    """(successes, trials) of a proportion in one cell."""
    if kind == "target":
        return cell.hits[measure], cell.coefs[measure].count
    return cell.passed[measure], cell.applied[measure]
