"""The names `sbm_engine` exports stay what they are documented to be.

A subpackage called like one of them (the checker once lived in `sbm_engine/check/`)
replaces the name on the package as soon as it is imported, so `sbm_engine.check(...)`
would call a module. Compiling a standard imports every part of the engine the
exported names could collide with.
"""

from __future__ import annotations

import types

import sbm_engine
from sbm_engine import api


def test_the_exported_names_are_not_modules_after_the_engine_ran() -> None:
    sbm_engine.loads('standard t.t {\n    item q "Q" answer { yes = 1, no = 0 }\n}\n')
    for name in sbm_engine.__all__:
        assert not isinstance(getattr(sbm_engine, name), types.ModuleType), name
    assert sbm_engine.check is api.check
    assert sbm_engine.load is api.load
