"""permessage-deflate (RFC 7692) for the picows driver: negotiation and per-message codec.

Pure: the functions take header values and return header values and a :class:`Deflate`
codec; the codec takes payload bytes and returns payload bytes (zlib, raw deflate). picows
gives us the RSV1 bit on each frame and lets us set it when sending; the rest is here.

Server policy (what a server answers to a client's offers, first acceptable offer wins):
echo ``server_no_context_takeover`` / ``client_no_context_takeover`` when offered; windows of
at most 2**12 bytes both ways, to bound memory per link: ``server_max_window_bits=12`` is
always in the answer (RFC 7692 section 7.1.2.1 allows it) and ``client_max_window_bits=12``
(or the client's smaller value) whenever the client offered that parameter; zlib
``memLevel`` 5. These are the values websockets' own server uses by default.
An offer with an unknown, repeated or out-of-range parameter is declined (section 7.1).
Client policy: offer ``permessage-deflate; client_max_window_bits``; accept any valid answer.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable
from dataclasses import dataclass

EXTENSION = "permessage-deflate"
HEADER = "Sec-WebSocket-Extensions"
CLIENT_OFFER = f"{EXTENSION}; client_max_window_bits"
_TAIL = b"\x00\x00\xff\xff"
WINDOW_BITS = 12
MEM_LEVEL = 5

Params = list[tuple[str, str | None]]


class DeflateError(Exception):
    """A compressed message that cannot be inflated (close 1007), or too big (``too_big``:
    close 1009)."""

    def __init__(self, reason: str, *, too_big: bool = False) -> None:
        super().__init__(reason)
        self.too_big = too_big


def parse_extensions(values: Iterable[str]) -> list[tuple[str, Params]]:
    """``Sec-WebSocket-Extensions`` values -> [(name, [(param, value or None)])]."""
    parsed: list[tuple[str, Params]] = []
    for value in values:
        for item in value.split(","):
            parts = [part.strip() for part in item.split(";")]
            if not parts[0]:
                continue
            params: Params = []
            for part in parts[1:]:
                if not part:
                    continue
                name, eq, raw = part.partition("=")
                val = raw.strip().strip('"') if eq else None
                params.append((name.strip().lower(), val))
            parsed.append((parts[0].lower(), params))
    return parsed


@dataclass(frozen=True, slots=True)
class Agreement:
    """The negotiated parameters, as in the server's answer."""

    server_no_context_takeover: bool = False
    client_no_context_takeover: bool = False
    server_max_window_bits: int | None = None
    client_max_window_bits: int | None = None

    def header(self) -> str:
        parts = [EXTENSION]
        if self.server_no_context_takeover:
            parts.append("server_no_context_takeover")
        if self.client_no_context_takeover:
            parts.append("client_no_context_takeover")
        if self.server_max_window_bits is not None:
            parts.append(f"server_max_window_bits={self.server_max_window_bits}")
        if self.client_max_window_bits is not None:
            parts.append(f"client_max_window_bits={self.client_max_window_bits}")
        return "; ".join(parts)


def _bits(value: str | None, low: int) -> int | None:
    if value is None or not value.isdigit() or value != str(int(value)):
        return None
    bits = int(value)
    return bits if low <= bits <= 15 else None


def _read_params(params: Params, *, answer: bool) -> dict[str, int | bool] | None:
    """Validated parameters of one offer (``answer=False``) or answer; None if invalid.

    ``client_max_window_bits`` in an offer may have no value (True: "I can honour one")."""
    seen: dict[str, int | bool] = {}
    for name, value in params:
        if name in seen:
            return None
        if name in ("server_no_context_takeover", "client_no_context_takeover"):
            if value is not None:
                return None
            seen[name] = True
        elif name == "server_max_window_bits":
            # zlib cannot compress raw deflate with an 8-bit window: decline it when offered
            bits = _bits(value, 8 if answer else 9)
            if bits is None:
                return None
            seen[name] = bits
        elif name == "client_max_window_bits":
            if value is None and not answer:
                seen[name] = True
                continue
            bits = _bits(value, 8)
            if bits is None:
                return None
            seen[name] = bits
        else:
            return None
    return seen


def server_accept(values: Iterable[str]) -> Agreement | None:
    """The agreement for the first acceptable permessage-deflate offer, or None."""
    for name, params in parse_extensions(values):
        if name != EXTENSION:
            continue
        offer = _read_params(params, answer=False)
        if offer is None:
            continue
        requested = offer.get("server_max_window_bits")
        server_bits = min(WINDOW_BITS, int(requested)) if requested else WINDOW_BITS
        client = offer.get("client_max_window_bits")  # True: offered without a value
        if client is None:
            client_bits = None  # the client cannot honour a limit: none may be answered
        elif client is True:
            client_bits = WINDOW_BITS
        else:
            client_bits = min(WINDOW_BITS, int(client))
        return Agreement(
            server_no_context_takeover=bool(offer.get("server_no_context_takeover")),
            client_no_context_takeover=bool(offer.get("client_no_context_takeover")),
            server_max_window_bits=server_bits,
            client_max_window_bits=client_bits,
        )
    return None


def client_accept(values: Iterable[str]) -> Agreement | None:
    """The server's answer to :data:`CLIENT_OFFER`; ValueError if it is not a valid one."""
    extensions = parse_extensions(values)
    if not extensions:
        return None
    if len(extensions) != 1 or extensions[0][0] != EXTENSION:
        raise ValueError(f"{HEADER}: unexpected extensions {extensions!r}")
    answer = _read_params(extensions[0][1], answer=True)
    if answer is None:
        raise ValueError(f"{HEADER}: invalid permessage-deflate answer {extensions[0][1]!r}")
    server_bits = answer.get("server_max_window_bits")
    client_bits = answer.get("client_max_window_bits")
    return Agreement(
        server_no_context_takeover=bool(answer.get("server_no_context_takeover")),
        client_no_context_takeover=bool(answer.get("client_no_context_takeover")),
        server_max_window_bits=int(server_bits) if server_bits else None,
        client_max_window_bits=int(client_bits) if client_bits else None,
    )


class Deflate:
    """The per-message codec of one link side (``client``: we are the client)."""

    __slots__ = ("_compressor", "_decompressor", "_in_reset", "_in_wbits", "_out_reset",
                 "_out_wbits")

    def __init__(self, agreement: Agreement, *, client: bool) -> None:
        ours = agreement.client_max_window_bits if client else agreement.server_max_window_bits
        theirs = agreement.server_max_window_bits if client else agreement.client_max_window_bits
        self._out_wbits = max(9, ours) if ours is not None else 15
        self._in_wbits = theirs if theirs is not None else 15
        self._out_reset = (agreement.client_no_context_takeover if client
                           else agreement.server_no_context_takeover)
        self._in_reset = (agreement.server_no_context_takeover if client
                          else agreement.client_no_context_takeover)
        self._compressor: zlib._Compress | None = None
        self._decompressor: zlib._Decompress | None = None

    def encode(self, payload: bytes) -> bytes:
        """Compress one message (the RSV1 frame's payload)."""
        compressor = self._compressor
        if compressor is None:
            compressor = zlib.compressobj(
                zlib.Z_DEFAULT_COMPRESSION, zlib.DEFLATED, -self._out_wbits, MEM_LEVEL)
            if not self._out_reset:
                self._compressor = compressor
        data = compressor.compress(payload) + compressor.flush(zlib.Z_SYNC_FLUSH)
        return data[:-4] if data.endswith(_TAIL) else data

    def decode(self, payload: bytes, max_size: int | None) -> bytes:
        """Inflate one message; DeflateError if corrupt or larger than ``max_size``."""
        decompressor = self._decompressor
        if decompressor is None:
            decompressor = zlib.decompressobj(-self._in_wbits)
            if not self._in_reset:
                self._decompressor = decompressor
        try:
            data = decompressor.decompress(payload + _TAIL, max_size or 0)
        except zlib.error as exc:
            raise DeflateError(f"cannot inflate the message: {exc}") from None
        if decompressor.unconsumed_tail:
            raise DeflateError(f"inflated message larger than {max_size} bytes", too_big=True)
        return data
