"""Hook specifications: the whole contract between the engine and its plugins.

A plugin is a module (or object) with functions marked `@hookimpl` whose names
are the hooks below; it is found through the `sbm` entry-point group, e.g. in the
pack's `pyproject.toml`:

    [project.entry-points.sbm]
    bank = "sbm_bank.plugin"

Each docstring here is the plugin author's documentation. A hook implementation
may take any subset of a hook's arguments, by name. An implementation named like
no hook here is an error at start-up, so a misspelt hook fails loudly.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    from .functions import FunctionSpec
    from .io.records import SourceRecord
    from .model import StandardModel
    from .runtime import VisitError

PROJECT = "sbm"

hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)

#: A visit validator: takes the record as read, returns errors (empty when fine).
Validator = Callable[[Mapping[str, Any]], Iterable["VisitError"]]
#: A reader: a path and options to visit records with their sources.
Reader = Callable[..., Iterator["SourceRecord"]]


@hookspec
def sbm_standards() -> Iterable[Path]:
    """The standards a pack ships: `.sbm` files or folders holding them.

    Each file's `standard NAME` is the id users load it by (`sbm check bank.branch`);
    a pack's ids should start with the pack's short name. Folders are searched
    recursively. Files a pack ships may `import` each other and the standards
    library, but never outside their own folder.

    Example::

        @hookimpl
        def sbm_standards():
            return [Path(__file__).parent / "standards"]
    """
    raise NotImplementedError  # a specification: pluggy calls the implementations


@hookspec
def sbm_functions() -> Iterable[FunctionSpec]:
    """Functions the pack adds to the language, as `FunctionSpec`s.

    A spec gives the name, the parameter and result types (`"num"`, `"bool"`,
    `"str"`) the checker enforces, a scalar form called with plain Python values
    per visit, and optionally a batch form called with numpy arrays (NaN or None
    entries for N/A) by the vectorized evaluator. Without a batch form the engine
    calls the scalar form row by row and says so once. N/A in any argument gives
    N/A without calling the function, unless the spec sets `na_aware=True`.

    Example::

        @hookimpl
        def sbm_functions():
            return [FunctionSpec("minutes_between", ("str", "str"), "num", minutes_between)]
    """
    raise NotImplementedError  # a specification: pluggy calls the implementations


@hookspec
def sbm_visit_validators(standard: StandardModel) -> Iterable[Validator]:
    """Extra checks of each visit record for `standard`, run before scoring.

    Called once when a standard is compiled; return validators only for the
    standards the pack knows, e.g. `if standard.name.startswith("bank.")` (checking
    the industry instead would also reject other authors' bank standards).
    Each validator receives the record as read and returns `VisitError`s; any
    error rejects the visit, with the others the engine found.
    """
    raise NotImplementedError  # a specification: pluggy calls the implementations


@hookspec
def sbm_readers() -> Mapping[str, Reader]:
    """Input readers by file extension (with the dot, e.g. `".kc"`), beside the
    built-in `.jsonl`, `.csv`, `.xlsx` and `.parquet`.

    A reader is called as `reader(path, visit_fields=..., **options)` and yields
    `SourceRecord`s: the canonical visit record, where it was read (`file:line`),
    the raw input, and an error message instead of a record when the input could
    not be read (it then lands in the rejects, never silently dropped).
    """
    raise NotImplementedError  # a specification: pluggy calls the implementations


@hookspec
def sbm_writers() -> Mapping[str, type]:
    """Output writers by file extension: classes used as context managers with
    `write(record: dict)`, constructed as `cls(path, columns=None)`; they must
    write to a temporary file and rename it on success, so outputs appear whole
    or not at all.
    """
    raise NotImplementedError  # a specification: pluggy calls the implementations
