"""A node that drains the queue of a station that has gone keeps announcing that station:
the announcement is full state, and an id it left out would lose its learned route at the
CSMS, so the CSMS's answers to the drained requests would have no way back (the drain then
waited for them until its timeout and paused for good)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from ocppnet.node.overlay_csms import serve_overlay_csms
from ocppnet.node.service import Node
from ocppnet.transport import CallContext, Handlers, connect_station
from tests.node.helpers import (
    FAST,
    Recorder,
    node_config,
    overlay_csms,
    station_url,
    transaction_event,
    until,
    upstream,
)


def slow_csms(seen: list[int]) -> Handlers:
    """Answers each TransactionEvent after the node's announcement (0.2 s after its link
    comes up) has certainly arrived, so the answer needs the route the announcement left."""
    handlers = Handlers()

    @handlers.on("TransactionEvent")
    async def transaction(ctx: CallContext, payload: dict[str, Any]) -> dict[str, Any]:
        await asyncio.sleep(0.6)
        seen.append(payload["seqNo"])
        return {}

    return handlers


async def test_queued_sources_are_announced_while_their_backlog_drains(tmp_path: Path) -> None:
    seen: list[int] = []
    async with overlay_csms(Recorder()) as csms:
        port = csms.port
    node = Node(node_config("NODE-A", [upstream("CSMS-1", port)],
                            queue=str(tmp_path / "queue.sqlite3")))
    for up in node.upstreams.values():
        up.backoff = FAST
    await node.start()
    try:
        async with connect_station(station_url(node), "CS-1", backoff=None) as station:
            for n in range(2):
                assert await station.call("TransactionEvent", transaction_event(n)) == {}
        assert node.queue is not None and sorted(node.queue.sources()) == ["CS-1"]
        await until(lambda: "CS-1" not in node.router.table.downstream_destinations(
            node.router.clock()), "the station's route is gone at the node")
        rebooted = await serve_overlay_csms(slow_csms(seen), port=port, node_id="CSMS-1")
        try:
            await until(lambda: node.queue is not None and node.queue.count() == 0,
                        "the backlog drained (answers found their way back)")
            assert seen == [0, 1]
        finally:
            await rebooted.close()
    finally:
        await node.stop()
