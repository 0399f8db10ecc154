"""Latency of the language server on a 1,000-item standard, measured through the protocol.

    python benchmarks/lsp.py [--reps 9]

Why: diagnostics as one types are only useful if they come while the line is still in
mind, and hover or completion must never wait for a check. The standard is
`compile_1000.standard_text()` (20 sections of 50 items), opened in `sbm lsp` started
as a subprocess, exactly as an editor starts it, with its default settings (the
pause after typing, `debounce_s`, is part of every figure of a change).

Figures, each the median wall-clock seconds over `--reps` repeats (a client waits in
wall time; the machine may be shared, so repeats and medians):

- `open`: didOpen to the first publishDiagnostics;
- `change: one character`: a one-character edit (a weight) to the diagnostics of
  that version; the weight goes back and forth between two texts, and the server
  keeps one parsed text per file (`ParseCache`), so each is parsed anew, as a real
  keystroke's text is (a cache of 64 texts once made these figures about 0.2 s
  lower by remembering the text of two edits before);
- `change: introduces an error`: an edit that misspells a name, to the diagnostics
  of that version, which hold the error;
- `change: fixes the error`: the edit back, to diagnostics that are empty again;
- `hover`, `completion`, `definition`: request to answer, on a checked document;
- `hover during a check`: a hover sent right after a change, while the check of
  that change runs: it is answered from the last check, without waiting for it.
- `hover right after a change`, `completion right after a change`: the request sent
  at once after a one-character edit, before the check even starts: the server never
  parses on its loop (the text is read lexically until the check lands), so these
  stay as fast as on a checked document. Before that rule, each parsed the 1,000
  items on the loop first (0.33-0.54 s).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from compile_1000 import standard_text  # noqa: E402


def _load_client() -> Any:
    """The tests' protocol client (`tests/lsp/client.py`); this file's own name, `lsp`,
    hides that package from a plain import."""
    spec = importlib.util.spec_from_file_location(
        "lsp_client", ROOT / "tests" / "lsp" / "client.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_client = _load_client()
LspClient, position_of = _client.LspClient, _client.position_of

from sbm_engine.lsp.server import DEBOUNCE  # noqa: E402


def _edit(text: str, needle: str, new: str, nth: int = 0) -> dict[str, Any]:
    line, col = position_of(text, needle, 0, nth)
    end_line, end_col = position_of(text, needle, len(needle), nth)
    return {
        "range": {
            "start": {"line": line, "character": col},
            "end": {"line": end_line, "character": end_col},
        },
        "text": new,
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--reps", type=int, default=9)
    p.add_argument("--out", type=Path, default=HERE / "lsp_results.json")
    args = p.parse_args(argv)
    text = standard_text()
    runs: dict[str, list[float]] = {}

    def record(name: str, seconds: float) -> None:
        runs.setdefault(name, []).append(seconds)

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "big.sbm"
        path.write_text(text, encoding="utf-8")
        uri = path.as_uri()
        client = LspClient(cwd=ROOT)
        try:
            client.initialize(ROOT)
            version = 1
            t0 = time.perf_counter()
            mark = client.open(uri, text, version)
            assert client.diagnostics(uri, version, since=mark, timeout=120) == []
            record("open", time.perf_counter() - t0)

            # The weight of one item, 2 <-> 3: a one-character edit that keeps it valid.
            needle = "weight 2 tags"
            at = _edit(text, needle, "")["range"]["start"]
            column = at["character"] + len("weight ")
            weight = {"line": at["line"], "character": column}
            digit = "2"
            for _ in range(args.reps):
                digit = "3" if digit == "2" else "2"
                version += 1
                change = {
                    "range": {"start": weight, "end": {**weight, "character": column + 1}},
                    "text": digit,
                }
                t0 = time.perf_counter()
                mark = client.change(uri, version, [change])
                assert client.diagnostics(uri, version, since=mark, timeout=120) == []
                record("change: one character", time.perf_counter() - t0)

            # Misspell a name a coefficient reads, then put it back.
            current = text if digit == "2" else text.replace(needle, "weight 3 tags", 1)
            typo = _edit(current, "weighted_mean(specialist:", "weighted_mean(specialst:")
            misspelt = current.replace("weighted_mean(specialist:", "weighted_mean(specialst:", 1)
            fix = _edit(misspelt, "weighted_mean(specialst:", "weighted_mean(specialist:")
            for _ in range(args.reps):
                version += 1
                t0 = time.perf_counter()
                mark = client.change(uri, version, [typo])
                found = client.diagnostics(uri, version, since=mark, timeout=120)
                record("change: introduces an error", time.perf_counter() - t0)
                assert [d["code"] for d in found] == ["E0201"], found
                version += 1
                t0 = time.perf_counter()
                mark = client.change(uri, version, [fix])
                assert client.diagnostics(uri, version, since=mark, timeout=120) == []
                record("change: fixes the error", time.perf_counter() - t0)

            item = position_of(current, "s10_q25", 1)
            formula = position_of(current, "weighted_mean(specialist", 0)
            reference = position_of(current, "weighted_mean(specialist", len("weighted_mean("))
            for _ in range(args.reps):
                t0 = time.perf_counter()
                assert client.at("textDocument/hover", uri, *item) is not None
                record("hover", time.perf_counter() - t0)
                t0 = time.perf_counter()
                assert client.at("textDocument/completion", uri, *formula)["items"]
                record("completion", time.perf_counter() - t0)
                t0 = time.perf_counter()
                assert client.at("textDocument/definition", uri, *reference) is not None
                record("definition", time.perf_counter() - t0)

            # A hover sent while a check runs: answered from the last check.
            for _ in range(args.reps):
                version += 1
                digit = "3" if digit == "2" else "2"
                change = {
                    "range": {"start": weight, "end": {**weight, "character": column + 1}},
                    "text": digit,
                }
                mark = client.change(uri, version, [change])
                time.sleep(DEBOUNCE + 0.01)  # the check has started
                t0 = time.perf_counter()
                assert client.at("textDocument/hover", uri, *item) is not None
                record("hover during a check", time.perf_counter() - t0)
                client.diagnostics(uri, version, since=mark, timeout=120)

            # Requests right after a keystroke, before its check starts: typing into the
            # standard's title, each text a new one (as typing makes them; the weight
            # above goes back and forth between two texts, which caches may have seen).
            title = position_of(current, "1000 критериев", len("1000"))
            for _ in range(args.reps):
                for name, method, where in (
                    ("hover right after a change", "textDocument/hover", item),
                    ("completion right after a change", "textDocument/completion", formula),
                ):
                    version += 1
                    at_title = {"line": title[0], "character": title[1]}
                    change = {"range": {"start": at_title, "end": at_title}, "text": "x"}
                    mark = client.change(uri, version, [change])
                    t0 = time.perf_counter()
                    assert client.at(method, uri, *where) is not None
                    record(name, time.perf_counter() - t0)
                    client.diagnostics(uri, version, since=mark, timeout=120)
        finally:
            client.stop()

    medians = {k: statistics.median(v) for k, v in runs.items()}
    for k, v in medians.items():
        print(f"  {k:<30} {v * 1000:8.1f} ms")
    args.out.write_text(
        json.dumps(
            {
                "items": text.count("\n        item ") + text.count("\n    item "),
                "debounce_s": DEBOUNCE,
                "reps": args.reps,
                "clock": "wall",
                "median_s": medians,
                "runs_s": runs,
            },
            indent=2,
        )
        + "\n",
        encoding="utf-8",
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
