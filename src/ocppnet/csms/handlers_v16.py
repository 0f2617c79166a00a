"""CSMS handlers for OCPP 1.6 (JSON): same contract as :mod:`.handlers_v2`.

In 1.6 the CSMS assigns the transaction id (an integer) in StartTransaction; the store's
row key serves, so ids are unique across stations and survive restarts.
"""

from __future__ import annotations

from ocppnet.csms.authorization import id_tag_info, token_status
from ocppnet.csms.core import CsmsCore, CsmsHandler, Payload, RequestContext
from ocppnet.csms.events import ConnectorChanged, EnergyChanged
from ocppnet.csms.meter import energy_wh, samples_v16
from ocppnet.csms.natural_keys import (
    meter_values_key,
    start_transaction_key,
    station_event_key,
    stop_transaction_key,
)
from ocppnet.errors import InternalError
from ocppnet.rpc.timestamps import parse_timestamp
from ocppnet.store import (
    ConnectorRecord,
    NewTransaction,
    StationEvent,
    TransactionEnd,
    TransactionUpdate,
)


async def boot_notification(core: CsmsCore, ctx: RequestContext, payload: Payload) -> Payload:
    return await core.accept_boot(
        ctx,
        vendor=payload["chargePointVendor"],
        model=payload["chargePointModel"],
        serial_number=payload.get("chargePointSerialNumber"),
        firmware=payload.get("firmwareVersion"),
    )


async def heartbeat(core: CsmsCore, ctx: RequestContext, payload: Payload) -> Payload:
    return await core.heartbeat(ctx)


async def status_notification(core: CsmsCore, ctx: RequestContext, payload: Payload) -> Payload:
    """1.6 has connectors only; stored as EVSE = connector (connector 0 is the station)."""
    at = parse_timestamp(payload.get("timestamp")) or core.clock()
    connector = payload["connectorId"]
    error = payload["errorCode"]
    record = ConnectorRecord(
        ctx.remote_id, connector, connector, payload["status"], at,
        None if error == "NoError" else error,
    )
    await core.store.set_connector_status(record)
    core.bus.publish(ConnectorChanged(at, ctx.remote_id, connector, connector, record.status))
    return {}


async def _tag_info(core: CsmsCore, id_tag: str) -> Payload:
    record = await core.store.get_id_token(id_tag)
    status = token_status(
        record, accept_unknown=core.config.accept_unknown_tokens, now=core.clock()
    )
    return id_tag_info(status, record)


async def authorize(core: CsmsCore, ctx: RequestContext, payload: Payload) -> Payload:
    return {"idTagInfo": await _tag_info(core, payload["idTag"])}


async def start_transaction(core: CsmsCore, ctx: RequestContext, payload: Payload) -> Payload:
    """Stored even when the tag is refused: the station has started it and will stop it."""
    now = core.clock()
    at = parse_timestamp(payload["timestamp"]) or now
    connector = payload["connectorId"]
    applied = await core.store.apply_once(
        start_transaction_key(ctx.remote_id, payload),
        TransactionUpdate(ctx.remote_id, new=NewTransaction(
            station_id=ctx.remote_id,
            started_at=at,
            evse_id=connector,
            connector_id=connector,
            id_token=payload["idTag"],
            meter_start=float(payload["meterStart"]),
        )),
        now,
    )
    tx = applied.transaction
    if tx is None:  # a start always has its transaction (the first one's, if repeated)
        raise InternalError(f"StartTransaction of {ctx.remote_id} left no transaction")
    if not applied.duplicate:
        core.bus.publish(
            EnergyChanged(now, ctx.remote_id, tx.transaction_id, tx.state, tx.energy_wh,
                          connector)
        )
    return {"transactionId": tx.key, "idTagInfo": await _tag_info(core, payload["idTag"])}


async def meter_values(core: CsmsCore, ctx: RequestContext, payload: Payload) -> Payload:
    now = core.clock()
    connector = payload["connectorId"]
    tx_id = payload.get("transactionId")
    samples = samples_v16(payload["meterValue"], station_id=ctx.remote_id, now=now,
                          connector_id=connector)
    register = energy_wh(samples)
    applied = await core.store.apply_once(
        meter_values_key(ctx.remote_id, payload),
        TransactionUpdate(ctx.remote_id, transaction_id=None if tx_id is None else str(tx_id),
                          samples=tuple(samples), register_wh=register),
        now,
    )
    updated = applied.transaction
    if updated is not None and register is not None and not applied.duplicate:
        core.bus.publish(
            EnergyChanged(now, ctx.remote_id, updated.transaction_id, updated.state,
                          updated.energy_wh, connector)
        )
    return {}


async def stop_transaction(core: CsmsCore, ctx: RequestContext, payload: Payload) -> Payload:
    """Ends the transaction (an unknown id is still answered, as the spec requires)."""
    now = core.clock()
    at = parse_timestamp(payload["timestamp"]) or now
    tx_id = str(payload["transactionId"])
    tx = await core.store.get_transaction(ctx.remote_id, tx_id)
    id_tag = payload.get("idTag")
    if tx is not None:
        samples = samples_v16(
            payload.get("transactionData", ()), station_id=ctx.remote_id, now=now,
            connector_id=tx.connector_id,
        )
        applied = await core.store.apply_once(
            stop_transaction_key(ctx.remote_id, payload),
            TransactionUpdate(ctx.remote_id, transaction_id=tx_id, samples=tuple(samples),
                              end=TransactionEnd(
                                  stopped_at=at,
                                  meter_stop=float(payload["meterStop"]),
                                  stop_reason=payload.get("reason", "Local"),
                                  id_token=id_tag,
                              )),
            now,
        )
        ended = applied.transaction
        if ended is not None and not applied.duplicate:
            core.bus.publish(
                EnergyChanged(now, ctx.remote_id, ended.transaction_id, ended.state,
                              ended.energy_wh, ended.evse_id)
            )
    return {"idTagInfo": await _tag_info(core, id_tag)} if id_tag else {}


async def security_event_notification(
    core: CsmsCore, ctx: RequestContext, payload: Payload
) -> Payload:
    now = core.clock()
    await core.store.add_station_event_once(
        station_event_key(ctx.remote_id, "SecurityEvent", payload),
        StationEvent(ctx.remote_id, now, "SecurityEvent", payload), now,
    )
    return {}


async def data_transfer(core: CsmsCore, ctx: RequestContext, payload: Payload) -> Payload:
    await core.store.add_station_event(
        StationEvent(ctx.remote_id, core.clock(), "DataTransfer", payload)
    )
    return {"status": "UnknownVendorId"}


HANDLERS: dict[str, CsmsHandler] = {
    "BootNotification": boot_notification,
    "Heartbeat": heartbeat,
    "StatusNotification": status_notification,
    "Authorize": authorize,
    "StartTransaction": start_transaction,
    "MeterValues": meter_values,
    "StopTransaction": stop_transaction,
    "SecurityEventNotification": security_event_notification,
    "DataTransfer": data_transfer,
}
