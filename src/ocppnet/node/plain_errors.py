"""Error codes a plain OCPP peer accepts: overlay-only codes are renamed for standard links."""

from __future__ import annotations

from ocppnet.rpc.frames import CallError
from ocppnet.rpc.versions import wire_error_code

_PLAIN_CODES = {
    "1.6": frozenset({
        "NotImplemented", "NotSupported", "InternalError", "ProtocolError", "SecurityError",
        "FormationViolation", "PropertyConstraintViolation", "OccurenceConstraintViolation",
        "TypeConstraintViolation", "GenericError",
    }),
    "2": frozenset({
        "FormatViolation", "GenericError", "InternalError", "MessageTypeNotSupported",
        "NotImplemented", "NotSupported", "OccurrenceConstraintViolation",
        "PropertyConstraintViolation", "ProtocolError", "RpcFrameworkError", "SecurityError",
        "TypeConstraintViolation",
    }),
}


def plain_error(frame: CallError, version: str) -> CallError:
    """``frame`` as a plain OCPP peer of ``version`` may receive it: overlay-only codes
    (NetworkingError, UnknownClient) become GenericError, named in the description, because
    a standard implementation refuses codes its version does not define."""
    code = wire_error_code(version, frame.error_code)
    if code in _PLAIN_CODES["1.6" if version == "1.6" else "2"]:
        if code == frame.error_code:
            return frame
        description = frame.error_description
    else:
        code, description = "GenericError", f"{frame.error_code}: {frame.error_description}"
    return CallError(
        frame.message_id, code, description, frame.error_details, frame.dest, frame.path
    )
