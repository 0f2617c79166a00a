"""The service's sessions (pure): which links open a session, and the order of the steps."""

from __future__ import annotations

import pytest

from ocppnet.webpay.psp import PspError, SimulatedPsp
from ocppnet.webpay.sessions import LinkError, PaymentSessions
from ocppnet.webpay.totp import TotpSettings, totp
from ocppnet.webpay.url_template import UrlTemplate

TEMPLATE = UrlTemplate.parse(
    "https://pay.example/{chargingStationId}/{evse}/{totp}?v={version}&k={channelKeyId}")
SETTINGS = TotpSettings("the-secret-of-station-one", validity_s=60, length=10)
NOW = 1_800_000_000.0


def sessions() -> PaymentSessions:
    return PaymentSessions(TEMPLATE, {"CS-1": SETTINGS})


def path(code: str, station: str = "CS-1", evse: str = "1", version: str = "1") -> str:
    return f"/{station}/{evse}/{code}?v={version}&k=fp"


def test_a_valid_link_opens_a_session_once() -> None:
    registry = sessions()
    session = registry.open_link(path(totp(SETTINGS, NOW)), NOW)
    assert (session.station_id, session.evse_id, session.fingerprint) == ("CS-1", 1, "fp")
    assert registry.get(session.id) is session and session.state == "Scanned"
    with pytest.raises(LinkError, match="used already"):
        registry.open_link(path(totp(SETTINGS, NOW)), NOW + 1)
    # the next slot's code is a new link
    registry.open_link(path(totp(SETTINGS, NOW + 60)), NOW + 60)


def test_the_used_link_memory_is_forgotten_after_the_window() -> None:
    registry = sessions()
    code = totp(SETTINGS, NOW)
    registry.open_link(path(code), NOW)
    with pytest.raises(LinkError) as info:
        registry.open_link(path(code), NOW + 5 * 60)
    assert info.value.reason == "Expired"  # not "Reused": too old by then anyway
    assert registry.remembered_links == 0


@pytest.mark.parametrize(("link", "reason"), [
    ("/CS-1/1", "Malformed"),
    (path("x", station="CS-9"), "UnknownStation"),
    (path("x", evse="0"), "Malformed"),
    (path("x", version="2"), "Malformed"),
    (path("0123456789"), "WrongTotp"),
    (path(totp(SETTINGS, NOW - 120)), "Expired"),
    (path(totp(SETTINGS, NOW + 120)), "WrongTotp"),
])
def test_bad_links_are_refused_with_a_reason(link: str, reason: str) -> None:
    with pytest.raises(LinkError) as info:
        sessions().open_link(link, NOW)
    assert info.value.reason == reason and info.value.message


def test_finished_and_old_sessions_are_forgotten() -> None:
    registry = sessions()
    done = registry.open_link(path(totp(SETTINGS, NOW)), NOW)
    done.advance("Failed")
    running = registry.open_link(path(totp(SETTINGS, NOW + 60)), NOW + 60)
    registry.open_link(path(totp(SETTINGS, NOW + 3700)), NOW + 3700)
    assert done.id not in registry.sessions and running.id in registry.sessions
    registry.open_link(path(totp(SETTINGS, NOW + 90_000)), NOW + 90_000)
    assert running.id not in registry.sessions


def test_steps_out_of_order_are_refused() -> None:
    session = sessions().open_link(path(totp(SETTINGS, NOW)), NOW)
    with pytest.raises(LinkError, match="is Scanned; cannot go to Charging"):
        session.advance("Charging")
    session.advance("Paid")
    with pytest.raises(LinkError, match="is Paid; cannot go to Paid"):
        session.advance("Paid")


def test_the_template_must_carry_what_the_service_checks() -> None:
    with pytest.raises(LinkError, match=r"needs \{channelKeyId\}"):
        PaymentSessions(UrlTemplate.parse("https://p.example/{chargingStationId}/{evse}/{totp}"),
                        {})


def test_simulated_psp_authorizes_captures_once_and_caps() -> None:
    psp = SimulatedPsp()
    auth = psp.authorize(20.0, "EUR")
    assert auth.psp_ref.startswith("SIM-")
    assert psp.capture(auth.psp_ref, 25.0) == 20.0
    with pytest.raises(PspError, match="settled already"):
        psp.capture(auth.psp_ref, 1.0)
    with pytest.raises(PspError, match="unknown payment reference"):
        psp.capture("SIM-NOPE", 1.0)
    other = psp.authorize(5.0, "EUR")
    psp.void(other.psp_ref)
    with pytest.raises(PspError, match="unknown payment reference"):
        psp.capture(other.psp_ref, 1.0)
