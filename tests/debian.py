"""Programs from Debian's packages that some tests drive (Chromium, LibreOffice).

`program(binary, package)` finds the binary, installing the package with apt-get when
it is missing and the tests run as root on a Debian-like machine; otherwise the test
is skipped with the command that installs it, except on CI (`CI` set), where a missing
program fails the test: CI must run what the README promises.

Where artifacts go (screenshots, converted PDFs): `$SBM_ARTIFACTS`, else `artifacts/`
in the repository (ignored by git)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

_tried: dict[str, str | None] = {}


def program(binary: str, package: str) -> str:
    """The path of `binary`, installing Debian's `package` once if needed."""
    if binary not in _tried:
        _tried[binary] = shutil.which(binary) or _install(binary, package)
    found = _tried[binary]
    if found is None:
        why = f"{binary} is not installed: apt-get install {package}"
        if os.environ.get("CI"):
            pytest.fail(why + " (CI runs these tests; the install failed)")
        pytest.skip(why)
    return found


def _install(binary: str, package: str) -> str | None:
    apt = shutil.which("apt-get")
    if apt is None or not hasattr(os, "geteuid") or os.geteuid() != 0:
        return None
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for args in ([apt, "update", "-qq"], [apt, "install", "-y", "-qq", package]):
        done = subprocess.run(args, env=env, capture_output=True, timeout=1200, check=False)
        if done.returncode != 0 and args[1] == "install":
            return None
    return shutil.which(binary)


def artifacts(*parts: str) -> Path:
    """A folder for files CI keeps (screenshots, PDFs), made if missing."""
    base = Path(os.environ.get("SBM_ARTIFACTS") or ROOT / "artifacts")
    folder = base.joinpath(*parts)
    folder.mkdir(parents=True, exist_ok=True)
    return folder
