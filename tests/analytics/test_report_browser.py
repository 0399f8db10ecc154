"""The HTML report in headless Chromium: it draws every chart offline, without errors,
with as many marks as the data, tooltips, and links to the cards.

One browser for the module; the page is opened once from a `file://` path with every
other request aborted and recorded."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from debian import artifacts, program
from report_marks import expected_marks
from report_sample import sample_report

from sbm_engine.analytics.reporting import formats, html
from sbm_engine.analytics.reporting.model import Report

pytestmark = pytest.mark.browser

sync_api = pytest.importorskip("playwright.sync_api")

ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


class Opened:
    def __init__(self, page: Any, url: str, report: Report) -> None:
        self.page, self.url, self.report = page, url, report
        self.console: list[str] = []
        self.errors: list[str] = []
        self.requests: list[str] = []


@pytest.fixture(scope="module", params=["sample", "bank"])
def opened(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Opened]:
    """The hand-made report (every chart kind, awkward keys) and the bank pack's real
    one (every topic, 38 cards), each opened once."""
    chromium = program("chromium", "chromium")
    if request.param == "sample":
        report = sample_report()
    else:
        report = request.getfixturevalue("bank_report_ru")
    path: Path = tmp_path_factory.mktemp("report") / f"{request.param}.html"
    path.write_text(html.render(report), encoding="utf-8")
    url = path.as_uri()
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=ARGS)
        context = browser.new_context(viewport={"width": 1280, "height": 1000})
        page = context.new_page()
        seen = Opened(page, url, report)

        def route(r: Any) -> None:
            if r.request.url.split("#")[0] == url:
                r.continue_()
            else:
                seen.requests.append(r.request.url)
                r.abort()

        context.route("**/*", route)
        page.on("console", lambda m: seen.console.append(f"{m.type}: {m.text}"))
        page.on("pageerror", lambda e: seen.errors.append(str(e)))
        page.on(
            "request", lambda r: None if r.url.split("#")[0] == url else seen.requests.append(r.url)
        )
        page.goto(url)
        page.wait_for_function("window.sbmReady === true", timeout=30_000)
        yield seen
        context.close()
        browser.close()


def test_opens_offline_without_errors(opened: Opened) -> None:
    assert opened.page.evaluate("window.sbmErrors") == []
    assert opened.errors == []
    assert [m for m in opened.console if m.startswith(("error", "warning"))] == []
    assert opened.requests == []


def test_every_chart_draws_its_data(opened: Opened) -> None:
    for topic in opened.report.topics:
        if topic.chart is None:
            continue
        chart = opened.page.locator(f"#chart-{topic.id}")
        assert chart.locator("svg").count() == 1, topic.id
        for name, count in expected_marks(topic.chart, topic.table).items():
            items = chart.locator(f"g.{name}_marks > path, g.{name}_marks > line")
            assert items.count() == count, (topic.id, name)


def test_tooltip_shows_the_formatted_value(opened: Opened) -> None:
    """Hovering the first bar of the network's coefficients shows its title and mean as
    the table shows them, never the internal names."""
    page = opened.page
    topic = opened.report.topics[0]
    row = topic.table.rows[0]
    mean = topic.table.column("mean")
    bar = page.locator("#chart-coefficients g.sbm_bar_marks > path").first
    bar.scroll_into_view_if_needed()
    bar.hover()
    tooltip = page.locator("#vg-tooltip-element")
    tooltip.wait_for(state="visible", timeout=5_000)
    text = tooltip.inner_text()
    shown = formats.formatter(opened.report)(row["mean"], "score")
    assert row["title"] in text and mean.title in text and shown in text
    assert "mean" not in text


def test_a_table_link_leads_to_the_card(opened: Opened) -> None:
    """The last card link of the last table that has any opens that card."""
    page = opened.page
    link = page.locator("section table a[href^='#card-']").last
    anchor = link.get_attribute("href")[1:]  # type: ignore[index]
    card_of = {c.anchor: c for c in opened.report.cards}
    assert link.inner_text() == str(card_of[anchor].key)
    link.click()
    page.wait_for_function(f"decodeURIComponent(location.hash) === '#{anchor}'")
    card = page.locator(f'[id="{anchor}"]')
    card.wait_for(state="visible")
    assert card.locator("table").count() == len(card_of[anchor].topics)
    box = card.bounding_box()
    assert box is not None and box["y"] < page.viewport_size["height"]  # type: ignore[index]
    shots = artifacts("report-screenshots")
    name = Path(opened.url).stem
    card.screenshot(path=str(shots / f"{name}-card.png"))
    page.goto(opened.url)
    page.wait_for_function("window.sbmReady === true")
    page.screenshot(path=str(shots / f"{name}.png"), full_page=True)
    page.screenshot(path=str(shots / f"{name}-first-screen.png"))  # the README's picture
