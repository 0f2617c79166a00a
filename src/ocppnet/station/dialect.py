"""What differs between OCPP 2.0.1/2.1 and 1.6 for the station: message shapes and handlers.

:class:`~ocppnet.station.runtime.SimulatedStation` is version-neutral; it asks its dialect
to build payloads from model events and to register the CSMS-initiated handlers.
"""

from __future__ import annotations

from typing import Any, Protocol

from ocppnet.station.events import ModelEvent
from ocppnet.station.model import Evse
from ocppnet.station.offline_queue import QueuedMessage
from ocppnet.station.states import ConnectorStatus
from ocppnet.transport import Handlers


class Dialect(Protocol):
    def register(self, handlers: Handlers) -> None:
        """Add the handlers for CSMS-initiated requests."""
        ...

    def boot_request(self, reason: str) -> dict[str, Any]: ...

    def status_value(self, status: ConnectorStatus) -> str:
        """How the version spells a connector status on the wire."""
        ...

    def status_request(self, evse_id: int, connector_id: int, status: ConnectorStatus,
                       now: float) -> dict[str, Any]: ...

    def authorize_request(self, id_token: str) -> dict[str, Any]: ...

    def authorize_accepted(self, response: dict[str, Any]) -> bool: ...

    def transaction_messages(self, event: ModelEvent, now: float,
                             offline: bool) -> list[QueuedMessage]:
        """The queued messages for one model event (may be none)."""
        ...

    def meter_message(self, evse: Evse, now: float, offline: bool,
                      triggered: bool = False) -> QueuedMessage | None:
        """A periodic (or triggered) sample of a running transaction."""
        ...

    def triggered_meter_values(self, evse: Evse, now: float) -> tuple[str, dict[str, Any]]:
        """TriggerMessage(MeterValues): a MeterValues request outside any queue."""
        ...

    def prepare(self, message: QueuedMessage) -> dict[str, Any] | None:
        """The payload to send now (None: obsolete, drop it)."""
        ...

    def delivered(self, message: QueuedMessage, response: dict[str, Any]) -> None:
        """The CSMS answered a queued message."""
        ...
