"""Reserved node ids of the overlay (docs/wire-format.md "Text frames", docs/routing.md).

A station or node must never authenticate with one of these: they name a group
(``CSMS``), everyone (``*``) or the default route (``*default*``), never one party.
"""

from __future__ import annotations

from typing import Annotated, Final

from pydantic import AfterValidator

CSMS: Final = "CSMS"
"""Anycast: any CSMS; routed by the table's ``CSMS`` entry (or the default route)."""

BROADCAST: Final = "*"
"""Broadcast: every overlay node (SEND frames only)."""

DEFAULT_ROUTE: Final = "*default*"
"""Destination of the default route, used when a destination has no exact entry."""

RESERVED: Final = frozenset({CSMS, BROADCAST, DEFAULT_ROUTE})


def is_node_id(value: str) -> bool:
    """True for an id that may name exactly one station or node (non-empty, not reserved)."""
    return bool(value) and value not in RESERVED


def _checked(value: str) -> str:
    if not is_node_id(value):
        raise ValueError(f"{value!r} is not a valid node id")
    return value


NodeId = Annotated[str, AfterValidator(_checked)]
"""A configuration field holding one station's or node's id (:func:`is_node_id`)."""
