"""`example` blocks: tests that ship inside a standard, run by `sbm test` and `sbm check`.

Each example is scored by the compiled standard exactly as a real visit would be;
its `expect` lines are then evaluated against the result, numbers comparing within
1e-9. A failing expectation reports the values it looked at, so a methodologist
sees at once what the standard actually computed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import attrs

from .interpret import Env, Interpreter
from .model import Bound
from .nodes import Span

if TYPE_CHECKING:
    from .standard import CompiledStandard


@attrs.frozen
class ExampleOutcome:
    name: str
    passed: bool
    failures: tuple[str, ...]
    span: Span


def run_examples(std: CompiledStandard) -> list[ExampleOutcome]:
    model = std.model
    interp = Interpreter(model, std.functions, approx=True)
    out = []
    for ex in model.examples:
        record: dict[str, Any] = {
            "visit_id": f"example: {ex.name}",
            **ex.visit,
            "answers": ex.answers,
        }
        outcome = std.score(record)
        failures: list[str] = []
        if not outcome.ok:
            for err in outcome.errors:  # type: ignore[union-attr]
                failures.append(f"the example's answers were rejected: {err.item}: {err.message}")
        else:
            env, _, _, _ = interp.visit(record)
            env = Env(
                record,
                items=dict(outcome.items),  # type: ignore[union-attr]
                answers=env.answers,
                sections=dict(outcome.sections),  # type: ignore[union-attr]
                coefs=dict(outcome.coefficients),  # type: ignore[union-attr]
            )
            for bound, text in ex.expects:
                if interp.eval(bound, env) is not True:
                    failures.append(f"expected `{text}`, but {_values(bound, env, interp)}")
        out.append(ExampleOutcome(ex.name, not failures, tuple(failures), ex.span))
    return out


def _values(b: Bound, env: Env, interp: Interpreter) -> str:
    """`visit = 0.94, band(visit) = good`: the values an expectation read."""
    shown: dict[str, Any] = {}
    for node in b.walk():
        if node.op in ("item", "section", "coef"):
            shown.setdefault(node.data, interp.eval(node, env))
        elif node.op == "answer":
            shown.setdefault(f"answer({node.data})", interp.eval(node, env))
        elif node.op == "call" and node.data[0] in ("band", "critical_failed"):
            key = f"band({node.data[1]})" if node.data[0] == "band" else "critical_failed"
            shown.setdefault(key, interp.eval(node, env))
    if not shown:
        return "it does not hold"
    return ", ".join(f"{k} = {_show(v)}" for k, v in shown.items())


def _show(v: Any) -> str:
    if v is None:
        return "N/A"
    if isinstance(v, bool):
        return str(v).lower()
    return repr(v) if isinstance(v, float) else str(v)
