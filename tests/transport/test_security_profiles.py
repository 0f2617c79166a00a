"""Station and CSMS of ours over loopback, for each security profile, and every refusal."""

from __future__ import annotations

import base64
from http import HTTPStatus

import pytest
from websockets.asyncio.client import connect as ws_connect
from websockets.exceptions import InvalidStatus

from ocppnet.pki import ThrowawayPki, client_ssl_context
from ocppnet.transport import (
    LinkRefused,
    ServerSecurity,
    StaticPasswords,
    connect_station,
    open_link,
    serve_csms,
)
from tests.transport.helpers import boot_heartbeat_authorize, csms_handlers

PASSWORD = "0123456789abcdef0123"
PASSWORDS = StaticPasswords({"CP1": PASSWORD, "CP2": PASSWORD})


def security(profile: int, pki: ThrowawayPki) -> ServerSecurity:
    if profile == 0:
        return ServerSecurity()
    if profile == 1:
        return ServerSecurity(1, check_password=PASSWORDS)
    if profile == 2:
        context = pki.server_context(mutual=False)
        return ServerSecurity(2, check_password=PASSWORDS, ssl_context=context)
    return ServerSecurity(3, ssl_context=pki.server_context(mutual=True))


def station_kwargs(profile: int, pki: ThrowawayPki, station_id: str = "CP1") -> dict[str, object]:
    if profile == 0:
        return {}
    if profile == 1:
        return {"password": PASSWORD}
    if profile == 2:
        return {"password": PASSWORD, "ssl_context": pki.client_context()}
    return {"ssl_context": pki.client_context(station_id)}


def url(profile: int, port: int) -> str:
    return f"{'wss' if profile >= 2 else 'ws'}://127.0.0.1:{port}/ocpp"


@pytest.mark.parametrize("profile", [0, 1, 2, 3])
async def test_station_and_csms_complete_boot_heartbeat_authorize(
    profile: int, pki: ThrowawayPki
) -> None:
    seen: list[tuple[str, str]] = []
    async with (
        await serve_csms(csms_handlers(seen), security=security(profile, pki)) as csms,
        connect_station(
            url(profile, csms.port), "CP1", backoff=None, **station_kwargs(profile, pki)
        ) as conn,
    ):
        await boot_heartbeat_authorize(conn)
        assert set(csms.connections) == {"CP1"}
        assert csms.links["CP1"].info.security_profile == profile
    assert seen == [("CP1", "BootNotification"), ("CP1", "Heartbeat"), ("CP1", "Authorize")]


@pytest.mark.parametrize("profile", [1, 2])
@pytest.mark.parametrize("password", ["wrong-password-0000", None])
async def test_wrong_or_missing_password_is_401(
    profile: int, password: str | None, pki: ThrowawayPki
) -> None:
    async with await serve_csms(csms_handlers(), security=security(profile, pki)) as csms:
        kwargs = station_kwargs(profile, pki) | {"password": password}
        with pytest.raises(LinkRefused) as refused:
            await open_link(url(profile, csms.port), "CP1", **kwargs)  # type: ignore[arg-type]
        assert refused.value.status == HTTPStatus.UNAUTHORIZED


async def test_basic_username_other_than_the_url_id_is_401(pki: ThrowawayPki) -> None:
    token = base64.b64encode(f"CP2:{PASSWORD}".encode()).decode()
    async with await serve_csms(csms_handlers(), security=security(1, pki)) as csms:
        with pytest.raises(InvalidStatus) as refused:
            await ws_connect(
                f"ws://127.0.0.1:{csms.port}/ocpp/CP1", subprotocols=["ocpp2.0.1"],  # type: ignore[list-item]
                additional_headers={"Authorization": f"Basic {token}"}, proxy=None,
            )
        assert refused.value.response.status_code == HTTPStatus.UNAUTHORIZED
        assert refused.value.response.headers["WWW-Authenticate"].startswith("Basic")


async def test_client_certificate_from_another_ca_fails_the_tls_handshake(
    pki: ThrowawayPki, rogue_pki: ThrowawayPki
) -> None:
    rogue = rogue_pki.client_files("CP1")
    context = client_ssl_context(pki.ca_pem, rogue)  # trusts the server, presents a rogue cert
    async with await serve_csms(csms_handlers(), security=security(3, pki)) as csms:
        with pytest.raises(LinkRefused) as refused:
            await open_link(url(3, csms.port), "CP1", ssl_context=context)
        assert refused.value.status is None  # no HTTP response: TLS itself failed
        assert csms.connections == {}


async def test_profile_3_without_client_certificate_fails_the_tls_handshake(
    pki: ThrowawayPki,
) -> None:
    async with await serve_csms(csms_handlers(), security=security(3, pki)) as csms:
        with pytest.raises(LinkRefused) as refused:
            await open_link(url(3, csms.port), "CP1", ssl_context=pki.client_context())
        assert refused.value.status is None


async def test_client_certificate_cn_other_than_the_url_id_is_403(pki: ThrowawayPki) -> None:
    async with await serve_csms(csms_handlers(), security=security(3, pki)) as csms:
        with pytest.raises(LinkRefused) as refused:
            await open_link(url(3, csms.port), "CP1", ssl_context=pki.client_context("CP2"))
        assert refused.value.status == HTTPStatus.FORBIDDEN


async def test_server_certificate_from_an_unknown_ca_is_refused_by_the_station(
    pki: ThrowawayPki, rogue_pki: ThrowawayPki
) -> None:
    async with await serve_csms(csms_handlers(), security=security(2, pki)) as csms:
        with pytest.raises(LinkRefused):
            await open_link(
                url(2, csms.port), "CP1", password=PASSWORD, ssl_context=rogue_pki.client_context()
            )


def test_security_settings_are_checked_when_built(pki: ThrowawayPki) -> None:
    with pytest.raises(ValueError, match="check_password"):
        ServerSecurity(1)
    with pytest.raises(ValueError, match="SSL context"):
        ServerSecurity(2, check_password=PASSWORDS)
    with pytest.raises(ValueError, match="client certs"):
        ServerSecurity(3, ssl_context=pki.server_context(mutual=False))
    with pytest.raises(ValueError, match="without TLS"):
        ServerSecurity(1, check_password=PASSWORDS, ssl_context=pki.server_context(mutual=False))
