"""Every salon test sees exactly this pack and the engine's built-in plugin."""

from sbm_salon import plugin

from sbm_engine.testing import pack_fixture, standard_fixture

only_this_pack = pack_fixture(salon=plugin)  # the entry point's name in pyproject.toml
salon = standard_fixture("salon.visit")
