"""Multi-select items (`answer any of SCALE`) through the protocol: hover, navigation
and completion."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.lsp.client import LspClient, position_of, span

TEXT = """\
standard demo.checklist "Осмотр" {
    scale found penalty { rodents = 5, dirty = 2 }
    item violations "Нарушения" answer any of found critical
    item amenities "Удобства" answer any of { wifi = 2, safe = 1 } optional
    coefficient demerits = points(violations)
    coefficient rats = if selected(violations, rodents) then 1 else 0
    coefficient ticked = selected_count(amenities)

    example "two found" {
        answers { violations = "rodents; dirty", amenities = "[]" }
        expect demerits == 7 and rats == 1 and ticked == 0
    }
}
"""


def _open(server: LspClient, tmp_path: Path, text: str) -> str:
    uri = (tmp_path / "checklist.sbm").as_uri()
    mark = server.open(uri, text)
    assert server.diagnostics(uri, 1, since=mark) == []
    return uri


def _hover(server: LspClient, uri: str, needle: str) -> str:
    result = server.at("textDocument/hover", uri, *position_of(TEXT, needle, 1))
    assert result is not None, needle
    value: str = result["contents"]["value"]
    return value


def test_hover_shows_the_options_and_what_selected_does(server: LspClient, tmp_path: Path) -> None:
    uri = _open(server, tmp_path, TEXT)
    item = _hover(server, uri, 'violations "')
    assert "- answer: any of `found` `penalty` (rodents = 5, dirty = 2)" in item
    inline = _hover(server, uri, 'amenities "')
    assert "- answer: any of { wifi = 2, safe = 1 }" in inline
    selected = _hover(server, uri, "selected(violations")
    assert selected.startswith("```sbm\nselected(ITEM, LABEL)\n```\n")
    assert "multi-select" in selected
    count = _hover(server, uri, "selected_count(")
    assert count.startswith("```sbm\nselected_count(ITEM)\n```\n")
    # the scale named after `any of` is a reference to it
    [loc] = server.at("textDocument/definition", uri, *position_of(TEXT, "found critical"))
    assert loc == {"uri": uri, "range": span(TEXT, "found")}
    server.close(uri)


def test_completion_after_answer_any_of_and_in_selected(server: LspClient, tmp_path: Path) -> None:
    text = TEXT.replace(
        "    coefficient demerits",
        '    item probe1 "P" answer \n'
        '    item probe2 "P" answer any of \n'
        "    coefficient probe3 = if selected(amenities, \n"
        "    coefficient demerits",
    )
    uri = (tmp_path / "probe.sbm").as_uri()
    mark = server.open(uri, TEXT)
    server.diagnostics(uri, 1, since=mark)
    mark = server.change(uri, 2, [{"text": text}])
    server.diagnostics(uri, 2, since=mark)

    def labels(needle: str, delta: int | None = None) -> list[str]:
        at = position_of(text, needle, len(needle) if delta is None else delta)
        items: list[dict[str, Any]] = server.at("textDocument/completion", uri, *at)["items"]
        return [i["label"] for i in items]

    assert {"found", "number", "text", "any"} <= set(labels('probe1 "P" answer '))
    assert labels('probe2 "P" answer any of ') == ["found"]
    assert labels("selected(amenities, ") == ["wifi", "safe"]
    # `any` opens no declaration: it is not offered at the start of a line
    start = labels("    item probe1", 4)
    assert "item" in start and "any" not in start
    server.close(uri)
