"""The CSMS recomputes every cost a 2.1 station reports and flags any difference.

A station that calculates cost locally sends, with its TransactionEvents, the signed tariff(s)
that price the transaction (``customData.tariffs``, see station/tariffs.py) and its running
``costDetails``. The CSMS keeps each tariff as a station event ``TariffInUse`` (with its hash
and whether its issuer signature verified against ``core.tariff_trust``), recomputes the cost
with :func:`ocppnet.tariffs.compute_cost` from the meter values *it* stored and keeps the
comparison as a station event ``CostCheck``. A difference is logged
(``event=tariff_cost_mismatch``). The answer carries the CSMS's ``totalCost`` (running cost
for Updated, the final cost for Ended, as OCPP 2.1 defines it).
"""

from __future__ import annotations

import logging
from datetime import UTC
from typing import Any

from ocppnet.csms.core import CsmsCore, CsmsHandler, Payload, RequestContext
from ocppnet.csms.meter import ENERGY_REGISTER
from ocppnet.errors import SecurityError
from ocppnet.rpc.timestamps import parse_timestamp
from ocppnet.store import MeterSample, StationEvent, Store
from ocppnet.tariffs import (
    Context,
    Reading,
    TariffError,
    TariffSegment,
    VerifiedTariff,
    compute_cost,
    parse_tariff,
    tariff_hash,
    verify_tariff,
)
from ocppnet.tariffs.signing import VENDOR_ID

__all__ = ["check_cost", "readings_from_samples", "receipt_lines", "with_cost_check"]

log = logging.getLogger("ocppnet.csms.tariffs")

TARIFF_IN_USE = "TariffInUse"
COST_CHECK = "CostCheck"
_TO_WH = {"Wh": 1.0, "kWh": 1000.0}


def readings_from_samples(samples: list[MeterSample]) -> list[Reading]:
    """The whole-meter energy register readings among stored samples, in Wh."""
    return [
        Reading(s.timestamp, s.value * _TO_WH[s.unit or "Wh"]) for s in samples
        if s.measurand == ENERGY_REGISTER and s.phase is None and s.value is not None
        and (s.unit or "Wh") in _TO_WH
    ]


def _issuer_check(core: CsmsCore, tx: str, tariff: dict[str, Any]) -> VerifiedTariff:
    """The issuer may have set it as a default or changed the transaction's: either role."""
    try:
        return verify_tariff(tariff, core.tariff_trust, action="SetDefaultTariff",
                             payload={"evseId": 0, "tariff": tariff}, now=core.clock())
    except SecurityError as exc:
        if "may not" not in exc.description:
            raise
    return verify_tariff(tariff, core.tariff_trust, action="ChangeTransactionTariff",
                         payload={"transactionId": tx, "tariff": tariff}, now=core.clock())


async def _remember_tariffs(core: CsmsCore, station: str, tx: str, payload: Payload) -> None:
    custom = payload.get("customData")
    if not isinstance(custom, dict) or custom.get("vendorId") != VENDOR_ID:
        return
    for item in custom.get("tariffs") or ():
        tariff, since = item.get("tariff"), parse_timestamp(item.get("from"))
        if not isinstance(tariff, dict) or since is None:
            log.warning("event=tariff_malformed station=%s transaction=%s", station, tx)
            continue
        verified, issuer, name = False, None, None
        try:
            check = _issuer_check(core, tx, tariff)
            verified, issuer, name = True, check.issuer_key_id, check.issuer
        except SecurityError as exc:
            log.warning("event=tariff_unverified station=%s transaction=%s reason=%r",
                        station, tx, exc.description)
        await core.store.add_station_event(StationEvent(station, core.clock(), TARIFF_IN_USE, {
            "transactionId": tx, "from": item["from"], "tariffId": tariff.get("tariffId"),
            "hash": tariff_hash(tariff), "verified": verified, "issuer": issuer,
            "issuerName": name, "tariff": tariff}))


async def check_cost(core: CsmsCore, station: str, payload: Payload) -> dict[str, Any] | None:
    """Store announced tariffs; recompute a reported cost. The CostCheck data, or None."""
    tx = payload["transactionInfo"]["transactionId"]
    await _remember_tariffs(core, station, tx, payload)
    reported = payload.get("costDetails")
    if not isinstance(reported, dict):
        return None
    record = await core.store.get_transaction(station, tx)
    in_use = [e.data for e in await core.store.list_station_events(station, TARIFF_IN_USE)
              if e.data.get("transactionId") == tx]
    result: dict[str, Any] = {"transactionId": tx, "seqNo": payload.get("seqNo"),
                              "eventType": payload["eventType"],
                              "station": reported.get("totalCost", {}).get("total")}
    try:
        if record is None or not in_use:
            raise TariffError("no stored tariff for this transaction")
        segments = [TariffSegment(parse_timestamp(e["from"]) or core.clock(),
                                  parse_tariff(e["tariff"])) for e in in_use]
        readings = readings_from_samples(await core.store.list_meter_samples(record.key))
        ours = compute_cost(segments, readings, context=Context(UTC)).cost_details()
        result["csms"] = ours["totalCost"]["total"]
        result["match"] = result["csms"] == result["station"]
        result["verified"] = all(e.get("verified") for e in in_use)
    except TariffError as exc:
        result.update(csms=None, match=False, verified=False, reason=exc.description)
    if not result["match"]:
        log.warning("event=tariff_cost_mismatch station=%s transaction=%s seq=%s station_cost=%s "
                    "csms_cost=%s", station, tx, result["seqNo"], result["station"],
                    result["csms"])
    await core.store.add_station_event(StationEvent(station, core.clock(), COST_CHECK, result))
    return result


def with_cost_check(handler: CsmsHandler) -> CsmsHandler:
    """Wrap the TransactionEvent handler: after it stored the event, check the cost."""

    async def checked(core: CsmsCore, ctx: RequestContext, payload: Payload) -> Payload:
        response = await handler(core, ctx, payload)
        if ctx.version == "2.1":
            result = await check_cost(core, ctx.remote_id, payload)
            if result is not None and result.get("csms"):  # running, or final when Ended
                response["totalCost"] = result["csms"]["inclTax"]
        return response

    checked.__name__ = handler.__name__
    return checked


async def receipt_lines(store: Store, station: str, tx: str) -> dict[str, Any] | None:
    """The price part of a transaction's receipt (the OCMF receipt's ``extra``): each signed
    tariff that priced it (id, SHA-256, issuer, verified) and the CSMS's last computed cost
    beside the station's. None when no tariff priced the transaction."""
    tariffs = [e.data for e in await store.list_station_events(station, TARIFF_IN_USE)
               if e.data.get("transactionId") == tx]
    if not tariffs:
        return None
    checks = [e.data for e in await store.list_station_events(station, COST_CHECK)
              if e.data.get("transactionId") == tx]
    last = checks[-1] if checks else {}
    return {
        "tariffs": [{"tariffId": t.get("tariffId"), "sha256": t.get("hash"),
                     "from": t.get("from"), "issuer": t.get("issuerName") or t.get("issuer"),
                     "verified": t.get("verified")} for t in tariffs],
        "cost": last.get("csms"), "stationCost": last.get("station"),
        "costMatches": last.get("match"), "final": last.get("eventType") == "Ended",
    }
