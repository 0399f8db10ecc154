"""`sbm` run in a child process with a probe: what a real run imports, and where.

The probe is Python run before `sbm_engine.cli.main` (it prints what it found when
the process exits); each run has its own compile cache under `tmp_path`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def write_wave(rows: list[dict[str, Any]], path: Path) -> Path:
    """Flat visit rows as a Parquet, CSV or JSONL file, by `path`'s suffix (in JSONL, a
    row's ``answers.ITEM`` keys make its `answers` object)."""
    import pyarrow as pa

    if path.suffix == ".jsonl":
        with path.open("w", encoding="utf-8") as f:
            for row in rows:
                visit: dict[str, Any] = {}
                for key, value in row.items():
                    if key.startswith("answers."):
                        visit.setdefault("answers", {})[key.removeprefix("answers.")] = value
                    else:
                        visit[key] = value
                f.write(json.dumps(visit, ensure_ascii=False) + "\n")
        return path
    table = pa.Table.from_pylist(rows)
    if path.suffix == ".parquet":
        import pyarrow.parquet as pq

        pq.write_table(table, path)
    else:
        import pyarrow.csv as pacsv

        pacsv.write_csv(table, path)
    return path


def run_sbm(probe: str, args: list[str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    """`sbm ARGS` in a child process, after `probe` (a script that ends by calling
    `sbm_engine.cli.main` itself, as `sys.exit(main(sys.argv[1:]))`)."""
    env = {**os.environ, "SBM_CACHE_DIR": str(tmp_path / "cache")}
    return subprocess.run(
        [sys.executable, "-c", probe, *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
    )
