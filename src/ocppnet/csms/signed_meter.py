"""The CSMS's calibration-law part: verify each signed reading, keep it exactly, flag a bill.

:class:`SignedMeterService` is fed every request after its handler ran
(:meth:`observe`). For each signed reading it finds the meter's key (a configured trusted
key, else the key pinned for that meter, else, in ``pin-first`` mode, the key the reading
carries, which is pinned once its signature verifies), checks the signature over the exact
OCMF bytes, compares the signed energy with the unsigned value of the same message, and
stores text and verdict (:mod:`ocppnet.store.signed_readings`). :meth:`report` checks a
transaction's readings as a whole for its receipt and transparency file. The ``[metering]``
TOML table is :class:`MeteringSection`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import Field

from ocppnet.config import Section
from ocppnet.csms.signed_values import SignedValue, signed_values
from ocppnet.metering import (
    MeterPublicKey,
    OcmfError,
    OcmfRecord,
    SignedReading,
    TransactionCheck,
    TransparencyEntry,
    Verdict,
    check_transaction,
    energy_wh,
    parse_public_key,
    parse_record,
    verify_record,
)
from ocppnet.metering.obis import parse_obis
from ocppnet.store import Store, TransactionRecord
from ocppnet.store.signed_readings import MeterKeyRecord, SignedReadingRecord, SignedReadingStore

__all__ = ["MeteringSection", "SignedMeterService", "TransactionMeterReport"]

log = logging.getLogger("ocppnet.csms.metering")


class MeteringSection(Section):
    """``[metering]``: how the CSMS learns meter keys and how close signed and unsigned
    readings must be."""

    trust: Literal["pin-first", "trusted"] = "pin-first"
    """``trusted``: only keys listed in ``trusted_keys``; ``pin-first``: also the first key a
    meter presents (with a valid signature), pinned from then on."""
    trusted_keys: dict[str, str] = Field(default_factory=dict)
    """Meter serial (``MS``, else ``GS``) or station id -> public key (hex or base64 DER)."""
    tolerance_wh: float = Field(default=1.0, ge=0)
    """Allowed difference signed/unsigned, at least the resolution of the signed value."""


@dataclass(frozen=True, slots=True)
class TransactionMeterReport:
    """A transaction's signed readings, the check over them, and what is flagged."""

    transaction: TransactionRecord
    readings: tuple[SignedReadingRecord, ...]
    check: TransactionCheck
    flags: tuple[str, ...]

    @property
    def verified(self) -> bool:
        return not self.flags

    def transparency_entries(self) -> list[TransparencyEntry]:
        """One ``<value>`` per reading. ``transactionId`` is the store's transaction number
        (the 1.6 id; for 2.x the OCPP id is a string, but the transparency software reads
        this attribute as an integer, so the receipt names both)."""
        number = str(self.transaction.key)
        return [TransparencyEntry(r.signed_data, r.public_key, number, r.context)
                for r in self.readings]


def _label(index: int, reading: SignedReadingRecord) -> str:
    return f"record {index + 1}" + (f" ({reading.context})" if reading.context else "")


def _resolution_wh(record: OcmfRecord) -> float:
    for reading in record.payload.effective_readings():
        if reading.value is not None and reading.unit in ("Wh", "kWh"):
            exponent = reading.value.as_tuple().exponent
            step = Decimal(1).scaleb(exponent if isinstance(exponent, int) else 0)
            return float(step * (1000 if reading.unit == "kWh" else 1))
    return 0.0


def _signed_wh(record: OcmfRecord) -> float | None:
    value: Decimal | None = None
    for reading in record.payload.effective_readings():
        obis = parse_obis(reading.obis) if reading.obis else None
        if obis is not None and not obis.billing_relevant:
            continue
        wh = energy_wh(reading)
        if wh is not None:
            value = wh
    return float(value) if value is not None else None


class SignedMeterService:
    """Verification, pinning and storage of signed meter readings for one CSMS."""

    def __init__(self, store: Store, section: MeteringSection | None = None, *,
                 clock: Callable[[], datetime]) -> None:
        if not isinstance(store, SignedReadingStore):
            raise TypeError("the store cannot keep signed readings (no SignedReadingStore)")
        self.store = store
        self.readings: SignedReadingStore = store
        self.section = section or MeteringSection()
        self.clock = clock
        self.trusted: dict[str, MeterPublicKey] = {
            name: parse_public_key(text, f"metering.trusted_keys.{name}")
            for name, text in self.section.trusted_keys.items()}

    # --- incoming ----------------------------------------------------------------------

    async def observe(self, station_id: str, version: str, action: str,
                      payload: dict[str, Any]) -> list[SignedReadingRecord]:
        """Check and store the signed readings of one request (already handled)."""
        values = signed_values(version, action, payload)
        if not values:
            return []
        tx = await self._transaction(station_id, version, action, payload, values)
        stored: list[SignedReadingRecord] = []
        for value in values:
            reading = await self._check(station_id, value, tx)
            if await self.readings.add_signed_reading(reading):
                stored.append(reading)
                log.log(logging.INFO if reading.valid and reading.matches is not False
                        else logging.WARNING,
                        "event=signed_reading station=%s transaction=%s context=%s valid=%s "
                        "matches=%s reason=%r", station_id, reading.transaction_id,
                        reading.context, reading.valid, reading.matches, reading.reason)
        ended = action == "StopTransaction" or payload.get("eventType") == "Ended"
        if ended and tx is not None:
            report = await self.report(tx)
            if report.flags:
                log.warning("event=transaction_flagged station=%s transaction=%s flags=%r",
                            station_id, tx.transaction_id, "; ".join(report.flags))
        return stored

    async def observe_safely(self, station_id: str, version: str, action: str,
                             payload: dict[str, Any]) -> None:
        """:meth:`observe` for the request path: a failure here is logged, never turns the
        station's request into an error (the reading is in the message log regardless)."""
        try:
            await self.observe(station_id, version, action, payload)
        except Exception as exc:
            log.error("event=signed_reading_failed station=%s action=%s error=%r",
                      station_id, action, str(exc))

    async def _transaction(self, station_id: str, version: str, action: str,
                           payload: dict[str, Any],
                           values: list[SignedValue]) -> TransactionRecord | None:
        if action == "TransactionEvent":
            return await self.store.get_transaction(
                station_id, str(payload["transactionInfo"]["transactionId"]))
        if "transactionId" in payload and version == "1.6":
            return await self.store.get_transaction(station_id, str(payload["transactionId"]))
        evse = values[0].evse_id
        active = [t for t in await self.store.list_transactions(station_id, active_only=True)
                  if evse is None or t.evse_id == evse]
        return active[-1] if active else None

    async def _key(self, station_id: str, record: OcmfRecord,
                   carried: str | None) -> tuple[MeterPublicKey | None, str, bool]:
        """(key to check with, a note for the reason, whether to pin it when valid)."""
        serial = record.payload.meter_serial or record.payload.gateway_serial or station_id
        carried_key: MeterPublicKey | None = None
        note = ""
        if carried:
            try:
                carried_key = parse_public_key(carried, "publicKey")
            except OcmfError as exc:
                note = f"; the key it carries is unusable ({exc})"
        trusted = self.trusted.get(serial) or self.trusted.get(station_id)
        if trusted is not None:
            if carried_key is not None and carried_key != trusted:
                note += "; it carries another key than the trusted one"
            return trusted, f" with the trusted key of meter {serial}{note}", False
        if self.section.trust == "trusted":
            return None, f"no trusted key for meter {serial}{note}", False
        pinned = await self.readings.get_meter_key(station_id, serial)
        if pinned is not None:
            key = parse_public_key(pinned.public_key, "pinned key")
            if carried_key is not None and carried_key != key:
                note += "; it carries another key than the one pinned"
            return key, f" with the key pinned for meter {serial}{note}", False
        if carried_key is None:
            return None, f"no key known for meter {serial} (none pinned, none carried){note}", \
                False
        return carried_key, f" with the key it carried, now pinned for meter {serial}", True

    async def _check(self, station_id: str, value: SignedValue,
                     tx: TransactionRecord | None) -> SignedReadingRecord:
        now = self.clock()
        unsigned = value.unsigned_wh
        if unsigned is None and tx is not None:
            unsigned = tx.meter_start if value.context == "Transaction.Begin" else \
                tx.meter_stop if value.context == "Transaction.End" else None
        base = SignedReadingRecord(
            station_id=station_id, received_at=now, signed_data=value.text,
            encoding=value.encoding, valid=False, reason=value.problem or "",
            transaction_key=tx.key if tx else None,
            transaction_id=tx.transaction_id if tx else None,
            evse_id=value.evse_id if value.evse_id is not None else (tx.evse_id if tx else None),
            context=value.context, unsigned_wh=unsigned)
        if value.problem is not None:
            return base
        try:
            record = parse_record(value.text)
        except OcmfError as exc:
            return replace(base, reason=str(exc))
        key, note, pin = await self._key(station_id, record, value.public_key)
        verdict = verify_record(record, key) if key is not None else Verdict(False, note)
        reason = verdict.reason + (note if key is not None else "")
        if verdict.valid and pin and key is not None:
            serial = record.payload.meter_serial or record.payload.gateway_serial or station_id
            await self.readings.pin_meter_key(
                MeterKeyRecord(station_id, serial, key.hex(), "pinned", now))
        signed = _signed_wh(record)
        matches: bool | None = None
        if signed is not None and unsigned is not None:
            allowed = max(self.section.tolerance_wh, _resolution_wh(record))
            matches = abs(signed - unsigned) <= allowed + 1e-9
        return replace(base, valid=verdict.valid, reason=reason,
                       public_key=key.hex() if key is not None else None, signed_wh=signed,
                       matches=matches)

    # --- per transaction ---------------------------------------------------------------

    async def report(self, tx: TransactionRecord) -> TransactionMeterReport:
        """The transaction's readings checked as a whole, and what is flagged."""
        readings = tuple(await self.readings.list_signed_readings(tx.key))
        flags: list[str] = []
        items: list[SignedReading] = []
        for index, reading in enumerate(readings):
            label = _label(index, reading)
            try:
                record = parse_record(reading.signed_data)
            except OcmfError as exc:
                flags.append(f"{label}: {exc}")
                continue
            items.append(SignedReading(label, record, Verdict(reading.valid, reading.reason)))
            if reading.matches is False:
                flags.append(f"{label}: the signed reading ({reading.signed_wh} Wh) does not "
                             f"match the unsigned value ({reading.unsigned_wh} Wh)")
        check = check_transaction(items)
        flags.extend(check.problems)
        if not readings:
            flags = ["no signed readings for this transaction"]
        return TransactionMeterReport(tx, readings, check, tuple(flags))
