"""The report's content from scored visits: every figure taken from the analytics.

The current wave's figures come from one pass over its visits (`wave_figures`); the
earlier waves go through `waves.compare`, the drivers through `key_drivers.drivers`;
a plan and a calibration are read as `sbm plan` and `sbm calibrate` wrote them.

What is shown where a full list would not be readable: the heat map holds the
`top` weakest and `top` strongest points by the headline coefficient when there are
more than 2·`top`; the funnel plot and the tables of points hold every point.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ... import __version__
from ...messages import language, message, normalize, set_language
from .model import Card, Chart, Column, Report, Table, Topic
from .wave_figures import ReportError, Titles, WaveFigures, score_like

#: Heat-map cells over fewer visits than this are grey.
MIN_N = 5
#: Points (and items, lists of changes) shown where a full list would not be readable.
TOP = 20
#: Two-sided normal quantiles of the funnel's limits: 95 % and 99.8 %.
Z95 = 1.959963984540054
Z998 = 3.090232306167813


# ---- the language ------------------------------------------------------------------------------


@contextmanager
def speaking(lang: str | None) -> Iterator[str]:
    """Messages in `lang` (None: the current language) inside the block."""
    before = language()
    chosen = normalize(lang) or before
    set_language(chosen)
    try:
        yield chosen
    finally:
        set_language(before)


def _ui(min_n: int) -> dict[str, str]:
    return {
        "contents": message("report.ui.contents"),
        "table": message("report.ui.table"),
        "chart": message("report.ui.chart"),
        "cards": message("report.ui.cards"),
        "points": message("report.ui.points"),
        "specialists": message("report.ui.specialists"),
        "back": message("report.ui.back"),
        "print": message("report.ui.print"),
        "yes": message("report.ui.yes"),
        "no": message("report.ui.no"),
        "na": "—",
        "too_few": message("report.ui.too_few", n=min_n),
        "generated": message(
            "report.ui.generated", date=dt.date.today().isoformat(), version=__version__
        ),
        "visits": message("report.ui.visits"),
        "card_of_point": message("report.ui.card_of_point"),
        "card_of_specialist": message("report.ui.card_of_specialist"),
    }


# ---- one pass over the wave --------------------------------------------------------------------


def build(
    results: str | Path | Sequence[str | Path],
    *,
    previous: Sequence[str | Path | Sequence[str | Path]] = (),
    plan: str | Path | Mapping[str, Any] | None = None,
    calibration: str | Path | Mapping[str, Any] | None = None,
    lang: str | None = None,
    coefficient: str | None = None,
    outcome: str | None = None,
    standard: Any = None,
    top: int = TOP,
    min_n: int = MIN_N,
) -> Report:
    """The report of a wave (`results`), its changes since the `previous` waves (oldest
    first), and, when given, the drivers of `outcome` (default: the coefficient
    `subjective` if the standard has one), a plan and a calibration (the JSON of
    `sbm plan` and `sbm calibrate`, a path or the object).

    Raises `ResultsError` on results that cannot be used and `ReportError` on an
    unknown coefficient or an unreadable plan or calibration file."""
    paths = [results] if isinstance(results, str | Path) else list(results)
    with speaking(lang) as chosen:
        wave = WaveFigures(paths, standard, coefficient)
        return _Builder(wave, chosen, top, min_n).build(
            [*previous], plan, calibration, outcome, paths
        )


class _Builder:
    def __init__(self, wave: WaveFigures, lang: str, top: int, min_n: int) -> None:
        self.w = wave
        self.m = wave.model
        self.t = Titles(wave.model)
        self.lang = lang
        self.top = top
        self.min_n = min_n
        self.h = wave.headline
        self.net = wave.reports["network"]["groups"][0]
        self.h_title = self.t.coefficients[self.h]
        self.target = self.m.targets.get(self.h)

    def build(
        self,
        previous: list[Any],
        plan: Any,
        calibration: Any,
        outcome: str | None,
        paths: list[str | Path],
    ) -> Report:
        topics: list[Topic | None] = [self.coefficients(), self.figures()]
        if previous:
            comparison = self._compare([*previous, paths])
            topics += [self.trend(comparison), self.changes(comparison)]
        topics += [
            self.sections(),
            self.bands(),
            self.funnel(),
            self.heatmap(),
            self.growth(),
            self.drivers(outcome, paths),
        ]
        if calibration is not None:
            cal = _read_json(calibration, "--calibration")
            topics += [self.calibration(cal), self.agreement(cal)]
        currency = None
        if plan is not None:
            p = _read_json(plan, "--plan")
            currency = p.get("currency")
            topics += [self.plan_levers(p), self.plan_groups(p)]
        std = self.w.standard
        facts: list[tuple[str, Any, str]] = [
            (
                message("report.fact.standard"),
                f"{self.m.title or std.id} ({std.id} {std.version})",
                "text",
            ),
            (message("report.fact.visits"), self.w.visits, "count"),
            (message("report.fact.points"), len(self.w.reports["point"]["groups"]), "count"),
            (
                message("report.fact.specialists"),
                len(self.w.reports["specialist"]["groups"]),
                "count",
            ),
        ]
        if self.w.dates:
            lo, hi = self.w.dates[0], self.w.dates[-1]
            facts.append(
                (message("report.fact.period"), lo if lo == hi else f"{lo} … {hi}", "text")
            )
        head = self.net["coefficients"][self.h]
        facts.append((self.h_title, head["mean"], "score"))
        return Report(
            lang=self.lang,
            title=message("report.title", standard=self.m.title or std.id),
            facts=tuple(facts),
            topics=tuple(t for t in topics if t is not None),
            cards=tuple(self.cards("point")) + tuple(self.cards("specialist")),
            ui=_ui(self.min_n),
            currency=currency,
            meta={
                "standard": std.id,
                "version": std.version,
                "headline": self.h,
                "visits": self.w.visits,
                "outcome": outcome,
            },
        )

    # -- the network -------------------------------------------------------------------------------

    def _coef_rows(self, score: bool) -> list[dict[str, Any]]:
        rows = []
        for name, stat in self.net["coefficients"].items():
            if score_like(self.m, name, stat["mean"]) != score:
                continue
            rows.append(
                {
                    "coefficient": name,
                    "title": self.t.coefficients[name],
                    "mean": stat["mean"],
                    "target": stat["target"],
                    "gap": stat["gap"],
                    "meets_share": stat["meets_share"],
                    "band": stat["band"],
                    "n": stat["n"],
                }
            )
        return rows

    def coefficients(self) -> Topic:
        cols = (
            Column("title", message("report.col.coefficient")),
            Column("mean", message("report.col.mean"), "score"),
            Column("target", message("report.col.target"), "score"),
            Column("gap", message("report.col.gap"), "change"),
            Column("meets_share", message("report.col.meets_share"), "share"),
            Column("band", message("report.col.band")),
            Column("n", message("report.col.visits"), "count"),
        )
        return Topic(
            "coefficients",
            message("report.topic.coefficients.title"),
            message("report.topic.coefficients.note"),
            Table(cols, tuple(self._coef_rows(True))),
            Chart("bars", x="mean", y="title", target="target", domain=(0.0, 1.0)),
        )

    def figures(self) -> Topic | None:
        rows = [
            {"title": r["title"], "value": r["mean"], "target": r["target"], "n": r["n"]}
            for r in self._coef_rows(False)
        ]
        rows += [
            {"title": self.t.rollups[name], "value": value, "target": None, "n": self.net["visits"]}
            for name, value in self.net["rollups"].items()
        ]
        if not rows:
            return None
        cols = (
            Column("title", message("report.col.figure")),
            Column("value", message("report.col.value"), "number"),
            Column("target", message("report.col.target"), "number"),
            Column("n", message("report.col.visits"), "count"),
        )
        return Topic(
            "figures",
            message("report.topic.figures.title"),
            message("report.topic.figures.note"),
            Table(cols, tuple(rows)),
        )

    def sections(self) -> Topic | None:
        rows = []
        for s in self.m.sections:
            mean, n = self.w.section_mean("network", "network", s.name)
            rows.append(
                {
                    "section": s.name,
                    "title": self.t.sections[s.name],
                    "mean": mean,
                    "target": self.target,
                    "n": n,
                }
            )
        if not rows:
            return None
        cols = (
            Column("title", message("report.col.section")),
            Column("mean", message("report.col.mean"), "score"),
            Column("target", message("report.col.target_of", coefficient=self.h_title), "score"),
            Column("n", message("report.col.visits"), "count"),
        )
        return Topic(
            "sections",
            message("report.topic.sections.title"),
            message("report.topic.sections.note", coefficient=self.h_title),
            Table(cols, tuple(rows)),
            Chart("bars", x="mean", y="title", target="target", domain=(0.0, 1.0)),
        )

    def bands(self) -> Topic | None:
        bands = self.m.bands.get(self.h)
        if bands is None:
            return None
        total = sum(self.w.band_counts.values())
        rows = []
        for label, threshold in bands.bands:
            k = self.w.band_counts.get(label, 0)
            rows.append(
                {
                    "band": label,
                    "from": threshold,
                    "visits": k,
                    "share": k / total if total else None,
                }
            )
        cols = (
            Column("band", message("report.col.band")),
            Column("from", message("report.col.from"), "number"),
            Column("visits", message("report.col.visits"), "count"),
            Column("share", message("report.col.share"), "share"),
        )
        return Topic(
            "bands",
            message("report.topic.bands.title", coefficient=self.h_title),
            message("report.topic.bands.note", na=self.w.no_band),
            Table(cols, tuple(rows)),
            Chart("columns", x="band", y="visits"),
        )

    def growth(self) -> Topic | None:
        rows = []
        for zone in self.net["growth_zones"][: self.top]:
            item = zone["item"]
            section = self.t.section_of.get(item)
            rate, n = self.w.pass_rate("network", "network", item)
            rows.append(
                {
                    "item": item,
                    "title": self.t.items[item],
                    "section": self.t.sections.get(section, "") if section else "",
                    "lost_share": zone["lost_share"],
                    "pass_rate": rate,
                    "n": n,
                }
            )
        if not rows:
            return None
        cols = (
            Column("title", message("report.col.item")),
            Column("section", message("report.col.section")),
            Column("lost_share", message("report.col.lost_share"), "share"),
            Column("pass_rate", message("report.col.pass_rate"), "share"),
            Column("n", message("report.col.visits"), "count"),
        )
        return Topic(
            "growth",
            message("report.topic.growth.title"),
            message("report.topic.growth.note"),
            Table(cols, tuple(rows)),
            Chart("bars", x="lost_share", y="title"),
        )

    # -- points ----------------------------------------------------------------------------------

    def _ranked_points(self) -> list[dict[str, Any]]:
        """Points by the headline's mean, best first (N/A last)."""
        groups = self.w.reports["point"]["groups"]
        return sorted(
            groups,
            key=lambda g: (
                g["coefficients"][self.h]["mean"] is None,
                -(g["coefficients"][self.h]["mean"] or 0.0),
                str(g["key"]),
            ),
        )

    def funnel(self) -> Topic | None:
        moments = self.w.tallies["network"].cells[("wave", "network")].coefs[self.h]
        center, variance = moments.mean(), moments.variance()
        points = [
            (g["key"], g["coefficients"][self.h]["n"], g["coefficients"][self.h]["mean"])
            for g in self._ranked_points()
        ]
        points = [p for p in points if p[2] is not None]
        if center is None or variance is None or not points:
            return None
        sd = math.sqrt(variance)
        bounded = score_like(self.m, self.h, center)

        def limit(n: int, z: float) -> tuple[float, float]:
            half = z * sd / math.sqrt(n)
            lo, hi = center - half, center + half
            return (max(lo, 0.0), min(hi, 1.0)) if bounded else (lo, hi)

        labels = {
            "above998": message("report.funnel.above998"),
            "above95": message("report.funnel.above95"),
            "within": message("report.funnel.within"),
            "below95": message("report.funnel.below95"),
            "below998": message("report.funnel.below998"),
        }
        rows = []
        for rank, (key, n, mean) in enumerate(points, 1):
            lo95, hi95 = limit(n, Z95)
            lo998, hi998 = limit(n, Z998)
            status = (
                "above998"
                if mean > hi998
                else "above95"
                if mean > hi95
                else "below998"
                if mean < lo998
                else "below95"
                if mean < lo95
                else "within"
            )
            rows.append(
                {
                    "point": key,
                    "rank": rank,
                    "n": n,
                    "mean": mean,
                    "low95": lo95,
                    "high95": hi95,
                    "low998": lo998,
                    "high998": hi998,
                    "status": labels[status],
                }
            )
        ns = sorted({p[1] for p in points})
        grid = sorted({*ns, *_geometric(ns[0], ns[-1], 60)})
        lines = Table(
            (
                Column("n", message("report.col.visits"), "count"),
                Column("center", message("report.col.network"), "score"),
                Column("low95", message("report.col.low95"), "score"),
                Column("high95", message("report.col.high95"), "score"),
                Column("low998", message("report.col.low998"), "score"),
                Column("high998", message("report.col.high998"), "score"),
            ),
            tuple(
                {
                    "n": n,
                    "center": center,
                    **dict(zip(("low95", "high95"), limit(n, Z95), strict=True)),
                    **dict(zip(("low998", "high998"), limit(n, Z998), strict=True)),
                }
                for n in grid
            ),
        )
        cols = (
            Column("rank", message("report.col.rank"), "count"),
            Column("point", message("report.col.point"), card="point"),
            Column("n", message("report.col.visits"), "count"),
            Column("mean", self.h_title, "score"),
            Column("low95", message("report.col.low95"), "score"),
            Column("high95", message("report.col.high95"), "score"),
            Column("status", message("report.col.status")),
        )
        return Topic(
            "funnel",
            message("report.topic.funnel.title", coefficient=self.h_title),
            message("report.topic.funnel.note", center=f"{center:.3f}"),
            Table(cols, tuple(rows)),
            Chart("funnel", x="n", y="mean", label="point", color="status", lines=lines),
        )

    def shown_points(self) -> list[Any]:
        """The points of the heat map: all, or the `top` weakest and strongest."""
        ranked = [g["key"] for g in self._ranked_points()]
        if len(ranked) <= 2 * self.top:
            return ranked
        return ranked[: self.top] + ranked[-self.top :]

    def heatmap(self) -> Topic | None:
        items = [i.name for i in self.m.items if i.scored]
        if not items:
            return None
        net_rate = {i: self.w.pass_rate("network", "network", i)[0] for i in items}
        items.sort(key=lambda i: (net_rate[i] is None, net_rate[i] or 0.0))
        points = self.shown_points()
        rows = []
        for item in items:
            for key in points:
                rate, n = self.w.pass_rate("point", key, item)
                rows.append(
                    {"item": item, "title": self.t.items[item], "point": key, "rate": rate, "n": n}
                )
        total = len(self.w.reports["point"]["groups"])
        note = (
            message("report.topic.heatmap.note", n=self.min_n)
            if len(points) == total
            else message("report.topic.heatmap.note_top", n=self.min_n, top=self.top, total=total)
        )
        cols = (
            Column("title", message("report.col.item")),
            Column("point", message("report.col.point"), card="point"),
            Column("rate", message("report.col.pass_rate"), "share"),
            Column("n", message("report.col.visits"), "count"),
        )
        return Topic(
            "heatmap",
            message("report.topic.heatmap.title"),
            note,
            Table(cols, tuple(rows)),
            Chart("heatmap", x="point", y="title", value="rate", n="n", min_n=self.min_n),
            pivot=("title", "point", "rate"),
        )

    # -- waves -----------------------------------------------------------------------------------

    def _compare(self, waves: list[Any]) -> dict[str, Any]:
        from ..waves import compare

        return compare(waves, by="network", standard=self.w.standard)

    def trend(self, comparison: dict[str, Any]) -> Topic:
        others = [n for n in self.m.targets if n != self.h and score_like(self.m, n, None)]
        shown = [self.h, *others[:5]]
        per_wave: dict[tuple[str, str], tuple[float | None, int]] = {}
        for row in comparison["rows"]:
            if row["kind"] == "coefficient" and row["measure"] in shown:
                per_wave[(row["wave_a"], row["measure"])] = (row["mean_a"], row["n_a"])
                per_wave[(row["wave_b"], row["measure"])] = (row["mean_b"], row["n_b"])
        rows = [
            {
                "wave": wave,
                "coefficient": name,
                "title": self.t.coefficients[name],
                "mean": per_wave[(wave, name)][0],
                "n": per_wave[(wave, name)][1],
            }
            for name in shown
            for wave in comparison["waves"]
            if (wave, name) in per_wave
        ]
        cols = (
            Column("wave", message("report.col.wave")),
            Column("title", message("report.col.coefficient")),
            Column("mean", message("report.col.mean"), "score"),
            Column("n", message("report.col.visits"), "count"),
        )
        return Topic(
            "trend",
            message("report.topic.trend.title"),
            message("report.topic.trend.note"),
            Table(cols, tuple(rows)),
            Chart("line", x="wave", y="mean", color="title"),
        )

    def changes(self, comparison: dict[str, Any]) -> Topic:
        last = comparison["waves"][-2:]
        rows = [r for r in comparison["rows"] if [r["wave_a"], r["wave_b"]] == last]
        coefs = [
            r
            for r in rows
            if r["kind"] == "coefficient" and score_like(self.m, r["measure"], r["mean_b"])
        ]
        items = sorted(
            (r for r in rows if r["kind"] != "coefficient" and r["p"] is not None),
            key=lambda r: (not r["significant"], r["p"]),
        )[: self.top]
        out = [
            {
                "measure": r["measure"],
                "title": self.t.of(r["kind"], r["measure"]),
                "mean_a": r["mean_a"],
                "mean_b": r["mean_b"],
                "change": r["change"],
                "ci_low": r["ci_low"],
                "ci_high": r["ci_high"],
                "p": r["p"],
                "p_adjusted": r["p_adjusted"],
                "significant": r["significant"],
            }
            for r in coefs + items
            if r["change"] is not None
        ]
        cols = (
            Column("title", message("report.col.measure")),
            Column("mean_a", last[0], "score"),
            Column("mean_b", last[1], "score"),
            Column("change", message("report.col.change"), "change"),
            Column("ci_low", message("report.col.ci_low"), "change"),
            Column("ci_high", message("report.col.ci_high"), "change"),
            Column("p", message("report.col.p"), "p"),
            Column("p_adjusted", message("report.col.p_adjusted"), "p"),
            Column("significant", message("report.col.significant"), "flag"),
        )
        return Topic(
            "changes",
            message("report.topic.changes.title", a=last[0], b=last[1]),
            message("report.topic.changes.note"),
            Table(cols, tuple(out)),
            Chart(
                "interval", y="title", x="change", low="ci_low", high="ci_high", color="significant"
            ),
        )

    # -- drivers ---------------------------------------------------------------------------------

    def drivers(self, outcome: str | None, paths: list[str | Path]) -> Topic | None:
        from ..key_drivers import drivers

        names = {c.name for c in self.m.coefficients}
        if outcome is None:
            if "subjective" not in names:
                return None
            outcome = "subjective"
        found = drivers(paths, outcome, standard=self.w.standard)
        rows = [
            {
                "predictor": d["predictor"],
                "title": d["title"],
                "importance": d["importance"],
                "share": d["share"],
                "ci_low": d["ci_low"],
                "ci_high": d["ci_high"],
                "performance": d["performance"],
                "quadrant": _quadrant(d["quadrant"]),
            }
            for d in found["drivers"]
        ]
        known = [r for r in rows if r["importance"] is not None and r["performance"] is not None]
        if not known:
            return None
        cols = (
            Column("title", message("report.col.item")),
            Column("importance", message("report.col.importance"), "number"),
            Column("share", message("report.col.importance_share"), "share"),
            Column("ci_low", message("report.col.ci_low"), "number"),
            Column("ci_high", message("report.col.ci_high"), "number"),
            Column("performance", message("report.col.performance"), "share"),
            Column("quadrant", message("report.col.quadrant")),
        )
        return Topic(
            "drivers",
            message(
                "report.topic.drivers.title", outcome=self.t.coefficients.get(outcome, outcome)
            ),
            message("report.topic.drivers.note", r2=f"{found['r2']:.3f}", n=found["n"]),
            Table(cols, tuple(rows)),
            Chart(
                "scatter",
                x="importance",
                y="performance",
                label="title",
                color="quadrant",
                x_ref=sum(r["importance"] for r in known) / len(known),
                y_ref=sum(r["performance"] for r in known) / len(known),
            ),
        )

    # -- calibration -----------------------------------------------------------------------------

    def calibration(self, cal: Mapping[str, Any]) -> Topic | None:
        evaluators = cal.get("evaluators") or []
        if not evaluators:
            return None
        # the headline's evaluators, else those of the first coefficient calibrated
        coef = self.h
        if not any(e["coefficient"] == coef for e in evaluators):
            coef = str(evaluators[0]["coefficient"])
        rows = [
            {
                "shopper": e["shopper"],
                "n": e["n"],
                "mean_deviation": e["mean_deviation"],
                "ci_low": e["ci_low"],
                "ci_high": e["ci_high"],
                "verdict": _verdict(e["verdict"]),
            }
            for e in evaluators
            if e["coefficient"] == coef
        ]
        if not rows:
            return None
        cols = (
            Column("shopper", message("report.col.shopper")),
            Column("n", message("report.col.cases"), "count"),
            Column("mean_deviation", message("report.col.deviation"), "change"),
            Column("ci_low", message("report.col.ci_low"), "change"),
            Column("ci_high", message("report.col.ci_high"), "change"),
            Column("verdict", message("report.col.verdict")),
        )
        against = cal.get("reference") or message("report.calibration.consensus")
        return Topic(
            "calibration",
            message(
                "report.topic.calibration.title", coefficient=self.t.coefficients.get(coef, coef)
            ),
            message("report.topic.calibration.note", against=against, cases=cal.get("cases")),
            Table(cols, tuple(rows)),
            Chart(
                "interval",
                y="shopper",
                x="mean_deviation",
                low="ci_low",
                high="ci_high",
                color="verdict",
            ),
        )

    def agreement(self, cal: Mapping[str, Any]) -> Topic | None:
        rows = [
            {
                "title": self.t.coefficients.get(c["coefficient"], c["coefficient"]),
                "kind": message("report.kind.coefficient"),
                "alpha": c["alpha"],
                "units": c["units"],
                "verdict": _verdict(c["verdict"]),
            }
            for c in cal.get("coefficients") or []
        ]
        items = sorted(
            cal.get("items") or [],
            key=lambda i: (i["alpha"] is None, i["alpha"] if i["alpha"] is not None else 0.0),
        )
        rows += [
            {
                "title": self.t.items.get(i["item"], i["item"]),
                "kind": message("report.kind.item"),
                "alpha": i["alpha"],
                "units": i["units"],
                "verdict": _verdict(i["verdict"]),
            }
            for i in items
        ]
        if not rows:
            return None
        cols = (
            Column("title", message("report.col.measure")),
            Column("kind", message("report.col.kind")),
            Column("alpha", message("report.col.alpha"), "number"),
            Column("units", message("report.col.cases"), "count"),
            Column("verdict", message("report.col.verdict")),
        )
        return Topic(
            "agreement",
            message("report.topic.agreement.title"),
            message("report.topic.agreement.note"),
            Table(cols, tuple(rows)),
        )

    # -- the plan --------------------------------------------------------------------------------

    def _money(self, plan: Mapping[str, Any]) -> str:
        currency = plan.get("currency")
        return (
            message("report.col.cost_in", currency=currency)
            if currency
            else message("report.col.cost")
        )

    def plan_levers(self, plan: Mapping[str, Any]) -> Topic | None:
        by_lever: dict[str, dict[str, Any]] = {}
        for g in plan.get("groups") or []:
            for lever in g.get("levers") or []:
                row = by_lever.setdefault(
                    lever["id"],
                    {
                        "lever": lever["id"],
                        "title": lever.get("title") or lever["id"],
                        "groups": 0,
                        "cost": 0.0,
                    },
                )
                row["groups"] += 1
                row["cost"] = math.fsum([row["cost"], lever.get("cost") or 0.0])
        rows = sorted(by_lever.values(), key=lambda r: -r["cost"])
        if not rows:
            return None
        cols = (
            Column("title", message("report.col.lever")),
            Column("groups", message("report.col.groups"), "count"),
            Column("cost", self._money(plan), "money"),
        )
        target = plan.get("target") or {}
        return Topic(
            "plan",
            message("report.topic.plan.title"),
            message(
                "report.topic.plan.note",
                total=_amount(plan.get("total_cost"), plan.get("currency"), self.lang),
                reached=plan.get("reached"),
                groups=len(plan.get("groups") or []),
                target=_target_text(target, self.t),
            ),
            Table(cols, tuple(rows)),
            Chart("bars", x="cost", y="title"),
        )

    def plan_groups(self, plan: Mapping[str, Any]) -> Topic | None:
        by = plan.get("by")
        rows = [
            {
                "key": g["key"],
                "n": g.get("n"),
                "current": g.get("current"),
                "expected": g.get("expected"),
                "simulated": g.get("simulated"),
                "cost": g.get("cost"),
                "reaches_target": g.get("reaches_target"),
                "note": g.get("note") or "",
            }
            for g in plan.get("groups") or []
        ]
        if not rows:
            return None
        cols = (
            Column("key", message("report.col.group"), card="point" if by == "point" else None),
            Column("n", message("report.col.visits"), "count"),
            Column("current", message("report.col.current"), "score"),
            Column("expected", message("report.col.expected"), "score"),
            Column("simulated", message("report.col.simulated"), "score"),
            Column("cost", self._money(plan), "money"),
            Column("reaches_target", message("report.col.reaches_target"), "flag"),
            Column("note", message("report.col.note")),
        )
        return Topic(
            "plan_groups",
            message("report.topic.plan_groups.title"),
            message("report.topic.plan_groups.note"),
            Table(cols, tuple(rows)),
        )

    # -- cards -----------------------------------------------------------------------------------

    def cards(self, level: str) -> Iterator[Card]:
        groups = self.w.reports[level]["groups"]
        ranked = sorted(
            (g for g in groups if g["coefficients"][self.h]["mean"] is not None),
            key=lambda g: -g["coefficients"][self.h]["mean"],
        )
        rank = {g["key"]: i for i, g in enumerate(ranked, 1)}
        net = self.net["coefficients"]
        coef_cols = (
            Column("title", message("report.col.coefficient")),
            Column("mean", message("report.col.mean"), "score"),
            Column("network", message("report.col.network"), "score"),
            Column("target", message("report.col.target"), "score"),
        )
        section_cols = (
            Column("title", message("report.col.section")),
            Column("mean", message("report.col.mean"), "score"),
            Column("network", message("report.col.network"), "score"),
        )
        item_cols = (
            Column("title", message("report.col.item")),
            Column("lost_share", message("report.col.lost_share"), "share"),
            Column("pass_rate", message("report.col.pass_rate"), "share"),
            Column("network", message("report.col.network"), "share"),
        )
        titles = (
            message("report.card.coefficients"),
            message("report.card.sections"),
            message("report.card.weakest"),
        )
        title_of = (
            (lambda key: message("report.card.title_point", key=key))
            if level == "point"
            else (lambda key: message("report.card.title_specialist", key=key))
        )
        for g in groups:
            key = g["key"]
            coefs = tuple(
                {
                    "title": self.t.coefficients[name],
                    "mean": stat["mean"],
                    "network": net[name]["mean"],
                    "target": stat["target"],
                }
                for name, stat in g["coefficients"].items()
                if score_like(self.m, name, net[name]["mean"])
            )
            sections = tuple(
                {
                    "title": self.t.sections[s.name],
                    "mean": self.w.section_mean(level, key, s.name)[0],
                    "network": self.w.section_mean("network", "network", s.name)[0],
                }
                for s in self.m.sections
            )
            weakest = tuple(
                {
                    "title": self.t.items[z["item"]],
                    "lost_share": z["lost_share"],
                    "pass_rate": self.w.pass_rate(level, key, z["item"])[0],
                    "network": self.w.pass_rate("network", "network", z["item"])[0],
                }
                for z in g["growth_zones"][:5]
            )
            head = g["coefficients"][self.h]
            facts: list[tuple[str, Any, str]] = [
                (message("report.col.visits"), g["visits"], "count"),
                (self.h_title, head["mean"], "score"),
            ]
            if head["band"] is not None:
                facts.append((message("report.col.band"), head["band"], "text"))
            if head["gap"] is not None:
                facts.append((message("report.col.gap"), head["gap"], "change"))
            if key in rank:
                facts.append(
                    (
                        message("report.col.rank"),
                        message("report.card.rank", rank=rank[key], total=len(ranked)),
                        "text",
                    )
                )
            if level == "specialist":
                points = ", ".join(map(str, self.w.points_of.get(key, [])))
                facts.append((message("report.col.point"), points, "text"))
            yield Card(
                level,
                key,
                title_of(key),
                tuple(facts),
                (
                    Topic(
                        "card-coefficients",
                        titles[0],
                        "",
                        Table(coef_cols, coefs),
                        Chart("bars", x="mean", y="title", target="network", domain=(0.0, 1.0)),
                    ),
                    Topic(
                        "card-sections",
                        titles[1],
                        "",
                        Table(section_cols, sections),
                        Chart("bars", x="mean", y="title", target="network", domain=(0.0, 1.0)),
                    ),
                    Topic("card-weakest", titles[2], "", Table(item_cols, weakest)),
                ),
            )


def _quadrant(quadrant: str | None) -> str | None:
    """The importance–performance quadrant of `drivers` (English, for machines), as
    people read it."""
    texts = {
        "concentrate here": message("report.quadrant.concentrate"),
        "keep up the good work": message("report.quadrant.keep_up"),
        "low priority": message("report.quadrant.low_priority"),
        "possible overkill": message("report.quadrant.overkill"),
    }
    return None if quadrant is None else texts.get(quadrant, quadrant)


def _verdict(verdict: str | None) -> str | None:
    """A verdict of `calibrate` (English, for machines), as people read it."""
    texts = {
        "reliable": message("report.verdict.reliable"),
        "tentative": message("report.verdict.tentative"),
        "unreliable": message("report.verdict.unreliable"),
        "lenient": message("report.verdict.lenient"),
        "severe": message("report.verdict.severe"),
        "consistent": message("report.verdict.consistent"),
    }
    return None if verdict is None else texts.get(verdict, verdict)


def _amount(value: Any, currency: Any, lang: str) -> str:
    """A total in a sentence: grouped thousands, no decimals, the currency after it."""
    if not isinstance(value, int | float) or not math.isfinite(value):
        return "—"
    text = f"{round(value):,}".replace(",", "\u00a0" if lang == "ru" else ",")
    return f"{text} {currency}" if currency else text


def _target_text(target: Any, titles: Titles) -> str:
    """`Посещение в целом ≥ 0.85` from the plan's {"coefficient", "value"}."""
    if isinstance(target, Mapping) and "coefficient" in target:
        name = str(target["coefficient"])
        return f"{titles.coefficients.get(name, name)} ≥ {target.get('value')}"
    return str(target)


def _geometric(lo: int, hi: int, steps: int) -> list[int]:
    lo = max(lo, 1)
    if hi <= lo:
        return [lo]
    ratio = (hi / lo) ** (1 / steps)
    return sorted({round(lo * ratio**k) for k in range(steps + 1)})


def _read_json(source: str | Path | Mapping[str, Any], what: str) -> dict[str, Any]:
    if isinstance(source, Mapping):
        return dict(source)
    try:
        with open(source, encoding="utf-8") as f:
            data = json.load(f)
    except OSError as e:
        raise ReportError(
            message("report.error.unreadable", what=what, path=source, reason=e.strerror or e)
        ) from None
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise ReportError(
            message("report.error.not_json", what=what, path=source, reason=e)
        ) from None
    if not isinstance(data, dict):
        raise ReportError(message("report.error.not_object", what=what, path=source))
    return data
