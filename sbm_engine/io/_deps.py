"""Lazy imports of the optional heavy dependencies (pyarrow, openpyxl).

Why: `sbm check` and JSONL/CSV scoring must start fast and work in a minimal
install; the Excel and Arrow formats load their libraries only when used, and a
missing library becomes a clear error that names the extra to install.
"""

from __future__ import annotations

import importlib
from types import ModuleType

__all__ = ["require"]


def require(module: str, extra: str, error: type[Exception], what: str) -> ModuleType:
    """Import `module` or raise `error` telling the user to install `sbm-engine[extra]`."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        package = module.partition(".")[0]
        raise error(
            f"{what} needs the optional package {package!r}, which is not installed; "
            f"install it with: pip install 'sbm-engine[{extra}]'"
        ) from exc
