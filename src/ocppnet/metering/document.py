"""Verify a whole document: one or more OCMF records, or a transparency file (pure).

:func:`verify_document` is what ``ocppnet ocmf verify`` and a receipt need: each record's
verdict with its label, and, for the records a transparency file groups under one
``transactionId``, the transaction check. The key used for a record is, in this order: the
key the caller trusts (given out of band), the file's ``<publicKey>``, a key appended to
the record.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ocppnet.metering.algorithms import MeterPublicKey, parse_public_key
from ocppnet.metering.errors import OcmfError
from ocppnet.metering.record import OcmfRecord, Verdict, parse_record, verify_record
from ocppnet.metering.transaction import SignedReading, TransactionCheck, check_transaction
from ocppnet.metering.transparency import TransparencyEntry, read_transparency

__all__ = ["CheckedRecord", "DocumentReport", "split_records", "verify_document"]

_START = re.compile(r"(?=OCMF\|)")


@dataclass(frozen=True, slots=True)
class CheckedRecord:
    """One record of a document: where it is, what it is, and whether it verifies."""

    label: str
    verdict: Verdict
    record: OcmfRecord | None = None
    transaction_id: str | None = None
    context: str | None = None


@dataclass(frozen=True, slots=True)
class DocumentReport:
    records: tuple[CheckedRecord, ...]
    transactions: dict[str, TransactionCheck]

    @property
    def all_valid(self) -> bool:
        return bool(self.records) and all(r.verdict.valid for r in self.records)


def split_records(text: str) -> list[str]:
    """The records in a text: each starts at ``OCMF|`` (they may span lines); else hex lines."""
    if "OCMF|" in text:
        head, *parts = _START.split(text)
        if head.strip():
            raise OcmfError(f"text before the first record: {head.strip()[:40]!r}")
        return [part.strip() for part in parts if part.strip()]
    return [line.strip() for line in text.splitlines() if line.strip()]


def _label(index: int, entry: TransparencyEntry) -> str:
    parts = [f"record {index + 1}"]
    details = [d for d in (f"transaction {entry.transaction_id}" if entry.transaction_id else "",
                           entry.context or "") if d]
    return parts[0] + (f" ({', '.join(details)})" if details else "")


def verify_document(data: bytes | str, trusted: MeterPublicKey | None = None,
                    source: str = "input") -> DocumentReport:
    """Verify every record in ``data``; OcmfError only when the document is unreadable."""
    text = data.decode("utf-8-sig") if isinstance(data, bytes) else data.lstrip("\ufeff")
    if text.lstrip().startswith("<"):
        entries = read_transparency(text, source)
    else:
        entries = [TransparencyEntry(record) for record in split_records(text)]
    if not entries:
        raise OcmfError(f"{source}: no OCMF record")
    checked: list[CheckedRecord] = []
    for index, entry in enumerate(entries):
        label = _label(index, entry)
        try:
            record = parse_record(entry.signed_data)
        except OcmfError as exc:
            checked.append(CheckedRecord(label, Verdict(False, str(exc)), None,
                                         entry.transaction_id, entry.context))
            continue
        key = trusted
        verdict: Verdict | None = None
        if key is None and entry.public_key:
            try:
                key = parse_public_key(entry.public_key, f"{label}: publicKey")
            except OcmfError as exc:
                verdict = Verdict(False, str(exc))
        if verdict is None:
            verdict = verify_record(record, key)
        if trusted is not None and entry.public_key and verdict.valid:
            try:
                if parse_public_key(entry.public_key) != trusted:
                    verdict = Verdict(True, verdict.reason + "; the file names another key")
            except OcmfError:
                pass
        checked.append(CheckedRecord(label, verdict, record, entry.transaction_id,
                                     entry.context))
    groups: dict[str, list[SignedReading]] = {}
    for item in checked:
        if item.transaction_id is not None and item.record is not None:
            groups.setdefault(item.transaction_id, []).append(
                SignedReading(item.label, item.record, item.verdict))
    return DocumentReport(tuple(checked),
                          {tx: check_transaction(items) for tx, items in groups.items()})
