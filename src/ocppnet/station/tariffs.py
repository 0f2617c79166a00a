"""OCPP 2.1 local cost calculation in the simulator: signed tariffs in, costDetails out.

Handles SetDefaultTariff, GetTariffs, ClearTariffs, ChangeTransactionTariff and CostUpdated.
A tariff is accepted only when its issuer signature verifies against the station's own trust
store and the issuer holds a role allowing the action (:func:`ocppnet.tariffs.verify_tariff`);
otherwise the request gets CALLERROR ``SecurityError``. Every TransactionEvent the station
sends carries ``transactionInfo.tariffId`` and ``costDetails`` computed from exactly the
readings it has reported so far, and — the first time a tariff prices the transaction — the
signed tariff itself in ``customData`` so that the CSMS can recompute the cost.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from ocppnet.rpc.timestamps import format_seconds, format_timestamp, parse_timestamp
from ocppnet.station.model import Evse
from ocppnet.station.ocpp2 import Ocpp2
from ocppnet.tariffs import (
    Context,
    CostMeter,
    HeldTariff,
    TariffBook,
    TariffError,
    TariffSegment,
    parse_tariff,
    readings_from_meter_values,
    verify_tariff,
)
from ocppnet.tariffs.signing import VENDOR_ID
from ocppnet.transport import CallContext, Handlers

if TYPE_CHECKING:
    from ocppnet.station.runtime import SimulatedStation

log = logging.getLogger("ocppnet.station.tariffs")

__all__ = ["StationTariffs"]


def _when(text: str) -> datetime:
    at = parse_timestamp(text)
    assert at is not None  # the station's own timestamps
    return at


def _rejected(reason: str, detail: str) -> dict[str, Any]:
    return {"status": "Rejected",
            "statusInfo": {"reasonCode": reason[:20], "additionalInfo": detail[:512]}}


class StationTariffs:
    """The station's tariffs and the running cost of its transactions."""

    def __init__(self, station: SimulatedStation, context: Context | None = None) -> None:
        self.station = station
        self.context = context or Context(UTC)
        self.book = TariffBook()
        self.meters: dict[str, CostMeter] = {}  # running cost of each transaction
        self.announced: dict[str, set[str]] = {}
        self.costs: dict[str, dict[str, Any]] = {}  # last costDetails sent, per transaction
        self.central: dict[str, float] = {}  # CostUpdated totals from the CSMS

    def register(self, handlers: Handlers) -> None:
        handlers.add("SetDefaultTariff", self.on_set_default_tariff)
        handlers.add("GetTariffs", self.on_get_tariffs)
        handlers.add("ClearTariffs", self.on_clear_tariffs)
        handlers.add("ChangeTransactionTariff", self.on_change_transaction_tariff)
        handlers.add("CostUpdated", self.on_cost_updated)

    def _now(self) -> datetime:
        return _when(format_seconds(self.station.clock.now()))  # as the wire shows it

    def _verified(self, action: str, payload: dict[str, Any]) -> HeldTariff | dict[str, Any]:
        """Raises SecurityError (CALLERROR) for an unsigned/altered/untrusted tariff."""
        verified = verify_tariff(payload["tariff"], self.station.security, action=action,
                                 payload=payload, now=self._now())
        try:
            model = parse_tariff(payload["tariff"])
        except TariffError as exc:
            return _rejected("InvalidTariff", exc.description)
        return HeldTariff(model, verified)

    # --- handlers ------------------------------------------------------------------------

    async def on_set_default_tariff(self, ctx: CallContext,
                                    payload: dict[str, Any]) -> dict[str, Any]:
        evse_id = payload["evseId"]
        if evse_id and evse_id not in self.station.model.evses:
            return _rejected("UnknownEvse", f"no EVSE {evse_id}")
        held = self._verified("SetDefaultTariff", payload)
        if isinstance(held, dict):
            return held
        status = self.book.set_default(evse_id, held)
        log.info("event=tariff_default station=%s evse=%s tariff=%s issuer=%s status=%s",
                 self.station.station_id, evse_id, held.tariff_id,
                 held.verified.issuer_key_id, status)
        return {"status": status}

    async def on_change_transaction_tariff(self, ctx: CallContext,
                                           payload: dict[str, Any]) -> dict[str, Any]:
        station, model = self.station, self.station.model
        tx = payload["transactionId"]
        evse = model.find_transaction(tx)
        if evse is None:
            return {"status": "TxNotFound"}
        held = self._verified("ChangeTransactionTariff", payload)
        if isinstance(held, dict):
            return held
        now = self._now()
        status = self.book.change(tx, held, now)
        if status == "Accepted" and tx in self.meters:
            self.meters[tx].add_tariff(TariffSegment(now, held.model))
        log.info("event=tariff_changed station=%s transaction=%s tariff=%s status=%s",
                 station.station_id, tx, held.tariff_id, status)
        if status == "Accepted":  # a reading at the change, so both ends cut the cost there
            station.apply(model.advance(now.timestamp()))
            dialect = station.dialect
            assert isinstance(dialect, Ocpp2)  # tariffs are OCPP 2.1
            message = dialect.meter_message(evse, now.timestamp(), not station.online,
                                            trigger="TariffChanged")
            if message is not None:
                station.queue.push(message)
                station.wake()
        return {"status": status}

    async def on_get_tariffs(self, ctx: CallContext, payload: dict[str, Any]) -> dict[str, Any]:
        assignments = self.book.assignments(payload["evseId"])
        if not assignments:
            return {"status": "NoTariff"}
        return {"status": "Accepted", "tariffAssignments": assignments}

    async def on_clear_tariffs(self, ctx: CallContext, payload: dict[str, Any]) -> dict[str, Any]:
        return {"clearTariffsResult": self.book.clear(payload.get("tariffIds"),
                                                      payload.get("evseId"))}

    async def on_cost_updated(self, ctx: CallContext, payload: dict[str, Any]) -> dict[str, Any]:
        self.central[payload["transactionId"]] = float(payload["totalCost"])
        return {}

    # --- outgoing ------------------------------------------------------------------------

    def annotate(self, payload: dict[str, Any]) -> None:
        """Add tariffId, costDetails and newly used signed tariffs to a TransactionEvent."""
        tx = payload["transactionInfo"]["transactionId"]
        if payload["eventType"] == "Started":
            evse_id = (payload.get("evse") or {}).get("id", 0)
            self.book.start(tx, evse_id, _when(payload["timestamp"]))
        meter = self.meters.get(tx)
        if meter is None:
            meter = self.meters[tx] = CostMeter(self.book.segments(tx), context=self.context)
        readings = readings_from_meter_values(payload.get("meterValue"))
        held = self.book.current(tx)
        try:
            for reading in readings:
                meter.add(reading)
            if held is not None and (readings or tx in self.costs):
                self._priced(payload, tx, held, meter)
        except TariffError as exc:  # e.g. a clock stepping back: say so, as OCPP 2.1 allows
            log.warning("event=tariff_cost_failed station=%s transaction=%s reason=%r",
                        self.station.station_id, tx, exc.description)
            if held is not None:
                payload["costDetails"] = {
                    "failureToCalculate": True, "failureReason": exc.description[:500],
                    "totalCost": {"currency": held.model.currency, "typeOfCost": "NormalCost",
                                  "total": {}},
                    "totalUsage": {"energy": 0, "chargingTime": 0, "idleTime": 0}}
        if payload["eventType"] == "Ended":
            self.book.end(tx)
            self.meters.pop(tx, None)
            self.announced.pop(tx, None)

    def observe(self, evse: Evse, meter_values: Any) -> None:
        """Readings sent outside TransactionEvent (a triggered MeterValues): the CSMS stores
        them with the EVSE's transaction, so they are part of its cost here too."""
        session = evse.session
        meter = None if session is None or session.transaction_id is None else \
            self.meters.get(session.transaction_id)
        if meter is None:
            return
        try:
            for reading in readings_from_meter_values(meter_values):
                meter.add(reading)
        except TariffError as exc:
            log.warning("event=tariff_cost_failed station=%s transaction=%s reason=%r",
                        self.station.station_id, session and session.transaction_id,
                        exc.description)

    def _priced(self, payload: dict[str, Any], tx: str, held: HeldTariff,
                meter: CostMeter) -> None:
        payload["transactionInfo"]["tariffId"] = held.tariff_id
        sent = self.announced.setdefault(tx, set())
        new = [{"from": format_timestamp(at), "tariff": h.verified.tariff}
               for at, h in self.book.transactions.get(tx, ()) if h.verified.hash not in sent]
        if new:
            payload["customData"] = {"vendorId": VENDOR_ID, "tariffs": new}
            sent.update(h.verified.hash for _, h in self.book.transactions[tx])
        details = meter.result().cost_details()
        payload["costDetails"] = details
        self.costs[tx] = details
