"""What an operator chose when starting the service."""

from __future__ import annotations

from pathlib import Path

import attrs

#: Defaults of the limits, shared by `sbm serve`'s options and `Settings`.
DEFAULT_MAX_BODY = 32 * 1024 * 1024
DEFAULT_MAX_VISITS = 100_000
DEFAULT_TIMEOUT = 30.0


@attrs.frozen
class Settings:
    """The service's configuration.

    `key_hashes`: SHA-256 digests (hex) of the accepted API keys; the plain keys are
    never kept. `standards_dir`: a folder whose standards are served beside those of
    the installed packs. `allow_upload`: whether `POST /v1/check` takes a standard's
    text. `workers`: threads that parse and score request bodies.
    """

    key_hashes: tuple[str, ...]
    standards_dir: Path | None = None
    max_body: int = DEFAULT_MAX_BODY
    max_visits: int = DEFAULT_MAX_VISITS
    timeout: float = DEFAULT_TIMEOUT
    allow_upload: bool = False
    workers: int = 4
