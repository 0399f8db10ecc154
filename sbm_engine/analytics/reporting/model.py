"""What a report holds, whatever draws it: topics (a table and its chart) and cards.

`content.build` fills these from scored visits and the outputs of `compare`,
`drivers`, `plan` and `calibrate`; `html.render` and `workbook.render` draw the
same object, so the HTML page and the Excel workbook cannot disagree.

Every figure is kept as the analytics computed it (a float, an int, None for N/A);
formatting belongs to the renderers and follows the column's `kind`. Every text a
person reads (titles, notes, labels of the interface) is already in the report's
language: renderers look nothing up.
"""

from __future__ import annotations

from typing import Any

import attrs

#: How a column's values read:
#: text   -- a string shown as is;
#: score  -- a coefficient or section score, shown with three decimals (0.853);
#: share  -- a proportion 0..1, shown as a percent with one decimal (85.3 %);
#: change -- a difference of scores or shares, signed, three decimals (+0.045);
#: number -- any other figure, four significant digits;
#: count  -- an integer (visits, evaluators);
#: p      -- a p-value: four decimals, "<0.0001" below that;
#: money  -- an amount in the report's currency, grouped thousands, no decimals;
#: flag   -- a bool shown as the report's `ui["yes"]` / `ui["no"]`.
KINDS = ("text", "score", "share", "change", "number", "count", "p", "money", "flag")

#: The chart kinds; the roles each reads from its table (`Chart` fields) are:
#: bars     -- horizontal bars: `y` the category (text), `x` the value; optional
#:             `target` (a tick per bar), `color` (a text column: one colour per value);
#: columns  -- vertical bars: `x` the category, `y` the value; optional `color`;
#: line     -- `x` the ordinal (a wave label), `y` the value, `color` the series;
#: heatmap  -- `x` the column category, `y` the row category, `value` the colour (a
#:             share 0..1), `n` the count behind it; cells with n < `min_n` are grey;
#: funnel   -- `x` the number of visits, `y` the value, `label` a point's key; the
#:             control limits are drawn from `lines` (columns n, center, low95,
#:             high95, low998, high998);
#: scatter  -- `x`, `y`, `label`; optional `color`; reference rules at `x_ref`, `y_ref`;
#: interval -- `y` the category, `x` the estimate, `low`..`high` its interval; a
#:             rule at 0; optional `color`.
CHART_KINDS = ("bars", "columns", "line", "heatmap", "funnel", "scatter", "interval")


@attrs.frozen
class Column:
    """A column of a table: the key of its values in each row, its title and kind.

    `card`: "point" or "specialist" when the value is such a key: the cell links to
    that card (`Card.anchor_for(card, value)`)."""

    key: str
    title: str
    kind: str = "text"
    card: str | None = None


@attrs.frozen
class Table:
    columns: tuple[Column, ...]
    rows: tuple[dict[str, Any], ...]

    def column(self, key: str) -> Column:
        for c in self.columns:
            if c.key == key:
                return c
        raise KeyError(key)


@attrs.frozen
class Chart:
    """How a topic's table is drawn; the fields name columns of the table (see
    `CHART_KINDS`). `title_x`/`title_y` default to those columns' titles."""

    kind: str
    x: str | None = None
    y: str | None = None
    color: str | None = None
    target: str | None = None
    value: str | None = None
    n: str | None = None
    label: str | None = None
    low: str | None = None
    high: str | None = None
    x_ref: float | None = None
    y_ref: float | None = None
    min_n: int = 0
    lines: Table | None = None
    domain: tuple[float, float] | None = None


@attrs.frozen
class Topic:
    """One section of the report: a title, a sentence on how to read it, the table
    and its chart (None: a table only). `pivot` = (row key, column key, value key)
    shows the table as a matrix (the heat map's numbers); renderers keep `table.rows`
    long for the chart."""

    id: str
    title: str
    note: str
    table: Table
    chart: Chart | None = None
    pivot: tuple[str, str, str] | None = None


@attrs.frozen
class Card:
    """A one-page card of a point or a specialist, for a coaching talk.

    `facts`: label → value pairs shown at the top (visits, the headline score, its
    band, the rank among peers); `tables`: its coefficients against the network and
    the target, its sections, its weakest items (each a `Topic` whose chart, if any,
    is drawn small)."""

    level: str
    key: str
    title: str
    facts: tuple[tuple[str, Any, str], ...]
    topics: tuple[Topic, ...]

    @property
    def anchor(self) -> str:
        return anchor_for(self.level, self.key)


def anchor_for(level: str, key: Any) -> str:
    """The HTML id of a card: `card-point-MSK-03`; characters other than letters,
    digits, `-`, `_` and `.` are written as `~XXXX` (their code point), so two keys
    never share an anchor."""
    out = []
    for ch in str(key):
        if ch.isalnum() or ch in "-_.":
            out.append(ch)
        else:
            out.append(f"~{ord(ch):04X}")
    return f"card-{level}-{''.join(out)}"


@attrs.frozen
class Report:
    """The whole report.

    `ui`: the interface's words in the report's language, by these keys: contents,
    table, chart, cards, points, specialists, back, print, yes, no, na (how N/A
    reads), too_few (the legend of grey heat-map cells), generated (a sentence with
    the date and engine version), visits, card_of_point, card_of_specialist.
    `facts`: what the report is about (the standard's title and version, the waves,
    visits, groups), as label → value → kind, shown under the title."""

    lang: str
    title: str
    facts: tuple[tuple[str, Any, str], ...]
    topics: tuple[Topic, ...]
    cards: tuple[Card, ...]
    ui: dict[str, str]
    currency: str | None = None
    meta: dict[str, Any] = attrs.field(factory=dict)
