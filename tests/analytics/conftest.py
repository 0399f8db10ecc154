"""The reports the renderers' tests draw: the hand-made one (every chart kind, awkward
keys) and the bank pack's real one (every topic, 38 cards)."""

from __future__ import annotations

import pytest
from report_sample import sample_report

from sbm_engine.analytics.reporting.model import Report


@pytest.fixture(scope="module", params=["sample", "bank"])
def report(request: pytest.FixtureRequest) -> Report:
    if request.param == "sample":
        return sample_report()
    return request.getfixturevalue("bank_report_ru")  # type: ignore[no-any-return]
