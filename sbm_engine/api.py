"""The Python API's entry points: find, check and compile a standard.

`load` takes a path to a `.sbm` file or the id of an installed standard
(`bank.branch`), runs the whole pipeline (parse, resolve imports and bases,
check, compile) and returns a `CompiledStandard`. `check` does the same without
raising, for tools that want every diagnostic. Compiled standards are cached by
file contents, so loading the same standard twice in a process costs nothing.

`load` also keeps what it made in the user's cache folder (`cache.py`; none when
`SBM_CACHE_DIR` is empty), so that the next process skips parsing, checking and
CPython's compiling of the generated code (`_from_disk`).
"""

from __future__ import annotations

import functools
import gc
import hashlib
import os
import sys
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import attrs

from . import cache as disk
from .compiler import known_code
from .diagnostics import CompileError, Diagnostic, Diagnostics
from .functions import FunctionRegistry
from .messages import language, message
from .model import StandardModel
from .sources import SourceError, read_source_bytes
from .standard import CompiledStandard

if TYPE_CHECKING:
    from .loader import StandardProvider

# The parser, the loader and the checker (and lark) are imported where they are used, not
# here: a standard found in the disk cache (`load`) needs none of them.

#: (file, allow_unknown, plugin generation) -> the compiled standard and the digests of
#: every file it was built from; an entry is used only while none of them changed.
#: Compiled standards by (path, allow_unknown, plugin generation, language): the language
#: too, as a few texts are fixed when a standard is compiled (`messages.deferred`).
_cache: dict[
    tuple[str, tuple[Path, ...], bool, int, str], tuple[CompiledStandard, dict[Path, str | None]]
] = {}
_cache_lock = threading.Lock()


_F = TypeVar("_F", bound=Callable[..., Any])
_gc_lock = threading.Lock()
_gc_depth = 0
_gc_was_enabled = False


def gc_paused(fn: _F) -> _F:
    """Run `fn` with the cyclic garbage collector paused (reference counting still frees
    everything as usual).

    Why: compiling a standard allocates hundreds of thousands of objects that all live
    on (tokens, nodes, the model, the generated code), so every collection their
    allocation triggers walks a growing heap and frees nothing: about 15 % of the
    compile time of a 1,000-item standard. Nested and concurrent calls are counted;
    the collector is switched back on, if it was on, when the last one returns.
    """

    @functools.wraps(fn)
    def paused(*args: Any, **kwargs: Any) -> Any:
        global _gc_depth, _gc_was_enabled
        with _gc_lock:
            if _gc_depth == 0:
                _gc_was_enabled = gc.isenabled()
                gc.disable()
            _gc_depth += 1
        try:
            return fn(*args, **kwargs)
        finally:
            with _gc_lock:
                _gc_depth -= 1
                if _gc_depth == 0 and _gc_was_enabled:
                    gc.enable()

    return paused  # type: ignore[return-value]


@attrs.frozen
class CheckReport:
    """Everything `sbm check` needs: the model (if it checked) and every diagnostic."""

    model: StandardModel | None
    diagnostics: tuple[Diagnostic, ...]
    sources: dict[str, str]
    files: tuple[Path, ...] = ()  # every file read: the standard, its bases and imports

    @property
    def ok(self) -> bool:
        return self.model is not None and not any(d.severity == "error" for d in self.diagnostics)


def _providers() -> list[StandardProvider]:
    try:
        from .plugins import standard_provider
    except ImportError:  # the plugin layer is optional for the core
        return []
    return [standard_provider]


def _functions() -> FunctionRegistry | None:
    try:
        from .plugins import function_registry
    except ImportError:
        return None
    return function_registry()


def resolve_path(id_or_path: str | os.PathLike[str], search_path: Iterable[Path] = ()) -> Path:
    """A file path for a path or an installed standard's id.

    Whether an existing path can be read as a standard (a regular file, not too
    large) is left to the loader, which raises `SourceError` with the reason.
    """
    path = Path(id_or_path)
    if path.suffix == ".sbm" or path.exists():
        if not path.exists():
            raise FileNotFoundError(message("api.no_file", path=path))
        return path
    from .loader import Loader

    loader = Loader(search_path, _providers())
    known = loader.known_standards()
    if str(id_or_path) in known:
        return known[str(id_or_path)]
    from .diagnostics import did_you_mean

    hint = did_you_mean(str(id_or_path), known)
    raise FileNotFoundError(
        message("api.no_standard", standard=id_or_path)
        + (message("visit.did_you_mean", name=hint) if hint else "")
    )


@gc_paused
def check(id_or_path: str | os.PathLike[str], search_path: Iterable[Path] = ()) -> CheckReport:
    """Parse, resolve and check a standard; never raises for problems in the standard.

    Raises `FileNotFoundError` when there is no such file or id, and `SourceError`
    when the file named is no regular file of at most `MAX_STANDARD_BYTES` in UTF-8.
    """
    from .checker import check as check_flat
    from .loader import Loader

    path = resolve_path(id_or_path, search_path)
    loader = Loader(search_path, _providers())
    try:
        flat = loader.flatten_file(path)
        model, diagnostics = check_flat(flat, _functions())
    except CompileError as err:
        return CheckReport(None, tuple(err.diagnostics), {**loader.sources, **err.sources})
    return CheckReport(model, tuple(diagnostics), loader.sources, tuple(loader.files()))


def _validators(model: StandardModel) -> list[Any]:
    try:
        from .plugins import visit_validators
    except ImportError:
        return []
    return visit_validators(model)


def _generation() -> int:
    """Changes whenever the set of plugins does, so cached standards are not reused across."""
    try:
        from .plugins import generation
    except ImportError:
        return 0
    return generation()


def compile_model(
    model: StandardModel, allow_unknown: bool = False, warnings: Iterable[Diagnostic] = ()
) -> CompiledStandard:
    return CompiledStandard(
        model, warnings, _functions(), allow_unknown=allow_unknown, validators=_validators(model)
    )


@gc_paused
def load(
    id_or_path: str | os.PathLike[str],
    *,
    search_path: Iterable[Path] = (),
    allow_unknown: bool = False,
) -> CompiledStandard:
    """Load, check and compile a standard; raise `CompileError` if it has errors
    (and, as `check`, `FileNotFoundError` or `SourceError` if it cannot be read)."""
    search_path = tuple(search_path)
    path = resolve_path(id_or_path, search_path)
    absolute = (path.resolve(), tuple(Path(p).resolve() for p in search_path))
    key = (str(absolute[0]), absolute[1], allow_unknown, _generation(), language())
    with _cache_lock:
        cached = _cache.get(key)
    if cached is not None and all(_digest(f) == d for f, d in cached[1].items()):
        return cached[0]
    entry_name = _entry_name(key)
    entry = _from_disk(entry_name)
    if entry is not None:
        model, diagnostics, digests, codes = entry
    else:
        report = check(path, search_path)
        if not report.ok or report.model is None:
            raise CompileError(report.diagnostics, report.sources)
        model, diagnostics = report.model, report.diagnostics
        digests = {f: _digest(f) for f in report.files}
        codes = {}
    warnings = [d for d in diagnostics if d.severity == "warning"]
    kept = dict(codes)
    token = known_code.set(codes)
    try:
        compiled = compile_model(model, allow_unknown, warnings)
    finally:
        known_code.reset(token)
    if entry_name is not None:
        if entry is None or codes != kept:  # new, or its code was unreadable
            disk.store(entry_name, (_ENTRY, model, diagnostics, digests, codes))
            disk.prune("standard-", _ENTRIES_KEPT)
        else:
            disk.used(entry_name)
    # How a worker process makes the same standard: absolute paths, since it may start
    # in another folder.
    compiled.origin = (
        load,
        (str(absolute[0]),),
        {"allow_unknown": allow_unknown, "search_path": tuple(str(p) for p in absolute[1])},
    )
    with _cache_lock:
        _cache[key] = (compiled, digests)
    return compiled


#: The shape of a disk cache entry: changed whenever what `load` keeps changes.
_ENTRY = "sbm-standard-1"
#: The disk cache keeps the entries of this many standards, the most recently used.
_ENTRIES_KEPT = 256
_Entry = tuple[StandardModel, tuple[Diagnostic, ...], dict[Path, str | None], dict[str, bytes]]


def _entry_name(key: tuple[Any, ...]) -> str | None:
    """The disk cache file of a standard loaded with `key` (`load`'s): None when there is
    no cache to use, or the plugins in use cannot be told apart from others by their
    distributions (a plugin registered in the program, as tests do).

    The name covers everything a compiled standard depends on but its files (whose
    digests the entry holds, `_from_disk`): the path and search path, the options,
    the language (a few texts are fixed at compile time), the engine's code and the
    Python running it (`cache.engine_fingerprint`), and the plugins."""
    try:
        if os.environ.get("SBM_CACHE_DIR") == "":
            return None
        plugins = _plugin_fingerprint()
        if plugins is None:
            return None
        path, search_path, allow_unknown, _, lang = key
        return "standard-" + disk.digest(
            _ENTRY, path, search_path, allow_unknown, lang, disk.engine_fingerprint(), plugins
        )
    except Exception:  # the cache is an optimisation: it never fails a load
        return None


def _plugin_fingerprint() -> tuple[Any, ...] | None:
    """The plugins in use, as they are across processes: each one's name, its
    distribution's name and version, and the size and time of change of its module's
    file; None when one does not come from an installed distribution (the built-in
    plugin is part of the engine's fingerprint)."""
    try:
        from . import builtin_plugin
        from .plugins import get_plugin_manager, plugin_distributions
    except ImportError:  # the plugin layer is optional for the core
        return ()
    pm = get_plugin_manager()
    dists = plugin_distributions(pm)
    found: list[tuple[Any, ...]] = []
    for name, plugin in sorted(pm.list_name_plugin(), key=lambda pair: pair[0]):
        if plugin is builtin_plugin:
            found.append((name, "builtin"))
            continue
        dist = dists.get(id(plugin))
        if dist is None:
            return None
        module = plugin if hasattr(plugin, "__file__") else sys.modules.get(plugin.__module__)
        file = getattr(module, "__file__", None)
        if file is None:
            return None
        info = os.stat(file)
        found.append((name, *dist, file, info.st_size, info.st_mtime_ns))
    return tuple(found)


def _from_disk(name: str | None) -> _Entry | None:
    """The model, diagnostics, file digests and code kept under `name`, if every file
    it was built from is unchanged; None otherwise (the entry is then rewritten)."""
    if name is None:
        return None
    entry = disk.stored(name)
    try:
        tag, model, diagnostics, digests, codes = entry
        if tag != _ENTRY or not isinstance(model, StandardModel) or not digests:
            return None
        if not all(_digest(f) == d for f, d in digests.items()):
            return None
        return model, tuple(diagnostics), dict(digests), dict(codes)
    except Exception:  # no entry, or one of another shape: built again
        return None


def _digest(path: Path) -> str | None:
    try:
        return hashlib.sha256(read_source_bytes(path)).hexdigest()
    except SourceError:
        return None


@gc_paused
def loads(text: str, file: str = "<string>", *, allow_unknown: bool = False) -> CompiledStandard:
    """Compile a standard from text (imports resolve against the working directory)."""
    from .checker import check as check_flat
    from .loader import Loader

    loader = Loader((), _providers())
    path = Path(file)
    from .parser import parse

    loader.sources[file] = text
    loader._modules[path.resolve()] = parse(text, file)
    flat = loader.flatten_file(path, root=Path.cwd())
    model, diagnostics = check_flat(flat, _functions())
    return compile_model(model, allow_unknown, [d for d in Diagnostics(diagnostics).warnings])


def check_with_examples(target: str, run_examples: bool = True) -> dict[str, Any]:
    """`sbm check` of one target (a path or an installed id): `target`, `standard`, the
    diagnostics of checking and of the examples (unless `run_examples` is false),
    `sources` and the examples' outcomes; `missing` instead when no file can be read."""
    try:
        report = check(target)
    except (FileNotFoundError, SourceError) as err:
        return {"target": target, "missing": str(err)}
    diagnostics = list(report.diagnostics)
    examples: list[Any] = []
    if report.ok and run_examples and report.model is not None:
        examples = compile_model(report.model).run_examples()
        diagnostics += [d for o in examples for d in o.failures]
    return {
        "target": target,
        "standard": report.model.name if report.model else None,
        "diagnostics": diagnostics,
        "sources": report.sources,
        "examples": examples,
    }
