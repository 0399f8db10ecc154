"""The report as one self-contained HTML page: `render(report) -> str`.

The page opens offline: the CSS is inline (the system's fonts), and the Vega,
Vega-Lite and vega-embed libraries are inlined once from `vl_convert.javascript_bundle`
(built once per process and cached on disk, see `bundle`). Each topic is a section
with its chart (an SVG drawn by vega-embed from a spec of `vegalite`) and its numbers
as a table; every cell carries its raw value in `data-value` (JSON), its text comes
from `formats`, so the page, its tooltips and the cards read alike.

Cards. A report of a thousand points has thousands of cards, so a card is neither a
Vega view nor HTML written out: every card (its anchor, title, facts and the rows of
its tables) travels in one JSON block, `#sbm-cards`, and a short script builds a
card's section when it is opened (a link to `#card-…`, the index of cards, the page
opened at a card's address) and every card before printing. In that block every
string is written once and referred to by its index: the same section titles, column
titles and formatted figures repeat on every card, so it comes to a few hundred bytes
a card, and the page opens as fast with six thousand cards as with none.

Readiness for tests: `window.sbmReady` is set once every chart is embedded (and the
card the address names, if any, built); `window.sbmErrors` lists the charts that
failed.
"""

from __future__ import annotations

import html
import json
import math
import re
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import vl_convert

from sbm_engine import cache
from sbm_engine.analytics.reporting import vegalite
from sbm_engine.analytics.reporting.formats import formatter
from sbm_engine.analytics.reporting.model import (
    Card,
    Chart,
    Column,
    Report,
    Table,
    Topic,
    anchor_for,
)

Fmt = Callable[[Any, str], str]

_bundle: str | None = None
#: The page bundles vl-convert's newest Vega-Lite (v6, which reads the v5 specs of
#: `vegalite` alike): the v5 compiler targets Vega 5, and the bundle's Vega is 6, so
#: embedding with it would warn on every chart.
BUNDLE_VL_VERSION = vl_convert.get_vegalite_versions()[-1]
#: what the bundle exposes to the page's script
_SNIPPET = "window.vegaEmbed = vegaEmbed; window.vega = vega; window.vegaLite = vegaLite;"


def render(report: Report) -> str:
    """The whole report as an HTML5 document."""
    fmt = formatter(report)
    anchors = {c.anchor for c in report.cards}
    ui = report.ui
    charts: list[dict[str, Any]] = []
    parts = [
        "<!DOCTYPE html>",
        f'<html lang="{_a(report.lang)}">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_t(report.title)}</title>",
        f"<style>{_CSS}</style>",
        "</head>",
        "<body>",
        '<header class="report-head">',
        f"<h1>{_t(report.title)}</h1>",
        _facts(report.facts, fmt),
        "</header>",
        _contents(report),
        "<main>",
    ]
    for topic in report.topics:
        parts.append(_topic(topic, report, fmt, anchors, charts))
    if report.cards:
        parts.append(_cards_index(report))
        parts.append('<div class="cards" id="cards-view"></div>')
    parts += [
        "</main>",
        f'<footer class="generated">{_t(ui.get("generated", ""))}</footer>',
        _json_block("sbm-specs", {"charts": charts, "options": _embed_options(report)}),
        _json_block("sbm-cards", _cards_data(report, fmt, anchors)),
        f"<script>{_script_text(bundle())}</script>",
        f"<script>{_APP}</script>",
        "</body>",
        "</html>",
    ]
    return "\n".join(parts) + "\n"


# ---- the script bundle ---------------------------------------------------------------------


def bundle() -> str:
    """The Vega + Vega-Lite + vega-embed bundle: built once per process (it takes
    about two seconds) and kept in the user's cache folder (`sbm_engine.cache`, private
    to the user: the page runs it), keyed by the versions it holds; an unreadable or
    unwritable cache only costs the rebuild."""
    global _bundle
    if _bundle is None:
        _bundle = load_bundle(cache.folder())
    return _bundle


def load_bundle(directory: Path | None) -> str:
    """The bundle from `directory` if cached there, else built (and written there
    atomically, if possible). `None`: no disk cache."""
    key = "-".join(
        (
            f"embed{vl_convert.get_vega_embed_version()}",
            f"vl{BUNDLE_VL_VERSION}",
            f"vega{vl_convert.get_vega_version()}",
        )
    )
    path = (
        directory / f"vega-bundle-{re.sub(r'[^A-Za-z0-9.-]', '_', key)}.js" if directory else None
    )
    if path is not None:
        try:
            text = path.read_text(encoding="utf-8")
            if _complete(text):
                return text
        except (OSError, UnicodeDecodeError):
            pass
    text = vl_convert.javascript_bundle(_SNIPPET, vl_version=BUNDLE_VL_VERSION)
    if path is not None:
        cache.keep(path, text)
    return text


def _complete(text: str) -> bool:
    return "window.vegaEmbed" in text[-2000:]


# ---- escaping ------------------------------------------------------------------------------


def _t(text: Any) -> str:
    """Text content."""
    return html.escape(str(text), quote=False)


def _a(text: Any) -> str:
    """An attribute value (always double-quoted by the callers)."""
    return html.escape(str(text), quote=True)


def _json(value: Any) -> str:
    """JSON safe inside `<script>`: no `</script`, `<!--` or `]]>` can appear."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _json_block(block_id: str, value: Any) -> str:
    return f'<script type="application/json" id="{_a(block_id)}">{_json(value)}</script>'


def _script_text(code: str) -> str:
    """Script code that cannot end its element early (`</script`) nor open the HTML
    parser's escaped state (`<!--`); both only occur in strings and regexes, where
    the backslash changes nothing."""
    code = re.sub(r"</(script)", r"<\\/\1", code, flags=re.IGNORECASE)
    return code.replace("<!--", "<\\!--")


def _raw(value: Any) -> Any:
    """The raw value as JSON can hold it: NaN and infinities are missing."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def _data_value(value: Any) -> str:
    return _a(json.dumps(_raw(value), ensure_ascii=False))


# ---- the report's parts --------------------------------------------------------------------


def _facts(facts: Iterable[tuple[str, Any, str]], fmt: Fmt) -> str:
    items = "".join(
        f'<div><dt>{_t(label)}</dt><dd data-value="{_data_value(value)}">'
        f"{_t(fmt(value, kind))}</dd></div>"
        for label, value, kind in facts
    )
    return f'<dl class="facts">{items}</dl>' if items else ""


def _contents(report: Report) -> str:
    items = [f'<li><a href="#topic-{_a(t.id)}">{_t(t.title)}</a></li>' for t in report.topics]
    if report.cards:
        items.append(f'<li><a href="#cards">{_t(report.ui.get("cards", "Cards"))}</a></li>')
    return (
        f'<nav id="contents" class="contents"><h2>{_t(report.ui.get("contents", "Contents"))}</h2>'
        f"<ol>{''.join(items)}</ol></nav>"
    )


def _topic(
    topic: Topic, report: Report, fmt: Fmt, anchors: set[str], charts: list[dict[str, Any]]
) -> str:
    out = [f'<section class="topic" id="topic-{_a(topic.id)}">', f"<h2>{_t(topic.title)}</h2>"]
    if topic.note:
        out.append(f'<p class="note">{_t(topic.note)}</p>')
    table = _table(topic, fmt, anchors)
    if topic.chart is None:
        out.append(f'<div class="numbers">{table}</div>')
    else:
        spec = vegalite.spec(topic.chart, topic.table, report)
        spec.pop("$schema", None)  # no URL in the page; the embed is told the mode
        charts.append({"id": f"chart-{topic.id}", "spec": spec})
        label = _a(f"{report.ui.get('chart', '')}: {topic.title}")
        is_open = " open" if len(topic.table.rows) <= 40 else ""
        # a table of many columns goes under its chart: beside it, it would be squeezed
        pair = "pair wide" if len(topic.table.columns) > 4 else "pair"
        out += [
            f'<div class="{pair}">',
            f'<figure class="chart-wrap"><div class="chart" id="chart-{_a(topic.id)}" '
            f'role="img" aria-label="{label}"></div></figure>',
            f'<details class="numbers"{is_open}><summary>{_t(report.ui.get("table", ""))}'
            f"</summary>{table}</details>",
            "</div>",
        ]
    out.append("</section>")
    return "\n".join(out)


def _cell(column: Column, value: Any, fmt: Fmt, anchors: set[str], tag: str = "td") -> str:
    text = _t(fmt(value, column.kind))
    if column.card and value is not None:
        anchor = anchor_for(column.card, value)
        if anchor in anchors:
            text = f'<a href="#{_a(anchor)}">{text}</a>'
    cls = "" if column.kind == "text" else ' class="num"'
    scope = ' scope="row"' if tag == "th" else ""
    return f'<{tag}{cls}{scope} data-value="{_data_value(value)}">{text}</{tag}>'


def _table(topic: Topic, fmt: Fmt, anchors: set[str]) -> str:
    table = topic.table
    if topic.pivot is not None:
        return _pivot(table, topic.pivot, fmt, anchors)
    head = "".join(f'<th scope="col">{_t(c.title)}</th>' for c in table.columns)
    body = "".join(
        "<tr>" + "".join(_cell(c, row.get(c.key), fmt, anchors) for c in table.columns) + "</tr>"
        for row in table.rows
    )
    return (
        f'<div class="scroll"><table><thead><tr>{head}</tr></thead>'
        f"<tbody>{body}</tbody></table></div>"
    )


def _pivot(table: Table, pivot: tuple[str, str, str], fmt: Fmt, anchors: set[str]) -> str:
    """The matrix of the value: a row per value of the row key, a column per value of
    the column key, both in the table's order."""
    row_col, col_col, val_col = (table.column(k) for k in pivot)
    rows = list(dict.fromkeys(_key(r.get(row_col.key)) for r in table.rows))
    cols = list(dict.fromkeys(_key(r.get(col_col.key)) for r in table.rows))
    cells = {(_key(r.get(row_col.key)), _key(r.get(col_col.key))): r for r in table.rows}
    raw_of = {_key(r.get(row_col.key)): r.get(row_col.key) for r in table.rows}
    raw_col = {_key(r.get(col_col.key)): r.get(col_col.key) for r in table.rows}
    head = f'<th scope="col" class="corner">{_t(row_col.title)} \\ {_t(col_col.title)}</th>'
    head += "".join(
        _cell(col_col, raw_col[c], fmt, anchors, "th").replace(' scope="row"', ' scope="col"')
        for c in cols
    )
    body = []
    for r in rows:
        line = [_cell(row_col, raw_of[r], fmt, anchors, "th")]
        for c in cols:
            found = cells.get((r, c))
            if found is None:
                line.append('<td class="empty"></td>')
            else:
                line.append(_cell(val_col, found.get(val_col.key), fmt, anchors))
        body.append("<tr>" + "".join(line) + "</tr>")
    return (
        f'<div class="scroll"><table class="pivot"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table></div>"
    )


def _key(value: Any) -> str:
    return json.dumps(_raw(value), ensure_ascii=False)


def _level_title(report: Report, level: str) -> str:
    return report.ui.get({"point": "points", "specialist": "specialists"}.get(level, ""), level)


def _cards_index(report: Report) -> str:
    levels: dict[str, list[Card]] = {}
    for card in report.cards:
        levels.setdefault(card.level, []).append(card)
    out = [f'<section id="cards" class="cards-index"><h2>{_t(report.ui.get("cards", ""))}</h2>']
    for level, cards in levels.items():
        out.append(f"<h3>{_t(_level_title(report, level))}</h3><ul>")
        out += [f'<li><a href="#{_a(c.anchor)}">{_t(c.title)}</a></li>' for c in cards]
        out.append("</ul>")
    out.append("</section>")
    return "\n".join(out)


# ---- the cards' data -----------------------------------------------------------------------


class _Strings:
    """Each distinct string once; the data refers to it by index."""

    def __init__(self) -> None:
        self.index: dict[str, int] = {}

    def __call__(self, text: str) -> int:
        found = self.index.get(text)
        if found is None:
            found = self.index[text] = len(self.index)
        return found

    def values(self) -> list[str]:
        return list(self.index)


def _cards_data(report: Report, fmt: Fmt, anchors: set[str]) -> dict[str, Any]:
    """`{"s": strings, "u": [back, print], "t": topic shapes, "c": cards}`: a shape is
    [title, note, [column titles], numeric columns (bool list), has a bar]; a card is
    [anchor, kicker, title, facts, topics], facts a list of [label, text, raw value as
    JSON], topics a list of [shape, rows, bars] where a row is a list of cells (a
    string, or [text, anchor] for a link) and bars a list of [left %, width %, marker %
    or null] per row, or 0. Every text is an index into `s`."""
    s = _Strings()
    ui = report.ui
    kickers = {
        "point": s(ui.get("card_of_point", "")),
        "specialist": s(ui.get("card_of_specialist", "")),
    }
    shapes: dict[tuple[Any, ...], int] = {}
    cards = []
    for card in report.cards:
        facts = [
            [s(label), s(fmt(value, kind)), s(_key(value))] for label, value, kind in card.facts
        ]
        topics: list[Any] = []
        for topic in card.topics:
            # a card's tables are short: a pivot reads as well in its long form
            columns, rows = topic.table.columns, topic.table.rows
            bars = _mini_bars(topic.chart, topic.table)
            shape = (
                s(topic.title),
                s(topic.note),
                tuple(s(c.title) for c in columns),
                tuple(int(c.kind != "text") for c in columns),
                s(report.ui.get("chart", "")) if bars else -1,
            )
            shape_id = shapes.setdefault(shape, len(shapes))
            cells = [
                [_card_cell(c, row.get(c.key), fmt, anchors, s) for c in columns] for row in rows
            ]
            topics.append([shape_id, cells, bars or 0])
        kicker = kickers.get(card.level, s(""))
        cards.append([s(card.anchor), kicker, s(card.title), facts, topics])
    return {
        "s": s.values(),
        "u": [s(ui.get("back", "")), s(ui.get("print", ""))],
        "t": [[a, b, list(c), list(d), e] for a, b, c, d, e in shapes],
        "c": cards,
    }


def _card_cell(column: Column, value: Any, fmt: Fmt, anchors: set[str], s: _Strings) -> Any:
    text = s(fmt(value, column.kind))
    if column.card and value is not None:
        anchor = anchor_for(column.card, value)
        if anchor in anchors:
            return [text, s(anchor)]
    return text


def _mini_bars(chart: Chart | None, table: Table) -> list[list[float | None]] | None:
    """A card's chart as bars in a table column: per row [left %, width %, marker %]
    (the marker: the target of `bars`, the estimate of `interval`)."""
    if chart is None or chart.kind not in ("bars", "columns", "interval"):
        return None
    if chart.kind == "interval":
        keys = (chart.low, chart.high, chart.x)
    elif chart.kind == "bars":
        keys = (None, chart.x, chart.target)
    else:
        keys = (None, chart.y, None)

    def num(row: dict[str, Any], key: str | None) -> float | None:
        v = row.get(key) if key else None
        if isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v):
            return float(v)
        return None

    values = [v for r in table.rows for k in keys if (v := num(r, k)) is not None]
    if not values:
        return None
    lo, hi = chart.domain if chart.domain else (min(0.0, *values), max(0.0, *values))
    span = hi - lo or 1.0

    def pos(v: float | None) -> float | None:
        return None if v is None else round(min(max((v - lo) / span, 0.0), 1.0) * 100, 1)

    out: list[list[float | None]] = []
    for r in table.rows:
        start, end, mark = (num(r, k) for k in keys)
        if end is None:
            out.append([0.0, 0.0, pos(mark)])
            continue
        a, b = pos(start if start is not None else min(max(0.0, lo), hi)), pos(end)
        assert a is not None and b is not None
        out.append([min(a, b), round(abs(b - a), 1), pos(mark)])
    return out


def _embed_options(report: Report) -> dict[str, Any]:
    return {
        "renderer": "svg",
        "actions": False,
        "mode": "vega-lite",
        "formatLocale": vegalite.format_locale(report.lang),
    }


_CSS = """
:root{--ink:#1d2329;--muted:#5b6670;--line:#d9dee3;--soft:#f4f6f8;--accent:#2f6fab}
*{box-sizing:border-box}
body{margin:0 auto;max-width:1200px;padding:1.5rem 1.25rem 3rem;color:var(--ink);
font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif}
h1{font-size:1.7rem;margin:0 0 .6rem}
h2{font-size:1.3rem;margin:0 0 .4rem}
h3{font-size:1.05rem;margin:1rem 0 .4rem}
a{color:var(--accent)}
.facts{display:flex;flex-wrap:wrap;gap:.4rem 1.6rem;margin:.4rem 0 1rem}
.facts div{display:flex;flex-direction:column}
.facts dt{color:var(--muted);font-size:.82rem}
.facts dd{margin:0;font-weight:600}
.contents{background:var(--soft);border-radius:6px;padding:.8rem 1.2rem;margin-bottom:1.5rem}
.contents ol{margin:0;padding-left:1.3rem;columns:2 18rem}
.topic{border-top:1px solid var(--line);padding-top:1.2rem;margin:0 0 2rem}
.note{color:var(--muted);margin:0 0 .8rem}
.pair{display:flex;flex-wrap:wrap;gap:1rem 2rem;align-items:flex-start}
.pair.wide{flex-direction:column}
.chart-wrap{margin:0;max-width:100%;overflow-x:auto;flex:0 1 auto}
.numbers{flex:1 1 22rem;min-width:0;max-width:100%}
.numbers summary{cursor:pointer;color:var(--muted);margin-bottom:.3rem}
.scroll{overflow-x:auto;max-width:100%}
table{border-collapse:collapse;font-size:.85rem;font-variant-numeric:tabular-nums}
th,td{border-bottom:1px solid var(--line);padding:.25rem .55rem;text-align:left;vertical-align:top}
thead th{background:var(--soft);font-weight:600}
td.num,th.num{text-align:right;white-space:nowrap}
.pivot thead th{white-space:nowrap}
.cards-index{border-top:1px solid var(--line);padding-top:1.2rem}
.cards-index ul{columns:4 12rem;padding-left:1.1rem;margin:0}
.card{border:1px solid var(--line);border-radius:6px;padding:1rem 1.2rem;margin:1.5rem 0}
.card:target{border-color:var(--accent);box-shadow:0 0 0 2px var(--accent)}
.card .kicker{margin:0;color:var(--muted);font-size:.85rem}
.card h3{font-size:.95rem;margin:.9rem 0 .3rem}
.card table{font-size:.8rem}
.card .note{font-size:.8rem;margin:0 0 .3rem}
.mini{position:relative;min-width:8rem;width:10rem;padding:0}
.mini span{position:absolute;top:30%;height:40%}
.mini .bar{background:var(--accent);opacity:.75}
.mini .mark{width:2px;top:15%;height:70%;background:var(--ink)}
.card-actions{margin:.8rem 0 0;display:flex;gap:1rem;align-items:center}
.generated{color:var(--muted);font-size:.8rem;border-top:1px solid var(--line);padding-top:.6rem}
@media print{
body{max-width:none;padding:0;font-size:11px}
.contents,.card-actions,.numbers summary{display:none}
.topic,.pair{break-inside:avoid}
.card{break-before:page;break-inside:avoid;border:0;margin:0;padding:0}
.card:target{box-shadow:none}
body.print-one>header,body.print-one>nav,body.print-one>footer,
body.print-one main>:not(.cards),body.print-one .card:not(.printing){display:none}
body.print-one .card.printing{break-before:auto}
}
"""

_APP = """
(function () {
  "use strict";
  var errors = window.sbmErrors = [];
  function block(id) {
    var el = document.getElementById(id);
    return el ? JSON.parse(el.textContent) : null;
  }
  var specs = block("sbm-specs") || {charts: [], options: {}};
  var data = block("sbm-cards") || {s: [], t: [], c: []};
  var S = data.s;
  function node(tag, cls, text) {
    var el = document.createElement(tag);
    if (cls) el.className = cls;
    if (text !== undefined) el.textContent = text;
    return el;
  }
  var view = document.getElementById("cards-view");
  var byAnchor = {};
  data.c.forEach(function (c, i) { byAnchor[S[c[0]]] = i; });
  function facts(list) {
    var dl = node("dl", "facts");
    list.forEach(function (f) {
      var div = node("div"), dd = node("dd", "", S[f[1]]);
      dd.setAttribute("data-value", S[f[2]]);
      div.appendChild(node("dt", "", S[f[0]]));
      div.appendChild(dd);
      dl.appendChild(div);
    });
    return dl;
  }
  function table(t) {
    var shape = data.t[t[0]], bars = t[2];
    var frag = document.createDocumentFragment();
    frag.appendChild(node("h3", "", S[shape[0]]));
    if (S[shape[1]]) frag.appendChild(node("p", "note", S[shape[1]]));
    var tab = node("table"), head = node("tr"), tbody = node("tbody");
    shape[2].forEach(function (title) {
      var th = node("th", "", S[title]);
      th.scope = "col";
      head.appendChild(th);
    });
    if (bars) head.appendChild(node("th", "", S[shape[4]]));
    t[1].forEach(function (row, i) {
      var tr = node("tr");
      row.forEach(function (cell, j) {
        var td = node("td", shape[3][j] ? "num" : "");
        if (Array.isArray(cell)) {
          var a = node("a", "", S[cell[0]]);
          a.href = "#" + S[cell[1]];
          td.appendChild(a);
        } else {
          td.textContent = S[cell];
        }
        tr.appendChild(td);
      });
      if (bars) {
        var td = node("td", "mini"), b = bars[i];
        var bar = node("span", "bar");
        bar.style.left = b[0] + "%";
        bar.style.width = b[1] + "%";
        td.appendChild(bar);
        if (b[2] !== null) {
          var mark = node("span", "mark");
          mark.style.left = b[2] + "%";
          td.appendChild(mark);
        }
        tr.appendChild(td);
      }
      tbody.appendChild(tr);
    });
    var thead = node("thead");
    thead.appendChild(head);
    tab.appendChild(thead);
    tab.appendChild(tbody);
    var wrap = node("div", "scroll");
    wrap.appendChild(tab);
    frag.appendChild(wrap);
    return frag;
  }
  // The section of card i, built on first use and placed in the order of the cards.
  function card(i) {
    var c = data.c[i], id = S[c[0]];
    var el = document.getElementById(id);
    if (el) return el;
    el = node("section", "card");
    el.id = id;
    el.setAttribute("data-card", i);
    if (S[c[1]]) el.appendChild(node("p", "kicker", S[c[1]]));
    el.appendChild(node("h2", "", S[c[2]]));
    el.appendChild(facts(c[3]));
    var body = node("div", "card-body");
    c[4].forEach(function (t) { body.appendChild(table(t)); });
    el.appendChild(body);
    var actions = node("p", "card-actions"), back = node("a", "", S[data.u[0]]);
    back.href = "#contents";
    var print = node("button", "print", S[data.u[1]]);
    print.type = "button";
    actions.appendChild(back);
    actions.appendChild(document.createTextNode(" "));
    actions.appendChild(print);
    el.appendChild(actions);
    var next = null;
    Array.prototype.some.call(view.children, function (other) {
      if (+other.getAttribute("data-card") > i) { next = other; return true; }
      return false;
    });
    view.insertBefore(el, next);
    return el;
  }
  function allCards() { for (var i = 0; i < data.c.length; i++) card(i); }
  function target() {
    var id;
    try { id = decodeURIComponent(location.hash.slice(1)); } catch (e) { return; }
    if (id && byAnchor.hasOwnProperty(id)) card(byAnchor[id]).scrollIntoView();
  }
  window.addEventListener("hashchange", target);
  window.addEventListener("beforeprint", allCards);
  window.addEventListener("afterprint", function () {
    document.body.classList.remove("print-one");
    Array.prototype.forEach.call(document.querySelectorAll(".card.printing"), function (c) {
      c.classList.remove("printing");
    });
  });
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("button.print");
    if (!button) return;
    var section = button.closest("section.card");
    document.body.classList.add("print-one");
    section.classList.add("printing");
    window.print();
  });
  target();
  var drawn = specs.charts.map(function (c) {
    var el = document.getElementById(c.id);
    try {
      return window.vegaEmbed(el, c.spec, specs.options).catch(function (e) {
        errors.push(c.id + ": " + e);
      });
    } catch (e) {
      errors.push(c.id + ": " + e);
      return Promise.resolve();
    }
  });
  Promise.all(drawn).then(function () {
    target();  // the charts above may have moved the card the address names
    window.sbmReady = true;
  });
})();
"""
