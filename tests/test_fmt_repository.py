"""`sbm fmt` on the repository's own standards: every `.sbm` file is a fixed point,
the spec's conformance file included (its layout is the canonical one).

Known exceptions, each for one reason: they hold formulas written over several
lines, and the formatter does not yet keep line breaks *inside* an expression (it
keeps them after `=`, before `answer`/`when`/`score` and between list entries), so
formatting would join those formulas into lines of 176 to 634 columns. They stay as
their authors laid them out until it does; the test fails if one of them becomes
a fixed point (then drop it from the list) or if any other file drifts.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from sbm_engine.formatter import format_source

ROOT = Path(__file__).parent.parent
MULTI_LINE_FORMULAS = {
    "plugins/sbm-bank/src/sbm_bank/standards/branch.sbm",
    "plugins/sbm-hotel/src/sbm_hotel/standards/stay.sbm",
    "plugins/sbm-restaurant/src/sbm_restaurant/standards/king_county.sbm",
    "plugins/sbm-restaurant/src/sbm_restaurant/standards/service.sbm",
    "plugins/sbm-salon/src/sbm_salon/standards/visit.sbm",
    "standards_library/kano/kano.sbm",
    "standards_library/servqual/servqual.sbm",
}


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
    if path in MULTI_LINE_FORMULAS:
        assert formatted != text, f"{path} is now a fixed point: remove it from the exceptions"
    else:
        assert formatted == text, f"run `sbm fmt {path}`"
