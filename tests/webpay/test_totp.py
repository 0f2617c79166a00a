"""The C25 TOTP against the published vectors, and the slot window.

Vectors: OpenChargingCloud/DynamicQRCodes, ``TOTP/CSharp/TOTPSharp_Tests/TOTPTests.cs`` and
``TOTP/JavaScript/test/test.js`` (the reference implementations that accompany the
OpenChargingTechnology "Secure Dynamic QR-Codes" whitepaper, the algorithm OCPP 2.1 C25 adopted):
shared secret ``secure!Charging!``, 2024-05-23 00:23:05 UTC, defaults validity 30 s, length 12,
Base62 alphabet.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime

import pytest

from ocppnet.webpay.totp import (
    BASE62,
    TotpSettings,
    TotpSettingsError,
    remaining_s,
    time_slot,
    totp,
    totp_for_slot,
    verify,
)

SECRET = "secure!Charging!"
AT = datetime(2024, 5, 23, 0, 23, 5, tzinfo=UTC).timestamp()


def window(settings: TotpSettings, now: float) -> tuple[str, str, str]:
    slot = time_slot(now, settings.validity_s)
    return tuple(totp_for_slot(settings, slot + d) for d in (-1, 0, 1))  # type: ignore[return-value]


@pytest.mark.parametrize(("settings", "expected", "remaining"), [
    (TotpSettings(SECRET), ("MdPU0jCm5tXz", "CN63y502maVh", "dI54vnA25m2h"), 25),
    (TotpSettings(SECRET, length=23),
     ("MdPU0jCm5tXzkaPrPj61KwI", "CN63y502maVhAsv27Sd7JlE", "dI54vnA25m2hWW3bUcdY13q"), 25),
    (TotpSettings(SECRET, alphabet="0123456789"),
     ("233045043555", "894361286613", "545817627227"), 25),
    (TotpSettings(SECRET, validity_s=60), ("nTdkiuG6yUyg", "XJZr0L1DGKn0", "ft0ONZ62MdMj"), 55),
], ids=["defaults", "length-23", "decimal-alphabet", "validity-60s"])
def test_published_vectors(settings: TotpSettings, expected: tuple[str, str, str],
                           remaining: int) -> None:
    assert window(settings, AT) == expected
    assert totp(settings, AT) == expected[1]
    assert remaining_s(settings, AT) == remaining


def test_matches_an_independent_hmac_computation() -> None:
    settings = TotpSettings("another-shared-secret-42", validity_s=10, length=20)
    now = 1_800_000_003.5
    digest = hmac.new(b"another-shared-secret-42", (180_000_000).to_bytes(8, "big"),
                      hashlib.sha256).digest()
    start = digest[31] % 16
    expected = "".join(BASE62[digest[(start + i) % 32] % 62] for i in range(20))
    assert totp(settings, now) == expected


def test_verify_accepts_previous_current_and_next_slot_only() -> None:
    settings = TotpSettings(SECRET)
    previous, current, following = window(settings, AT)
    assert verify(settings, current, AT) == 0
    assert verify(settings, previous, AT) == -1
    assert verify(settings, following, AT) == 1
    two_back = totp_for_slot(settings, time_slot(AT, 30) - 2)
    assert verify(settings, two_back, AT) is None  # expired
    assert verify(settings, "CN63y502maVi", AT) is None  # wrong
    assert verify(settings, "", AT) is None
    assert verify(TotpSettings("some-other-secret!"), current, AT) is None


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"shared_secret": "short"}, "SharedSecret: must be at least 16 characters"),
    ({"validity_s": 5}, "ValidityTime: 5 s is outside 6..3600 s"),
    ({"length": 3}, "Length: 3 is outside 4..255"),
    ({"alphabet": "abca"}, "Encoding: the alphabet repeats a character"),
    ({"alphabet": "ab c"}, "Encoding: the alphabet contains whitespace"),
    ({"version": "2"}, "TOTPVersion: '2' is not supported"),
])
def test_bad_settings_are_refused_with_the_variable_named(kwargs: dict[str, object],
                                                          message: str) -> None:
    values: dict[str, object] = {"shared_secret": SECRET, **kwargs}
    with pytest.raises(TotpSettingsError, match=message):
        TotpSettings(**values)  # type: ignore[arg-type]


def test_the_secret_stays_out_of_repr() -> None:
    assert SECRET not in repr(TotpSettings(SECRET))
