"""`sbm serve`: the engine over HTTP for systems that are not Python.

Why a package of small modules: each concern of a public service (keys, limits,
body formats, metrics, which standards exist) is reviewed and tested on its own,
and none of them imports FastAPI except `app`, so the engine itself never needs the
`serve` extra.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sbm_engine.serve.settings import Settings

if TYPE_CHECKING:
    from fastapi import FastAPI

__all__ = ["Settings", "create_app"]


def create_app(settings: Settings) -> FastAPI:
    """The ASGI application (a FastAPI app) for `settings`; imports FastAPI on call."""
    from sbm_engine.serve.app import create_app as create

    return create(settings)
