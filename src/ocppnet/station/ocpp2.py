"""OCPP 2.0.1 / 2.1 station behaviour: TransactionEvent with seqNo, and the CSMS's requests."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

from ocppnet.errors import OcppNetError
from ocppnet.rpc.timestamps import format_seconds
from ocppnet.station.events import (
    ChargingStateChanged,
    ModelEvent,
    StatusChanged,
    TransactionEnded,
    TransactionStarted,
)
from ocppnet.station.meter import meter_value_2
from ocppnet.station.model import Evse
from ocppnet.station.offline_queue import QueuedMessage
from ocppnet.station.profiles import ChargingProfile, ProfileRejection, Purpose, profile_from_201
from ocppnet.station.states import ConnectorStatus, is_active
from ocppnet.station.variables import get_variable, set_variable
from ocppnet.transport import CallContext, Handlers

if TYPE_CHECKING:
    from ocppnet.station.runtime import SimulatedStation

_END_TRIGGER = {
    "Remote": "RemoteStop",
    "EVDisconnected": "EVCommunicationLost",
    "Local": "StopAuthorized",
    "DeAuthorized": "Deauthorized",
    "ImmediateReset": "ResetCommand",
}
_TRIGGERABLE = frozenset(
    {"BootNotification", "Heartbeat", "StatusNotification", "MeterValues", "TransactionEvent"})


def _rejected(reason_code: str, detail: str = "") -> dict[str, Any]:
    info: dict[str, Any] = {"reasonCode": reason_code[:20]}
    if detail:
        info["additionalInfo"] = detail[:512]
    return {"status": "Rejected", "statusInfo": info}


class Ocpp2:
    """The 2.0.1 and 2.1 dialect (the message subset the simulator uses is the same)."""

    def __init__(self, station: SimulatedStation) -> None:
        self.station = station
        self._seq: dict[str, int] = {}
        self._id_tokens: dict[str, dict[str, Any]] = {}  # remote starts: the token as given

    # --- outgoing ----------------------------------------------------------------------

    def boot_request(self, reason: str) -> dict[str, Any]:
        return {"reason": reason, "chargingStation": {
            "vendorName": "ocppnet", "model": "SimStation",
            "serialNumber": self.station.station_id[:25], "firmwareVersion": "0.1.0"}}

    def status_value(self, status: ConnectorStatus) -> str:
        return status.as_201()

    def status_request(self, evse_id: int, connector_id: int, status: ConnectorStatus,
                       now: float) -> dict[str, Any]:
        return {"timestamp": format_seconds(now), "connectorStatus": status.as_201(),
                "evseId": evse_id, "connectorId": connector_id}

    def authorize_request(self, id_token: str) -> dict[str, Any]:
        return {"idToken": {"idToken": id_token, "type": "ISO14443"}}

    def authorize_accepted(self, response: dict[str, Any]) -> bool:
        return bool(response.get("idTokenInfo", {}).get("status") == "Accepted")

    def _event(self, event_type: str, trigger: str, tx_id: str, now: float, offline: bool,
               **fields: Any) -> QueuedMessage:
        seq = self._seq.get(tx_id, 0)
        self._seq[tx_id] = seq + 1
        payload: dict[str, Any] = {
            "eventType": event_type, "timestamp": format_seconds(now), "triggerReason": trigger,
            "seqNo": seq, "transactionInfo": {"transactionId": tx_id}}
        if offline:
            payload["offline"] = True
        info = fields.pop("info", {})
        payload["transactionInfo"].update(info)
        payload.update(fields)
        if event_type == "Ended":
            del self._seq[tx_id]
        return QueuedMessage("TransactionEvent", payload, tx_id,
                             droppable=trigger == "MeterValuePeriodic")

    def transaction_messages(self, event: ModelEvent, now: float,
                             offline: bool) -> list[QueuedMessage]:
        if isinstance(event, StatusChanged):
            return []
        evse = self.station.model.evses[event.evse_id]
        if isinstance(event, TransactionStarted):
            info: dict[str, Any] = {"chargingState": "Charging"}
            if event.remote_start_id is not None:
                info["remoteStartId"] = event.remote_start_id
            return [self._event(
                "Started", "RemoteStart" if event.remote_start_id is not None else "Authorized",
                event.transaction_id, now, offline, info=info,
                evse={"id": event.evse_id, "connectorId": event.connector_id},
                idToken=self._id_tokens.pop(event.id_token or "",
                                            {"idToken": event.id_token, "type": "ISO14443"}),
                meterValue=[meter_value_2(now, event.meter_wh, evse.power_w,
                                          "Transaction.Begin")])]
        if isinstance(event, ChargingStateChanged):
            return [self._event("Updated", "ChargingStateChanged", event.transaction_id, now,
                                offline, info={"chargingState": event.status.value})]
        assert isinstance(event, TransactionEnded)
        session = evse.session
        charging_s = int(session.charging_s) if session is not None else 0
        reason = event.reason if event.reason != "HardReset" else "ImmediateReset"
        return [self._event(
            "Ended", _END_TRIGGER.get(reason, "AbnormalCondition"), event.transaction_id, now,
            offline, info={"stoppedReason": reason, "timeSpentCharging": charging_s,
                           "chargingState": "EVConnected" if reason != "EVDisconnected"
                           else "Idle"},
            meterValue=[meter_value_2(now, event.meter_wh, 0.0, "Transaction.End")])]

    def meter_message(self, evse: Evse, now: float, offline: bool,
                      triggered: bool = False) -> QueuedMessage | None:
        session = evse.session
        if session is None or session.transaction_id is None or session.ended:
            return None
        return self._event(
            "Updated", "Trigger" if triggered else "MeterValuePeriodic", session.transaction_id,
            now, offline, meterValue=[meter_value_2(
                now, evse.energy_wh, evse.power_w, "Trigger" if triggered else "Sample.Periodic")])

    def triggered_meter_values(self, evse: Evse, now: float) -> tuple[str, dict[str, Any]]:
        return "MeterValues", {"evseId": evse.id, "meterValue": [
            meter_value_2(now, evse.energy_wh, evse.power_w, "Trigger")]}

    def prepare(self, message: QueuedMessage) -> dict[str, Any] | None:
        return message.payload

    def delivered(self, message: QueuedMessage, response: dict[str, Any]) -> None:
        status = response.get("idTokenInfo", {}).get("status")
        if message.payload.get("eventType") == "Started" and status not in (None, "Accepted"):
            station = self.station
            evse = station.model.find_transaction(str(message.tx_ref))
            if evse is not None:
                station.apply(station.model.stop(evse.id, "DeAuthorized", station.clock.now()))

    # --- incoming ----------------------------------------------------------------------

    def register(self, handlers: Handlers) -> None:
        handlers.add("RequestStartTransaction", self.on_request_start)
        handlers.add("RequestStopTransaction", self.on_request_stop)
        handlers.add("SetChargingProfile", self.on_set_charging_profile)
        handlers.add("ClearChargingProfile", self.on_clear_charging_profile)
        handlers.add("Reset", self.on_reset)
        handlers.add("GetVariables", self.on_get_variables)
        handlers.add("SetVariables", self.on_set_variables)
        handlers.add("TriggerMessage", self.on_trigger_message)

    async def on_request_start(self, ctx: CallContext, payload: dict[str, Any]) -> dict[str, Any]:
        station, model = self.station, self.station.model
        now = station.clock.now()
        evse_id = payload.get("evseId")
        evse = model.free_evse() if evse_id is None else model.evses.get(evse_id)
        if evse is None or evse.session is not None or \
                evse.status(1) is not ConnectorStatus.AVAILABLE:
            return _rejected("NoFreeEvse" if evse_id is None else "EvseBusy")
        profile: ChargingProfile | None = None
        if "chargingProfile" in payload:
            parsed = profile_from_201({"evseId": evse.id,
                                       "chargingProfile": payload["chargingProfile"]}, now)
            if isinstance(parsed, ProfileRejection):
                return _rejected(parsed.reason_code, parsed.detail)
            if parsed.purpose is not Purpose.TX:
                return _rejected("InvalidProfile", "RequestStartTransaction needs a TxProfile")
            profile = parsed
        self._id_tokens[payload["idToken"]["idToken"]] = payload["idToken"]
        try:
            events = model.authorize(evse.id, payload["idToken"]["idToken"], now,
                                     remote_start_id=payload["remoteStartId"])
            events += model.plug_in(evse.id, station.scenario.new_ev(station.rng), now)
        except OcppNetError as exc:
            self._id_tokens.pop(payload["idToken"]["idToken"], None)
            return _rejected("EvseBusy", exc.description)
        session = evse.session
        if profile is not None and session is not None and session.transaction_id:
            model.profiles.install(dataclasses.replace(
                profile, transaction_id=session.transaction_id))
            events += model.advance(now)
        station.apply(events)
        return {"status": "Accepted"}

    async def on_request_stop(self, ctx: CallContext, payload: dict[str, Any]) -> dict[str, Any]:
        station = self.station
        evse = station.model.find_transaction(payload["transactionId"])
        if evse is None:
            return _rejected("UnknownTransaction")
        station.apply(station.model.stop(evse.id, "Remote", station.clock.now()))
        return {"status": "Accepted"}

    async def on_set_charging_profile(self, ctx: CallContext,
                                      payload: dict[str, Any]) -> dict[str, Any]:
        station, model = self.station, self.station.model
        now = station.clock.now()
        parsed = profile_from_201(payload, now)
        if isinstance(parsed, ProfileRejection):
            return _rejected(parsed.reason_code, parsed.detail)
        if parsed.evse_id != 0 and parsed.evse_id not in model.evses:
            return _rejected("UnknownEvse", f"no EVSE {parsed.evse_id}")
        if parsed.purpose is Purpose.TX:
            session = model.evses[parsed.evse_id].session
            running = session.transaction_id if session and not session.ended else None
            if running is None or parsed.transaction_id not in (None, running):
                return _rejected("TxNotFound", "no such transaction on this EVSE")
            parsed = dataclasses.replace(parsed, transaction_id=running)
        events = model.advance(now)  # energy so far at the old limit
        model.profiles.install(parsed)
        station.apply(events + model.advance(now))
        return {"status": "Accepted"}

    async def on_clear_charging_profile(self, ctx: CallContext,
                                        payload: dict[str, Any]) -> dict[str, Any]:
        station, model = self.station, self.station.model
        criteria = payload.get("chargingProfileCriteria", {})
        purpose = criteria.get("chargingProfilePurpose")
        if purpose is not None and purpose not in Purpose.__members__.values():
            return {"status": "Unknown"}
        now = station.clock.now()
        events = model.advance(now)
        removed = model.profiles.clear(
            profile_id=payload.get("chargingProfileId"), evse_id=criteria.get("evseId"),
            purpose=None if purpose is None else Purpose(purpose),
            stack_level=criteria.get("stackLevel"))
        station.apply(events + model.advance(now))
        return {"status": "Accepted" if removed else "Unknown"}

    async def on_reset(self, ctx: CallContext, payload: dict[str, Any]) -> dict[str, Any]:
        station = self.station
        if payload.get("evseId"):
            return _rejected("EvseResetNotSupp")
        busy = any(is_active(e.status(e.session.connector_id)) for e in
                   station.model.evses.values() if e.session is not None)
        if payload["type"] == "OnIdle" and busy:
            station.reset_pending = "ImmediateReset"
            station.wake()
            return {"status": "Scheduled"}
        station.stop_all("ImmediateReset")
        station.reset_pending = "ImmediateReset"
        station.wake()
        return {"status": "Accepted"}

    async def on_get_variables(self, ctx: CallContext, payload: dict[str, Any]) -> dict[str, Any]:
        results = []
        for item in payload["getVariableData"]:
            component, variable = item["component"], item["variable"]
            if item.get("attributeType", "Actual") != "Actual":
                status, value = "NotSupportedAttributeType", None
            elif component["name"] == "WebPaymentsCtrlr" and self.station.web_payments:
                status, value = self.station.web_payments.get_variable(variable["name"])
            else:
                status, value = get_variable(self.station.tunables, component["name"],
                                             variable["name"])
            result: dict[str, Any] = {"attributeStatus": status, "component": component,
                                      "variable": variable}
            if value is not None:
                result["attributeValue"] = value
            results.append(result)
        return {"getVariableResult": results}

    async def on_set_variables(self, ctx: CallContext, payload: dict[str, Any]) -> dict[str, Any]:
        results = []
        for item in payload["setVariableData"]:
            component, variable = item["component"], item["variable"]
            if item.get("attributeType", "Actual") != "Actual":
                status = "NotSupportedAttributeType"
            elif component["name"] == "WebPaymentsCtrlr" and self.station.web_payments:
                status = self.station.web_payments.set_variable(variable["name"],
                                                                item["attributeValue"])
            else:
                status = set_variable(self.station.tunables, component["name"],
                                      variable["name"], item["attributeValue"])
            results.append({"attributeStatus": status, "component": component,
                            "variable": variable})
        self.station.wake()
        return {"setVariableResult": results}

    async def on_trigger_message(self, ctx: CallContext,
                                 payload: dict[str, Any]) -> dict[str, Any]:
        what = payload["requestedMessage"]
        if what not in _TRIGGERABLE:
            return {"status": "NotImplemented"}
        evse = payload.get("evse", {}).get("id")
        if evse and evse not in self.station.model.evses:
            return _rejected("UnknownEvse")
        self.station.trigger(what, evse)
        return {"status": "Accepted"}
