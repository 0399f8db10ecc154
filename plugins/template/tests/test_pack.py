"""The pack's tests, using the engine's pytest fixtures and helpers (installed with
sbm-engine, in `sbm_engine.testing`).

Run them with `pytest` in the pack's folder; the pack need not be installed
(`pythonpath = ["src"]` in pyproject.toml). Each test sees exactly this pack and
the engine's built-in plugin, whatever else is installed, through `pack_fixture`.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from sbm_example import plugin

from sbm_engine.testing import assert_forms_agree, check_pack_metadata, pack_fixture, plugin_row

PACK = Path(__file__).resolve().parents[1]
NAME = "example"  # the plugin's name: the entry point's name in pyproject.toml
STANDARD = "example.service"


# Every test: the pack registered under its entry-point name (a pack with several test
# files puts this line in tests/conftest.py).
only_this_pack = pack_fixture(**{NAME: plugin})


def test_the_standard_compiles(sbm_standard):
    std = sbm_standard(STANDARD)
    assert std.id == STANDARD
    assert std.version == "2026.1"


def test_the_examples_pass(sbm_examples):
    outcomes = sbm_examples(STANDARD)
    assert len(outcomes) == 3


def test_a_visit_is_scored_with_the_pack_function(sbm_score):
    result = sbm_score(
        STANDARD,
        {
            "visit_id": "v1",
            "answers": {"greeted": "yes", "wait": 10, "thanked": "yes", "invited": "no"},
        },
    )
    assert result.ok, result
    assert result.items["wait"] == pytest.approx(0.5)
    assert result.coefficients["courtesy"] == pytest.approx(0.75)  # (2·1 + 1 + 0) / 4


def test_a_bad_answer_is_rejected_not_raised(sbm_score):
    outcomes = sbm_score(
        STANDARD,
        [
            {"visit_id": "v1", "answers": {"greeted": "maybe", "wait": 3, "thanked": "yes"}},
            {"visit_id": "v2", "answers": {"greeted": "yes", "wait": 3, "thanked": "yes"}},
        ],
    )
    assert [o.ok for o in outcomes] == [False, True]
    assert outcomes[0].errors[0].item == "greeted"


def test_na_wait_gives_na_speed(sbm_score):
    result = sbm_score(
        STANDARD,
        {
            "visit_id": "v1",
            "answers": {"greeted": "yes", "wait": "н/п", "thanked": "yes"},
        },
    )
    assert result.ok
    assert result.coefficients["speed"] is None


@pytest.mark.parametrize("minutes", [0, 2.5, 5, 7.5, 10, 15, 30, 120])
def test_scalar_and_batch_forms_agree(minutes):
    np = pytest.importorskip("numpy")
    # row by row, N/A (NaN) in gives N/A out; the limit is a constant, as in a standard
    minutes = np.array([minutes, math.nan])
    assert_forms_agree(plugin.wait_score, plugin.wait_score_batch, minutes, 5.0, approx=True)


def test_the_entry_point_names_the_plugin_module():
    check_pack_metadata(PACK, NAME, "sbm_example.plugin")


def test_the_pack_is_listed():
    row = plugin_row(NAME)
    assert row["standards"] == [STANDARD]
    assert row["functions"] == ["wait_score"]
