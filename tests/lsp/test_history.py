"""History across visits and examples of several visits, through the protocol: no
diagnostic for a valid file, hover on the history functions, rename that reaches the
answers of every visit of an example, and the E0804 of blocks out of order."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.lsp.client import LspClient, position_of, span
from tests.lsp.conftest import opened

TEXT = """\
standard demo.repeat "Повторы" {
    scale yn { yes = 1, no = 0 }
    item hands "Руки" answer yn tags violation
    coefficient again = repeated(tagged violation)
    coefficient was = previous(hands)
    coefficient first = if has_previous() then 0 else 1

    example "twice" {
        answers { hands = no }
        answers { hands = no }
        expect again == 1 and was == 0 and first == 0
    }
}
"""


@pytest.fixture
def repeat(server: LspClient, tmp_path: Path) -> Iterator[tuple[LspClient, str]]:
    with opened(server, tmp_path / "repeat.sbm", TEXT) as uri:
        yield server, uri


def test_hover_on_the_history_functions(repeat: tuple[LspClient, str]) -> None:
    server, uri = repeat
    for needle, words in (
        ("repeated(", "lost points"),
        ("previous(", "previous visit"),
        ("has_previous(", "previous visit"),
    ):
        result = server.at("textDocument/hover", uri, *position_of(TEXT, needle))
        assert result is not None and words in result["contents"]["value"], needle


def test_rename_an_item_reaches_every_visit_of_an_example(repeat: tuple[LspClient, str]) -> None:
    server, uri = repeat
    edit = server.at("textDocument/rename", uri, *position_of(TEXT, "hands "), newName="washed")
    ranges = [e["range"] for e in edit["changes"][uri]]
    for nth in range(4):  # the declaration, previous(hands) and both visits' answers
        assert span(TEXT, "hands", nth=nth) in ranges


def test_blocks_out_of_order_are_e0804(server: LspClient, tmp_path: Path) -> None:
    text = TEXT.replace(
        "        expect again", '        visit { scenario = "x" }\n        expect again'
    )
    path = tmp_path / "bad.sbm"
    path.write_text(text, encoding="utf-8")
    uri = path.as_uri()
    mark = server.open(uri, text)
    found = server.diagnostics(uri, 1, since=mark)
    assert [d["code"] for d in found] == ["E0804"]
    server.close(uri)
