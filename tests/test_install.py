"""A pack in a fresh virtual environment: installing the engine and one pack makes the
pack's standards loadable by id and listed by `sbm plugins`; uninstalling removes them.

Builds a real venv (about a minute): what users do, not a registry swapped in a test.
"""

from __future__ import annotations

import json
import subprocess
import sys
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent


def _run(*args: str | Path, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(a) for a in args], capture_output=True, text=True, check=check)


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX venv layout")
def test_installing_and_uninstalling_a_pack(tmp_path: Path) -> None:
    env = tmp_path / "venv"
    venv.create(env, with_pip=True)
    pip, sbm = env / "bin" / "pip", env / "bin" / "sbm"
    _run(pip, "install", "-q", ROOT)
    _run(pip, "install", "-q", ROOT / "plugins" / "sbm-salon")
    listed = json.loads(_run(sbm, "plugins", "--format", "json").stdout)
    assert "salon.visit" in {s for row in listed for s in row["standards"]}
    assert _run(sbm, "check", "salon.visit").returncode == 0
    wave = ROOT / "plugins" / "sbm-salon" / "sample" / "wave.jsonl"
    scored = _run(
        sbm,
        "score",
        "salon.visit",
        wave,
        "-o",
        tmp_path / "out.jsonl",
        "--format",
        "json",
        check=False,
    )
    assert scored.returncode == 1 and json.loads(scored.stdout)["scored"] > 0
    _run(pip, "uninstall", "-q", "-y", "sbm-salon")
    listed = json.loads(_run(sbm, "plugins", "--format", "json").stdout)
    assert "salon.visit" not in {s for row in listed for s in row["standards"]}
    assert _run(sbm, "check", "salon.visit", check=False).returncode == 2
