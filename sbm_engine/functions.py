"""Functions that packs add to the language, with the types the checker needs.

A pack declares a function once, with a scalar form (one visit: plain Python
values, `None` for N/A) and optionally a batch form (numpy arrays with NaN for
N/A). The checker reads `params` and `returns`; the per-visit compiler calls
`scalar`; the batch compiler calls `batch`, or falls back to `scalar` per row and
says so once. N/A in any argument gives N/A unless `na_aware` is set, in which
case the function receives `None` and decides itself. These are the generic
hooks (`builtins.bind_value_call`, `builtins.emit_value_call`,
`BatchCompiler.value_call`, `builtins.scalar_value_call`), which a built-in function
of plain values uses too.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, Literal

import attrs

ValueType = Literal["num", "bool", "str"]


@attrs.frozen
class FunctionSpec:
    name: str
    params: tuple[ValueType, ...]
    returns: ValueType
    scalar: Callable[..., Any]
    batch: Callable[..., Any] | None = None
    na_aware: bool = False
    doc: str = ""
    plugin: str = ""


class FunctionRegistry:
    def __init__(self, specs: Iterable[FunctionSpec] = ()) -> None:
        self._specs: dict[str, FunctionSpec] = {}
        for spec in specs:
            self.add(spec)

    def add(self, spec: FunctionSpec) -> None:
        if spec.name in self._specs:
            raise ValueError(
                f"function `{spec.name}` is declared by both {self._specs[spec.name].plugin!r} "
                f"and {spec.plugin!r}"
            )
        self._specs[spec.name] = spec

    def get(self, name: str) -> FunctionSpec | None:
        return self._specs.get(name)

    def names(self) -> list[str]:
        return sorted(self._specs)

    def __iter__(self) -> Any:
        return iter(self._specs.values())


def default_registry() -> FunctionRegistry:
    """Functions from installed plugins (empty when the plugin system is not loaded)."""
    return FunctionRegistry()
