"""HTTP routes of the calibration law, as a FastAPI router for the operator API.

``GET /api/v1/transactions/{id}/transparency``: the transparency file (XML) the S.A.F.E.
transparency software opens; ``GET /api/v1/transactions/{id}/receipt``: the receipt as
JSON, or as a printable page with ``?format=html`` (or ``Accept: text/html``). A transaction
id that two stations use needs ``?station=``. The caller passes the dependencies that guard
the routes (the operator API's ``require_scope("read")``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import fastapi
from fastapi import APIRouter, Request
from fastapi.params import Depends
from fastapi.responses import HTMLResponse, JSONResponse, Response

from ocppnet.api import ApiError, require_scope
from ocppnet.csms.receipt import build_receipt, receipt_html, receipt_json
from ocppnet.csms.signed_meter import SignedMeterService, TransactionMeterReport
from ocppnet.metering import write_transparency
from ocppnet.store import TransactionRecord

if TYPE_CHECKING:
    from ocppnet.csms.app import CsmsApp

__all__ = ["ReceiptExtra", "calibration_routers", "metering_router"]

ReceiptExtra = Callable[[TransactionRecord], Awaitable[Mapping[str, Any] | None]]


def calibration_routers(app: CsmsApp, extras: Sequence[ReceiptExtra] = ()) -> list[APIRouter]:
    """For ``csms_api(..., extra_routers=...)``: the routes with scope ``read``, when the app
    verifies signed readings (``[metering]``), else none."""
    if app.signed_meter is None:
        return []
    return [metering_router(app.signed_meter, [fastapi.Depends(require_scope("read"))], extras)]


def metering_router(service: SignedMeterService, dependencies: Sequence[Depends] = (),
                    extras: Sequence[ReceiptExtra] = ()) -> APIRouter:
    """The two routes, reading transactions and signed readings from ``service.store``."""
    router = APIRouter(prefix="/transactions", tags=["calibration law"],
                       dependencies=list(dependencies))

    async def find(transaction_id: str, station: str | None) -> TransactionRecord:
        if station is not None:
            tx = await service.store.get_transaction(station, transaction_id)
            if tx is None:
                raise ApiError(404, "unknown_transaction",
                               f"no transaction {transaction_id} of station {station}")
            return tx
        matches = [t for t in await service.store.list_transactions()
                   if t.transaction_id == transaction_id]
        if not matches:
            raise ApiError(404, "unknown_transaction", f"no transaction {transaction_id}")
        if len(matches) > 1:
            stations = ", ".join(sorted(t.station_id for t in matches))
            raise ApiError(409, "ambiguous_transaction", f"transaction id {transaction_id} is "
                           f"used by stations {stations}: add ?station=")
        return matches[0]

    async def report(transaction_id: str, station: str | None) -> TransactionMeterReport:
        return await service.report(await find(transaction_id, station))

    @router.get("/{transaction_id}/transparency",
                summary="Transparency file (XML) of a transaction's signed meter readings",
                response_class=Response,
                responses={200: {"content": {"application/xml": {}}}})
    async def transparency(transaction_id: str, station: str | None = None) -> Response:
        result = await report(transaction_id, station)
        if not result.readings:
            raise ApiError(404, "no_signed_readings",
                           f"transaction {transaction_id} has no signed readings")
        name = f"transparency-{result.transaction.station_id}-{transaction_id}.xml"
        safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in name)
        return Response(write_transparency(result.transparency_entries()),
                        media_type="application/xml",
                        headers={"Content-Disposition": f'attachment; filename="{safe}"'})

    @router.get("/{transaction_id}/receipt",
                summary="Receipt: energy, times, meter serial and the OCMF records")
    async def receipt(request: Request, transaction_id: str, station: str | None = None,
                      format: str | None = None) -> Any:
        found = await report(transaction_id, station)
        result = build_receipt(found)
        lines: dict[str, Any] = {}
        for extra in extras:
            lines.update(await extra(found.transaction) or {})
        if lines:
            result = dataclasses.replace(result, extra=lines)
        wants_html = format == "html" or (
            format is None and "text/html" in request.headers.get("accept", ""))
        if format not in (None, "json", "html"):
            raise ApiError(400, "bad_request", f"format: {format!r} is neither json nor html")
        if wants_html:
            return HTMLResponse(receipt_html(result))
        return JSONResponse(receipt_json(result))

    return router
