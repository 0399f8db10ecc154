"""pytest fixtures for pack authors: load standards, score visits, run examples.

Installed with the engine as the pytest plugin `sbm` (entry point group
`pytest11`), so a pack's tests can use the fixtures without any conftest:

    def test_examples(sbm_plugin_manager, sbm_examples):
        sbm_plugin_manager(bank=sbm_bank.plugin)   # only this pack, isolated
        sbm_examples("bank.branch")                # every example block passes

Why the imports are inside the fixtures: every pytest session in an environment
where the engine is installed loads this module, and those sessions (most of
which never touch a standard) should not pay for importing the engine.

Fixtures:

- `sbm_standard(id_or_path | text=...)` → a `CompiledStandard`; a standard that
  does not compile fails the test with the rendered diagnostics.
- `sbm_score(standard, record | records)` → the outcome (one record) or the list
  of outcomes (`ScoredVisit` / `RejectedVisit`), duplicate ids rejected as in a run.
- `sbm_examples(standard)` → runs the standard's `example` blocks and fails the
  test, listing each failed expectation, unless all pass.
- `sbm_plugin_manager(*plugins, **named)` → a fresh plugin manager holding the
  built-in plugin and exactly the given plugins, in use until the test ends.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    import pluggy

    from sbm_engine.examples import ExampleOutcome
    from sbm_engine.results import RejectedVisit, ScoredVisit
    from sbm_engine.standard import CompiledStandard

    Outcome = ScoredVisit | RejectedVisit
    StandardRef = CompiledStandard | str | os.PathLike[str]

__all__ = ["sbm_examples", "sbm_plugin_manager", "sbm_score", "sbm_standard"]


def _load(
    id_or_path: str | os.PathLike[str] | None = None,
    *,
    text: str | None = None,
    file: str = "<test>",
    search_path: Iterable[Path] = (),
    allow_unknown: bool = False,
) -> CompiledStandard:
    """Load a standard by id, path or text; fail the test (not error it) when it does
    not compile, showing the diagnostics as `sbm check` would."""
    import sbm_engine
    from sbm_engine.diagnostics import CompileError
    from sbm_engine.plugins import PluginError
    from sbm_engine.sources import SourceError

    if (id_or_path is None) == (text is None):
        raise TypeError("sbm_standard takes an id or path, or text=..., not both")
    what = f"`{id_or_path}`" if text is None else file
    try:
        if text is not None:
            return sbm_engine.loads(text, file, allow_unknown=allow_unknown)
        assert id_or_path is not None
        return sbm_engine.load(id_or_path, search_path=search_path, allow_unknown=allow_unknown)
    except CompileError as err:
        pytest.fail(f"standard {what} does not compile:\n{err.render()}", pytrace=False)
    except (FileNotFoundError, SourceError, PluginError) as err:
        pytest.fail(str(err), pytrace=False)


def _as_standard(standard: StandardRef) -> CompiledStandard:
    from sbm_engine.standard import CompiledStandard

    return standard if isinstance(standard, CompiledStandard) else _load(standard)


@pytest.fixture
def sbm_standard() -> Callable[..., CompiledStandard]:
    """Factory: `sbm_standard("bank.branch")`, `sbm_standard(path)` or
    `sbm_standard(text="standard t { … }")` → a compiled standard.

    Keywords: `search_path` (extra folders to find ids and bases in),
    `allow_unknown` (accept answer keys the standard does not declare), `file`
    (the name diagnostics show for `text`).
    """
    return _load


@pytest.fixture
def sbm_score() -> Callable[..., Any]:
    """Factory: `sbm_score(standard, record)` → one outcome;
    `sbm_score(standard, [record, …])` → a list of outcomes.

    `standard` is a compiled standard, an id or a path. Records are the JSONL
    input shape (`visit_id`, visit fields, `answers`). Bad records are not
    errors: they come back as `RejectedVisit`s with their reasons, so a test can
    assert on them.
    """

    def score(
        standard: StandardRef, records: Mapping[str, Any] | Iterable[Mapping[str, Any]]
    ) -> Outcome | list[Outcome]:
        std = _as_standard(standard)
        if isinstance(records, Mapping):
            return std.score(records)
        return list(std.score_many(records))

    return score


def _example_report(std: CompiledStandard, failed: list[ExampleOutcome]) -> str:
    lines = [f"{len(failed)} example(s) of {std.id} failed:"]
    for outcome in failed:
        where = f"{outcome.span.file}:{outcome.span.line}" if outcome.span else "?"
        lines.append(f'  example "{outcome.name}" ({where}):')
        lines.extend(f"    - {message}" for message in outcome.messages)
    return "\n".join(lines)


@pytest.fixture
def sbm_examples() -> Callable[..., list[ExampleOutcome]]:
    """Factory: `sbm_examples(standard)` runs its `example` blocks, fails the test
    with every failed expectation (and the values it read) unless all pass, and
    returns the outcomes.

    A standard without examples fails too (a pack's standard should demonstrate
    itself); pass `min_examples=0` to allow it.
    """

    def run(standard: StandardRef, *, min_examples: int = 1) -> list[ExampleOutcome]:
        std = _as_standard(standard)
        outcomes = std.run_examples()
        if len(outcomes) < min_examples:
            pytest.fail(
                f"{std.id} has {len(outcomes)} example(s), expected at least {min_examples}",
                pytrace=False,
            )
        failed = [o for o in outcomes if not o.passed]
        if failed:
            pytest.fail(_example_report(std, failed), pytrace=False)
        return outcomes

    return run


@pytest.fixture
def sbm_plugin_manager() -> Iterator[Callable[..., pluggy.PluginManager]]:
    """Factory: `sbm_plugin_manager(my_plugin, bank=other)` builds a manager with the
    built-in plugin and exactly these plugins (installed packs are left out), makes
    it the one `sbm_engine.load` and friends use until the test ends, and returns it.

    Keywords: `builtin=False` leaves the built-in plugin out too; `entrypoints=True`
    adds the installed packs; `environ=` is read for SBM_DISABLE_PLUGINS and SBM_TRACE
    instead of the process environment. Calling the factory again replaces the manager.
    """
    from contextlib import ExitStack

    from sbm_engine import plugins

    with ExitStack() as stack:

        def make(
            *given: object,
            builtin: bool = True,
            entrypoints: bool = False,
            environ: Mapping[str, str] | None = None,
            **named: object,
        ) -> pluggy.PluginManager:
            return stack.enter_context(
                plugins.using_plugins(
                    *given, builtin=builtin, entrypoints=entrypoints, environ=environ, **named
                )
            )

        yield make
