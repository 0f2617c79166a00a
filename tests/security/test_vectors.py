"""The published test vectors (docs/signatures.md, tests/security/vectors.json) hold exactly."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from ocppnet.security.keys import KeyPair, key_id, load_private_pem, load_public_pem
from ocppnet.security.signatures import (
    canonical_payload,
    context_of,
    sign,
    signed_bytes,
    verify,
)
from ocppnet.security.trust import TrustStore

VECTORS: dict[str, Any] = json.loads((Path(__file__).parent / "vectors.json").read_text("utf-8"))
NOW = datetime(2025, 3, 1, 12, 0, 0, tzinfo=UTC)


def test_key_ids() -> None:
    for entry in VECTORS["keys"].values():
        assert key_id(load_public_pem(entry["public_pem"].encode())) == entry["key_id"]
        assert key_id(load_private_pem(entry["private_pem"].encode())) == entry["key_id"]


def test_canonical_payload_and_signed_bytes_are_exact() -> None:
    msg = VECTORS["signed_message"]
    assert context_of(VECTORS["version"], VECTORS["action"], VECTORS["kind"]) == (
        VECTORS["context"])
    assert canonical_payload(msg) == VECTORS["canonical_payload"].encode("utf-8")
    assert canonical_payload(VECTORS["payload"]) == VECTORS["canonical_payload"].encode("utf-8")
    for sig, expected in zip(msg["signatures"], VECTORS["signed_bytes"], strict=True):
        assert signed_bytes(VECTORS["context"], canonical_payload(msg), sig) == (
            expected.encode("utf-8"))


def test_signatures_verify() -> None:
    trust = TrustStore()
    for entry in VECTORS["keys"].values():
        trust.add_pem(entry["public_pem"].encode())
    verdicts = verify(VECTORS["signed_message"], action=VECTORS["action"], kind=VECTORS["kind"],
                      version=VECTORS["version"], trusted=trust, now=NOW)
    assert [v.reason for v in verdicts] == ["valid", "valid"]


def test_ed25519_signature_is_reproduced_exactly() -> None:
    ed = KeyPair.of(load_private_pem(VECTORS["keys"]["ed25519"]["private_pem"].encode()))
    first = VECTORS["signed_message"]["signatures"][0]
    expected = VECTORS["signed_message"]["signatures"][1]
    ours = sign({**VECTORS["payload"], "signatures": [first]}, action=VECTORS["action"],
                kind=VECTORS["kind"], version=VECTORS["version"], key=ed,
                now=datetime(2025, 3, 1, 12, 0, 1, tzinfo=UTC), name=expected["name"],
                description=expected["description"])
    assert ours["signatures"][1] == expected
    assert ours == VECTORS["signed_message"]


@pytest.mark.parametrize("index", [0, 1])
def test_vector_breaks_when_tampered(index: int) -> None:
    trust = TrustStore()
    for entry in VECTORS["keys"].values():
        trust.add_pem(entry["public_pem"].encode())
    msg = json.loads(json.dumps(VECTORS["signed_message"]))
    msg["customData"]["note"] = "Grüsse €"
    verdicts = verify(msg, action=VECTORS["action"], kind=VECTORS["kind"],
                      version=VECTORS["version"], trusted=trust, now=NOW)
    assert verdicts[index].status == "invalid"
