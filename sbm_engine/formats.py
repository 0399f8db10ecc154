"""Files of visits and results by extension: the one lookup of readers and writers.

Why a module above `sbm_engine.io`: a format is whatever the plugin manager offers
for an extension. The engine's own formats (`io.readers.READERS`,
`io.writers.WRITERS`) reach it through the built-in plugin like any pack's, and a
pack may override them, so choosing a reader or a writer needs the plugins, while
`sbm_engine.io` holds the formats themselves and knows nothing of plugins.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Collection, Iterator, Sequence
from pathlib import Path
from typing import Any

from .io import readers as engine_readers
from .io import writers as engine_writers
from .io.errors import InputError, OutputError
from .io.readers import ReadOptions, check_readable
from .io.records import SourceRecord
from .io.writers import Writer
from .plugins import io_readers, writers

__all__ = ["open_writer", "read_visits", "reader_table", "writer_table"]


def reader_table() -> dict[str, Callable[[Path, Any], Iterator[SourceRecord]]]:
    """Readers by extension (`fn(path, ReadOptions)`): the engine's, with any a plugin
    offers for an extension winning (a format registered after the plugins were
    loaded, `io.readers.register_reader`, is seen too)."""
    return {**engine_readers.READERS, **io_readers()}


def writer_table() -> dict[str, type[Writer]]:
    """Writer classes by extension, as `reader_table` chooses readers."""
    return {**engine_writers.WRITERS, **writers()}


def read_visits(
    path: str | os.PathLike[str],
    *,
    visit_fields: Collection[str] = (),
    encoding: str | None = None,
    delimiter: str | None = None,
    decimal: str | None = None,
    sheet: str | None = None,
) -> Iterator[SourceRecord]:
    """Read the visits of one file, choosing the reader by the file's extension.

    Raises InputError at once for an unknown extension, a missing or unreadable
    file and (for CSV) an undetectable dialect; a file that breaks off in the
    middle raises InputError while iterating. `visit_fields` names the declared
    visit fields that tabular columns may hold besides the built-in ones.
    """
    path = Path(path)
    readers = reader_table()
    reader = readers.get(path.suffix.lower())
    if reader is None:
        supported = ", ".join(sorted(readers))
        raise InputError(
            f"{path}: unknown input format {path.suffix or '(no extension)'!r}; "
            f"supported: {supported}"
        )
    check_readable(path)
    options = ReadOptions(
        visit_fields=visit_fields,
        encoding=encoding,
        delimiter=delimiter,
        decimal=decimal,
        sheet=sheet,
    )
    return reader(path, options)


def open_writer(
    path: str | os.PathLike[str],
    *,
    columns: Sequence[str] | None = None,
    spreadsheet_safe: bool = False,
    text_columns: Collection[str] = (),
    bool_columns: Collection[str] = (),
) -> Writer:
    """An atomic writer for `path`, chosen by its extension; use it as a context manager.

    `columns` fixes the header of tabular formats (flattened names); by default it
    is the flattened keys of the first record. `spreadsheet_safe`, `text_columns` and
    `bool_columns`: see `Writer`. Raises OutputError for an unknown extension or a missing optional
    dependency.
    """
    path = Path(path)
    writers = writer_table()
    cls = writers.get(path.suffix.lower())
    if cls is None:
        supported = ", ".join(sorted(writers))
        raise OutputError(
            f"{path}: unknown output format {path.suffix or '(no extension)'!r}; "
            f"supported: {supported}"
        )
    writer = cls(path, columns=columns)
    writer.spreadsheet_safe = spreadsheet_safe
    if text_columns:
        writer.text_columns = frozenset(text_columns)
    if bool_columns:
        writer.bool_columns = frozenset(bool_columns)
    return writer
