"""The web-payment TOML files: the examples load, and each mistake is one line naming the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from ocppnet.errors import ConfigError
from ocppnet.participant import load_participant_config
from ocppnet.security.keys import KeyPair, private_pem
from ocppnet.station.webpay_run import load_station_file
from ocppnet.webpay_service.config import WebpaySection

EXAMPLES = Path(__file__).parents[2] / "examples"
GOOD = (EXAMPLES / "webpay.toml").read_text()


def test_the_examples_load(tmp_path: Path) -> None:
    file = load_participant_config(EXAMPLES / "webpay.toml", WebpaySection, "webpay")
    assert file.participant.id == "WEBPAY-1" and file.participant.version == "2.1"
    assert file.app is not None and file.app.stations[0].id == "CS-1"
    assert "change-me" not in repr(file.app)  # the shared secret stays out of logs
    station = (EXAMPLES / "webpay-station.toml").read_text()
    (tmp_path / "keys").mkdir()
    (tmp_path / "keys" / "cs-1-channel.key.pem").write_bytes(
        private_pem(KeyPair.generate("secp256r1").private_key))
    (tmp_path / "station.toml").write_text(station)
    loaded = load_station_file(tmp_path / "station.toml")
    assert loaded.station.id == "CS-1" and loaded.identity.algorithm == "secp256r1"
    assert loaded.web_payments.qr_png == tmp_path / "cs-1-qr.png"


@pytest.mark.parametrize(("old", "new", "message"), [
    ("price_per_kwh = 0.39", "", "webpay.price_per_kwh: missing"),
    ("payment_timeout_s = 120", "payment_timeout_s = 900",
     "webpay.payment_timeout_s: must be 1..300 s"),
    ("validity_s = 30", "validity_s = 2",
     "webpay.stations[0].validity_s: 2 s is outside 6..3600 s"),
    ('shared_secret = "change-me: the SharedSecret of CS-1"', 'shared_secret = "short"',
     "webpay.stations[0].shared_secret: must be at least 16 characters"),
    ("&k={channelKeyId}", "", r"webpay.url_template: needs {channelKeyId}"),
    ("{totp}", "{otp}", "webpay.url_template: unknown variable {otp}"),
    ("currency =", "currencyy =", "webpay.currencyy: unknown key"),
])
def test_mistakes_name_file_and_key(tmp_path: Path, old: str, new: str, message: str) -> None:
    assert old in GOOD
    path = tmp_path / "webpay.toml"
    path.write_text(GOOD.replace(old, new, 1))
    with pytest.raises(ConfigError) as info:
        load_participant_config(path, WebpaySection, "webpay")
    assert str(info.value).startswith(f"{path}: ") and message in str(info.value)


def test_station_file_mistakes(tmp_path: Path) -> None:
    path = tmp_path / "station.toml"
    path.write_text((EXAMPLES / "webpay-station.toml").read_text())
    with pytest.raises(ConfigError, match=r"web_payments.identity_key: cannot read .*cs-1-chan"):
        load_station_file(path)
    (tmp_path / "keys").mkdir()
    (tmp_path / "keys" / "cs-1-channel.key.pem").write_bytes(
        private_pem(KeyPair.generate("ed25519").private_key))
    with pytest.raises(ConfigError, match="must be a secp256r1 key, not ed25519"):
        load_station_file(path)
    path.write_text((EXAMPLES / "webpay-station.toml").read_text().replace("ws://", "http://"))
    with pytest.raises(ConfigError, match=r"station\.url: must start with ws:// or wss://"):
        load_station_file(path)
