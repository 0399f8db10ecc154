"""The plugin layer: one pluggy manager, and the checked tables the engine reads from it.

Why a module between the engine and the hooks: a hook returns whatever a pack
author wrote, and the engine must not discover a broken pack in the middle of a
million-visit run. Here every hook answer is checked and merged once, and any
problem (a misspelt hook, two packs shipping one standard id or one function, a
reader for an extension the engine already reads) raises `PluginError` naming the
plugin at fault, at start-up.

The rest of the engine uses only the helpers below, never `pm.hook` directly:

- `standard_provider()`: `{id: path}` of every standard the packs ship (a
  `loader.StandardProvider`);
- `function_registry()`: the packs' DSL functions, each tagged with its plugin;
- `visit_validators(model)`: the packs' extra checks of visit records;
- `readers()` / `writers()`: file formats by extension (`io_readers()` adapts the
  readers to `sbm_engine.io`'s calling convention);
- `describe_plugins()` / `format_plugins_table()`: what `sbm plugins` shows.

Discovery: the built-in plugin (`sbm_engine.builtin_plugin`) is registered first,
like any other, then every entry point of the group `sbm`. Two environment
variables, read when the manager is built:

- `SBM_DISABLE_PLUGINS=bank,salon` blocks plugins by name (the entry-point name;
  `*` for every installed pack);
- `SBM_TRACE=1` writes every hook call and its result to stderr.

The manager and the tables are built once per process (thread-safe) and cached;
`using_plugins(...)` swaps in a manager with chosen plugins for tests, and
`reset_plugin_manager()` forgets the cache (e.g. after installing a pack into a
running notebook).
"""

from __future__ import annotations

import inspect
import itertools
import os
import re
import sys
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple, TypeVar

import attrs
import pluggy

from . import hookspecs
from .functions import FunctionRegistry, FunctionSpec
from .hookspecs import PROJECT, Reader, Validator
from .io.readers import io_convention, keyword_reader
from .messages import message
from .sources import SourceError, read_source

if TYPE_CHECKING:
    import importlib.metadata

    from .io.records import SourceRecord
    from .model import StandardModel
    from .runtime import VisitError

__all__ = [
    "BUILTIN_NAME",
    "ENTRY_POINT_GROUP",
    "PluginError",
    "PluginValidator",
    "describe_plugins",
    "disabled_plugins",
    "format_plugins_table",
    "function_registry",
    "generation",
    "get_plugin_manager",
    "hook_names",
    "io_readers",
    "keyword_reader",
    "make_plugin_manager",
    "override",
    "readers",
    "reset_plugin_manager",
    "standard_provider",
    "trace_enabled",
    "using_manager",
    "using_plugins",
    "visit_validators",
    "writers",
]

#: The entry-point group packs declare themselves in (`[project.entry-points.sbm]`).
ENTRY_POINT_GROUP = PROJECT
#: The name the engine's own plugin is registered under (it can be disabled like any other).
BUILTIN_NAME = "builtin"
#: The distribution that ships the built-in plugin.
ENGINE_DISTRIBUTION = "sbm-engine"

_VALUE_TYPES = ("num", "bool", "str")
_HEADER = re.compile(r"^\s*standard\s+([\w.]+)", re.MULTILINE | re.UNICODE)
_FALSE_WORDS = frozenset({"", "0", "false", "no", "off"})
_OVERRIDE_ATTR = "__sbm_override__"

T = TypeVar("T")


class PluginError(RuntimeError):
    """A pack is broken or two packs conflict; the message names the plugins at fault.

    The CLI reports it like a bad standard (exit status 2): nothing can be done
    until the pack is fixed, uninstalled or disabled with SBM_DISABLE_PLUGINS.
    """


# ---- the manager ------------------------------------------------------------------------------


@attrs.define(eq=False)
class _Active:
    """The manager in use and the tables derived from it (computed on first use)."""

    pm: pluggy.PluginManager
    generation: int
    cache: dict[str, Any] = attrs.Factory(dict)
    lock: threading.RLock = attrs.Factory(threading.RLock)

    def derived(self, key: str, compute: Callable[[pluggy.PluginManager], T]) -> T:
        with self.lock:
            if key not in self.cache:
                self.cache[key] = compute(self.pm)
            return self.cache[key]  # type: ignore[no-any-return]


_lock = threading.RLock()
_active: _Active | None = None
_building = False
_generations = itertools.count(1)


def hook_names() -> list[str]:
    """The names of every hook in the contract (`sbm_engine.hookspecs`), sorted."""
    marker = f"{PROJECT}_spec"
    return sorted(name for name in dir(hookspecs) if hasattr(getattr(hookspecs, name), marker))


def disabled_plugins(environ: Mapping[str, str] | None = None, *, expand: bool = True) -> list[str]:
    """The plugin names listed in SBM_DISABLE_PLUGINS (comma-separated).

    `*` stands for every installed pack (every entry point of the group `sbm`),
    not the built-in plugin: a run, or a test suite, that must not depend on what
    happens to be installed. With `expand=False` it is left out instead.
    """
    env = os.environ if environ is None else environ
    names = [name.strip() for name in env.get("SBM_DISABLE_PLUGINS", "").split(",")]
    out: list[str] = []
    for name in names:
        if name != "*":
            expanded = [name]
        elif expand:
            expanded = [d.name for d in _declared()]
        else:
            expanded = []
        out.extend(n for n in expanded if n and n not in out)
    return out


def trace_enabled(environ: Mapping[str, str] | None = None) -> bool:
    """Whether SBM_TRACE asks for hook calls to be traced (any value but 0/false/no/off)."""
    env = os.environ if environ is None else environ
    return env.get("SBM_TRACE", "").strip().lower() not in _FALSE_WORDS


def _stderr_write(text: str) -> None:
    # Looked up at each call so that redirected or captured stderr (pytest) sees it.
    sys.stderr.write(text)


def make_plugin_manager(
    *plugins: object,
    builtin: bool = True,
    entrypoints: bool = True,
    environ: Mapping[str, str] | None = None,
    **named: object,
) -> pluggy.PluginManager:
    """Build a checked manager: the built-in plugin, `plugins`, then installed packs.

    Positional `plugins` are registered under their canonical name (a module's
    `__name__`), keyword ones under the given name (`bank=module`). SBM_DISABLE_PLUGINS
    and SBM_TRACE are read from `environ` (default: the process environment).
    Raises `PluginError` for a plugin that cannot be loaded or implements a hook
    that does not exist.
    """
    env = os.environ if environ is None else environ
    pm = _Manager(PROJECT)
    pm.add_hookspecs(hookspecs)
    blocked = disabled_plugins(env, expand=entrypoints)
    if not entrypoints:  # isolated: only the plugins being registered can be blocked
        given = {*named, *(pm.get_canonical_name(p) for p in plugins)}
        given |= {BUILTIN_NAME} if builtin else set()
        blocked = [name for name in blocked if name in given]
    for name in blocked:
        pm.set_blocked(name)
    if trace_enabled(env):
        pm.trace.root.setwriter(_stderr_write)
        pm.enable_tracing()
    if builtin:
        from . import builtin_plugin

        _register(pm, builtin_plugin, BUILTIN_NAME)
    for plugin in plugins:
        _register(pm, plugin, None)
    for name, plugin in named.items():
        _register(pm, plugin, name)
    if entrypoints:
        _load_entrypoints(pm)
    _check_pending(pm)
    return pm


def _register(pm: pluggy.PluginManager, plugin: object, name: str | None) -> None:
    shown = name or pm.get_canonical_name(plugin)
    try:
        pm.register(plugin, name=name)  # returns None, quietly, when the name is blocked
    except pluggy.PluginValidationError as exc:
        raise PluginError(message("plugin.bad_contract", plugin=repr(shown), error=exc)) from exc
    except ValueError as exc:
        raise PluginError(message("plugin.not_registered", plugin=repr(shown), error=exc)) from exc


def _entry_points() -> list[tuple[importlib.metadata.EntryPoint, importlib.metadata.Distribution]]:
    """The `sbm` entry points of installed distributions, in the order pluggy loads them."""
    import importlib.metadata

    found = []
    for dist in importlib.metadata.distributions():
        for ep in dist.entry_points:
            if ep.group == ENTRY_POINT_GROUP:
                found.append((ep, dist))
    return found


class _Declared(NamedTuple):
    """An `sbm` entry point as installed: what loading and naming its plugin take."""

    name: str
    value: str  # `module:attribute`
    distribution: str
    version: str


def _declared() -> list[_Declared]:
    """The `sbm` entry points of installed distributions, in the order pluggy would
    load them, kept in the cache folder under a key that changes with any install.

    Why: finding them means importing `importlib.metadata` and reading every installed
    distribution's metadata, a good part of the start-up of `sbm`, for an answer that
    changes only when something is installed or removed. The key (`_installations`)
    names every distribution on `sys.path` with its folder's and its entry points
    file's identity, size and time of change."""
    from . import cache

    key = _installations()
    name = None if key is None else f"entry-points-{cache.digest(key)}"
    if name is not None:
        kept = cache.stored(name)
        if isinstance(kept, list) and all(
            isinstance(d, tuple) and len(d) == 4 and all(type(v) is str for v in d) for d in kept
        ):
            cache.used(name)
            return [_Declared(*d) for d in kept]
    found = [
        _Declared(ep.name, ep.value, _dist_name(dist), str(dist.version))
        for ep, dist in _entry_points()
    ]
    if name is not None:
        cache.store(name, [tuple(d) for d in found])
        cache.prune("entry-points-", _KEPT_SCANS)
    return found


#: Entry-point scans kept in the cache folder (one per environment and install state).
_KEPT_SCANS = 16


def _installations() -> tuple[Any, ...] | None:
    """What `importlib.metadata` reads the installed distributions from, as a key: for
    each `sys.path` entry, its metadata folders (`*.dist-info`, `*.egg-info`) with the
    device, inode, size and time of change of each and of its `entry_points.txt`.
    Installing, upgrading or removing a distribution adds, replaces or removes such a
    folder; editing its entry points changes the file. None (no caching) when
    distributions may come from elsewhere: a zip or egg file on `sys.path`, or an
    import hook that provides distributions (other than the finders of `sys.path`'s
    folders: the standard library's and that of the `importlib_metadata` backport,
    which some packages import)."""
    for finder in sys.meta_path:
        if hasattr(finder, "find_distributions") and not _path_finder(finder):
            return None
    key: list[Any] = [sys.version]
    for entry in sys.path:
        folder = entry or os.curdir
        try:
            if not os.path.isdir(folder):
                if os.path.exists(folder):
                    return None
                key.append((entry, None))
                continue
            found = []
            with os.scandir(folder) as items:
                for item in items:
                    if item.name.endswith((".dist-info", ".egg-info")):
                        points = os.path.join(item.path, "entry_points.txt")
                        found.append((item.name, _identity(item.path), _identity(points)))
            key.append((entry, os.path.abspath(folder), sorted(found)))
        except OSError:
            return None
    return tuple(key)


def _path_finder(finder: object) -> bool:
    """Whether `finder` finds distributions in `sys.path`'s folders, as
    `importlib.metadata` does."""
    import importlib.machinery

    kind = finder if isinstance(finder, type) else type(finder)
    if kind is importlib.machinery.PathFinder:
        return True
    return kind.__name__ == "MetadataPathFinder" and kind.__module__.startswith(
        "importlib_metadata"
    )


def _identity(path: str) -> tuple[int, ...] | None:
    try:
        info = os.stat(path)
    except OSError:
        return None
    return (info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns)


#: An entry point's value, as `importlib.metadata.EntryPoint` reads it.
_ENTRY_VALUE = re.compile(
    r"(?P<module>[\w.]+)\s*(:\s*(?P<attr>[\w.]+)\s*)?((?P<extras>\[.*\])\s*)?$"
)


def _load_value(value: str) -> object:
    """The object an entry point's value names (`EntryPoint.load`)."""
    import functools
    import importlib

    match = _ENTRY_VALUE.match(value)
    if match is None:
        raise ValueError(f"not an entry point value: {value!r}")
    module = importlib.import_module(match.group("module"))
    names = (match.group("attr") or "").split(".")
    return functools.reduce(getattr, filter(None, names), module)


class _Manager(pluggy.PluginManager):
    """pluggy's manager, which also knows the distribution of each pack loaded from an
    installed distribution (pluggy's `list_plugin_distinfo` knows those it loads
    itself)."""

    def __init__(self, project_name: str) -> None:
        super().__init__(project_name)
        self.distributions: dict[str, tuple[str, str]] = {}


def plugin_distributions(pm: pluggy.PluginManager) -> dict[int, tuple[str, str]]:
    """`(distribution, version)` of each plugin that came from an installed
    distribution, by the plugin's `id`."""
    found = {id(p): (str(d.project_name), str(d.version)) for p, d in pm.list_plugin_distinfo()}
    for name, dist in getattr(pm, "distributions", {}).items():
        plugin = pm.get_plugin(name)
        if plugin is not None:
            found[id(plugin)] = dist
    return found


def _dist_name(dist: Any) -> str:
    return str(dist.metadata["Name"] or "?")


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _load_entrypoints(pm: _Manager) -> None:
    """What `pm.load_setuptools_entrypoints("sbm")` does, from the cached scan, with
    conflicts and failures named.

    pluggy silently skips a second distribution declaring a name already taken,
    and reports an import error without saying which pack it came from; both
    deserve a clear message here.
    """
    declared = _declared()
    owners: dict[str, str] = {}
    for d in declared:
        other = owners.setdefault(d.name, d.distribution)
        if _canonical(other) != _canonical(d.distribution):
            raise PluginError(
                message(
                    "plugin.two_distributions",
                    plugin=repr(d.name),
                    first=other,
                    second=d.distribution,
                )
            )
    for d in declared:
        if pm.get_plugin(d.name) is not None or pm.is_blocked(d.name):
            continue  # as pluggy: a name registered or blocked is not loaded
        try:
            pm.register(_load_value(d.value), name=d.name)
        except Exception as exc:
            raise PluginError(
                message(
                    "plugin.load_failed",
                    plugin=repr(d.name),
                    value=d.value,
                    distribution=d.distribution,
                    version=d.version,
                    error=f"{type(exc).__name__}: {exc}",
                    name=d.name,
                )
            ) from exc
        pm.distributions[d.name] = (d.distribution, d.version)


def _check_pending(pm: pluggy.PluginManager) -> None:
    """`pm.check_pending()`, but saying which plugin misspelt which hook, and what it
    probably meant."""
    from .diagnostics import did_you_mean

    known = hook_names()
    problems = []
    for hook_name, caller in vars(pm.hook).items():
        if hook_name.startswith("_") or caller.has_spec():
            continue
        for impl in caller.get_hookimpls():
            if impl.optionalhook:
                continue
            plugin = pm.get_name(impl.plugin) or pm.get_canonical_name(impl.plugin)
            where = getattr(impl.function, "__module__", None) or "?"
            hint = did_you_mean(hook_name, known)
            problems.append(
                message("plugin.not_a_hook", plugin=repr(plugin), module=where, hook=hook_name)
                + (message("plugin.did_you_mean", name=hint) if hint else "")
            )
    if problems:
        hooks = message("plugin.hooks_are", hooks=", ".join(known))
        raise PluginError("\n".join([*problems, hooks]))
    pm.check_pending()


def get_plugin_manager() -> pluggy.PluginManager:
    """The process-wide manager, built on first use (thread-safe) and then cached."""
    return _state().pm


def _state() -> _Active:
    global _active, _building
    active = _active
    if active is not None:
        return active
    with _lock:
        if _active is None:
            if _building:
                raise PluginError(message("plugin.reentrant"))
            _building = True
            try:
                pm = make_plugin_manager()
            finally:
                _building = False
            _active = _Active(pm, next(_generations))
        return _active


def generation() -> int:
    """A number that changes whenever the manager in use changes (for caches keyed on it)."""
    return _state().generation


def reset_plugin_manager() -> None:
    """Forget the cached manager: the next use rediscovers packs and rereads the environment."""
    global _active
    with _lock:
        _active = None


@contextmanager
def using_manager(pm: pluggy.PluginManager) -> Iterator[pluggy.PluginManager]:
    """Make `pm` the process-wide manager inside the block, then restore the previous one.

    Meant for tests: it is global, so other threads see the swap too.
    """
    global _active
    with _lock:
        previous = _active
        _active = _Active(pm, next(_generations))
    try:
        yield pm
    finally:
        with _lock:
            _active = previous


@contextmanager
def using_plugins(
    *plugins: object,
    builtin: bool = True,
    entrypoints: bool = False,
    environ: Mapping[str, str] | None = None,
    **named: object,
) -> Iterator[pluggy.PluginManager]:
    """Use a fresh manager holding the built-in plugin and `plugins` inside the block.

    Installed packs are left out unless `entrypoints=True`, so a test sees exactly
    the plugins it names whatever is installed in the environment.

        with using_plugins(bank=my_plugin_module):
            std = sbm_engine.load("bank.branch")
    """
    pm = make_plugin_manager(
        *plugins, builtin=builtin, entrypoints=entrypoints, environ=environ, **named
    )
    with using_manager(pm) as active:
        yield active


# ---- calling hooks one plugin at a time ------------------------------------------------------


def _per_plugin(pm: pluggy.PluginManager, hook_name: str, **kwargs: Any) -> list[tuple[str, Any]]:
    """Call a hook plugin by plugin: [(plugin name, its result)], in registration order.

    pluggy merges the results of all plugins and drops `None`s, which loses who
    said what; conflicts must name the plugins, so each is called through a subset
    caller (still traced by SBM_TRACE). A hook that raises becomes a `PluginError`.
    """
    caller = getattr(pm.hook, hook_name)
    impls = caller.get_hookimpls()
    everyone = [impl.plugin for impl in impls]
    out: list[tuple[str, Any]] = []
    for impl in impls:
        name = pm.get_name(impl.plugin) or pm.get_canonical_name(impl.plugin)
        subset = pm.subset_hook_caller(hook_name, [p for p in everyone if p is not impl.plugin])
        try:
            results = subset(**kwargs)
        except PluginError:
            raise
        except Exception as exc:
            raise PluginError(
                message(
                    "plugin.hook_failed",
                    plugin=repr(name),
                    hook=hook_name,
                    error=f"{type(exc).__name__}: {exc}",
                )
            ) from exc
        out.extend((name, result) for result in results)
    out.sort(key=lambda pair: pair[0] != BUILTIN_NAME)  # stable: built-in first, then as called
    return out


def _many(plugin: str, hook_name: str, result: Any) -> list[Any]:
    """A hook's iterable answer as a list (a lone path or string counts as one entry)."""
    if isinstance(result, str | os.PathLike):
        return [result]
    try:
        return list(result)
    except TypeError:
        raise PluginError(
            message("plugin.not_iterable", plugin=repr(plugin), hook=hook_name, value=repr(result))
        ) from None


# ---- standards --------------------------------------------------------------------------------


def _sbm_files(plugin: str, entry: Any) -> list[Path]:
    path = Path(entry)
    if path.is_dir():
        return sorted(path.rglob("*.sbm"))
    if path.is_file():
        return [path]
    raise PluginError(message("plugin.no_path", plugin=repr(plugin), path=path))


def _standard_ids(plugin: str, file: Path) -> list[str]:
    try:
        text = read_source(file)
    except SourceError as exc:
        raise PluginError(
            message("plugin.unreadable_standard", plugin=repr(plugin), path=file, reason=exc.reason)
        ) from exc
    return [m.group(1) for m in _HEADER.finditer(text)]


def _standards_table(pm: pluggy.PluginManager) -> dict[str, tuple[Path, str]]:
    table: dict[str, tuple[Path, str]] = {}
    for plugin, result in _per_plugin(pm, "sbm_standards"):
        for entry in _many(plugin, "sbm_standards", result):
            for file in _sbm_files(plugin, entry):
                for sid in _standard_ids(plugin, file):
                    previous = table.get(sid)
                    if previous is None:
                        table[sid] = (file, plugin)
                        continue
                    if previous[0].resolve() == file.resolve():
                        continue  # the same file reached twice (a folder and a file in it)
                    first = previous[1]
                    raise PluginError(
                        message(
                            "plugin.shipped_twice",
                            standard=sid,
                            first=repr(first),
                            first_file=previous[0],
                            second=repr(plugin),
                            second_file=file,
                        )
                        if first == plugin
                        else message(
                            "plugin.shipped_twice_packs",
                            standard=sid,
                            first=repr(first),
                            first_file=previous[0],
                            second=repr(plugin),
                            second_file=file,
                            name=plugin,
                        )
                    )
    return table


def standard_provider() -> dict[str, Path]:
    """Every standard the plugins ship, `{id: path}`; a `loader.StandardProvider`.

    Ids are the `standard NAME` headers of the files and folders each plugin's
    `sbm_standards` returns. One id shipped by two files is a `PluginError`.
    """
    table = _state().derived("standards", _standards_table)
    return {sid: path for sid, (path, _) in table.items()}


# ---- functions --------------------------------------------------------------------------------


def _check_spec(plugin: str, spec: Any) -> FunctionSpec:
    if not isinstance(spec, FunctionSpec):
        raise PluginError(message("plugin.not_a_spec", plugin=repr(plugin), value=repr(spec)))
    # A pack function may not take the name of a built-in function, a keyword or a
    # value of the language (`value`, `na`, …).
    from .builtins import BUILTINS
    from .keywords import KEYWORDS, RESERVED

    def what() -> str:  # made only for an error: a good spec reads no catalogue
        return message("plugin.what.function", plugin=repr(plugin), function=spec.name)

    if not isinstance(spec.name, str) or not spec.name.isidentifier():
        raise PluginError(message("plugin.not_identifier", function=what()))
    if spec.name in BUILTINS or spec.name in KEYWORDS or spec.name in RESERVED:
        raise PluginError(message("plugin.name_taken", function=what()))
    params = tuple(spec.params)
    for typ in (*params, spec.returns):
        if typ not in _VALUE_TYPES:
            raise PluginError(
                message(
                    "plugin.bad_type",
                    function=what(),
                    type=repr(typ),
                    types=", ".join(_VALUE_TYPES),
                )
            )
    for form in ("scalar", "batch"):
        fn = getattr(spec, form)
        if fn is None and form == "batch":
            continue
        if not callable(fn):
            raise PluginError(message("plugin.not_callable_form", function=what(), form=form))
        try:
            inspect.signature(fn).bind(*params)
        except TypeError as exc:
            raise PluginError(
                message(
                    "plugin.bad_arity", function=what(), form=form, count=len(params), error=exc
                )
            ) from None
        except ValueError:  # no signature to inspect (some builtins): trust it
            pass
    return attrs.evolve(spec, params=params, plugin=plugin)


def _function_table(pm: pluggy.PluginManager) -> FunctionRegistry:
    specs: dict[str, FunctionSpec] = {}
    for plugin, result in _per_plugin(pm, "sbm_functions"):
        for raw in _many(plugin, "sbm_functions", result):
            spec = _check_spec(plugin, raw)
            previous = specs.get(spec.name)
            if previous is not None:
                raise PluginError(
                    message(
                        "plugin.function_twice",
                        function=spec.name,
                        first=repr(previous.plugin),
                        second=repr(plugin),
                    )
                )
            specs[spec.name] = spec
    return FunctionRegistry(specs.values())


def function_registry() -> FunctionRegistry:
    """The functions every plugin adds to the language, with `FunctionSpec.plugin` set.

    Two plugins declaring one name, or a name the language uses itself, is a
    `PluginError`.
    """
    return _state().derived("functions", _function_table)


# ---- visit validators -------------------------------------------------------------------------


@attrs.frozen
class PluginValidator:
    """A plugin's validator, made safe to run on any record.

    Why the wrapping: scoring never raises for bad data, and a validator that
    trips over an odd record (or returns something that is not a `VisitError`)
    must reject that visit visibly, not stop a run. Such a rejection has the code
    `validator_error` and names the plugin, so the bug is easy to report.
    """

    plugin: str
    function: Validator

    @property
    def name(self) -> str:
        return getattr(self.function, "__qualname__", None) or repr(self.function)

    def __call__(self, record: Mapping[str, Any]) -> list[VisitError]:
        from .runtime import VisitError

        try:
            found = list(self.function(record) or ())
        except Exception as exc:
            return [
                VisitError(
                    "visit_id",
                    "validator_error",
                    message(
                        "visit.validator_failed",
                        validator=self.name,
                        plugin=repr(self.plugin),
                        error=f"{type(exc).__name__}: {exc}",
                    ),
                )
            ]
        out = []
        for err in found:
            if isinstance(err, VisitError):
                out.append(err)
            else:
                out.append(
                    VisitError(
                        "visit_id",
                        "validator_error",
                        message(
                            "visit.validator_returned",
                            validator=self.name,
                            plugin=repr(self.plugin),
                            value=repr(err),
                        ),
                    )
                )
        return out


def visit_validators(model: StandardModel) -> list[Validator]:
    """The validators every plugin wants run on visits of `model` (call once per compile)."""
    pm = get_plugin_manager()
    out: list[Validator] = []
    for plugin, result in _per_plugin(pm, "sbm_visit_validators", standard=model):
        for fn in _many(plugin, "sbm_visit_validators", result):
            if not callable(fn):
                raise PluginError(
                    message("plugin.validator_not_callable", plugin=repr(plugin), value=repr(fn))
                )
            out.append(PluginValidator(plugin, fn))
    return out


# ---- readers and writers ----------------------------------------------------------------------


def override(obj: T) -> T:
    """Mark a reader or writer as meant to replace the engine's own for its extension.

    Without the mark, a plugin format for an extension the engine already has
    (`.csv`, `.jsonl`, …) is a `PluginError`: replacing the CSV reader of every
    user of the machine is too big a thing to happen by accident.

        @hookimpl
        def sbm_readers():
            return {".csv": override(read_csv_1c)}
    """
    try:
        setattr(obj, _OVERRIDE_ATTR, True)
    except (AttributeError, TypeError):  # e.g. a bound method: wrap it
        target = obj

        def replacement(*args: Any, **kwargs: Any) -> Any:
            return target(*args, **kwargs)  # type: ignore[operator]

        replacement.__qualname__ = getattr(obj, "__qualname__", "override")
        setattr(replacement, _OVERRIDE_ATTR, True)
        return replacement  # type: ignore[return-value]
    return obj


def _overrides(obj: Any) -> bool:
    # Looked up in the object's own dict, so that a subclass of an overriding
    # writer does not inherit the mark.
    return bool(getattr(obj, "__dict__", {}).get(_OVERRIDE_ATTR, False))


def _extension(plugin: str, hook_name: str, ext: Any) -> str:
    if not isinstance(ext, str) or not ext.strip(". "):
        raise PluginError(
            message("plugin.not_an_extension", plugin=repr(plugin), hook=hook_name, key=repr(ext))
        )
    ext = ext.strip().lower()
    return ext if ext.startswith(".") else "." + ext


_FormatTable = dict[str, tuple[Any, str]]  # extension -> (reader or writer, plugin name)


def _kind(kind: str) -> str:
    """ "reader" or "writer", in the reader's language."""
    return message("plugin.reader") if kind == "reader" else message("plugin.writer")


def _format_table(hook_name: str, kind: str) -> Callable[[pluggy.PluginManager], _FormatTable]:
    """The computation of the readers' or writers' table, with the override rule."""

    def compute(pm: pluggy.PluginManager) -> _FormatTable:
        table: _FormatTable = {}
        for plugin, result in _per_plugin(pm, hook_name):
            if not isinstance(result, Mapping):
                raise PluginError(
                    message(
                        "plugin.not_a_mapping",
                        plugin=repr(plugin),
                        hook=hook_name,
                        kind=_kind(kind),
                        value=repr(result),
                    )
                )
            for raw_ext, obj in result.items():
                ext = _extension(plugin, hook_name, raw_ext)
                if not callable(obj):
                    raise PluginError(
                        message(
                            "plugin.format_not_callable",
                            plugin=repr(plugin),
                            kind=_kind(kind),
                            ext=ext,
                        )
                    )
                previous = table.get(ext)
                if previous is not None:
                    owner = previous[1]
                    if owner != BUILTIN_NAME:
                        raise PluginError(
                            message(
                                "plugin.format_twice",
                                first=repr(owner),
                                second=repr(plugin),
                                kind=_kind(kind),
                                ext=ext,
                            )
                        )
                    if not _overrides(obj):
                        raise PluginError(
                            message(
                                "plugin.format_override",
                                plugin=repr(plugin),
                                kind=_kind(kind),
                                ext=ext,
                            )
                        )
                table[ext] = (obj, plugin)
        return table

    return compute


_readers_table = _format_table("sbm_readers", "reader")
_writers_table = _format_table("sbm_writers", "writer")


def readers() -> dict[str, Reader]:
    """Input readers by extension from every plugin (the built-in formats included),
    in the hook's convention `reader(path, visit_fields=..., **options)`."""
    table = _state().derived("readers", _readers_table)
    return {ext: reader for ext, (reader, _) in table.items()}


def io_readers() -> dict[str, Callable[[Path, Any], Iterator[SourceRecord]]]:
    """The same readers in `sbm_engine.io`'s convention `fn(path, ReadOptions)`, for
    `formats.read_visits` to look extensions up in."""
    out: dict[str, Callable[[Path, Any], Iterator[SourceRecord]]] = {}
    for ext, reader in readers().items():
        out[ext] = io_convention(reader)
    return out


def writers() -> dict[str, type]:
    """Output writer classes by extension from every plugin (the built-in formats
    included); each is constructed as `cls(path, columns=None)`."""
    table = _state().derived("writers", _writers_table)
    return {ext: cls for ext, (cls, _) in table.items()}


# ---- describing ---------------------------------------------------------------------------------


def _engine_version() -> str:
    import importlib.metadata

    try:
        return importlib.metadata.version(ENGINE_DISTRIBUTION)
    except importlib.metadata.PackageNotFoundError:
        from . import __version__

        return __version__


def _describe(state: _Active) -> list[dict[str, Any]]:
    pm = state.pm
    dists = plugin_distributions(pm)
    blocked = any(plugin is None for _, plugin in pm.list_name_plugin())
    declared = {d.name: (d.distribution, d.version) for d in _declared()} if blocked else {}
    standards = state.derived("standards", _standards_table)
    functions = state.derived("functions", _function_table)
    reader_table = state.derived("readers", _readers_table)
    writer_table = state.derived("writers", _writers_table)
    rows: list[dict[str, Any]] = []
    for name, plugin in pm.list_name_plugin():
        row: dict[str, Any] = {
            "name": name,
            "distribution": None,
            "version": None,
            "module": None,
            "disabled": plugin is None,
            "hooks": [],
            "standards": [],
            "functions": [],
            "readers": [],
            "writers": [],
        }
        if plugin is None:  # blocked by SBM_DISABLE_PLUGINS
            if name in declared:
                row["distribution"], row["version"] = declared[name]
            rows.append(row)
            continue
        if id(plugin) in dists:
            row["distribution"], row["version"] = dists[id(plugin)]
        elif name == BUILTIN_NAME:
            row["distribution"], row["version"] = ENGINE_DISTRIBUTION, _engine_version()
        row["module"] = getattr(plugin, "__name__", None) or type(plugin).__qualname__
        row["hooks"] = sorted(caller.name for caller in pm.get_hookcallers(plugin) or ())
        row["standards"] = sorted(sid for sid, (_, owner) in standards.items() if owner == name)
        row["functions"] = sorted(spec.name for spec in functions if spec.plugin == name)
        row["readers"] = sorted(ext for ext, (_, owner) in reader_table.items() if owner == name)
        row["writers"] = sorted(ext for ext, (_, owner) in writer_table.items() if owner == name)
        rows.append(row)
    rows.sort(key=lambda row: row["disabled"])  # stable: active ones first, as registered
    return rows


def describe_plugins() -> list[dict[str, Any]]:
    """One dict per plugin, built-in first and disabled ones last, for
    `sbm plugins [--format json]`.

    Keys: `name` (registration / entry-point name), `distribution` and `version`
    (None for a plugin registered directly, not installed), `module`, `disabled`
    (blocked by SBM_DISABLE_PLUGINS), `hooks` (the hooks it implements), and what
    it contributes: `standards` (ids), `functions`, `readers` and `writers`
    (extensions; a format overridden by a pack is listed under that pack).
    """
    return _describe(_state())


def format_plugins_table(rows: Iterable[Mapping[str, Any]]) -> str:
    """The human view of `describe_plugins()`: one line per plugin, aligned columns."""
    header = (
        message("plugin.table.plugin"),
        message("plugin.table.distribution"),
        message("plugin.table.version"),
        message("plugin.table.hooks"),
        message("plugin.table.standards"),
    )
    lines: list[tuple[str, ...]] = [header]
    for row in rows:
        if row.get("disabled"):
            version, hooks, standards = message("plugin.table.disabled"), "-", "-"
        else:
            version = row.get("version") or "-"
            hooks = ", ".join(h.removeprefix(f"{PROJECT}_") for h in row.get("hooks", ())) or "-"
            standards = ", ".join(row.get("standards", ())) or "-"
        lines.append(
            (str(row.get("name")), row.get("distribution") or "-", version, hooks, standards)
        )
    if len(lines) == 1:
        return "no sbm plugins are installed"
    widths = [max(len(line[i]) for line in lines) for i in range(len(header) - 1)]
    return "\n".join(
        "  ".join(
            [*(cell.ljust(w) for cell, w in zip(line, widths, strict=False)), line[-1]]
        ).rstrip()
        for line in lines
    )
