"""Test-wide settings: hypothesis profiles.

- `ci`: derandomized and bounded, so CI is deterministic and fast (chosen when CI is set).
- `dev` (default): hypothesis' usual randomness, a few more examples.
- `long`: for fuzzing by hand: `HYPOTHESIS_PROFILE=long pytest -m property` (every
  hypothesis test carries the `property` mark, given below at collection).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci",
    derandomize=True,
    max_examples=40,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile("dev", max_examples=100, deadline=None)
settings.register_profile(
    "long",
    max_examples=5000,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.load_profile(
    os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") else "dev")
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every hypothesis test `property`, so `-m property` selects exactly them."""
    for item in items:
        if getattr(getattr(item, "obj", None), "is_hypothesis_test", False):
            item.add_marker(pytest.mark.property)


# ---- messages in English, whatever the machine's locale ---------------------------------------

os.environ["SBM_LANG"] = "en"  # subprocesses (an installed `sbm`) inherit it


def pytest_runtest_setup(item: object) -> None:
    """Each test starts in English: `SBM_LANG=en`, and no language left chosen (`--lang`,
    `set_language`) by an earlier test. Runs before the test's fixtures, so a test that
    wants Russian sets `SBM_LANG` with monkeypatch or passes `--lang ru` itself."""
    from sbm_engine.messages import set_language

    os.environ["SBM_LANG"] = "en"
    set_language(None)


# ---- the report of a real wave, made once for every test module that draws it ----------------


@pytest.fixture(scope="session")
def bank_inputs_made(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The bank pack's sample waves, plan and calibration (`report_inputs.bank_inputs`)."""
    pytest.importorskip("sbm_bank")
    pytest.importorskip("scipy")
    from report_inputs import bank_inputs

    return bank_inputs(tmp_path_factory.mktemp("bank-inputs"))


@pytest.fixture(scope="session")
def bank_report_ru(bank_inputs_made: dict[str, Path]) -> Any:
    """The Russian report of the bank's April wave with every topic."""
    from report_inputs import bank_report

    return bank_report(bank_inputs_made, "ru")
