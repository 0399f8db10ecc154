"""While `sbm score` scores, pyarrow does not import pandas on its own.

Why: pyarrow imports pandas, when it is installed, the first time it converts
between Arrow and Python or numpy (`Array.to_numpy`, `pa.array`, `pa.scalar`, a
compute function given a Python value, reading Parquet with `pyarrow.parquet`):
its C++ converters and its lazy pandas shim look for pandas objects among the
values. Scoring hands it none, yet the import costs about a tenth of a second, a
fifth of the start-up of scoring a typical wave. So, inside `pandas_left_alone()`, an
import of `pandas` that pyarrow starts (from its compiled code, called by the engine
or by pyarrow's own Python code) fails as if pandas were not installed, which
pyarrow handles quietly: no pandas object can be among the values while pandas is
not imported, so every result is the same.

Anyone else's `import pandas` (a plugin's, a program's, the engine's own Dask
backend) works as before, and so does everything once pandas is imported (by
anyone, during the run or after): pyarrow's shim, which remembers the failed
attempt, is told to look again as soon as pandas has been imported
(`_Repair`), so pandas objects given to pyarrow later are converted as always.
"""

from __future__ import annotations

import contextlib
import dis
import importlib.abc
import importlib.machinery
import os
import sys
import threading
from collections.abc import Iterator, Sequence
from types import FrameType, ModuleType
from typing import Any

_IMPORT_NAME = dis.opmap["IMPORT_NAME"]
_ENGINE = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep
_lock = threading.Lock()
_depth = 0


def _pyarrow_folder() -> str | None:
    module = sys.modules.get("pyarrow")
    file = getattr(module, "__file__", None)
    return os.path.dirname(os.path.abspath(file)) + os.sep if file else None


def _started_by_pyarrow() -> bool:
    """Whether the import being looked up was started by pyarrow, not asked for by an
    `import` statement or `importlib.import_module`: the first frame outside the
    import system is the engine's or pyarrow's, and it is calling a function (pyarrow's
    compiled code, which imports without a frame of its own)."""
    frame: FrameType | None = sys._getframe(2)
    while frame is not None and (
        frame.f_code.co_filename.startswith("<frozen importlib")
        or frame.f_code.co_filename == __file__
    ):
        frame = frame.f_back
    if frame is None:
        return False
    file = os.path.abspath(frame.f_code.co_filename)
    arrow = _pyarrow_folder()
    if not (file.startswith(_ENGINE) or (arrow is not None and file.startswith(arrow))):
        return False
    code = frame.f_code.co_code
    return not (0 <= frame.f_lasti < len(code) and code[frame.f_lasti] == _IMPORT_NAME)


class _Refuse(importlib.abc.MetaPathFinder):
    """Fails pyarrow's own imports of pandas (`_started_by_pyarrow`)."""

    refused = False

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname != "pandas" or not _started_by_pyarrow():
            return None
        _Refuse.refused = True
        _install_repair()
        raise ModuleNotFoundError("pandas is not imported while sbm scores", name=fullname)


class _Repair(importlib.abc.MetaPathFinder):
    """When pandas is imported after pyarrow was refused it: once pandas has run, tell
    pyarrow's shim to look again (it would otherwise go on believing pandas missing,
    and convert a pandas categorical column as plain text, say). Then it leaves."""

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname != "pandas":
            return None
        with contextlib.suppress(ValueError):
            sys.meta_path.remove(self)
        for finder in list(sys.meta_path):
            find = getattr(finder, "find_spec", None)
            spec = find(fullname, path, target) if find is not None else None
            if spec is not None:
                if spec.loader is not None:
                    spec.loader = _RepairingLoader(spec.loader)
                return spec  # type: ignore[no-any-return]
        return None


class _RepairingLoader(importlib.abc.Loader):
    def __init__(self, loader: Any) -> None:
        self.loader = loader

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return self.loader.create_module(spec)  # type: ignore[no-any-return]

    def exec_module(self, module: ModuleType) -> None:
        self.loader.exec_module(module)
        _tell_pyarrow()

    def __getattr__(self, name: str) -> Any:  # get_resource_reader, is_package, …
        return getattr(self.loader, name)


def _tell_pyarrow() -> None:
    """pyarrow's shim imports pandas again (now found) when asked for it."""
    with contextlib.suppress(Exception):
        import pyarrow.lib

        pyarrow.lib._pandas_api.pd  # noqa: B018  (the property does the work)


def _install_repair() -> None:
    if not any(isinstance(f, _Repair) for f in sys.meta_path):
        sys.meta_path.insert(0, _Repair())


@contextlib.contextmanager
def pandas_left_alone() -> Iterator[None]:
    """Inside the block, pyarrow does not import pandas on its own (module docstring).
    Nothing changes when pandas is already imported. Nested and concurrent uses are
    counted; the last one out removes the guard."""
    global _depth
    with _lock:
        if _depth == 0 and "pandas" not in sys.modules:
            sys.meta_path.insert(0, _Refuse())
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0:
                sys.meta_path[:] = [f for f in sys.meta_path if not isinstance(f, _Refuse)]
                if "pandas" in sys.modules and _Refuse.refused:
                    _tell_pyarrow()
