"""Property test of the asyncio driver over the session: random interleavings of calls,
answers (right, CALLERROR, stale), cancellations, detach and attach, on a real event loop.

Invariants: at most one CALL on the wire without its end; CALLs go out in the order the calls
were made; while attached, a call that waits has a CALL on the wire (the queue moves);
every call() ends exactly once, with the payload answered to *its* message id, the
CALLERROR sent for it, CancelledError or ConnectionClosed; nothing is left for the loop's
exception handler (no future whose exception nobody retrieved, no failing callback).
"""

from __future__ import annotations

import asyncio
import gc
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from ocppnet.errors import CallErrorReceived, ConnectionClosed
from ocppnet.rpc.frames import Call, CallError, CallResult, Frame
from ocppnet.transport import Connection, Handlers

OPS = st.lists(
    st.one_of(
        st.just(("call",)),
        st.just(("answer",)),
        st.just(("callerror",)),
        st.just(("stale",)),
        st.tuples(st.just("cancel"), st.integers(min_value=0, max_value=20)),
        st.just(("detach",)),
        st.just(("attach",)),
        st.just(("yield",)),
        st.just(("break",)),
    ),
    max_size=40,
)


class Recorder:
    """Records what is sent; once ``broken``, the next send loses the link under it (the
    Connection is detached while the send fails, as when a reader sees the socket close)."""

    def __init__(self) -> None:
        self.sent: list[Frame] = []
        self.broken: Connection | None = None

    async def send_frame(self, frame: Frame) -> None:
        conn, self.broken = self.broken, None
        if conn is not None:
            conn.detach("link died")
            await asyncio.sleep(0)
            raise ConnectionClosed("link died while sending")
        self.sent.append(frame)


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def scenario(ops: list[tuple[Any, ...]]) -> None:
    problems: list[dict[str, Any]] = []
    asyncio.get_running_loop().set_exception_handler(lambda loop, ctx: problems.append(ctx))
    wire = Recorder()
    conn = Connection(Handlers(), version="2.0.1", remote_id="P", sender=wire,
                      validate_messages=False)
    tasks: list[asyncio.Task[Any]] = []
    answered: dict[int, str] = {}  # call number -> "result" | "callerror"
    ended_ids: set[str] = set()

    def calls_on_wire() -> list[Call]:
        return [f for f in wire.sent if isinstance(f, Call)]

    def number(message_id: str) -> int:
        (frame,) = [f for f in calls_on_wire() if f.message_id == message_id]
        return int(frame.payload["n"])

    for op in ops:
        kind = op[0]
        pending = conn.pending_message_id
        on_wire = pending is not None and any(f.message_id == pending for f in calls_on_wire())
        if kind == "call":
            n = len(tasks)
            tasks.append(asyncio.create_task(conn.call("Heartbeat", {"n": n})))
        elif kind in ("answer", "callerror") and pending is not None and on_wire:
            n = number(pending)
            answered[n] = "result" if kind == "answer" else "callerror"
            frame = (CallResult(pending, {"echo": n}) if kind == "answer"
                     else CallError(pending, "GenericError", f"no {n}", {}))
            await conn.handle_frame(frame)
            ended_ids.add(pending)
        elif kind == "stale":
            for message_id in sorted(ended_ids)[:1]:
                await conn.handle_frame(CallResult(message_id, {"echo": -1}))
        elif kind == "cancel" and tasks:
            tasks[op[1] % len(tasks)].cancel()
        elif kind == "break":
            wire.broken = conn
        elif kind == "detach":
            conn.detach("test detach")
        elif kind == "attach" and not conn.is_attached:
            conn.attach(wire)
        await settle()
        numbers = [int(f.payload["n"]) for f in calls_on_wire()]
        assert numbers == sorted(numbers) and len(set(numbers)) == len(numbers)  # FIFO, once
        unfinished = [n for n in numbers if not tasks[n].done()]
        assert len(unfinished) <= 1, unfinished  # one CALL in flight
        if conn.is_attached and any(not t.done() for t in tasks):
            assert len(unfinished) == 1  # and the queue moves: a waiting call is on the wire

    conn.detach("end of test")
    await settle()
    for n, task in enumerate(tasks):
        assert task.done()
        if task.cancelled():
            continue
        exc = task.exception()
        if answered.get(n) == "result" and exc is None:
            assert task.result() == {"echo": n}  # never the answer to another call
        elif answered.get(n) == "callerror" and isinstance(exc, CallErrorReceived):
            assert exc.description == f"no {n}"
        else:
            assert isinstance(exc, ConnectionClosed), (n, answered.get(n), exc)
    del tasks
    gc.collect()
    await settle()
    assert problems == []


@settings(max_examples=40, deadline=None)
@given(OPS)
def test_the_driver_keeps_the_session_rules_under_random_interleavings(
    ops: list[tuple[Any, ...]],
) -> None:
    asyncio.run(scenario(ops))
