"""The participant layer on loopback: fail-over between upstreams, what it answers, SEND,
and its TOML file (real overlay CSMS servers as upstreams)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from ocppnet.errors import ConfigError, SecurityError
from ocppnet.node.overlay_csms import OverlayCsmsServer, serve_overlay_csms
from ocppnet.participant import (
    Participant,
    ParticipantSection,
    UpstreamSection,
    load_participant_config,
)
from ocppnet.security.context import SecurityContext
from ocppnet.security.keys import KeyPair
from ocppnet.security.keystore import KeyStore
from ocppnet.security.policy import PolicySet
from ocppnet.security.trust import TrustStore
from ocppnet.transport import Backoff
from ocppnet.transport.handlers import CallContext, Handlers


def upstream_handlers(name: str, seen: list[tuple[str, str]]) -> Handlers:
    handlers = Handlers()

    @handlers.on("Heartbeat")
    async def heartbeat(ctx: CallContext, payload: dict[str, Any]) -> dict[str, Any]:
        seen.append((name, ctx.remote_id))
        return {"currentTime": datetime.now(UTC).isoformat()}

    @handlers.on("NotifyEvent")
    async def notify(ctx: CallContext, payload: dict[str, Any]) -> dict[str, Any]:
        seen.append((name, f"SEND {payload['seqNo']}"))
        return {}

    return handlers


@pytest.fixture
async def upstreams() -> AsyncIterator[tuple[list[OverlayCsmsServer], list[tuple[str, str]]]]:
    seen: list[tuple[str, str]] = []
    async with contextlib.AsyncExitStack() as stack:
        servers = []
        for name in ("CSMS-A", "CSMS-B"):
            server = await serve_overlay_csms(upstream_handlers(name, seen), node_id=name)
            stack.push_async_callback(server.close)
            servers.append(server)
        yield servers, seen


def section(servers: list[OverlayCsmsServer], **extra: Any) -> ParticipantSection:
    return ParticipantSection(id="APP-1", call_timeout=5.0, upstreams=tuple(
        UpstreamSection(id=s.router.node_id, url=f"ws://127.0.0.1:{s.port}/ocpp", priority=i)
        for i, s in enumerate(servers)), **extra)


async def until(check: Any) -> None:
    async with asyncio.timeout(10):  # guards against a hang only
        while not check():  # noqa: ASYNC110 (polls state)
            await asyncio.sleep(0.02)


async def test_traffic_fails_over_to_the_next_upstream_and_back(upstreams: Any) -> None:
    servers, seen = upstreams
    app = Participant(section(servers), backoff=Backoff(base=0.05, cap=0.2, jitter=0.0))
    async with app:
        await until(lambda: all(u.state == "up" for u in app.upstreams.values()))
        await app.call("CSMS", "Heartbeat", {})
        assert seen[-1] == ("CSMS-A", "APP-1")  # priority 0 while it is up
        await servers[0].close()
        await until(lambda: app.upstreams["CSMS-A"].state != "up")
        await app.call("CSMS", "Heartbeat", {})
        assert seen[-1] == ("CSMS-B", "APP-1")
        assert app.status()["upstreams"][0]["state"] != "up"


async def test_it_answers_requests_addressed_to_its_id(upstreams: Any) -> None:
    servers, _ = upstreams
    app = Participant(section(servers[:1]))

    @app.handlers.on("DataTransfer")
    async def data(ctx: CallContext, payload: dict[str, Any]) -> dict[str, Any]:
        return {"status": "Accepted", "data": f"{ctx.remote_id} asked {payload['vendorId']}"}

    async with app:
        await until(lambda: "APP-1" in servers[0].connections or bool(
            servers[0].router.table.lookup("APP-1", servers[0].router.clock())))
        conn = servers[0].endpoint.connection("APP-1", "2.0.1", ("APP-1",))
        answer = await conn.call("DataTransfer", {"vendorId": "ocppnet"})
    assert answer == {"status": "Accepted", "data": "CSMS-A asked ocppnet"}


async def test_send_frames_need_ocpp_21_and_reach_the_destination(upstreams: Any) -> None:
    servers, seen = upstreams
    event = {"generatedAt": "2026-12-01T00:00:00Z", "seqNo": 7, "eventData": [{
        "eventId": 1, "timestamp": "2026-12-01T00:00:00Z", "trigger": "Alerting",
        "actualValue": "1", "eventNotificationType": "CustomMonitor",
        "component": {"name": "EVSE"}, "variable": {"name": "Power"}}]}
    async with Participant(section(servers[:1], version="2.1")) as app:
        await app.send("CSMS", "NotifyEvent", event)
        await until(lambda: ("CSMS-A", "SEND 7") in seen)


async def test_responses_are_checked_against_the_incoming_policy(upstreams: Any) -> None:
    servers, _ = upstreams
    someone = KeyPair.generate("ed25519")
    trust = TrustStore()
    trust.add(someone.public_key)
    policy = PolicySet.from_config({"policies": [{"id": "p", "rules": [
        {"direction": "incoming", "action": "*", "kind": "response", "require": "all_listed",
         "keys": [someone.key_id]}]}]})
    ctx = SecurityContext(trust=trust, policies=policy)
    async with Participant(section(servers[:1]), security=ctx) as app:
        with pytest.raises(SecurityError, match="response refused"):
            await app.call("CSMS", "Heartbeat", {})


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "app.toml"
    path.write_text(text)
    return path


def test_the_toml_file_holds_participant_security_and_the_app(tmp_path: Path) -> None:
    from ocppnet.config import Section

    class Grid(Section):
        heartbeat_s: float = 60.0

    KeyStore(tmp_path / "keys").new("dso", "secp256r1")
    path = write(tmp_path, """
[participant]
id = "GRID-OP"
[[participant.upstreams]]
id = "CSMS-1"
url = "wss://127.0.0.1:9000/ocpp"
tls_ca = "ca.pem"
[security]
keystore = "keys"
signing_keys = ["dso"]
[grid]
heartbeat_s = 5
""")
    loaded = load_participant_config(path, Grid, "grid")
    assert loaded.participant.id == "GRID-OP"
    assert loaded.participant.upstreams[0].tls_ca == tmp_path / "ca.pem"
    assert loaded.app == Grid(heartbeat_s=5.0)
    assert (loaded.security is not None and "dso" in repr(loaded.security)) or loaded.security


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[participant]\nid = \"X\"\n", "app.toml: participant.upstreams: missing"),
        ("[participant]\nid = \"CSMS\"\nupstreams = []\n",
         "app.toml: participant.id: 'CSMS' is not a valid node id"),
        ("[participant]\nid = \"X\"\nupstreams = []\n",
         "app.toml: participant.upstreams: at least one"),
        ("[participant]\nid = \"X\"\n[[participant.upstreams]]\nid = \"U\"\nurl = \"http://x\"\n",
         "app.toml: participant.upstreams[0].url: 'http://x' must start with ws://"),
        ("[participant]\nid = \"X\"\n[[participant.upstreams]]\nid = \"U\"\n"
         "url = \"wss://x\"\n", "participant.upstreams[0]: tls_ca is needed"),
        ("[nonsense]\n", "app.toml: nonsense: unknown table"),
        ("[api]\n", "app.toml: participant: missing [participant] table"),
    ],
)
def test_bad_files_name_the_key(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_participant_config(write(tmp_path, text))
    assert message in caught.value.description
