"""`sbm fmt` on the repository's own standards: every `.sbm` file is a fixed point,
the spec's conformance file included (its layout is the canonical one).

No exceptions: formulas written over several lines keep their author's breaks (at
operators, `then`/`else` and argument commas), so a standard as its author laid it
out is also the canonical text. A file that drifts fails here with the command
that fixes it.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from sbm_engine.formatter import format_source

ROOT = Path(__file__).parents[2]


def _standards() -> list[str]:
    out = subprocess.run(["git", "ls-files", "*.sbm"], cwd=ROOT, capture_output=True, text=True)
    files = out.stdout.split()
    return files or [
        str(p.relative_to(ROOT)) for p in ROOT.rglob("*.sbm") if ".venv" not in p.parts
    ]


@pytest.mark.parametrize("path", _standards())
def test_every_standard_in_the_repository_is_a_fixed_point(path: str) -> None:
    text = (ROOT / path).read_text(encoding="utf-8")
    formatted = format_source(text, path)  # raises if the meaning would change
    assert formatted == text, f"run `sbm fmt {path}`"
