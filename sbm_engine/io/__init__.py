"""Input and output of visit records: streaming readers and atomic writers.

Why a package of its own: the engine scores records and does not care about file
formats; this layer turns JSONL, CSV (with Russian Excel quirks), XLSX and Parquet
into canonical visit records with their sources, and writes results so that files
appear whole or not at all. `sbm_engine.formats` chooses a format by extension
among the engine's and those plugins add (`read_visits`, `open_writer`).
"""

from __future__ import annotations

from sbm_engine.io.errors import InputError, OutputError
from sbm_engine.io.readers import READERS, ReadOptions, register_reader
from sbm_engine.io.records import VISIT_FIELDS, SourceRecord
from sbm_engine.io.writers import WRITERS, Writer, flatten, register_writer

__all__ = [
    "READERS",
    "VISIT_FIELDS",
    "WRITERS",
    "InputError",
    "OutputError",
    "ReadOptions",
    "SourceRecord",
    "Writer",
    "flatten",
    "register_reader",
    "register_writer",
]
