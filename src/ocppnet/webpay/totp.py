"""The time-based one-time password of OCPP 2.1 C25 (dynamic QR codes), pure.

HMAC-SHA256, keyed with the UTF-8 shared secret, over the 8-byte big-endian number of the
time slot (``floor(unix seconds / validity)``); ``length`` characters are taken from the hash
starting at the offset ``hash[-1] & 0x0F`` (wrapping), each byte mapped to
``alphabet[byte % len(alphabet)]`` (Base62 by default). A verifier accepts the previous, the
current and the next slot (clock skew, scanning delay). This is TOTP version ``"1"``, the
algorithm published with the OCA/Open Charging Cloud QR-code whitepaper.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from typing import Final

__all__ = [
    "BASE62",
    "TOTP_VERSIONS",
    "TotpSettings",
    "TotpSettingsError",
    "remaining_s",
    "time_slot",
    "totp",
    "totp_for_slot",
    "verify",
]

BASE62: Final = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
TOTP_VERSIONS: Final = ("1",)
_HASH_BYTES: Final = 32


class TotpSettingsError(ValueError):
    """A setting of the WebPaymentsCtrlr / TOTP that the algorithm cannot work with."""


@dataclass(frozen=True, slots=True)
class TotpSettings:
    """What station and payment backend share: the secret and the slot parameters."""

    shared_secret: str
    validity_s: int = 30
    length: int = 12
    alphabet: str = BASE62
    version: str = "1"

    def __post_init__(self) -> None:
        if len(self.shared_secret) < 16:
            raise TotpSettingsError("SharedSecret: must be at least 16 characters")
        if not 6 <= self.validity_s <= 3600:
            raise TotpSettingsError(
                f"ValidityTime: {self.validity_s} s is outside 6..3600 s")
        if not 4 <= self.length <= 255:
            raise TotpSettingsError(f"Length: {self.length} is outside 4..255")
        if len(self.alphabet) < 4:
            raise TotpSettingsError("Encoding: the alphabet needs at least 4 characters")
        if len(set(self.alphabet)) != len(self.alphabet):
            raise TotpSettingsError("Encoding: the alphabet repeats a character")
        if any(c.isspace() for c in self.alphabet):
            raise TotpSettingsError("Encoding: the alphabet contains whitespace")
        if self.version not in TOTP_VERSIONS:
            raise TotpSettingsError(
                f"TOTPVersion: {self.version!r} is not supported (known: "
                f"{', '.join(TOTP_VERSIONS)})")

    def __repr__(self) -> str:  # the secret never appears in logs
        return (f"TotpSettings(validity_s={self.validity_s}, length={self.length}, "
                f"version={self.version!r}, shared_secret=<hidden>)")


def time_slot(now: float, validity_s: int) -> int:
    """The number of the slot ``now`` (unix seconds) falls in."""
    return int(now // validity_s)


def remaining_s(settings: TotpSettings, now: float) -> float:
    """Seconds until the current slot ends (when a display refreshes its QR code)."""
    return (time_slot(now, settings.validity_s) + 1) * settings.validity_s - now


def totp_for_slot(settings: TotpSettings, slot: int) -> str:
    """The password of one slot (slots before 1970 do not exist)."""
    if not 0 <= slot < 2**64:
        raise TotpSettingsError(f"slot {slot} is outside 0..2^64-1")
    digest = hmac.new(settings.shared_secret.encode("utf-8"), slot.to_bytes(8, "big"),
                      hashlib.sha256).digest()
    offset = digest[-1] & 0x0F
    alphabet, size = settings.alphabet, len(settings.alphabet)
    return "".join(alphabet[digest[(offset + i) % _HASH_BYTES] % size]
                   for i in range(settings.length))


def totp(settings: TotpSettings, now: float) -> str:
    """The password a station shows at ``now``."""
    return totp_for_slot(settings, time_slot(now, settings.validity_s))


def verify(settings: TotpSettings, candidate: str, now: float) -> int | None:
    """The slot offset (-1, 0, +1) whose password equals ``candidate``, or None.

    Every slot is compared (constant time), so timing does not tell which one matched.
    """
    current = time_slot(now, settings.validity_s)
    given = candidate.encode("utf-8")
    matched: int | None = None
    for delta in (0, -1, 1):
        if current + delta < 0:
            continue
        expected = totp_for_slot(settings, current + delta).encode("utf-8")
        if hmac.compare_digest(expected, given) and matched is None:
            matched = delta
    return matched
