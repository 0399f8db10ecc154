"""`example` blocks: tests that ship inside a standard, run by `sbm test` and `sbm check`.

Each example is scored by the compiled standard exactly as a real visit would be;
its `expect` lines are then evaluated against the result, numbers comparing within
1e-9. Failures are diagnostics like any other: E0802 for each error of answers the
standard rejects, E0801 for each expectation that does not hold, pointing at the
expectation and showing the values it read, so a methodologist sees at once what
the standard actually computed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import attrs

from .diagnostics import Diagnostic
from .interpret import Env, Interpreter
from .messages import message
from .model import Bound, ExampleModel
from .spans import Span

if TYPE_CHECKING:
    from .standard import CompiledStandard


@attrs.frozen
class ExampleOutcome:
    name: str
    failures: tuple[Diagnostic, ...]
    span: Span
    #: The example's (last) visit as scored (None when its answers were rejected).
    result: Any = attrs.field(default=None, eq=False, repr=False)
    #: How many visits the example scores (several: one point's, in order).
    visits: int = 1
    #: Every visit of the example as scored, in order (rejected ones left out).
    results: tuple[Any, ...] = attrs.field(default=(), eq=False, repr=False)

    @property
    def passed(self) -> bool:
        return not self.failures

    @property
    def messages(self) -> list[str]:
        """One line per failure, for terminals: the message and what was computed."""
        return [" ".join([d.message, *(f"({n})" for n in d.notes)]) for d in self.failures]


def run_examples(std: CompiledStandard, select: str | None = None) -> list[ExampleOutcome]:
    """Run the examples, or those whose name contains `select` (ignoring case)."""
    interp = Interpreter(std.model, std.functions, approx=True)
    wanted = None if select is None else select.casefold()
    out = []
    for ex in std.model.examples:
        if wanted is not None and wanted not in ex.name.casefold():
            continue
        records = _records(ex)
        failures: list[Diagnostic] = []
        scored: list[Any] = []
        previous = None
        for k, record in enumerate(records):
            result = std.score(record, previous=previous)
            if not result.ok:
                failures += _rejected(ex, result, k + 1 if len(records) > 1 else None)
                continue
            scored.append(result)
            previous = result  # a rejected visit is nobody's previous
        last = records[-1]
        if result.ok and not failures:
            failures = _failures(interp, std, ex, last, result, previous_of_last(scored), scored)
        out.append(
            ExampleOutcome(
                ex.name,
                tuple(failures),
                ex.span,
                result if result.ok else None,
                len(records),
                tuple(scored),
            )
        )
    return out


def previous_of_last(scored: list[Any]) -> Any:
    """The previous visit of an example's last visit: the one scored before it."""
    return scored[-2] if len(scored) > 1 else None


def coverage(std: CompiledStandard, outcomes: list[ExampleOutcome]) -> dict[str, Any]:
    """What the examples exercise: the scored items some example gives a score, the
    coefficients some `expect` reads, and the band labels some example lands in.

    What no example reaches is where an edit can change results unnoticed.
    """
    m = std.model
    results = [r for o in outcomes for r in (o.results or ((o.result,) if o.result else ()))]
    scored = [it.name for it in m.items if it.scored]
    hit = {name for r in results for name, v in r.items.items() if v is not None}
    ran = {o.name for o in outcomes}
    read = {
        node.data
        for ex in m.examples
        if ex.name in ran
        for bound, _ in ex.expects
        for node in bound.walk()
        if node.op == "coef"
    }
    bands = {}
    for coef, model in m.bands.items():
        labels = [label for label, _ in model.bands]
        given = {r.bands.get(coef) for r in results}
        bands[coef] = {
            "given": [x for x in labels if x in given],
            "never": [x for x in labels if x not in given],
        }
    return {
        "items": _part(scored, hit),
        "coefficients": _part([c.name for c in (*m.coefficients, *m.labels)], read),
        "bands": bands,
    }


def _part(names: list[str], covered: set[str]) -> dict[str, Any]:
    return {
        "covered": sum(n in covered for n in names),
        "total": len(names),
        "missing": [n for n in names if n not in covered],
    }


def example_diagnostics(std: CompiledStandard) -> list[Diagnostic]:
    """Every failure of every example of `std`, as diagnostics (`sbm check` adds them)."""
    return [d for outcome in run_examples(std) for d in outcome.failures]


def _records(ex: ExampleModel) -> list[dict[str, Any]]:
    """The example's visits as records: one (`example: NAME`), or one point's several
    (`example: NAME #1`, `#2`, …), the point `example: NAME` unless a `visit { }` block
    gives another."""
    if not ex.earlier:
        return [{"visit_id": f"example: {ex.name}", **ex.visit, "answers": ex.answers}]
    visits = [*ex.earlier, (ex.visit, ex.answers)]
    return [
        {
            "visit_id": f"example: {ex.name} #{k}",
            "point": f"example: {ex.name}",
            **visit,
            "answers": answers,
        }
        for k, (visit, answers) in enumerate(visits, 1)
    ]


def _rejected(ex: ExampleModel, outcome: Any, visit: int | None) -> list[Diagnostic]:
    """E0802 for each error of an example's visit (`visit`: its number, in an
    example of several)."""
    return [
        Diagnostic(
            "E0802",
            message("E0802.rejected.message", example=ex.name, reason=err.message)
            if visit is None
            else message(
                "E0802.rejected_visit.message", example=ex.name, visit=visit, reason=err.message
            ),
            ex.span,
            label=f"`{err.item}`: {err.code}",
            help=message("E0802.rejected.help"),
        )
        for err in outcome.errors
    ]


def _failures(
    interp: Interpreter,
    std: CompiledStandard,
    ex: ExampleModel,
    record: dict[str, Any],
    outcome: Any,
    previous: Any = None,
    scored: list[Any] | None = None,
) -> list[Diagnostic]:
    reader = std.history_reader
    before = reader.of(previous) if reader is not None else None
    read = interp.visit(record, before)[0]
    env = Env(
        record,
        items=dict(outcome.items),
        answers=read.answers,
        sections=dict(outcome.sections),
        coefs={**outcome.coefficients, **outcome.labels},
        options=read.options,
        previous=before or {},
        rollups=_rollups(std, ex, scored or [outcome]),
        critical={i.name: i.name in outcome.critical for i in interp.m.items if i.critical},
    )
    out = []
    for bound, text in ex.expects:
        got = interp.eval(bound, env)
        if got is True:
            continue
        seen = _values(bound, env, interp)
        out.append(
            Diagnostic(
                "E0801",
                message("E0801.failed.message", example=ex.name, expectation=text),
                bound.span,
                label=message("E0801.failed.na") if got is None else message("E0801.failed.label"),
                notes=(message("E0801.failed.computed", values=seen),) if seen else (),
                help=message("E0801.failed.help"),
            )
        )
    return out


def _rollups(std: CompiledStandard, ex: ExampleModel, scored: list[Any]) -> dict[str, Any]:
    """The rollups over the example's visits, when its expectations read one."""
    if not any(node.op == "rollup_ref" for b, _ in ex.expects for node in b.walk()):
        return {}
    from .rollup import rollup

    (group,) = rollup(std.model, scored, "network")["groups"]
    values: dict[str, Any] = group["rollups"]
    return values


def _values(b: Bound, env: Env, interp: Interpreter) -> str:
    """`visit = 0.94, band(visit) = good`: the values an expectation read."""
    shown: dict[str, Any] = {}
    for node in b.walk():
        if node.op in ("item", "section", "coef", "rollup_ref"):
            shown.setdefault(node.data, interp.eval(node, env))
        elif node.op == "answer":
            shown.setdefault(f"answer({node.data})", interp.eval(node, env))
        elif node.op == "call" and node.data[0] in ("band", "critical_failed"):
            key = f"band({node.data[1]})" if node.data[0] == "band" else "critical_failed"
            shown.setdefault(key, interp.eval(node, env))
    return ", ".join(f"{k} = {_show(v)}" for k, v in shown.items())


def _show(v: Any) -> str:
    if v is None:
        return "N/A"
    if isinstance(v, bool):
        return str(v).lower()
    return f"{v:.10g}" if isinstance(v, float) else str(v)
