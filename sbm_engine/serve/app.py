"""The FastAPI application: routes, key checks, limits, logs and metrics.

Every answer that is not a success is `{"error": {"code", "message"}}` JSON; an
unexpected exception is logged with the request id and answered 500 with that id
only, so no stack trace or internal text ever reaches a client.
"""

# No `from __future__ import annotations`: FastAPI reads the routes' annotations, and
# those naming `authorized` (local to `create_app`) must be evaluated where it is in scope.
import contextlib
import json
import logging
import os
import re
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import Depends, FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.exceptions import HTTPException as StarletteHTTPException

from sbm_engine.api import check_with_examples
from sbm_engine.serve import formats
from sbm_engine.serve.auth import KeyRing
from sbm_engine.serve.errors import STATUS_CODES, ApiError, error_body
from sbm_engine.serve.limits import Deadline, read_body, run_with_deadline, too_many_visits
from sbm_engine.serve.metrics import Metrics
from sbm_engine.serve.settings import Settings
from sbm_engine.serve.standards import Registry

log = logging.getLogger("sbm.serve")

_bearer = HTTPBearer(auto_error=False, description="An API key: `Authorization: Bearer KEY`.")

#: How a record's position is named in the message about a body that cannot be read.
_POSITION = {
    "jsonl": "line",
    "csv": "line",
    "tsv": "line",
    "json": "item",
    "parquet": "row",
    "arrow": "row",
}

_VISIT_BODY = {
    "required": True,
    "content": {
        formats.JSONL: {"schema": {"type": "string"}},
        formats.JSON: {"schema": {"oneOf": [{"type": "object"}, {"type": "array"}]}},
        formats.CSV: {"schema": {"type": "string"}},
        formats.PARQUET: {"schema": {"type": "string", "format": "binary"}},
        formats.ARROW: {"schema": {"type": "string", "format": "binary"}},
    },
}


def create_app(settings: Settings) -> FastAPI:
    executor = ThreadPoolExecutor(max_workers=settings.workers, thread_name_prefix="sbm-serve")

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        executor.shutdown(wait=False, cancel_futures=True)

    app = FastAPI(
        lifespan=lifespan,
        title="SBM engine",
        summary="Score mystery-shopping visits against SBM standards.",
        version=_version(),
    )
    keys = KeyRing(settings.key_hashes)
    metrics = Metrics()
    registry = Registry(settings.standards_dir)
    app.state.settings = settings
    app.state.metrics = metrics
    app.state.registry = registry
    app.state.executor = executor

    def authorized(
        request: Request,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    ) -> str:
        key_id = keys.check(request.headers.get("authorization"))
        if key_id is None:
            why = "a valid API key" if credentials else "an API key"
            raise ApiError(
                401,
                "unauthorized",
                f"this endpoint needs {why}: send `Authorization: Bearer KEY`",
                headers={"WWW-Authenticate": "Bearer"},
            )
        request.state.key_id = key_id
        return key_id

    # -- errors, logs and metrics --------------------------------------------------------------

    @app.exception_handler(ApiError)
    async def api_error(request: Request, exc: ApiError) -> JSONResponse:
        return JSONResponse(exc.body(), status_code=exc.status, headers=exc.headers)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = STATUS_CODES.get(exc.status_code, "error")
        text = exc.detail if isinstance(exc.detail, str) else code.replace("_", " ")
        return JSONResponse(
            error_body(code, text), status_code=exc.status_code, headers=exc.headers
        )

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = [
            f"{'.'.join(str(p) for p in e.get('loc', ()))}: {e.get('msg', 'invalid')}"
            for e in exc.errors()
        ]
        return JSONResponse(error_body("invalid_request", "; ".join(problems)), status_code=422)

    @app.middleware("http")
    async def observe(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        request_id = uuid.uuid4().hex[:16]
        request.state.request_id = request_id
        started = time.perf_counter()
        try:
            response = await call_next(request)
        except Exception:
            log.exception("unhandled error in request %s", request_id)
            response = JSONResponse(
                error_body(
                    "internal_error",
                    f"an internal error occurred; quote request id {request_id}",
                    request_id=request_id,
                ),
                status_code=500,
            )
        seconds = time.perf_counter() - started
        route = getattr(request.scope.get("route"), "path", "unmatched")
        metrics.observe(route, response.status_code, seconds)
        response.headers["X-Request-Id"] = request_id
        log.info(
            json.dumps(
                {
                    "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                    "request_id": request_id,
                    "method": request.method,
                    "route": route,
                    "status": response.status_code,
                    "duration_ms": round(seconds * 1000, 3),
                    "visits": getattr(request.state, "visits", None),
                    "key_id": getattr(request.state, "key_id", None),
                }
            )
        )
        return response

    # -- routes --------------------------------------------------------------------------------

    @app.get("/healthz", tags=["service"], summary="Liveness: answers without a key.")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get(
        "/metrics",
        tags=["service"],
        summary="Prometheus metrics (needs a key).",
        response_class=PlainTextResponse,
    )
    async def get_metrics(key: Annotated[str, Depends(authorized)]) -> PlainTextResponse:
        return PlainTextResponse(
            metrics.render(), media_type="text/plain; version=0.0.4; charset=utf-8"
        )

    @app.get("/v1/standards", tags=["standards"], summary="Standards and their versions.")
    async def standards(key: Annotated[str, Depends(authorized)]) -> dict[str, Any]:
        listing = await run_with_deadline(executor, settings.timeout, lambda _: registry.listing())
        return {"standards": listing}

    @app.post(
        "/v1/score/{standard}",
        tags=["scoring"],
        summary="Score a batch of visits.",
        description=(
            "The body is visits as JSON Lines (`application/x-ndjson`), JSON (one "
            "object or a list), CSV (`text/csv`), Parquet "
            "(`application/vnd.apache.parquet`) or an Arrow IPC stream "
            "(`application/vnd.apache.arrow.stream`). The answer is JSON "
            '`{"results": [...], "rejects": [...]}` by default, or by `Accept`: JSON '
            "Lines (the scored visits, then the rejects) or Parquet (the scored visits as "
            "`sbm score -o out.parquet` writes them; the rejects are counted in "
            "`SBM-Rejected`). A record that cannot be read at all (bad JSON, a CSV row "
            "that does not fit the header) is a 400 naming its line, unless "
            "`unreadable=reject` puts it in the rejects as `sbm score` does."
        ),
        openapi_extra={"requestBody": _VISIT_BODY},
        responses={
            200: {
                "description": "Scored visits and rejects (the output contract).",
                "content": {
                    formats.JSON: {},
                    formats.JSONL: {},
                    formats.PARQUET: {},
                },
            }
        },
    )
    async def score(
        request: Request,
        standard: str,
        unreadable: Annotated[
            Literal["fail", "reject"],
            Query(description="fail: a 400 names the record; reject: it goes to the rejects."),
        ] = "fail",
        *,
        key: Annotated[str, Depends(authorized)],
    ) -> Response:
        out_fmt = formats.output_format(request.headers.get("accept"))
        in_fmt, params = formats.input_format(request.headers.get("content-type"))
        body = await read_body(request, settings.max_body)
        served = await _served(standard)

        def work(deadline: Deadline) -> tuple[bytes, str, int, int]:
            std = served.standard
            results: list[dict[str, Any]] = []
            rejects: list[dict[str, Any]] = []
            session = std.session()
            with formats.scratch_folder() as tmp:
                records = formats.read_records(
                    body, in_fmt, params, std.model.visit_fields, Path(tmp)
                )
                read: list[Any] = []  # a standard that uses history scores them together
                for count, rec in enumerate(records, start=1):
                    if count > settings.max_visits:
                        raise too_many_visits(settings.max_visits)
                    deadline.check()
                    if rec.record is None and unreadable == "fail":
                        raise _unreadable(in_fmt, rec.source, rec.error)
                    if std.uses_history:
                        read.append(rec)
                        continue
                    outcome = session.read(rec)
                    (results if outcome.ok else rejects).append(outcome.to_dict())
                if read:
                    whole = [r for r in read if r.record is not None]
                    scored_together = iter(
                        std.score_many([r.record for r in whole], [r.source for r in whole])
                    )
                    for rec in read:
                        outcome = session.read(rec) if rec.record is None else next(scored_together)
                        (results if outcome.ok else rejects).append(outcome.to_dict())
                if out_fmt == "parquet":
                    content = formats.parquet_bytes(std, results, Path(tmp))
                    media = formats.PARQUET
                elif out_fmt == "jsonl":
                    content = formats.jsonl_bytes(results + rejects)
                    media = formats.JSONL
                else:
                    content = formats.json_bytes({"results": results, "rejects": rejects})
                    media = formats.JSON
            return content, media, len(results), len(rejects)

        content, media, scored, rejected = await run_with_deadline(executor, settings.timeout, work)
        request.state.visits = scored + rejected
        metrics.visits(scored, rejected)
        headers = {"SBM-Scored": str(scored), "SBM-Rejected": str(rejected)}
        return Response(content, media_type=media, headers=headers)

    @app.post(
        "/v1/explain/{standard}",
        tags=["scoring"],
        summary="Every step of one visit's scoring.",
        description=(
            "The body holds one visit (any input format of `/v1/score`), or several and "
            "`visit` names the one to explain. The answer is what `sbm explain --format "
            "json` prints."
        ),
        openapi_extra={"requestBody": _VISIT_BODY},
    )
    async def explain(
        request: Request,
        standard: str,
        visit: Annotated[str | None, Query(description="The visit_id to explain.")] = None,
        *,
        key: Annotated[str, Depends(authorized)],
    ) -> Response:
        in_fmt, params = formats.input_format(request.headers.get("content-type"))
        body = await read_body(request, settings.max_body)
        served = await _served(standard, need_examples=False)

        def work(deadline: Deadline) -> bytes:
            from sbm_engine.explain import explain as explain_visit

            std = served.standard
            with formats.scratch_folder() as tmp:
                records = formats.read_records(
                    body, in_fmt, params, std.model.visit_fields, Path(tmp)
                )
                chosen = None
                # a standard that uses history reads the visit's previous one among
                # the visits of the body, as /v1/score and `sbm explain` do
                wave: list[Any] = []
                target = -1
                for count, rec in enumerate(records, start=1):
                    if count > settings.max_visits:
                        raise too_many_visits(settings.max_visits)
                    deadline.check()
                    if rec.record is None:
                        if visit is None:
                            raise _unreadable(in_fmt, rec.source, rec.error)
                        continue
                    if std.uses_history:
                        wave.append(rec.record)
                    if visit is None:
                        if chosen is not None:
                            raise ApiError(
                                422,
                                "many_visits",
                                "the body holds several visits; name one with ?visit=ID",
                            )
                        chosen, target = rec, len(wave) - 1
                    elif chosen is None and str(rec.record.get("visit_id")) == visit:
                        chosen, target = rec, len(wave) - 1
                        if not std.uses_history:  # else read on: its previous visit
                            break
            if chosen is None or chosen.record is None:
                what = f"no visit {visit!r}" if visit is not None else "no visit"
                raise ApiError(422, "no_visit", f"the body holds {what}")
            previous = None
            if std.uses_history:
                from sbm_engine.history import previous_visits

                previous = previous_visits(std, wave)[target]
            exp = explain_visit(std, chosen.record, previous)
            exp["source"] = chosen.source
            return formats.json_bytes(exp)

        content = await run_with_deadline(executor, settings.timeout, work)
        request.state.visits = 1
        return Response(content, media_type=formats.JSON)

    @app.post(
        "/v1/rollup/{standard}",
        tags=["scoring"],
        summary="Roll scored visits up by point, specialist, region or network.",
        description=(
            "The body is scored visits as JSON Lines (what `/v1/score` answers with "
            "`Accept: application/x-ndjson` after dropping rejects, or `sbm score`'s "
            "output). The answer is the roll-up JSON of `sbm rollup --format json`. "
            "Results of another standard or version, or records that are not scored "
            "visits, are refused with 422 naming the first problems."
        ),
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {formats.JSONL: {"schema": {"type": "string"}}},
            }
        },
    )
    async def rollup(
        request: Request,
        standard: str,
        by: Annotated[Literal["point", "specialist", "region", "network"], Query()],
        key: Annotated[str, Depends(authorized)],
    ) -> Response:
        body = await read_body(request, settings.max_body)
        served = await _served(standard, need_examples=False)

        def work(deadline: Deadline) -> tuple[bytes, int]:
            from sbm_engine.result_files import CheckedResults, ResultsError
            from sbm_engine.rollup import Rollup, for_output

            std = served.standard
            with formats.scratch_folder() as tmp:
                path = Path(tmp) / "results.jsonl"
                path.write_bytes(body)
                acc = Rollup(std.model, by)
                count = 0
                try:
                    for _, record in CheckedResults([path], std, given=standard):
                        count += 1
                        if count > settings.max_visits:
                            raise too_many_visits(settings.max_visits)
                        deadline.check()
                        acc.add_checked(record)
                except ResultsError as err:
                    text = str(err).replace(str(path), formats.SOURCE)
                    raise ApiError(422, "not_scored_visits", text) from None
            return formats.json_bytes(for_output(acc.report())), count

        content, count = await run_with_deadline(executor, settings.timeout, work)
        request.state.visits = count
        return Response(content, media_type=formats.JSON)

    @app.post(
        "/v1/check",
        tags=["standards"],
        summary="Check a standard's text (only when the service allows uploads).",
        description=(
            "The body is the text of one `.sbm` file (UTF-8). It is checked in a "
            "temporary folder of its own, which is its root: it may extend installed "
            "standards and the library, and import no file. The answer is what `sbm "
            "check --format json` prints for it; 403 unless started with --allow-upload."
        ),
        openapi_extra={
            "requestBody": {"required": True, "content": {"text/plain": {"schema": {}}}}
        },
    )
    async def check(request: Request, key: Annotated[str, Depends(authorized)]) -> Response:
        if not settings.allow_upload:
            raise ApiError(
                403, "upload_disabled", "checking uploaded standards is off on this service"
            )
        body = await read_body(request, settings.max_body)
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise formats.bad_body(f"a standard must be UTF-8 text: {exc}") from None

        def work(deadline: Deadline) -> bytes:
            with formats.scratch_folder() as tmp:
                folder = Path(tmp) / "upload"
                folder.mkdir()
                path = folder / "standard.sbm"
                path.write_text(text, encoding="utf-8")
                r = check_with_examples(str(path))
                if "missing" in r:
                    entry: dict[str, Any] = {"target": r["target"], "error": r["missing"]}
                else:
                    entry = {
                        "target": r["target"],
                        "standard": r["standard"],
                        "ok": not any(d.severity == "error" for d in r["diagnostics"]),
                        "diagnostics": [
                            d.to_json() for d in sorted(r["diagnostics"], key=lambda d: d.position)
                        ],
                    }
                out = _without_folder([entry], str(folder))
            return formats.json_bytes(out)

        content = await run_with_deadline(executor, settings.timeout, work)
        return Response(content, media_type=formats.JSON)

    async def _served(standard: str, need_examples: bool = True) -> Any:
        """The compiled standard (compiled outside the request's time limit: once)."""
        served = await run_with_deadline(
            executor, max(settings.timeout, 600.0), lambda _: registry.get(standard)
        )
        if need_examples and served.examples_failed:
            raise ApiError(
                422,
                "examples_fail",
                f"standard {standard!r} fails {served.examples_failed} of its own examples, "
                "so it scores nothing (run `sbm test` on it)",
            )
        return served

    return app


def _unreadable(fmt: str, source: str | None, error: str | None) -> ApiError:
    number = (source or "").rpartition(":")[2]
    where = f"{_POSITION.get(fmt, 'record')} {number}"
    return ApiError(
        400,
        "malformed_body",
        f"{where}: {error or 'unreadable'}",
        position=int(number) if number.isdigit() else None,
    )


def _without_folder(value: Any, folder: str) -> Any:
    """The uploaded file named as `standard.sbm` and its folder as `.`, never by the
    service's temporary path."""
    if isinstance(value, str):
        inside = re.escape(folder + os.sep)
        value = re.sub(inside + r"(?=[^\s)\"'])", "", value)  # a file in it: its name
        return value.replace(folder + os.sep, "./").replace(folder, ".")  # the folder
    if isinstance(value, list):
        return [_without_folder(v, folder) for v in value]
    if isinstance(value, dict):
        return {k: _without_folder(v, folder) for k, v in value.items()}
    return value


def _version() -> str:
    from sbm_engine import __version__

    return str(__version__)
