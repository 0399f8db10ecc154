"""Typed visit fields and the date functions through the protocol: hover and completion."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.lsp.client import LspClient, position_of
from tests.lsp.conftest import opened

TEXT = """\
standard demo.dates "Даты" {
    field date "Дата визита" date required
    field called datetime
    field channel one of { web, phone }
    coefficient weekend = if weekday(visit.date) >= 6 then 1 else 0
    coefficient late = minutes_between(visit.called, visit.called)
}
"""


@pytest.fixture
def dates(server: LspClient, tmp_path: Path) -> Iterator[tuple[LspClient, str]]:
    with opened(server, tmp_path / "dates.sbm", TEXT) as uri:
        yield server, uri


def hover(client: LspClient, uri: str, needle: str) -> str:
    result = client.at("textDocument/hover", uri, *position_of(TEXT, needle, 1))
    assert result is not None, needle
    value: str = result["contents"]["value"]
    return value


def test_hover_on_a_field_shows_its_type_and_required(dates: tuple[LspClient, str]) -> None:
    server, uri = dates
    assert hover(server, uri, "date)") == (
        "**visit field** `visit.date` — Дата визита\n\n- type: `date`, `required`"
    )
    assert hover(server, uri, "channel one") == (
        "**visit field** `visit.channel`\n\n- type: `text`\n- values: `web`, `phone`"
    )


def test_hover_on_the_date_functions(dates: tuple[LspClient, str]) -> None:
    server, uri = dates
    weekday = hover(server, uri, "weekday(")
    assert weekday.startswith("```sbm\nweekday(DATE)\n```\n") and "Monday" in weekday
    assert "in UTC for a datetime with a UTC offset" in weekday
    minutes = hover(server, uri, "minutes_between(")
    assert "minutes_between(A, B)" in minutes and "UTC offset" in minutes


def test_completion_after_a_field_name(server: LspClient, tmp_path: Path) -> None:
    text = TEXT.replace("    field channel", '    field wait "Ожидание" \n    field channel')
    uri = (tmp_path / "probe.sbm").as_uri()
    mark = server.open(uri, text)
    server.diagnostics(uri, 1, since=mark)
    at = position_of(text, '"Ожидание" ', len('"Ожидание" '))
    items: list[dict[str, Any]] = server.at("textDocument/completion", uri, *at)["items"]
    labels = [i["label"] for i in items]
    assert labels == ["text", "number", "date", "datetime", "duration", "required", "one"]
    server.close(uri)


def test_the_field_types_do_not_open_a_declaration() -> None:
    from sbm_engine.lsp.language import DECLARATION_WORDS

    assert "const" in DECLARATION_WORDS and "field" in DECLARATION_WORDS
    assert not {"date", "datetime", "duration"} & set(DECLARATION_WORDS)
