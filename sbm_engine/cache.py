"""The user's cache folder: what is slow to build and safe to rebuild is kept here.

`$SBM_CACHE_DIR`, else `$XDG_CACHE_HOME/sbm-engine`, else `~/.cache/sbm-engine`; an
empty `SBM_CACHE_DIR` turns caching off. The folder is made private to the user, and
one that is not the user's own or that others may write in is not used: what is kept
here is loaded as code (the parser's tables, which lark reads with pickle; the chart
library a report inlines into a page; compiled standards and the parsed message
catalogues, `stored` and `store`), so no one else may plant a file in it. Deleting
the folder is always safe.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import os
import pickle
import tempfile
from pathlib import Path
from typing import Any


def folder() -> Path | None:
    """The cache folder, made if missing; None when there is none to use."""
    try:
        chosen = os.environ.get("SBM_CACHE_DIR")
        if chosen is None:
            base = os.environ.get("XDG_CACHE_HOME") or os.path.join(Path.home(), ".cache")
            chosen = os.path.join(base, "sbm-engine")
        if not chosen:
            return None
        os.makedirs(chosen, mode=0o700, exist_ok=True)
        if not os.access(chosen, os.W_OK) or not _private(chosen):
            return None
    except (OSError, RuntimeError):  # RuntimeError: no home directory to be found
        return None
    return Path(chosen)


def _private(path: str) -> bool:
    """The folder is the user's own and nobody else may write in it (POSIX)."""
    if not hasattr(os, "getuid"):
        return True
    info = os.stat(path)
    return info.st_uid == os.getuid() and not info.st_mode & 0o022


def keep(path: Path, text: str | bytes) -> None:
    """Write a cache file whole or not at all (a parallel run reads no file or a full
    one); a failure only means the next run builds it again."""
    tmp: str | None = None
    data = text.encode("utf-8") if isinstance(text, str) else text
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.replace(tmp, path)
    except OSError:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)


def stored(name: str) -> Any:
    """The object kept under `name` (`store`), or None: no cache folder, no such file, or
    one that cannot be read back whole (it is then written again by the next `store`)."""
    where = folder()
    if where is None:
        return None
    try:
        data = (where / name).read_bytes()
        return pickle.loads(data)  # a folder only the user may write in
    except Exception:  # a missing, truncated or foreign file: rebuilt, never fatal
        return None


def store(name: str, value: Any) -> None:
    """Keep `value` (pickled) under `name`, whole or not at all; never raises."""
    where = folder()
    if where is None:
        return
    try:
        data = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception:  # something in it cannot be pickled: not cached
        return
    keep(where / name, data)


def used(name: str) -> None:
    """Mark the file `name` as just used (its time of change), for `prune`."""
    where = folder()
    if where is not None:
        with contextlib.suppress(OSError):
            os.utime(where / name)


def prune(prefix: str, keep_at_most: int) -> None:
    """Delete the least recently used files named `prefix*` beyond the newest
    `keep_at_most`: what a test suite's temporary standards, or an edited engine,
    leave behind does not pile up. Never raises."""
    where = folder()
    if where is None:
        return
    found: list[tuple[int, str]] = []
    try:
        with os.scandir(where) as entries:
            for entry in entries:
                if entry.name.startswith(prefix) and entry.is_file(follow_symlinks=False):
                    found.append((entry.stat(follow_symlinks=False).st_mtime_ns, entry.path))
        if len(found) <= keep_at_most:
            return
        found.sort(reverse=True)
        for _, path in found[keep_at_most:]:
            Path(path).unlink(missing_ok=True)
    except OSError:
        pass


def digest(*parts: object) -> str:
    """A file name's worth of hash of `parts` (their `repr`)."""
    return hashlib.sha256(repr(parts).encode("utf-8", "surrogatepass")).hexdigest()[:32]


@functools.cache
def engine_fingerprint() -> str:
    """What identifies this engine's code: its version, the Python it runs on (the
    format of code objects) and the size and time of change of every file of the
    package and of its grammar, so that an edited checkout never reads what an older
    one compiled. Computed once per process."""
    import importlib.util
    import sys

    from . import __version__
    from .resources import _data_dir

    package = Path(__file__).resolve().parent
    files: list[tuple[str, int, int]] = []
    for root, dirs, names in os.walk(package):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        for name in sorted(names):
            if name.endswith((".py", ".lark", ".toml")):
                info = os.stat(os.path.join(root, name))
                files.append((os.path.join(root, name), info.st_size, info.st_mtime_ns))
    try:
        grammar = _data_dir("grammar") / "sbm.lark"
        info = os.stat(grammar)
        files.append((str(grammar), info.st_size, info.st_mtime_ns))
    except OSError:
        pass
    return digest(__version__, sys.version, importlib.util.MAGIC_NUMBER, files)
