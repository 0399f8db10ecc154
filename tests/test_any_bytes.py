"""Any bytes as a `.sbm` file give diagnostics, never a traceback.

The property the red team tried by hand: whatever a file holds (another encoding,
binary junk, a standard cut short, deep nesting, huge numbers), `sbm check`,
`sbm fmt` and loading report it as diagnostics or a clean error.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from sbm_engine.api import check
from sbm_engine.cli import cli

VALID = (
    'standard t.any "Т" {\n    version "1"\n    scale yn { да = 1, нет = 0 }\n'
    '    item a "Вопрос" answer yn\n    item n "Число" answer number 0..10\n'
    "    coefficient visit = if a >= 0.5 then weighted_mean(items) else min(n, 0.5)\n"
    "    target visit 0.9\n    bands visit { top >= 0.9, low }\n"
    '    example "e" {\n        answers { a = да, n = 5 }\n        expect visit >= 0\n    }\n}\n'
).encode()

#: Bytes near a valid standard (cut, spliced, re-encoded) and arbitrary ones.
FILES = st.one_of(
    st.binary(max_size=300),
    st.integers(0, len(VALID)).map(lambda i: VALID[:i]),
    st.tuples(st.integers(0, len(VALID)), st.binary(max_size=20)).map(
        lambda t: VALID[: t[0]] + t[1] + VALID[t[0] :]
    ),
    st.sampled_from(["cp1251", "koi8_r", "utf-16", "utf-8-sig"]).map(
        lambda codec: VALID.decode().encode(codec)
    ),
    st.text(max_size=200).map(lambda s: s.encode("utf-8", "surrogatepass")),
)


@given(data=FILES)
def test_property_any_bytes_check_and_fmt_without_a_traceback(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "t.sbm"
        path.write_bytes(data)
        report = check(path)  # raises nothing for a regular file of this size
        assert report.ok == (not any(d.severity == "error" for d in report.diagnostics))
        for args in (["check", str(path)], ["fmt", "--check", str(path)]):
            result = CliRunner().invoke(cli, args, prog_name="sbm")
            assert result.exception is None or isinstance(result.exception, SystemExit), (
                args,
                result.output,
            )
            assert result.exit_code in (0, 1, 2)
