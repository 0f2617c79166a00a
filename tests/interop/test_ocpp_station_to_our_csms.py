"""A charging station written with the `ocpp` package (mobilityhouse) talks to OUR CSMS."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import pytest
from ocpp.exceptions import OCPPError
from ocpp.routing import on
from ocpp.v16 import ChargePoint as ChargePoint16
from ocpp.v16 import call as call16
from ocpp.v21 import ChargePoint as ChargePoint21
from ocpp.v21 import call as call21
from ocpp.v201 import ChargePoint as ChargePoint201
from ocpp.v201 import call as call201
from ocpp.v201 import call_result as result201
from websockets.asyncio.client import connect as ws_connect
from websockets.typing import Subprotocol

from ocppnet.transport import CallContext, CsmsServer, Handlers, serve_csms

NOW = "2025-01-01T00:00:00Z"


def our_csms_handlers(log: list[tuple[str, str, dict[str, Any]]]) -> Handlers:
    """Our CSMS: accept everything, remember (version, action, payload)."""
    handlers = Handlers()

    def seen(ctx: CallContext, payload: dict[str, Any]) -> None:
        log.append((ctx.version, ctx.action, payload))

    @handlers.on("BootNotification")
    async def boot(ctx: CallContext, payload: dict[str, Any]) -> dict[str, Any]:
        seen(ctx, payload)
        return {"currentTime": NOW, "interval": 60, "status": "Accepted"}

    @handlers.on("Authorize")
    async def authorize(ctx: CallContext, payload: dict[str, Any]) -> dict[str, Any]:
        seen(ctx, payload)
        status = {"status": "Accepted"}
        return {"idTagInfo": status} if ctx.version == "1.6" else {"idTokenInfo": status}

    @handlers.on("TransactionEvent")
    async def transaction_event(ctx: CallContext, payload: dict[str, Any]) -> dict[str, Any]:
        seen(ctx, payload)
        return {"idTokenInfo": {"status": "Accepted"}} if "idToken" in payload else {}

    @handlers.on("StartTransaction")
    async def start(ctx: CallContext, payload: dict[str, Any]) -> dict[str, Any]:
        seen(ctx, payload)
        return {"transactionId": 42, "idTagInfo": {"status": "Accepted"}}

    @handlers.on("MeterValues")
    async def meter_values(ctx: CallContext, payload: dict[str, Any]) -> dict[str, Any]:
        seen(ctx, payload)
        return {}

    @handlers.on("StopTransaction")
    async def stop(ctx: CallContext, payload: dict[str, Any]) -> dict[str, Any]:
        seen(ctx, payload)
        return {"idTagInfo": {"status": "Accepted"}}

    return handlers


@contextlib.asynccontextmanager
async def ocpp_station(
    cls: type[Any], csms: CsmsServer, subprotocol: str, station_id: str = "CP1"
) -> AsyncIterator[Any]:
    """An `ocpp` ChargePoint over a plain websockets client, reading in a task."""
    async with ws_connect(
        f"ws://127.0.0.1:{csms.port}/ocpp/{station_id}",
        subprotocols=[Subprotocol(subprotocol)],
        proxy=None,
    ) as websocket:
        assert websocket.subprotocol == subprotocol
        station = cls(station_id, websocket)
        reader = asyncio.create_task(station.start())
        try:
            yield station
        finally:
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await reader


class Station201(ChargePoint201):
    @on("Reset")
    async def on_reset(self, type: str, **kwargs: Any) -> Any:
        return result201.Reset(status="Accepted")


@pytest.mark.parametrize(
    ("cls", "calls", "subprotocol"),
    [(Station201, call201, "ocpp2.0.1"), (ChargePoint21, call21, "ocpp2.1")],
)
async def test_ocpp_2x_station_boots_authorizes_and_runs_a_transaction(
    cls: type[Any], calls: Any, subprotocol: str
) -> None:
    log: list[tuple[str, str, dict[str, Any]]] = []
    version = subprotocol.removeprefix("ocpp")
    async with (
        await serve_csms(our_csms_handlers(log)) as csms,
        ocpp_station(cls, csms, subprotocol) as station,
    ):
        boot = await station.call(
            calls.BootNotification(
                charging_station={"model": "Wallbox", "vendor_name": "mobilityhouse-ocpp"},
                reason="PowerUp",
            ),
            suppress=False,
        )
        assert boot.status == "Accepted" and boot.interval == 60
        token = {"id_token": "04A1B2C3", "type": "ISO14443"}
        auth = await station.call(calls.Authorize(id_token=token), suppress=False)
        assert auth.id_token_info["status"] == "Accepted"
        events = [
            ("Started", "Authorized"),
            ("Updated", "MeterValuePeriodic"),
            ("Ended", "StopAuthorized"),
        ]
        for seq_no, (event, trigger) in enumerate(events):
            await station.call(
                calls.TransactionEvent(
                    event_type=event, timestamp=NOW, trigger_reason=trigger, seq_no=seq_no,
                    transaction_info={"transaction_id": "T-1"},
                    id_token=token if event == "Started" else None,
                    evse={"id": 1, "connector_id": 1} if event == "Started" else None,
                    meter_value=[{"timestamp": NOW, "sampled_value": [{"value": 1234.5}]}],
                ),
                suppress=False,
            )
        if cls is Station201:  # and our CSMS calls the ocpp station back
            reset = await csms.connections["CP1"].call("Reset", {"type": "Immediate"})
            assert reset == {"status": "Accepted"}
    actions = [(v, a) for v, a, _ in log]
    assert actions == [(version, "BootNotification"), (version, "Authorize")] + [
        (version, "TransactionEvent")
    ] * 3
    assert log[2][2]["transactionInfo"] == {"transactionId": "T-1"}
    assert log[4][2]["eventType"] == "Ended"


async def test_ocpp_16_station_boots_and_runs_start_meter_stop() -> None:
    log: list[tuple[str, str, dict[str, Any]]] = []
    async with (
        await serve_csms(our_csms_handlers(log)) as csms,
        ocpp_station(ChargePoint16, csms, "ocpp1.6") as station,
    ):
        boot = await station.call(
            call16.BootNotification(
                charge_point_model="Wallbox", charge_point_vendor="mobilityhouse-ocpp"
            ),
            suppress=False,
        )
        assert boot.status == "Accepted"
        started = await station.call(
            call16.StartTransaction(
                connector_id=1, id_tag="04A1B2C3", meter_start=0, timestamp=NOW
            ),
            suppress=False,
        )
        assert started.transaction_id == 42
        await station.call(
            call16.MeterValues(
                connector_id=1, transaction_id=42,
                meter_value=[{
                    "timestamp": NOW,
                    "sampled_value": [{
                        "value": "1500", "measurand": "Energy.Active.Import.Register",
                        "unit": "Wh",
                    }],
                }],
            ),
            suppress=False,
        )
        stopped = await station.call(
            call16.StopTransaction(meter_stop=1500, timestamp=NOW, transaction_id=42,
                                   id_tag="04A1B2C3"),
            suppress=False,
        )
        assert stopped.id_tag_info["status"] == "Accepted"
    assert [a for _, a, _ in log] == [
        "BootNotification", "StartTransaction", "MeterValues", "StopTransaction",
    ]
    assert log[2][2]["meterValue"][0]["sampledValue"][0]["value"] == "1500"


async def test_our_csms_answers_an_ocpp_station_error_the_ocpp_way() -> None:
    """An invalid request from the `ocpp` station comes back as a CALLERROR it understands."""
    async with (
        await serve_csms(our_csms_handlers([])) as csms,
        ocpp_station(ChargePoint201, csms, "ocpp2.0.1") as station,
    ):
        with pytest.raises(OCPPError) as caught:
            await station.call(
                call201.BootNotification(charging_station={"model": "M"}, reason="PowerUp"),
                suppress=False, skip_schema_validation=True,
            )
        assert caught.value.code == "OccurrenceConstraintViolation"
        assert "vendorName" in caught.value.description
