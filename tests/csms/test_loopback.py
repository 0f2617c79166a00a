"""The CSMS behind the real transport on 127.0.0.1: a station of ours boots, charges, is
started remotely, disconnects; the SQLite file holds it all afterwards."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

from ocppnet.csms import CsmsApp, CsmsConfig, StationChanged, Subscription
from ocppnet.errors import UnknownClient
from ocppnet.transport.client import LinkRefused, StationClient
from ocppnet.transport.handlers import CallContext, Handlers

TIME = "2025-03-01T12:00:00Z"


async def wait_for_disconnect(sub: Subscription, station: str) -> None:
    async for event in sub:
        if isinstance(event, StationChanged) and event.station_id == station and not (
            event.connected
        ):
            return


def station_handlers(received: list[tuple[str, dict[str, Any]]]) -> Handlers:
    handlers = Handlers()
    for action in ("RequestStartTransaction", "RemoteStartTransaction", "Reset"):
        async def accept(ctx: CallContext, payload: dict[str, Any]) -> dict[str, Any]:
            received.append((ctx.action, payload))
            return {"status": "Accepted"}
        handlers.add(action, accept)
    return handlers


async def charge_v2(conn: Any) -> None:
    def event(kind: str, seq: int, kwh: float) -> dict[str, Any]:
        return {"eventType": kind, "timestamp": TIME, "seqNo": seq,
                "triggerReason": "Authorized" if kind == "Started" else "EVDeparted",
                "transactionInfo": {"transactionId": "T-42"}, "evse": {"id": 1, "connectorId": 1},
                "idToken": {"idToken": "GOOD", "type": "ISO14443"},
                "meterValue": [{"timestamp": TIME, "sampledValue": [
                    {"value": kwh, "unitOfMeasure": {"unit": "kWh"}}]}]}

    r = await conn.call("TransactionEvent", event("Started", 0, 5.0))
    assert r["idTokenInfo"]["status"] == "Accepted"
    await conn.call("TransactionEvent", event("Ended", 1, 7.5))


async def charge_v16(conn: Any) -> None:
    r = await conn.call("StartTransaction", {"connectorId": 1, "idTag": "GOOD",
                                             "meterStart": 5000, "timestamp": TIME})
    assert r["idTagInfo"]["status"] == "Accepted"
    await conn.call("StopTransaction", {"transactionId": r["transactionId"], "meterStop": 7500,
                                        "timestamp": TIME, "reason": "Local"})


@pytest.mark.parametrize("version", ["1.6", "2.0.1", "2.1"])
async def test_station_session_is_stored(tmp_path: Path, version: str) -> None:
    db = tmp_path / "csms.sqlite3"
    config = CsmsConfig(store=str(db), port=0, id_tokens={"GOOD": "Accepted"})
    received: list[tuple[str, dict[str, Any]]] = []
    async with CsmsApp(config) as app:
        sub = app.bus.subscribe()
        server = await app.serve()
        try:
            client = StationClient(f"ws://127.0.0.1:{server.port}", "CS-1",
                                   handlers=station_handlers(received),
                                   subprotocols=(f"ocpp{version}",), backoff=None)
            async with client as conn:
                assert conn.version == version
                if version == "1.6":
                    boot = {"chargePointVendor": "ACME", "chargePointModel": "Loop"}
                else:
                    boot = {"reason": "PowerUp",
                            "chargingStation": {"vendorName": "ACME", "model": "Loop"}}
                r = await conn.call("BootNotification", boot)
                assert r["status"] == "Accepted" and r["interval"] == config.heartbeat_interval
                await (charge_v16(conn) if version == "1.6" else charge_v2(conn))
                assert (await app.remote_start("CS-1", "GOOD", evse_id=1))["status"] == "Accepted"
                assert (await app.reset("CS-1"))["status"] == "Accepted"
            await wait_for_disconnect(sub, "CS-1")
            with pytest.raises(UnknownClient):
                await app.remote_stop("CS-1", "1")
        finally:
            await server.close()
    assert [action for action, _ in received] == [
        "RemoteStartTransaction" if version == "1.6" else "RequestStartTransaction", "Reset"]

    con = sqlite3.connect(db)
    station = con.execute("SELECT vendor, model, ocpp_version, connected FROM stations").fetchall()
    assert station == [("ACME", "Loop", version, 0)]
    tx = con.execute("SELECT id_token, state, meter_start, meter_stop, energy_wh"
                     " FROM transactions").fetchall()
    assert tx == [("GOOD", "ended", 5000.0, 7500.0, 2500.0)]
    logged = con.execute("SELECT direction, action FROM message_log ORDER BY id").fetchall()
    assert ("in", "BootNotification") in logged and ("out", "Reset") in logged
    assert len(logged) == 10  # 3 requests in + 3 answers, 2 requests out + 2 answers
    con.close()


async def test_security_profile_1_from_the_config(tmp_path: Path) -> None:
    config = CsmsConfig(store=str(tmp_path / "c.sqlite3"), port=0, security_profile=1,
                        passwords={"CS-9": "pw-9"})
    async with CsmsApp(config) as app:
        server = await app.serve()
        try:
            url = f"ws://127.0.0.1:{server.port}"
            with pytest.raises(LinkRefused):
                await StationClient(url, "CS-9", password="wrong", backoff=None).start()
            async with StationClient(url, "CS-9", password="pw-9", backoff=None) as conn:
                r = await conn.call("Heartbeat", {})
                assert "currentTime" in r
        finally:
            await server.close()
