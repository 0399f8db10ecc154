"""The checker's entry points, where the rest of the engine imports them from.

The checker itself is the `checking` package, one module per analysis (not `check`:
a subpackage of that name would hide the function `sbm_engine.check` once imported).
"""

from __future__ import annotations

from .checking import RESERVED, Checker, check

__all__ = ["RESERVED", "Checker", "check"]
