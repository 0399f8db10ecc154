"""The restaurant pack's hook implementations (entry point `sbm` → `restaurant`)."""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sbm_engine.hookspecs import hookimpl

from .penalty import function_specs

if TYPE_CHECKING:
    from sbm_engine.functions import FunctionSpec

#: The folder of `.sbm` files this pack ships: `restaurant.service` (service.sbm) and the
#: King County inspection standard (king_county.sbm), found recursively.
STANDARDS = Path(__file__).parent / "standards"


@hookimpl
def sbm_standards() -> Iterable[Path]:
    """Every standard in the pack's `standards/` folder."""
    return [STANDARDS]


@hookimpl
def sbm_functions() -> Iterable[FunctionSpec]:
    """The inspection penalty model (`inspection_result`, `inspection_level`,
    `requires_reinspection`, `requires_closure`, `penalty_score`): see `penalty.py`."""
    return function_specs()


@hookimpl
def sbm_readers() -> Mapping[str, Any]:
    """Input readers this pack adds, by file extension.

    TODO(king-county): the King County inspection reader lives in
    `sbm_restaurant.king_county` (written separately). It is imported only if that module
    exists, and exposed only once it offers readers in the hook's calling convention,
    `reader(path, visit_fields=..., **options)` yielding `sbm_engine.io.SourceRecord`s,
    as a module-level mapping `READERS = {".ext": reader}`. Until then this hook adds
    nothing, so the pack installs and works without it.
    """
    if importlib.util.find_spec(f"{__package__}.king_county") is None:
        return {}
    king_county = importlib.import_module(f"{__package__}.king_county")
    readers = getattr(king_county, "READERS", None)
    return dict(readers) if isinstance(readers, Mapping) else {}
