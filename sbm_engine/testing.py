"""pytest fixtures and helpers for pack authors: load standards, score visits and sample
waves, run examples, check a pack's functions, metadata and sample generator.

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
- `sbm_batch_spy(name=plugin)` → registers the pack as `sbm_plugin_manager` does, the
  batch form of each of its functions recording its calls: `{function: [rows, …]}`.

Helpers, imported from this module (`from sbm_engine.testing import …`):

- `pack_fixture(name=plugin)`, `standard_fixture(id)` → the fixtures of a pack's
  conftest: every test sees exactly this pack; a fixture for its standard.
- `rejected(standard, record)` → the errors of a record that must be rejected; fails the
  test if it is scored.
- `score_sample_wave(standard, wave, codes)` → scores a generated sample wave and fails
  unless every record has an outcome, exactly the planted bad records are rejected,
  each with its expected error code, and no scored visit carries a warning.
- `assert_batch_agrees(standard, records)` → the numpy batch evaluator gives exactly the
  outcomes of the per-visit path (skipped without numpy).
- `assert_forms_agree(scalar, batch, *columns)` → a pack function's scalar and batch
  forms agree row by row, N/A included.
- `assert_spec_coefficients(standard)` → the standard defines `SPEC_COEFFICIENTS`, the
  coefficients every industry standard reports.
- `check_seeded(generate)`, `check_sample_command(main, generate)` → a sample generator
  gives the same records for the same seed and others for another; its command writes
  them as JSONL.
- `check_pack_metadata(pack_dir, plugin, module)` → the pack's pyproject.toml declares
  what the engine needs; `plugin_row(name)` → what `sbm plugins` lists for it.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import os
import tempfile
import tomllib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    import pluggy

    from sbm_engine.examples import ExampleOutcome
    from sbm_engine.results import RejectedVisit, ScoredVisit
    from sbm_engine.runtime import VisitError
    from sbm_engine.standard import CompiledStandard

    Outcome = ScoredVisit | RejectedVisit
    StandardRef = CompiledStandard | str | os.PathLike[str]

__all__ = [
    "SPEC_COEFFICIENTS",
    "assert_batch_agrees",
    "assert_forms_agree",
    "assert_spec_coefficients",
    "check_pack_metadata",
    "check_sample_command",
    "check_seeded",
    "pack_fixture",
    "plugin_row",
    "rejected",
    "sbm_batch_spy",
    "sbm_examples",
    "sbm_plugin_manager",
    "sbm_score",
    "sbm_standard",
    "score_sample_wave",
    "standard_fixture",
]


#: The coefficients every industry standard defines, the ones the reports and the
#: dashboards read: the three dimensions, the scores of the specialist and the point, the
#: shopper's own impression and the visit as a whole.
SPEC_COEFFICIENTS: tuple[str, ...] = (
    "compliance",
    "professionalism",
    "client_orientation",
    "specialist",
    "point",
    "subjective",
    "visit",
)


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


class _Hooks:
    """A plugin made of the given hook implementations (attributes, not methods)."""

    def __init__(self, **hooks: Callable[..., Any]) -> None:
        self.__dict__.update(hooks)


@pytest.fixture
def sbm_batch_spy(
    sbm_plugin_manager: Callable[..., pluggy.PluginManager],
) -> Callable[..., dict[str, list[int]]]:
    """Factory: `calls = sbm_batch_spy(bank=plugin)` registers the pack under its name, as
    `sbm_plugin_manager` does, with the batch form of each function it adds wrapped to
    record its calls, and returns them: function name -> the number of rows of each call
    (the length of its first array argument). For testing that the batch evaluator calls a
    pack's batch form rather than falling back to the scalar one.
    """
    import attrs

    from sbm_engine.hookspecs import PROJECT, hookimpl

    def make(**named: object) -> dict[str, list[int]]:
        ((name, plugin),) = named.items()
        calls: dict[str, list[int]] = {}

        def spied(spec: Any) -> Any:
            def batch(*args: Any) -> Any:
                rows = next((len(a) for a in args if getattr(a, "ndim", 0)), 1)
                calls.setdefault(spec.name, []).append(rows)
                return spec.batch(*args)

            return attrs.evolve(spec, batch=batch) if spec.batch is not None else spec

        @hookimpl
        def sbm_functions() -> list[Any]:
            return [spied(spec) for spec in plugin.sbm_functions()]  # type: ignore[attr-defined]

        hooks = {
            attr: getattr(plugin, attr)
            for attr in dir(plugin)
            if hasattr(getattr(plugin, attr), f"{PROJECT}_impl")
        }
        hooks["sbm_functions"] = sbm_functions
        sbm_plugin_manager(**{name: _Hooks(**hooks)})
        return calls

    return make


# -- helpers ------------------------------------------------------------------------------------


def pack_fixture(**named: object) -> Any:
    """The autouse fixture of a pack's conftest: every test sees the built-in plugin and
    exactly this pack, registered under its entry point's name, whatever is installed.

        only_this_pack = pack_fixture(bank=plugin)    # in tests/conftest.py

    A test that asks for it by name gets the plugin manager.
    """

    @pytest.fixture(autouse=True)
    def only_this_pack(sbm_plugin_manager: Callable[..., pluggy.PluginManager]) -> Any:
        return sbm_plugin_manager(**named)

    return only_this_pack


def standard_fixture(id_or_path: str | os.PathLike[str], **kwargs: Any) -> Any:
    """A fixture giving the compiled standard (as `sbm_standard(id_or_path, **kwargs)`):

    branch = standard_fixture("bank.branch")    # in tests/conftest.py
    """

    @pytest.fixture
    def standard(sbm_standard: Callable[..., CompiledStandard]) -> CompiledStandard:
        return sbm_standard(id_or_path, **kwargs)

    return standard


def rejected(standard: StandardRef, record: Mapping[str, Any]) -> tuple[VisitError, ...]:
    """Score one record and return its errors (each with `item`, `code`, `message`); fail
    the test, showing the scores, if the record is scored instead of rejected."""
    from sbm_engine.results import RejectedVisit

    std = _as_standard(standard)
    outcome = std.score(record)
    if not isinstance(outcome, RejectedVisit):
        pytest.fail(
            f"{outcome.visit_id} was scored, not rejected: {outcome.coefficients}", pytrace=False
        )
    return tuple(outcome.errors)


def _records(wave: Any) -> list[Mapping[str, Any]]:
    return list(wave.records if hasattr(wave, "records") else wave)


def score_sample_wave(standard: StandardRef, wave: Any, codes: Mapping[str, str]) -> list[Outcome]:
    """Score a generated sample wave and return the outcomes, failing the test unless
    nothing is lost and exactly what was planted is rejected: one outcome per record;
    rejected, exactly the records `wave.bad` names (visit_id -> the kind of defect), each
    with the error code `codes[kind]` among its errors; no warnings on the scored visits.

    `wave` is what `sbm_engine.sample_waves` generators return (`SampleWave`, `Wave`).
    """
    from sbm_engine.results import RejectedVisit, ScoredVisit

    std = _as_standard(standard)
    records = _records(wave)
    outcomes: list[Outcome] = list(std.score_many(records))
    planted: Mapping[str, str] = wave.bad
    problems: list[str] = []
    if len(outcomes) != len(records):
        problems.append(f"{len(records)} records, but {len(outcomes)} outcomes")
    rejected = {o.visit_id: o for o in outcomes if isinstance(o, RejectedVisit)}
    for vid in sorted(set(rejected) - set(planted)):
        errors = ", ".join(f"{e.item}: {e.code}" for e in rejected[vid].errors)
        problems.append(f"{vid} was rejected, but nothing was planted in it ({errors})")
    for vid in sorted(set(planted) - set(rejected)):
        problems.append(f"{vid} was scored, but {planted[vid]!r} was planted in it")
    for vid, kind in planted.items():
        if vid in rejected:
            found = [e.code for e in rejected[vid].errors]
            if codes[kind] not in found:
                problems.append(f"{vid} ({kind}) was rejected with {found}, not {codes[kind]!r}")
    for o in outcomes:
        if isinstance(o, ScoredVisit) and o.warnings:
            problems.append(f"{o.visit_id} was scored with warnings: {list(o.warnings)}")
    if problems:
        pytest.fail(f"the sample wave of {std.id}:\n  " + "\n  ".join(problems), pytrace=False)
    return outcomes


def assert_batch_agrees(
    standard: StandardRef,
    records: Iterable[Mapping[str, Any]],
    outcomes: Sequence[Outcome] | None = None,
) -> list[Outcome]:
    """Fail unless the numpy batch evaluator gives exactly the outcomes of the per-visit
    path (`outcomes`, or `score_many` of the records); return the per-visit outcomes.
    Skips the test where numpy is not installed."""
    pytest.importorskip("numpy")
    from sbm_engine.batch import BatchEvaluator

    std = _as_standard(standard)
    rows = _records(records)
    scalar = list(outcomes) if outcomes is not None else list(std.score_many(rows))
    batch = BatchEvaluator(std).score_records(rows)
    if len(batch) != len(scalar):
        pytest.fail(f"{len(batch)} batch outcomes, {len(scalar)} per visit", pytrace=False)
    for k, (fast, slow) in enumerate(zip(batch, scalar, strict=True)):
        if fast.to_dict() != slow.to_dict():
            pytest.fail(
                f"record {k} ({slow.visit_id}): the batch evaluator gives\n  {fast.to_dict()}\n"
                f"the per-visit path\n  {slow.to_dict()}",
                pytrace=False,
            )
    return scalar


def _show(value: Any) -> str:
    """A value as Python writes it, a numpy scalar as the plain value it holds."""
    return repr(value.item() if hasattr(value, "item") and not isinstance(value, str) else value)


def _is_na(value: Any, np: Any) -> bool:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return True
    return isinstance(value, np.datetime64) and bool(np.isnat(value))


def assert_forms_agree(
    scalar: Callable[..., Any],
    batch: Callable[..., Any],
    *columns: Any,
    call_with_na: bool = False,
    approx: bool = False,
) -> Any:
    """Call `batch` once on the columns and `scalar` on each row; fail unless they agree
    row by row, and return the batch form's array.

    Columns: numpy arrays, sequences (passed as object arrays) or single values (passed as
    they are, the same in every row, as the engine passes constants). Agreement: where
    the scalar form gives N/A (None), the batch form gives NaN or None; a bool, the same
    bool; any other value, the same value (exactly, or `pytest.approx` with
    ``approx=True``). As the engine does for a function that is not `na_aware`, a row
    with an N/A argument (None, NaN, NaT) is N/A without calling the scalar form;
    ``call_with_na=True`` calls it there too (an `na_aware` function, or a scalar form
    that handles N/A itself and is to be held to it).
    """
    np = pytest.importorskip("numpy")
    arrays = [
        c if isinstance(c, np.ndarray) or np.ndim(c) == 0 else np.array(list(c), dtype=object)
        for c in columns
    ]
    length = next((len(a) for a in arrays if np.ndim(a)), None)
    if length is None:
        raise TypeError("assert_forms_agree needs a column of values, not only constants")
    out = batch(*arrays)
    rows = np.asarray(out).tolist()
    if len(rows) != length:
        pytest.fail(f"{length} rows in, {len(rows)} out of the batch form", pytrace=False)
    problems = []
    for k, got in enumerate(rows):
        args = [a[k] if np.ndim(a) else a for a in arrays]
        want = None if not call_with_na and any(_is_na(a, np) for a in args) else scalar(*args)
        if want is None:
            same = got is None or (isinstance(got, float) and math.isnan(got))
        elif isinstance(want, bool):
            same = got is want
        else:
            same = got == (pytest.approx(want) if approx else want)
        if not same:
            shown = ", ".join(_show(a) for a in args)
            problems.append(f"row {k} ({shown}): scalar {_show(want)}, batch {_show(got)}")
    if problems:
        name = getattr(scalar, "__name__", "the function")
        pytest.fail(f"the forms of {name} disagree:\n  " + "\n  ".join(problems), pytrace=False)
    return out


def check_pack_metadata(pack: str | os.PathLike[str], plugin: str, module: str) -> dict[str, Any]:
    """Read the pack's `pyproject.toml` (in the folder `pack`) and fail unless it declares
    what the engine needs: the entry point group `sbm` holding exactly ``plugin =
    "module"``, a dependency on `sbm-engine`, and, built with hatchling, a wheel shipping
    the package folder `src/<package>` whole (the standards inside it go along). Returns
    the parsed file, for the pack's own checks."""
    meta = tomllib.loads((Path(pack) / "pyproject.toml").read_text(encoding="utf-8"))
    project = meta.get("project", {})
    problems = []
    group = project.get("entry-points", {}).get("sbm")
    if group != {plugin: module}:
        problems.append(f"[project.entry-points.sbm] is {group}, not {{{plugin!r}: {module!r}}}")
    if not any(
        d.replace(" ", "").startswith("sbm-engine") for d in project.get("dependencies", ())
    ):
        problems.append("[project] dependencies do not name sbm-engine")
    wheel = meta.get("tool", {}).get("hatch", {}).get("build", {}).get("targets", {})
    packages = wheel.get("wheel", {}).get("packages")
    package = f"src/{module.split('.')[0]}"
    if "hatch" in meta.get("tool", {}) and packages != [package]:
        problems.append(
            f"[tool.hatch.build.targets.wheel] packages is {packages}, not [{package!r}]"
        )
    if problems:
        pytest.fail(f"{Path(pack) / 'pyproject.toml'}:\n  " + "\n  ".join(problems), pytrace=False)
    return meta


def plugin_row(name: str) -> dict[str, Any]:
    """What `sbm plugins --format json` lists for the plugin `name` (standards, functions,
    hooks, …); fails the test when no plugin has that name."""
    from sbm_engine.plugins import describe_plugins

    rows = describe_plugins()
    for row in rows:
        if row["name"] == name:
            return row
    pytest.fail(f"no plugin {name!r}: {[r['name'] for r in rows]}", pytrace=False)


def assert_spec_coefficients(standard: StandardRef, *more: str) -> None:
    """Fail unless the standard defines every coefficient of `SPEC_COEFFICIENTS` and of
    `more` (the pack's own)."""
    std = _as_standard(standard)
    missing = [c for c in (*SPEC_COEFFICIENTS, *more) if c not in std.coefficient_names]
    if missing:
        pytest.fail(f"{std.id} does not define the coefficients {missing}", pytrace=False)


def _dump(wave: Any) -> str:
    return json.dumps(_records(wave), ensure_ascii=False)


def check_seeded(generate: Callable[[int, int], Any], n: int = 100, seed: int = 5) -> None:
    """Fail unless ``generate(n, seed)`` gives the same records, byte for byte, every time
    and other records for the next seed."""
    first = _dump(generate(n, seed))
    if first != _dump(generate(n, seed)):
        pytest.fail(f"two waves of seed {seed} differ", pytrace=False)
    if first == _dump(generate(n, seed + 1)):
        pytest.fail(f"the waves of seeds {seed} and {seed + 1} are the same", pytrace=False)


def check_sample_command(
    main: Callable[[Sequence[str]], int],
    generate: Callable[[int, int], Any],
    n: int = 20,
    seed: int = 3,
) -> str:
    """Run a pack's sample command (``main(["-n", n, "--seed", seed, "-o", FILE])``) and fail
    unless it exits with 0 having written the records of ``generate(n, seed)`` as JSON
    lines; returns what it wrote to stderr (the wave's summary)."""
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "wave.jsonl"
        err = io.StringIO()
        with contextlib.redirect_stderr(err):
            status = main(["-n", str(n), "--seed", str(seed), "-o", str(out)])
        if status != 0:
            pytest.fail(f"the command exited with {status}: {err.getvalue()}", pytrace=False)
        written = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    expected = _records(generate(n, seed))
    if written != expected:
        pytest.fail(
            f"the command wrote {len(written)} records, not the {len(expected)} of "
            f"generate({n}, {seed})",
            pytrace=False,
        )
    return err.getvalue()
