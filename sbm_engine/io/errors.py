"""Errors of the input/output layer.

Why separate classes: the command line maps them to exit status 2 ("nothing could
be done: unreadable input") and prints their message as is, so every message says
which file is at fault and how to fix it. Problems with a single record are not
errors at all: they travel inside `SourceRecord.error` to the rejects file.
"""

from __future__ import annotations

__all__ = ["InputError", "OutputError"]


class InputError(Exception):
    """An input file cannot be read at all (unknown format, unreadable, undetectable)."""


class OutputError(Exception):
    """An output file cannot be written (unknown format, bad directory, inconsistent rows)."""
