"""API keys: read once, kept only as SHA-256 digests, compared in constant time.

Why digests: a memory dump or a debugging session of the service shows no key
that could be used. Why compare with every digest: how long a check takes then
says nothing about which key, or how much of one, was right. The key id (the first
8 hex digits of the digest) names a client in logs without revealing its key.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Iterable
from pathlib import Path

ENV_VAR = "SBM_API_KEYS"


class KeysUnreadable(ValueError):
    """The keys cannot be read (a missing file, no key at all)."""


def digest(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def key_id(key_hash: str) -> str:
    """How logs name a key: enough to tell clients apart, useless to an attacker."""
    return key_hash[:8]


def read_keys(keys_file: Path | None, environ: dict[str, str] | None = None) -> list[str]:
    """The plain keys from `SBM_API_KEYS` (comma-separated) and `keys_file` (one per
    line; blank lines and lines starting with `#` are skipped)."""
    env = os.environ if environ is None else environ
    keys = [k.strip() for k in env.get(ENV_VAR, "").split(",") if k.strip()]
    if keys_file is not None:
        try:
            text = keys_file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise KeysUnreadable(f"cannot read the keys file {keys_file}: {exc}") from exc
        keys += [
            line.strip()
            for line in text.splitlines()
            if line.strip() and not line.lstrip().startswith("#")
        ]
    return keys


class KeyRing:
    """The accepted keys' digests."""

    def __init__(self, key_hashes: Iterable[str]) -> None:
        self._hashes = tuple(bytes.fromhex(h) for h in key_hashes)

    def check(self, authorization: str | None) -> str | None:
        """The key id of a valid `Bearer` header, else None."""
        if not authorization:
            return None
        scheme, _, token = authorization.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            return None
        given = hashlib.sha256(token.encode("utf-8", "surrogateescape")).digest()
        found = False
        for stored in self._hashes:  # no early exit: the time spent is the same for all
            found |= hmac.compare_digest(given, stored)
        return key_id(given.hex()) if found else None
