"""Diagnostics through the protocol: the checker's codes at exact ranges, in UTF-16
columns, for the text the editor has (saved or not), and quick fixes for `did you mean`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.lsp.client import LspClient, position_of, span
from tests.lsp.conftest import CONFORMANCE


def test_the_conformance_standard_has_no_diagnostics(server: LspClient) -> None:
    uri = CONFORMANCE.as_uri()
    mark = server.open(uri, CONFORMANCE.read_text(encoding="utf-8"))
    assert server.diagnostics(uri, 1, since=mark) == []
    server.close(uri)


def test_an_unknown_name_has_its_code_range_hint_and_quick_fix(
    server: LspClient, scratch: Path
) -> None:
    path = scratch / "demo_branch.sbm"
    text = path.read_text(encoding="utf-8").replace(
        "weighted_mean(compliance: 0.4", "weighted_mean(complance: 0.4"
    )
    uri = path.as_uri()
    mark = server.open(uri, text)
    [d] = server.diagnostics(uri, 1, since=mark)
    assert d["code"] == "E0201"
    assert d["severity"] == 1
    assert d["source"] == "sbm"
    assert d["range"] == span(text, "complance")
    assert "unknown name `complance`" in d["message"]
    assert "help: did you mean `compliance`?" in d["message"]
    [action] = server.request(
        "textDocument/codeAction",
        {"textDocument": {"uri": uri}, "range": d["range"], "context": {"diagnostics": [d]}},
    )
    assert action["kind"] == "quickfix"
    assert action["title"] == "Replace with `compliance`"
    assert action["edit"] == {
        "changes": {uri: [{"range": span(text, "complance"), "newText": "compliance"}]}
    }
    server.close(uri)


def test_a_quick_fix_is_not_offered_once_the_text_under_it_moved(
    server: LspClient, scratch: Path
) -> None:
    path = scratch / "demo_branch.sbm"
    text = path.read_text(encoding="utf-8").replace(
        "weighted_mean(compliance: 0.4", "weighted_mean(complance: 0.4"
    )
    uri = path.as_uri()
    mark = server.open(uri, text)
    [d] = server.diagnostics(uri, 1, since=mark)
    line = d["range"]["start"]["line"]

    def actions() -> Any:
        return server.request(
            "textDocument/codeAction",
            {"textDocument": {"uri": uri}, "range": d["range"], "context": {"diagnostics": [d]}},
        )

    # an edit after the name on its line: the name is still where the diagnostic says
    end = {"line": line, "character": len(text.splitlines()[line])}
    server.change(uri, 2, [{"range": {"start": end, "end": end}, "text": " "}])
    [action] = actions()
    assert action["edit"]["changes"][uri][0]["range"] == d["range"]
    # a word typed at the start of the line, before the next check is published: the
    # old range now holds other characters, and the fix would overwrite them
    start = {"line": line, "character": 0}
    server.change(uri, 3, [{"range": {"start": start, "end": start}, "text": "xx"}])
    assert actions() == []
    server.close(uri)


def test_a_syntax_error_is_located_and_fixing_it_clears_it(
    server: LspClient, tmp_path: Path
) -> None:
    text = 'standard t.x "T" {\n    item a "Вопрос" answer\n}\n'
    uri = (tmp_path / "broken.sbm").as_uri()
    mark = server.open(uri, text)
    [d] = server.diagnostics(uri, 1, since=mark)
    assert d["code"] == "E0001"
    assert d["range"]["start"] == {"line": 2, "character": 0}  # the `}` where a type belongs
    # An incremental change completes the item: the error goes.
    end = position_of(text, "answer", len("answer"))
    mark = server.change(
        uri,
        2,
        [
            {
                "range": {
                    "start": {"line": end[0], "character": end[1]},
                    "end": {"line": end[0], "character": end[1]},
                },
                "text": " number 0..10",
            }
        ],
    )
    assert server.diagnostics(uri, 2, since=mark) == []
    server.close(uri)


def test_columns_count_utf16_units_after_cyrillic_and_astral_characters(
    server: LspClient, tmp_path: Path
) -> None:
    text = (
        'standard t.x "T" {\n'
        '    item a "Вопрос" answer number 0..10\n'
        '    coefficient c "😀 Итог 𝔸" = weighted_mean(greted: 1)\n'
        "}\n"
    )
    uri = (tmp_path / "wide.sbm").as_uri()
    mark = server.open(uri, text)
    [d] = server.diagnostics(uri, 1, since=mark)
    assert d["code"] == "E0201"
    # `😀` and `𝔸` are two UTF-16 units each: the name starts 4 units further right
    # than its count of characters says.
    line = text.splitlines()[2]
    chars = line.index("greted")
    assert d["range"] == {
        "start": {"line": 2, "character": chars + 2},
        "end": {"line": 2, "character": chars + 2 + len("greted")},
    }
    assert d["range"] == span(text, "greted")
    # An edit inside the astral text (replacing `😀` by `ab`) is applied at UTF-16
    # positions: the range moves by the difference.
    emoji = position_of(text, "😀")
    mark = server.change(
        uri,
        2,
        [
            {
                "range": {
                    "start": {"line": emoji[0], "character": emoji[1]},
                    "end": {"line": emoji[0], "character": emoji[1] + 2},
                },
                "text": "abc",
            }
        ],
    )
    [d] = server.diagnostics(uri, 2, since=mark)
    new_text = text.replace("😀", "abc")
    assert d["range"] == span(new_text, "greted")
    server.close(uri)


def test_unsaved_text_of_an_open_imported_file_is_used(server: LspClient, folder: Path) -> None:
    child, scales = folder / "child.sbm", folder / "scales.sbm"
    child_text = child.read_text(encoding="utf-8")
    mark = server.open(child.as_uri(), child_text)
    assert server.diagnostics(child.as_uri(), 1, since=mark) == []
    # The imported file, open and renamed in the editor but not saved: the child's
    # `answer grade5` is now unknown, and the child's diagnostics say so by themselves.
    scales_text = scales.read_text(encoding="utf-8").replace("grade5", "grade7")
    mark = server.open(scales.as_uri(), scales_text)
    diagnostics = server.diagnostics(child.as_uri(), 1, since=mark)
    assert [d["code"] for d in diagnostics] == ["E0202"]
    assert diagnostics[0]["range"] == span(child_text, "grade5")
    assert scales.read_text(encoding="utf-8") == (folder / "scales.sbm").read_text()
    server.close(scales.as_uri())
    server.close(child.as_uri())


def test_a_problem_in_another_file_shows_where_that_file_comes_in(
    server: LspClient, folder: Path
) -> None:
    base = folder / "base.sbm"
    base.write_text(
        base.read_text(encoding="utf-8").replace("answer yes_no\n", "answer yes_nop\n"),
        encoding="utf-8",
    )
    child = folder / "child.sbm"
    text = child.read_text(encoding="utf-8")
    mark = server.open(child.as_uri(), text)
    [d] = server.diagnostics(child.as_uri(), 1, since=mark)
    assert d["code"] == "E0202"
    assert d["range"] == span(text, "acme.base")  # the `extends` that brings the base in
    [related] = d["relatedInformation"]
    assert related["location"]["uri"] == base.as_uri()
    assert related["location"]["range"] == span(base.read_text(encoding="utf-8"), "yes_nop")
    server.close(child.as_uri())


def test_imports_that_cannot_be_read_are_diagnostics(server: LspClient, tmp_path: Path) -> None:
    (tmp_path / "inner").mkdir()
    text = 'standard t.x "T" {\n    import "nope.sbm"\n    import "../../etc.sbm"\n}\n'
    uri = (tmp_path / "inner" / "imports.sbm").as_uri()
    mark = server.open(uri, text)
    found = {d["code"]: d["range"] for d in server.diagnostics(uri, 1, since=mark)}
    assert found == {
        "E0601": span(text, 'import "nope.sbm"'),
        "E0602": span(text, 'import "../../etc.sbm"'),
    }
    server.close(uri)


def test_a_failing_example_is_reported_after_the_check(server: LspClient, scratch: Path) -> None:
    path = scratch / "demo_branch.sbm"
    text = path.read_text(encoding="utf-8").replace("expect visit == 1", "expect visit == 0.5")
    uri = path.as_uri()
    mark = server.open(uri, text)
    d = server.wait_for(
        lambda m: (
            m.get("method") == "textDocument/publishDiagnostics"
            and m["params"]["uri"] == uri
            and m["params"]["diagnostics"] != []
        ),
        since=mark,
    )["params"]["diagnostics"]
    assert [x["code"] for x in d] == ["E0801"]
    assert d[0]["range"]["start"]["line"] == position_of(text, "expect visit == 0.5")[0]
    server.close(uri)


def test_messages_follow_the_clients_locale(tmp_path: Path) -> None:
    from tests.lsp.conftest import ROOT

    client = LspClient(cwd=ROOT)
    try:
        client.initialize(ROOT, locale="ru-RU", options={"debounce": 0})
        text = (
            'standard t.x "T" {\n    coefficient c = greted\n    item greeted "В" answer text\n}\n'
        )
        uri = (tmp_path / "ru.sbm").as_uri()
        mark = client.open(uri, text)
        [d] = client.diagnostics(uri, 1, since=mark)
        assert d["message"].startswith("неизвестное имя `greted`")
        assert d["message"].endswith("подсказка: возможно, вы имели в виду `greeted`?")
        [action] = client.request(
            "textDocument/codeAction",
            {"textDocument": {"uri": uri}, "range": d["range"], "context": {"diagnostics": [d]}},
        )
        assert action["title"] == "Заменить на `greeted`"
        hover = client.at("textDocument/hover", uri, *position_of(text, "greeted"))
        assert hover["contents"]["value"].startswith("**пункт** `greeted` — В")
        assert "- ответ: text" in hover["contents"]["value"]
    finally:
        assert client.stop() == 0


@pytest.mark.parametrize(
    ("argv", "env"),
    [(["--lang", "ru", "lsp"], {}), (["lsp"], {"SBM_LANG": "ru"})],
)
def test_lang_option_and_sbm_lang_win_over_the_editors_locale(
    tmp_path: Path, argv: list[str], env: dict[str, str]
) -> None:
    from tests.lsp.client import SBM
    from tests.lsp.conftest import ROOT

    client = LspClient([str(SBM), *argv], cwd=ROOT, env=env)
    try:
        client.initialize(ROOT, locale="en-US", options={"debounce": 0})
        uri = (tmp_path / "ru.sbm").as_uri()
        mark = client.open(uri, 'standard t.x "T" {\n    coefficient c = nothing\n}\n')
        [d] = client.diagnostics(uri, 1, since=mark)
        assert d["message"].startswith("неизвестное имя `nothing`")
    finally:
        assert client.stop() == 0


def test_without_pygls_the_command_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    from click.testing import CliRunner

    from sbm_engine.cli import cli

    monkeypatch.setitem(sys.modules, "pygls", None)
    for name in [m for m in sys.modules if m.startswith(("pygls.", "sbm_engine.lsp"))]:
        monkeypatch.delitem(sys.modules, name)
    result = CliRunner().invoke(cli, ["--lang", "en", "lsp"])
    assert result.exit_code == 2
    assert "pip install 'sbm-engine[lsp]'" in result.output


def _thousand_items() -> str:
    import importlib.util

    from tests.lsp.conftest import ROOT

    spec = importlib.util.spec_from_file_location(
        "compile_1000", ROOT / "benchmarks" / "compile_1000.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.standard_text()  # type: ignore[no-any-return]


def test_rapid_changes_are_checked_once_on_a_thousand_items(tmp_path: Path) -> None:
    """With the default pause, a burst of changes gives the diagnostics of the last
    text only; the error it introduces is located exactly in the 1,000-item file."""
    from tests.lsp.conftest import ROOT

    text = _thousand_items()
    uri = (tmp_path / "big.sbm").as_uri()
    client = LspClient(cwd=ROOT)
    try:
        client.initialize(ROOT, options={"debounce": 0.5})
        mark = client.open(uri, text)
        assert client.diagnostics(uri, 1, since=mark, timeout=120) == []
        mark = len(client.notifications)
        at = position_of(text, "weighted_mean(specialist:", len("weighted_mean("))
        typed = ""
        for version, ch in enumerate("zyx", start=2):
            insert = {"line": at[0], "character": at[1] + len(typed)}
            client.change(uri, version, [{"range": {"start": insert, "end": insert}, "text": ch}])
            typed += ch
        [d] = client.diagnostics(uri, 4, since=mark, timeout=120)
        new_text = text.replace("weighted_mean(specialist:", "weighted_mean(zyxspecialist:", 1)
        assert d["code"] == "E0201"
        assert d["range"] == span(new_text, "zyxspecialist")
        published = [
            m["params"].get("version")
            for m in client.notifications[mark:]
            if m.get("method") == "textDocument/publishDiagnostics"
        ]
        assert published == [4]
    finally:
        assert client.stop() == 0


def test_a_file_changed_on_disk_rechecks_the_documents_reading_it(
    server: LspClient, folder: Path
) -> None:
    child, base = folder / "child.sbm", folder / "base.sbm"
    text = child.read_text(encoding="utf-8")
    mark = server.open(child.as_uri(), text)
    assert server.diagnostics(child.as_uri(), 1, since=mark) == []
    base.write_text(base.read_text(encoding="utf-8").replace("item smile", "item greeted"))
    mark = len(server.notifications)
    server.notify(
        "workspace/didChangeWatchedFiles", {"changes": [{"uri": base.as_uri(), "type": 2}]}
    )
    [d] = server.diagnostics(child.as_uri(), 1, since=mark)
    assert d["code"] == "E0101"  # `greeted` declared twice in the base
    assert d["range"] == span(text, "acme.base")
    server.close(child.as_uri())


def test_creating_a_missing_file_clears_the_error_of_the_documents_naming_it(
    server: LspClient, folder: Path
) -> None:
    child = folder / "child.sbm"
    text = child.read_text(encoding="utf-8")
    scales, base = folder / "scales.sbm", folder / "base.sbm"
    scales_text, base_text = scales.read_text(encoding="utf-8"), base.read_text(encoding="utf-8")
    scales.unlink()
    base.unlink()
    mark = server.open(child.as_uri(), text)
    codes = {d["code"] for d in server.diagnostics(child.as_uri(), 1, since=mark)}
    assert codes & {"E0601", "E0604"}, codes
    # each file comes back as a new file on disk, as a checkout or a save would make it
    for path, content in ((scales, scales_text), (base, base_text)):
        path.write_text(content, encoding="utf-8")
        mark = len(server.notifications)
        server.notify(
            "workspace/didChangeWatchedFiles", {"changes": [{"uri": path.as_uri(), "type": 1}]}
        )
        last = server.diagnostics(child.as_uri(), 1, since=mark)
    assert last == []
    server.close(child.as_uri())
