"""What both WebSocket drivers' servers share: the handshake policy and the server handle.

:class:`HandshakePolicy` applies one server's rules (docs/transport.md, "The opening
handshake") to values a driver hands it: the request path, the client certificate, the
``Authorization`` header, the offered subprotocols. The websockets driver awaits an async
password check; the picows driver, whose upgrade hook is synchronous, needs a sync one.
:class:`LinkServer` is what :func:`ocppnet.transport.server.serve` returns on either driver.
"""

from __future__ import annotations

import abc
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from http import HTTPStatus
from types import TracebackType
from typing import Any

from ocppnet.transport.handshake import (
    WWW_AUTHENTICATE_BASIC,
    Refusal,
    check_basic_user,
    check_client_certificate,
    parse_basic_authorization,
    select_subprotocol,
    station_id_from_path,
    wants_overlay,
)
from ocppnet.transport.link import Link
from ocppnet.transport.security import ServerSecurity

log = logging.getLogger("ocppnet.transport.server")

CLOSE_NO_SUBPROTOCOL = 1002
"""Close code when client and server share no OCPP subprotocol (protocol error)."""

OnLink = Callable[[Link], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Credentials:
    """Basic credentials that passed the format and username checks; the password is next."""

    station_id: str
    password: str


class HandshakePolicy:
    """One server's handshake rules, in the documented order."""

    __slots__ = ("allow_overlay", "security", "subprotocols")

    def __init__(
        self, security: ServerSecurity, subprotocols: Sequence[str], allow_overlay: bool
    ) -> None:
        self.security = security
        self.subprotocols = tuple(subprotocols)
        self.allow_overlay = allow_overlay

    def identify(
        self, path: str, peercert: Mapping[str, Any] | None, authorization: str | None
    ) -> str | Credentials | Refusal:
        """The station id (profiles 0, 3), the Credentials to check (1, 2), or a Refusal."""
        station_id = station_id_from_path(path)
        if isinstance(station_id, Refusal):
            return station_id
        if self.security.profile == 3:
            refusal = check_client_certificate(peercert, station_id)
            if refusal is not None:
                return refusal
        if not self.security.basic_auth:
            return station_id
        parsed = parse_basic_authorization(authorization)
        if isinstance(parsed, Refusal):
            return parsed
        username, password = parsed
        refusal = check_basic_user(username, station_id)
        return refusal if refusal is not None else Credentials(station_id, password)

    def check_password(self, credentials: Credentials) -> bool | Awaitable[bool]:
        check = self.security.check_password
        assert check is not None  # ServerSecurity guarantees it for profiles 1 and 2
        return check(credentials.station_id, credentials.password)

    def refusal_headers(self, refusal: Refusal) -> dict[str, str]:
        if refusal.status == HTTPStatus.UNAUTHORIZED and self.security.basic_auth:
            return {"WWW-Authenticate": WWW_AUTHENTICATE_BASIC}
        return {}

    def subprotocol(self, offered: Sequence[str]) -> str | None:
        return select_subprotocol(offered, self.subprotocols)

    def overlay(self, headers: Mapping[str, str]) -> bool:
        """Echo ``X-OCPP-NetworkingMode: OverlayNetwork``? Only when this server allows it."""
        return self.allow_overlay and wants_overlay(headers)


WRONG_PASSWORD = Refusal(HTTPStatus.UNAUTHORIZED, "wrong password")


def log_refusal(refusal: Refusal, station: str, remote: Any) -> None:
    log.warning(
        "event=handshake_refused station=%s status=%d reason=%r remote=%s",
        station, refusal.status, refusal.reason, remote,
    )


class LinkServer(abc.ABC):
    """A listening OCPP server; ``async with`` or :meth:`close` stops it and closes its links
    (1001, going away)."""

    driver: str = ""

    @property
    @abc.abstractmethod
    def port(self) -> int:
        """The TCP port it listens on."""

    @property
    @abc.abstractmethod
    def link_count(self) -> int:
        """WebSocket links open right now."""

    @abc.abstractmethod
    async def close(self) -> None:
        """Stop listening, close every open link, wait until they are closed."""

    async def __aenter__(self) -> LinkServer:
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()
