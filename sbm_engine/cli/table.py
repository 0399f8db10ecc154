"""The terminal table of `sbm rollup`: a roll-up laid out for people, within a width.

What it shows: the standard's titles (or its names), figures rounded for reading,
N/A as "—", numbers right-aligned, growth zones by their questions and a summary.

How it fits the width (nothing is wider), in this order of preference:

1. A row per group and a column per figure, as a roll-up is read: groups are
   compared down a column, and it is the layout of the JSON, CSV and XLSX too.
   Headers wrap over one, two or three lines (the fewest that fit); a word too
   long for a header is cut with "…".
2. Too wide for that, turned when that fits: figures as rows with their titles
   (over two lines if need be), a column per group. It fits when the groups are few (the network,
   regions, a few points), and reads like a report card.
3. Otherwise the rows of 1. cut into blocks of columns that fit, each repeating
   the group column. A figure is never cut or moved off its group's line.

Widths are display widths (`text_width`): a CJK character or an emoji takes two
cells, a combining accent none, so titles in any script line up.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Sequence
from typing import Any

from ..messages import message

#: The narrowest table laid out; below it lines may be wider than asked.
MIN_WIDTH = 40
#: The width when there is no terminal and no $COLUMNS.
DEFAULT_WIDTH = 100
#: The widest a figure column grows for its header, and the most lines a header takes.
HEADER_WIDTH, HEADER_LINES = 20, 3
#: The widest the group column and (when turned) the title column grow.
KEY_WIDTH, LABEL_WIDTH = 20, 60
GAP = "  "
NA = "—"

# -- text in cells ------------------------------------------------------------------------------


def char_width(ch: str) -> int:
    """Terminal cells of one character: 2 for wide (CJK, emoji), 0 for combining
    marks and format characters, 1 otherwise (ambiguous ones, Cyrillic among them)."""
    if unicodedata.combining(ch) or unicodedata.category(ch) in ("Mn", "Me", "Cf"):
        return 0
    return 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1


def text_width(text: str) -> int:
    if text.isascii() and text.isprintable():  # figures, names: one cell each
        return len(text)
    return sum(char_width(ch) for ch in text)


def one_line(text: str) -> str:
    """Text from the input (a group key) safe for one cell: controls escaped."""
    return "".join(
        ch.encode("unicode_escape").decode("ascii")
        if unicodedata.category(ch) in ("Cc", "Zl", "Zp")
        else ch
        for ch in text
    )


def clip(text: str, width: int, words: bool = False) -> str:
    """`text` in at most `width` cells, ending with "…" when cut; `words` cuts at a
    space when one is near the end, so a question does not stop mid-word."""
    if text_width(text) <= width:
        return text
    if width < 1:
        return ""
    kept: list[str] = []
    used = 0
    for ch in text:
        used += char_width(ch)
        if used > width - 1:
            break
        kept.append(ch)
    cut = "".join(kept)
    space = cut.rfind(" ")
    if words and space > len(cut) * 2 // 3:
        cut = cut[:space]
    return cut.rstrip(" ,;:-") + "…"


def pad(text: str, width: int, right: bool = False) -> str:
    fill = " " * max(0, width - text_width(text))
    return fill + text if right else text + fill


_TOKEN = re.compile(r"\s*(?:[^\s_/-]+[_/-]*|[_/-]+)")


def wrap(text: str, width: int, lines: int) -> list[str]:
    """`text` over at most `lines` lines of `width` cells, broken at spaces and after
    `_`, `-` or `/` (so names wrap too); what does not fit is cut with "…"."""
    tokens = _tokens(text)
    rows: list[str] = []
    cur = ""
    for n, token in enumerate(tokens):
        if cur and text_width(cur + token) > width:
            if len(rows) == lines - 1:
                cur = clip(cur + "".join(tokens[n:]), width, words=True)
                break
            rows.append(cur)
            cur = ""
        cur = cur + token if cur else token.lstrip()
    rows.append(cur)
    return [clip(row, width) for row in rows]


def _tokens(text: str) -> list[str]:
    """Pieces a line may break between, each with the spaces before it; a word of
    one or two letters (`с`, `и`, `of`) stays with the next, not hanging at a line end."""
    out: list[str] = []
    for token in _TOKEN.findall(text):
        if out and len(out[-1].strip()) <= 2 and out[-1].strip().isalpha() and token[:1].isspace():
            out[-1] += token
        else:
            out.append(token)
    return out


def header_width(text: str, least: int, lines: int, cut: bool) -> int | None:
    """The narrowest width from `least` on in which `text` wraps whole into `lines`
    lines; when even HEADER_WIDTH is too narrow, HEADER_WIDTH if `cut` (the header
    then ends with "…"), else None."""
    least = max(least, 1)
    for w in range(least, max(least, min(text_width(text), HEADER_WIDTH)) + 1):
        if _whole(wrap(text, w, lines), text):
            return w
    return max(least, HEADER_WIDTH) if cut else None


def _whole(rows: list[str], text: str) -> bool:
    """Whether wrapped `rows` hold all of `text` (none was cut)."""
    return re.sub(r"\s+", "", "".join(rows)) == re.sub(r"\s+", "", text)


# -- figures ------------------------------------------------------------------------------------


def decimals(values: Sequence[float | None]) -> int:
    """Decimals for a column of figures, by its largest: three below 10 (scores in
    [0, 1], as targets are written), two below 100 (NPS 26.47), one below 1,000,
    none above: four significant digits, the same for every group."""
    largest = max((abs(v) for v in values if v is not None and math.isfinite(v)), default=0)
    return next((n for n, limit in ((3, 10), (2, 100), (1, 1000)) if largest < limit), 0)


def number(x: float | None, places: int, sign: str = "") -> str:
    """A figure with thousands separators; huge ones in exponent form, so one absurd
    value cannot stretch the table."""
    if x is None:
        return NA
    if not math.isfinite(x) or abs(x) >= 1e9:
        return f"{x:{sign}.3g}"
    return f"{x:{sign},.{places}f}"


def percent(x: float | None) -> str:
    if x is None:
        return NA
    if 0 < x < 0.0005:
        return "<0.1%"
    return f"{x:.1%}"


class Column:
    """One figure over the groups: a label and, per group, a number and its gap."""

    def __init__(self, label: str, cells: list[tuple[str, str]]) -> None:
        self.label = label
        self.cells = cells
        self.main = max(text_width(m) for m, _ in cells)
        self.side = max(text_width(s) for _, s in cells)

    @property
    def width(self) -> int:
        return self.main + (1 + self.side if self.side else 0)

    def cell(self, i: int) -> str:
        main, side = self.cells[i]
        text = pad(main, self.main, right=True)
        return text + (" " + pad(side, self.side, right=True) if self.side else "")


def _titles(model: Any, names: bool) -> tuple[dict[str, str], dict[str, str], set[str]]:
    """Labels of coefficients and rollups (and items), and the rollups that are shares."""
    if model is None:
        return {}, {}, set()
    labels = {c.name: one_line(c.title or "") for c in model.coefficients}
    labels.update({r.name: one_line(r.title or "") for r in model.rollups})
    questions = {i.name: one_line(i.question or "") for i in model.items}
    shares = {r.name for r in model.rollups if r.expr.op == "agg" and r.expr.data[0] == "share"}
    if names:
        return {}, {}, shares
    return {k: v for k, v in labels.items() if v}, {k: v for k, v in questions.items() if v}, shares


def _columns(report: dict[str, Any], labels: dict[str, str], shares: set[str]) -> list[Column]:
    groups = report["groups"]
    cols = [Column(message("rollup.visits_column"), [(f"{g['visits']:,}", "") for g in groups])]
    for name in groups[0]["coefficients"]:
        stats = [g["coefficients"][name] for g in groups]
        places = decimals([s["mean"] for s in stats])
        cells = [
            (
                number(s["mean"], places),
                "" if s["gap"] is None else f"({number(s['gap'], places, '+')})",
            )
            for s in stats
        ]
        cols.append(Column(labels.get(name, name), cells))
    for name in groups[0]["rollups"]:
        values = [g["rollups"][name] for g in groups]
        if any(isinstance(v, str) for v in values):  # a band label: `mode(band(c))`
            cells = [(NA if v is None else one_line(str(v)), "") for v in values]
        elif name in shares:
            cells = [(percent(v), "") for v in values]
        else:
            places = decimals(values)
            cells = [(number(v, places), "") for v in values]
        cols.append(Column(labels.get(name, name), cells))
    return cols


# -- layouts ------------------------------------------------------------------------------------


def _rows_layout(
    by: str, keys: list[str], cols: list[Column], width: int, lines: int, blocks: bool
) -> list[str] | None:
    """Groups as rows, headers over `lines` lines (cut with "…" only at the most
    lines); None when it does not fit in one block, unless `blocks`: then blocks
    of the columns that fit, each repeating the group column."""
    key_w = max(text_width(k) for k in [by, *keys])
    key_w = min(key_w, KEY_WIDTH, max(8, width // 4))
    widths = []
    for col in cols:
        w = header_width(col.label, col.width, lines, cut=lines == HEADER_LINES)
        if w is None:
            return None
        widths.append(w)
    parts: list[list[int]] = [[]]
    used = key_w
    for i, w in enumerate(widths):
        if parts[-1] and used + len(GAP) + w > width:
            if not blocks:
                return None
            parts.append([])
            used = key_w
        parts[-1].append(i)
        used += len(GAP) + w
    out: list[str] = []
    for block in parts:
        if out:
            out.append("")
        heads = [wrap(cols[i].label, widths[i], lines) for i in block]
        height = max(len(h) for h in heads)
        for row in range(height):
            cells = [pad(clip(by, key_w), key_w) if row == height - 1 else " " * key_w]
            for i, h in zip(block, heads, strict=True):
                at = row - (height - len(h))
                cells.append(pad(h[at] if at >= 0 else "", widths[i], right=True))
            out.append(GAP.join(cells).rstrip())
        out.append(GAP.join("-" * w for w in [key_w, *(widths[i] for i in block)]))
        for g, key in enumerate(keys):
            cells = [pad(clip(key, key_w), key_w)]
            cells += [pad(cols[i].cell(g), widths[i], right=True) for i in block]
            out.append(GAP.join(cells).rstrip())
    return out


def _turned_layout(by: str, keys: list[str], cols: list[Column], width: int) -> list[str] | None:
    """Figures as rows, one column per group; None when it does not fit."""
    mains = [max(text_width(c.cells[g][0]) for c in cols) for g in range(len(keys))]
    sides = [max(text_width(c.cells[g][1]) for c in cols) for g in range(len(keys))]
    cells_w = [m + (1 + s if s else 0) for m, s in zip(mains, sides, strict=True)]
    if sum(len(GAP) + w for w in cells_w) > width:  # many groups: no need to look further
        return None
    widths = [
        max(w, header_width(k, w, 2, cut=True) or w) for k, w in zip(keys, cells_w, strict=True)
    ]
    room = width - sum(len(GAP) + w for w in widths)
    longest = max(text_width(label) for label in [by, *(c.label for c in cols)])
    label_w = min(longest, LABEL_WIDTH, room)
    if label_w < min(longest, 24):
        return None
    heads = [wrap(k, w, 2) for k, w in zip(keys, widths, strict=True)]
    height = max(len(h) for h in heads)
    out: list[str] = []
    for row in range(height):
        cells = [pad(clip(by, label_w), label_w) if row == height - 1 else " " * label_w]
        for h, main_w, w in zip(heads, mains, widths, strict=True):
            at = row - (height - len(h))
            cells.append(pad(pad(h[at] if at >= 0 else "", main_w, right=True), w))
        out.append(GAP.join(cells).rstrip())
    out.append(GAP.join("-" * w for w in [label_w, *widths]))
    for col in cols:
        label, *more = wrap(col.label, label_w, 2)  # a long title takes a second line
        cells = [pad(label, label_w)]
        for g, w in enumerate(widths):
            main, side = col.cells[g]
            text = pad(main, mains[g], right=True)
            if sides[g]:
                text += " " + pad(side, sides[g], right=True)
            cells.append(pad(text, w, right=True))
        out.append(GAP.join(cells).rstrip())
        out += more
    return out


# -- the whole table ----------------------------------------------------------------------------


def _count(n: int, word: str) -> str:
    """`n` groups of a level, or visits ("1,234 points"), in the reader's language."""
    count = f"{n:,}"
    if word == "point":
        return message("rollup.count.point", count=count, n=n)
    if word == "specialist":
        return message("rollup.count.specialist", count=count, n=n)
    if word == "region":
        return message("rollup.count.region", count=count, n=n)
    if word == "network":
        return message("rollup.count.network", count=count, n=n)
    return message("rollup.visits", count=count, n=n)


def _flow(parts: list[str], width: int, indent: str = "  ") -> list[str]:
    """`parts` joined by spaces in lines of `width`, a part broken only when it is
    longer than a line; later lines indented."""
    lines = [""]
    for text in parts:
        joined = f"{lines[-1]} {text}" if lines[-1].strip() else lines[-1] + text
        if text_width(joined) <= width:
            lines[-1] = joined
            continue
        room = width - len(indent)
        if lines[-1].strip():
            lines.append(indent)
        if text_width(text) <= room:
            lines[-1] += text
        else:
            first, *rest = wrap(text, room, 10**6)
            lines[-1] += first
            lines += [indent + row for row in rest]
    return lines


def summary(report: dict[str, Any], labels: dict[str, str]) -> list[str]:
    """Groups, visits, and how many groups meet each target: one line, or the
    parts to flow over several when the width asks for it."""
    groups = report["groups"]
    visits = sum(g["visits"] for g in groups)
    parts = [f"{_count(len(groups), report['by'])}, {_count(visits, 'visit')};"]
    meets = []
    for name, stat in groups[0]["coefficients"].items():
        target = stat["target"]
        if target is None:
            continue
        gaps = [g["coefficients"][name]["gap"] for g in groups]
        known = [gap for gap in gaps if gap is not None]
        places = decimals([target])
        met = sum(gap >= 0 for gap in known)
        meets.append(
            message(
                "rollup.meets",
                coefficient=labels.get(name, name),
                target=number(target, places),
                met=met,
                total=len(known),
            )
        )
    if not meets:
        return [*parts, message("rollup.no_targets")]
    return [*parts, message("rollup.meeting"), *meets[:-1], meets[-1][:-1] + "."]


def _zones(
    report: dict[str, Any], keys: list[str], questions: dict[str, str], width: int, zones: int
) -> list[str]:
    out = wrap(message("rollup.zones", count=zones), width, 2)
    key_w = min(max(text_width(k) for k in keys), KEY_WIDTH, max(8, width // 4))
    tops = [g["growth_zones"][:zones] for g in report["groups"]]
    pct_w = max([text_width(percent(z["lost_share"])) for top in tops for z in top] or [0])
    for key, top in zip(keys, tops, strict=True):
        lead = "  " + pad(clip(key, key_w) + ":", key_w + 1)
        if not top:
            out.append(clip(f"{lead}  {message('rollup.nothing_lost')}", width))
        for z in top:
            text = f"{lead}  {pad(percent(z['lost_share']), pct_w, right=True)}  "
            item = questions.get(z["item"], z["item"])
            out.append(text + clip(item, width - text_width(text), words=True))
            lead = " " * text_width(lead)
    return out


def render_table(
    report: dict[str, Any],
    model: Any = None,
    *,
    width: int = DEFAULT_WIDTH,
    names: bool = False,
    zones: int = 3,
) -> str:
    """The roll-up as a text table no wider than `width` (see the module's doc for
    the layout); `model` (a `StandardModel`) gives the titles, `names` keeps names."""
    groups = report["groups"]
    if not groups:
        return message("rollup.no_visits")
    width = max(width, MIN_WIDTH)
    labels, questions, shares = _titles(model, names)
    by = level_name(report["by"])
    none = message("rollup.no_level", level=by)
    keys = [one_line(none if g["key"] is None else str(g["key"])) for g in groups]
    cols = _columns(report, labels, shares)
    table = None
    for lines in range(1, HEADER_LINES + 1):
        table = table or _rows_layout(by, keys, cols, width, lines, blocks=False)
    table = table or _turned_layout(by, keys, cols, width)
    table = table or _rows_layout(by, keys, cols, width, HEADER_LINES, blocks=True) or []
    out = [*table, ""]
    if any(s["target"] is not None for s in groups[0]["coefficients"].values()):
        out.append(message("rollup.gap_note"))
    out += _zones(report, keys, questions, width, zones)
    out += ["", *_flow(summary(report, labels), width)]
    return "\n".join(out)


def level_name(level: str) -> str:
    """A level of `--by` as people read it (the option's value stays English)."""
    if level == "point":
        return message("rollup.level.point")
    if level == "specialist":
        return message("rollup.level.specialist")
    if level == "region":
        return message("rollup.level.region")
    if level == "network":
        return message("rollup.level.network")
    return level
