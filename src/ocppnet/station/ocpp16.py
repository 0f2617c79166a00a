"""OCPP 1.6 station behaviour: Start/StopTransaction with the CSMS's transactionId, MeterValues.

The model names transactions locally; a 1.6 CSMS assigns the integer id in
StartTransaction.conf. Queued messages keep the local id and get the CSMS's id when they
are sent (the queue is FIFO, so the StartTransaction is always answered first).
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

from ocppnet.errors import OcppNetError
from ocppnet.rpc.timestamps import format_seconds
from ocppnet.station.events import ModelEvent, TransactionEnded, TransactionStarted
from ocppnet.station.meter import meter_value_16
from ocppnet.station.model import Evse
from ocppnet.station.offline_queue import QueuedMessage
from ocppnet.station.profiles import ProfileRejection, Purpose, profile_16, profile_from_16
from ocppnet.station.states import ConnectorStatus
from ocppnet.station.variables import change_configuration, get_configuration
from ocppnet.transport import CallContext, Handlers

if TYPE_CHECKING:
    from ocppnet.station.runtime import SimulatedStation

_STOP_REASONS_16 = frozenset({"EmergencyStop", "EVDisconnected", "HardReset", "Local", "Other",
                              "PowerLoss", "Reboot", "Remote", "SoftReset", "UnlockCommand",
                              "DeAuthorized"})
_PURPOSES_16 = {"ChargePointMaxProfile": Purpose.STATION_MAX, "TxDefaultProfile":
                Purpose.TX_DEFAULT, "TxProfile": Purpose.TX}
_TRIGGERABLE = frozenset({"BootNotification", "Heartbeat", "StatusNotification", "MeterValues"})


class Ocpp16:
    def __init__(self, station: SimulatedStation) -> None:
        self.station = station
        # local transaction id -> CSMS transactionId, kept with the offline queue (on disk
        # when it is), so what was queued before a crash still finds its CSMS id after it
        self._csms_ids = station.queue.ids

    def csms_id(self, local_id: str) -> int | None:
        return self._csms_ids.get(local_id)

    def _local_id(self, csms_id: int) -> str | None:
        for local, remote in self._csms_ids.items():
            if remote == csms_id:
                return local
        return None

    # --- outgoing ----------------------------------------------------------------------

    def boot_request(self, reason: str) -> dict[str, Any]:
        return {"chargePointVendor": "ocppnet", "chargePointModel": "SimStation",
                "chargePointSerialNumber": self.station.station_id[:25],
                "firmwareVersion": "0.1.0"}

    def status_value(self, status: ConnectorStatus) -> str:
        return status.value

    def status_request(self, evse_id: int, connector_id: int, status: ConnectorStatus,
                       now: float) -> dict[str, Any]:
        return {"connectorId": evse_id, "status": status.value, "timestamp": format_seconds(now),
                "errorCode": "OtherError" if status is ConnectorStatus.FAULTED else "NoError"}

    def authorize_request(self, id_token: str) -> dict[str, Any]:
        return {"idTag": id_token[:20]}

    def authorize_accepted(self, response: dict[str, Any]) -> bool:
        return bool(response.get("idTagInfo", {}).get("status") == "Accepted")

    def transaction_messages(self, event: ModelEvent, now: float,
                             offline: bool) -> list[QueuedMessage]:
        if isinstance(event, TransactionStarted):
            return [QueuedMessage("StartTransaction", {
                "connectorId": event.evse_id, "idTag": event.id_token[:20],
                "meterStart": int(event.meter_wh), "timestamp": format_seconds(now)},
                event.transaction_id)]
        if isinstance(event, TransactionEnded):
            payload: dict[str, Any] = {
                "transactionId": 0, "meterStop": int(event.meter_wh),
                "timestamp": format_seconds(now),
                "reason": event.reason if event.reason in _STOP_REASONS_16 else (
                    "HardReset" if event.reason == "ImmediateReset" else "Other")}
            if event.id_token is not None:
                payload["idTag"] = event.id_token[:20]
            return [QueuedMessage("StopTransaction", payload, event.transaction_id)]
        return []  # status changes travel as StatusNotification

    def meter_message(self, evse: Evse, now: float, offline: bool,
                      triggered: bool = False) -> QueuedMessage | None:
        session = evse.session
        if session is None or session.transaction_id is None or session.ended:
            return None
        return QueuedMessage("MeterValues", {
            "connectorId": evse.id, "transactionId": 0, "meterValue": [meter_value_16(
                now, evse.energy_wh, evse.power_w, "Trigger" if triggered else "Sample.Periodic")]},
            session.transaction_id, droppable=not triggered)

    def triggered_meter_values(self, evse: Evse, now: float) -> tuple[str, dict[str, Any]]:
        payload: dict[str, Any] = {"connectorId": evse.id, "meterValue": [
            meter_value_16(now, evse.energy_wh, evse.power_w, "Trigger")]}
        session = evse.session
        if session is not None and session.transaction_id is not None and not session.ended:
            remote = self.csms_id(session.transaction_id)
            if remote is not None:
                payload["transactionId"] = remote
        return "MeterValues", payload

    def prepare(self, message: QueuedMessage) -> dict[str, Any] | None:
        if message.action == "StartTransaction" or message.tx_ref is None:
            return message.payload
        remote = self._csms_ids.get(message.tx_ref)
        if remote is None:
            return None  # its StartTransaction was refused: nothing to attach it to
        return {**message.payload, "transactionId": remote}

    def delivered(self, message: QueuedMessage, response: dict[str, Any]) -> None:
        if message.tx_ref is None:
            return
        if message.action == "StartTransaction":
            self._csms_ids[message.tx_ref] = int(response["transactionId"])
            if response.get("idTagInfo", {}).get("status") != "Accepted":
                station = self.station
                evse = station.model.find_transaction(message.tx_ref)
                if evse is not None:
                    station.apply(station.model.stop(evse.id, "DeAuthorized",
                                                     station.clock.now()))
        elif message.action == "StopTransaction":
            self._csms_ids.pop(message.tx_ref, None)

    # --- incoming ----------------------------------------------------------------------

    def register(self, handlers: Handlers) -> None:
        handlers.add("RemoteStartTransaction", self.on_remote_start)
        handlers.add("RemoteStopTransaction", self.on_remote_stop)
        handlers.add("SetChargingProfile", self.on_set_charging_profile)
        handlers.add("ClearChargingProfile", self.on_clear_charging_profile)
        handlers.add("Reset", self.on_reset)
        handlers.add("GetConfiguration", self.on_get_configuration)
        handlers.add("ChangeConfiguration", self.on_change_configuration)
        handlers.add("TriggerMessage", self.on_trigger_message)

    async def on_remote_start(self, ctx: CallContext, payload: dict[str, Any]) -> dict[str, Any]:
        station, model = self.station, self.station.model
        now = station.clock.now()
        connector = payload.get("connectorId")
        evse = model.free_evse() if not connector else model.evses.get(connector)
        if evse is None or evse.session is not None or \
                evse.status(1) is not ConnectorStatus.AVAILABLE:
            return {"status": "Rejected"}
        raw_profile = payload.get("chargingProfile")
        profile = None
        if raw_profile is not None:
            profile = profile_16(raw_profile, evse.id, now)
            if isinstance(profile, ProfileRejection) or profile.purpose is not Purpose.TX:
                return {"status": "Rejected"}
        try:
            events = model.authorize(evse.id, payload["idTag"], now)
            events += model.plug_in(evse.id, station.scenario.new_ev(station.rng), now)
        except OcppNetError:
            return {"status": "Rejected"}
        session = evse.session
        if profile is not None and session is not None and session.transaction_id:
            model.profiles.install(dataclasses.replace(
                profile, transaction_id=session.transaction_id))
            events += model.advance(now)
        station.apply(events)
        return {"status": "Accepted"}

    async def on_remote_stop(self, ctx: CallContext, payload: dict[str, Any]) -> dict[str, Any]:
        station = self.station
        local = self._local_id(payload["transactionId"])
        evse = None if local is None else station.model.find_transaction(local)
        if evse is None:
            return {"status": "Rejected"}
        station.apply(station.model.stop(evse.id, "Remote", station.clock.now()))
        return {"status": "Accepted"}

    async def on_set_charging_profile(self, ctx: CallContext,
                                      payload: dict[str, Any]) -> dict[str, Any]:
        station, model = self.station, self.station.model
        now = station.clock.now()
        parsed = profile_from_16(payload, now)
        if isinstance(parsed, ProfileRejection):
            return {"status": "Rejected"}
        if parsed.evse_id != 0 and parsed.evse_id not in model.evses:
            return {"status": "Rejected"}
        if parsed.purpose is Purpose.TX:
            session = model.evses[parsed.evse_id].session
            running = session.transaction_id if session and not session.ended else None
            wanted = None if parsed.transaction_id is None else self._local_id(
                int(parsed.transaction_id))
            if running is None or (parsed.transaction_id is not None and wanted != running):
                return {"status": "Rejected"}
            parsed = dataclasses.replace(parsed, transaction_id=running)
        events = model.advance(now)
        model.profiles.install(parsed)
        station.apply(events + model.advance(now))
        return {"status": "Accepted"}

    async def on_clear_charging_profile(self, ctx: CallContext,
                                        payload: dict[str, Any]) -> dict[str, Any]:
        station, model = self.station, self.station.model
        purpose = payload.get("chargingProfilePurpose")
        now = station.clock.now()
        events = model.advance(now)
        removed = model.profiles.clear(
            profile_id=payload.get("id"), evse_id=payload.get("connectorId"),
            purpose=None if purpose is None else _PURPOSES_16[purpose],
            stack_level=payload.get("stackLevel"))
        station.apply(events + model.advance(now))
        return {"status": "Accepted" if removed else "Unknown"}

    async def on_reset(self, ctx: CallContext, payload: dict[str, Any]) -> dict[str, Any]:
        reason = "HardReset" if payload["type"] == "Hard" else "SoftReset"
        self.station.stop_all(reason)
        self.station.reset_pending = reason
        self.station.wake()
        return {"status": "Accepted"}

    async def on_get_configuration(self, ctx: CallContext,
                                   payload: dict[str, Any]) -> dict[str, Any]:
        known, unknown = get_configuration(self.station.tunables, payload.get("key"))
        result: dict[str, Any] = {"configurationKey": known}
        if unknown:
            result["unknownKey"] = unknown
        return result

    async def on_change_configuration(self, ctx: CallContext,
                                      payload: dict[str, Any]) -> dict[str, Any]:
        status = change_configuration(self.station.tunables, payload["key"], payload["value"])
        self.station.wake()
        return {"status": status}

    async def on_trigger_message(self, ctx: CallContext,
                                 payload: dict[str, Any]) -> dict[str, Any]:
        what = payload["requestedMessage"]
        if what not in _TRIGGERABLE:
            return {"status": "NotImplemented"}
        connector = payload.get("connectorId")
        if connector and connector not in self.station.model.evses:
            return {"status": "Rejected"}
        self.station.trigger(what, connector)
        return {"status": "Accepted"}

