"""The DSO service's HTTP API (FastAPI router, mounted under ``/api/v1``).

``GET /grid/status`` (targets: wanted limit, proven receipt, measurements), ``GET
/grid/audit``, ``POST /grid/curtail`` and ``POST /grid/release``. Reading needs the ``read``
scope, commands the ``operator`` scope, when the process's API checks tokens (the
dependencies are passed in, so the router works in any FastAPI app).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi import APIRouter, Query
from fastapi.params import Depends
from pydantic import BaseModel, Field

from ocppnet.api import ApiError
from ocppnet.grid.operator import CommandRefused, GridOperator

__all__ = ["grid_router"]


class CurtailBody(BaseModel):
    target: str = Field(description="id of the site's node or of the station")
    limitW: float = Field(description="consumption limit (W)")
    durationS: float = Field(description="how long the limit holds (s)")


class ReleaseBody(BaseModel):
    target: str = Field(description="id of the site's node or of the station")


def _refused(exc: CommandRefused) -> ApiError:
    """404 for an unknown target, 422 for a command the law or the limits forbid; the
    ``error`` is the reason code (``BelowMinimum``, ``InvalidDuration``...)."""
    status = 404 if exc.reason_code == "UnknownTarget" else 422
    return ApiError(status, exc.reason_code, exc.description)


def grid_router(
    operator: GridOperator,
    *,
    read: Sequence[Depends] = (),
    command: Sequence[Depends] = (),
) -> APIRouter:
    """The routes of ``operator``; ``read`` / ``command``: FastAPI dependencies that check
    the caller (e.g. ``[Depends(require_scope("operator"))]``)."""
    router = APIRouter(prefix="/grid", tags=["grid"])

    @router.get("/status", dependencies=list(read), summary="targets, limits, receipts")
    async def status() -> dict[str, Any]:
        return operator.status()

    @router.get("/audit", dependencies=list(read), summary="the audit log, newest first")
    async def audit(target: str | None = None,
                    limit: int = Query(50, ge=1, le=1000)) -> dict[str, Any]:
        entries = await operator.audit.recent(target=target, limit=limit)
        return {"entries": [e.as_json() for e in entries]}

    @router.post("/curtail", dependencies=list(command), summary="limit a target")
    async def curtail(body: CurtailBody) -> dict[str, Any]:
        try:
            entry = await operator.curtail(body.target, body.limitW, body.durationS)
        except CommandRefused as exc:
            raise _refused(exc) from None
        return entry.as_json()

    @router.post("/release", dependencies=list(command), summary="lift a target's limit")
    async def release(body: ReleaseBody) -> dict[str, Any]:
        try:
            entry = await operator.release(body.target)
        except CommandRefused as exc:
            raise _refused(exc) from None
        return entry.as_json()

    return router
