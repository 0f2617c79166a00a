"""What a node keeps while its upstream is down, and the acknowledgements it gives."""

from __future__ import annotations

import pytest

from ocppnet.node.offline import must_not_lose, offline_ack
from ocppnet.validation import validate


@pytest.mark.parametrize(
    ("version", "action", "kept"),
    [
        ("2.0.1", "TransactionEvent", True),
        ("2.1", "TransactionEvent", True),
        ("2.0.1", "SecurityEventNotification", True),
        ("2.0.1", "BootNotification", False),
        ("2.0.1", "Heartbeat", False),
        ("2.0.1", "MeterValues", False),  # 2.x meter values in transactions ride TransactionEvent
        ("1.6", "StopTransaction", True),
        ("1.6", "MeterValues", True),
        ("1.6", "SecurityEventNotification", True),
        ("1.6", "StartTransaction", False),  # only the CSMS can assign the transactionId
        ("1.6", "TransactionEvent", False),
        ("1.6", "Authorize", False),
    ],
)
def test_must_not_lose(version: str, action: str, kept: bool) -> None:
    assert must_not_lose(version, action) is kept


@pytest.mark.parametrize(
    ("version", "action"),
    [
        ("2.0.1", "TransactionEvent"),
        ("2.1", "TransactionEvent"),
        ("2.0.1", "SecurityEventNotification"),
        ("1.6", "StopTransaction"),
        ("1.6", "MeterValues"),
    ],
)
def test_offline_ack_is_a_valid_response(version: str, action: str) -> None:
    """The ack the station receives must pass the official response schema."""
    assert validate(version, action, "response", offline_ack(version, action)) is None
