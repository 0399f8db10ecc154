"""Hover, navigation, rename, completion, outline and formatting through the protocol,
on the conformance standard and on a standard spread over `extends` and `import`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from sbm_engine.formatter import format_source
from tests.lsp.client import LspClient, ResponseError, position_of, span
from tests.lsp.conftest import CONFORMANCE, ROOT

TEXT = CONFORMANCE.read_text(encoding="utf-8")
URI = CONFORMANCE.as_uri()


@pytest.fixture(scope="module")
def demo(server: LspClient) -> LspClient:
    mark = server.open(URI, TEXT)
    assert server.diagnostics(URI, 1, since=mark) == []
    return server


def hover(client: LspClient, uri: str, text: str, needle: str, nth: int = 0) -> dict[str, Any]:
    result = client.at("textDocument/hover", uri, *position_of(text, needle, 1, nth))
    assert result is not None, needle
    return result  # type: ignore[no-any-return]


def labels(result: dict[str, Any]) -> list[str]:
    return [i["label"] for i in result["items"]]


# ---- hover -------------------------------------------------------------------------------


def test_hover_on_an_item_reference_shows_question_scale_weight_tags_section(
    demo: LspClient,
) -> None:
    # `greeted` in an example's answers: a reference, answered with its declaration.
    h = hover(demo, URI, TEXT, "greeted = yes")
    assert h["range"] == span(
        TEXT, "greeted", nth=TEXT.count("greeted", 0, TEXT.index("greeted = yes"))
    )
    assert h["contents"] == {
        "kind": "markdown",
        "value": "**item** `greeted` — Поприветствовал в течение 30 секунд\n\n"
        "- answer: `yes_no` (yes = 1, no = 0)\n"
        "- weight: 2\n"
        "- tags: `compliance`\n"
        "- section: `greeting` — Встреча клиента",
    }


def test_hover_on_an_item_with_a_formula_and_flags(demo: LspClient) -> None:
    value = hover(demo, URI, TEXT, 'secrecy "')["contents"]["value"]
    assert "- options: required, critical" in value
    value = hover(demo, URI, TEXT, "wait ")["contents"]["value"]
    assert "- answer: number 0..240" in value
    assert "- formula: `if value <= 5 then 1 else if value <= 10 then 0.5 else 0`" in value


def test_hover_on_a_coefficient_shows_formula_target_and_bands(demo: LspClient) -> None:
    h = hover(demo, URI, TEXT, "visit == 1")
    assert h["contents"]["value"] == (
        "**coefficient** `visit` — Посещение в целом\n\n"
        "- formula: `if critical_failed then 0 else weighted_mean(specialist: 0.7, point: 0.1,"
        " subjective: 0.2)`\n"
        "- target: 0.85\n"
        "- bands: excellent ≥ 0.9, good ≥ 0.75, fair ≥ 0.6, poor"
    )


def test_hover_on_a_section_a_scale_a_function_and_a_field(demo: LspClient) -> None:
    section = hover(demo, URI, TEXT, 'needs "')["contents"]["value"]
    assert section.startswith("**section** `needs` — Выявление потребностей\n\n- weight: 3\n")
    assert "- items: 3: `questions`, `card`, `secrecy`" in section
    scale = hover(demo, URI, TEXT, "grade5 {")["contents"]["value"]
    assert scale.splitlines()[2:] == [
        "- `1` = 0",
        "- `2` = 0.25",
        "- `3` = 0.5",
        "- `4` = 0.75",
        "- `5` = 1",
    ]
    function = hover(demo, URI, TEXT, "weighted_mean(tagged compliance)")["contents"]["value"]
    assert function.startswith(
        "```sbm\nweighted_mean(SELECTION) | weighted_mean(EXPR: WEIGHT, …)\n```"
    )
    field = hover(demo, URI, TEXT, "scenario ==")["contents"]["value"]
    assert field == "`visit.scenario`: a visit field every standard has"
    tag = hover(demo, URI, TEXT, "premises\n")["contents"]["value"]
    assert tag == "**tag** `premises`\n\n- items: 1: `clean`"


def test_no_hover_on_a_keyword_or_a_comment(demo: LspClient) -> None:
    assert demo.at("textDocument/hover", URI, *position_of(TEXT, "section greeting", 2)) is None
    assert demo.at("textDocument/hover", URI, 0, 5) is None


# ---- definition, references, rename -------------------------------------------------------


def test_definition_in_one_file(demo: LspClient) -> None:
    [loc] = demo.at("textDocument/definition", URI, *position_of(TEXT, "subjective: 0.2"))
    assert loc == {"uri": URI, "range": span(TEXT, "subjective", nth=0)}
    [loc] = demo.at(
        "textDocument/definition",
        URI,
        *position_of(TEXT, "in_section", 0) if False else position_of(TEXT, "yes_no weight 2"),
    )
    assert loc == {"uri": URI, "range": span(TEXT, "yes_no")}


def test_references_of_a_coefficient_leave_out_the_tag_of_the_same_name(demo: LspClient) -> None:
    found = demo.at(
        "textDocument/references",
        URI,
        *position_of(TEXT, "coefficient compliance", len("coefficient ")),
        context={"includeDeclaration": True},
    )
    starts = [
        position_of(TEXT, x)
        for x in ('compliance "Соблюдение', "compliance: 0.4", "compliance == 0.8")
    ]
    assert sorted(
        (r["range"]["start"]["line"], r["range"]["start"]["character"]) for r in found
    ) == sorted(starts)
    without = demo.at(
        "textDocument/references",
        URI,
        *position_of(TEXT, "compliance: 0.4"),
        context={"includeDeclaration": False},
    )
    assert len(without) == 2


def test_definition_and_references_across_extends_and_import(
    server: LspClient, folder: Path
) -> None:
    child, base, scales = folder / "child.sbm", folder / "base.sbm", folder / "scales.sbm"
    text = child.read_text(encoding="utf-8")
    base_text, scales_text = base.read_text(encoding="utf-8"), scales.read_text(encoding="utf-8")
    mark = server.open(child.as_uri(), text)
    assert server.diagnostics(child.as_uri(), 1, since=mark) == []
    [loc] = server.at("textDocument/definition", child.as_uri(), *position_of(text, "greeted: 1"))
    assert loc == {"uri": base.as_uri(), "range": span(base_text, "greeted")}
    [loc] = server.at("textDocument/definition", child.as_uri(), *position_of(text, "grade5"))
    assert loc == {"uri": scales.as_uri(), "range": span(scales_text, "grade5")}
    [loc] = server.at("textDocument/definition", child.as_uri(), *position_of(text, "acme.base", 2))
    assert loc == {"uri": base.as_uri(), "range": span(base_text, "acme.base")}
    [loc] = server.at("textDocument/definition", child.as_uri(), *position_of(text, "scales.sbm"))
    assert loc["uri"] == scales.as_uri()
    refs = server.at(
        "textDocument/references",
        child.as_uri(),
        *position_of(text, "compliance: 1"),
        context={"includeDeclaration": True},
    )
    assert {(r["uri"], r["range"]["start"]["line"]) for r in refs} == {
        (child.as_uri(), 3),
        (base.as_uri(), 7),
        (base.as_uri(), 8),
    }
    hover_text = hover(server, child.as_uri(), text, "tidy")["contents"]["value"]
    assert "- answer: `grade5` (1 = 0, 2 = 0.25, 3 = 0.5, 4 = 0.75, 5 = 1)" in hover_text
    greeted = hover(server, child.as_uri(), text, "greeted: 1")["contents"]["value"]
    assert greeted.endswith(
        f"declared in {base.relative_to(Path.cwd()) if base.is_relative_to(Path.cwd()) else base}:5"
    )
    server.close(child.as_uri())


def test_rename_an_item_across_files(server: LspClient, folder: Path) -> None:
    child, base = folder / "child.sbm", folder / "base.sbm"
    text, base_text = child.read_text(encoding="utf-8"), base.read_text(encoding="utf-8")
    mark = server.open(child.as_uri(), text)
    server.diagnostics(child.as_uri(), 1, since=mark)
    at = position_of(text, "greeted: 1")
    prepared = server.at("textDocument/prepareRename", child.as_uri(), *at)
    assert prepared == {"range": span(text, "greeted"), "placeholder": "greeted"}
    edit = server.at("textDocument/rename", child.as_uri(), *at, newName="hello")
    assert edit == {
        "changes": {
            child.as_uri(): [{"range": span(text, "greeted"), "newText": "hello"}],
            base.as_uri(): [{"range": span(base_text, "greeted"), "newText": "hello"}],
        }
    }
    server.close(child.as_uri())


def test_rename_edits_other_files_as_they_are_now(folder: Path) -> None:
    # checks seconds after a change: the rename comes before the next one
    server = LspClient(cwd=ROOT)
    server.initialize(ROOT, options={"debounce": 3, "examples": False})
    try:
        _rename_after_other_files_changed(server, folder)
    finally:
        assert server.stop() == 0
    assert "Traceback" not in server.stderr, server.stderr


def test_rename_ties_its_edits_to_the_versions_of_open_documents(folder: Path) -> None:
    server = LspClient(cwd=ROOT)
    server.initialize(
        ROOT,
        options={"debounce": 0, "examples": False},
        workspace={"workspaceEdit": {"documentChanges": True}},
    )
    try:
        child, base = folder / "child.sbm", folder / "base.sbm"
        text, base_text = child.read_text(encoding="utf-8"), base.read_text(encoding="utf-8")
        mark = server.open(child.as_uri(), text, version=7)
        assert server.diagnostics(child.as_uri(), 7, since=mark) == []
        edit = server.at(
            "textDocument/rename", child.as_uri(), *position_of(text, "greeted: 1"), newName="hi"
        )
        assert edit == {
            "documentChanges": [
                {
                    "textDocument": {"uri": child.as_uri(), "version": 7},
                    "edits": [{"range": span(text, "greeted"), "newText": "hi"}],
                },
                {  # not open: the file as it is on disk
                    "textDocument": {"uri": base.as_uri(), "version": None},
                    "edits": [{"range": span(base_text, "greeted"), "newText": "hi"}],
                },
            ]
        }
    finally:
        assert server.stop() == 0
    assert "Traceback" not in server.stderr, server.stderr


def _rename_after_other_files_changed(server: LspClient, folder: Path) -> None:
    child, base, scales = folder / "child.sbm", folder / "base.sbm", folder / "scales.sbm"
    text = child.read_text(encoding="utf-8")
    mark = server.open(child.as_uri(), text)
    assert server.diagnostics(child.as_uri(), 1, since=mark) == []
    # after the check: the base changes on disk (no notice of it reaches the server),
    # the file of scales is opened and edited, both above the names to rename
    base_text = "# moved down\n\n" + base.read_text(encoding="utf-8")
    base.write_text(base_text, encoding="utf-8")
    scales_text = scales.read_text(encoding="utf-8")
    server.open(scales.as_uri(), scales_text)
    edited = "# a line\n" + scales_text
    server.change(scales.as_uri(), 2, [{"text": edited}])
    edit = server.at(
        "textDocument/rename", child.as_uri(), *position_of(text, "greeted: 1"), newName="hello"
    )
    assert edit == {
        "changes": {
            child.as_uri(): [{"range": span(text, "greeted"), "newText": "hello"}],
            base.as_uri(): [{"range": span(base_text, "greeted"), "newText": "hello"}],
        }
    }
    edit = server.at(
        "textDocument/rename", child.as_uri(), *position_of(text, "grade5"), newName="grade_five"
    )
    assert edit["changes"][scales.as_uri()] == [
        {"range": span(edited, "grade5"), "newText": "grade_five"}
    ]
    server.close(scales.as_uri())
    server.close(child.as_uri())


@pytest.mark.parametrize(
    ("needle", "new", "why"),
    [
        ("greeted: 1", "if", "cannot be a name"),
        ("greeted: 1", "9lives", "cannot be a name"),
        ("greeted: 1", "weighted_mean", "cannot be a name"),
        ("greeted: 1", "tidy", "already declared"),
        ("weighted_mean", "mean2", "cannot be renamed"),
    ],
)
def test_rename_refuses_keywords_builtins_bad_and_taken_names(
    server: LspClient, folder: Path, needle: str, new: str, why: str
) -> None:
    child = folder / "child.sbm"
    text = child.read_text(encoding="utf-8")
    mark = server.open(child.as_uri(), text)
    server.diagnostics(child.as_uri(), 1, since=mark)
    with pytest.raises(ResponseError) as err:
        server.at("textDocument/rename", child.as_uri(), *position_of(text, needle), newName=new)
    assert why in err.value.message
    server.close(child.as_uri())


# ---- completion ------------------------------------------------------------------------------


def complete_at(client: LspClient, uri: str, text: str, needle: str) -> list[str]:
    """Completion with the text cut right after `needle` (the rest of the line kept)."""
    return labels(
        client.at("textDocument/completion", uri, *position_of(text, needle, len(needle)))
    )


def test_completion_in_context(server: LspClient, tmp_path: Path) -> None:
    text = TEXT.replace(
        "    target visit 0.85\n",
        "    target visit 0.85\n"
        "    coefficient probe = weighted_mean(tagged \n"
        "    coefficient probe2 = weighted_mean(in \n"
        "    coefficient probe3 = if visit. \n"
        "    coefficient probe4 = if answer(card) == \n"
        "    coefficient probe5 = 1 + \n"
        '    item probe6 "Q" answer \n',
    )
    uri = (tmp_path / "probe.sbm").as_uri()
    # Typed into a standard that parsed: the half-written lines break it, and the
    # names of its last good text are still offered.
    mark = server.open(uri, TEXT)
    server.diagnostics(uri, 1, since=mark)
    mark = server.change(uri, 2, [{"text": text}])
    server.diagnostics(uri, 2, since=mark)
    assert complete_at(server, uri, text, "weighted_mean(tagged ") == [
        "client_orientation",
        "compliance",
        "premises",
        "professionalism",
    ]
    assert complete_at(server, uri, text, "weighted_mean(in ") == ["greeting", "needs", "premises"]
    fields = complete_at(server, uri, text, "if visit.")
    assert fields == [
        "date",
        "id",
        "point",
        "region",
        "scenario",
        "shopper",
        "specialist",
        "submitted",
    ]
    assert complete_at(server, uri, text, "answer(card) == ") == ["yes", "no"]
    assert complete_at(server, uri, text, "answer ") == [
        "grade5",
        "yes_no",
        "number",
        "text",
        "any",
    ]
    names = complete_at(server, uri, text, "probe5 = 1 + ")
    for expected in ("greeted", "greeting", "visit", "weighted_mean", "critical_failed", "if"):
        assert expected in names
    assert "yes_no" not in names  # a scale is no value
    assert complete_at(server, uri, text, "band(visit) == ") == [
        "excellent",
        "good",
        "fair",
        "poor",
    ]
    assert complete_at(server, uri, text, "answers { greeted = ") == ["yes", "no"]
    assert "secrecy" in complete_at(server, uri, text, "card = yes,\n                  ")
    start = complete_at(server, uri, text, 'industry "bank"\n')
    assert "item" in start and "coefficient" in start and "section" in start
    server.close(uri)


# ---- outline and formatting ----------------------------------------------------------------


def test_document_symbols_nest_sections_and_items(demo: LspClient) -> None:
    [std] = demo.request("textDocument/documentSymbol", {"textDocument": {"uri": URI}})
    assert std["name"] == "demo.branch"
    assert std["selectionRange"] == span(TEXT, "demo.branch")
    kids = [(c["name"], c["kind"]) for c in std["children"]]
    assert kids[:3] == [("yes_no", 10), ("grade5", 10), ("greeting", 3)]
    greeting = std["children"][2]
    assert [c["name"] for c in greeting["children"]] == ["greeted", "smile", "wait"]
    assert greeting["selectionRange"] == span(TEXT, "greeting")
    start = position_of(TEXT, "section greeting")
    end = position_of(TEXT, "    }\n", len("    }"))
    assert greeting["range"] == {
        "start": {"line": start[0], "character": start[1]},
        "end": {"line": end[0], "character": end[1]},
    }
    assert ("visit", 12) in kids and ("nps", 12) in kids and ("a flawless visit", 24) in kids


def _apply(text: str, edits: list[dict[str, Any]]) -> str:
    from sbm_engine.lsp.positions import LineIndex

    lines = LineIndex(text)
    spans = [
        (
            lines.offset(e["range"]["start"]["line"], e["range"]["start"]["character"]),
            lines.offset(e["range"]["end"]["line"], e["range"]["end"]["character"]),
            e["newText"],
        )
        for e in edits
    ]
    for start, end, new in sorted(spans, reverse=True):
        text = text[:start] + new + text[end:]
    return text


def test_formatting_gives_the_edits_of_sbm_fmt(server: LspClient, tmp_path: Path) -> None:
    messy = TEXT.replace("weight 2 {", "weight   2{").replace("    item overall", "item overall")
    uri = (tmp_path / "messy.sbm").as_uri()
    server.open(uri, messy)
    options = {"tabSize": 4, "insertSpaces": True}
    edits = server.request(
        "textDocument/formatting", {"textDocument": {"uri": uri}, "options": options}
    )
    assert edits and len(edits) == 2  # two lines changed, two edits
    assert _apply(messy, edits) == format_source(messy) == TEXT[TEXT.index("# Retail") :]
    server.close(uri)


def test_formatting_an_unformatted_nothing_and_a_broken_file(
    demo: LspClient, tmp_path: Path
) -> None:
    options = {"tabSize": 4, "insertSpaces": True}
    assert (
        demo.request("textDocument/formatting", {"textDocument": {"uri": URI}, "options": options})
        == []
    )
    uri = (tmp_path / "broken.sbm").as_uri()
    mark = demo.open(uri, 'standard t.x "T" {\n  item\n')
    assert (
        demo.request("textDocument/formatting", {"textDocument": {"uri": uri}, "options": options})
        == []
    )
    shown = demo.wait_for(lambda m: m.get("method") == "window/showMessage", since=mark)
    assert shown["params"]["message"].startswith("not formatted: the file does not parse (2:7: ")
    demo.close(uri)


def test_hover_shows_critical_if_and_unscored_also_inside_a_repeated_block(
    server: LspClient, tmp_path: Path
) -> None:
    text = (
        "standard t.hover {\n"
        '    repeat p in { a "A", b "B" } {\n'
        '        item gloves "Gloves {p}" answer { yes = 1, no = 0 }\n'
        '            critical if visit.scenario == "x"\n'
        "    }\n"
        '    item e "Expected" answer number 1..7 unscored\n'
        "}\n"
    )
    path = tmp_path / "hover.sbm"
    path.write_text(text, encoding="utf-8")
    uri = path.as_uri()
    mark = server.open(uri, text)
    assert server.diagnostics(uri, 1, since=mark) == []
    value = hover(server, uri, text, 'gloves "')["contents"]["value"]
    assert '- critical if: `visit.scenario == "x"`' in value
    assert "critical," not in value and "options: critical" not in value
    assert "- options: unscored" in hover(server, uri, text, 'e "')["contents"]["value"]
