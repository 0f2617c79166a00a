"""The per-frame forwarding decision of a node (docs/routing.md "The decision").

``decide`` takes one decoded frame, the link it came from and the node's state (routing
table, pending requests, filters) and returns one :mod:`~ocppnet.routing.decisions` value.
It updates the table (learning) and the pending requests; it never does I/O.
Order of checks: enter (standard -> overlay form), loop, hop limit, anti-spoofing, learn,
filter, then local delivery, broadcast, correlation and route lookup. docs/routing.md.
"""

from __future__ import annotations

from typing import cast

from ocppnet.routing.decisions import Deliver, Drop, Fanout, Forward, Hold, Reject, RouteDecision
from ocppnet.routing.filters import Direction, ForwardingFilter
from ocppnet.routing.ids import BROADCAST, CSMS
from ocppnet.routing.links import LinkInfo
from ocppnet.routing.pending import PendingRequest, PendingTable
from ocppnet.routing.table import RoutingTable
from ocppnet.rpc.frames import (
    Call,
    CallError,
    CallResult,
    Frame,
    Send,
)
from ocppnet.rpc.header import RawFrame

DEFAULT_HOP_LIMIT = 16
DEFAULT_REQUEST_TIMEOUT = 60.0
FORWARD_ALL = ForwardingFilter()
_NO_ROUTING_FIELDS = ("FormatViolation", "overlay frame without DEST or PATH")
_BROADCAST_SEND_ONLY = ("NetworkingError", "broadcast is only for SEND")
_REQUESTS = (Call, Send)
_ANSWERS = (CallResult, CallError)


def frame_for_link(frame: Frame, link: LinkInfo) -> Frame:
    """The frame as written on ``link``: standard mode strips DEST and PATH."""
    if link.mode == "standard":
        return retarget(frame, None, ())
    return frame


def retarget(frame: Frame, dest: str | None, path: tuple[str, ...]) -> Frame:
    """``frame`` with new routing fields (direct construction: 3x faster than replace()).
    A raw frame stays raw: its payload bytes are carried over, not parsed."""
    if isinstance(frame, RawFrame):
        return cast(Frame, frame.retarget(dest, path))
    if isinstance(frame, Call | Send):
        return type(frame)(frame.message_id, frame.action, frame.payload, dest, path)
    if isinstance(frame, CallResult):
        return CallResult(frame.message_id, frame.payload, dest, path)
    return type(frame)(
        frame.message_id, frame.error_code, frame.error_description, frame.error_details,
        dest, path,
    )  # fmt: skip


def decide(
    frame: Frame,
    *,
    arrived_on: LinkInfo,
    node_id: str,
    table: RoutingTable,
    pending: PendingTable,
    now: float,
    filters: ForwardingFilter = FORWARD_ALL,
    hop_limit: int = DEFAULT_HOP_LIMIT,
    request_timeout: float = DEFAULT_REQUEST_TIMEOUT,
    aliases: frozenset[str] = frozenset(),
) -> RouteDecision:
    """What to do with ``frame`` that arrived on ``arrived_on``.

    ``aliases`` are extra ids delivered locally (a CSMS passes ``{"CSMS"}``);
    ``request_timeout`` is the deadline of requests tracked in ``pending``.
    """
    # A frame from a station gets its routing fields here, but is only rebuilt with them when
    # delivered; a forwarded frame is built once, in the form of the link it leaves on.
    matched: PendingRequest | None = None
    dest: str | None
    entered = arrived_on.mode == "standard"
    if entered:
        routed = _enter_from_station(frame, arrived_on, pending)
        if isinstance(routed, Drop):
            return routed
        dest, path, matched = routed
    else:
        dest, path = frame.dest, frame.path
    if dest is None or not path:
        return _refuse(frame, arrived_on, node_id, _NO_ROUTING_FIELDS, to=arrived_on.remote_id)
    source = path[0]
    if node_id in path:
        back = table.lookup(source, now, flow=source)
        via = table.link(back.link) if back is not None else None
        loop = ("NetworkingError", f"loop detected: {node_id} already in path")
        return _refuse(frame, via or arrived_on, node_id, loop, to=source)
    if len(path) > hop_limit:
        return _refuse(frame, arrived_on, node_id,
                       ("NetworkingError", f"hop limit {hop_limit} exceeded"), to=source)
    if not table.may_reach_via(source, arrived_on.link_id, now):
        reason = f"spoofed path: {source} is not reachable via {arrived_on.remote_id}"
        return _refuse(frame, arrived_on, node_id, ("NetworkingError", reason),
                       to=arrived_on.remote_id)
    table.learn(source, arrived_on.link_id, now)
    request = isinstance(frame, _REQUESTS)
    if request:
        action = frame.action  # type: ignore[union-attr]
        direction: Direction = "up" if arrived_on.role == "downstream" else "down"
        verdict = filters.verdict(action, direction=direction, source=source, dest=dest)
        if verdict == "drop":
            return Drop(f"filter drops {action} from {source} to {dest}")
        if verdict == "reject":
            return _refuse(frame, arrived_on, node_id,
                           ("SecurityError", f"{action} is not forwarded by {node_id}"), to=source)
    if dest == node_id or dest in aliases:
        return Deliver(retarget(frame, dest, path) if entered else frame, arrived_on.link_id)
    if dest == BROADCAST:
        framed = retarget(frame, dest, path) if entered else frame
        return _broadcast(framed, arrived_on, node_id, table, hop_limit)
    if len(path) >= hop_limit:
        return _refuse(frame, arrived_on, node_id,
                       ("NetworkingError", f"hop limit {hop_limit} reached"), to=source)
    out_path = (*path, node_id)
    answer = isinstance(frame, _ANSWERS)
    if answer:
        matched = matched or pending.pop_source(dest, frame.message_id)
        back_link = table.link(matched.in_link) if matched and matched.in_link else None
        if back_link is not None:
            return Forward(back_link.link_id, _leaving(frame, dest, out_path, back_link))
    route = table.lookup(dest, now, flow=source, exclude=arrived_on.link_id)
    if route is None:
        return _refuse(frame, arrived_on, node_id, ("UnknownClient", f"no route to {dest}"),
                       to=source)
    link = table.link(route.link)
    if link is None:
        held = _refuse(frame, arrived_on, node_id,
                       ("NetworkingError", f"upstream {route.link} unavailable"), to=source)
        reply = held.reply if isinstance(held, Reject) else None
        return Hold(route.link, retarget(frame, dest, out_path), reply, arrived_on.link_id)
    out_standard = link.mode == "standard"
    if out_standard:
        if request and dest != link.remote_id:
            only = ("UnknownClient", f"{link.link_id} carries only {link.remote_id}")
            return _refuse(frame, arrived_on, node_id, only, to=source)
        if answer and matched is None:
            return Drop(f"response {frame.message_id} to {dest}: no pending request")
    if (out_standard or entered) and isinstance(frame, Call):
        entry = PendingRequest(
            frame.message_id, frame.action, source, dest, arrived_on.link_id, link.link_id,
            out_standard, now + request_timeout,
        )
        if not pending.add(entry):
            busy = ("NetworkingError", f"message id {frame.message_id} already pending")
            return _refuse(frame, arrived_on, node_id, busy, to=source)
    return Forward(link.link_id, _leaving(frame, dest, out_path, link))


def originate(
    frame: Frame,
    *,
    node_id: str,
    table: RoutingTable,
    pending: PendingTable,
    now: float,
    request_timeout: float = DEFAULT_REQUEST_TIMEOUT,
) -> RouteDecision:
    """Route a frame this node's own application sends (DEST set; PATH defaults to us).

    A :class:`Reject` or :class:`Hold` with no link means: hand the reply to the application.
    """
    dest = frame.dest
    if dest is None:
        raise ValueError("a frame sent into the overlay needs a DEST")
    if not frame.path:
        frame = retarget(frame, dest, (node_id,))
    if dest == node_id:
        return Deliver(frame, None)
    if dest == BROADCAST:
        if not isinstance(frame, Send):
            return _refuse_local(frame, node_id, "NetworkingError", "broadcast is only for SEND")
        links = sorted((k for k in table.links.values() if k.overlay), key=lambda k: k.link_id)
        return Fanout(tuple(Forward(k.link_id, frame) for k in links))
    route = table.lookup(dest, now, flow=node_id)
    if route is None:
        return _refuse_local(frame, node_id, "UnknownClient", f"no route to {dest}")
    link = table.link(route.link)
    if link is None:
        reply = None
        if isinstance(frame, Call):
            reply = _error(
                frame, node_id, "NetworkingError", f"upstream {route.link} unavailable", to=node_id
            )
        return Hold(route.link, frame, reply, None)
    if isinstance(frame, CallResult | CallError):
        pending.pop_source(dest, frame.message_id)
    if link.mode == "standard":
        if isinstance(frame, Call | Send) and dest != link.remote_id:
            return _refuse_local(
                frame, node_id, "UnknownClient", f"{link.link_id} carries only {link.remote_id}"
            )
        if isinstance(frame, Call):
            entry = PendingRequest(
                message_id=frame.message_id,
                action=frame.action,
                source=node_id,
                dest=dest,
                in_link=None,
                out_link=link.link_id,
                out_standard=True,
                deadline=now + request_timeout,
            )
            if not pending.add(entry):
                return _refuse_local(
                    frame,
                    node_id,
                    "NetworkingError",
                    f"message id {frame.message_id} already pending to {dest}",
                )
    return Forward(link.link_id, frame_for_link(frame, link))


def timeout_reply(
    entry: PendingRequest, *, node_id: str, table: RoutingTable, description: str
) -> Forward | Drop:
    """The error for a request that expired or whose link went down, to its source."""
    link = table.link(entry.in_link) if entry.in_link is not None else None
    if link is None:
        return Drop(f"request {entry.message_id} from {entry.source}: {description}")
    reply = CallError(
        entry.message_id,
        "NetworkingError",
        description,
        {"dest": entry.dest},
        dest=entry.source,
        path=(node_id,),
    )
    return Forward(link.link_id, frame_for_link(reply, link))


# --- steps -------------------------------------------------------------------------------


def _leaving(frame: Frame, dest: str, path: tuple[str, ...], link: LinkInfo) -> Frame:
    """``frame`` as it leaves on ``link``: with DEST and PATH, or stripped for a station."""
    if link.mode == "standard":
        return retarget(frame, None, ())
    return retarget(frame, dest, path)


def _enter_from_station(
    frame: Frame, link: LinkInfo, pending: PendingTable
) -> tuple[str, tuple[str, ...], PendingRequest | None] | Drop:
    """A standard-mode frame gets DEST and PATH = (station,) (docs/routing.md "Links")."""
    path = (link.remote_id,)
    if isinstance(frame, CallResult | CallError):
        entry = pending.pop_link(link.link_id, frame.message_id)
        if entry is None:
            return Drop(f"response {frame.message_id} from {link.remote_id}: no pending request")
        return entry.source, path, entry
    # requests go to any CSMS; a CALLRESULTERROR's target is not tracked, CSMS is the best guess
    return CSMS, path, None


def _broadcast(
    frame: Frame, arrived_on: LinkInfo, node_id: str, table: RoutingTable, hop_limit: int
) -> RouteDecision:
    """SEND to ``*``: deliver here and flood to overlay links whose peer is not in PATH."""
    if not isinstance(frame, Send):
        return _refuse(frame, arrived_on, node_id, _BROADCAST_SEND_ONLY, to=frame.path[0])
    decisions: list[Deliver | Forward] = [Deliver(frame, arrived_on.link_id)]
    if len(frame.path) < hop_limit:
        out = retarget(frame, frame.dest, (*frame.path, node_id))
        for link in sorted(table.links.values(), key=lambda k: k.link_id):
            if (
                link.overlay
                and link.link_id != arrived_on.link_id
                and (link.remote_id not in frame.path)
            ):
                decisions.append(Forward(link.link_id, out))
    return Fanout(tuple(decisions))


def _error(frame: Frame, node_id: str, code: str, description: str, *, to: str) -> CallError:
    return CallError(frame.message_id, code, description, {}, dest=to, path=(node_id,))


def _in_mode(reply: CallError, link: LinkInfo) -> CallError:
    return (
        reply
        if link.overlay
        else CallError(
            reply.message_id, reply.error_code, reply.error_description, reply.error_details
        )
    )


def _refuse(
    frame: Frame, link: LinkInfo, node_id: str, error: tuple[str, str], *, to: str
) -> Reject | Drop:
    """A CALL gets a CALLERROR on ``link``; anything else cannot be answered and is dropped."""
    code, description = error
    if not isinstance(frame, Call):
        return Drop(description)
    reply = _in_mode(_error(frame, node_id, code, description, to=to), link)
    return Reject(link.link_id, reply, description)


def _refuse_local(frame: Frame, node_id: str, code: str, description: str) -> Reject | Drop:
    if not isinstance(frame, Call):
        return Drop(description)
    return Reject(None, _error(frame, node_id, code, description, to=node_id), description)
