"""Pure decisions of the OCPP WebSocket opening handshake (no sockets, no websockets types).

The asyncio server (``transport.server``) asks these functions what to do with an upgrade
request and turns the answer into an HTTP response; tests drive them directly.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any
from urllib.parse import unquote, urlsplit

NETWORKING_MODE_HEADER = "X-OCPP-NetworkingMode"
OVERLAY_MODE = "OverlayNetwork"

#: OCPP 2.0.1 identifierString, at most 48 characters (part 4, "the Charging Station identity").
_STATION_ID = re.compile(r"[A-Za-z0-9*\-_=:+|@.]{1,48}")

#: The subprotocols we speak, newest first (the default server preference order).
DEFAULT_SUBPROTOCOLS: tuple[str, ...] = ("ocpp2.1", "ocpp2.0.1", "ocpp1.6")


@dataclass(frozen=True, slots=True)
class Refusal:
    """Refuse the upgrade with this HTTP status; ``reason`` is the short text body (and log)."""

    status: HTTPStatus
    reason: str


def station_id_from_path(path: str) -> str | Refusal:
    """The station id is the last segment of the URL path, percent-decoded.

    An empty id gives 404 (there is no station resource at that URL); an id that is not an
    OCPP identifierString of 1..48 characters gives 400.
    """
    segment = urlsplit(path).path.rsplit("/", 1)[-1]
    if not segment:
        return Refusal(HTTPStatus.NOT_FOUND, "no station id in the URL path")
    station_id = unquote(segment, errors="strict") if "%" in segment else segment
    if _STATION_ID.fullmatch(station_id) is None:
        return Refusal(HTTPStatus.BAD_REQUEST, "invalid station id in the URL path")
    return station_id


def select_subprotocol(offered: Sequence[str], preference: Sequence[str]) -> str | None:
    """The first subprotocol of the server's ``preference`` that the client offered, else None.

    None means no agreement: OCPP-J says the server completes the handshake without a
    ``Sec-WebSocket-Protocol`` header and then closes the connection at once.
    """
    offered_set = set(offered)
    for subprotocol in preference:
        if subprotocol in offered_set:
            return subprotocol
    return None


def wants_overlay(headers: Mapping[str, str]) -> bool:
    """Did the client ask for overlay mode (``X-OCPP-NetworkingMode: OverlayNetwork``)?"""
    value = headers.get(NETWORKING_MODE_HEADER)
    return value is not None and value.strip().lower() == OVERLAY_MODE.lower()


#: The challenge a 401 carries (RFC 7617: the realm, and that credentials are UTF-8).
WWW_AUTHENTICATE_BASIC = 'Basic realm="OCPP", charset="UTF-8"'


def parse_basic_authorization(header: str | None) -> tuple[str, str] | Refusal:
    """``Authorization: Basic base64(user:password)`` -> (user, password), else a 401 Refusal."""
    if header is None:
        return Refusal(HTTPStatus.UNAUTHORIZED, "missing Basic credentials")
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() != "basic" or not token.strip():
        return Refusal(HTTPStatus.UNAUTHORIZED, "malformed Basic credentials")
    try:
        decoded = base64.b64decode(token.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return Refusal(HTTPStatus.UNAUTHORIZED, "malformed Basic credentials")
    username, colon, password = decoded.partition(":")
    if not colon:
        return Refusal(HTTPStatus.UNAUTHORIZED, "malformed Basic credentials")
    return username, password


def offered_subprotocols(values: Iterable[str]) -> list[str]:
    """The tokens of every ``Sec-WebSocket-Protocol`` header value (comma-separated lists)."""
    return [token.strip() for value in values for token in value.split(",") if token.strip()]


def check_basic_user(username: str, station_id: str) -> Refusal | None:
    """With HTTP Basic auth the username must be the station id of the URL (profiles 1, 2)."""
    if username != station_id:
        return Refusal(HTTPStatus.UNAUTHORIZED, "username does not match the station id")
    return None


def certificate_common_names(peercert: Mapping[str, Any] | None) -> tuple[str, ...]:
    """The subject CNs of a certificate as returned by ``ssl.SSLSocket.getpeercert()``."""
    if not peercert:
        return ()
    names: list[str] = []
    subject: Iterable[Iterable[tuple[str, str]]] = peercert.get("subject", ())
    for rdn in subject:
        for key, value in rdn:
            if key == "commonName":
                names.append(value)
    return tuple(names)


def check_client_certificate(
    peercert: Mapping[str, Any] | None, station_id: str
) -> Refusal | None:
    """Profile 3: the client certificate's subject CN must be the station id of the URL.

    The TLS layer already checked that a trusted CA signed it; a valid certificate for
    another station is a known client asking for a resource it may not have: 403.
    """
    names = certificate_common_names(peercert)
    if not names:
        return Refusal(HTTPStatus.UNAUTHORIZED, "no client certificate")
    if station_id not in names:
        return Refusal(HTTPStatus.FORBIDDEN, "client certificate CN does not match the station id")
    return None
