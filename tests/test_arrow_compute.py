"""`sbm_engine.arrow_compute` gives what `pyarrow.compute` gives, and scoring a wave
does not import `pyarrow.compute` (a good part of a small wave's run), nor
`pyarrow.parquet` when no Parquet file is read or written."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

pa = pytest.importorskip("pyarrow")
pc = pytest.importorskip("pyarrow.compute")

from sbm_engine import arrow_compute as ac  # noqa: E402
from tests.sbm_child import ROOT, run_sbm, write_wave  # noqa: E402

DEMO = ROOT / "tests" / "conformance"

texts = pa.array(["a", "", "b", None, "a", "ab c"])
numbers = pa.array([1.5, None, 2.0, 1.5, -0.0, 1e20])
ints = pa.array([3, None, 1, 3], type=pa.int32())
mask = pa.array([True, False, None, True, True, False])

CASES: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = [
    ("dictionary_encode", (texts,), {}),
    ("dictionary_encode", (numbers,), {}),
    ("unique", (texts,), {}),
    ("is_null", (numbers,), {}),
    ("is_valid", (texts,), {}),
    ("take", (texts, pa.array([5, 0, 3])), {}),
    ("take", (pa.table({"t": texts}), pa.array([1, 1])), {}),
    ("filter", (texts, mask), {}),
    ("filter", (pa.table({"t": texts}), mask), {}),
    ("count_distinct", (texts,), {}),
    ("count_distinct", (texts,), {"mode": "all"}),
    ("if_else", (pc.equal(texts, ""), None, texts), {}),
    ("equal", (texts, ""), {}),
    ("invert", (mask,), {}),
    ("any", (mask,), {}),
    ("all", (mask,), {}),
    ("max", (pc.binary_length(texts),), {}),
    ("max", (pa.array([], pa.int32()),), {}),
    ("binary_length", (texts,), {}),
    ("utf8_length", (pa.array(["ж", "ab", None]),), {}),
    ("replace_with_mask", (texts, mask, pa.array(["x", "y", "z"])), {}),
    ("binary_join_element_wise", ("<", texts, ">", ""), {}),
    ("cast", (numbers, pa.string()), {}),
    ("cast", (ints, pa.float64()), {}),
    ("cast", (texts.dictionary_encode(), pa.string()), {}),
    ("fill_null", (texts, "z"), {}),
    ("fill_null", (ints, -1), {}),
    ("fill_null", (mask, False), {}),
    ("index", (texts, "b"), {}),
    ("index", (texts, "zz"), {}),
    ("struct_field", (pa.StructArray.from_arrays([texts, numbers], ["t", "n"]), "n"), {}),
    ("is_in", (texts,), {"value_set": pa.array(["a", "b"])}),
    ("match_substring", (texts, "b"), {}),
    ("match_substring_regex", (texts, r"\S"), {}),
    ("starts_with", (texts, "a"), {}),
    ("utf8_rpad", (pa.array(["ж", "ab", None, ""]), 3, "\0"), {}),
    ("replace_substring", (texts, "a", "&amp;"), {}),
    ("replace_substring_regex", (texts, r"^a", "A"), {}),
]


@pytest.mark.parametrize(("name", "args", "kwargs"), CASES)
def test_the_same_as_pyarrow_compute(name: str, args: tuple[Any, ...], kwargs: Any) -> None:
    expected = getattr(pc, name)(*args, **kwargs)
    got = getattr(ac, name)(*args, **kwargs)
    assert type(got) is type(expected)
    assert got.equals(expected)


def test_a_lossy_cast_raises_as_pyarrow_compute_does() -> None:
    with pytest.raises(pa.ArrowInvalid):
        pc.cast(pa.array([1.5]), pa.int64())
    with pytest.raises(pa.ArrowInvalid):
        ac.cast(pa.array([1.5]), pa.int64())


_IMPORTS = """\
import atexit, sys
from sbm_engine.cli import main

heavy = ("pyarrow.compute", "pyarrow.parquet", "importlib.metadata", "numpy.ma", "zipfile")
atexit.register(lambda: print("IMPORTED", [m for m in heavy if m in sys.modules]))
sys.exit(main(sys.argv[1:]))
"""


@pytest.mark.parametrize(
    ("source", "target"),
    [
        ("parquet", "parquet"),
        ("csv", "csv"),
        ("parquet", "jsonl"),
        ("csv", "jsonl"),
        ("jsonl", "parquet"),
    ],
)
def test_scoring_does_not_import_pyarrow_compute(tmp_path: Path, source: str, target: str) -> None:
    """A Parquet, CSV or JSONL wave scored into Parquet, CSV or JSONL, with a rejected visit
    and a duplicate id (the paths that take and filter rows). Nor `pyarrow.parquet`
    (`io.arrow_parquet` reads and writes), nor `numpy.ma` (`io.numpy_arrow`), nor
    `zipfile` (XLSX only), nor, once the installed packs were found
    (`plugins._declared`), `importlib.metadata`."""
    rows = [
        {"visit_id": "v1", "answers.greeted": "да", "answers.wait": 3, "answers.secrecy": "yes"},
        {"visit_id": "v2", "answers.greeted": "no", "answers.wait": 12, "answers.secrecy": "no"},
        {"visit_id": "v2", "answers.greeted": "yes", "answers.wait": 1, "answers.secrecy": "yes"},
        {"visit_id": "v3", "answers.greeted": "maybe", "answers.wait": 1, "answers.secrecy": "yes"},
    ]
    wave = write_wave(rows, tmp_path / f"wave.{source}")
    out = tmp_path / f"out.{target}"
    args = ["score", str(DEMO / "demo_branch.sbm"), str(wave), "-o", str(out)]
    for run in range(2):  # the second run reads the standard and the packs from the cache
        done = run_sbm(_IMPORTS, args, tmp_path)
        assert done.returncode == 1, done.stderr  # a duplicate and a bad answer: rejected
        expected = ["importlib.metadata", "zipfile"] if run == 0 else []  # zipfile: metadata's
        assert done.stdout.rsplit("IMPORTED ", 1)[1].strip() == repr(expected)


def test_the_streaming_path_needs_pyarrow_built_with_parquet(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`arrow_available` looks for pyarrow's Parquet module without importing it."""
    import importlib.util

    from sbm_engine.pipeline import arrow_available, why_not

    real = importlib.util.find_spec
    assert arrow_available()
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name == "pyarrow._parquet" else real(name, *a),
    )
    assert not arrow_available()
    assert "pyarrow and numpy are needed" in (why_not(["wave.csv"], None, None) or "")
