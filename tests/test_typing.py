"""The package type-checks: mypy, with the repository's configuration, reports no error
beyond the allow-list below.

The allow-list names the errors still known, as mypy prints them; an entry goes once
its error is fixed, and the aim is an empty list. Entries are matched on file and
message, not on line, so that edits elsewhere in the file do not break the test; an
error counts once per entry, so a second copy of a known error still fails. mypy's
cache (`.mypy_cache`) keeps a re-run to about a second.
"""

from __future__ import annotations

import re
import subprocess
import sys
import warnings
from collections import Counter
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

#: Errors not fixed yet, as `file:line: error: message  [code]`.
ALLOWED: tuple[str, ...] = ()

_ERROR = re.compile(r"^(?P<file>[^:\s]+):(?P<line>\d+): error: (?P<message>.*)$")


def _key(error: str) -> tuple[str, str]:
    """An error without its line: what the allow-list is matched on."""
    match = _ERROR.match(error)
    assert match, f"not a mypy error line: {error!r}"
    return match["file"].replace("\\", "/"), match["message"]


def test_mypy_reports_no_errors_beyond_the_allow_list() -> None:
    pytest.importorskip("mypy")
    proc = subprocess.run(
        [sys.executable, "-m", "mypy", "--config-file", "pyproject.toml", "sbm_engine"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    output = proc.stdout + proc.stderr
    # 0: no errors, 1: errors found; anything else is mypy failing to run at all.
    assert proc.returncode in (0, 1), f"mypy did not run (exit {proc.returncode}):\n{output}"
    errors = [line for line in proc.stdout.splitlines() if _ERROR.match(line)]
    if proc.returncode == 1:
        assert errors, f"mypy failed without an error line:\n{output}"

    allowed = Counter(_key(e) for e in ALLOWED)
    unexpected = []
    for error in errors:
        key = _key(error)
        if allowed[key] > 0:
            allowed[key] -= 1
        else:
            unexpected.append(error)
    stale = []
    for entry in ALLOWED:  # what is left of `allowed`: errors mypy no longer reports
        key = _key(entry)
        if allowed[key] > 0:
            allowed[key] -= 1
            stale.append(entry)
    if stale:
        warnings.warn(
            "fixed, remove from ALLOWED in tests/test_typing.py:\n" + "\n".join(stale),
            stacklevel=1,
        )
    assert not unexpected, (
        f"mypy reports {len(unexpected)} error(s) not in the allow-list of"
        " tests/test_typing.py (fix them; the list is only for errors known before):\n"
        + "\n".join(unexpected)
        + f"\n\nmypy's whole output:\n{output}"
    )


def test_the_language_core_type_checks_strictly() -> None:
    """The modules every other layer builds on (`test_layers.CORE`) pass `mypy --strict`:
    no untyped definition, no `Any` leaking out of a typed function, no unused ignore."""
    pytest.importorskip("mypy")
    from test_layers import CORE

    modules = [m for m in CORE if (ROOT / (m.replace(".", "/") + ".py")).exists()]
    packages = [m for m in CORE if (ROOT / m.replace(".", "/")).is_dir()]
    args = [arg for m in modules for arg in ("-m", m)] + [a for p in packages for a in ("-p", p)]
    proc = subprocess.run(
        [sys.executable, "-m", "mypy", "--config-file", "pyproject.toml", "--strict", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
