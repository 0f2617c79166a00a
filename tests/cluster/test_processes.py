"""The set-up's parts on their own: nats-server serves JetStream key-value buckets from the
template's configuration, and HAProxy (TCP mode, health checks on /api/v1/health,
redispatch) sends a station to a live front-end and, once one is SIGKILLed, to another."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import httpx
import nats
import pytest

from ocppnet.transport import Backoff, StationClient
from tests.cluster import processes
from tests.cluster.processes import Backend, Missing
from tests.integration.processes import READ_TOKEN


async def test_nats_server_from_the_template_offers_jetstream_key_value(tmp_path: Path) -> None:
    try:
        server = processes.nats_server(tmp_path / "nats")
        with server as nats_server:
            client = await nats.connect(nats_server.url)
            try:
                kv = await client.jetstream().create_key_value(bucket="ocppnet-test-presence")
                await kv.put("CS-1", b"fe1")
                assert (await kv.get("CS-1")).value == b"fe1"
            finally:
                await client.close()
            store = nats_server.store_dir
        assert await asyncio.to_thread(os.path.isdir, store / "jetstream")
    except Missing as exc:
        pytest.skip(str(exc))


def test_templates_render_with_every_placeholder() -> None:
    cfg = processes.haproxy_config("127.0.0.1:1", [Backend("fe1", 2, 3), Backend("fe2", 4, 5)])
    assert "server fe1 127.0.0.1:2 check port 3" in cfg
    assert "option redispatch" in cfg and "@" not in cfg
    with pytest.raises(KeyError, match=r"haproxy\.cfg"):
        processes.render("haproxy.cfg", {"BIND": "127.0.0.1:1"})


BOOT = {"reason": "PowerUp", "chargingStation": {"model": "m", "vendorName": "v"}}


async def online_at(frontends: list[processes.Frontend], station_id: str) -> list[str]:
    """The front-ends whose live links include ``station_id`` (each asked over its API)."""
    found = []
    async with httpx.AsyncClient(timeout=10) as http:
        for fe in frontends:
            reply = await http.get(f"{fe.http}/api/v1/stations/{station_id}",
                                   headers={"Authorization": f"Bearer {READ_TOKEN}"})
            if reply.status_code == 200 and reply.json()["status"] == "online":
                found.append(fe.id)
    return found


async def test_haproxy_sends_a_station_to_another_frontend_once_one_is_killed(
    tmp_path: Path,
) -> None:
    attached = asyncio.Event()
    try:
        setup = processes.cluster(tmp_path, count=2, bus=False, store=":memory:")
        with setup as c:
            client = StationClient(c.proxy.url, "CS-HA", subprotocols=["ocpp2.0.1"],
                                   backoff=Backoff(base=0.1, cap=0.5),
                                   on_connect=lambda _: attached.set())
            async with client as conn:
                await conn.call("BootNotification", BOOT)
                [first] = await online_at(c.frontends, "CS-HA")
                attached.clear()
                c.by_id(first).kill()
                await asyncio.wait_for(attached.wait(), 30)  # only guards against a hang
                await conn.call("BootNotification", BOOT)
                alive = [fe for fe in c.frontends if fe.id != first]
                assert await online_at(alive, "CS-HA") == [alive[0].id]
    except Missing as exc:
        pytest.skip(str(exc))
