"""Every bank test sees exactly this pack and the engine's built-in plugin."""

from __future__ import annotations

import pytest
from sbm_bank import plugin

NAME = "bank"  # the entry point's name in pyproject.toml
STANDARD = "bank.branch"


@pytest.fixture(autouse=True)
def only_this_pack(sbm_plugin_manager):
    return sbm_plugin_manager(**{NAME: plugin})


@pytest.fixture
def branch(sbm_standard):
    return sbm_standard(STANDARD)
