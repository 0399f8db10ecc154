"""The benchmark workload computes what it claims: a benchmark that silently scored
something else (or rejected its visits) would make every figure in
`benchmarks/README.md` meaningless.

Both answer encodings (`labels` and `codes`) of the same visits must score to the
same results, and the hand-written baselines must agree with the engine."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

pa = pytest.importorskip("pyarrow")
pytest.importorskip("numpy")

BENCH = Path(__file__).resolve().parents[2] / "benchmarks"
sys.path.insert(0, str(BENCH))

import baselines  # noqa: E402
import workload  # noqa: E402

import sbm_engine  # noqa: E402


@pytest.fixture(scope="module")
def standards() -> dict[str, sbm_engine.CompiledStandard]:
    return {a: sbm_engine.loads(workload.standard_text(answers=a), a) for a in workload.ANSWERS}


def test_hand_written_baselines_agree_with_the_engine(standards: dict) -> None:
    baselines.verify(standards["labels"], n=1_500)


@pytest.mark.parametrize("start", [0, 70_000])
def test_codes_and_labels_score_the_same_visits_alike(standards: dict, start: int) -> None:
    crit = workload.criteria()
    cols = workload.columns(2_000, start=start, crit=crit)
    out = {
        a: standards[a].score_table(workload.table(cols, crit, answers=a)) for a in workload.ANSWERS
    }
    for a, result in out.items():
        assert result.rejects.num_rows == 0, (a, result.rejects.slice(0, 3).to_pylist())
        assert result.scored.num_rows == cols.n
    labels, codes = out["labels"].scored, out["codes"].scored
    assert labels.column_names == codes.column_names
    for name in labels.column_names:
        assert labels.column(name).equals(codes.column(name)), name


def test_codes_are_numbers_and_na_is_an_empty_cell() -> None:
    crit = workload.criteria()
    cols = workload.columns(500, crit=crit)
    t = workload.table(cols, crit, answers="codes")
    yes_no = next(c for c in crit if c.kind == "yes_no" and not c.critical)
    col = t.column(yes_no.name)
    assert col.type == pa.int8()
    assert set(col.drop_null().to_pylist()) <= {0, 1}
    na = (cols.answers[yes_no.name] == 2).sum()
    assert na > 0 and col.null_count == na
    assert "optional" in workload.standard_text(answers="codes").split(yes_no.name, 1)[1][:200]


def test_an_unknown_encoding_is_refused() -> None:
    with pytest.raises(ValueError, match="labels"):
        workload.standard_text(answers="words")
