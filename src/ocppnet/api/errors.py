"""One JSON shape for every refusal of the HTTP API: ``{"error": code, "detail": message}``.

``raise ApiError(404, "unknown_station", "station CS-9 is not connected")`` in a route;
:func:`install_error_handlers` also turns FastAPI's own errors (request validation, unknown
route, wrong method) into that shape, so a client reads one format and the message names
the field or thing that was wrong.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse, Response

_REASONS = {
    400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
    405: "method_not_allowed", 409: "conflict", 422: "invalid_request", 500: "internal_error",
    502: "bad_gateway", 503: "unavailable", 504: "timeout",
}


class ApiError(Exception):
    """An HTTP error with a machine-readable ``error`` code and a human ``detail`` line;
    ``extra`` adds fields to the body (e.g. the OCPP errorCode of a CALLERROR)."""

    def __init__(
        self,
        status: int,
        error: str,
        detail: str,
        *,
        headers: Mapping[str, str] | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.error = error
        self.detail = detail
        self.headers = dict(headers or {})
        self.extra = dict(extra or {})


def error_body(error: str, detail: str, **extra: Any) -> dict[str, Any]:
    return {"error": error, "detail": detail, **extra}


def field_location(loc: Sequence[int | str]) -> str:
    """``("body", "payload", "evseId")`` -> ``body.payload.evseId``; list indexes in []."""
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def validation_detail(errors: Sequence[Mapping[str, Any]]) -> str:
    """The first validation problem as ``where: what`` (and how many more)."""
    if not errors:
        return "invalid request"
    first = errors[0]
    where = field_location(tuple(first.get("loc", ())))
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return f"{where or 'request'}: {str(first.get('msg', 'invalid')).lower()}{more}"


async def _api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return JSONResponse(error_body(exc.error, exc.detail, **exc.extra), exc.status,
                        headers=exc.headers or None)


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    return JSONResponse(error_body("invalid_request", validation_detail(exc.errors())), 422)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    detail = exc.detail
    if exc.status_code == 404 and detail == "Not Found":
        detail = f"no such path: {request.method} {request.url.path}"
    elif exc.status_code == 405:
        detail = f"{request.method} is not allowed on {request.url.path}"
    return JSONResponse(error_body(_REASONS.get(exc.status_code, "error"), str(detail)),
                        exc.status_code, headers=getattr(exc, "headers", None))


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
