"""Which standards the service scores with, compiled once per (id, version).

A standard is named in a URL by its id only, never by a path, so a request cannot
make the service read a file: ids come from the installed packs, the standards
library and `--standards DIR` (searched as `sbm` searches them, with the loader's
confinement). A folder's standards may change while the service runs: a file's
size and modification time are looked at on each use (one `stat`), and a changed
file is compiled again and cached under its new version.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

import attrs

from sbm_engine.serve.errors import ApiError


@attrs.frozen
class Served:
    """A compiled standard ready to score: its examples passed when it was compiled
    (as `sbm score` runs them first), else `examples_failed` names how many failed."""

    standard: Any  # CompiledStandard
    examples_failed: int


class Registry:
    def __init__(self, standards_dir: Path | None) -> None:
        self.dirs = (standards_dir,) if standards_dir is not None else ()
        self._lock = threading.Lock()
        self._compile_locks: dict[str, threading.Lock] = {}
        self._ids: dict[str, Path] = {}
        #: id -> (the file's stat signature, its (id, version) key) of the last compile
        self._current: dict[str, tuple[tuple[int, int], tuple[str, str | None]]] = {}
        self._cache: dict[tuple[str, str | None], Served] = {}
        self.refresh()

    def refresh(self) -> dict[str, Path]:
        from sbm_engine.api import _providers
        from sbm_engine.loader import Loader

        ids = Loader(self.dirs, _providers()).known_standards(self.dirs)
        with self._lock:
            self._ids = ids
        return ids

    def path_of(self, standard_id: str) -> Path:
        """The file of an id, looking the folders over again once when it is unknown
        (a standard added since); 404 with a did-you-mean otherwise."""
        ids = self._ids
        if standard_id not in ids:
            ids = self.refresh()
        if standard_id in ids:
            return ids[standard_id]
        from sbm_engine.diagnostics import did_you_mean

        hint = did_you_mean(standard_id, ids)
        text = f"no standard {standard_id!r}"
        extra: dict[str, Any] = {}
        if hint:
            text += f"; did you mean {hint!r}?"
            extra["did_you_mean"] = hint
        raise ApiError(404, "unknown_standard", text, **extra)

    def get(self, standard_id: str) -> Served:
        """The compiled standard of an id (compiling it on first use or after a change);
        422 when it does not compile."""
        path = self.path_of(standard_id)
        signature = _signature(path)
        known = self._current.get(standard_id)
        if known is not None and known[0] == signature:
            return self._cache[known[1]]
        with self._lock:
            lock = self._compile_locks.setdefault(standard_id, threading.Lock())
        with lock:  # one compile per standard at a time; the others wait and reuse it
            known = self._current.get(standard_id)
            if known is not None and known[0] == signature:
                return self._cache[known[1]]
            served = self._compile(standard_id, path)
            key = (standard_id, served.standard.version)
            with self._lock:
                self._cache.setdefault(key, served)
                self._current[standard_id] = (signature, key)
                return self._cache[key]

    def _compile(self, standard_id: str, path: Path) -> Served:
        from sbm_engine.api import load
        from sbm_engine.diagnostics import CompileError
        from sbm_engine.examples import example_diagnostics
        from sbm_engine.sources import SourceError

        try:
            std = load(path, search_path=self.dirs)
        except CompileError as err:
            count = sum(d.severity == "error" for d in err.diagnostics)
            raise ApiError(
                422,
                "standard_has_errors",
                f"standard {standard_id!r} has {count} error(s); run `sbm check` on it",
            ) from None
        except (FileNotFoundError, SourceError) as err:
            raise ApiError(422, "standard_unreadable", str(err)) from None
        return Served(std, len(example_diagnostics(std)))

    def listing(self) -> list[dict[str, Any]]:
        """Every standard by id: its version, and whether it comes from the folder."""
        out = []
        folder = [os.path.realpath(d) for d in self.dirs]
        for sid, path in sorted(self.refresh().items()):
            real = os.path.realpath(path)
            out.append(
                {
                    "id": sid,
                    "version": self._version(sid, path),
                    "source": "folder"
                    if any(real.startswith(f + os.sep) for f in folder)
                    else "installed",
                }
            )
        return out

    def _version(self, standard_id: str, path: Path) -> str | None:
        """The version a standard declares, read from its parsed file (a listing
        should not compile every standard); None when it declares none there."""
        known = self._current.get(standard_id)
        if known is not None:
            return known[1][1]
        from sbm_engine import nodes
        from sbm_engine.api import _providers
        from sbm_engine.diagnostics import CompileError
        from sbm_engine.loader import Loader
        from sbm_engine.sources import SourceError

        try:
            module = Loader(self.dirs, _providers()).module(path)
        except (CompileError, SourceError, OSError):
            return None
        for std in module.standards:
            if std.name == standard_id:
                for member in std.members:
                    if isinstance(member, nodes.Version):
                        return member.value
        return None


def _signature(path: Path) -> tuple[int, int]:
    try:
        st = path.stat()
    except OSError:
        return (-1, -1)
    return (st.st_size, st.st_mtime_ns)
