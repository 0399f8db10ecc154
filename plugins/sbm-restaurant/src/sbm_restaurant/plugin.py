"""The restaurant pack's hook implementations (entry point `sbm` → `restaurant`)."""

from __future__ import annotations

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


#: A King County manifest's extension (see `sbm_restaurant.king_county`).
MANIFEST_EXTENSION = ".kc"


@hookimpl
def sbm_readers() -> Mapping[str, Any]:
    """Input readers this pack adds, by file extension: `.kc`, a manifest naming King
    County's inspections and violations tables. The engine asks every pack for its
    readers whenever it starts to score; the module that reads them is imported only
    when a manifest is read."""
    return {MANIFEST_EXTENSION: read_manifest}


def read_manifest(path: Path, visit_fields: object = (), **options: object) -> Any:
    """`king_county.read_manifest`, imported when called."""
    from .king_county import read_manifest as read

    return read(path, visit_fields, **options)
