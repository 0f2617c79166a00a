"""The simulator against the embedded CSMS (ocppnet.csms): transactions end up in its store."""

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from ocppnet.csms.app import CsmsApp
from ocppnet.csms.config import CsmsConfig
from ocppnet.station.clock import SimClock
from ocppnet.station.runtime import SimulatedStation
from ocppnet.station.scenario import Scenario
from tests.station.conftest import FAST_BACKOFF


async def until(check: Callable[[], Awaitable[Any]]) -> Any:
    async with asyncio.timeout(10):  # guards against a hang only
        while not (result := await check()):  # noqa: ASYNC110 (a store has no change event)
            await asyncio.sleep(0.02)
        return result


@pytest.mark.parametrize("version", ["2.0.1", "1.6"])
async def test_remote_session_is_stored_by_the_csms(version: str) -> None:
    async with CsmsApp(CsmsConfig(store=":memory:", port=0)) as app:
        server = await app.serve()
        station = SimulatedStation(
            "CS-APP", f"ws://127.0.0.1:{server.port}/ocpp", version=version,
            scenario=Scenario(auto=False, meter_interval_s=10, heartbeat_s=600),
            clock=SimClock(speed=100), backoff=FAST_BACKOFF)
        task = asyncio.create_task(station.run())
        try:
            await until(lambda: asyncio.sleep(0, station.accepted))
            assert (await app.remote_start("CS-APP", "APPTOKEN", evse_id=1))["status"] == \
                "Accepted"
            tx = (await until(lambda: app.store.list_transactions("CS-APP")))[0]
            await until(lambda: asyncio.sleep(0, station.model.evses[1].energy_wh > 0))
            assert (await app.remote_stop("CS-APP", tx.transaction_id))["status"] == "Accepted"

            async def ended() -> Any:
                record = await app.store.get_transaction("CS-APP", tx.transaction_id)
                return record if record and record.stopped_at else None

            record = await until(ended)
            assert record.meter_stop is not None and record.meter_stop >= 0
            assert station.stats.errors == 0
        finally:
            await station.close()
            await task
            await server.close()
