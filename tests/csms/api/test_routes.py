"""The operator API of a real CsmsApp on 127.0.0.1, with a real station connected over
WebSocket: reads, calls and every documented error status."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from ocppnet.api import TokenTable, hash_token, serve_api
from ocppnet.csms import CsmsApp, CsmsConfig
from ocppnet.csms.api import csms_api
from ocppnet.errors import NotSupported
from ocppnet.transport.client import StationClient
from ocppnet.transport.connection import Connection
from ocppnet.transport.handlers import CallContext, Handlers

TIME = "2025-03-01T12:00:00Z"
TOKENS = TokenTable([("ops", hash_token("op"), ["operator"]),
                     ("viewer", hash_token("ro"), ["read"])])
OP = {"Authorization": "Bearer op"}
RO = {"Authorization": "Bearer ro"}


def station_handlers(received: list[tuple[str, dict[str, Any]]]) -> Handlers:
    handlers = Handlers()

    async def accept(ctx: CallContext, payload: dict[str, Any]) -> dict[str, Any]:
        received.append((ctx.action, payload))
        return {"status": "Accepted"}

    async def refuse(ctx: CallContext, payload: dict[str, Any]) -> dict[str, Any]:
        raise NotSupported("this station has no lock")

    async def hang(ctx: CallContext, payload: dict[str, Any]) -> dict[str, Any]:
        await asyncio.sleep(30)
        return {"status": "Accepted"}

    for action in ("Reset", "RequestStartTransaction", "SetChargingProfile",
                   "RequestStopTransaction"):
        handlers.add(action, accept)
    handlers.add("UnlockConnector", refuse)
    handlers.add("TriggerMessage", hang)
    return handlers


class Site:
    def __init__(self, http: httpx.AsyncClient, app: CsmsApp, conn: Connection,
                 received: list[tuple[str, dict[str, Any]]]) -> None:
        self.http, self.app, self.conn, self.received = http, app, conn, received


@pytest.fixture
async def site(tmp_path: Path) -> AsyncIterator[Site]:
    config = CsmsConfig(store=str(tmp_path / "csms.sqlite3"), port=0,
                        id_tokens={"GOOD": "Accepted"})
    received: list[tuple[str, dict[str, Any]]] = []
    async with CsmsApp(config) as app:
        server = await app.serve()
        web = await serve_api(csms_api(app, auth=TOKENS), "127.0.0.1", 0)
        client = StationClient(f"ws://127.0.0.1:{server.port}", "CS-1",
                               handlers=station_handlers(received),
                               subprotocols=("ocpp2.0.1",), backoff=None)
        try:
            async with client as conn, httpx.AsyncClient(base_url=web.url) as http:
                await conn.call("BootNotification", {"reason": "PowerUp", "chargingStation": {
                    "vendorName": "ACME", "model": "Loop", "firmwareVersion": "1.2"}})
                await conn.call("StatusNotification", {
                    "timestamp": TIME, "connectorStatus": "Available", "evseId": 1,
                    "connectorId": 1})
                yield Site(http, app, conn, received)
        finally:
            await web.close()
            await server.close()


async def charge(conn: Connection) -> None:
    for seq, (kind, kwh) in enumerate([("Started", 5.0), ("Updated", 6.0), ("Ended", 7.5)]):
        await conn.call("TransactionEvent", {
            "eventType": kind, "timestamp": TIME, "seqNo": seq,
            "triggerReason": "Authorized" if kind == "Started" else "MeterValuePeriodic",
            "transactionInfo": {"transactionId": "T-42"}, "evse": {"id": 1, "connectorId": 1},
            "meterValue": [{"timestamp": TIME, "sampledValue": [
                {"value": kwh, "unitOfMeasure": {"unit": "kWh"}}]}]})


async def test_stations_with_status_version_path_connectors(site: Site) -> None:
    stations = (await site.http.get("/api/v1/stations", headers=RO)).json()
    assert [s["id"] for s in stations] == ["CS-1"]
    one = (await site.http.get("/api/v1/stations/CS-1", headers=RO)).json()
    assert one["status"] == "online" and one["ocppVersion"] == "2.0.1"
    assert one["vendor"] == "ACME" and one["firmware"] == "1.2" and one["path"] == ["CS-1"]
    assert one["connectors"] == [{"evseId": 1, "connectorId": 1, "status": "Available",
                                  "errorCode": None, "updatedAt": "2025-03-01T12:00:00+00:00"}]
    missing = await site.http.get("/api/v1/stations/CS-9", headers=RO)
    assert missing.status_code == 404 and missing.json()["error"] == "unknown_station"


async def test_transactions_with_meter_values_and_energy(site: Site) -> None:
    await charge(site.conn)
    listed = (await site.http.get("/api/v1/transactions?station=CS-1", headers=RO)).json()
    assert [(t["transactionId"], t["state"], t["energyWh"]) for t in listed] == [
        ("T-42", "ended", 2500.0)]
    one = (await site.http.get("/api/v1/transactions/T-42", headers=RO)).json()
    assert [(m["value"], m["unit"]) for m in one["meterValues"]] == [
        (5.0, "kWh"), (6.0, "kWh"), (7.5, "kWh")]
    assert (await site.http.get("/api/v1/transactions?active=true", headers=RO)).json() == []
    gone = await site.http.get("/api/v1/transactions/T-1", headers=RO)
    assert gone.status_code == 404


async def test_message_log_filters(site: Site) -> None:
    await site.conn.call("Heartbeat", {})
    everything = (await site.http.get("/api/v1/messages", headers=RO)).json()
    assert {m["action"] for m in everything} >= {"BootNotification", "Heartbeat"}
    beats = (await site.http.get("/api/v1/messages", params={"action": "Heartbeat"},
                                 headers=RO)).json()
    assert [(m["direction"], m["messageType"]) for m in beats] == [("out", "CALLRESULT"),
                                                                   ("in", "CALL")]
    future = (await site.http.get("/api/v1/messages", params={"since": "2999-01-01T00:00:00Z"},
                                  headers=RO)).json()
    assert future == []
    bad = await site.http.get("/api/v1/messages", params={"since": "yesterday"}, headers=RO)
    assert bad.status_code == 422 and bad.json()["detail"].startswith("query.since")


async def test_station_events(site: Site) -> None:
    await site.conn.call("SecurityEventNotification",
                         {"type": "FirmwareUpdated", "timestamp": TIME})
    events = (await site.http.get("/api/v1/stations/CS-1/events", headers=RO)).json()
    assert [(e["kind"], e["data"]["type"]) for e in events] == [
        ("SecurityEvent", "FirmwareUpdated")]


async def test_generic_call_and_helpers_reach_the_station(site: Site) -> None:
    reset = await site.http.post("/api/v1/stations/CS-1/call", headers=OP,
                                 json={"action": "Reset", "payload": {"type": "Immediate"}})
    assert (reset.status_code, reset.json()) == (200, {"status": "Accepted"})
    start = await site.http.post("/api/v1/stations/CS-1/remote-start", headers=OP,
                                 json={"idToken": "GOOD", "evseId": 1})
    assert start.json() == {"status": "Accepted"}
    limit = await site.http.post("/api/v1/stations/CS-1/charging-limit", headers=OP,
                                 json={"limit": 7400, "unit": "W"})
    assert limit.json() == {"status": "Accepted"}
    stop = await site.http.post("/api/v1/stations/CS-1/remote-stop", headers=OP,
                                json={"transactionId": "T-42"})
    assert stop.json() == {"status": "Accepted"}
    actions = [a for a, _ in site.received]
    assert actions == ["Reset", "RequestStartTransaction", "SetChargingProfile",
                       "RequestStopTransaction"]
    profile = site.received[2][1]
    assert profile["evseId"] == 0
    assert profile["chargingProfile"]["chargingSchedule"][0]["chargingSchedulePeriod"] == [
        {"startPeriod": 0, "limit": 7400.0}]


async def test_documented_error_statuses(site: Site) -> None:
    async def call(body: dict[str, Any], station: str = "CS-1",
                   headers: dict[str, str] = OP) -> httpx.Response:
        return await site.http.post(f"/api/v1/stations/{station}/call", json=body,
                                    headers=headers)

    unknown = await call({"action": "Reset", "payload": {"type": "Immediate"}}, "CS-9")
    assert (unknown.status_code, unknown.json()["detail"]) == (
        404, "station CS-9 is not connected")
    invalid = await call({"action": "Reset", "payload": {"type": "Sometime"}})
    assert invalid.status_code == 422
    assert invalid.json()["detail"].startswith("Reset is not valid for OCPP 2.0.1: payload.type")
    missing = await call({"action": "SetChargingProfile", "payload": {"evseId": 1}})
    assert "payload.chargingProfile: required property missing" in missing.json()["detail"]
    no_action = await call({"action": "Teleport", "payload": {}})
    assert no_action.status_code == 422 and "not defined in OCPP 2.0.1" in no_action.json()[
        "detail"]
    refused = await call({"action": "UnlockConnector",
                          "payload": {"evseId": 1, "connectorId": 1}})
    assert refused.status_code == 502
    assert refused.json()["errorCode"] == "NotSupported"
    assert refused.json()["detail"] == ("station CS-1 answered UnlockConnector with CALLERROR "
                                        "NotSupported: this station has no lock")
    late = await call({"action": "TriggerMessage", "payload": {"requestedMessage": "Heartbeat"},
                       "timeout": 0.3})
    assert (late.status_code, late.json()["detail"]) == (
        504, "station CS-1 did not answer TriggerMessage within 0.3s")
    reader = await call({"action": "Reset", "payload": {"type": "Immediate"}}, headers=RO)
    assert reader.status_code == 403 and "lacks scope 'operator'" in reader.json()["detail"]
    nobody = await call({"action": "Reset", "payload": {"type": "Immediate"}}, headers={})
    assert nobody.status_code == 401
    assert site.received == []  # none of them reached the station's accepting handlers
