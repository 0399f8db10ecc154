"""A real `sbm serve` on a free local port, and `sbm score` as the reference.

The service runs under uvicorn in a background thread of the test process (one per
module and set of settings), so the tests speak HTTP to it through httpx exactly as
another system would.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")
httpx = pytest.importorskip("httpx")

import uvicorn  # noqa: E402
from click.testing import CliRunner  # noqa: E402

from sbm_engine.serve import Settings  # noqa: E402
from sbm_engine.serve.app import create_app  # noqa: E402
from sbm_engine.serve.auth import digest  # noqa: E402

CONFORMANCE = Path(__file__).parent.parent / "conformance"
KEY = "test-key-0123456789"
AUTH = {"Authorization": f"Bearer {KEY}"}


class Service:
    """A running service: its base URL, a client that sends the key, and its app."""

    def __init__(self, app: Any, url: str) -> None:
        self.app = app
        self.url = url
        self.client = httpx.Client(base_url=url, headers=AUTH, timeout=30)
        self.bare = httpx.Client(base_url=url, timeout=30)  # sends no key
        #: every answer's text, to check that none shows a traceback
        self.texts: list[str] = []

    def post(self, path: str, content: Any, content_type: str, **kw: Any) -> Any:
        headers = {"Content-Type": content_type, **kw.pop("headers", {})}
        r = self.client.post(path, content=content, headers=headers, **kw)
        self.texts.append(r.text if "parquet" not in r.headers.get("content-type", "") else "")
        return r


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def start() -> Iterator[Callable[..., Service]]:
    """Start services with the given settings; all stop when the module's tests end."""
    running: list[tuple[uvicorn.Server, threading.Thread, Service]] = []

    def run(**options: Any) -> Service:
        settings = Settings(
            key_hashes=(digest(KEY), digest("another-key")),
            standards_dir=CONFORMANCE,
            **options,
        )
        app = create_app(settings)
        port = _free_port()
        config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        deadline = time.monotonic() + 10
        while not server.started:
            if time.monotonic() > deadline or not thread.is_alive():
                raise RuntimeError("the service did not start")
            time.sleep(0.01)
        service = Service(app, f"http://127.0.0.1:{port}")
        running.append((server, thread, service))
        return service

    yield run
    for server, thread, service in running:
        service.client.close()
        service.bare.close()
        server.should_exit = True
        thread.join(timeout=10)
        for text in service.texts:
            assert "Traceback" not in text and 'File "' not in text


@pytest.fixture(scope="module")
def service(start: Callable[..., Service]) -> Service:
    return start(max_body=256 * 1024, max_visits=500, allow_upload=True)


def jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


@pytest.fixture(scope="module")
def cli_score(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., dict[str, Any]]:
    """`sbm score STANDARD INPUT -o out.EXT` through click: its results and rejects, each
    reject's source as the service names it (`request:N` for `INPUT:N`)."""
    from sbm_engine.cli import cli

    def score(standard: str, input_path: Path, out_ext: str = ".jsonl") -> dict[str, Any]:
        folder = tmp_path_factory.mktemp("cli")
        out = folder / f"out{out_ext}"
        rejects = folder / "rejects.jsonl"
        result = CliRunner().invoke(
            cli, ["score", standard, str(input_path), "-o", str(out), "--rejects", str(rejects)]
        )
        assert result.exit_code in (0, 1), result.output
        bad = jsonl(rejects)
        for r in bad:
            r["source"] = r["source"].replace(str(input_path), "request")
        return {
            "results": jsonl(out) if out_ext == ".jsonl" else None,
            "rejects": bad,
            "path": out,
        }

    return score
