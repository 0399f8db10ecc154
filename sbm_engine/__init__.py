"""SBM engine: service standards as code, scored exactly.

    import sbm_engine
    std = sbm_engine.load("demo_branch.sbm")      # a path or an installed id
    result = std.score({"visit_id": "v1", "answers": {...}})
    if result.ok:
        print(result.coefficients["visit"], result.bands["visit"])

Submodules are imported lazily so that `sbm --help` starts fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_LAZY = {
    "load": ("api", "load"),
    "loads": ("api", "loads"),
    "check": ("api", "check"),
    "CheckReport": ("api", "CheckReport"),
    "CompiledStandard": ("standard", "CompiledStandard"),
    "ScoredVisit": ("results", "ScoredVisit"),
    "RejectedVisit": ("results", "RejectedVisit"),
    "CompileError": ("diagnostics", "CompileError"),
    "Diagnostic": ("diagnostics", "Diagnostic"),
    "VisitError": ("runtime", "VisitError"),
    "VisitWarning": ("runtime", "VisitWarning"),
    "hookimpl": ("hookspecs", "hookimpl"),
    "FunctionSpec": ("functions", "FunctionSpec"),
}

__all__ = [*_LAZY, "__version__"]

if TYPE_CHECKING:
    from .api import CheckReport, check, load, loads
    from .diagnostics import CompileError, Diagnostic
    from .functions import FunctionSpec
    from .hookspecs import hookimpl
    from .results import RejectedVisit, ScoredVisit
    from .runtime import VisitError, VisitWarning
    from .standard import CompiledStandard


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        module, attr = _LAZY[name]
        value = getattr(importlib.import_module(f".{module}", __name__), attr)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'sbm_engine' has no attribute {name!r}")
