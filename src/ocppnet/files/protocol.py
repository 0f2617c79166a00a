"""The file-transfer messages as binary frames (docs/files.md); pure builders and checks.

Every file-service request is a binary CALL and every success a binary CALLRESULT, so a
station's file service needs only the link's binary hook; failures are text CALLERRORs.

- ``SendFile``: CALL ``{fileName, offset, totalLength, fileSha256}`` + chunk bytes
  -> CALLRESULT ``{status, fileName[, statusInfo]}`` with no bytes.
- ``GetFile``: CALL ``{fileName, offset, maxBytes}`` with no bytes
  -> CALLRESULT ``{status, fileName, offset, totalLength, fileSha256}`` + chunk bytes.

Each chunk's own SHA-256 is in the binary header (checked by every hop that decodes it); the
whole file's SHA-256 is checked by the receiver once the last chunk is in.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Final

from ocppnet.rpc.binary import BinaryFrame
from ocppnet.rpc.frames import JsonObject, MessageType

SEND_FILE: Final = "SendFile"
GET_FILE: Final = "GetFile"
DEFAULT_CHUNK_SIZE: Final = 64 * 1024
MAX_CHUNK_SIZE: Final = 1_048_576 - 4096
"""Largest chunk: one binary frame must fit the default 1 MiB message limit with its header."""
WRONG_OFFSET: Final = "WrongOffset"
HASH_MISMATCH: Final = "HashMismatch"


def chunk_ranges(total: int, chunk_size: int, start: int = 0) -> Iterator[tuple[int, int]]:
    """``(offset, length)`` of each chunk of a ``total``-byte file from ``start``."""
    if chunk_size < 1:
        raise ValueError("chunk_size must be at least 1")
    offset = start
    while offset < total:
        length = min(chunk_size, total - offset)
        yield offset, length
        offset += length


def file_sha256(path: Path, block: int = 1 << 20) -> str:
    """Lowercase hex SHA-256 of a file, read in blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(block):
            digest.update(chunk)
    return digest.hexdigest()


def send_chunk(
    message_id: str,
    name: str,
    offset: int,
    total: int,
    file_hash: str,
    data: bytes,
    *,
    dest: str | None = None,
    extra: JsonObject | None = None,
) -> BinaryFrame:
    """One SendFile CALL carrying ``data`` at ``offset`` of a ``total``-byte file (``extra``:
    further meta, e.g. ``purpose`` and ``fileSignature``)."""
    meta: JsonObject = {
        "fileName": name, "offset": offset, "totalLength": total, "fileSha256": file_hash,
        **(extra or {}),
    }
    return BinaryFrame(MessageType.CALL, message_id, data, SEND_FILE, meta, dest)


def get_request(
    message_id: str, name: str, offset: int, max_bytes: int, *, dest: str | None = None
) -> BinaryFrame:
    """One GetFile CALL (no bytes) for up to ``max_bytes`` from ``offset``."""
    meta: JsonObject = {"fileName": name, "offset": offset, "maxBytes": max_bytes}
    return BinaryFrame(MessageType.CALL, message_id, b"", GET_FILE, meta, dest)


def result(message_id: str, meta: JsonObject, data: bytes = b"") -> BinaryFrame:
    """A binary CALLRESULT in standard form (the sender adds DEST/PATH for its link)."""
    return BinaryFrame(MessageType.CALLRESULT, message_id, data, None, meta)


def status_info(reason: str, info: str | None = None) -> JsonObject:
    out: JsonObject = {"reasonCode": reason}
    if info is not None:
        out["additionalInfo"] = info
    return out
