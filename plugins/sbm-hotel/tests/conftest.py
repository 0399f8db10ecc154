"""Every hotel test sees exactly this pack and the engine's built-in plugin."""

from sbm_hotel import plugin

from sbm_engine.testing import pack_fixture, standard_fixture

only_this_pack = pack_fixture(hotel=plugin)  # the entry point's name in pyproject.toml
stay = standard_fixture("hotel.stay")
