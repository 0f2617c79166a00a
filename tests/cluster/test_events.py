"""Events on the bus: what the CSMS event bus publishes reaches JetStream consumers
(``ocppnet.<csms>.<kind>.<station>``, the JSON of ``event_to_json``), from every front-end,
in a stream with the configured retention; with the bus gone, publishing never blocks and
what does not fit in the buffer is dropped and counted."""

from __future__ import annotations

import asyncio
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

import nats
import orjson
import pytest

from ocppnet.cluster.names import ClusterNames
from ocppnet.cluster.observer import event_filter
from ocppnet.csms.events import (
    ConnectorChanged,
    EnergyChanged,
    MessageSeen,
    StationChanged,
    event_to_json,
)
from tests.cluster.frontends import RO, frontend, station
from tests.cluster.natsd import NatsServer

TIME = "2026-12-01T12:00:00Z"
NAMES = ClusterNames("CSMS")


def transaction_event(kind: str, seq: int, kwh: float) -> dict[str, Any]:
    return {"eventType": kind, "timestamp": TIME, "seqNo": seq,
            "triggerReason": "Authorized" if kind == "Started" else "EVDeparted",
            "transactionInfo": {"transactionId": "T-7"}, "evse": {"id": 1, "connectorId": 1},
            "meterValue": [{"timestamp": TIME, "sampledValue": [
                {"value": kwh, "unitOfMeasure": {"unit": "kWh"}}]}]}


async def fetch_all(js: Any, subject: str, durable: str, count: int) -> list[dict[str, Any]]:
    sub = await js.pull_subscribe(subject, durable=durable, stream=NAMES.events_stream)
    got: list[dict[str, Any]] = []
    while len(got) < count:
        for msg in await sub.fetch(count - len(got), timeout=10):
            got.append({"subject": msg.subject, **orjson.loads(msg.data)})
            await msg.ack()
    return got


async def test_every_kind_of_event_reaches_a_jetstream_consumer(
        nats_server: NatsServer, pg_store: str) -> None:
    retention = {"events_max_age_s": 3600, "events_max_bytes": 8 * 1_048_576}
    async with frontend(nats_server.url, pg_store, "fe-a", **retention) as a, \
            frontend(nats_server.url, pg_store, "fe-b", **retention) as b:
        async with station(a.url, "CS.1") as conn:  # an id that needs escaping
            await conn.call("StatusNotification", {
                "timestamp": TIME, "connectorStatus": "Occupied", "evseId": 1,
                "connectorId": 1})
            await conn.call("TransactionEvent", transaction_event("Started", 0, 5.0))
            await conn.call("TransactionEvent", transaction_event("Ended", 1, 7.5))
        async with station(b.url, "CS-2"):
            pass
        nc = await nats.connect(nats_server.url)
        try:
            js = nc.jetstream()
            info = await js.stream_info(NAMES.events_stream)
            assert info.config.subjects == NAMES.event_subjects()
            assert info.config.max_age == 3600 and info.config.max_bytes == 8 * 1_048_576
            energy = await fetch_all(js, "ocppnet.CSMS.energy.*", "energy", 2)
            assert [(e["subject"], e["state"], e["transaction_id"]) for e in energy][-1] == \
                ("ocppnet.CSMS.energy.CS=2E1", "ended", "T-7")
            assert energy[-1]["energy_wh"] == 2500.0 and energy[-1]["kind"] == "energy"
            [connector] = await fetch_all(js, "ocppnet.CSMS.connector.*", "conn", 1)
            assert connector["status"] == "Occupied" and connector["station_id"] == "CS.1"
            stations = await fetch_all(js, "ocppnet.CSMS.station.*", "st", 6)
            seen = {(s["station_id"], s["connected"], s["boot_status"]) for s in stations}
            assert seen == {("CS.1", True, None), ("CS.1", True, "Accepted"),
                            ("CS.1", False, None), ("CS-2", True, None),
                            ("CS-2", True, "Accepted"), ("CS-2", False, None)}
            messages = await fetch_all(js, "ocppnet.CSMS.message.CS=2E1", "msg", 8)
            assert {(m["action"], m["direction"]) for m in messages} >= {
                ("BootNotification", "in"), ("BootNotification", "out"),
                ("TransactionEvent", "in"), ("StatusNotification", "out")}
        finally:
            await nc.close()


async def test_publishing_never_blocks_and_counts_drops_when_the_bus_is_gone(
        nats_server: NatsServer, pg_store: str) -> None:
    async with frontend(nats_server.url, pg_store, "fe-a", events_buffer=5) as a:
        publisher = a.frontend.publisher
        assert publisher is not None
        nats_server.process.terminate()
        nats_server.process.wait(timeout=10)
        assert a.frontend.nc is not None
        for _ in range(200):  # until the client has noticed
            if not a.frontend.nc.is_connected:
                break
            await asyncio.sleep(0.02)
        at = datetime.now(UTC)
        for i in range(25):  # synchronous: returns at once, whatever the bus does
            a.app.bus.publish(ConnectorChanged(at, "CS-1", 1, 1, f"S{i}"))
        assert publisher.pending == 5 and publisher.dropped == 20
        metrics = (await a.http.get("/metrics", headers=RO)).text
        assert "ocppnet_cluster_events_dropped_total 20.0" in metrics


async def test_an_event_of_an_unknown_kind_is_dropped_and_counted_not_fatal(
        nats_server: NatsServer, pg_store: str) -> None:
    @dataclass(frozen=True)
    class TariffChanged:  # a kind added to the event bus later, without a stream subject
        at: datetime
        station_id: str
        kind = "tariff"

    async with frontend(nats_server.url, pg_store, "fe-a") as a:
        publisher = a.frontend.publisher
        assert publisher is not None
        a.app.bus.publish(TariffChanged(datetime.now(UTC), "CS-1"))  # type: ignore[arg-type]
        a.app.bus.publish(ConnectorChanged(datetime.now(UTC), "CS-1", 1, 1, "Faulted"))
        nc = await nats.connect(nats_server.url)
        try:
            [after] = await fetch_all(nc.jetstream(), "ocppnet.CSMS.connector.*", "c", 1)
        finally:
            await nc.close()
        assert after["status"] == "Faulted" and publisher.dropped == 1


@pytest.mark.parametrize("kind", ["message", "station", "connector", "energy"])
def test_event_subjects_per_kind(kind: str) -> None:
    assert NAMES.event_subject(kind, "CS 1") == f"ocppnet.CSMS.{kind}.CS=201"


def test_the_event_filter_of_the_observer() -> None:
    assert event_filter(NAMES, [], None) == "ocppnet.CSMS.*.*"
    assert event_filter(NAMES, ["energy"], None) == "ocppnet.CSMS.energy.*"
    assert event_filter(NAMES, ["energy", "station"], "CS.1") == "ocppnet.CSMS.*.CS=2E1"
    with pytest.raises(ValueError, match="unknown event kind 'rpc'"):
        event_filter(NAMES, ["rpc"], None)


def test_event_to_json_reads_the_fields_as_asdict_would() -> None:
    at = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    for event in (MessageSeen(at, "CS-1", "out", 2, "m1", "Reset", ("CS-1", "N"), None, 9),
                  StationChanged(at, "CS-1", True, "Accepted", "2.0.1", ("CS-1",)),
                  ConnectorChanged(at, "CS-1", 1, 2, "Occupied"),
                  EnergyChanged(at, "CS-1", "T-1", "ended", 12.5, 1)):
        expected = {**asdict(event), "kind": event.kind, "at": at.isoformat()}
        expected["path"] = list(expected.get("path", [])) if "path" in expected else None
        if expected["path"] is None:
            del expected["path"]
        assert event_to_json(event) == expected


async def test_events_can_be_left_off_the_bus(nats_server: NatsServer, pg_store: str) -> None:
    async with frontend(nats_server.url, pg_store, "fe-a", events=False) as a, \
            station(a.url, "CS-1"):
        assert a.frontend.publisher is None
        nc = await nats.connect(nats_server.url)
        try:
            with pytest.raises(nats.js.errors.NotFoundError):
                await nc.jetstream().stream_info(NAMES.events_stream)
        finally:
            await nc.close()
