"""A small language-server client for the tests and the benchmark: `sbm lsp` as a
subprocess, spoken to in JSON-RPC over its standard input and output.

Synchronous on purpose: a test reads as the exchange it checks (open, change, wait
for diagnostics, ask for a hover). A reader thread files the server's answers by id
and its notifications in arrival order; requests the server sends (registrations,
configuration) are answered with null, as a minimal editor would.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

SBM = Path(sys.executable).parent / "sbm"


class ResponseError(Exception):
    def __init__(self, error: dict[str, Any]) -> None:
        super().__init__(error.get("message"))
        self.code = error.get("code")
        self.message = str(error.get("message"))


class LspClient:
    """One running `sbm lsp` and the messages it sent."""

    def __init__(
        self,
        argv: list[str] | None = None,
        cwd: str | os.PathLike[str] | None = None,
        env: dict[str, str] | None = None,
    ) -> None:
        self.proc = subprocess.Popen(
            argv or [str(SBM), "lsp"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=cwd,
            # The language comes from `initialize` unless a test sets SBM_LANG itself.
            env={**{k: v for k, v in os.environ.items() if k != "SBM_LANG"}, **(env or {})},
        )
        self._next = 0
        self._lock = threading.Condition()
        self._responses: dict[int, dict[str, Any]] = {}
        self.notifications: list[dict[str, Any]] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self._stderr: list[bytes] = []
        threading.Thread(target=self._drain_stderr, daemon=True).start()

    # -- the wire -------------------------------------------------------------------------

    def _send(self, payload: dict[str, Any]) -> None:
        body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        assert self.proc.stdin is not None
        self.proc.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        self.proc.stdin.flush()

    def _read(self) -> None:
        out = self.proc.stdout
        assert out is not None
        while True:
            length = None
            while True:
                line = out.readline()
                if not line:
                    with self._lock:
                        self._lock.notify_all()
                    return
                line = line.strip()
                if not line:
                    break
                name, _, value = line.partition(b":")
                if name.lower() == b"content-length":
                    length = int(value)
            if length is None:
                continue
            msg = json.loads(out.read(length))
            if "id" in msg and "method" in msg:  # a request from the server
                self._send({"jsonrpc": "2.0", "id": msg["id"], "result": None})
                continue
            with self._lock:
                if "id" in msg:
                    self._responses[msg["id"]] = msg
                else:
                    msg["received"] = time.perf_counter()
                    self.notifications.append(msg)
                self._lock.notify_all()

    def _drain_stderr(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self._stderr.append(line)

    @property
    def stderr(self) -> str:
        return b"".join(self._stderr).decode("utf-8", "replace")

    # -- requests and notifications ---------------------------------------------------------

    def request(self, method: str, params: Any = None, timeout: float = 30) -> Any:
        with self._lock:
            self._next += 1
            rid = self._next
        self._send({"jsonrpc": "2.0", "id": rid, "method": method, "params": params})
        deadline = time.monotonic() + timeout
        with self._lock:
            while rid not in self._responses:
                left = deadline - time.monotonic()
                if left <= 0 or self.proc.poll() is not None:
                    raise TimeoutError(f"no answer to {method}: {self.stderr[-2000:]}")
                self._lock.wait(left)
            msg = self._responses.pop(rid)
        if "error" in msg:
            raise ResponseError(msg["error"])
        return msg.get("result")

    def notify(self, method: str, params: Any = None) -> None:
        self._send({"jsonrpc": "2.0", "method": method, "params": params})

    def wait_for(
        self, test: Callable[[dict[str, Any]], bool], timeout: float = 30, since: int = 0
    ) -> dict[str, Any]:
        """The first notification from index `since` on that passes `test`."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while True:
                for msg in self.notifications[since:]:
                    if test(msg):
                        return msg
                left = deadline - time.monotonic()
                if left <= 0 or self.proc.poll() is not None:
                    raise TimeoutError(f"no such notification: {self.stderr[-2000:]}")
                self._lock.wait(left)

    # -- the protocol's steps ------------------------------------------------------------------

    def initialize(
        self,
        root: Path | None = None,
        locale: str | None = None,
        options: Any = None,
        workspace: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """`initialize` and `initialized`; `workspace`: the client's workspace
        capabilities (none unless given)."""
        result = self.request(
            "initialize",
            {
                "processId": os.getpid(),
                "rootUri": root.resolve().as_uri() if root else None,
                "locale": locale,
                "capabilities": {
                    "textDocument": {
                        "publishDiagnostics": {"relatedInformation": True},
                        "hover": {"contentFormat": ["markdown", "plaintext"]},
                        "rename": {"prepareSupport": True},
                    },
                    **({"workspace": workspace} if workspace is not None else {}),
                },
                "initializationOptions": options,
            },
        )
        self.notify("initialized", {})
        return result  # type: ignore[no-any-return]

    def open(self, uri: str, text: str, version: int = 1) -> int:
        """Open a document; returns the index to wait for its diagnostics from."""
        mark = len(self.notifications)
        self.notify(
            "textDocument/didOpen",
            {"textDocument": {"uri": uri, "languageId": "sbm", "version": version, "text": text}},
        )
        return mark

    def change(self, uri: str, version: int, changes: list[dict[str, Any]]) -> int:
        mark = len(self.notifications)
        self.notify(
            "textDocument/didChange",
            {"textDocument": {"uri": uri, "version": version}, "contentChanges": changes},
        )
        return mark

    def close(self, uri: str) -> None:
        self.notify("textDocument/didClose", {"textDocument": {"uri": uri}})

    def diagnostics(
        self, uri: str, version: int | None = None, since: int = 0, timeout: float = 30
    ) -> list[dict[str, Any]]:
        """The diagnostics published for `uri` (at `version`, when given)."""
        msg = self.wait_for(
            lambda m: (
                m.get("method") == "textDocument/publishDiagnostics"
                and m["params"]["uri"] == uri
                and (version is None or m["params"].get("version") == version)
            ),
            timeout,
            since,
        )
        return msg["params"]["diagnostics"]  # type: ignore[no-any-return]

    def at(self, method: str, uri: str, line: int, character: int, **extra: Any) -> Any:
        params = {"textDocument": {"uri": uri}, "position": {"line": line, "character": character}}
        return self.request(method, {**params, **extra})

    def stop(self) -> int:
        if self.proc.poll() is None:
            try:
                self.request("shutdown", None, timeout=10)
                self.notify("exit")
                self.proc.wait(timeout=10)
            except (TimeoutError, OSError, subprocess.TimeoutExpired):
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode


def position_of(text: str, needle: str, delta: int = 0, nth: int = 0) -> tuple[int, int]:
    """The protocol position (line, UTF-16 column) of the `nth` `needle` in `text`, plus
    `delta` characters."""
    offset = -1
    for _ in range(nth + 1):
        offset = text.index(needle, offset + 1)
    offset += delta
    line = text.count("\n", 0, offset)
    start = text.rfind("\n", 0, offset) + 1
    return line, len(text[start:offset].encode("utf-16-le")) // 2


def span(text: str, needle: str, nth: int = 0, length: int | None = None) -> dict[str, Any]:
    """The protocol range of the `nth` `needle` in `text` (or its first `length` characters)."""
    line, col = position_of(text, needle, 0, nth)
    end_line, end_col = position_of(text, needle, len(needle) if length is None else length, nth)
    return {
        "start": {"line": line, "character": col},
        "end": {"line": end_line, "character": end_col},
    }
