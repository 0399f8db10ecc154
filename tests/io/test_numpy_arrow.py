"""`io.numpy_arrow`: numpy arrays as Arrow arrays and their distinct values, as
pyarrow and numpy give them, without importing `numpy.ma`."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

pa = pytest.importorskip("pyarrow")

from sbm_engine.io.numpy_arrow import arrow_array, distinct  # noqa: E402

BYTES = [b"", b"a", b"b", b"ab", b"\x00a", b"yes", b"no", b"\xd0\xb4"]
DTYPES = [np.int8, np.int32, np.int64, np.uint8, np.uint64, np.intp, np.float32, np.float64]


@st.composite
def arrays(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray | None]:
    dtype = draw(st.sampled_from([*DTYPES, np.bool_]))
    values = draw(hnp.arrays(dtype, st.integers(0, 70)))
    step = draw(st.sampled_from([1, 1, 2, -1]))  # strided and reversed views too
    values = values[::step]
    valid = None
    if draw(st.booleans()):
        valid = np.array(draw(st.lists(st.booleans(), min_size=len(values), max_size=len(values))))
        valid = valid.astype(bool).reshape(len(values))
    return values, valid


@given(arrays())
def test_the_array_pyarrow_makes(case: tuple[np.ndarray, np.ndarray | None]) -> None:
    values, valid = case
    expected = pa.array(values, mask=None if valid is None else ~valid)
    got = arrow_array(values, valid)
    got.validate(full=True)
    assert got.type == expected.type
    assert got.null_count == expected.null_count
    assert _cells(got) == _cells(expected)


def _cells(array: object) -> list[object]:
    """The values, NaN as a word: Arrow's `equals` finds NaN unequal to itself."""
    return ["NaN" if v != v else v for v in array.to_pylist()]  # type: ignore[attr-defined]


@given(
    st.one_of(
        hnp.arrays(st.sampled_from(DTYPES[:6]), st.integers(0, 60), elements=st.integers(0, 9)),
        hnp.arrays(np.dtype("S3"), st.integers(0, 60), elements=st.sampled_from(BYTES)),
    )
)
def test_the_distinct_values_numpy_finds(values: np.ndarray) -> None:
    got = distinct(values)
    expected = np.unique(values)
    assert got.dtype == expected.dtype
    assert np.array_equal(got, expected)


def test_neither_imports_numpy_ma() -> None:
    probe = (
        "import sys, numpy as np\n"
        "from sbm_engine.io.numpy_arrow import arrow_array, distinct\n"
        "arrow_array(np.arange(5), np.arange(5) > 1); arrow_array(np.arange(3) > 1)\n"
        "distinct(np.array([3, 1, 3]))\n"
        "print('numpy.ma' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert done.stdout.strip() == "False", done.stderr
