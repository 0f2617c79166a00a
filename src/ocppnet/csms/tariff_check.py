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

import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from ocppnet.csms.core import CsmsCore, CsmsHandler, Payload, RequestContext
from ocppnet.csms.meter import ENERGY_REGISTER
from ocppnet.errors import SecurityError
from ocppnet.rpc.timestamps import parse_timestamp
from ocppnet.store import MeterSample, StationEvent, Store
from ocppnet.tariffs import (
    Context,
    CostMeter,
    Reading,
    TariffError,
    TariffSegment,
    VerifiedTariff,
    parse_tariff,
    readings_from_meter_values,
    tariff_hash,
    verify_tariff,
)
from ocppnet.tariffs.signing import VENDOR_ID

__all__ = [
    "check_cost",
    "readings_from_samples",
    "receipt_lines",
    "with_cost_check",
    "with_meter_values_feed",
]

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


async def _remember_tariffs(core: CsmsCore, station: str, tx: str,
                            payload: Payload) -> list[tuple[datetime, dict[str, Any], bool]]:
    """Store each tariff the event announces; (from, tariff, verified) of each."""
    announced: list[tuple[datetime, dict[str, Any], bool]] = []
    custom = payload.get("customData")
    if not isinstance(custom, dict) or custom.get("vendorId") != VENDOR_ID:
        return announced
    known = {(e.data.get("transactionId"), e.data.get("from"), e.data.get("hash"))
             for e in await core.store.list_station_events(station, TARIFF_IN_USE)}
    for item in custom.get("tariffs") or ():
        tariff, since = item.get("tariff"), parse_timestamp(item.get("from"))
        if not isinstance(tariff, dict) or since is None:
            log.warning("event=tariff_malformed station=%s transaction=%s", station, tx)
            continue
        if (tx, item["from"], tariff_hash(tariff)) in known:
            continue  # the same event again (a retry): stored once
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
        announced.append((since, tariff, verified))
    return announced


async def _rebuild(core: CsmsCore, station: str, tx: str) -> tuple[CostMeter, bool]:
    """The transaction's cost from what the store holds: its tariffs and meter values."""
    record = await core.store.get_transaction(station, tx)
    in_use = [e.data for e in await core.store.list_station_events(station, TARIFF_IN_USE)
              if e.data.get("transactionId") == tx]
    if record is None or not in_use:
        raise TariffError("no stored tariff for this transaction")
    segments = [TariffSegment(parse_timestamp(e["from"]) or core.clock(),
                              parse_tariff(e["tariff"])) for e in in_use]
    meter = CostMeter(segments, context=Context(UTC))
    readings = readings_from_samples(await core.store.list_meter_samples(record.key))
    for reading in sorted(readings, key=lambda r: r.at):
        meter.add(reading)
    return meter, all(e.get("verified") for e in in_use)


def _advance(entry: tuple[CostMeter, bool], payload: Payload,
             announced: list[tuple[datetime, dict[str, Any], bool]]) -> tuple[CostMeter, bool]:
    """The running meter with this event's new tariffs and readings (TariffError: rebuild)."""
    meter, verified = entry
    for since, tariff, ok in announced:
        meter.add_tariff(TariffSegment(since, parse_tariff(tariff)))
        verified = verified and ok
    for reading in readings_from_meter_values(payload.get("meterValue")):
        meter.add(reading)
    return meter, verified


async def check_cost(core: CsmsCore, station: str, payload: Payload) -> dict[str, Any] | None:
    """Store announced tariffs; recompute a reported cost. The CostCheck data, or None.

    A running transaction's meter is kept between events (``core.tariff_meters``) and fed
    with each event's readings; it is rebuilt from the store when missing (a restart), when
    the event does not fit (out of order), after a MeterValues, and always for the Ended
    event, whose check is therefore made from exactly what the store holds."""
    tx = payload["transactionInfo"]["transactionId"]
    key = (station, tx)
    announced = await _remember_tariffs(core, station, tx, payload)
    reported = payload.get("costDetails")
    cached = core.tariff_meters.pop(key, None)
    if not isinstance(reported, dict):
        if cached is not None and payload["eventType"] != "Ended":
            with contextlib.suppress(TariffError):  # else rebuilt at the next priced event
                core.tariff_meters[key] = _advance(cached, payload, announced)
        return None
    result: dict[str, Any] = {"transactionId": tx, "seqNo": payload.get("seqNo"),
                              "eventType": payload["eventType"],
                              "station": reported.get("totalCost", {}).get("total")}
    try:
        entry = None
        if cached is not None and payload["eventType"] != "Ended":
            try:
                entry = _advance(cached, payload, announced)
            except TariffError:
                entry = None
        if entry is None:
            entry = await _rebuild(core, station, tx)
        ours = entry[0].result().cost_details()
        result["csms"] = ours["totalCost"]["total"]
        result["match"] = result["csms"] == result["station"]
        result["verified"] = entry[1]
        if payload["eventType"] != "Ended":
            _keep(core, key, entry)
    except TariffError as exc:
        result.update(csms=None, match=False, verified=False, reason=exc.description)
    if not result["match"]:
        log.warning("event=tariff_cost_mismatch station=%s transaction=%s seq=%s station_cost=%s "
                    "csms_cost=%s", station, tx, result["seqNo"], result["station"],
                    result["csms"])
    await core.store.add_station_event(StationEvent(station, core.clock(), COST_CHECK, result))
    return result


_MAX_RUNNING = 100_000  # transactions whose running meter is kept (oldest forgotten first)


def _keep(core: CsmsCore, key: tuple[str, str], entry: tuple[CostMeter, bool]) -> None:
    meters = core.tariff_meters
    meters[key] = entry
    while len(meters) > _MAX_RUNNING:
        del meters[next(iter(meters))]


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


def with_meter_values_feed(handler: CsmsHandler) -> CsmsHandler:
    """Wrap the MeterValues handler: readings stored against a running transaction outside
    its TransactionEvents; its running meter is rebuilt from the store at the next check."""

    async def forget(core: CsmsCore, ctx: RequestContext, payload: Payload) -> Payload:
        response = await handler(core, ctx, payload)
        for key in [k for k in core.tariff_meters if k[0] == ctx.remote_id]:
            del core.tariff_meters[key]
        return response

    forget.__name__ = handler.__name__
    return forget


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


def price_lines(app: Any) -> Callable[[Any], Awaitable[dict[str, Any] | None]]:
    """The receipt extra (``calibration_routers(app, [price_lines(app)])``): the OCMF
    receipt of a transaction also names the signed tariffs that priced it and the cost."""

    async def lines(tx: Any) -> dict[str, Any] | None:
        return await receipt_lines(app.store, tx.station_id, tx.transaction_id)

    return lines
