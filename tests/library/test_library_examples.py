"""Every standard of the library checks without a diagnostic and passes its own examples.

The published rules carry their boundary cases as examples; a change to the engine
that broke one of them must fail here, not only under `sbm test`.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import sbm_engine
from sbm_engine.api import check
from sbm_engine.resources import library_root

LIBRARY = sorted(library_root().rglob("*.sbm"))


def test_the_library_is_found() -> None:
    assert len(LIBRARY) >= 10


@pytest.mark.parametrize("path", LIBRARY, ids=lambda p: p.relative_to(library_root()).as_posix())
def test_checks_clean_and_its_examples_pass(path: Path) -> None:
    report = check(path)
    assert not report.diagnostics, [d.message for d in report.diagnostics]
    failed = [(o.name, o.messages) for o in sbm_engine.load(path).run_examples() if not o.passed]
    assert not failed
