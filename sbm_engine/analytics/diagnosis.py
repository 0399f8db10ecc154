"""`diagnose`: where each item's losses sit, and the kind of investment they call for
(analytics.md, "sbm diagnose").

One pass over scored visits keeps, per cell (region, point, specialist) and item, the
visits where the item applied, Σ score, Σ score², the full-score passes, the
specialists' misses and the points lost (item weight × (1 − score)); memory is
proportional to cells × items, never to visits, and every figure is independent of
the order of the rows.

Variance of an item's score is split between regions, points within a region,
specialists within a point and visits (nested random effects, ANOVA estimators by
the method of moments for an unbalanced design). A group with one visit cannot tell
its own effect from the visit's: its visit is pooled with the other one-visit groups
of its parent and counts at the visit level only. Negative estimates are set to 0
and the others renormalised (said in `notes`).

Verdicts (thresholds in `Thresholds`, overridable):

- **local** (process and management at those points): region + point share ≥
  `local_share` and at least the specialist share;
- **individual** (training, coaching): specialist share ≥ `individual_share`;
- **systemic** (the standard or the business process): otherwise, pass rate below
  `systemic_pass_rate` (low everywhere, little between groups);
- **will-not-skill** (motivation): otherwise, when most misses
  (`inconsistent_share` ≥ `will_share`) are by *inconsistent* specialists: those
  with two or more visits where the item applied who got full marks on it at one
  visit at least and missed it at another (so they know it);
- **unclear**: none of these, or fewer than `min_visits` visits.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from ..messages import message
from ..result_files import CheckedResults

if TYPE_CHECKING:
    from ..model import StandardModel
    from ..standard import CompiledStandard

Floats = npt.NDArray[np.float64]

#: Records converted to numpy at a time.
BATCH = 4096
#: A score at least this close to 1 is a pass (full marks); below it points are lost.
PASS = 1 - 1e-9
#: Groups listed as most responsible for each item.
TOP_GROUPS = 5
LEVELS = ("region", "point", "specialist", "visit")
BY = ("point", "specialist", "region")

KINDS = {
    "systemic": "standard-or-process",
    "local": "process-and-management",
    "individual": "training",
    "will-not-skill": "motivation",
    "unclear": None,
}


@dataclass(frozen=True)
class Thresholds:
    """When a verdict is given (docs/drivers_diagnose.md)."""

    #: region + point share of the variance at or above which losses are local
    local_share: float = 0.25
    #: specialist share at or above which losses are individual
    individual_share: float = 0.25
    #: network pass rate below which spread-out losses are systemic
    systemic_pass_rate: float = 0.7
    #: share of misses by inconsistent specialists at or above which it is will, not skill
    will_share: float = 0.5
    #: fewer visits where the item applied than this: verdict unclear
    min_visits: int = 20

    @classmethod
    def names(cls) -> list[str]:
        return [f.name for f in fields(cls)]


class _Cells:
    """Per (region, point, specialist) and item: n, Σs, Σs², passes, misses, lost."""

    def __init__(self, model: StandardModel) -> None:
        self.items = [i for i in model.items if i.scored and not i.bonus]
        self.names = [i.name for i in self.items]
        self.weights = np.array([i.weight for i in self.items], dtype=np.float64)
        self.keys: dict[tuple[Any, Any, Any], int] = {}
        k = len(self.names)
        self.stats = np.zeros((0, 5, k))  # n, Σs, Σs², passes, lost
        self.possible = 0.0
        self.visits = 0

    def add(self, records: Sequence[Mapping[str, Any]]) -> None:
        m = len(records)
        if not m:
            return
        self.visits += m
        keys = self.keys
        codes = np.fromiter(
            (
                keys.setdefault((r.get("region"), r.get("point"), r.get("specialist")), len(keys))
                for r in records
            ),
            dtype=np.int64,
            count=m,
        )
        k = len(self.names)
        maps = [r.get("items") or {} for r in records]
        s = np.array([[x.get(n) for n in self.names] for x in maps], dtype=np.float64).reshape(m, k)
        applied = ~np.isnan(s)
        s0 = np.where(applied, s, 0.0)
        self.possible += float((applied * self.weights).sum())
        parts = (
            applied.astype(np.float64),
            s0,
            s0 * s0,
            (applied & (s0 >= PASS)).astype(np.float64),
            np.where(applied, self.weights * (1.0 - s0), 0.0),
        )
        g = len(keys)
        if self.stats.shape[0] < g:
            self.stats = np.concatenate([self.stats, np.zeros((g - self.stats.shape[0], 5, k))])
        index = (codes[:, None] * k + np.arange(k)).ravel()
        for j, part in enumerate(parts):
            self.stats[:, j, :] += np.bincount(index, weights=part.ravel(), minlength=g * k)[
                : g * k
            ].reshape(g, k)


def variance_components(
    cells: Sequence[tuple[Any, Any, Any]], n: Floats, s: Floats, ss: Floats
) -> tuple[dict[str, float] | None, dict[str, float], list[str]]:
    """Shares of an item's variance {region, point, specialist, visit}, the raw
    components, and which were negative (set to 0), from per-cell n, Σs, Σs².

    ANOVA (method of moments) estimators of the nested model
    s = μ + region + point(region) + specialist(point) + visit. For each partition H
    (network, region, point, specialist), T_H = Σ (s − mean of its group in H)² has
    E[T_H] = (N − #H)·σ²_visit + Σ_{G finer than H} σ²_G·(N_G − Σ_h Σ_{g ∈ G, g ⊂ h} n_g²/n_h),
    N_G counting the visits of real groups of G (groups with two visits or more; a
    one-visit group is pooled with the others of its parent and has no effect of its
    own). The four equations are solved from the finest level up. None when the
    variance is 0 (every visit scored the same).
    """
    keep = n > 0
    rows = [c for c, k in zip(cells, keep.tolist(), strict=True) if k]
    n, s, ss = n[keep], s[keep], ss[keep]
    total_n = float(n.sum())
    if total_n < 2:
        return None, {}, []
    # group ids per level, one-visit groups pooled into their parent's "loose" group
    paths = [((c[0],), (c[0], c[1]), (c[0], c[1], c[2])) for c in rows]
    labels: list[list[Any]] = []
    real: list[npt.NDArray[np.bool_]] = []
    parent_label: list[Any] = [("network",)] * len(rows)
    for level in range(3):
        sizes: dict[Any, float] = {}
        for path, k in zip(paths, n.tolist(), strict=True):
            sizes[path[level]] = sizes.get(path[level], 0.0) + k
        lab, rl = [], []
        for i, path in enumerate(paths):
            key = path[level]
            if sizes[key] >= 2:
                lab.append(("real", key))
                rl.append(True)
            else:
                lab.append(("loose", parent_label[i]))
                rl.append(False)
        labels.append(lab)
        real.append(np.array(rl))
        parent_label = lab
    partitions = [[("network",)] * len(rows), *labels]  # H0 … H3

    def totals(part: list[Any]) -> tuple[float, int, dict[Any, float]]:
        gn: dict[Any, float] = {}
        gs: dict[Any, float] = {}
        for key, k, x in zip(part, n.tolist(), s.tolist(), strict=True):
            gn[key] = gn.get(key, 0.0) + k
            gs[key] = gs.get(key, 0.0) + x
        within = float(ss.sum()) - sum(gs[key] ** 2 / gn[key] for key in gn)
        return max(within, 0.0), len(gn), gn

    t = [totals(part) for part in partitions]

    def coef(g_level: int, h_level: int) -> float:
        """Coefficient of σ²_G (G = region 1, point 2, specialist 3) in E[T_H]."""
        if g_level <= h_level:
            return 0.0
        gsize: dict[Any, float] = {}
        gparent: dict[Any, Any] = {}
        covered = 0.0
        for i, k in enumerate(n.tolist()):
            if real[g_level - 1][i]:
                key = labels[g_level - 1][i]
                gsize[key] = gsize.get(key, 0.0) + k
                gparent[key] = partitions[h_level][i]
                covered += k
        hsize = t[h_level][2]
        return covered - sum(size**2 / hsize[gparent[key]] for key, size in gsize.items())

    # solve from the finest level up: T_3 has σ²_visit only
    sigma = {"visit": 0.0, "specialist": 0.0, "point": 0.0, "region": 0.0}
    names = {1: "region", 2: "point", 3: "specialist"}
    df_e = total_n - t[3][1]
    sigma["visit"] = t[3][0] / df_e if df_e > 0 else 0.0
    for h in (2, 1, 0):
        known = (total_n - t[h][1]) * sigma["visit"] + sum(
            coef(g, h) * sigma[names[g]] for g in range(h + 2, 4)
        )
        c = coef(h + 1, h)
        sigma[names[h + 1]] = (t[h][0] - known) / c if c > 1e-12 else 0.0
    clipped = [name for name in LEVELS if sigma[name] < 0]
    parts = {name: max(sigma[name], 0.0) for name in LEVELS}
    total = sum(parts.values())
    if total <= 1e-15:
        return None, sigma, clipped
    return {name: parts[name] / total for name in LEVELS}, sigma, clipped


def diagnose(
    paths: Sequence[str | Path] | str | Path,
    by: str = "point",
    *,
    thresholds: Thresholds | Mapping[str, float] | None = None,
    top: int = TOP_GROUPS,
    standard: CompiledStandard | None = None,
) -> dict[str, Any]:
    """Where each item's losses sit and the kind of investment they call for.

    Returns `{"by", "standard", "version", "visits", "thresholds", "notes", "items":
    [{"item", "lost_share", "pass_rate", "variance", "verdict", "kind",
    "responsible", …}]}`, items that lose points only, most lost first. Raises
    `ResultsError` on unusable results, `ValueError` on a bad `by` or threshold.
    """
    if isinstance(paths, str | Path):
        paths = [paths]
    if by not in BY:
        raise ValueError(f"cannot diagnose by {by!r}; choose one of {', '.join(BY)}")
    limits = _thresholds(thresholds)
    results = CheckedResults(paths, standard, done="diagnosed")
    cells: _Cells | None = None
    batch: list[dict[str, Any]] = []
    for _, record in results:
        if cells is None:
            assert results.standard is not None
            cells = _Cells(results.standard.model)
        batch.append(record)
        if len(batch) >= BATCH:
            cells.add(batch)
            batch = []
    assert cells is not None and results.standard is not None
    cells.add(batch)
    return _report(cells, results.standard, by, limits, top)


def _thresholds(given: Thresholds | Mapping[str, float] | None) -> Thresholds:
    if given is None:
        return Thresholds()
    if isinstance(given, Thresholds):
        return given
    unknown = set(given) - set(Thresholds.names())
    if unknown:
        raise ValueError(
            f"unknown thresholds {', '.join(sorted(unknown))}; "
            f"known: {', '.join(Thresholds.names())}"
        )
    values = {**asdict(Thresholds()), **given}
    values["min_visits"] = int(values["min_visits"])
    return Thresholds(**values)


def _report(
    cells: _Cells, std: CompiledStandard, by: str, limits: Thresholds, top: int
) -> dict[str, Any]:
    keys = list(cells.keys)
    stats = cells.stats[: len(keys)]
    notes: list[str] = []
    out: list[dict[str, Any]] = []
    clipped_any = 0
    all_lost = float(stats[:, 4, :].sum())
    for j, item in enumerate(cells.items):
        n, s, ss, passes, lost = (stats[:, q, j] for q in range(5))
        applied = float(n.sum())
        lost_total = float(lost.sum())
        if applied == 0 or lost_total <= 1e-12:
            continue
        shares, _, clipped = variance_components(keys, n, s, ss)
        if clipped:
            clipped_any += 1
        pass_rate = float(passes.sum()) / applied
        inconsistent = _inconsistent(keys, n, passes)
        verdict, why = _verdict(shares, pass_rate, inconsistent, int(applied), limits)
        out.append(
            {
                "item": item.name,
                "title": item.question,
                "section": item.section,
                "weight": item.weight,
                "n": int(applied),
                "lost_share": lost_total / cells.possible if cells.possible else None,
                "share_of_losses": lost_total / all_lost if all_lost else None,
                "pass_rate": pass_rate,
                "variance": shares,
                "clipped": clipped,
                "inconsistent_share": inconsistent,
                "verdict": verdict,
                "kind": KINDS[verdict],
                "why": why,
                "responsible": _responsible(keys, by, n, passes, lost, top),
            }
        )
    out.sort(key=lambda r: (-r["lost_share"], r["item"]))
    if clipped_any:
        notes.append(message("note.diagnosis.clipped", count=clipped_any))
    singles = (  # none when no item can lose points (every one a bonus, say)
        sum(1 for k in range(len(keys)) if stats[k, 0, :].max() < 2) if stats.shape[2] else 0
    )
    if singles:
        notes.append(message("note.diagnosis.singles", count=singles, total=len(keys)))
    return {
        "by": by,
        "standard": std.id,
        "version": std.version,
        "visits": cells.visits,
        "thresholds": asdict(limits),
        "notes": notes,
        "items": out,
    }


def _inconsistent(keys: Sequence[tuple[Any, Any, Any]], n: Floats, passes: Floats) -> float | None:
    """Share of the misses at specialists with two or more visits that are by specialists
    who also passed the item (full marks at one visit, a miss at another). None when no
    specialist with two visits or more missed it."""
    misses = n - passes
    repeat = (n >= 2) & (misses > 0)
    denominator = float(misses[repeat].sum())
    if denominator == 0:
        return None
    both = repeat & (passes > 0)
    return float(misses[both].sum()) / denominator


def _verdict(
    shares: dict[str, float] | None,
    pass_rate: float,
    inconsistent: float | None,
    n: int,
    t: Thresholds,
) -> tuple[str, str]:
    if n < t.min_visits:
        return "unclear", f"n = {n} < {t.min_visits}: too few visits to say where losses sit"
    if shares is None:
        return (
            ("systemic", "every visit scored the same")
            if pass_rate < t.systemic_pass_rate
            else ("unclear", "no variance to split")
        )
    local = shares["region"] + shares["point"]
    if local >= t.local_share and local >= shares["specialist"]:
        return "local", f"{local:.0%} of the variance lies between points and regions"
    if shares["specialist"] >= t.individual_share:
        return (
            "individual",
            f"{shares['specialist']:.0%} of the variance lies between specialists of a point",
        )
    if pass_rate < t.systemic_pass_rate:
        return (
            "systemic",
            f"pass rate {pass_rate:.0%} everywhere, {1 - shares['visit']:.0%} of the "
            "variance between groups",
        )
    if inconsistent is not None and inconsistent >= t.will_share:
        return (
            "will-not-skill",
            f"{inconsistent:.0%} of the misses are by specialists who pass it at other visits",
        )
    return "unclear", "losses scattered over visits, no pattern above the thresholds"


def _responsible(
    keys: Sequence[tuple[Any, Any, Any]],
    by: str,
    n: Floats,
    passes: Floats,
    lost: Floats,
    top: int,
) -> list[dict[str, Any]]:
    """The groups with the most points lost on the item, with their pass rates."""
    level = {"region": 0, "point": 1, "specialist": 2}[by]
    groups: dict[Any, list[float]] = {}
    for key, k, x, lo in zip(keys, n.tolist(), passes.tolist(), lost.tolist(), strict=True):
        acc = groups.setdefault(key[level], [0.0, 0.0, 0.0])
        acc[0] += k
        acc[1] += x
        acc[2] += lo
    total = float(lost.sum())
    ranked = sorted(
        ((g, a) for g, a in groups.items() if a[2] > 1e-12),
        key=lambda ga: (-ga[1][2], str(ga[0])),
    )
    return [
        {
            "key": g,
            "n": int(a[0]),
            "pass_rate": a[1] / a[0] if a[0] else None,
            "lost": a[2],
            "share_of_item_loss": a[2] / total if total else None,
        }
        for g, a in ranked[:top]
    ]
