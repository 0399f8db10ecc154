"""One check of an open document, as `sbm check` would do it, on the editor's text.

The editor's buffers win over the disk: a `Loader` whose `module` reads an open
document's unsaved text (the document being checked, and any open file it imports or
extends) and the file on disk for the rest. What comes out is an `Analysis`: the
checker's diagnostics, the flat namespace when the files could be assembled, and an
index of names per file (`index.FileIndex`) for hover, navigation and completion.

Parsed files are kept between checks, the latest text of each (`ParseCache`): typing in
one file re-parses that file only, however large the files it imports. Nothing here
raises for a problem in a standard; problems are diagnostics.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any

import attrs

from .. import nodes as n
from ..api import compile_model, gc_paused
from ..checker import check as check_flat
from ..diagnostics import CompileError, Diagnostic
from ..functions import FunctionRegistry
from ..loader import Flat, Loader, StandardProvider
from ..parser import parse
from ..sources import SourceError, read_source
from .index import FileIndex, index_module


def display_name(path: Path) -> str:
    """A file's name in diagnostics, as the loader writes it: relative to the working
    directory when inside it, else as given."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def path_of(display: str) -> Path:
    """The file a diagnostic's or a span's file name stands for."""
    return (Path.cwd() / display).resolve()


def _providers() -> list[StandardProvider]:
    try:
        from ..plugins import standard_provider
    except ImportError:
        return []
    return [standard_provider]


def functions() -> FunctionRegistry | None:
    """The functions packs add to the language (None without the plugin layer)."""
    try:
        from ..plugins import function_registry
    except ImportError:
        return None
    return function_registry()


class ParseCache:
    """Parsed files and their indexes: the latest text of each file name only, for the
    `size` names used last.

    A name keeps one entry, replaced when its text changes: typing makes a new text
    per keystroke, and a parsed 1,000-item standard weighs megabytes, so older texts
    of a file are never worth keeping (the check that wanted one has been dropped)."""

    def __init__(self, size: int = 64) -> None:
        self._entries: OrderedDict[str, tuple[str, n.Module, FileIndex]] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._entries)

    def characters(self) -> int:
        """The characters of the texts kept."""
        with self._lock:
            return sum(len(text) for text, _m, _i in self._entries.values())

    def peek(self, display: str, text: str) -> tuple[n.Module, FileIndex] | None:
        """The parsed file and its index if this very text is kept, without parsing."""
        with self._lock:
            hit = self._entries.get(display)
            if hit is None or hit[0] != text:
                return None
            self._entries.move_to_end(display)
            return hit[1], hit[2]

    def get(self, display: str, text: str) -> tuple[n.Module, FileIndex]:
        """The parsed file and its index; raises `CompileError` if it does not parse."""
        hit = self.peek(display, text)
        if hit is not None:
            return hit
        module = parse(text, display)
        index = index_module(module, text)
        with self._lock:
            self._entries[display] = (text, module, index)
            self._entries.move_to_end(display)
            while len(self._entries) > self._size:
                self._entries.popitem(last=False)
        return module, index


class _EditorLoader(Loader):
    """A loader reading open documents from the editor and the other files from disk."""

    def __init__(self, overlays: dict[Path, str], cache: ParseCache) -> None:
        super().__init__((), _providers())
        self.overlays = overlays
        self.cache = cache
        self.parsed: dict[Path, tuple[str, n.Module, FileIndex]] = {}

    def module(self, path: Path) -> n.Module:
        key = path.resolve()
        if key in self.parsed:
            return self.parsed[key][1]
        text = self.overlays.get(key)
        if text is None:
            try:
                text = read_source(path)
            except (SourceError, OSError):
                # The loader's own reading says why, as `sbm check` does (E0606, E0607).
                return super().module(path)
        display = display_name(key)
        self.sources[display] = text
        module, index = self.cache.get(display, text)
        self.parsed[key] = (display, module, index)
        return module

    def files(self) -> list[Path]:
        return [*self.parsed, *(p for p in super().files() if p not in self.parsed)]


@attrs.frozen
class Analysis:
    """What one check of a document found."""

    path: Path
    display: str
    version: int | None
    text: str
    diagnostics: tuple[Diagnostic, ...]
    #: Every file read, by its name in spans, with its text and index (when it parsed).
    sources: dict[str, str]
    indexes: dict[str, FileIndex]
    #: The flat namespace, when every file could be found and parsed.
    flat: Flat | None
    #: The checked standard, when it has no errors.
    model: Any = None

    @property
    def ok(self) -> bool:
        return self.model is not None and not any(d.severity == "error" for d in self.diagnostics)

    def files(self) -> set[Path]:
        return {path_of(d) for d in self.sources}


@gc_paused
def analyse(
    path: Path,
    text: str,
    version: int | None,
    overlays: dict[Path, str],
    cache: ParseCache,
) -> Analysis:
    """Check the document at `path` (its text `text`, other open documents `overlays`)."""
    path = path.resolve()
    loader = _EditorLoader({**overlays, path: text}, cache)
    display = display_name(path)
    flat: Flat | None = None
    model = None
    try:
        flat = loader.flatten_file(path)
        model, found = check_flat(flat, functions())
        diagnostics = tuple(found)
    except CompileError as err:
        diagnostics = tuple(err.diagnostics)
    except SourceError as err:  # the document itself vanished from disk: still checked
        diagnostics = (Diagnostic("E0606", str(err)),)
    indexes = {d: idx for _key, (d, _m, idx) in loader.parsed.items()}
    sources = {**loader.sources, display: text}
    return Analysis(path, display, version, text, diagnostics, sources, indexes, flat, model)


def example_failures(analysis: Analysis) -> tuple[Diagnostic, ...]:
    """The diagnostics of the examples that fail (`sbm check` runs them too); nothing
    when the standard has errors or no examples."""
    if not analysis.ok or analysis.model is None or not analysis.model.examples:
        return ()
    warnings = [d for d in analysis.diagnostics if d.severity == "warning"]
    std = compile_model(analysis.model, False, warnings)
    return tuple(d for outcome in std.run_examples() for d in outcome.failures)


def uri_path(uri: str) -> Path:
    """The file a document's URI names; a document that is no file (`untitled:`) is
    checked as if it were a file of that name in the working directory."""
    from urllib.parse import unquote, urlparse

    parsed = urlparse(uri)
    if parsed.scheme == "file":
        raw = unquote(parsed.path)
        if os.name == "nt" and raw.startswith("/") and raw[2:3] == ":":
            raw = raw[1:]
        return Path(raw)
    name = Path(unquote(parsed.path or "untitled")).name or "untitled"
    return Path.cwd() / (name if name.endswith(".sbm") else name + ".sbm")


def path_uri(path: Path) -> str:
    return path.resolve().as_uri()
