"""The pack's tests, using the engine's pytest fixtures (installed with sbm-engine).

Run them with `pytest` in the pack's folder; the pack need not be installed
(`pythonpath = ["src"]` in pyproject.toml). Each test sees exactly this pack and
the engine's built-in plugin, whatever else is installed, through the
`sbm_plugin_manager` fixture.
"""

from __future__ import annotations

import math
import tomllib
from pathlib import Path

import pytest
from sbm_example import plugin

PACK = Path(__file__).resolve().parents[1]
NAME = "example"  # the plugin's name: the entry point's name in pyproject.toml
STANDARD = "example.service"


@pytest.fixture(autouse=True)
def only_this_pack(sbm_plugin_manager):
    """Register the pack under its entry-point name for every test."""
    return sbm_plugin_manager(**{NAME: plugin})


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
    batch = plugin.wait_score_batch(np.array([minutes, math.nan]), np.array([5.0, 5.0]))
    assert batch[0] == pytest.approx(plugin.wait_score(minutes, 5))
    assert math.isnan(batch[1])  # N/A stays N/A


def test_the_entry_point_names_the_plugin_module():
    meta = tomllib.loads((PACK / "pyproject.toml").read_text(encoding="utf-8"))
    assert meta["project"]["entry-points"]["sbm"] == {NAME: "sbm_example.plugin"}


def test_the_pack_is_listed(only_this_pack):
    from sbm_engine.plugins import describe_plugins

    row = next(r for r in describe_plugins() if r["name"] == NAME)
    assert row["standards"] == [STANDARD]
    assert row["functions"] == ["wait_score"]
