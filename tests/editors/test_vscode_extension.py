"""The VS Code extension (`editors/vscode`): its manifest, what `extension.js` does
when VS Code activates it (run in Node.js with stand-ins for the `vscode` API and the
language client, `extension_harness.js`), the server it starts answering the
extension's protocol library (`server_smoke.js`), and the `.vsix` that `vsce package`
builds from it with the pinned packaging tool (a copy is left in the artifacts folder,
`debian.artifacts("editors")`).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest
from debian import artifacts

ROOT = Path(__file__).resolve().parents[2]
EXTENSION = ROOT / "editors" / "vscode"
HERE = Path(__file__).resolve().parent


def _manifest() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((EXTENSION / "package.json").read_text(encoding="utf-8"))
    return loaded


# ---- the manifest ----------------------------------------------------------------------------


def test_the_manifest_names_files_that_exist() -> None:
    manifest = _manifest()
    assert (EXTENSION / manifest["main"]).is_file()
    [language] = manifest["contributes"]["languages"]
    assert language["id"] == "sbm"
    assert language["extensions"] == [".sbm"]
    assert (EXTENSION / language["configuration"]).is_file()
    [grammar] = manifest["contributes"]["grammars"]
    assert grammar["language"] == "sbm"
    tm = json.loads((EXTENSION / grammar["path"]).read_text(encoding="utf-8"))
    assert tm["scopeName"] == grammar["scopeName"] == "source.sbm"
    for name in ("README.md", "CHANGELOG.md", "LICENSE", ".vscodeignore", "package-lock.json"):
        assert (EXTENSION / name).is_file(), name
    assert "Apache License" in (EXTENSION / "LICENSE").read_text(encoding="utf-8")
    assert manifest["license"] == "Apache-2.0"


def test_the_lock_file_fixes_the_client_and_the_packaging_tool() -> None:
    manifest = _manifest()
    lock = json.loads((EXTENSION / "package-lock.json").read_text(encoding="utf-8"))
    packages = lock["packages"]
    assert packages[""]["dependencies"] == manifest["dependencies"]
    assert packages[""]["devDependencies"] == manifest["devDependencies"]
    for name, version in {**manifest["dependencies"], **manifest["devDependencies"]}.items():
        # exact versions in package.json: the lock file cannot drift from them
        assert version[0].isdigit(), (name, version)
        assert packages[f"node_modules/{name}"]["version"] == version
    assert "@vscode/vsce" in manifest["devDependencies"]
    assert "vscode-languageclient" in manifest["dependencies"]


def test_the_settings_default_to_sbm_lsp() -> None:
    settings = _manifest()["contributes"]["configuration"]["properties"]
    assert settings["sbm.server.command"]["default"] == ["sbm", "lsp"]
    assert settings["sbm.server.args"]["default"] == []
    assert settings["sbm.server.env"]["default"] == {}
    assert settings["sbm.server.enable"]["default"] is True
    assert settings["sbm.server.debounce"]["default"] is None
    assert settings["sbm.server.examples"]["default"] is True
    # the language client reads `<client id>.trace.server`: the id is `sbm`
    assert settings["sbm.trace.server"]["enum"] == ["off", "messages", "verbose"]


#: How the docs build the `.vsix`: the manifest names no repository, which `vsce` asks
#: about (Enter at the question aborts) unless told to go on.
PACKAGE = ["vsce", "package", "--allow-missing-repository"]


def test_packaging_never_stops_to_ask_about_the_missing_repository() -> None:
    manifest = _manifest()
    assert "repository" not in manifest
    assert manifest["scripts"]["package"] == " ".join(PACKAGE)
    for doc in (ROOT / "docs" / "editors.md", EXTENSION / "README.md"):
        text = doc.read_text(encoding="utf-8")
        assert "npx " + " ".join(PACKAGE) in text, doc
        assert "npx vsce package\n" not in text and "npx vsce package " not in text.replace(
            "npx " + " ".join(PACKAGE), ""
        ), doc


def test_node_modules_and_packages_are_not_committed() -> None:
    ignored = (EXTENSION / ".gitignore").read_text(encoding="utf-8").split()
    assert "node_modules/" in ignored
    assert "*.vsix" in ignored


# ---- extension.js, activated outside VS Code ----------------------------------------------------


def _activate(node: str, **scenario: Any) -> list[dict[str, Any]]:
    scenario.setdefault("settings", {})
    proc = subprocess.run(
        [node, str(HERE / "extension_harness.js"), str(EXTENSION), json.dumps(scenario)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    events: list[dict[str, Any]] = json.loads(proc.stdout)
    return events


def _of(events: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [e for e in events if e["event"] == kind]


@pytest.mark.editors
def test_activation_starts_sbm_lsp_for_sbm_files(node: str) -> None:
    events = _activate(node)
    [client] = _of(events, "client")
    assert (client["command"], client["args"]) == ("sbm", ["lsp"])
    assert client["env"] == {}
    assert client["id"] == "sbm"
    assert {s["language"] for s in client["documentSelector"]} == {"sbm"}
    assert {s["scheme"] for s in client["documentSelector"]} == {"file", "untitled"}
    assert client["watches"] == "**/*.sbm"
    # the server's own debounce holds until the setting is given
    assert client["initializationOptions"] == {"examples": True}
    assert [e["event"] for e in events if e["event"] in ("start", "stop")] == ["start", "stop"]
    assert _of(events, "registerCommand") == [
        {"event": "registerCommand", "id": "sbm.restartServer"}
    ]
    assert not _of(events, "showErrorMessage")


@pytest.mark.editors
def test_the_settings_choose_the_server(node: str) -> None:
    settings = {
        "sbm.server.command": ["/opt/venv/bin/sbm", "lsp"],
        "sbm.server.args": ["--verbose"],
        "sbm.server.env": {"SBM_LANG": "ru"},
    }
    [client] = _of(_activate(node, settings=settings), "client")
    assert client["command"] == "/opt/venv/bin/sbm"
    assert client["args"] == ["lsp", "--verbose"]
    assert client["env"] == {"SBM_LANG": "ru"}


@pytest.mark.editors
def test_the_settings_become_the_servers_initialization_options(node: str) -> None:
    settings = {"sbm.server.debounce": 0.5, "sbm.server.examples": False}
    [client] = _of(_activate(node, settings=settings), "client")
    assert client["initializationOptions"] == {"debounce": 0.5, "examples": False}
    [client] = _of(_activate(node, settings={"sbm.server.debounce": -2}), "client")
    assert client["initializationOptions"] == {"debounce": 0, "examples": True}


@pytest.mark.editors
def test_an_empty_command_falls_back_to_sbm_lsp(node: str) -> None:
    [client] = _of(_activate(node, settings={"sbm.server.command": [" "]}), "client")
    assert (client["command"], client["args"]) == ("sbm", ["lsp"])


@pytest.mark.editors
def test_a_disabled_server_is_not_started(node: str) -> None:
    events = _activate(node, settings={"sbm.server.enable": False})
    assert not _of(events, "client")
    assert not _of(events, "start")


@pytest.mark.editors
def test_a_server_that_cannot_start_is_reported_with_the_way_out(node: str) -> None:
    events = _activate(node, startFails=True, choice="Open Settings")
    [shown] = _of(events, "showErrorMessage")
    assert "sbm lsp" in shown["message"]
    assert "ENOENT" in shown["message"]
    assert "sbm.server.command" in shown["message"]
    assert shown["items"] == ["Open Settings"]
    assert _of(events, "executeCommand") == [
        {"event": "executeCommand", "id": "workbench.action.openSettings", "args": ["sbm.server"]}
    ]
    # nothing left running to stop at deactivation
    assert not _of(events, "stop")


@pytest.mark.editors
def test_changing_a_server_setting_restarts_the_server(node: str) -> None:
    events = _activate(node, changeSetting="sbm.server.command")
    steps = [(e["event"], e.get("client")) for e in events if e["event"] in ("start", "stop")]
    assert steps == [("start", 0), ("stop", 0), ("start", 1), ("stop", 1)]
    unrelated = _activate(node, changeSetting="editor.fontSize")
    assert len(_of(unrelated, "client")) == 1


@pytest.mark.editors
def test_activation_does_not_wait_for_the_error_message_to_be_dismissed(node: str) -> None:
    events = _activate(node, startFails=True, neverDismissed=True)
    kinds = [e["event"] for e in events]
    assert "activated" in kinds
    assert kinds.index("showErrorMessage") < kinds.index("activated")
    assert not _of(events, "executeCommand")
    # the failed start's watcher is not left behind
    assert [e["number"] for e in _of(events, "disposeWatcher")] == [0]


@pytest.mark.editors
def test_two_quick_setting_changes_leave_one_server_running(node: str) -> None:
    events = _activate(node, changeTwice=True, slow=True)
    steps = [(e["event"], e.get("client")) for e in events if e["event"] in ("start", "stop")]
    # each restart stops the server before it, one after the other
    assert steps == [
        ("start", 0),
        ("stop", 0),
        ("start", 1),
        ("stop", 1),
        ("start", 2),
        ("stop", 2),
    ]


@pytest.mark.editors
def test_every_file_watcher_is_disposed_with_its_server(node: str) -> None:
    events = _activate(node, changeSetting="sbm.server.command", restart=True)
    made = [e["number"] for e in _of(events, "watcher")]
    assert made == [0, 1, 2]
    assert sorted(e["number"] for e in _of(events, "disposeWatcher")) == made


@pytest.mark.editors
def test_the_restart_command_restarts_the_server(node: str) -> None:
    events = _activate(node, restart=True)
    assert len(_of(events, "client")) == 2
    assert [e["client"] for e in _of(events, "stop")] == [0, 1]


@pytest.mark.editors
def test_indentation_follows_braces_outside_strings_and_comments(node: str) -> None:
    lines = [
        'standard a "x {" {',
        'section s "t" weight 2 {  # note',
        'item x "{" answer yes_no',
        "# {",
        "    }",
        "scale a { yes = 1 }",
    ]
    script = (
        "const c = require(process.argv[1]).indentationRules;"
        "const inc = new RegExp(c.increaseIndentPattern);"
        "const dec = new RegExp(c.decreaseIndentPattern);"
        "const lines = JSON.parse(process.argv[2]);"
        "process.stdout.write(JSON.stringify(lines.map((l) => [inc.test(l), dec.test(l)])));"
    )
    out = subprocess.run(
        [node, "-e", script, str(EXTENSION / "language-configuration.json"), json.dumps(lines)],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    assert json.loads(out) == [
        [True, False],
        [True, False],
        [False, False],
        [False, False],
        [False, True],
        [False, False],
    ]


@pytest.mark.editors
def test_the_extensions_command_line_starts_a_server_that_checks(
    node: str, extension_modules: Path, tmp_path: Path
) -> None:
    """`sbm.server.command` and the server options as the extension computes them, and
    the extension's own protocol library, against the real `sbm lsp`."""
    pytest.importorskip("pygls", reason="sbm lsp needs the lsp extra (pygls)")
    sbm = Path(sys.executable).with_name("sbm")
    if not sbm.is_file():
        pytest.skip(f"no `sbm` script beside {sys.executable}")
    text = (
        "standard a.b {\n"
        "  scale yn { yes = 1, no = 0 }\n"
        '  item greeted "Приветствие" answer yn\n'
        "  coefficient c = weighted_mean(greted: 1)\n"
        "}\n"
    )
    settings = {
        "command": [str(sbm), "lsp"],
        "env": {"SBM_LANG": "en"},
        "debounce": 0,
        "examples": True,
    }
    proc = subprocess.run(
        [
            node,
            str(HERE / "server_smoke.js"),
            str(EXTENSION),
            json.dumps(settings),
            (tmp_path / "a.sbm").as_uri(),
            text,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "NODE_PATH": str(extension_modules)},
    )
    assert proc.returncode == 0, proc.stderr
    answer = json.loads(proc.stdout)
    assert {"textDocumentSync", "hoverProvider", "completionProvider"} <= set(
        answer["capabilities"]
    )
    [diagnostic] = answer["diagnostics"]
    assert diagnostic["code"] == "E0201"
    # line 4, after `  coefficient c = weighted_mean(`, in UTF-16 columns
    assert (diagnostic["line"], diagnostic["character"]) == (3, 32)
    assert "greted" in diagnostic["message"]
    assert "greeted" in diagnostic["message"]
    # `shutdown` then `exit`: the server ends cleanly
    assert answer["exitCode"] == 0


# ---- the .vsix -------------------------------------------------------------------------------


def _sources(target: Path) -> None:
    """The extension's own files, without installed modules or built packages."""
    shutil.copytree(
        EXTENSION, target, ignore=shutil.ignore_patterns("node_modules", "*.vsix", ".DS_Store")
    )


@pytest.fixture(scope="module")
def vsix(
    node: str, node_major: int, extension_modules: Path, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    if node_major < 20:
        why = f"@vscode/vsce needs Node.js 20 or later; this machine has {node_major}"
        if os.environ.get("CI"):
            pytest.fail(why)
        pytest.skip(why)
    work = tmp_path_factory.mktemp("vsix") / "vscode"
    _sources(work)
    # the cached install, shared: vsce only reads it (`npm list --production`, the files)
    (work / "node_modules").symlink_to(extension_modules, target_is_directory=True)
    out = work.parent / "sbm-language.vsix"
    # as in the docs, with Enter typed at any question vsce asks (Enter declines)
    proc = subprocess.run(
        [node, str(extension_modules / "@vscode" / "vsce" / "vsce"), *PACKAGE[1:], "-o", str(out)],
        cwd=work,
        input="\n",
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    # kept with CI's artifacts: the extension as built from this commit
    shutil.copy(out, artifacts("editors") / f"sbm-language-{_manifest()['version']}.vsix")
    return out


@pytest.mark.editors
def test_the_vsix_holds_the_extension_and_its_language_client(vsix: Path) -> None:
    with zipfile.ZipFile(vsix) as archive:
        names = set(archive.namelist())
        packaged = json.loads(archive.read("extension/package.json"))
        grammar = archive.read("extension/syntaxes/sbm.tmLanguage.json")
        script = archive.read("extension/extension.js")
        manifest_xml = archive.read("extension.vsixmanifest").decode("utf-8")
    assert packaged["name"] == _manifest()["name"]
    assert packaged["version"] == _manifest()["version"]
    assert grammar == (EXTENSION / "syntaxes" / "sbm.tmLanguage.json").read_bytes()
    assert script == (EXTENSION / "extension.js").read_bytes()
    for name in (
        "extension/language-configuration.json",
        "extension/LICENSE.txt",
        "extension/readme.md",
        "extension/changelog.md",
        "extension/node_modules/vscode-languageclient/package.json",
        "extension/node_modules/vscode-languageclient/node.js",
        "extension/node_modules/vscode-languageserver-protocol/package.json",
        "extension/node_modules/vscode-jsonrpc/package.json",
    ):
        assert name in names, name
    # the packaging tool and the package's own leftovers stay out
    assert not [n for n in names if "/@vscode/vsce" in n or n.endswith(".vsix")]
    assert "extension/package-lock.json" not in names
    assert 'Id="sbm-language"' in manifest_xml


@pytest.mark.editors
def test_the_packaged_client_loads_with_its_dependencies(
    vsix: Path, node: str, tmp_path: Path
) -> None:
    """Every module the language client requires is inside the .vsix: it loads from the
    unpacked extension alone, with only `vscode` (VS Code's own) standing in."""
    with zipfile.ZipFile(vsix) as archive:
        archive.extractall(tmp_path)
    script = (
        "const Module = require('module'); const load = Module._load;"
        "const stub = new Proxy(function () {}, {get: (t, k) => k === 'then' ? undefined : stub,"
        " construct: () => stub, apply: () => stub});"
        "Module._load = function (r, p, m) {"
        " return r === 'vscode' ? stub : load.call(this, r, p, m); };"
        "const c = require(require.resolve('vscode-languageclient/node',"
        " {paths: [process.argv[1]]}));"
        "process.stdout.write(typeof c.LanguageClient);"
    )
    proc = subprocess.run(
        [node, "-e", script, str(tmp_path / "extension")],
        capture_output=True,
        text=True,
        timeout=120,
        env={k: v for k, v in os.environ.items() if k != "NODE_PATH"},
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "function"
