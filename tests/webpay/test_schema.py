"""SecureDataTransfer's own schema: the fields each phase needs, and nothing else."""

from __future__ import annotations

import pytest

from ocppnet.validation import validate


@pytest.mark.parametrize("version", ["2.0.1", "2.1"])
def test_each_phase_needs_its_fields(version: str) -> None:
    ok = [{"channelId": "c1", "phase": "Open", "clientKey": "BAbc_-"},
          {"channelId": "c1", "phase": "Data", "counter": 1, "ciphertext": "q83v"},
          {"channelId": "c1", "phase": "Close"}]
    for payload in ok:
        assert validate(version, "SecureDataTransfer", "request", payload) is None
    missing = validate(version, "SecureDataTransfer", "request",
                       {"channelId": "c1", "phase": "Data", "counter": 1})
    assert missing is not None and "ciphertext" in missing.description
    plaintext = validate(version, "SecureDataTransfer", "request",
                         {"channelId": "c1", "phase": "Data", "counter": 1, "ciphertext": "x",
                          "power_w": 11000})
    assert plaintext is not None  # no room for plaintext next to the ciphertext
    not_b64 = validate(version, "SecureDataTransfer", "request",
                       {"channelId": "c1", "phase": "Data", "counter": 1,
                        "ciphertext": '{"power": 1}'})
    assert not_b64 is not None
    assert validate(version, "SecureDataTransfer", "response", {
        "status": "Accepted", "serverKey": "a", "stationKey": "b", "signature": "c"}) is None
    assert validate(version, "SecureDataTransfer", "response", {
        "status": "Rejected", "statusInfo": {"reasonCode": "Replayed"}}) is None
