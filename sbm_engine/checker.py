"""The checker's entry points, where the rest of the engine imports them from.

The checker itself is the `check` package, one module per analysis.
"""

from __future__ import annotations

from .check import RESERVED, Checker, check

__all__ = ["RESERVED", "Checker", "check"]
