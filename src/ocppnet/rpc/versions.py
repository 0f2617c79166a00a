"""What differs between OCPP 1.6, 2.0.1 and 2.1 at the RPC layer.

WebSocket subprotocol names, which message types exist, and how each version spells the
RPC error codes (1.6 keeps the historic spellings "FormationViolation" and
"OccurenceConstraintViolation"). Everything else in ocppnet uses the 2.x spelling
internally and converts with :func:`wire_error_code` at the edge.
"""

from __future__ import annotations

from typing import Final

VERSIONS: Final = ("1.6", "2.0.1", "2.1")

_SUBPROTOCOL_TO_VERSION: Final[dict[str, str]] = {
    "ocpp1.6": "1.6",
    "ocpp2.0.1": "2.0.1",
    "ocpp2.1": "2.1",
}
_VERSION_TO_SUBPROTOCOL: Final[dict[str, str]] = {v: s for s, v in _SUBPROTOCOL_TO_VERSION.items()}
SUBPROTOCOLS: Final = tuple(_SUBPROTOCOL_TO_VERSION)

# OCPP-J 1.6 has neither RpcFrameworkError nor MessageTypeNotSupported; its closest codes
# are ProtocolError ("payload incomplete") and GenericError ("any other error").
_V16_SPELLING: Final[dict[str, str]] = {
    "FormatViolation": "FormationViolation",
    "OccurrenceConstraintViolation": "OccurenceConstraintViolation",
    "RpcFrameworkError": "ProtocolError",
    "MessageTypeNotSupported": "GenericError",
}
_V2_SPELLING: Final[dict[str, str]] = {
    "FormationViolation": "FormatViolation",
    "OccurenceConstraintViolation": "OccurrenceConstraintViolation",
}

_TYPES_V16_V201: Final = frozenset({2, 3, 4})
_TYPES_V21: Final = frozenset({2, 3, 4, 5, 6})


def check_version(version: str) -> str:
    """Return ``version`` if it is one of :data:`VERSIONS`; raise ValueError otherwise."""
    if version not in _VERSION_TO_SUBPROTOCOL:
        raise ValueError(f"unknown OCPP version {version!r}; expected one of {VERSIONS}")
    return version


def version_for_subprotocol(subprotocol: str) -> str | None:
    """``"ocpp2.0.1"`` -> ``"2.0.1"``; None for a subprotocol we do not speak."""
    return _SUBPROTOCOL_TO_VERSION.get(subprotocol)


def subprotocol_for_version(version: str) -> str:
    """``"2.0.1"`` -> ``"ocpp2.0.1"``; ValueError for an unknown version."""
    return _VERSION_TO_SUBPROTOCOL[check_version(version)]


def has_message_type(version: str, message_type: int) -> bool:
    """Whether the version defines this message type id (5 and 6 exist only in 2.1)."""
    return message_type in (_TYPES_V21 if version == "2.1" else _TYPES_V16_V201)


def wire_error_code(version: str, code: str) -> str:
    """The version's own spelling of an RPC error code (codes it does not know pass through)."""
    if version == "1.6":
        return _V16_SPELLING.get(code, code)
    return _V2_SPELLING.get(code, code)
