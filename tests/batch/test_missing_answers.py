"""A missing answer on the batch path: the same flags as the runtime's reading, and a
clean wave scored in batches makes no message (reads no catalogue)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import sbm_engine
from sbm_engine.batch.columns import ItemDecoder
from sbm_engine.runtime import MISSING, multi_answer

ROOT = Path(__file__).resolve().parents[2]

STANDARD = """
standard missing.answers {
    scale yn { yes = 1, no = 0 }
    scale many { a = 0.5, b = 1 }
    section s "S" {
        item s1 "required scale" answer yn required
        item s2 "optional scale" answer yn optional
        item s3 "scale" answer yn
        item n1 "required number" answer number 0..10 required
            score = if value <= 5 then 1 else 0
        item n2 "optional number" answer number 0..10 optional
            score = if value <= 5 then 1 else 0
        item t1 "required text" answer text required unscored
        item t2 "optional text" answer text optional unscored
        item m1 "required choice" answer any of many required
        item m2 "optional choice" answer any of many optional
    }
}
"""


@pytest.fixture(scope="module")
def std() -> sbm_engine.CompiledStandard:
    return sbm_engine.loads(STANDARD)


def test_a_missing_answer_flags_as_the_runtime_reads_it(std: sbm_engine.CompiledStandard) -> None:
    for item in std.model.items:
        dec = ItemDecoder(item, needs_value=True, needs_answered=True)
        if item.kind == "multi":
            errs: list[object] = []
            read = multi_answer(dec.info, MISSING, errs)  # type: ignore[arg-type]
            assert dec.resolve_multi(MISSING) == (read, bool(errs), False), item.name
        else:
            assert dec.missing() == dec.read(MISSING), item.name
        assert dec.missing()[3] == (dec.info.presence != "optional"), item.name


def test_a_clean_wave_scored_in_batches_makes_no_message(tmp_path: Path) -> None:
    """Every chunk's distinct answers hold MISSING, also for required items no row
    lacks: resolving it must not make the runtime's message (and read the catalogue)."""
    (tmp_path / "s.sbm").write_text(STANDARD, encoding="utf-8")
    code = (
        "import sys\n"
        "import pyarrow as pa\n"
        "from sbm_engine import api, messages\n"
        "from sbm_engine.batch import score_table\n"
        "std = api.load(sys.argv[1])\n"
        "n = 300\n"
        "table = pa.table({'visit_id': [f'v{i}' for i in range(n)],\n"
        "    'answers.s1': ['yes', 'no'] * (n // 2), 'answers.s3': ['no'] * n,\n"
        "    'answers.n1': [i % 11 for i in range(n)], 'answers.t1': ['ok'] * n,\n"
        "    'answers.m1': ['a;b', 'a'] * (n // 2)})\n"
        "scored, rejects = score_table(std, table)\n"
        "print(scored.num_rows, rejects.num_rows, sorted(messages._catalogues))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path / "s.sbm")],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    ).stdout
    assert out.splitlines()[-1] == "300 0 []"
