"""The HTML report without a browser: its structure, its numbers, its escaping, and
the Vega-Lite specs compiled by vl-convert with as many marks as the data."""

from __future__ import annotations

import json
import math
from html import escape
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import attrs
import pytest
import vl_convert
from report_marks import count_marks, expected_marks
from report_sample import sample_report

from sbm_engine.analytics.reporting import formats, html, vegalite
from sbm_engine.analytics.reporting.formats import NBSP, format_value
from sbm_engine.analytics.reporting.model import (
    CHART_KINDS,
    Chart,
    Column,
    Report,
    Table,
    Topic,
    anchor_for,
)

UI = {"na": "—", "yes": "да", "no": "нет"}


# ---- formats -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "kind", "ru", "en"),
    [
        (0.853, "score", "0,853", "0.853"),
        (-0.0, "score", "0,000", "0.000"),
        (-0.0001, "score", "0,000", "0.000"),
        (0.8534, "share", f"85,3{NBSP}%", "85.3%"),
        (1.0, "share", f"100,0{NBSP}%", "100.0%"),
        (-0.0004, "share", f"0,0{NBSP}%", "0.0%"),
        (0.045, "change", "+0,045", "+0.045"),
        (-0.116, "change", "-0,116", "-0.116"),
        (-0.0, "change", "0,000", "0.000"),
        (-0.00004, "change", "0,000", "0.000"),
        (0.0, "change", "0,000", "0.000"),
        (12345.678, "number", f"12{NBSP}350", "12,350"),
        (0.5, "number", "0,5", "0.5"),
        (3.14159, "number", "3,142", "3.142"),
        (-0.0, "number", "0", "0"),
        (0.000012345, "number", "1,234e-5", "1.234e-5"),
        (2.5e20, "number", "2,5e20", "2.5e20"),
        (294, "count", "294", "294"),
        (1234567, "count", f"1{NBSP}234{NBSP}567", "1,234,567"),
        (10**21, "count", "1" + f"{NBSP}000" * 7, "1" + ",000" * 7),
        (294.0, "count", "294", "294"),
        (0.00002, "p", "<0,0001", "<0.0001"),
        (0.0, "p", "<0,0001", "<0.0001"),
        (0.0001, "p", "0,0001", "0.0001"),
        (0.43, "p", "0,4300", "0.4300"),
        (132000.0, "money", f"132{NBSP}000", "132,000"),
        (-1500.4, "money", f"-1{NBSP}500", "-1,500"),
        (True, "flag", "да", "yes"),
        (False, "flag", "нет", "no"),
        ("SPB <1>", "text", "SPB <1>", "SPB <1>"),
        ("Привет", "text", "Привет", "Привет"),
        ("3 из 12", "score", "3 из 12", "3 из 12"),
    ],
)
def test_format_by_kind_and_language(value: Any, kind: str, ru: str, en: str) -> None:
    assert format_value(value, kind, "ru", UI) == ru
    en_ui = {"na": "N/A", "yes": "yes", "no": "no"}
    assert format_value(value, kind, "en", en_ui) == en


@pytest.mark.parametrize(
    ("kind", "value"),
    [
        (kind, value)
        for kind in ("text", "score", "share", "change", "number", "count", "p", "money", "flag")
        for value in (None, math.nan, math.inf, -math.inf)
        if kind != "text" or value is None  # text shows what it is given
    ],
)
def test_missing_values_read_na(kind: str, value: Any) -> None:
    assert format_value(value, kind, "ru", UI) == "—"
    assert format_value(value, kind, "en") == "N/A"


def test_unknown_kind_is_an_error() -> None:
    with pytest.raises(ValueError, match="kind"):
        format_value(1, "percent", "en")


# ---- the page ------------------------------------------------------------------------------


class Page(HTMLParser):
    """Every element's attributes, the scripts' texts, and the table cells."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str | None]]] = []
        self.scripts: list[tuple[dict[str, str | None], str]] = []
        self.cells: dict[str, list[tuple[str, str, str]]] = {}  # section id → (tag, value, text)
        self._script: dict[str, str | None] | None = None
        self._text: list[str] = []
        self._section: list[str] = []
        self._cell: tuple[str, str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        self.elements.append((tag, a))
        if tag == "script":
            self._script, self._text = a, []
        if tag == "section":
            self._section.append(a.get("id") or "")
        if tag in ("td", "th") and "data-value" in a:
            self._cell, self._text = (tag, a["data-value"] or ""), []

    def handle_endtag(self, tag: str) -> None:
        if tag == "script" and self._script is not None:
            self.scripts.append((self._script, "".join(self._text)))
            self._script = None
        if tag == "section":
            self._section.pop()
        if tag in ("td", "th") and self._cell is not None:
            where = self._section[-1] if self._section else ""
            self.cells.setdefault(where, []).append((*self._cell, "".join(self._text)))
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._script is not None or self._cell is not None:
            self._text.append(data)

    def ids(self) -> list[str]:
        return [a["id"] or "" for _, a in self.elements if "id" in a]


@pytest.fixture(scope="module")
def text(report: Report) -> str:
    return html.render(report)


@pytest.fixture(scope="module")
def page(text: str) -> Page:
    p = Page()
    p.feed(text)
    p.close()
    return p


def test_a_document_in_the_reports_language(text: str, page: Page) -> None:
    assert text.startswith("<!DOCTYPE html>")
    assert ("html", {"lang": "ru"}) in page.elements
    ids = page.ids()
    assert len(ids) == len(set(ids)), "ids are unique"


def test_the_bundle_is_inlined_once(text: str, page: Page) -> None:
    bundles = [s for a, s in page.scripts if "window.vegaEmbed=" in s]
    assert len(bundles) == 1
    assert text.count("window.vegaEmbed=") == 1
    assert all("src" not in a for a, _ in page.scripts)


def test_every_topic_and_card_has_its_anchor(report: Report, page: Page) -> None:
    ids = set(page.ids())
    hrefs = {a.get("href") for tag, a in page.elements if tag == "a"}
    for topic in report.topics:
        assert f"topic-{topic.id}" in ids
        assert f"#topic-{topic.id}" in hrefs
        if topic.chart is not None:
            assert f"chart-{topic.id}" in ids
    # cards are built by the page's script from the JSON block, on demand
    data = next(json.loads(text) for a, text in page.scripts if a.get("id") == "sbm-cards")
    anchors = [data["s"][c[0]] for c in data["c"]]
    assert anchors == [c.anchor for c in report.cards]
    assert not any(
        "card" in (a.get("class") or "").split() for tag, a in page.elements if tag == "section"
    )
    for card in report.cards:
        assert f"#{card.anchor}" in hrefs
    assert "#cards" in hrefs and "cards" in ids and "cards-view" in ids
    # every link inside the page leads to an element or a card
    internal = {h[1:] for h in hrefs if h and h.startswith("#")}
    assert internal <= ids | set(anchors)


def test_cells_carry_the_raw_values(report: Report, page: Page) -> None:
    for topic in report.topics:
        cells = page.cells[f"topic-{topic.id}"]
        if topic.pivot is None:
            expected = [
                (row.get(c.key), format_value(row.get(c.key), c.kind, "ru", report.ui))
                for row in topic.table.rows
                for c in topic.table.columns
            ]
            got = [(json.loads(v), t) for tag, v, t in cells if tag == "td"]
            assert got == expected, topic.id
        else:
            r, c, v = topic.pivot
            got_values = [json.loads(val) for tag, val, _ in cells if tag == "td"]
            rows_ = list(dict.fromkeys(row[r] for row in topic.table.rows))
            cols_ = list(dict.fromkeys(row[c] for row in topic.table.rows))
            by = {(row[r], row[c]): row[v] for row in topic.table.rows}
            assert got_values == [by[(a, b)] for a in rows_ for b in cols_]
            headers = [json.loads(val) for tag, val, _ in cells if tag == "th"]
            assert headers[: len(cols_)] == cols_
            assert headers[len(cols_) :] == rows_


def test_card_columns_link_to_cards(report: Report, page: Page, text: str) -> None:
    """Every value of a column with `card` links to that card, which exists."""
    assert anchor_for("point", "SPB <1>") == "card-point-SPB~0020~003C1~003E"
    anchors = {c.anchor for c in report.cards}
    links = 0
    for topic in report.topics:
        for col in topic.table.columns:
            if col.card is None:
                continue
            for row in topic.table.rows:
                anchor = anchor_for(col.card, row[col.key])
                assert anchor in anchors
                assert f'<a href="#{anchor}">{escape(str(row[col.key]))}</a>' in text
                links += 1
    assert links


def test_no_external_urls(page: Page) -> None:
    for _, a in page.elements:
        for name in ("src", "href", "action", "data", "poster"):
            value = (a.get(name) or "").strip().lower()
            assert not value.startswith(("http:", "https:", "//", "ftp:")), (name, value)
    for tag, _ in page.elements:
        assert tag not in ("link", "iframe", "img", "object", "embed"), tag


def test_json_blocks_parse(page: Page, report: Report) -> None:
    blocks = {
        a.get("id"): json.loads(s) for a, s in page.scripts if a.get("type") == "application/json"
    }
    charts = blocks["sbm-specs"]["charts"]
    assert [c["id"] for c in charts] == [f"chart-{t.id}" for t in report.topics if t.chart]
    assert blocks["sbm-specs"]["options"]["renderer"] == "svg"
    assert blocks["sbm-specs"]["options"]["actions"] is False
    cards = blocks["sbm-cards"]
    assert len(cards["c"]) == len(report.cards)
    strings = cards["s"]
    anchor, kicker, title, facts, topics = cards["c"][0]
    card = report.cards[0]
    fmt = formats.formatter(report)
    assert (strings[anchor], strings[title]) == (card.anchor, card.title)
    assert strings[kicker] == report.ui[f"card_of_{card.level}"]
    assert [[strings[i] for i in f] for f in facts] == [
        [label, fmt(value, kind), json.dumps(value, ensure_ascii=False)]
        for label, value, kind in card.facts
    ]
    first = topics[0]  # the first card's first topic: the coefficients
    table = card.topics[0].table
    assert [strings[i] if isinstance(i, int) else strings[i[0]] for i in first[1][0]] == [
        fmt(table.rows[0][c.key], c.kind) for c in table.columns
    ]


def _hostile(report: Report) -> Report:
    evil = "</script><script>alert(1)</script><!-- & \u2028"
    topic = Topic(
        "evil",
        evil,
        evil,
        Table(
            (Column("k", evil, card="point"), Column("v", evil, "score")),
            ({"k": "SPB <1>", "v": 0.5}, {"k": evil, "v": None}),
        ),
        Chart("bars", x="v", y="k"),
    )
    card = attrs.evolve(report.cards[0], title=evil, topics=(topic,))
    return attrs.evolve(report, title=evil, topics=(topic,), cards=(card,))


def test_escaping(report: Report) -> None:
    text = html.render(_hostile(report))
    p = Page()
    p.feed(text)
    assert "<script>alert(1)" not in text
    assert sum(1 for tag, _ in p.elements if tag == "script") == 4  # specs, cards, bundle, app
    assert "alert(1)" in text  # written, as text
    blocks = [json.loads(s) for a, s in p.scripts if a.get("type") == "application/json"]
    assert blocks[0]["charts"][0]["spec"]["layer"][0]["encoding"]["x"]["title"].startswith(
        "</script>"
    )
    assert any(s.startswith("</script><script>") for s in blocks[1]["s"])


def test_size_per_card(report: Report) -> None:
    """Many cards cost about a kilobyte each, not a page of HTML each."""
    base = len(html.render(attrs.evolve(report, cards=())).encode())
    cards = tuple(
        attrs.evolve(report.cards[i % 3], key=f"P-{i:04d}", title=f"Точка P-{i:04d}")
        for i in range(1000)
    )
    many = len(html.render(attrs.evolve(report, cards=cards)).encode())
    assert (many - base) / 1000 < 800


def test_bundle_cache_survives_an_unwritable_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    built: list[str] = []

    def build(snippet: str, vl_version: str) -> str:
        built.append(vl_version)
        return "/* bundle */ window.vegaEmbed = 1;"

    monkeypatch.setattr(html.vl_convert, "javascript_bundle", build)
    blocked = tmp_path / "file"
    blocked.write_text("not a folder")
    assert "window.vegaEmbed" in html.load_bundle(blocked / "sub")
    (tmp_path / "cache").mkdir()  # `sbm_engine.cache.folder` makes it
    text = html.load_bundle(tmp_path / "cache")
    (written,) = (tmp_path / "cache").iterdir()
    assert written.read_text(encoding="utf-8") == text
    assert html.load_bundle(tmp_path / "cache") == text
    assert len(built) == 2, "the second read comes from the cache"
    written.write_text("truncated")
    assert html.load_bundle(tmp_path / "cache") == text
    assert len(built) == 3, "a damaged cache is rebuilt"


def test_the_bundle_is_not_kept_where_others_may_write(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The page runs the cached bundle: a folder others may write in is not used."""
    from sbm_engine import cache

    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o777)
    monkeypatch.setenv("SBM_CACHE_DIR", str(shared))
    assert cache.folder() is None
    monkeypatch.setenv("SBM_CACHE_DIR", "")
    assert cache.folder() is None
    monkeypatch.setenv("SBM_CACHE_DIR", str(tmp_path / "mine"))
    assert cache.folder() == tmp_path / "mine"


# ---- the charts ----------------------------------------------------------------------------


def test_the_sample_has_every_chart_kind(report: Report) -> None:
    assert {t.chart.kind for t in report.topics if t.chart} == set(CHART_KINDS)


@pytest.mark.parametrize("version", [vegalite.VL_VERSION, html.BUNDLE_VL_VERSION])
@pytest.mark.parametrize("topic_id", [t.id for t in sample_report().topics if t.chart])
def test_each_chart_compiles_with_a_mark_per_datum(
    report: Report, topic_id: str, version: str
) -> None:
    topic = next(t for t in report.topics if t.id == topic_id)
    assert topic.chart is not None
    spec = vegalite.spec(topic.chart, topic.table, report)
    locale = vegalite.format_locale(report.lang)
    graph = vl_convert.vegalite_to_scenegraph(spec, vl_version=version, format_locale=locale)
    for name, count in expected_marks(topic.chart, topic.table).items():
        assert count_marks(graph, name) == count, name
    svg = vl_convert.vegalite_to_svg(spec, vl_version=version, format_locale=locale)
    assert svg.startswith("<svg")
    # titles of the columns, never their keys
    for c in topic.table.columns:
        assert f">{c.key}<" not in svg or c.key == c.title


def test_tooltips_are_formatted_and_titled(report: Report) -> None:
    topic = report.topics[0]
    assert topic.chart is not None
    spec = vegalite.spec(topic.chart, topic.table, report)
    bar = spec["layer"][0]
    assert [t["title"] for t in bar["encoding"]["tooltip"]] == [
        c.title for c in topic.table.columns
    ]
    values = spec["data"]["values"]
    fields = [t["field"] for t in bar["encoding"]["tooltip"]]
    fmt = formats.formatter(report)
    for shown, row in zip(values, topic.table.rows, strict=True):
        assert [shown[f] for f in fields] == [fmt(row[c.key], c.kind) for c in topic.table.columns]
    assert any(v == report.ui["na"] for row in values for v in row.values())


def test_large_charts_grow() -> None:
    rows = tuple({"k": f"item {i}", "v": i / 500} for i in range(500))
    table = Table((Column("k", "Item"), Column("v", "Value", "share")), rows)
    rep = attrs.evolve(sample_report(), lang="en")
    for chart in (Chart("bars", x="v", y="k"), Chart("interval", x="v", y="k", low="v", high="v")):
        spec = vegalite.spec(chart, table, rep)
        assert isinstance(spec["height"], dict) and "step" in spec["height"]
        graph = vl_convert.vegalite_to_scenegraph(spec, vl_version=vegalite.VL_VERSION)
        assert graph["scenegraph"]["items"][0]["height"] >= 500 * 20
    heat = Chart("heatmap", x="k", y="k", value="v")
    spec = vegalite.spec(heat, table, rep)
    assert spec["width"] == {"step": vegalite.CELL}
