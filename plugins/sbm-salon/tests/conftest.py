"""Every salon test sees exactly this pack and the engine's built-in plugin."""

from __future__ import annotations

import pytest
from sbm_salon import plugin

NAME = "salon"  # the entry point's name in pyproject.toml
STANDARD = "salon.visit"


@pytest.fixture(autouse=True)
def only_this_pack(sbm_plugin_manager):
    return sbm_plugin_manager(**{NAME: plugin})


@pytest.fixture
def salon(sbm_standard):
    return sbm_standard(STANDARD)
