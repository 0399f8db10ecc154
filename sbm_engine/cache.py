"""The user's cache folder: what is slow to build and safe to rebuild is kept here.

`$SBM_CACHE_DIR`, else `$XDG_CACHE_HOME/sbm-engine`, else `~/.cache/sbm-engine`; an
empty `SBM_CACHE_DIR` turns caching off. The folder is made private to the user, and
one that is not the user's own or that others may write in is not used: what is kept
here is loaded as code (the parser's tables, which lark reads with pickle; the chart
library a report inlines into a page), so no one else may plant a file in it.
Deleting the folder is always safe.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


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


def keep(path: Path, text: str) -> None:
    """Write a cache file whole or not at all (a parallel run reads no file or a full
    one); a failure only means the next run builds it again."""
    tmp: str | None = None
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(tmp, path)
    except OSError:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)
