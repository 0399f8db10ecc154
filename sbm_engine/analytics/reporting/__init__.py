"""`sbm report`: what managers read — one HTML file or an Excel workbook.

`content.build` turns scored visits (and, if given, earlier waves, a plan and a
calibration) into a `model.Report`; `html.render` and `workbook.render` draw it.
`write` picks the renderer by the file's suffix; `.json` writes the report's
content itself, for machines and for tests.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import attrs

from .model import Report

#: What `write` can make, by suffix.
SUFFIXES = (".html", ".xlsx", ".json")


def report(
    results: str | Path | Sequence[str | Path],
    output: str | Path | None = None,
    **options: Any,
) -> Report:
    """The report of `results` (see `content.build` for the options), written to
    `output` (.html, .xlsx or .json) when given."""
    from .content import build

    made = build(results, **options)
    if output is not None:
        write(made, output)
    return made


def write(made: Report, output: str | Path) -> None:
    """Write the report whole or not at all; the suffix of `output` says how.
    Raises `OutputError` when it cannot be written, ValueError on another suffix."""
    from ...io import OutputError
    from ...io.writers import write_text_atomic
    from ...messages import message

    path = Path(output)
    suffix = path.suffix.lower()
    if suffix == ".xlsx":
        from .workbook import render as render_workbook

        if not path.parent.is_dir():
            folder = repr(str(path.parent))
            raise OutputError(message("cli.write.no_folder", path=path, folder=folder))
        try:
            render_workbook(made, path)
        except OSError as exc:
            reason = exc.strerror or exc
            raise OutputError(message("cli.write.failed", path=path, reason=reason)) from exc
        return

    if suffix == ".html":
        from .html import render as render_html

        write_text_atomic(path, render_html(made))
    elif suffix == ".json":
        write_text_atomic(path, to_json(made))
    else:
        raise ValueError(f"cannot write a report as {suffix or 'a file without a suffix'}")


def to_json(made: Report) -> str:
    """The report's content as JSON: titles, tables (raw figures) and charts."""
    return json.dumps(attrs.asdict(made), ensure_ascii=False, indent=1, allow_nan=False) + "\n"
