"""The embedded CSMS: :class:`CsmsApp` (handlers, store, event bus, station requests)."""

from __future__ import annotations

from ocppnet.csms.app import CsmsApp
from ocppnet.csms.config import CsmsConfig, load_config, parse_config
from ocppnet.csms.core import CsmsCore, RequestContext, StationLink
from ocppnet.csms.events import (
    ConnectorChanged,
    EnergyChanged,
    Event,
    EventBus,
    MessageSeen,
    StationChanged,
    Subscription,
    event_to_json,
)

__all__ = [
    "ConnectorChanged",
    "CsmsApp",
    "CsmsConfig",
    "CsmsCore",
    "EnergyChanged",
    "Event",
    "EventBus",
    "MessageSeen",
    "RequestContext",
    "StationChanged",
    "StationLink",
    "Subscription",
    "event_to_json",
    "load_config",
    "parse_config",
]
