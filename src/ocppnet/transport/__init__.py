"""asyncio WebSocket transport: OCPP handshake, security profiles, links and Connections."""

from ocppnet.transport.backoff import Backoff
from ocppnet.transport.client import LinkRefused, StationClient, connect_station, open_link
from ocppnet.transport.connection import Connection, FrameSender
from ocppnet.transport.csms_server import CsmsServer, serve_csms
from ocppnet.transport.handlers import CallContext, Handler, Handlers
from ocppnet.transport.handshake import NETWORKING_MODE_HEADER, OVERLAY_MODE
from ocppnet.transport.link import DirectSender, Link, LinkDetails, pump
from ocppnet.transport.options import LinkOptions
from ocppnet.transport.security import PasswordCheck, ServerSecurity, StaticPasswords
from ocppnet.transport.server import CLOSE_NO_SUBPROTOCOL, LinkServer, OnLink, serve

__all__ = [
    "CLOSE_NO_SUBPROTOCOL",
    "NETWORKING_MODE_HEADER",
    "OVERLAY_MODE",
    "Backoff",
    "CallContext",
    "Connection",
    "CsmsServer",
    "DirectSender",
    "FrameSender",
    "Handler",
    "Handlers",
    "Link",
    "LinkDetails",
    "LinkOptions",
    "LinkRefused",
    "LinkServer",
    "OnLink",
    "PasswordCheck",
    "ServerSecurity",
    "StaticPasswords",
    "StationClient",
    "connect_station",
    "open_link",
    "pump",
    "serve",
    "serve_csms",
]
