"""One exception hierarchy for ocppnet; each class maps to exactly one error code.

Two kinds under :class:`OcppNetError`: a :class:`WireError` is sent to the peer as the OCPP-J
(or overlay) error code it names, by :func:`ocppnet.rpc.codec.error_for` at the edge (a frame
arriving on a link), never as a traceback; a :class:`LocalError` is raised to our own caller
and never goes on the wire (a timeout, a closed link, bad configuration, a CALLERROR we
received). :func:`error_class` maps a code received on the wire back to its WireError class.
"""

from __future__ import annotations

from typing import Any


class OcppNetError(Exception):
    """Base of every error ocppnet raises on purpose."""

    code: str = "GenericError"

    def __init__(self, description: str = "", details: dict[str, Any] | None = None) -> None:
        super().__init__(description)
        self.description = description
        self.details: dict[str, Any] = details or {}


class WireError(OcppNetError):
    """An error the peer is told about: ``code`` is sent in the CALLERROR."""


class LocalError(OcppNetError):
    """An error for our own caller only; its ``code`` never goes on the wire."""


# --- errors that map to OCPP-J error codes (OCPP 2.0.1/2.1 part 4, OCPP 1.6 section 4.2.3) ---


class FormatViolation(WireError):
    """Payload (or frame) is syntactically incorrect."""

    code = "FormatViolation"


class FormationViolation(FormatViolation):
    """OCPP 1.6 spells FormatViolation as 'FormationViolation'."""

    code = "FormationViolation"


class ProtocolError(WireError):
    code = "ProtocolError"


class RpcFrameworkError(WireError):
    code = "RpcFrameworkError"


class MessageTypeNotSupported(WireError):
    code = "MessageTypeNotSupported"


class NotImplementedAction(WireError):
    """The action is known to the protocol but this endpoint has no handler for it."""

    code = "NotImplemented"


class NotSupported(WireError):
    code = "NotSupported"


class InternalError(WireError):
    code = "InternalError"


class SecurityError(WireError):
    code = "SecurityError"


class OccurrenceConstraintViolation(WireError):
    code = "OccurrenceConstraintViolation"


class PropertyConstraintViolation(WireError):
    code = "PropertyConstraintViolation"


class TypeConstraintViolation(WireError):
    code = "TypeConstraintViolation"


class GenericError(WireError):
    code = "GenericError"


# --- overlay / routing errors (our extension codes, as in WWCP_OCPP) ---


class UnknownClient(WireError):
    """No route to the destination."""

    code = "UnknownClient"


class NetworkingError(WireError):
    """Loop, hop limit, spoofed path or an unavailable upstream."""

    code = "NetworkingError"


# --- local errors (never on the wire) ---


class CallErrorReceived(LocalError):
    """The peer answered our CALL with a CALLERROR."""

    def __init__(self, code: str, description: str, details: dict[str, Any] | None = None) -> None:
        super().__init__(description, details)
        self.code = code

    def __str__(self) -> str:
        return f"{self.code}: {self.description}"


class DropRequest(LocalError):
    """Raised by a handler: answer nothing (a security policy's ``drop``); the caller times
    out as if the message had been lost."""

    code = "Dropped"


class CallTimeout(LocalError):
    """No response to our CALL within the timeout."""

    code = "Timeout"


class ConnectionClosed(LocalError):
    """The link went away while a call was in flight."""

    code = "ConnectionClosed"


class ConfigError(LocalError):
    """Bad configuration: the message names the file and the key."""

    code = "ConfigError"


class GridRefused(LocalError):
    """The grid operator's LPC refuses a limit or a transition (ocppnet.grid): a site answers
    with status Rejected and ``reason_code``; the operator's service refuses before sending."""

    code = "GridRefused"

    def __init__(self, reason_code: str, description: str) -> None:
        super().__init__(description)
        self.reason_code = reason_code


_BY_CODE: dict[str, type[WireError]] = {
    cls.code: cls
    for cls in (
        FormatViolation,
        FormationViolation,
        ProtocolError,
        RpcFrameworkError,
        MessageTypeNotSupported,
        NotImplementedAction,
        NotSupported,
        InternalError,
        SecurityError,
        OccurrenceConstraintViolation,
        PropertyConstraintViolation,
        TypeConstraintViolation,
        GenericError,
        UnknownClient,
        NetworkingError,
    )
}


def error_class(code: str) -> type[WireError]:
    """The exception class for an OCPP error code (GenericError for unknown codes)."""
    return _BY_CODE.get(code, GenericError)
