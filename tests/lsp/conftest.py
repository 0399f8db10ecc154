"""Fixtures of the language-server tests: a running `sbm lsp` and a folder of standards.

The server is the real command, started as a subprocess and spoken to over its
standard input and output (`client.LspClient`); one server serves a test module, each
test opening documents of its own.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.lsp.client import LspClient

ROOT = Path(__file__).resolve().parents[2]
CONFORMANCE = ROOT / "tests" / "conformance" / "demo_branch.sbm"

BASE = """\
standard acme.base "База" {
    version "1"
    scale yes_no { yes = 1, no = 0 }
    section greeting "Встреча" weight 2 {
        item greeted "Поздоровался" answer yes_no tags compliance
        item smile "Улыбка" answer yes_no
    }
    coefficient compliance "Соблюдение" = weighted_mean(tagged compliance)
    target compliance 0.9
}
"""

SCALES = """\
standard acme.scales "Шкалы" {
    scale grade5 { 1 = 0, 2 = 0.25, 3 = 0.5, 4 = 0.75, 5 = 1 }
}
"""

CHILD = """\
standard acme.child "Филиал" extends acme.base {
    import "scales.sbm"
    item tidy "Порядок 😀 на столе" answer grade5 tags compliance
    coefficient total "Итог" = weighted_mean(compliance: 1, greeted: 1)
}
"""


@pytest.fixture(scope="module")
def server() -> Iterator[LspClient]:
    client = LspClient(cwd=ROOT)
    client.initialize(ROOT, options={"debounce": 0})
    yield client
    assert client.stop() == 0, client.stderr
    assert "Traceback" not in client.stderr, client.stderr


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """A standard extending a base and importing a file of scales."""
    (tmp_path / "base.sbm").write_text(BASE, encoding="utf-8")
    (tmp_path / "scales.sbm").write_text(SCALES, encoding="utf-8")
    (tmp_path / "child.sbm").write_text(CHILD, encoding="utf-8")
    return tmp_path


@pytest.fixture
def scratch(tmp_path: Path) -> Iterator[Path]:
    """A folder for documents of one test, with a copy of the conformance standard."""
    shutil.copy(CONFORMANCE, tmp_path / "demo_branch.sbm")
    yield tmp_path


@contextmanager
def opened(server: LspClient, path: Path, text: str) -> Iterator[str]:
    """`text` written to `path` and opened in the server, which must find nothing wrong
    in it; closed at the end. Gives the document's URI."""
    path.write_text(text, encoding="utf-8")
    uri = path.as_uri()
    mark = server.open(uri, text)
    assert server.diagnostics(uri, 1, since=mark) == []
    yield uri
    server.close(uri)
