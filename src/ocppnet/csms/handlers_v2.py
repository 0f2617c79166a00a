"""CSMS handlers for OCPP 2.0.1 and 2.1 (the core messages have the same shape in both).

Each handler is ``async def h(core, ctx, payload) -> response``; the request was validated
against the official schema by the transport, so required fields are present.
"""

from __future__ import annotations

import logging

from ocppnet.csms.authorization import id_token_info, token_status
from ocppnet.csms.core import CsmsCore, CsmsHandler, Payload, RequestContext
from ocppnet.csms.events import ConnectorChanged, EnergyChanged
from ocppnet.csms.meter import energy_wh, samples_v2
from ocppnet.csms.natural_keys import (
    meter_values_key,
    station_event_key,
    transaction_event_key,
)
from ocppnet.csms.tariff_check import with_cost_check, with_meter_values_feed
from ocppnet.rpc.timestamps import parse_timestamp
from ocppnet.store import (
    ConnectorRecord,
    NewTransaction,
    StationEvent,
    TransactionEnd,
    TransactionUpdate,
)

log = logging.getLogger("ocppnet.csms")


async def boot_notification(core: CsmsCore, ctx: RequestContext, payload: Payload) -> Payload:
    station = payload["chargingStation"]
    return await core.accept_boot(
        ctx,
        vendor=station["vendorName"],
        model=station["model"],
        serial_number=station.get("serialNumber"),
        firmware=station.get("firmwareVersion"),
        reason=payload.get("reason"),
    )


async def heartbeat(core: CsmsCore, ctx: RequestContext, payload: Payload) -> Payload:
    return await core.heartbeat(ctx)


async def status_notification(core: CsmsCore, ctx: RequestContext, payload: Payload) -> Payload:
    at = parse_timestamp(payload.get("timestamp")) or core.clock()
    record = ConnectorRecord(
        ctx.remote_id, payload["evseId"], payload["connectorId"], payload["connectorStatus"], at
    )
    await core.store.set_connector_status(record)
    core.bus.publish(
        ConnectorChanged(at, ctx.remote_id, record.evse_id, record.connector_id, record.status)
    )
    return {}


async def _token_info(core: CsmsCore, id_token: Payload) -> Payload:
    record = await core.store.get_id_token(id_token["idToken"])
    status = token_status(
        record, accept_unknown=core.config.accept_unknown_tokens, now=core.clock()
    )
    return id_token_info(status)


async def authorize(core: CsmsCore, ctx: RequestContext, payload: Payload) -> Payload:
    return {"idTokenInfo": await _token_info(core, payload["idToken"])}


async def transaction_event(core: CsmsCore, ctx: RequestContext, payload: Payload) -> Payload:
    """Started/Updated/Ended: one transaction row, its meter values, its energy.

    A transaction first seen in an Updated or Ended event (its Started was lost) is created
    then, so no energy is ever dropped.
    """
    now = core.clock()
    at = parse_timestamp(payload["timestamp"]) or now
    info = payload["transactionInfo"]
    evse = payload.get("evse") or {}
    token = payload.get("idToken")
    station = ctx.remote_id
    samples = samples_v2(payload.get("meterValue", ()), station_id=station, now=now,
                         evse_id=evse.get("id"))
    register = energy_wh(samples)
    end = None
    if payload["eventType"] == "Ended":
        end = TransactionEnd(stopped_at=at, meter_stop=register,
                             stop_reason=info.get("stoppedReason", "Local"),
                             id_token=token["idToken"] if token else None)
    applied = await core.store.apply_once(
        transaction_event_key(station, payload),
        TransactionUpdate(
            station,
            new=NewTransaction(
                station_id=station,
                started_at=at,
                transaction_id=info["transactionId"],
                evse_id=evse.get("id"),
                connector_id=evse.get("connectorId"),
                id_token=token["idToken"] if token else None,
                remote_start_id=info.get("remoteStartId"),
            ),
            samples=tuple(samples), register_wh=register, end=end,
        ),
        now,
    )
    updated = applied.transaction
    if applied.duplicate:
        log.info("event=duplicate_not_stored station=%s action=TransactionEvent "
                 "transaction=%s seq_no=%s", station, info["transactionId"], payload["seqNo"])
    elif updated is not None:
        core.bus.publish(
            EnergyChanged(now, station, updated.transaction_id, updated.state,
                          updated.energy_wh, updated.evse_id)
        )
    response: Payload = {}
    if token:
        response["idTokenInfo"] = await _token_info(core, token)
    return response


async def meter_values(core: CsmsCore, ctx: RequestContext, payload: Payload) -> Payload:
    """Meter values outside TransactionEvent: attached to the EVSE's active transaction
    (looked up in the same store job that claims the key and writes the samples)."""
    now = core.clock()
    evse_id = payload["evseId"]
    samples = samples_v2(payload["meterValue"], station_id=ctx.remote_id, now=now,
                         evse_id=evse_id)
    register = energy_wh(samples)
    applied = await core.store.apply_once(
        meter_values_key(ctx.remote_id, payload),
        TransactionUpdate(ctx.remote_id, active_on_evse=evse_id, samples=tuple(samples),
                          register_wh=register),
        now,
    )
    updated = applied.transaction
    if updated is not None and not applied.duplicate and register is not None:
        core.bus.publish(
            EnergyChanged(now, ctx.remote_id, updated.transaction_id, updated.state,
                          updated.energy_wh, evse_id)
        )
    return {}


def _keep(kind: str) -> CsmsHandler:
    """A handler that stores the request as a station event and answers ``{}``."""

    async def handler(core: CsmsCore, ctx: RequestContext, payload: Payload) -> Payload:
        now = core.clock()
        await core.store.add_station_event_once(
            station_event_key(ctx.remote_id, kind, payload),
            StationEvent(ctx.remote_id, now, kind, payload), now,
        )
        return {}

    handler.__name__ = f"keep_{kind}"
    return handler


async def data_transfer(core: CsmsCore, ctx: RequestContext, payload: Payload) -> Payload:
    """Stored; no vendor extension is implemented, so the vendor is unknown (the spec's answer)."""
    await core.store.add_station_event(
        StationEvent(ctx.remote_id, core.clock(), "DataTransfer", payload)
    )
    return {"status": "UnknownVendorId"}


async def open_periodic_event_stream(
    core: CsmsCore, ctx: RequestContext, payload: Payload
) -> Payload:
    """2.1: a station opens a telemetry stream. The CSMS accepts it; the values go to whoever
    a node mirrors them to (a digital twin, docs/digital-twin.md), not into this store."""
    return {"status": "Accepted"}


async def close_periodic_event_stream(
    core: CsmsCore, ctx: RequestContext, payload: Payload
) -> Payload:
    return {}


async def periodic_event_stream(core: CsmsCore, ctx: RequestContext, payload: Payload) -> Payload:
    """2.1 SEND NotifyPeriodicEventStream that reached the CSMS (not mirrored away): taken,
    not stored (telemetry belongs in a twin's time series, not in the transaction store)."""
    return {}


HANDLERS: dict[str, CsmsHandler] = {
    "BootNotification": boot_notification,
    "Heartbeat": heartbeat,
    "StatusNotification": status_notification,
    "Authorize": authorize,
    "TransactionEvent": with_cost_check(transaction_event),  # 2.1 local cost, recomputed
    "MeterValues": with_meter_values_feed(meter_values),
    "NotifyReport": _keep("NotifyReport"),
    "NotifyEvent": _keep("NotifyEvent"),
    "SecurityEventNotification": _keep("SecurityEvent"),
    "DataTransfer": data_transfer,
    "OpenPeriodicEventStream": open_periodic_event_stream,
    "ClosePeriodicEventStream": close_periodic_event_stream,
    "NotifyPeriodicEventStream": periodic_event_stream,
    "NotifySettlement": _keep("NotifySettlement"),  # 2.1 C24/C25: a payment was settled
}
