"""The figures of one wave that a report needs, from one pass over its visits.

The visits are summed once per (point, specialist) pair: roll-ups (`rollup.Rollup`,
so means, gaps and growth zones are those `sbm rollup` prints), the item tallies of
`sbm compare` (a pass is a full score), section means and the distribution of visits
by band. The network, the points and the specialists are those sums added up; every
sum is exact, so each level's figures are those of rolling the visits up by it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from operator import itemgetter
from pathlib import Path
from typing import Any

import attrs

from ...messages import message
from ...model import StandardModel
from ...result_files import CheckedResults, ResultsError
from ...rollup import Rollup
from ..moments import Moments

LEVELS = ("network", "point", "specialist")


class ReportError(ResultsError):
    """A report cannot be made as asked (an unknown coefficient, an unreadable plan)."""


@attrs.define
class _Sections:
    """Section means of one group: exact moments per section."""

    means: dict[str, Moments]

    def add(self, values: Mapping[str, Any]) -> None:
        for name, stat in self.means.items():
            x = values.get(name)
            if x is not None:
                stat.add(x)


class WaveFigures:
    """Everything the report needs from the current wave, read once.

    The visits are summed once per (point, specialist) pair; the network, the points
    and the specialists are then those sums added up (`Rollup.regroup`,
    `WaveTally.regrouped`). Every sum is exact, so each level's figures are the ones
    of rolling the visits up by that level."""

    def __init__(self, paths: Sequence[str | Path], standard: Any, headline: str | None) -> None:
        from ..columnar import WaveSums
        from ..waves import WaveTally

        self.results = CheckedResults(list(paths), standard, done="analysed")
        self.band_counts: dict[str, int] = {}
        self.no_band = 0
        self.dates: list[str] = []
        sections: dict[tuple[Any, Any], _Sections] = {}
        chunk: list[dict[str, Any]] = []
        pairs: list[tuple[Any, Any]] = []
        model: StandardModel | None = None
        for _, record in self.results:
            if model is None:
                assert self.results.standard is not None
                model = self.results.standard.model
                self.headline = pick_headline(model, headline)
                by_pair = Rollup(model, "specialist", key=_pair)
                pair_tally = WaveTally(model, "specialist")  # keyed by pairs, see `regrouped`
                sums = WaveSums(pair_tally)
                section_names = [s.name for s in model.sections]
                bands = model.bands.get(self.headline)
            pair = _pair(record)
            by_pair.add_checked(record)
            group = sections.get(pair)
            if group is None:
                group = sections[pair] = _Sections({n: Moments() for n in section_names})
            group.add(record.get("sections") or {})
            if bands is not None:
                value = (record.get("coefficients") or {}).get(self.headline)
                label = None if value is None else bands.band_of(value)
                if label is None:
                    self.no_band += 1
                else:
                    self.band_counts[label] = self.band_counts.get(label, 0) + 1
            date = record.get("date")
            if isinstance(date, str) and date:
                self._span(date)
            chunk.append(record)
            pairs.append(pair)
            if len(chunk) >= 4096:
                sums.add_records(chunk, pairs)
                chunk, pairs = [], []
        assert model is not None and self.results.standard is not None
        if chunk:
            sums.add_records(chunk, pairs)
        sums.fold_into(pair_tally, "wave")
        self.model = model
        self.standard = self.results.standard
        self.visits = self.results.count
        #: the points of each specialist (one, as a rule)
        self.points_of: dict[Any, list[Any]] = {}
        for point, specialist in sorted(by_pair.groups, key=str):
            self.points_of.setdefault(specialist, []).append(point)
        level_of: dict[str, Callable[[Any], Any]] = {
            "network": lambda _: "network",
            "point": itemgetter(0),
            "specialist": itemgetter(1),
        }
        self.reports = {
            level: by_pair.regroup(level, key_of).report() for level, key_of in level_of.items()
        }
        self.tallies = {
            level: pair_tally.regrouped(level, key_of) for level, key_of in level_of.items()
        }
        self.sections: dict[str, dict[Any, _Sections]] = {level: {} for level in LEVELS}
        for pair, group in sections.items():
            for level, key_of in level_of.items():
                into = self.sections[level].setdefault(
                    key_of(pair), _Sections({n: Moments() for n in section_names})
                )
                for name, stat in group.means.items():
                    into.means[name].merge(stat)

    def _span(self, date: str) -> None:
        """The first and last dates of the wave (ISO dates compare as text)."""
        if not self.dates:
            self.dates = [date, date]
        elif date < self.dates[0]:
            self.dates[0] = date
        elif date > self.dates[1]:
            self.dates[1] = date

    def pass_rate(self, level: str, key: Any, item: str) -> tuple[float | None, int]:
        cell = self.tallies[level].cells.get(("wave", key))
        if cell is None:
            return None, 0
        n = cell.applied.get(item, 0)
        return (cell.passed[item] / n if n else None), n

    def section_mean(self, level: str, key: Any, name: str) -> tuple[float | None, int]:
        group = self.sections[level].get(key)
        if group is None:
            return None, 0
        stat = group.means[name]
        return stat.mean(), stat.n


def _pair(record: Mapping[str, Any]) -> tuple[Any, Any]:
    return record.get("point"), record.get("specialist")


def pick_headline(model: StandardModel, given: str | None) -> str:
    """The coefficient the report leads with: `given`, else `visit`, else the first
    with a target and bands, else the first with a target, else the last declared."""
    names = [c.name for c in model.coefficients]
    if given is not None:
        if given not in names:
            raise ReportError(
                message("report.error.no_coefficient", name=given, names=", ".join(names))
            )
        return given
    if not names:
        raise ReportError(message("report.error.no_coefficients"))
    if "visit" in names:
        return "visit"
    for wanted in (lambda n: n in model.targets and n in model.bands, lambda n: n in model.targets):
        for n in names:
            if wanted(n):
                return n
    return names[-1]


# ---- titles ------------------------------------------------------------------------------------


class Titles:
    """What people read instead of internal names."""

    def __init__(self, model: StandardModel) -> None:
        self.coefficients = {c.name: c.title or c.name for c in model.coefficients}
        self.items = {i.name: i.question or i.name for i in model.items}
        self.sections = {s.name: s.title or s.name for s in model.sections}
        self.section_of = {i.name: i.section for i in model.items}
        self.rollups = {r.name: r.title or r.name for r in model.rollups}

    def of(self, kind: str, name: str) -> str:
        table = self.coefficients if kind == "coefficient" else self.items
        return table.get(name, name)


def score_like(model: StandardModel, name: str, mean: float | None) -> bool:
    """A coefficient drawn on the 0..1 axis of scores: its mean, target and band
    thresholds all lie in [0, 1] (minutes or penalty points do not)."""
    values = [mean, model.targets.get(name)]
    bands = model.bands.get(name)
    if bands is not None:
        values += [x for _, x in bands.bands]
    return all(v is None or 0.0 <= v <= 1.0 for v in values)


# ---- building ----------------------------------------------------------------------------------
