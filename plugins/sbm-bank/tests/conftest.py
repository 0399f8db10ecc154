"""Every bank test sees exactly this pack and the engine's built-in plugin."""

from sbm_bank import plugin

from sbm_engine.testing import pack_fixture, standard_fixture

only_this_pack = pack_fixture(bank=plugin)  # the entry point's name in pyproject.toml
branch = standard_fixture("bank.branch")
