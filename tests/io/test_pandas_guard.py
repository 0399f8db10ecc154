"""`sbm score` without pandas: pyarrow's own imports of it are refused while scoring
(`io.pandas_guard`), everyone else's work, and pyarrow sees pandas once imported.

Each case runs in a new process: pandas, once imported, stays imported.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytest.importorskip("pyarrow")
pytest.importorskip("pandas")

DEMO = Path(__file__).resolve().parents[1] / "conformance"


def _python(code: str, cwd: Path) -> str:
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=cwd,
        env={**os.environ, "SBM_CACHE_DIR": ""},
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def _rows() -> list[dict[str, object]]:
    return [
        {
            "visit_id": f"v{i}",
            "greeted": "yes",
            "smile": "no",
            "wait": 3.0 + i,
            "questions": 1 + i % 5,
            "secrecy": "yes" if i % 7 else "no",
            "clean": 4,
        }
        for i in range(50)
    ]


def _scored_alone_and_with_pandas(wave: Path, tmp_path: Path, engine: str = "auto") -> str:
    """`sbm score` of `wave` in a new process, then in one that imported pandas first:
    the same bytes out. Returns whether the first process imported pandas."""
    fmt = wave.suffix
    script = f"""
        import sys
        {{}}
        from sbm_engine.cli import main
        try:
            main(["score", {str(DEMO / "demo_branch.sbm")!r}, {str(wave)!r},
                  "-o", "out{fmt}", "--no-progress", "--engine", {engine!r}])
        except SystemExit as done:
            assert done.code in (0, 1), done.code
        print("pandas" in sys.modules)
    """
    outputs = []
    imported = []
    for first in ("", "import pandas"):
        where = tmp_path / (first or "alone").replace(" ", "_")
        where.mkdir()
        imported.append(_python(script.format(first), where).strip())
        outputs.append(
            ((where / f"out{fmt}").read_bytes(), (where / "out.rejects.jsonl").read_bytes())
        )
    assert imported[1] == "True"
    assert outputs[0] == outputs[1]
    return imported[0]


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_sbm_score_does_not_import_pandas_and_writes_the_same_bytes(
    tmp_path: Path, fmt: str
) -> None:
    import pyarrow as pa
    import pyarrow.csv as pcsv
    import pyarrow.parquet as pq

    table = pa.Table.from_pylist(_rows())
    wave = tmp_path / f"wave.{fmt}"
    if fmt == "parquet":
        pq.write_table(table, wave)
    else:
        pcsv.write_csv(table, wave)
    assert _scored_alone_and_with_pandas(wave, tmp_path) == "False"


@pytest.mark.parametrize("engine", ["auto", "python"])
@pytest.mark.parametrize("unit", ["ns", "us"])
def test_nanosecond_times_are_converted_as_with_pandas(
    tmp_path: Path, unit: str, engine: str
) -> None:
    """pyarrow makes `pandas.Timestamp`s and `Timedelta`s of nanosecond values when
    pandas is installed (a `datetime` has no nanoseconds, a `Timedelta` is written
    differently): such a file brings pandas in, as before; microseconds do not."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pylist(_rows())
    start = 1_767_261_600_000_000_000 if unit == "ns" else 1_767_261_600_000_000
    table = table.append_column(
        "date", pa.array([start + i for i in range(50)], type=pa.timestamp(unit))
    )
    table = table.append_column(
        "shopper", pa.array([i * 1_000_000 for i in range(50)], type=pa.duration(unit))
    )
    wave = tmp_path / "wave.parquet"
    pq.write_table(table, wave, version="2.6")
    imported = _scored_alone_and_with_pandas(wave, tmp_path, engine)
    assert imported == ("True" if unit == "ns" else "False")


SCORE = f"""
    import os, sys
    from sbm_engine.cli import main

    def score():
        try:
            main(["score", {str(DEMO / "demo_branch.sbm")!r}, {str(DEMO / "demo_visits.jsonl")!r},
                  "-o", "out.parquet", "--no-progress", "--engine", "batch"])
        except SystemExit as done:
            assert done.code in (0, 1), done.code
"""


def test_pyarrow_sees_pandas_imported_after_a_refusal(tmp_path: Path) -> None:
    out = _python(
        SCORE
        + """
    score()
    from sbm_engine.io import pandas_guard

    print(pandas_guard._Refuse.refused and "pandas" not in sys.modules)
    import pandas as pd
    import pyarrow as pa

    frame = pd.DataFrame({"c": pd.Categorical(["a", "b", "a"])})
    print(pa.Table.from_pandas(frame).schema.field("c").type)
    """,
        tmp_path,
    )
    refused, kind = out.split("\n")[:2]
    assert refused == "True"  # pyarrow tried, and was refused
    assert kind.startswith("dictionary<")


def test_an_import_statement_while_scoring_imports_pandas(tmp_path: Path) -> None:
    """A plugin's `import pandas` while scoring works, and pyarrow then uses it."""
    out = _python(
        SCORE
        + """
    import pyarrow as pa
    from sbm_engine.io import pandas_guard

    with pandas_guard.pandas_left_alone():
        score()
        print("pandas" in sys.modules)
        import pandas as pd

        frame = pd.DataFrame({"c": pd.Categorical(["a", "b", "a"])})
        print(pa.Table.from_pandas(frame).schema.field("c").type)
    """,
        tmp_path,
    )
    refused, kind = out.split("\n")[:2]
    assert refused == "False"
    assert kind.startswith("dictionary<")
