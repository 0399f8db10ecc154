"""Every restaurant test sees exactly this pack and the engine's built-in plugin."""

from sbm_restaurant import plugin

from sbm_engine.testing import pack_fixture, standard_fixture

only_this_pack = pack_fixture(restaurant=plugin)  # the entry point's name in pyproject.toml
service = standard_fixture("restaurant.service")
