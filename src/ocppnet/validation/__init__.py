"""Validation of OCPP payloads against the official and ocppnet's extension JSON schemas."""

from ocppnet.validation.schema_catalog import Kind, extension_actions
from ocppnet.validation.validator import ValidationFailure, is_known_action, validate, warm_up

__all__ = [
    "Kind",
    "ValidationFailure",
    "extension_actions",
    "is_known_action",
    "validate",
    "warm_up",
]
