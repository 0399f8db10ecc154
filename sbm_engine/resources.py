"""Where the files the package needs at run time live.

In a wheel the grammar and the standards library are shipped inside the package
(`sbm_engine/_data/…`, see `pyproject.toml`); in a source checkout or an editable
install they are the top-level `grammar/` and `standards_library/` folders. This
module is the one place that knows both layouts.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def _data_dir(name: str) -> Path:
    shipped = _PACKAGE / "_data" / name
    if shipped.is_dir():
        return shipped
    checkout = _PACKAGE.parent / name
    if checkout.is_dir():
        return checkout
    raise FileNotFoundError(f"sbm_engine is installed without its {name}/ folder")


@cache
def grammar_text() -> str:
    return (_data_dir("grammar") / "sbm.lark").read_text(encoding="utf-8")


def library_root() -> Path:
    """The bundled standards library (`standards_library/`)."""
    return _data_dir("standards_library")
