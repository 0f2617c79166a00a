"""Connection semantics without sockets: two Connections joined by an in-memory wire that
really encodes and decodes every frame with the codec."""

from __future__ import annotations

import asyncio
import contextvars
import logging
from collections.abc import Callable
from typing import Any

import pytest

from ocppnet.errors import (
    CallErrorReceived,
    CallTimeout,
    ConnectionClosed,
    NotSupported,
    OccurrenceConstraintViolation,
    SecurityError,
    TypeConstraintViolation,
)
from ocppnet.rpc.codec import DecodeFailure, decode, encode
from ocppnet.rpc.frames import Call, CallError, CallResult, CallResultError, Frame
from ocppnet.transport import CallContext, Connection, Handlers

BOOT_201 = {"chargingStation": {"model": "M1", "vendorName": "V"}, "reason": "PowerUp"}
BOOT_201_OK = {"currentTime": "2025-01-01T00:00:00Z", "interval": 300, "status": "Accepted"}


async def settle(predicate: Callable[[], bool]) -> None:
    """Yield to the event loop until ``predicate`` holds (bounded; no clock involved)."""
    for _ in range(1000):
        if predicate():
            return
        await asyncio.sleep(0)
    raise AssertionError("condition never held")


class Wire:
    """A FrameSender that encodes, decodes and hands the frame to the peer Connection."""

    def __init__(self, version: str) -> None:
        self.version = version
        self.peer: Connection | None = None
        self.sent: list[Frame] = []

    async def send_frame(self, frame: Frame) -> None:
        self.sent.append(frame)
        decoded = decode(encode(frame), version=self.version)
        assert not isinstance(decoded, DecodeFailure), decoded
        assert self.peer is not None
        await self.peer.handle_frame(decoded)


def pair(
    version: str, csms_handlers: Handlers, *, station_validates: bool = True,
    csms_validates: bool = True, station_handlers: Handlers | None = None,
) -> tuple[Connection, Connection, Wire, Wire]:
    up, down = Wire(version), Wire(version)
    station = Connection(
        station_handlers or Handlers(), version=version, remote_id="CSMS", sender=up,
        validate_messages=station_validates,
    )
    csms = Connection(
        csms_handlers, version=version, remote_id="CP1", sender=down,
        validate_messages=csms_validates,
    )
    up.peer, down.peer = csms, station
    return station, csms, up, down


def boot_handlers(response: dict[str, Any] | None = None) -> Handlers:
    handlers = Handlers()

    @handlers.on("BootNotification")
    async def boot(ctx: CallContext, payload: dict[str, Any]) -> dict[str, Any]:
        return response if response is not None else BOOT_201_OK

    return handlers


async def test_call_returns_the_handlers_response_and_context_names_the_peer() -> None:
    seen: list[CallContext] = []
    handlers = Handlers()

    @handlers.on("BootNotification")
    async def boot(ctx: CallContext, payload: dict[str, Any]) -> dict[str, Any]:
        seen.append(ctx)
        assert payload == BOOT_201
        return BOOT_201_OK

    station, csms, up, _ = pair("2.0.1", handlers)
    assert await station.call("BootNotification", BOOT_201) == BOOT_201_OK
    (ctx,) = seen
    assert (ctx.remote_id, ctx.action, ctx.version, ctx.connection) == (
        "CP1", "BootNotification", "2.0.1", csms,
    )
    assert ctx.message_id == up.sent[0].message_id and len(ctx.message_id) <= 36


async def test_message_ids_are_unique_per_connection_and_across_connections() -> None:
    station, _, up, _ = pair("2.0.1", boot_handlers())
    other, _, up2, _ = pair("2.0.1", boot_handlers())
    for conn in (station, other, station):
        await conn.call("BootNotification", BOOT_201)
    ids = [f.message_id for f in up.sent + up2.sent]
    assert len(set(ids)) == 3


async def test_only_one_call_in_flight_the_next_waits_in_fifo_order() -> None:
    release = asyncio.Event()
    arrived: list[str] = []
    first_arrived = asyncio.Event()
    handlers = Handlers()

    @handlers.on("Authorize")
    async def authorize(ctx: CallContext, payload: dict[str, Any]) -> dict[str, Any]:
        arrived.append(payload["idToken"]["idToken"])
        first_arrived.set()
        await release.wait()
        return {"idTokenInfo": {"status": "Accepted"}}

    station, _, up, _ = pair("2.0.1", handlers)
    calls = [
        asyncio.create_task(
            station.call("Authorize", {"idToken": {"idToken": tag, "type": "ISO14443"}})
        )
        for tag in ("A", "B", "C")
    ]
    await first_arrived.wait()
    for _ in range(20):  # let every task run as far as it can
        await asyncio.sleep(0)
    assert arrived == ["A"] and len(up.sent) == 1
    release.set()
    await asyncio.gather(*calls)
    assert arrived == ["A", "B", "C"]


async def test_timeout_then_late_response_is_logged_and_dropped(
    caplog: pytest.LogCaptureFixture,
) -> None:
    release = asyncio.Event()
    handlers = Handlers()

    @handlers.on("Heartbeat")
    async def heartbeat(ctx: CallContext, payload: dict[str, Any]) -> dict[str, Any]:
        await release.wait()
        return {"currentTime": "2025-01-01T00:00:00Z"}

    station, _, _, down = pair("2.0.1", handlers)
    with pytest.raises(CallTimeout):
        await station.call("Heartbeat", {}, timeout=0.01)
    caplog.set_level(logging.WARNING, logger="ocppnet.transport.connection")
    release.set()
    await settle(lambda: bool(down.sent))
    assert "event=unexpected_response" in caplog.text
    assert await station.call("Heartbeat", {}) == {"currentTime": "2025-01-01T00:00:00Z"}


async def test_invalid_incoming_request_gets_the_validators_code_and_field() -> None:
    station, _, _, _ = pair("2.0.1", boot_handlers(), station_validates=False)
    with pytest.raises(CallErrorReceived) as caught:
        await station.call("BootNotification", {"reason": "PowerUp"})
    assert caught.value.code == "OccurrenceConstraintViolation"
    assert "chargingStation" in caught.value.description


async def test_invalid_outgoing_request_is_refused_locally_and_never_sent() -> None:
    station, _, up, _ = pair("2.0.1", boot_handlers())
    with pytest.raises(OccurrenceConstraintViolation, match="chargingStation"):
        await station.call("BootNotification", {"reason": "PowerUp"})
    assert up.sent == []


async def test_unknown_action_is_not_implemented_and_known_without_handler_not_supported() -> None:
    station, _, _, _ = pair("2.0.1", boot_handlers(), station_validates=False)
    with pytest.raises(CallErrorReceived) as unknown:
        await station.call("NoSuchAction", {})
    assert unknown.value.code == "NotImplemented"
    with pytest.raises(CallErrorReceived) as unhandled:
        await station.call("Heartbeat", {})
    assert unhandled.value.code == "NotSupported"


@pytest.mark.parametrize(
    ("version", "exc", "code"),
    [
        ("2.0.1", RuntimeError("boom"), "InternalError"),
        ("2.0.1", SecurityError("no signature"), "SecurityError"),
        ("1.6", OccurrenceConstraintViolation("x"), "OccurenceConstraintViolation"),
    ],
)
async def test_handler_exceptions_become_callerrors(
    version: str, exc: Exception, code: str
) -> None:
    handlers = Handlers()

    @handlers.on("Heartbeat")
    async def heartbeat(ctx: CallContext, payload: dict[str, Any]) -> dict[str, Any]:
        raise exc

    station, _, _, _ = pair(version, handlers)
    with pytest.raises(CallErrorReceived) as caught:
        await station.call("Heartbeat", {})
    assert caught.value.code == code
    assert "Traceback" not in caught.value.description


async def test_handler_with_invalid_response_gives_internal_error_not_a_crash() -> None:
    station, _, _, _ = pair("2.0.1", boot_handlers({**BOOT_201_OK, "status": "Maybe"}))
    for _ in range(2):  # the CSMS side keeps answering after the first failure
        with pytest.raises(CallErrorReceived) as caught:
            await station.call("BootNotification", BOOT_201)
        assert caught.value.code == "InternalError"


async def test_sync_handlers_are_accepted() -> None:
    handlers = Handlers()
    handlers.add("Heartbeat", lambda ctx, payload: {"currentTime": "2025-01-01T00:00:00Z"})  # type: ignore[arg-type,return-value]
    station, _, _, _ = pair("2.0.1", handlers)
    assert await station.call("Heartbeat", {}) == {"currentTime": "2025-01-01T00:00:00Z"}


@pytest.mark.parametrize("version", ["2.0.1", "2.1"])
async def test_invalid_incoming_response_fails_the_call_and_21_answers_callresulterror(
    version: str,
) -> None:
    station, _, up, _ = pair(
        version, boot_handlers({**BOOT_201_OK, "interval": "soon"}), csms_validates=False
    )
    with pytest.raises(TypeConstraintViolation, match="interval"):
        await station.call("BootNotification", BOOT_201)
    replies = [f for f in up.sent if isinstance(f, CallResultError)]
    if version == "2.1":
        (reply,) = replies
        assert reply.message_id == up.sent[0].message_id
        assert reply.error_code == "TypeConstraintViolation"
    else:
        assert replies == []


async def test_send_reaches_the_handler_without_a_reply_and_only_in_21() -> None:
    got: list[dict[str, Any]] = []
    handlers = Handlers()

    @handlers.on("NotifyPeriodicEventStream")
    async def stream(ctx: CallContext, payload: dict[str, Any]) -> None:
        got.append(payload)

    payload = {
        "id": 1, "pending": 0, "basetime": "2025-01-01T00:00:00Z", "data": [{"t": 0, "v": "1"}],
    }
    station, _, _, down = pair("2.1", handlers)
    await station.send("NotifyPeriodicEventStream", payload)
    await settle(lambda: bool(got))
    assert got == [payload] and down.sent == []
    old, _, _, _ = pair("2.0.1", handlers)
    with pytest.raises(NotSupported):
        await old.send("NotifyPeriodicEventStream", payload)


async def test_detach_fails_the_call_in_flight_and_later_calls() -> None:
    never = asyncio.Event()
    handlers = Handlers()

    @handlers.on("Heartbeat")
    async def heartbeat(ctx: CallContext, payload: dict[str, Any]) -> dict[str, Any]:
        await never.wait()
        return {}

    station, _, up, _ = pair("2.0.1", handlers)
    call = asyncio.create_task(station.call("Heartbeat", {}))
    await settle(lambda: bool(up.sent))
    station.detach("test")
    with pytest.raises(ConnectionClosed):
        await call
    with pytest.raises(ConnectionClosed):
        await station.call("Heartbeat", {})
    station.attach(up)
    assert station.is_attached


async def test_malformed_response_to_the_call_in_flight_fails_it_at_once() -> None:
    sent: list[Frame] = []

    class Capture:
        async def send_frame(self, frame: Frame) -> None:
            sent.append(frame)

    station = Connection(Handlers(), version="2.0.1", remote_id="CSMS", sender=Capture())
    call = asyncio.create_task(station.call("Heartbeat", {}))
    await settle(lambda: bool(sent))
    failure = decode(f'[3, "{sent[0].message_id}", 17]', version="2.0.1")
    assert isinstance(failure, DecodeFailure)
    station.handle_decode_failure(failure)
    with pytest.raises(Exception, match="malformed response"):
        await call


async def test_callerror_for_the_call_in_flight_carries_code_and_details() -> None:
    sent: list[Frame] = []

    class Capture:
        async def send_frame(self, frame: Frame) -> None:
            sent.append(frame)

    station = Connection(Handlers(), version="2.0.1", remote_id="CSMS", sender=Capture())
    call = asyncio.create_task(station.call("Heartbeat", {}))
    await settle(lambda: bool(sent))
    assert isinstance(sent[0], Call)
    await station.handle_frame(CallError(sent[0].message_id, "GenericError", "nope", {"a": 1}))
    with pytest.raises(CallErrorReceived) as caught:
        await call
    assert (caught.value.code, caught.value.description, caught.value.details) == (
        "GenericError", "nope", {"a": 1},
    )
    await station.handle_frame(CallResult("not-pending", {}))  # dropped, no exception


async def test_handler_result_that_is_not_json_gives_internal_error() -> None:
    handlers = Handlers()

    @handlers.on("Heartbeat")
    async def heartbeat(ctx: CallContext, payload: dict[str, Any]) -> dict[str, Any]:
        return {"currentTime": {1, 2}}

    station, _, _, _ = pair("2.0.1", handlers, csms_validates=False)
    with pytest.raises(CallErrorReceived) as caught:
        await station.call("Heartbeat", {})
    assert caught.value.code == "InternalError"


class Recorder:
    """A FrameSender that only records what the Connection sends."""

    def __init__(self) -> None:
        self.sent: list[Frame] = []

    async def send_frame(self, frame: Frame) -> None:
        self.sent.append(frame)


HEARTBEAT_OK = {"currentTime": "2025-01-01T00:00:00Z"}


async def test_a_waiting_handler_does_not_block_the_reader_and_order_is_kept() -> None:
    gate = asyncio.Event()
    handlers = Handlers()

    @handlers.on("Heartbeat")
    async def heartbeat(ctx: CallContext, payload: dict[str, Any]) -> dict[str, Any]:
        if ctx.message_id == "1":
            await gate.wait()
        return HEARTBEAT_OK

    wire = Recorder()
    csms = Connection(handlers, version="2.0.1", remote_id="CP1", sender=wire)
    await csms.handle_frame(Call("1", "Heartbeat", {}))  # returns although the handler waits
    await csms.handle_frame(Call("2", "Heartbeat", {}))
    assert wire.sent == []
    gate.set()
    await settle(lambda: len(wire.sent) == 2)
    assert [f.message_id for f in wire.sent] == ["1", "2"]
    await csms.handle_frame(Call("3", "Heartbeat", {}))  # a synchronous answer, in place
    assert [f.message_id for f in wire.sent] == ["1", "2", "3"]


async def test_a_waiting_handler_is_cancelled_with_its_worker() -> None:
    started, cancelled = asyncio.Event(), asyncio.Event()
    handlers = Handlers()

    @handlers.on("Heartbeat")
    async def heartbeat(ctx: CallContext, payload: dict[str, Any]) -> dict[str, Any]:
        started.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.set()
            raise
        return HEARTBEAT_OK

    csms = Connection(handlers, version="2.0.1", remote_id="CP1", sender=Recorder())
    await csms.handle_frame(Call("1", "Heartbeat", {}))
    await started.wait()
    worker = csms._worker
    assert worker is not None
    worker.cancel()
    await cancelled.wait()
    await settle(worker.done)
    assert worker.cancelled()


async def test_context_variables_set_by_a_handler_stay_in_the_handler() -> None:
    var: contextvars.ContextVar[str] = contextvars.ContextVar("var", default="reader")
    seen: list[str] = []
    handlers = Handlers()

    @handlers.on("Heartbeat")
    def heartbeat(ctx: CallContext, payload: dict[str, Any]) -> dict[str, Any]:
        seen.append(var.get())
        var.set("handler")
        return HEARTBEAT_OK

    csms = Connection(handlers, version="2.0.1", remote_id="CP1", sender=Recorder())
    await csms.handle_frame(Call("1", "Heartbeat", {}))
    await csms.handle_frame(Call("2", "Heartbeat", {}))
    assert var.get() == "reader"
    assert seen == ["reader", "reader"]


async def test_a_cancelled_queued_call_leaves_the_queue_and_the_next_one_goes() -> None:
    wire = Recorder()
    station = Connection(Handlers(), version="2.0.1", remote_id="CSMS", sender=wire)
    first = asyncio.create_task(station.call("Heartbeat", {}))
    second = asyncio.create_task(station.call("Heartbeat", {}))
    third = asyncio.create_task(station.call("Heartbeat", {}))
    await settle(lambda: len(wire.sent) == 1 and len(station.session.queued) == 2)
    second.cancel()
    await settle(lambda: len(station.session.queued) == 1)
    await station.handle_frame(CallResult(wire.sent[0].message_id, HEARTBEAT_OK))
    assert await first == HEARTBEAT_OK
    await settle(lambda: len(wire.sent) == 2)
    assert station.pending_message_id == wire.sent[1].message_id
    await station.handle_frame(CallResult(wire.sent[1].message_id, HEARTBEAT_OK))
    assert await third == HEARTBEAT_OK
    assert second.cancelled() and len(wire.sent) == 2


async def test_detach_fails_the_queued_calls_too_and_attach_takes_calls_again() -> None:
    wire = Recorder()
    station = Connection(Handlers(), version="2.0.1", remote_id="CSMS", sender=wire)
    calls = [asyncio.create_task(station.call("Heartbeat", {})) for _ in range(3)]
    await settle(lambda: len(station.session.queued) == 2)
    station.detach("gone")
    for call in calls:
        with pytest.raises(ConnectionClosed, match="gone"):
            await call
    assert len(wire.sent) == 1
    waiter = asyncio.create_task(station.wait_attached())
    await asyncio.sleep(0)
    station.attach(wire)
    await waiter
    again = asyncio.create_task(station.call("Heartbeat", {}))
    await settle(lambda: len(wire.sent) == 2)
    await station.handle_frame(CallResult(wire.sent[1].message_id, HEARTBEAT_OK))
    assert await again == HEARTBEAT_OK


async def test_a_cancelled_call_in_flight_lets_the_next_go_and_its_answer_is_stale() -> None:
    wire = Recorder()
    station = Connection(Handlers(), version="2.0.1", remote_id="CSMS", sender=wire)
    first = asyncio.create_task(station.call("Heartbeat", {}))
    second = asyncio.create_task(station.call("Heartbeat", {}))
    await settle(lambda: len(wire.sent) == 1)
    first.cancel()
    await settle(lambda: len(wire.sent) == 2)
    await station.handle_frame(CallResult(wire.sent[0].message_id, HEARTBEAT_OK))  # stale
    assert not second.done()
    await station.handle_frame(CallResult(wire.sent[1].message_id, HEARTBEAT_OK))
    assert await second == HEARTBEAT_OK


def test_an_idle_connection_is_small_no_dict_no_event_no_queues() -> None:
    conn = Connection(Handlers(), version="2.0.1", remote_id="CP1", sender=Recorder())
    assert not hasattr(conn, "__dict__") and not hasattr(conn.session, "__dict__")
    assert conn._attached is None and conn._timer is None and conn._worker is None
    assert conn.session.queued == () and conn.session.waiting_requests == 0


async def test_feed_answers_a_synchronous_handler_in_place_for_a_callback_driver() -> None:
    handlers = Handlers()
    handlers.add("Heartbeat", lambda ctx, payload: HEARTBEAT_OK)  # type: ignore[arg-type,return-value]
    wire = Recorder()
    csms = Connection(handlers, version="2.1", remote_id="CP1", sender=wire)
    assert csms.feed(Call("1", "Heartbeat", {})) is None
    assert wire.sent == [CallResult("1", HEARTBEAT_OK)]
    call = asyncio.create_task(csms.call("Heartbeat", {}))
    await settle(lambda: len(wire.sent) == 2)
    reply = csms.feed(CallResult(wire.sent[1].message_id, {"currentTime": 5}))
    assert isinstance(reply, CallResultError) and reply.message_id == wire.sent[1].message_id
    with pytest.raises(TypeConstraintViolation):
        await call


class _ManualClockLoop(asyncio.SelectorEventLoop):
    """An event loop whose clock moves only when the test says so (timers fire by it)."""

    now = 1000.0

    def time(self) -> float:
        return self.now


def test_the_deadline_timer_fires_by_the_loops_clock_and_rearms_when_early() -> None:
    async def scenario(loop: _ManualClockLoop) -> None:
        wire = Recorder()
        station = Connection(Handlers(), version="2.0.1", remote_id="CSMS", sender=wire)
        call = asyncio.create_task(station.call("Heartbeat", {}, timeout=5.0))
        await settle(lambda: len(wire.sent) == 1)
        assert station.session.next_deadline == 1005.0
        station._deadline_passed()  # a timer that fired a tick early: nothing ends, re-armed
        assert not call.done() and station._timer is not None
        loop.now = 1004.9
        for _ in range(5):
            await asyncio.sleep(0)
        assert not call.done()
        loop.now = 1005.0
        with pytest.raises(CallTimeout, match=r"within 5\.0s"):
            await call
        assert station.pending_message_id is None and station._timer is None

    with asyncio.Runner(loop_factory=_ManualClockLoop) as runner:
        loop = runner.get_loop()
        assert isinstance(loop, _ManualClockLoop)
        runner.run(scenario(loop))
