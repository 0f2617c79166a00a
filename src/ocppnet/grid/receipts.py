"""Checking a receipt: the proof, signed by the enforcing node or station, of what is in force.

Pure (``now`` passed in). A receipt counts only if the response carries a valid signature of
a key the grid operator registered *for that target*; a node in the middle holding a key the
operator trusts for itself cannot answer in the target's name. The receipt must also name the
target and answer the sequence number of the request (an old receipt cannot be replayed).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ocppnet.grid.messages import MessageError, Receipt, parse_receipt
from ocppnet.security.signatures import verify
from ocppnet.security.trust import TrustStore

__all__ = ["ReceiptVerdict", "check_receipt"]


@dataclass(frozen=True, slots=True)
class ReceiptVerdict:
    """``ok``: the receipt is proven; else ``reason`` says why not (for the audit log)."""

    ok: bool
    reason: str
    receipt: Receipt | None = None
    key_id: str | None = None


def check_receipt(
    action: str,
    response: dict[str, Any],
    *,
    target: str,
    sequence: int,
    target_keys: TrustStore,
    version: str,
    now: datetime,
) -> ReceiptVerdict:
    """The verdict on ``response`` to the operator's ``action`` with ``sequence`` to ``target``."""
    try:
        receipt: Receipt | None = parse_receipt(action, response)
    except MessageError as exc:
        receipt, problem = None, str(exc)
    else:
        problem = ""
    verdicts = verify(response, action=action, kind="response", version=version,
                      trusted=target_keys, now=now)
    good = next((v for v in verdicts if v.valid), None)
    if good is None:
        if not verdicts:
            return ReceiptVerdict(False, f"unsigned: {target} did not sign its answer", receipt)
        worst = "; ".join(f"signature {v.index}: {v.reason}" for v in verdicts)
        return ReceiptVerdict(False, f"not signed by {target}'s key: {worst}", receipt)
    if receipt is None:
        return ReceiptVerdict(False, problem, None, good.key_id)
    if receipt.target != target:
        return ReceiptVerdict(False, f"receipt names {receipt.target}, expected {target}",
                              receipt, good.key_id)
    if receipt.sequence != sequence:
        return ReceiptVerdict(
            False, f"receipt answers sequence {receipt.sequence}, expected {sequence}",
            receipt, good.key_id)
    return ReceiptVerdict(True, "valid", receipt, good.key_id)
