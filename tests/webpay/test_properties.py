"""Properties: any values survive the URL template, any code verifies within its window, any
message survives the channel and any changed byte is refused."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ocppnet.security.keys import KeyPair
from ocppnet.webpay.channel import ChannelError, PhoneHandshake, b64d, b64e, station_accept
from ocppnet.webpay.totp import TotpSettings, totp, verify
from ocppnet.webpay.url_template import UrlTemplate

TEMPLATE = UrlTemplate.parse(
    "https://p.example/x/{chargingStationId}/{evse}/{totp}?v={version}&k={channelKeyId}")
IDENTITY = KeyPair.generate("secp256r1")
value = st.text(min_size=1, max_size=40)


@given(station=value, evse=st.integers(min_value=1, max_value=10**6), code=value,
       version=value, key=value)
def test_template_round_trip(station: str, evse: int, code: str, version: str, key: str) -> None:
    values = {"chargingStationId": station, "evse": evse, "totp": code, "version": version,
              "channelKeyId": key}
    url = TEMPLATE.expand(values)
    assert TEMPLATE.match(url.removeprefix(TEMPLATE.origin)) == {
        k: str(v) for k, v in values.items()}


@given(secret=st.text(min_size=16, max_size=64), now=st.floats(0, 4e9),
       validity=st.integers(6, 3600), skew=st.floats(-1.0, 1.0))
def test_a_code_verifies_within_one_slot_of_skew(secret: str, now: float, validity: int,
                                                 skew: float) -> None:
    settings_ = TotpSettings(secret, validity_s=validity)
    assert verify(settings_, totp(settings_, now), now + skew * validity) is not None


@settings(max_examples=30, deadline=None)
@given(message=st.dictionaries(st.text(max_size=10),
                               st.integers(-(2**63), 2**63 - 1) | st.text(max_size=20),
                               max_size=5),
       flip=st.integers(min_value=0))
def test_channel_round_trip_and_any_flipped_bit_is_refused(message: dict[str, object],
                                                           flip: int) -> None:
    phone = PhoneHandshake("c", "CS-1")
    announcement, station = station_accept("c", "CS-1", phone.client_key, IDENTITY)
    end = phone.finish(announcement.to_wire(), IDENTITY.key_id)
    record = end.seal(message)
    raw = bytearray(b64d(record.ciphertext, "c"))
    bit = flip % (len(raw) * 8)
    raw[bit // 8] ^= 1 << (bit % 8)
    with pytest.raises(ChannelError):
        station.open(record.counter, b64e(bytes(raw)))
    assert station.open(record.counter, record.ciphertext) == message
