"""What the router tells the node to do with one frame; the node only executes it.

Every frame given to a ``link_id`` is already in that link's mode (overlay: DEST/PATH with
this node appended; standard: stripped), except :class:`Hold`, whose link is down.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeAlias

from ocppnet.rpc.frames import CallError, Frame


@dataclass(frozen=True, slots=True)
class Deliver:
    """For this node's own application; ``frame`` is in overlay form (PATH[0] = the asker)."""

    frame: Frame
    link_id: str | None
    """The link it arrived on (None when this node sent it to itself)."""


@dataclass(frozen=True, slots=True)
class Forward:
    """Write ``frame`` on ``link_id`` as it is."""

    link_id: str
    frame: Frame


@dataclass(frozen=True, slots=True)
class Hold:
    """The route goes through ``link_id``, which is down (a configured upstream).

    The node queues ``frame`` (overlay form; convert with ``frame_for_link`` once the link is
    up) if the action must not be lost, else writes ``reply`` on ``reply_link``. A response
    to a queued request finds nobody waiting and is dropped at the edge.
    """

    link_id: str
    frame: Frame
    reply: CallError | None
    reply_link: str | None


@dataclass(frozen=True, slots=True)
class Reject:
    """Answer with ``reply`` on ``link_id`` (None: hand it to the local application)."""

    link_id: str | None
    reply: CallError
    reason: str


@dataclass(frozen=True, slots=True)
class Drop:
    """Nothing to send (a response or SEND cannot be answered); log ``reason``."""

    reason: str


@dataclass(frozen=True, slots=True)
class Fanout:
    """A broadcast: carry out each decision."""

    decisions: tuple[Deliver | Forward, ...]


RouteDecision: TypeAlias = Deliver | Forward | Hold | Reject | Drop | Fanout
