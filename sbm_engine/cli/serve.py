"""`sbm serve`: the engine over HTTP (needs the `serve` extra: FastAPI and uvicorn)."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import click

from ..serve.settings import DEFAULT_MAX_BODY, DEFAULT_MAX_VISITS, DEFAULT_TIMEOUT
from .common import fail


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True)
@click.option(
    "--standards",
    "standards_dir",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="A folder of .sbm standards to serve beside the installed packs' (by id).",
)
@click.option(
    "--keys",
    "keys_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A file of API keys, one per line (added to those in $SBM_API_KEYS).",
)
@click.option(
    "--max-body",
    type=click.IntRange(min=1),
    default=DEFAULT_MAX_BODY,
    show_default=True,
    help="Largest request body in bytes (larger: 413).",
)
@click.option(
    "--max-visits",
    type=click.IntRange(min=1),
    default=DEFAULT_MAX_VISITS,
    show_default=True,
    help="Most visits in one request (more: 413).",
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=0, min_open=True),
    default=DEFAULT_TIMEOUT,
    show_default=True,
    help="Seconds a request may take to read and score its body (longer: 504).",
)
@click.option(
    "--allow-upload",
    is_flag=True,
    help="Let clients check a standard's text (POST /v1/check), in a folder of its own.",
)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=4,
    show_default=True,
    help="Threads that read and score request bodies.",
)
def serve(
    host: str,
    port: int,
    standards_dir: Path | None,
    keys_file: Path | None,
    max_body: int,
    max_visits: int,
    timeout: float,
    allow_upload: bool,
    workers: int,
) -> None:
    """Serve the engine over HTTP: score, explain, roll up, list and check standards.

    Every endpoint but /healthz needs an API key, sent as `Authorization: Bearer
    KEY`; keys come from $SBM_API_KEYS (comma-separated) and --keys FILE, and the
    service keeps only their SHA-256 digests. It will not start without a key.
    One JSON line per request is logged to stderr. The OpenAPI document is at
    /openapi.json, and docs/serve.md describes the endpoints.

    \b
    Examples:
      SBM_API_KEYS=secret sbm serve --port 8000 --standards standards/
      sbm serve --host 0.0.0.0 --keys /run/secrets/sbm-keys --max-visits 10000
      curl -H 'Authorization: Bearer secret' -H 'Content-Type: application/x-ndjson' \\
           --data-binary @wave.jsonl http://127.0.0.1:8000/v1/score/bank.branch
    """
    try:
        import uvicorn

        from ..serve import Settings
        from ..serve.app import create_app
    except ImportError as exc:
        fail(f"sbm serve needs the serve extra (pip install 'sbm-engine[serve]'): {exc}")
    from ..serve.auth import KeysUnreadable, digest, read_keys

    try:
        keys = read_keys(keys_file)
    except KeysUnreadable as err:
        fail(str(err))
    if not keys:
        fail("no API keys: set SBM_API_KEYS (comma-separated) or give --keys FILE")
    settings = Settings(
        key_hashes=tuple(dict.fromkeys(digest(k) for k in keys)),
        standards_dir=standards_dir,
        max_body=max_body,
        max_visits=max_visits,
        timeout=timeout,
        allow_upload=allow_upload,
        workers=workers,
    )
    del keys  # only the digests are kept
    configure_logging()
    app = create_app(settings)
    uvicorn.run(app, host=host, port=port, access_log=False, log_level="info")
    sys.exit(0)


def configure_logging() -> None:
    """Request lines as they are (one JSON object each) on stderr."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    logger = logging.getLogger("sbm.serve")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
