"""One exception hierarchy for ocppnet; each class maps to exactly one OCPP error code.

Exceptions stay inside the library: at the edge (a frame arriving on a link) they are
turned into CALLERROR frames by :func:`ocppnet.rpc.codec.error_for`, never sent as tracebacks.
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


# --- errors that map to OCPP-J error codes (OCPP 2.0.1/2.1 part 4, OCPP 1.6 section 4.2.3) ---


class FormatViolation(OcppNetError):
    """Payload (or frame) is syntactically incorrect."""

    code = "FormatViolation"


class FormationViolation(FormatViolation):
    """OCPP 1.6 spells FormatViolation as 'FormationViolation'."""

    code = "FormationViolation"


class ProtocolError(OcppNetError):
    code = "ProtocolError"


class RpcFrameworkError(OcppNetError):
    code = "RpcFrameworkError"


class MessageTypeNotSupported(OcppNetError):
    code = "MessageTypeNotSupported"


class NotImplementedAction(OcppNetError):
    """The action is known to the protocol but this endpoint has no handler for it."""

    code = "NotImplemented"


class NotSupported(OcppNetError):
    code = "NotSupported"


class InternalError(OcppNetError):
    code = "InternalError"


class SecurityError(OcppNetError):
    code = "SecurityError"


class OccurrenceConstraintViolation(OcppNetError):
    code = "OccurrenceConstraintViolation"


class PropertyConstraintViolation(OcppNetError):
    code = "PropertyConstraintViolation"


class TypeConstraintViolation(OcppNetError):
    code = "TypeConstraintViolation"


class GenericError(OcppNetError):
    code = "GenericError"


# --- overlay / routing errors (our extension codes, as in WWCP_OCPP) ---


class UnknownClient(OcppNetError):
    """No route to the destination."""

    code = "UnknownClient"


class NetworkingError(OcppNetError):
    """Loop, hop limit, spoofed path or an unavailable upstream."""

    code = "NetworkingError"


# --- local errors (never on the wire) ---


class CallErrorReceived(OcppNetError):
    """The peer answered our CALL with a CALLERROR."""

    def __init__(self, code: str, description: str, details: dict[str, Any] | None = None) -> None:
        super().__init__(description, details)
        self.code = code

    def __str__(self) -> str:
        return f"{self.code}: {self.description}"


class DropRequest(OcppNetError):
    """Raised by a handler: answer nothing (a security policy's ``drop``); the caller times
    out as if the message had been lost."""

    code = "Dropped"


class CallTimeout(OcppNetError):
    """No response to our CALL within the timeout."""

    code = "Timeout"


class ConnectionClosed(OcppNetError):
    """The link went away while a call was in flight."""

    code = "ConnectionClosed"


class ConfigError(OcppNetError):
    """Bad configuration: the message names the file and the key."""

    code = "ConfigError"


_BY_CODE: dict[str, type[OcppNetError]] = {
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


def error_class(code: str) -> type[OcppNetError]:
    """The exception class for an OCPP error code (GenericError for unknown codes)."""
    return _BY_CODE.get(code, GenericError)
