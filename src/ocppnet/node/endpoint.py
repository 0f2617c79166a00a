"""A local application on a router: one transport Connection per remote id.

This is how a CSMS (or a node-local application) sees stations behind overlay links as if they
were connected directly: frames the router delivers locally are fed to the Connection of their
originator (PATH[0]); what a Connection sends goes back into the overlay with DEST = that id.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Callable
from typing import Any

from ocppnet.errors import ConnectionClosed, error_class
from ocppnet.node.router import Router
from ocppnet.routing import retarget
from ocppnet.rpc.frames import Call, Frame, Send
from ocppnet.transport.connection import DEFAULT_CALL_TIMEOUT, Connection
from ocppnet.transport.handlers import Handlers

log = logging.getLogger("ocppnet.node.endpoint")

#: ``on_connect(conn, path)`` / ``on_disconnect(conn)``: sync, or async (run as a task).
ConnectCallback = Callable[..., Any]


class RoutedSender:
    """FrameSender of a Connection whose peer is reached through the router."""

    __slots__ = ("remote_id", "router", "version")

    def __init__(self, router: Router, remote_id: str, version: str) -> None:
        self.router = router
        self.remote_id = remote_id
        self.version = version

    async def send_frame(self, frame: Frame) -> None:
        framed = retarget(frame, self.remote_id, (self.router.node_id,))
        error = await self.router.send_local(framed, self.version)
        if error is None:
            return
        if isinstance(frame, Call):
            raise error_class(error.error_code)(error.error_description)
        raise ConnectionClosed(error.error_description)


class LocalEndpoint:
    """The router's local application: ``connections`` maps remote ids to Connections."""

    def __init__(
        self,
        router: Router,
        handlers: Handlers,
        *,
        on_connect: ConnectCallback | None = None,
        on_disconnect: ConnectCallback | None = None,
        call_timeout: float = DEFAULT_CALL_TIMEOUT,
        validate_messages: bool = True,
    ) -> None:
        self.router = router
        self.handlers = handlers
        self.on_connect = on_connect
        self.on_disconnect = on_disconnect
        self.call_timeout = call_timeout
        self.validate_messages = validate_messages
        self.connections: dict[str, Connection] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        router.local = self

    def connection(self, remote_id: str, version: str, path: tuple[str, ...] = ()) -> Connection:
        """The Connection for ``remote_id``, created (and announced) on first use."""
        conn = self.connections.get(remote_id)
        if conn is not None:
            return conn
        # a station behind a node may speak another version than the link (announced)
        version = self.router.peer_versions.get(remote_id, version)
        conn = Connection(
            self.handlers,
            version=version,
            remote_id=remote_id,
            sender=RoutedSender(self.router, remote_id, version),
            call_timeout=self.call_timeout,
            validate_messages=self.validate_messages,
        )
        self.connections[remote_id] = conn
        log.info("event=peer_up node=%s peer=%s path=%s", self.router.node_id, remote_id,
                 "/".join(path))
        self._callback(self.on_connect, conn, path)
        return conn

    async def deliver(self, frame: Frame, version: str) -> None:
        """A frame for this node: requests create the asker's Connection, answers find it."""
        if not frame.path:
            log.warning("event=local_frame_without_path message_id=%s", frame.message_id)
            return
        source = frame.path[0]
        if isinstance(frame, Call | Send):
            conn = self.connection(source, version, frame.path)
        else:
            found = self.connections.get(source)
            if found is None or found.pending_message_id != frame.message_id:
                # an error generated on the way (by a node) names the node, not the peer, and
                # the answer to an anycast request (DEST "CSMS") names the CSMS that took it
                found = self._waiting_for(frame.message_id) or found
            if found is None:
                log.info(
                    "event=answer_without_peer node=%s source=%s message_id=%s",
                    self.router.node_id, source, frame.message_id,
                )
                return
            conn = found
        await conn.handle_frame(frame)

    def _waiting_for(self, message_id: str) -> Connection | None:
        for conn in self.connections.values():
            if conn.pending_message_id == message_id:
                return conn
        return None

    def routes_lost(self, destinations: list[str]) -> None:
        """Peers that may have become unreachable: detach those without any route left."""
        now = self.router.clock()
        for dest in destinations:
            conn = self.connections.get(dest)
            if conn is None or self.router.table.lookup(dest, now, flow=dest) is not None:
                continue
            del self.connections[dest]
            conn.detach(f"no route to {dest}")
            log.info("event=peer_down node=%s peer=%s", self.router.node_id, dest)
            self._callback(self.on_disconnect, conn)

    def routes_changed(
        self, added: list[str], withdrawn: list[str], via: str, version: str
    ) -> None:
        """Neighbour ``via`` announced its stations: they are reachable before they speak."""
        self.routes_lost(withdrawn + [d for d in self.connections if d not in added])
        for dest in added:
            conn = self.connection(dest, version, (dest, via))
            announced = self.router.peer_versions.get(dest)
            if announced is not None and conn.version != announced:
                # created from a message that outran the announcement: use the right schemas
                log.info("event=peer_version node=%s peer=%s version=%s",
                         self.router.node_id, dest, announced)
                conn.version = announced

    def _callback(self, callback: ConnectCallback | None, *args: Any) -> None:
        if callback is None:
            return
        try:
            result = callback(*args)
        except Exception:
            log.exception("event=callback_failed node=%s", self.router.node_id)
            return
        if inspect.isawaitable(result):
            task = asyncio.ensure_future(result)
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
