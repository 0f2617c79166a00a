"""The price of a transaction on the CSMS operator API (scope ``read``): the signed tariffs
that priced it, the station's cost and the CSMS's recomputation (docs/tariffs.md)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends

from ocppnet.api import ApiError, require_scope
from ocppnet.csms.app import CsmsApp
from ocppnet.csms.tariff_check import COST_CHECK, receipt_lines

__all__ = ["tariff_router"]


def tariff_router(app: CsmsApp) -> APIRouter:
    router = APIRouter(tags=["tariffs"], dependencies=[Depends(require_scope("read"))])

    @router.get("/stations/{station_id}/transactions/{transaction_id}/price",
                summary="tariffs (id, SHA-256, issuer, verified) and cost, station vs CSMS")
    async def price(station_id: str, transaction_id: str) -> dict[str, Any]:
        lines = await receipt_lines(app.store, station_id, transaction_id)
        if lines is None:
            raise ApiError(404, "no_tariff",
                           f"no tariff priced transaction {transaction_id} of {station_id}")
        checks = [e.data for e in await app.store.list_station_events(station_id, COST_CHECK)
                  if e.data.get("transactionId") == transaction_id]
        return {**lines, "checks": checks}

    return router
