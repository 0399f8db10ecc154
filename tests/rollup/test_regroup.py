"""Rolling up once per (point, specialist) pair and adding the pairs up gives the
figures of rolling the visits up by each level, bit for bit (`Rollup.regroup`,
`WaveTally.regrouped`), whatever the order and however specialists move between
points: every sum is exact."""

from __future__ import annotations

import json
import random
from operator import itemgetter
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sbm_engine.rollup import Rollup

pytest.importorskip("sbm_bank")
pytest.importorskip("numpy")

LEVEL_OF = {"network": lambda _: "network", "point": itemgetter(0), "specialist": itemgetter(1)}


@pytest.fixture(scope="module")
def visits(bank_inputs_made: dict[str, Path]) -> list[dict[str, Any]]:
    text = bank_inputs_made["april"].read_text(encoding="utf-8")
    return [json.loads(line) for line in text.splitlines()]


def _pair(record: dict[str, Any]) -> tuple[Any, Any]:
    return record["point"], record["specialist"]


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), points=st.integers(1, 6), people=st.integers(1, 12))
def test_regrouped_pairs_equal_each_level(
    visits: list[dict[str, Any]], seed: int, points: int, people: int
) -> None:
    import sbm_engine
    from sbm_engine.analytics.columnar import WaveSums
    from sbm_engine.analytics.waves import WaveTally

    rng = random.Random(seed)
    records = [dict(v) for v in visits]
    rng.shuffle(records)
    for r in records:  # specialists now work at several points
        r["point"] = f"P{rng.randrange(points)}"
        r["specialist"] = f"S{rng.randrange(people)}"
    model = sbm_engine.load("bank.branch").model
    by_pair = Rollup(model, "specialist", key=_pair)
    pair_tally = WaveTally(model, "specialist")
    sums = WaveSums(pair_tally)
    for r in records:
        by_pair.add_checked(r)
    cut = rng.randrange(len(records) + 1)  # in two chunks, split anywhere
    for chunk in (records[:cut], records[cut:]):
        if chunk:
            sums.add_records(chunk, [_pair(r) for r in chunk])
    sums.fold_into(pair_tally, "w")
    for level, key_of in LEVEL_OF.items():
        direct = Rollup(model, level)
        tally = WaveTally(model, level)
        level_sums = WaveSums(tally)
        for r in records:
            direct.add_checked(r)
        level_sums.add_records(records)
        level_sums.fold_into(tally, "w")
        assert by_pair.regroup(level, key_of).report() == direct.report()
        regrouped = pair_tally.regrouped(level, key_of)
        assert regrouped.cells.keys() == tally.cells.keys()
        for key, cell in tally.cells.items():
            mine = regrouped.cells[key]
            assert (mine.visits, mine.hits, mine.applied, mine.passed) == (
                cell.visits,
                cell.hits,
                cell.applied,
                cell.passed,
            )
            for name, m in cell.coefs.items():
                assert (
                    mine.coefs[name].n,
                    mine.coefs[name].sum_units,
                    mine.coefs[name].sq_units,
                ) == (
                    m.n,
                    m.sum_units,
                    m.sq_units,
                )
