"""The figures of one wave that a report needs, from one pass over its visits.

The visits are summed once per (point, specialist) pair: roll-ups (`rollup.Rollup`,
so means, gaps and growth zones are those `sbm rollup` prints), the item tallies of
`sbm compare` (a pass is a full score), section means and the distribution of visits
by band. The network, the points and the specialists are those sums added up; every
sum is exact, so each level's figures are those of rolling the visits up by it.
Parquet and CSV results are summed a column at a time (`rollup_columns`), into the
same exact sums, so the figures do not depend on the way the visits were read.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from operator import itemgetter
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from ...messages import message
from ...model import StandardModel
from ...result_files import CheckedResults, ResultsError
from ...rollup import Rollup
from ..moments import Moments

if TYPE_CHECKING:
    from ..waves import WaveTally

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

    def __init__(
        self,
        paths: Sequence[str | Path],
        standard: Any,
        headline: str | None,
        *,
        columnar: bool = True,
    ) -> None:
        """`columnar`: Parquet and CSV results are summed a column at a time, with the
        record path's figures (`rollup_columns`); input that does not pass the column
        checks, and any other format, is read record by record, whose messages name
        each problem with file and line."""
        from ..columnar import Fallback

        self.band_counts: dict[str, int] = {}
        self.no_band = 0
        self.dates: list[str] = []
        #: the checked records read, or None when the visits were read as columns
        self.results: CheckedResults | None = None
        self.sections: dict[str, dict[Any, _Sections]] = {level: {} for level in LEVELS}
        try:
            if not columnar:
                raise Fallback("asked for the record path")
            by_pair, pair_tally, sections = self._from_columns(paths, standard, headline)
        except Fallback:
            self.band_counts, self.no_band, self.dates = {}, 0, []
            by_pair, pair_tally, sections = self._from_records(paths, standard, headline)
        section_names = [s.name for s in self.model.sections]
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
        for pair, group in sections.items():
            for level, key_of in level_of.items():
                into = self.sections[level].setdefault(
                    key_of(pair), _Sections({n: Moments() for n in section_names})
                )
                for name, stat in group.means.items():
                    into.means[name].merge(stat)

    def _from_records(
        self, paths: Sequence[str | Path], standard: Any, headline: str | None
    ) -> tuple[Rollup, WaveTally, dict[tuple[Any, Any], _Sections]]:
        """One pass over the checked records, summed per (point, specialist) pair."""
        from ..columnar import WaveSums
        from ..waves import WaveTally

        results = self.results = CheckedResults(list(paths), standard, done="analysed")
        sections: dict[tuple[Any, Any], _Sections] = {}
        chunk: list[dict[str, Any]] = []
        pairs: list[tuple[Any, Any]] = []
        model: StandardModel | None = None
        for _, record in results:
            if model is None:
                assert results.standard is not None
                model = results.standard.model
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
        assert model is not None and results.standard is not None
        if chunk:
            sums.add_records(chunk, pairs)
        sums.fold_into(pair_tally, "wave")
        self.model = model
        self.standard = results.standard
        self.visits = results.count
        return by_pair, pair_tally, sections

    def _from_columns(
        self, paths: Sequence[str | Path], standard: Any, headline: str | None
    ) -> tuple[Rollup, WaveTally, dict[tuple[Any, Any], _Sections]]:
        """The same sums as `_from_records`, from Parquet or CSV columns; `Fallback`
        when the record path must read the input (it then says what is wrong)."""
        import numpy as np
        import pyarrow.compute as pc

        from ...rollup_columns import (
            Batch,
            ColumnSums,
            column_numbers,
            columnar_inputs,
            empty_as_null,
            sum_columns,
        )
        from ..columnar import Fallback, WaveSums
        from ..waves import WaveTally

        std, files = columnar_inputs(paths, standard, None)
        model = std.model
        names = [c.name for c in model.coefficients]
        if not names or (headline is not None and headline not in names):
            raise Fallback("the record path says what is wrong with the headline")
        self.headline = pick_headline(model, headline)
        bands = model.bands.get(self.headline)
        if bands is not None and any(
            t is not None and not (type(t) in (int, float) and float(t) == t)
            for _, t in bands.bands
        ):
            raise Fallback("a band threshold numpy may compare otherwise")
        by_pair = Rollup(model, "specialist", key=_pair)
        pair_tally = WaveTally(model, "specialist")  # keyed by pairs, see `regrouped`
        col_sums = ColumnSums(by_pair, ("point", "specialist"))
        sums = WaveSums(pair_tally)
        sums.keys = col_sums.keys  # one group index for both
        section_names = [s.name for s in model.sections]
        # section moments, summed as coefficients are (`WaveSums`): a tally whose
        # "coefficients" are the sections
        section_tally = WaveTally(model, "specialist")
        section_tally.coef_names = section_names
        section_tally.item_names = []
        section_sums = WaveSums(section_tally)
        section_sums.keys = col_sums.keys
        headline_column = f"coefficients.{self.headline}"

        def add(batch: Batch, codes: Any, measures: dict[str, Any]) -> None:
            sums.add(codes, measures)
            section_sums.add(
                codes,
                {
                    f"coefficients.{n}": column_numbers(batch, f"sections.{n}")
                    for n in section_names
                },
            )
            if bands is not None:
                got = measures.get(headline_column)
                left, values = (
                    (np.zeros(batch.rows, dtype=bool), np.zeros(batch.rows))
                    if got is None
                    else (got[0].copy(), got[1])
                )
                placed = 0
                for label, threshold in bands.bands:  # the first band the value reaches
                    hit = left if threshold is None else left & (values >= threshold)
                    count = int(np.count_nonzero(hit))
                    if count:
                        self.band_counts[label] = self.band_counts.get(label, 0) + count
                        placed += count
                    left = left & ~hit
                self.no_band += batch.rows - placed
            date = batch.columns.get("date")
            if date is not None and _is_text(date):
                low, high = pc.min_max(empty_as_null(date)).values()
                if low.is_valid:
                    self._span(low.as_py())
                    self._span(high.as_py())

        also = {"date", *(f"sections.{n}" for n in section_names)}
        sum_columns(files, col_sums, also, add)
        sums.fold_into(pair_tally, "wave")
        section_sums._fold()
        sections = {key: _Sections({n: Moments() for n in section_names}) for key in col_sums.keys}
        keys = list(col_sums.keys)
        for name in section_names:
            for gi, *moments in section_sums.exact_sums(name):
                sections[keys[gi]].means[name].add_exact(*moments)
        self.model = model
        self.standard = std
        self.visits = col_sums.rows_seen
        return by_pair, pair_tally, sections

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


def _is_text(column: Any) -> bool:
    """A text column: dates of other types are not dates to the record path either."""
    import pyarrow as pa

    return bool(pa.types.is_string(column.type) or pa.types.is_large_string(column.type))


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
