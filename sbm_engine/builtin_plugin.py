"""The engine's own plugin: the standards library and the built-in file formats.

Why the engine registers itself as a plugin: then `sbm plugins`, the override
rule for formats and the id-clash check treat the engine's contributions exactly
like a pack's, and there is one code path to read from. It is registered first,
under the name `builtin` (see `sbm_engine.plugins`).

Every hook imports what it needs when called, so building the plugin manager
does not import the I/O layer (or pyarrow, openpyxl) for commands that never
read a file.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from .hookspecs import Reader, hookimpl


@hookimpl
def sbm_standards() -> list[Path]:
    """The bundled standards library (common scales, service stages, SERVQUAL, Kano)."""
    from .resources import library_root

    try:
        return [library_root()]
    except FileNotFoundError:  # an install without the library: nothing to offer
        return []


@hookimpl
def sbm_readers() -> Mapping[str, Reader]:
    """`sbm_engine.io`'s readers (JSONL, CSV, XLSX, Parquet), in the hook's convention."""
    from .io.readers import READERS, keyword_reader

    return {ext: keyword_reader(fn) for ext, fn in READERS.items()}


@hookimpl
def sbm_writers() -> Mapping[str, type]:
    """`sbm_engine.io`'s atomic writers, which already take `cls(path, columns=None)`."""
    from .io.writers import WRITERS

    return dict(WRITERS)
