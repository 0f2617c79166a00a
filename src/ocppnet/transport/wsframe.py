"""RFC 6455 frame bytes for writes that bypass a library's own framing (pure functions).

The picows driver's coalescing sender builds the frames of one loop turn here and hands
them to the socket in one write; picows itself writes each frame with its own syscall.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Iterator

OP_TEXT = 0x1
OP_BINARY = 0x2
_FIN = 0x80
_RSV1 = 0x40
_MASKED = 0x80



def _key_stream() -> Iterator[bytes]:
    """Masking keys from the OS's CSPRNG, drawn 1,024 at a time (one syscall per block)."""
    while True:
        block = os.urandom(4096)
        for start in range(0, 4096, 4):
            yield block[start:start + 4]


_KEYS = _key_stream()


def mask_key() -> bytes:
    """A fresh, unpredictable masking key for one client frame (RFC 6455 section 5.3)."""
    return next(_KEYS)


def apply_mask(payload: bytes, key: bytes) -> bytes:
    """XOR ``payload`` with the 4-byte ``key`` repeated (masking and unmasking alike)."""
    size = len(payload)
    if size == 0:
        return payload
    stream = (key * ((size >> 2) + 1))[:size]
    masked = int.from_bytes(payload, "little") ^ int.from_bytes(stream, "little")
    return masked.to_bytes(size, "little")


def frame(opcode: int, payload: bytes, *, rsv1: bool = False, key: bytes | None = None) -> bytes:
    """One final (FIN) frame; ``key`` masks it (client side), None leaves it plain (server)."""
    first = _FIN | opcode | (_RSV1 if rsv1 else 0)
    size = len(payload)
    flag = _MASKED if key is not None else 0
    if size < 126:
        header = bytes((first, flag | size))
    elif size < 65_536:
        header = struct.pack("!BBH", first, flag | 126, size)
    else:
        header = struct.pack("!BBQ", first, flag | 127, size)
    if key is None:
        return header + payload
    return header + key + apply_mask(payload, key)
