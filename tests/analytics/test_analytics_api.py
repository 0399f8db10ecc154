"""`sbm_engine.analytics`: the documented functions, which no submodule import hides."""

from __future__ import annotations

import importlib

import pytest

pytest.importorskip("scipy")


@pytest.mark.parametrize("name", ["compare", "calibrate", "drivers", "diagnose", "plan"])
def test_the_api_functions_stay_functions_after_their_modules_are_imported(name: str) -> None:
    from sbm_engine import analytics

    for module in ("waves", "calibration", "key_drivers", "diagnosis", "planning", "stats"):
        importlib.import_module(f"sbm_engine.analytics.{module}")
    assert callable(getattr(analytics, name))
    assert getattr(analytics, name).__module__ == "sbm_engine.analytics"
