"""Constants, points and penalty scales, and bands with `<=` and `when`, through the
protocol: hover, navigation, rename, outline and completion."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.lsp.client import LspClient, position_of, span
from tests.lsp.conftest import opened

TEXT = """\
standard demo.fines "Штрафы" {
    const A_MAX = 13
    const B_MAX = 27.5
    scale level penalty { none = 0, I = 7, II = 8 }
    scale extras points { none = 0, some = 2.5 }
    item temperature "Температура" answer level tags violation
    item amenities "Удобства" answer extras
    coefficient total "Штраф" = points(tagged violation)
    coefficient worst = max(points(temperature), 0)
    bands total { A <= 13 when worst <= A_MAX, B <= 27, C }
    rollup share_a = share(total <= A_MAX)

    example "one cold fridge" {
        answers { temperature = I, amenities = some }
        expect total == 7 and band(total) == A and total <= B_MAX
    }
}
"""


@pytest.fixture
def fines(server: LspClient, tmp_path: Path) -> Iterator[tuple[LspClient, str]]:
    with opened(server, tmp_path / "fines.sbm", TEXT) as uri:
        yield server, uri


def hover(client: LspClient, uri: str, needle: str, nth: int = 0) -> str:
    result = client.at("textDocument/hover", uri, *position_of(TEXT, needle, 1, nth))
    assert result is not None, needle
    value: str = result["contents"]["value"]
    return value


# ---- hover -------------------------------------------------------------------------------


def test_hover_on_a_constant_shows_its_number(fines: tuple[LspClient, str]) -> None:
    server, uri = fines
    assert hover(server, uri, "A_MAX =") == "**constant** `A_MAX` = 13"
    # a use: in a band's condition, in a rollup, in an example
    assert hover(server, uri, "A_MAX,") == "**constant** `A_MAX` = 13"
    assert hover(server, uri, "A_MAX)") == "**constant** `A_MAX` = 13"
    assert hover(server, uri, "B_MAX\n") == "**constant** `B_MAX` = 27.5"


def test_hover_on_an_item_says_its_answers_are_points(fines: tuple[LspClient, str]) -> None:
    server, uri = fines
    temperature = hover(server, uri, 'temperature "')
    assert "- answer: `level` `penalty` (none = 0, I = 7, II = 8)" in temperature
    amenities = hover(server, uri, "amenities = some")
    assert "- answer: `extras` `points` (none = 0, some = 2.5)" in amenities
    scale = hover(server, uri, "level penalty")
    assert scale.splitlines() == ["**scale** `level` `penalty`", "", *scale.splitlines()[2:]]
    assert scale.splitlines()[2:] == ["- `none` = 0", "- `I` = 7", "- `II` = 8"]


def test_hover_on_a_coefficient_shows_bands_at_most_and_their_conditions(
    fines: tuple[LspClient, str],
) -> None:
    server, uri = fines
    total = hover(server, uri, 'total "')
    assert total == (
        "**coefficient** `total` — Штраф\n\n"
        "- formula: `points(tagged violation)`\n"
        "- bands: A ≤ 13 when worst <= A_MAX, B ≤ 27, C"
    )


def test_hover_on_points_and_max_points(fines: tuple[LspClient, str]) -> None:
    server, uri = fines
    value = hover(server, uri, "points(tagged")
    assert value.startswith("```sbm\npoints(ITEM) | points(SELECTION)\n```\n")
    assert value.splitlines()[-1].strip()


# ---- definition, references, rename ---------------------------------------------------------


def test_definition_and_references_of_a_constant(fines: tuple[LspClient, str]) -> None:
    server, uri = fines
    declaration = span(TEXT, "A_MAX")
    for needle in ("A_MAX,", "A_MAX)"):
        [loc] = server.at("textDocument/definition", uri, *position_of(TEXT, needle))
        assert loc == {"uri": uri, "range": declaration}
    refs = server.at(
        "textDocument/references",
        uri,
        *position_of(TEXT, "A_MAX ="),
        context={"includeDeclaration": True},
    )
    assert [r["range"] for r in refs] == [span(TEXT, "A_MAX", nth=i) for i in range(3)]
    # a name in a band's condition is a reference too
    [loc] = server.at("textDocument/definition", uri, *position_of(TEXT, "worst <="))
    assert loc == {"uri": uri, "range": span(TEXT, "worst")}


def test_rename_a_constant(fines: tuple[LspClient, str]) -> None:
    server, uri = fines
    at = position_of(TEXT, "B_MAX\n")
    prepared = server.at("textDocument/prepareRename", uri, *at)
    assert prepared == {"range": span(TEXT, "B_MAX", nth=1), "placeholder": "B_MAX"}
    edit = server.at("textDocument/rename", uri, *at, newName="B_LIMIT")
    assert edit == {
        "changes": {
            uri: [{"range": span(TEXT, "B_MAX", nth=i), "newText": "B_LIMIT"} for i in range(2)]
        }
    }


# ---- outline and completion -----------------------------------------------------------------


def test_the_outline_lists_constants(fines: tuple[LspClient, str]) -> None:
    server, uri = fines
    [std] = server.request("textDocument/documentSymbol", {"textDocument": {"uri": uri}})
    kids = [(c["name"], c["kind"], c.get("detail")) for c in std["children"]]
    assert kids[:3] == [("A_MAX", 14, "13"), ("B_MAX", 14, "27.5"), ("level", 10, None)]
    assert std["children"][0]["selectionRange"] == span(TEXT, "A_MAX")
    assert std["children"][0]["range"] == {
        "start": {"line": 1, "character": 4},
        "end": {"line": 1, "character": len("    const A_MAX = 13")},
    }


def test_completion_of_constants_scale_kinds_and_const(server: LspClient, tmp_path: Path) -> None:
    text = TEXT.replace(
        "    rollup share_a",
        "    scale grades \n"
        "    const C_MAX = \n"
        "    coefficient probe = 1 + \n"
        "    bands worst { low <= \n"
        "    rollup share_a",
    )
    uri = (tmp_path / "probe.sbm").as_uri()
    # typed into a standard that parsed: the names of its last good text are offered
    mark = server.open(uri, TEXT)
    server.diagnostics(uri, 1, since=mark)
    mark = server.change(uri, 2, [{"text": text}])
    server.diagnostics(uri, 2, since=mark)

    def complete_at(needle: str, delta: int | None = None) -> list[dict[str, Any]]:
        at = position_of(text, needle, len(needle) if delta is None else delta)
        items: list[dict[str, Any]] = server.at("textDocument/completion", uri, *at)["items"]
        return items

    def labels(needle: str, delta: int | None = None) -> list[str]:
        return [i["label"] for i in complete_at(needle, delta)]

    assert labels("scale grades ") == ["points", "penalty"]
    assert labels("const C_MAX = ") == []  # a number goes there
    assert labels("low <= ") == []  # and in a band's threshold
    formula = labels("probe = 1 + ")
    for name in ("A_MAX", "B_MAX", "C_MAX", "worst", "points", "max_points"):
        assert name in formula
    when = labels("when ")
    assert "A_MAX" in when and "worst" in when
    # where a declaration goes: `const` among the declaration keywords
    start = {i["label"]: i for i in complete_at("    const A_MAX", 4)}
    assert {"const", "scale", "item"} <= set(start)
    assert start["const"]["kind"] == 14  # a keyword
    constant = next(i for i in complete_at("probe = 1 + ") if i["label"] == "A_MAX")
    assert constant["kind"] == 21 and constant["detail"] == "constant"
    server.close(uri)
