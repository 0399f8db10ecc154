"""While `sbm score` scores, pyarrow does not import pandas on its own.

Why: pyarrow imports pandas, when it is installed, the first time it converts
between Arrow and Python or numpy (`Array.to_numpy`, `pa.array`, `pa.scalar`, a
compute function given a Python value, reading Parquet with `pyarrow.parquet`):
its C++ converters and its lazy pandas shim look for pandas objects among the
values. Scoring hands it none, yet the import costs a tenth of a second or more of
the start-up of every `sbm score`. So, inside `pandas_left_alone()`, an
import of `pandas` that pyarrow starts (from its compiled code, called by the engine
or by pyarrow's own Python code) fails as if pandas were not installed, which
pyarrow handles quietly: no pandas object can be among the values while pandas is
not imported, so every result is the same.

Anyone else's `import pandas` (a plugin's, a program's, the engine's own Dask
backend) works as before, and so does everything once pandas is imported (by
anyone, during the run or after): pyarrow's shim, which remembers the failed
attempt, is told to look again as soon as pandas has been imported
(`_Repair`), so pandas objects given to pyarrow later are converted as always.

One conversion of Arrow data itself depends on pandas: a timestamp or a duration in
nanoseconds becomes a `pandas.Timestamp` or `Timedelta` when pandas is installed
(else a `datetime`, or an error when the value has nanoseconds). So the readers
hand every schema they read to `allow_pandas_for`, which imports pandas, as
before, when such a column is there.
"""

from __future__ import annotations

import contextlib
import opcode
import os
import sys
import threading
from collections.abc import Iterator, Sequence
from types import FrameType, ModuleType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from importlib.machinery import ModuleSpec

# The finders and the loader below are duck-typed, not `importlib.abc` subclasses: that
# module takes longer to import than the rest of this one.
_IMPORT_NAME = opcode.opmap["IMPORT_NAME"]
_ENGINE = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep
_REFUSED = "pandas is not imported while sbm scores (sbm_engine.io.pandas_guard)"
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
    frame: FrameType | None = sys._getframe(2)  # above this function and `find_spec`
    while frame is not None and frame.f_code.co_filename.startswith("<frozen importlib"):
        frame = frame.f_back
    if frame is None:
        return False
    file = os.path.abspath(frame.f_code.co_filename)
    arrow = _pyarrow_folder()
    if not (file.startswith(_ENGINE) or (arrow is not None and file.startswith(arrow))):
        return False
    code = frame.f_code.co_code
    return not (0 <= frame.f_lasti < len(code) and code[frame.f_lasti] == _IMPORT_NAME)


class _Refuse:
    """Fails pyarrow's own imports of pandas (`_started_by_pyarrow`)."""

    refused = False

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        if fullname != "pandas" or not _started_by_pyarrow():
            return None
        _Refuse.refused = True
        _install_repair()
        raise ModuleNotFoundError(_REFUSED, name=fullname)


class _Repair:
    """When pandas is imported after pyarrow was refused it: once pandas has run, tell
    pyarrow's shim to look again (it would otherwise go on believing pandas missing,
    and convert a pandas categorical column as plain text, say). Then it leaves."""

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        if fullname != "pandas":
            return None
        if _depth > 0 and _started_by_pyarrow():  # still refused
            raise ModuleNotFoundError(_REFUSED, name=fullname)
        with contextlib.suppress(ValueError):
            sys.meta_path.remove(self)
        for finder in list(sys.meta_path):
            if isinstance(finder, _Refuse):
                continue
            find = getattr(finder, "find_spec", None)
            spec = find(fullname, path, target) if find is not None else None
            if spec is not None:
                if spec.loader is not None:
                    spec.loader = _RepairingLoader(spec.loader)
                return spec  # type: ignore[no-any-return]
        return None


class _RepairingLoader:
    def __init__(self, loader: Any) -> None:
        self.loader = loader

    def create_module(self, spec: ModuleSpec) -> ModuleType | None:
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


def allow_pandas_for(schema: Any) -> None:
    """Import pandas (when installed) if the Arrow `schema` (or type) has a timestamp or
    duration in nanoseconds anywhere, as pyarrow converts those with pandas
    (module docstring); inside `pandas_left_alone` only."""
    if _depth == 0 or "pandas" in sys.modules or not _nanoseconds(schema):
        return
    try:
        import pandas  # noqa: F401
    except ImportError:  # not installed: pyarrow converts without it, as always
        return
    _tell_pyarrow()


def _nanoseconds(arrow: Any) -> bool:
    """Whether a type, or a schema's, spells a nanosecond timestamp or duration, nested
    ones too (a field merely named so counts too: pandas is then imported for nothing,
    which changes no result)."""
    import pyarrow as pa

    types = [field.type for field in arrow] if isinstance(arrow, pa.Schema) else [arrow]
    return any("timestamp[ns" in text or "duration[ns" in text for text in map(str, types))


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
