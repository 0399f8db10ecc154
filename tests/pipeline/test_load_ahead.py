"""`sbm score` imports every module of the engine in its main thread.

Why it matters: CPython 3.11 cannot compile in two threads at once ("SystemError: AST
constructor recursion depth mismatch"), and a module imported from its source
(without a bytecode cache, or rewritten by pytest) is compiled as it is imported.
The reading and writing threads of a run would otherwise import their modules while
the main thread imports or compiles its own (it broke the Dask tests now and then).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.sbm_child import ROOT, run_sbm, write_wave

pytest.importorskip("pyarrow")
pytest.importorskip("numpy")

DEMO = ROOT / "tests" / "conformance"

_RECORD = """\
import atexit, importlib.abc, sys, threading

away = []


class Finder(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name.startswith("sbm_engine") and threading.current_thread().name != "MainThread":
            away.append((name, threading.current_thread().name))
        return None


sys.meta_path.insert(0, Finder())
atexit.register(lambda: print("AWAY", away))
from sbm_engine.cli import main

sys.exit(main(sys.argv[1:]))
"""


@pytest.mark.parametrize(
    ("source", "target"),
    [("jsonl", "csv"), ("jsonl", "parquet"), ("csv", "jsonl"), ("parquet", "xlsx")],
)
def test_no_engine_module_is_imported_by_another_thread(
    tmp_path: Path, source: str, target: str
) -> None:
    if target == "xlsx":
        pytest.importorskip("python_calamine")
    wave = DEMO / "demo_visits.jsonl"
    if source != "jsonl":
        rows = [
            {"visit_id": f"v{i}", "answers.greeted": "yes", "answers.wait": i} for i in range(9)
        ]
        wave = write_wave(rows, tmp_path / f"wave.{source}")
    out = tmp_path / f"out.{target}"
    done = run_sbm(
        _RECORD, ["score", str(DEMO / "demo_branch.sbm"), str(wave), "-o", str(out)], tmp_path
    )
    assert done.returncode in (0, 1), done.stderr
    assert done.stdout.rsplit("AWAY ", 1)[1].strip() == "[]"
