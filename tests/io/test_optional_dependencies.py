"""Each extra works with only the packages it declares (issue 18's two dependency bugs).

* the `arrow` extra is pyarrow alone: Parquet output imported numpy (the item-column
  encoder's) and crashed without it;
* pandas is no dependency at all: `DataType.to_pandas_dtype()` imports it on pyarrow
  14 to 25, so every CSV and Parquet input crashed there without it.

The packages are made unimportable in a subprocess (a meta path finder that refuses
them), so one venv with everything installed still catches both.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")

CONFORMANCE = Path(__file__).parent.parent / "conformance"
STANDARD = CONFORMANCE / "demo_branch.sbm"
VISITS = CONFORMANCE / "demo_visits.jsonl"
ITEMS = ["greeted", "smile", "wait", "questions", "card", "secrecy", "clean", "overall"]
CSV_TEXT = (
    "visit_id,region,scenario," + ",".join(ITEMS) + "\n"
    "v1,R1,deposit,yes,no,3,4,yes,yes,5,7\n"
    "v2,R1,deposit,yes,yes,12,5,no,yes,4,99\n"
    "v3,R2,credit,no,yes,2,3,,yes,5,\n"
)
#: Exit status of the subprocess when pyarrow itself needs a blocked package.
NO_PYARROW = 77

#: Run first in the subprocess: `sys.argv[1]` names the packages to refuse.
_BLOCK = textwrap.dedent(
    """
    import sys

    BLOCKED = set(sys.argv[1].split(","))

    class Refuse:
        def find_spec(self, name, path=None, target=None):
            if name.partition(".")[0] in BLOCKED:
                raise ModuleNotFoundError(f"No module named {name!r}", name=name)
            return None

    sys.meta_path.insert(0, Refuse())
    try:
        import pyarrow.csv, pyarrow.parquet  # noqa: F401
    except ImportError:
        sys.exit(77)
    """
)


def _without(blocked: str, body: str, *args: str) -> subprocess.CompletedProcess[str]:
    """Run `body` in a fresh interpreter where the packages in `blocked` cannot be
    imported; skip when pyarrow itself needs one of them."""
    code = _BLOCK + textwrap.dedent(body)
    proc = subprocess.run(
        [sys.executable, "-c", code, blocked, *args],
        capture_output=True,
        text=True,
        timeout=120,
    )
    if proc.returncode == NO_PYARROW:
        pytest.skip(f"this pyarrow needs {blocked}")
    return proc


#: `sbm score` in the subprocess, then proof the blocked packages stayed out.
_SCORE = """
    from sbm_engine.cli import main

    try:
        main(sys.argv[2:])
    except SystemExit as exc:
        assert exc.code in (0, 1), exc.code
    loaded = sorted(name for name in BLOCKED if name in sys.modules)
    assert not loaded, loaded
"""


def _score(blocked: str, inp: Path, out: Path) -> None:
    args = ["score", str(STANDARD), str(inp), "-o", str(out)]
    proc = _without(blocked, _SCORE, *args, "--rejects", str(out) + ".rejects.jsonl")
    assert proc.returncode == 0, proc.stderr
    assert out.exists(), proc.stderr


def _reference(tmp_path: Path, inp: Path, out: Path) -> Path:
    """The same run in this process, with every package there."""
    from click.testing import CliRunner

    from sbm_engine.cli import cli

    ref = tmp_path / f"ref-{out.name}"
    args = ["score", str(STANDARD), str(inp), "-o", str(ref), "--rejects", f"{ref}.rejects.jsonl"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code in (0, 1), result.output
    return ref


def _parquet_input(path: Path) -> Path:
    """Visits as Parquet, the answers as integers of several widths and signs (with nulls)."""
    n = 6
    table = pa.table(
        {
            "visit_id": [f"v{i}" for i in range(n)],
            "region": ["R1"] * n,
            "scenario": ["deposit"] * n,
            "greeted": ["yes"] * n,
            "smile": ["no", "yes"] * (n // 2),
            "wait": pa.array([3, 7, 12, 0, 4, 5], pa.int64()),
            "questions": pa.array([5, 4, 3, None, 1, 2], pa.int8()),
            "card": ["yes"] * n,
            "secrecy": ["yes"] * n,
            "clean": pa.array([5, 4, 3, None, 1, 2], pa.uint16()),
            "overall": pa.array([7, 10, 99, None, 0, 6], pa.uint8()),
        }
    )
    pq.write_table(table, path)
    return path


@pytest.mark.parametrize("source", ["csv", "jsonl", "parquet"])
def test_parquet_output_without_numpy(tmp_path: Path, source: str) -> None:
    """CSV, JSONL and Parquet visits scored into Parquet with pyarrow alone read back
    as the same table as with numpy's encoder (the bytes may differ)."""
    if source == "csv":
        inp = tmp_path / "wave.csv"
        inp.write_text(CSV_TEXT, encoding="utf-8")
    elif source == "jsonl":
        inp = VISITS
    else:
        inp = _parquet_input(tmp_path / "wave.parquet")
    out = tmp_path / "scored.parquet"
    _score("numpy", inp, out)
    ref = _reference(tmp_path, inp, out)
    assert pq.read_table(out).equals(pq.read_table(ref))
    rejects = Path(f"{out}.rejects.jsonl").read_bytes()
    assert rejects == Path(f"{ref}.rejects.jsonl").read_bytes()


def test_parquet_input_without_numpy(tmp_path: Path) -> None:
    inp = _parquet_input(tmp_path / "wave.parquet")
    out = tmp_path / "scored.jsonl"
    _score("numpy", inp, out)
    ref = _reference(tmp_path, inp, out)
    assert out.read_bytes() == ref.read_bytes()
    assert Path(f"{out}.rejects.jsonl").read_bytes() == Path(f"{ref}.rejects.jsonl").read_bytes()


@pytest.mark.parametrize(("source", "target"), [("csv", "parquet"), ("parquet", "jsonl")])
def test_csv_and_parquet_inputs_without_pandas(tmp_path: Path, source: str, target: str) -> None:
    """Both engines (the batch one reads integer columns through `_ints`) with pandas
    unimportable."""
    pytest.importorskip("numpy")
    if source == "csv":
        inp = tmp_path / "wave.csv"
        inp.write_text(CSV_TEXT, encoding="utf-8")
    else:
        inp = _parquet_input(tmp_path / "wave.parquet")
    out = tmp_path / f"scored.{target}"
    _score("pandas", inp, out)
    ref = _reference(tmp_path, inp, out)
    if target == "parquet":
        assert out.read_bytes() == ref.read_bytes()
    else:
        assert [json.loads(x) for x in out.read_text().splitlines()] == [
            json.loads(x) for x in ref.read_text().splitlines()
        ]


def test_integer_columns_need_no_pandas() -> None:
    """`batch.columns` reads every Arrow integer type (sliced, with nulls) as numpy
    values of the same width and sign, without importing pandas."""
    pytest.importorskip("numpy")
    body = """
        import numpy as np
        import pyarrow as pa

        from sbm_engine.batch.columns import ArrowSource, _int_dtype, _ints

        widths = {8: "1", 16: "2", 32: "4", 64: "8"}
        for signed in (True, False):
            for bits, size in widths.items():
                t = getattr(pa, f"{'' if signed else 'u'}int{bits}")()
                dtype = _int_dtype(t)
                assert dtype == np.dtype(("i" if signed else "u") + size), (t, dtype)
                lo = -3 if signed else 0
                arr = pa.array([lo, None, 1, 2, 5, None, 4], t).slice(1, 5)
                got = _ints(arr)
                assert got.dtype == dtype
                valid = ~np.asarray(arr.is_null())
                assert got[valid].tolist() == [v for v in arr.to_pylist() if v is not None]
                codes, distinct = ArrowSource(arr).encoded(0, len(arr))
                assert [distinct[c] for c in codes][1:4] == [1, 2, 5], (t, codes, distinct)
                indices = pa.DictionaryArray.from_arrays(
                    pa.array([0, 1, None, 1], t), pa.array(["a", "b"])
                )
                codes, distinct = ArrowSource(indices).encoded(0, 4)
                assert [distinct[c] for c in codes][:2] + [distinct[codes[3]]] == ["a", "b", "b"]
        try:
            _int_dtype(pa.float64())
        except TypeError:
            pass
        else:
            raise AssertionError("a float type is no integer type")
        assert "pandas" not in sys.modules
    """
    proc = _without("pandas", body)
    assert proc.returncode == 0, proc.stderr
