"""The digital twin on loopback: 20 OCPP 2.1 stations behind two nodes stream a minute of
telemetry (simulated time) through NODE-B's mirror to TWIN-1, which hangs below NODE-A.

    stations --> NODE-B --> NODE-A --> CSMS-1        NODE-B mirrors to TWIN-1;
                                 \\--> TWIN-1        NODE-A is the node in the middle

The twin's series match what the stations sent; a NODE-A patched to alter one value, drop one
batch and insert one is caught three times, each named; TWIN-1 cannot command a station; the
CSMS never sees a telemetry batch; the twin's page draws its charts in a real Chromium.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import os
import shutil
import urllib.request
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from ocppnet.csms.app import CsmsApp
from ocppnet.csms.config import CsmsConfig
from ocppnet.errors import CallErrorReceived
from ocppnet.node.config import parse_config
from ocppnet.node.link_state import AttachedLink, FrameEvent
from ocppnet.node.service import Node
from ocppnet.participant import Participant, ParticipantSection, UpstreamSection
from ocppnet.rpc.frames import Frame, Send
from ocppnet.rpc.timestamps import parse_seconds
from ocppnet.security.keys import KeyPair
from ocppnet.security.trust import TrustStore
from ocppnet.station.clock import SimClock
from ocppnet.station.runtime import SimulatedStation
from ocppnet.station.scenario import Scenario
from ocppnet.station.telemetry import TelemetryPlan
from ocppnet.transport import Backoff
from ocppnet.transport.http import serve_http
from ocppnet.twin.service import SiteSection, TwinSection, TwinService
from ocppnet.twin.store import open_series_store
from ocppnet.twin.web import twin_app
from tests.integration import stop_node

STATIONS = [f"CS-{i:02d}" for i in range(1, 21)]
SPEED = 20.0  # simulated seconds per real second
STREAMED_S = 60.0  # simulated seconds of telemetry


class Net:
    def __init__(self, app: CsmsApp, node_a: Node, node_b: Node, twin: Participant,
                 service: TwinService, stations: list[SimulatedStation]) -> None:
        self.app, self.node_a, self.node_b = app, node_a, node_b
        self.twin, self.service, self.stations = twin, service, stations
        self.sent: list[tuple[str, dict[str, Any]]] = []  # batches as NODE-B received them
        self.csms_actions: list[str] = []
        node_b.router.observers.append(self._capture)

    def _capture(self, event: FrameEvent) -> None:
        frame = event.frame
        if event.direction == "in" and isinstance(frame, Send) and \
                frame.action == "NotifyPeriodicEventStream":
            station = self.node_b.router.links[event.link_id].info.remote_id
            self.sent.append((station, frame.payload))


async def until(check: Callable[[], Any], what: str, limit: float = 20.0) -> None:
    async with asyncio.timeout(limit):  # guards against a hang only
        while not check():  # noqa: ASYNC110 (polls state)
            await asyncio.sleep(0.05)


@pytest.fixture
async def net(tmp_path: Path) -> AsyncIterator[Net]:
    keys = {s: KeyPair.generate("ed25519") for s in STATIONS}
    trust = TrustStore()
    for station, key in keys.items():
        trust.add(key.public_key, name=station)
    async with contextlib.AsyncExitStack() as stack:
        app = await stack.enter_async_context(CsmsApp(CsmsConfig(
            id="CSMS-1", store=str(tmp_path / "csms.sqlite3"), port=0)))
        csms = await app.serve()
        stack.push_async_callback(csms.close)
        seen_by_csms: list[str] = []
        csms.router.observers.append(
            lambda e: seen_by_csms.append(getattr(e.frame, "action", "")) if e.direction == "in"
            else None)

        def node(table: dict[str, Any]) -> Node:
            return Node(parse_config({"node": table}))

        node_a = node({"id": "NODE-A", "subprotocols": ["ocpp2.1"], "upstreams": [
            {"id": "CSMS-1", "url": f"ws://127.0.0.1:{csms.port}/ocpp", "mode": "overlay",
             "subprotocols": ["ocpp2.1"]}]})
        await node_a.start()
        stack.push_async_callback(stop_node, node_a)
        node_b = node({"id": "NODE-B", "subprotocols": ["ocpp2.1"], "announce_interval": 1.0,
                       "mirror": {"to": "TWIN-1"}, "http_port": 0, "upstreams": [
            {"id": "NODE-A", "url": f"ws://127.0.0.1:{node_a.port}/ocpp", "mode": "overlay",
             "subprotocols": ["ocpp2.1"]}]})
        await node_b.start()
        stack.push_async_callback(stop_node, node_b)

        section = TwinSection(store=str(tmp_path / "twin.sqlite3"), sites={
            "depot": SiteSection(stations=tuple(STATIONS[:5]), limit_w=40_000.0)})
        service = TwinService(section, trust, open_series_store(section.store))
        await service.store.open()
        stack.push_async_callback(service.store.close)
        twin = Participant(ParticipantSection(id="TWIN-1", version="2.1", upstreams=(
            UpstreamSection(id="NODE-A", url=f"ws://127.0.0.1:{node_a.port}/ocpp"),)),
            http_app=twin_app(service))
        service.register(twin.handlers)
        await stack.enter_async_context(twin)

        clock = SimClock(SPEED)
        stations = []
        for index, station_id in enumerate(STATIONS):
            station = SimulatedStation(
                station_id, f"ws://127.0.0.1:{node_b.port}/ocpp", version="2.1", clock=clock,
                seed=index, backoff=Backoff(base=0.05, cap=0.5, jitter=0.05),
                scenario=Scenario(idle_s=5.0, session_s=3600.0, meter_interval_s=30.0),
                telemetry=TelemetryPlan(key=keys[station_id], interval_s=1.0, batch=10,
                                        quantities=("power", "soc", "connector")))
            task = asyncio.create_task(station.run())

            async def stop(station: SimulatedStation = station,
                           task: asyncio.Task[None] = task) -> None:
                await station.close()
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(task, 5)

            stack.push_async_callback(stop)
            stations.append(station)
        result = Net(app, node_a, node_b, twin, service, stations)
        result.csms_actions = seen_by_csms
        await until(lambda: all(s.accepted for s in stations), "every station booted")
        yield result


def batches_sent(net: Net) -> int:
    return sum(s.telemetry.sent_batches for s in net.stations if s.telemetry)


def streamed(net: Net, seconds: float) -> Callable[[], bool]:
    """True once every station streamed ``seconds`` of simulated time (a batch per 10 s)."""
    per_stream = int(seconds // 10)
    return lambda: all(s.telemetry is not None and s.telemetry.sent_batches >=
                       per_stream * len(s.telemetry.specs) - len(s.telemetry.specs)
                       for s in net.stations)


async def test_twenty_stations_stream_a_minute_and_the_series_match(
        net: Net, tmp_path: Path) -> None:
    await until(streamed(net, STREAMED_S), "a minute of telemetry", limit=60)
    await until(lambda: net.service.counters["batches"] >= len(net.sent) * 0.98, "copies in")
    await asyncio.sleep(0.3)  # the last copies in flight
    assert net.service.counters["refused"] == 0
    assert "NotifyPeriodicEventStream" not in net.csms_actions  # the CSMS never saw one
    assert "OpenPeriodicEventStream" in net.csms_actions  # the streams were opened there
    expected: dict[tuple[str, str], list[tuple[float, float]]] = {}
    for station, batch in net.sent:
        spec = net.service.state.spec(station, batch["id"])
        assert spec is not None, f"{station} stream {batch['id']} was described"
        if spec.quantity != "power":
            continue
        base = parse_seconds(batch["basetime"])
        expected.setdefault((station, spec.label), []).extend(
            (base + item["t"], float(item["v"])) for item in batch["data"])
    assert {s for s, _ in expected} == set(STATIONS)
    for (station, label), points in expected.items():
        got = [(round(t, 2), v) for t, v in await net.service.store.series(station, label)]
        assert got[:len(points)] == sorted((round(t, 2), v) for t, v in points), (station, label)
    stations = net.service.state.snapshot(net.service.clock())
    assert len(stations) == 20 and all(not s["flags"] or "stale" not in s["flags"][0]
                                       for s in stations)
    await look_at_the_page(net)


async def look_at_the_page(net: Net) -> None:
    """The twin's page in a real Chromium: both charts drawn with data; a screenshot."""
    playwright_api = pytest.importorskip("playwright.async_api")
    chromium = os.environ.get("OCPPNET_CHROMIUM", "/usr/bin/chromium")
    if not (os.access(chromium, os.X_OK) or shutil.which("chromium")):
        pytest.skip("no Chromium (apt-get install chromium)")
    http = await serve_http(twin_app(net.service), "127.0.0.1", 0)
    try:
        async with playwright_api.async_playwright() as pw:
            browser = await pw.chromium.launch(executable_path=chromium, args=[
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync"])
            try:
                page = await browser.new_page(viewport={"width": 1300, "height": 1100})
                await page.goto(f"{http.url}/")
                await page.wait_for_selector("#power-chart canvas", timeout=15_000)
                await page.wait_for_selector("#site-depot canvas", timeout=15_000)
                points = await page.get_attribute("#power-chart", "data-points")
                assert points is not None and int(points) > 10
                assert int(await page.get_attribute("#site-depot", "data-points") or 0) > 10
                rows = await page.eval_on_selector_all("#stations tbody tr",
                                                       "rs => rs.map(r => r.dataset.station)")
                assert sorted(rows) == STATIONS
                assert await page.is_hidden("#library")
                artifacts = Path(__file__).parents[1] / "web" / "artifacts"
                artifacts.mkdir(exist_ok=True)
                await page.screenshot(path=str(artifacts / "twin.png"), full_page=True)
            finally:
                await browser.close()
    finally:
        await http.close()


async def test_a_node_in_the_middle_that_alters_drops_and_inserts_is_caught(net: Net) -> None:
    router = net.node_a.router
    original: Callable[[AttachedLink, Frame], Awaitable[None]] = router.route
    seen = {"n": 0}
    done: dict[str, tuple[str, int, int]] = {}

    async def patched(attached: AttachedLink, frame: Frame) -> None:
        if not (isinstance(frame, Send) and frame.action == "MirrorData"
                and frame.payload["action"] == "NotifyPeriodicEventStream"):
            await original(attached, frame)
            return
        seen["n"] += 1
        body = frame.payload["payload"]
        where = (frame.payload["source"], body["id"], body["customData"]["seq"])
        if seen["n"] == 40 and "alter" not in done:
            changed = copy.deepcopy(frame.payload)
            changed["payload"]["data"][0]["v"] = "99999.0"
            done["alter"] = where
            frame = Send(frame.message_id, frame.action, changed, frame.dest, frame.path)
        elif seen["n"] == 80 and "drop" not in done:
            done["drop"] = where
            return
        elif seen["n"] == 120 and "insert" not in done:
            forged = copy.deepcopy(frame.payload)
            forged["payload"]["data"] = [{"t": 0, "v": "0.0"}]
            forged["payload"]["customData"]["seq"] += 1000
            done["insert"] = (where[0], where[1], where[2] + 1000)
            await original(attached, Send(frame.message_id + "-x", frame.action, forged,
                                          frame.dest, frame.path))
        await original(attached, frame)

    router.route = patched  # type: ignore[method-assign]
    await until(lambda: len(done) == 3, "the node did its three things", limit=60)
    problems: list[dict[str, Any]] = []

    async def refresh() -> None:
        problems[:] = await net.service.store.problems()

    async def three_named() -> None:
        while True:
            await refresh()
            if {p["status"] for p in problems} >= {"altered", "dropped", "inserted"}:
                return
            await asyncio.sleep(0.1)

    async with asyncio.timeout(60):  # guards against a hang only
        await three_named()
    by_status = {p["status"]: p for p in problems}
    assert {p["status"] for p in problems} == {"altered", "dropped", "inserted"}
    station, stream, seq = done["alter"]
    assert (by_status["altered"]["station"], by_status["altered"]["stream"],
            by_status["altered"]["seq"]) == (station, stream, seq)
    station, stream, seq = done["drop"]
    dropped = by_status["dropped"]
    assert (dropped["station"], dropped["stream"], dropped["seq"]) == (station, stream, seq + 1)
    assert "1 batch(es) before it never arrived" in dropped["detail"]
    station, stream, seq = done["insert"]
    assert (by_status["inserted"]["station"], by_status["inserted"]["seq"]) == (station, seq)
    # the forged value never entered a series
    label = net.service.state.spec(*done["alter"][:2])
    assert label is not None
    values = [v for _, v in await net.service.store.series(done["alter"][0], label.label)]
    assert 99999.0 not in values


async def test_the_twin_cannot_command_a_station(net: Net) -> None:
    with pytest.raises(CallErrorReceived) as refused:
        await net.twin.call(STATIONS[0], "Reset", {"type": "Immediate"})
    assert refused.value.code == "SecurityError"
    assert "is not forwarded by NODE-B" in refused.value.description
    assert all(s.reset_pending is None and s.boot_reason == "PowerUp" for s in net.stations)
    await until(lambda: net.node_b.snapshot()["mirror"]["mirrored"] > 0, "copies flow")
    assert net.node_b.http is not None
    metrics = await asyncio.to_thread(
        lambda: urllib.request.urlopen(f"{net.node_b.http.url}/metrics", timeout=5).read())
    copies = [line for line in metrics.decode().splitlines()
              if line.startswith('ocppnet_mirror_copies_total{outcome="mirrored",to="TWIN-1"}')]
    assert copies and float(copies[0].split()[-1]) > 0
