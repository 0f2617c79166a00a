"""The driver's receipt for one transaction: energy, times, meter, and the OCMF records.

:func:`build_receipt` turns a :class:`~ocppnet.csms.signed_meter.TransactionMeterReport`
into a :class:`Receipt` value; :func:`receipt_json` and :func:`receipt_html` render it (the
HTML is a printable page; every value is escaped). The energy printed is the one between
the *signed* begin and end readings; the unsigned figure is shown beside it. Other parts
(a tariff, its hash and the cost) add their lines with ``dataclasses.replace(receipt,
extra={...})``: each entry becomes a JSON key and a row of the page.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from ocppnet.csms.signed_meter import TransactionMeterReport

__all__ = ["Receipt", "ReceiptRecord", "build_receipt", "receipt_html", "receipt_json"]


@dataclass(frozen=True, slots=True)
class ReceiptRecord:
    context: str | None
    ocmf: str
    public_key: str | None
    valid: bool
    reason: str
    signed_wh: float | None
    unsigned_wh: float | None
    matches: bool | None


@dataclass(frozen=True, slots=True)
class Receipt:
    transaction_id: str
    transaction_number: int            # the transparency file's transactionId
    station_id: str
    evse_id: int | None
    id_token: str | None
    started_at: datetime | None
    stopped_at: datetime | None
    energy_wh: Decimal | None          # between the signed begin and end readings
    unsigned_energy_wh: float | None   # what the station reported without signature
    meter_serial: str | None
    verified: bool
    flags: tuple[str, ...]
    records: tuple[ReceiptRecord, ...]
    extra: dict[str, Any] = field(default_factory=dict)


def build_receipt(report: TransactionMeterReport) -> Receipt:
    tx, check = report.transaction, report.check
    energy: Decimal | None = None
    if check.energy is not None:
        energy = check.energy.scaleb(3) if check.unit == "kWh" else check.energy
    return Receipt(
        transaction_id=tx.transaction_id, transaction_number=tx.key,
        station_id=tx.station_id, evse_id=tx.evse_id,
        id_token=tx.id_token, started_at=check.started or tx.started_at,
        stopped_at=check.stopped or tx.stopped_at, energy_wh=energy,
        unsigned_energy_wh=tx.energy_wh, meter_serial=check.meter_serial,
        verified=report.verified, flags=report.flags,
        records=tuple(ReceiptRecord(r.context, r.signed_data, r.public_key, r.valid, r.reason,
                                    r.signed_wh, r.unsigned_wh, r.matches)
                      for r in report.readings))


def _time(at: datetime | None) -> str | None:
    return at.isoformat() if at is not None else None


def receipt_json(receipt: Receipt) -> dict[str, Any]:
    """The receipt as JSON-ready values (energy as a decimal string, never a rounded float)."""
    out: dict[str, Any] = {
        "transactionId": receipt.transaction_id,
        "transactionNumber": receipt.transaction_number, "stationId": receipt.station_id,
        "evseId": receipt.evse_id, "idToken": receipt.id_token,
        "startedAt": _time(receipt.started_at), "stoppedAt": _time(receipt.stopped_at),
        "energyWh": str(receipt.energy_wh) if receipt.energy_wh is not None else None,
        "unsignedEnergyWh": receipt.unsigned_energy_wh, "meterSerial": receipt.meter_serial,
        "verified": receipt.verified, "flags": list(receipt.flags),
        "records": [{"context": r.context, "signedData": r.ocmf, "encoding": "OCMF",
                     "publicKey": r.public_key, "valid": r.valid, "reason": r.reason,
                     "signedWh": r.signed_wh, "unsignedWh": r.unsigned_wh, "matches": r.matches}
                    for r in receipt.records],
    }
    out.update(receipt.extra)
    return out


def _row(name: str, value: object) -> str:
    shown = "-" if value is None else str(value)
    return f"<tr><th>{html.escape(name)}</th><td>{html.escape(shown)}</td></tr>"


def receipt_html(receipt: Receipt) -> str:
    """A printable page: the figures, the verdict, and each OCMF record to copy."""
    kwh = f"{receipt.energy_wh.scaleb(-3)} kWh" if receipt.energy_wh is not None else None
    verdict = "verified" if receipt.verified else "NOT verified"
    rows = [_row("Transaction", receipt.transaction_id),
            _row("Number in the transparency file", receipt.transaction_number),
            _row("Station", receipt.station_id),
            _row("EVSE", receipt.evse_id), _row("Started", _time(receipt.started_at)),
            _row("Stopped", _time(receipt.stopped_at)), _row("Energy (signed)", kwh),
            _row("Energy (reported, unsigned)",
                 f"{receipt.unsigned_energy_wh} Wh" if receipt.unsigned_energy_wh is not None
                 else None),
            _row("Meter serial", receipt.meter_serial), _row("Signed readings", verdict)]
    rows += [_row(str(key), value) for key, value in receipt.extra.items()]
    flags = "".join(f"<li>{html.escape(flag)}</li>" for flag in receipt.flags)
    records = "".join(
        f"<section><h3>{html.escape(r.context or 'reading')}: "
        f"{'valid' if r.valid else 'INVALID'}</h3><p>{html.escape(r.reason)}</p>"
        f"<pre>{html.escape(r.ocmf)}</pre>"
        f"<p>Public key: <code>{html.escape(r.public_key or '-')}</code></p></section>"
        for r in receipt.records)
    return (
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<title>Receipt {html.escape(receipt.transaction_id)}</title><style>"
        "body{font-family:sans-serif;max-width:48em;margin:2em auto}"
        "th{text-align:left;padding-right:1em}pre{white-space:pre-wrap;word-break:break-all;"
        "background:#f4f4f4;padding:.5em}code{word-break:break-all}.bad{color:#a00}"
        "@media print{a{display:none}}"
        "</style></head><body>"
        f"<h1>Charging receipt</h1><table>{''.join(rows)}</table>"
        + (f"<h2 class=\"bad\">Problems</h2><ul>{flags}</ul>" if flags else "")
        + "<h2>Signed meter records (OCMF)</h2><p>Check them with the S.A.F.E. transparency "
        "software or <code>ocppnet ocmf verify</code>, using the transparency file of this "
        f"transaction.</p>{records}</body></html>")
