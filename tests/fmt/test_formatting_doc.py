"""Every example of `docs/formatting.md` is what `sbm fmt` does.

The convention of the page: an example is a ```` ```sbm ```` block whose
introducing paragraph (the last non-empty line before the fence) is exactly
`Before:`, `After:` or `Unchanged:`.

- A `Before:` block is followed by an `After:` block (the next ```` ```sbm ````
  block of the page): `format_source(before) == after`, and the `After:` text is
  a fixed point, `format_source(after) == after`.
- An `Unchanged:` block is already canonical: `format_source(block) == block`.
- Every ```` ```sbm ```` block of the page is one of these, so no example goes
  unchecked.

A block holding a line that starts with `standard` at column 0 is a whole file and
is formatted as it is. Any other block is a fragment of a standard's body: it is
wrapped as `standard s {`, each non-empty line indented by 4 spaces (empty lines
stay empty), `}` — the `Before:` and `After:` blocks alike — and the wrapped texts
are compared. So a fragment line is printed at one level of indentation, and its
width budget is 96 columns, not 100.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from sbm_engine.formatter import format_source

DOC = Path(__file__).parents[2] / "docs" / "formatting.md"
_BLOCK = re.compile(r"^```sbm\n(.*?)^```", re.S | re.M)
_ROLES = ("Before:", "After:", "Unchanged:")


def _blocks() -> list[tuple[int, str, str]]:
    """Every ```` ```sbm ```` block of the page: (line, role, text)."""
    text = DOC.read_text(encoding="utf-8")
    out = []
    for match in _BLOCK.finditer(text):
        above = [line.strip() for line in text[: match.start()].split("\n") if line.strip()]
        role = above[-1] if above else ""
        out.append((text[: match.start()].count("\n") + 2, role, match.group(1)))
    return out


def _examples() -> list[tuple[int, str, str]]:
    """(line, before, after) for every example; an `Unchanged:` block is its own after."""
    blocks = _blocks()
    out = []
    i = 0
    while i < len(blocks):
        line, role, text = blocks[i]
        assert role in _ROLES, f"formatting.md:{line}: a ```sbm block not introduced by {_ROLES}"
        if role == "Unchanged:":
            out.append((line, text, text))
            i += 1
            continue
        assert role == "Before:", f"formatting.md:{line}: an After: block without a Before:"
        assert i + 1 < len(blocks) and blocks[i + 1][1] == "After:", (
            f"formatting.md:{line}: a Before: block not followed by an After: block"
        )
        out.append((line, text, blocks[i + 1][2]))
        i += 2
    return out


def _whole(text: str) -> str:
    """The block as a file: as it is if it holds a `standard`, else wrapped in one."""
    if re.search(r"^standard\b", text, re.M):
        return text
    body = "".join("    " + line if line.strip() else line for line in text.splitlines(True))
    return "standard s {\n" + body + "}\n"


def test_the_page_has_its_examples() -> None:
    assert len(_examples()) >= 25


@pytest.mark.parametrize(
    ("line", "before", "after"),
    [pytest.param(*example, id=f"line{example[0]}") for example in _examples()],
)
def test_example(line: int, before: str, after: str) -> None:
    where = f"docs/formatting.md:{line}"
    expected = _whole(after)
    assert format_source(_whole(before)) == expected, where
    assert format_source(expected) == expected, where
