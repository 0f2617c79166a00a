"""The pure plausibility checker: is what a station reports physically and logically possible?

:meth:`PlausibilityChecker.check` takes one request of a station (TransactionEvent, MeterValues,
StartTransaction, StopTransaction; BootNotification teaches the model) and ``now``, and returns a
:class:`~ocppnet.plausibility.findings.Verdict`. State per meter (station, EVSE/connector) and
per transaction lives here and is updated only when the verdict is not a refusal, so a refused
value never becomes the baseline for the next one. No I/O, no clock. Rules: docs/plausibility.md.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from ocppnet.plausibility.config import PlausibilityConfig
from ocppnet.plausibility.findings import Finding, Verdict
from ocppnet.plausibility.samples import ENERGY, POWER, SOC, Reading, readings
from ocppnet.rpc.timestamps import parse_timestamp

__all__ = ["CHECKED_ACTIONS", "MeterState", "PlausibilityChecker", "TxState"]

CHECKED_ACTIONS = frozenset(
    {"BootNotification", "TransactionEvent", "MeterValues", "StartTransaction", "StopTransaction"}
)


@dataclass(slots=True)
class MeterState:
    """One meter: an EVSE (2.x) or a connector (1.6) of a station."""

    energy_wh: float | None = None
    energy_at: datetime | None = None
    soc: float | None = None
    soc_at: datetime | None = None
    tx_start: datetime | None = None
    """Start of the transaction running on it (1.6; 2.x keeps it per transaction too)."""


@dataclass(slots=True)
class TxState:
    """One 2.x transaction."""

    evse: int = 0
    started: datetime | None = None
    seen_started: bool = False
    last_seq: int | None = None


class _Pass:
    """The work on one message: copies of the touched state and the findings so far."""

    def __init__(self, checker: PlausibilityChecker, station: str, action: str, now: datetime,
                 message_id: str) -> None:
        self.checker = checker
        self.station = station
        self.action = action
        self.now = now
        self.message_id = message_id
        self.findings: list[Finding] = []
        self.meters: dict[int, MeterState] = {}
        self.txs: dict[str, TxState] = {}
        self.flagged_fields: set[str] = set()
        self.tx16_done: tuple[str, int] | None = None

    def meter(self, evse: int) -> MeterState:
        if evse not in self.meters:
            known = self.checker.meters.get((self.station, evse))
            self.meters[evse] = replace(known) if known is not None else MeterState()
        return self.meters[evse]

    def tx(self, tx_id: str) -> TxState:
        if tx_id not in self.txs:
            known = self.checker.transactions.get((self.station, tx_id))
            self.txs[tx_id] = replace(known) if known is not None else TxState()
        return self.txs[tx_id]

    def add(self, rule: str, field: str, detail: str) -> None:
        severity = self.checker.config.severity(rule)
        if severity == "off":
            return
        self.findings.append(Finding(
            rule, severity, self.station, self.action, field, detail, self.now, self.message_id
        ))


class PlausibilityChecker:
    """State + rules; one instance per CSMS or node (it tells stations apart by id)."""

    def __init__(self, config: PlausibilityConfig | None = None, *,
                 max_transactions: int = 100_000) -> None:
        self.config = config or PlausibilityConfig()
        self.max_transactions = max_transactions
        self.meters: dict[tuple[str, int], MeterState] = {}
        self.transactions: dict[tuple[str, str], TxState] = {}
        self.models: dict[str, str] = {}
        self._tx16: dict[tuple[str, int], int] = {}
        """(station, 1.6 transactionId) -> connector, learned from MeterValues."""

    # --- public -------------------------------------------------------------------------

    def check(self, station: str, action: str, payload: dict[str, Any], *, version: str,
              now: datetime, message_id: str = "") -> Verdict:
        """Judge one request; the state advances unless the verdict refuses it."""
        if action not in CHECKED_ACTIONS or not isinstance(payload, dict):
            return Verdict()
        p = _Pass(self, station, action, now, message_id)
        if action == "MeterValues" and ("connectorId" in payload or "evseId" in payload):
            version = "1.6" if "connectorId" in payload else "2.0.1"  # via a node: link's version
        if action == "BootNotification":
            self._boot(station, payload)
        elif version == "1.6":
            if action == "MeterValues":
                self._meter_values_16(p, payload)
            elif action == "StartTransaction":
                self._start_16(p, payload)
            elif action == "StopTransaction":
                self._stop_16(p, payload)
        elif action == "TransactionEvent":
            self._transaction_event(p, payload)
        elif action == "MeterValues":
            found, problems = readings(payload.get("meterValue"), "meterValue")
            self._judge(p, _int(payload.get("evseId"), 0), found, None, problems)
        verdict = Verdict(tuple(p.findings))
        if not verdict.rejected:
            self._commit(p)
        return verdict

    def max_power_w(self, station: str) -> float:
        """Configured for the station, else for its model (BootNotification), else the default."""
        limit = self.config.stations.get(station)
        if limit is None:
            model = self.models.get(station)
            limit = self.config.models.get(model) if model is not None else None
        return limit if limit is not None else self.config.max_power_w

    def meter_reset(self, station: str, evse: int) -> None:
        """A documented meter reset/exchange: the next register reading starts afresh."""
        meter = self.meters.get((station, evse))
        if meter is not None:
            meter.energy_wh = None
            meter.energy_at = None

    def forget(self, station: str) -> None:
        """Drop all state of a station (decommissioned, or its history is no longer trusted)."""
        self.meters = {k: v for k, v in self.meters.items() if k[0] != station}
        self.transactions = {k: v for k, v in self.transactions.items() if k[0] != station}
        self._tx16 = {k: v for k, v in self._tx16.items() if k[0] != station}
        self.models.pop(station, None)

    # --- per action ---------------------------------------------------------------------

    def _boot(self, station: str, payload: dict[str, Any]) -> None:
        box = payload.get("chargingStation")
        model = box.get("model") if isinstance(box, dict) else payload.get("chargePointModel")
        if isinstance(model, str):
            self.models[station] = model

    def _transaction_event(self, p: _Pass, payload: dict[str, Any]) -> None:
        info = payload.get("transactionInfo")
        tx_id = info.get("transactionId") if isinstance(info, dict) else None
        if not isinstance(tx_id, str):
            return  # schema validation's business
        tx = p.tx(tx_id)
        evse_info = payload.get("evse")
        if isinstance(evse_info, dict) and isinstance(evse_info.get("id"), int):
            tx.evse = evse_info["id"]
        event_type = payload.get("eventType")
        timestamp = parse_timestamp(payload.get("timestamp"))
        if timestamp is not None:
            self._check_future(p, timestamp, "timestamp")
        seq_no = payload.get("seqNo")
        if isinstance(seq_no, int) and not isinstance(seq_no, bool):
            if tx.last_seq is not None and seq_no == tx.last_seq:
                p.add("seqno.duplicate", "seqNo",
                      f"seqNo {seq_no} of transaction {tx_id} was already received")
            elif tx.last_seq is not None and seq_no < tx.last_seq:
                p.add("seqno.order", "seqNo",
                      f"seqNo {seq_no} of transaction {tx_id} comes after {tx.last_seq}")
            tx.last_seq = seq_no if tx.last_seq is None else max(seq_no, tx.last_seq)
        meter = p.meter(tx.evse)
        if event_type == "Started" and not tx.seen_started:
            tx.seen_started = True
            tx.started = timestamp
            meter.tx_start = timestamp
            meter.soc = meter.soc_at = None  # another car
        elif timestamp is not None and tx.started is not None:
            self._check_start(p, timestamp, tx.started, "timestamp")
        if event_type == "Ended" and not tx.seen_started:
            p.add("tx.ended_without_started", "eventType",
                  f"transaction {tx_id} ended but its Started event was never seen")
        found, problems = readings(payload.get("meterValue"), "meterValue")
        self._judge(p, tx.evse, found, tx.started, problems)

    def _meter_values_16(self, p: _Pass, payload: dict[str, Any]) -> None:
        connector = _int(payload.get("connectorId"), 0)
        tx_id = payload.get("transactionId")
        if isinstance(tx_id, int) and not isinstance(tx_id, bool):
            self._tx16[(p.station, tx_id)] = connector
            start = p.meter(connector).tx_start
        else:
            start = None
        found, problems = readings(payload.get("meterValue"), "meterValue")
        self._judge(p, connector, found, start, problems)

    def _start_16(self, p: _Pass, payload: dict[str, Any]) -> None:
        connector = _int(payload.get("connectorId"), 0)
        timestamp = parse_timestamp(payload.get("timestamp"))
        meter = p.meter(connector)
        meter.tx_start = timestamp
        meter.soc = meter.soc_at = None
        self._judge(p, connector, self._register(payload, "meterStart", timestamp), None, [])

    def _stop_16(self, p: _Pass, payload: dict[str, Any]) -> None:
        tx_id = payload.get("transactionId")
        timestamp = parse_timestamp(payload.get("timestamp"))
        key = (p.station, tx_id if isinstance(tx_id, int) else -1)
        connector = self._tx16.get(key)
        p.tx16_done = key
        if connector is None:
            running = [
                evse for (station, evse), m in self.meters.items()
                if station == p.station and m.tx_start is not None
            ]
            connector = running[0] if len(running) == 1 else None
        if connector is None:  # which meter is unknown: only the clock can be judged
            if timestamp is not None:
                self._check_future(p, timestamp, "timestamp")
            return
        meter = p.meter(connector)
        found, problems = readings(payload.get("transactionData"), "transactionData")
        found += self._register(payload, "meterStop", timestamp)
        self._judge(p, connector, found, meter.tx_start, problems)
        meter.tx_start = None

    @staticmethod
    def _register(payload: dict[str, Any], key: str, timestamp: datetime | None) -> list[Reading]:
        value = payload.get(key)
        if isinstance(value, bool) or not isinstance(value, int | float):
            return []
        return [Reading(ENERGY, float(value), timestamp, key, "timestamp")]

    # --- rules --------------------------------------------------------------------------

    def _judge(self, p: _Pass, evse: int, found: list[Reading], start: datetime | None,
               problems: list[Any]) -> None:
        for problem in problems:
            p.add(problem.rule, problem.field, problem.detail)
        meter = p.meter(evse)
        limit = self.max_power_w(p.station)
        config = self.config
        for reading in found:
            at = reading.timestamp or p.now
            if reading.timestamp is not None:
                self._check_future(p, at, reading.time_field)
                if start is not None:
                    self._check_start(p, at, start, reading.time_field)
            value = reading.value
            if reading.measurand == ENERGY:
                self._check_energy(p, meter, reading, at, limit)
            elif reading.measurand == POWER:
                if value < 0 or value > limit * config.power_tolerance:
                    p.add("power.range", reading.field,
                          f"power {value:.0f} W outside 0..{limit:.0f} W (x{config.power_tolerance}"
                          " tolerance)")
            elif reading.measurand == SOC:
                if not 0 <= value <= 100:
                    p.add("soc.range", reading.field, f"SoC {value:g} % outside 0..100")
                    continue
                if meter.soc is not None and meter.soc_at is not None:
                    hours = max(0.0, (at - meter.soc_at).total_seconds()) / 3600
                    allowed = config.soc_max_rate_pct_per_h * hours + config.soc_tolerance_pct
                    if abs(value - meter.soc) > allowed:
                        p.add("soc.jump", reading.field,
                              f"SoC moved from {meter.soc:g} % to {value:g} % in "
                              f"{hours * 3600:.0f} s (at most {allowed:.1f} % possible)")
                meter.soc, meter.soc_at = value, at

    def _check_energy(self, p: _Pass, meter: MeterState, reading: Reading, at: datetime,
                      limit: float) -> None:
        value = reading.value
        if meter.energy_wh is not None and meter.energy_at is not None:
            delta = value - meter.energy_wh
            if delta < -max(1e-6, abs(value) * 1e-12):  # float noise of unit conversion
                p.add("energy.decreasing", reading.field,
                      f"energy register went back from {meter.energy_wh:.3f} Wh to "
                      f"{value:.3f} Wh")
            else:
                hours = max(0.0, (at - meter.energy_at).total_seconds()) / 3600
                allowed = (limit * self.config.power_tolerance * hours
                           + self.config.energy_tolerance_wh)
                if delta > allowed:
                    p.add("energy.rate", reading.field,
                          f"energy grew by {delta:.0f} Wh in {hours * 3600:.0f} s; "
                          f"{limit:.0f} W allow at most {allowed:.0f} Wh")
        meter.energy_wh, meter.energy_at = value, at

    def _check_future(self, p: _Pass, at: datetime, field: str) -> None:
        ahead = (at - p.now).total_seconds()
        if ahead > self.config.clock_skew_s and field not in p.flagged_fields:
            p.flagged_fields.add(field)
            p.add("time.future", field,
                  f"timestamp {at.isoformat()} is {ahead:.0f} s in the future "
                  f"(skew allowed {self.config.clock_skew_s:.0f} s)")

    def _check_start(self, p: _Pass, at: datetime, start: datetime, field: str) -> None:
        if at < start - timedelta(seconds=self.config.start_slack_s) and (
            f"start:{field}" not in p.flagged_fields
        ):
            p.flagged_fields.add(f"start:{field}")
            p.add("time.before_start", field,
                  f"timestamp {at.isoformat()} is before the transaction start "
                  f"{start.isoformat()}")

    def _commit(self, p: _Pass) -> None:
        if p.tx16_done is not None:
            self._tx16.pop(p.tx16_done, None)
        for evse, meter in p.meters.items():
            self.meters[(p.station, evse)] = meter
        for tx_id, tx in p.txs.items():
            self.transactions.pop((p.station, tx_id), None)  # re-insert: newest last
            self.transactions[(p.station, tx_id)] = tx
        while len(self.transactions) > self.max_transactions:
            del self.transactions[next(iter(self.transactions))]


def _int(value: Any, default: int) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else default
