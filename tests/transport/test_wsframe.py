"""Frame bytes for the picows coalescing sender, against RFC 6455's examples."""

from __future__ import annotations

import struct

from hypothesis import given
from hypothesis import strategies as st

from ocppnet.transport.wsframe import OP_BINARY, OP_TEXT, apply_mask, frame, mask_key


def test_rfc_6455_examples() -> None:
    # section 5.7: a single-frame unmasked text message, and the same masked
    assert frame(OP_TEXT, b"Hello") == bytes.fromhex("810548656c6c6f")
    assert frame(OP_TEXT, b"Hello", key=bytes.fromhex("37fa213d")) == bytes.fromhex(
        "818537fa213d7f9f4d5158")


def test_payload_lengths_use_the_three_header_forms() -> None:
    assert frame(OP_BINARY, b"x" * 125)[:2] == bytes((0x82, 125))
    assert frame(OP_BINARY, b"x" * 126)[:4] == bytes((0x82, 126)) + struct.pack("!H", 126)
    assert frame(OP_BINARY, b"x" * 65_536)[:10] == bytes((0x82, 127)) + struct.pack(
        "!Q", 65_536)
    assert frame(OP_TEXT, b"abc", rsv1=True)[0] == 0xC1  # FIN, RSV1 (compressed), text


@given(st.binary(max_size=2000), st.binary(min_size=4, max_size=4))
def test_masking_twice_gives_the_payload_back(payload: bytes, key: bytes) -> None:
    assert apply_mask(apply_mask(payload, key), key) == payload
    assert all(m ^ key[i % 4] == p
               for i, (m, p) in enumerate(zip(apply_mask(payload, key), payload, strict=True)))


def test_mask_keys_are_fresh() -> None:
    keys = {mask_key() for _ in range(2000)}
    assert len(keys) > 1990 and all(len(k) == 4 for k in keys)
