"""No text kills the server: broken syntax, control characters, lone surrogates' places,
unknown imports, documents that are no files, changes to documents never opened,
positions past the end; and any text sent by `didChange` (a property test)."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.lsp.client import LspClient
from tests.lsp.conftest import ROOT

HOSTILE = [
    "",
    "\x00\x01\x02",
    "standard",
    'standard x "T" {',
    'standard x "T" { item a "Q" answer yes_no tags } }}}}',
    "standard x { " + "(" * 500 + "1" + ")" * 500 + " }",
    'standard x "T" { coefficient c = ' + "1 + " * 2000 + "1 }",
    'standard x "T" { import "/etc/passwd" import "../../../x.sbm" import "\\u0000" }',
    'standard x "T" extends nowhere.at.all { drop y }',
    "😀" * 100 + "\r\r\n\u2028\u0085",
    'standard x "T" {\n    item 𝔸 "😀" answer { 😀 = 1 } \n}',
    '\ufeffstandard x "T" { }',
]

REQUESTS = [
    "textDocument/hover",
    "textDocument/definition",
    "textDocument/completion",
    "textDocument/prepareRename",
]


def _alive(client: LspClient, uri: str) -> None:
    """The server still answers, and every request about the document is answered."""
    for method in REQUESTS:
        for line, character in ((0, 0), (0, 3), (1, 1), (400, 400)):
            try:
                client.at(method, uri, line, character)
            except Exception as err:  # a refused rename is an answer too
                from tests.lsp.client import ResponseError

                assert isinstance(err, ResponseError), err
    client.request("textDocument/documentSymbol", {"textDocument": {"uri": uri}})
    client.request(
        "textDocument/formatting",
        {"textDocument": {"uri": uri}, "options": {"tabSize": 4, "insertSpaces": True}},
    )
    client.request(
        "textDocument/references",
        {
            "textDocument": {"uri": uri},
            "position": {"line": 0, "character": 1},
            "context": {"includeDeclaration": True},
        },
    )


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_documents_get_diagnostics_and_answers(
    server: LspClient, tmp_path: Path, text: str
) -> None:
    uri = (tmp_path / "hostile.sbm").as_uri()
    mark = server.open(uri, text)
    diagnostics = server.diagnostics(uri, 1, since=mark)
    assert all(d["code"].startswith(("E", "W")) for d in diagnostics)
    if text.strip():
        assert diagnostics, "a broken file is reported"
    _alive(server, uri)
    server.close(uri)


def test_documents_that_are_no_files_and_unknown_documents(server: LspClient) -> None:
    uri = "untitled:Untitled-1"
    mark = server.open(uri, 'standard t.x "T" { coefficient c = nothing }')
    [d] = server.diagnostics(uri, 1, since=mark)
    assert d["code"] == "E0201"
    _alive(server, uri)
    server.close(uri)
    # A change to a document never opened, and a request about it: no answer is lost.
    server.change("file:///nowhere/never.sbm", 3, [{"text": "standard"}])
    assert server.at("textDocument/hover", "file:///nowhere/never.sbm", 0, 0) is None


def test_the_command_runs_the_server_and_exits_cleanly(tmp_path: Path) -> None:
    client = LspClient(cwd=ROOT)
    result = client.initialize(ROOT)
    caps = result["capabilities"]
    assert caps["textDocumentSync"]["change"] == 2  # incremental
    assert caps["hoverProvider"] and caps["definitionProvider"] and caps["referencesProvider"]
    assert caps["renameProvider"] == {"prepareProvider": True}
    assert caps["documentFormattingProvider"] and caps["documentSymbolProvider"]
    assert caps["codeActionProvider"]["codeActionKinds"] == ["quickfix"]
    assert result["serverInfo"]["name"] == "sbm"
    assert client.stop() == 0
    assert "Traceback" not in client.stderr


_texts = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=300
) | st.lists(
    st.sampled_from(
        [
            "standard",
            "x",
            '"T"',
            "{",
            "}",
            "item",
            "a",
            "answer",
            "yes_no",
            "coefficient",
            "=",
            "weighted_mean",
            "(",
            ")",
            "tagged",
            "import",
            '"a.sbm"',
            "\n",
            " ",
            "😀",
            "if",
        ]
    ),
    max_size=60,
).map(" ".join)


@settings(max_examples=30, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(texts=st.lists(_texts, min_size=1, max_size=4))
def test_any_text_sent_by_did_change_leaves_the_server_answering(
    server: LspClient, tmp_path: Path, texts: list[str]
) -> None:
    uri = (tmp_path / "fuzz.sbm").as_uri()
    server.open(uri, "")
    for version, text in enumerate(texts, start=2):
        server.change(uri, version, [{"text": text}])
    mark = len(server.notifications)
    final = len(texts) + 1
    server.change(uri, final + 1, [{"text": texts[-1]}])
    server.diagnostics(uri, final + 1, since=mark)
    _alive(server, uri)
    server.close(uri)


def test_a_file_broken_while_typing_keeps_hover_definition_and_outline(
    server: LspClient, scratch: Path
) -> None:
    from tests.lsp.client import ResponseError, position_of, span

    path = scratch / "demo_branch.sbm"
    good = path.read_text(encoding="utf-8")
    uri = path.as_uri()
    mark = server.open(uri, good)
    assert server.diagnostics(uri, 1, since=mark) == []
    # A line inserted above everything shifts every name; the file no longer parses.
    broken = good.replace("standard demo.branch", "item {\nstandard demo.branch", 1)
    mark = server.change(uri, 2, [{"text": broken}])
    [d] = server.diagnostics(uri, 2, since=mark)
    assert d["code"].startswith("E0")
    at = position_of(broken, "subjective: 0.2")
    [loc] = server.at("textDocument/definition", uri, *at)
    assert loc == {"uri": uri, "range": span(broken, "subjective")}  # where it is now
    value = server.at("textDocument/hover", uri, *position_of(broken, "greeted = yes"))
    assert value["contents"]["value"].startswith("**item** `greeted`")
    assert value["range"] == span(broken, "greeted = yes", length=len("greeted"))
    [std] = server.request("textDocument/documentSymbol", {"textDocument": {"uri": uri}})
    assert std["name"] == "demo.branch"  # the last outline that parsed
    with pytest.raises(ResponseError) as err:
        server.at("textDocument/rename", uri, *at, newName="subj")
    assert "does not parse" in err.value.message
    server.close(uri)


def test_a_message_that_is_not_json_does_not_stop_the_server() -> None:
    # Its own server: pygls logs the bad message, with a traceback, on standard error.
    client = LspClient(cwd=ROOT)
    try:
        client.initialize(ROOT)
        assert client.proc.stdin is not None
        body = b"\xff\xfe{not json"
        client.proc.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        client.proc.stdin.flush()
        position = {"line": 0, "character": 0}
        uri = {"uri": "file:///nowhere.sbm"}
        assert (
            client.request("textDocument/hover", {"textDocument": uri, "position": position})
            is None
        )
    finally:
        assert client.stop() == 0


#: `sbm lsp`, with the parser reporting on standard error each parse made on the thread
#: of the server's loop (the main thread), where a parse delays every request behind it.
_WATCHED_PARSER = """
import sys, threading
import sbm_engine.lsp.analysis as analysis
parse = analysis.parse
def watched(*args, **kwargs):
    if threading.current_thread() is threading.main_thread():
        sys.stderr.write("PARSED ON THE LOOP\\n")
        sys.stderr.flush()
    return parse(*args, **kwargs)
analysis.parse = watched
from sbm_engine.cli import main
sys.argv = ["sbm", "lsp"]
main()
"""


def test_no_request_parses_on_the_servers_loop(scratch: Path) -> None:
    """Requests on a text changed since its check (the check waits for the typing to
    pause) never parse it on the loop: hover and completion answer lexically, the
    others parse it on another thread."""
    import sys

    from tests.lsp.client import position_of, span

    client = LspClient([sys.executable, "-c", _WATCHED_PARSER], cwd=ROOT)
    try:
        client.initialize(ROOT, options={"debounce": 3, "examples": False})
        path = scratch / "demo_branch.sbm"
        good = path.read_text(encoding="utf-8")
        uri = path.as_uri()
        mark = client.open(uri, good)
        assert client.diagnostics(uri, 1, since=mark) == []
        # a line above everything: every name moves, the check is seconds away
        changed = "# a comment\n" + good
        client.change(uri, 2, [{"text": changed}])
        at = position_of(changed, "subjective: 0.2")
        hover = client.at("textDocument/hover", uri, *position_of(changed, "greeted = yes"))
        assert hover["contents"]["value"].startswith("**item** `greeted`")
        assert hover["range"] == span(changed, "greeted = yes", length=len("greeted"))
        assert client.at("textDocument/completion", uri, *at)["items"]
        [loc] = client.at("textDocument/definition", uri, *at)
        assert loc == {"uri": uri, "range": span(changed, "subjective")}
        assert client.at("textDocument/references", uri, *at, context={"includeDeclaration": True})
        [std] = client.request("textDocument/documentSymbol", {"textDocument": {"uri": uri}})
        assert std["selectionRange"] == span(changed, "demo.branch")
        assert client.at("textDocument/prepareRename", uri, *at)["placeholder"] == "subjective"
        assert (
            client.request(
                "textDocument/formatting",
                {"textDocument": {"uri": uri}, "options": {"tabSize": 4, "insertSpaces": True}},
            )
            == []
        )
        assert "PARSED ON THE LOOP" not in client.stderr
    finally:
        assert client.stop() == 0
    assert "Traceback" not in client.stderr, client.stderr
