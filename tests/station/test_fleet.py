import asyncio

import pytest

from ocppnet.station.fleet import Fleet, FleetConfig, station_ids
from ocppnet.station.scenario import Scenario
from tests.station.conftest import FAST_BACKOFF, MiniCsms


def test_station_ids_from_a_pattern() -> None:
    assert station_ids("CS-{:05d}", 3) == ["CS-00001", "CS-00002", "CS-00003"]
    assert station_ids("solo", 1) == ["solo"]
    assert station_ids("box", 2) == ["box-1", "box-2"]
    with pytest.raises(ValueError, match="does not format"):
        station_ids("CS-{name}", 2)
    with pytest.raises(ValueError, match="duplicate"):
        station_ids("CS-{:.0e}", 11)  # 10 and 11 are both 1e+01
    with pytest.raises(ValueError, match="at least 1"):
        station_ids("CS-{}", 0)


@pytest.mark.parametrize("version", ["2.0.1", "1.6"])
async def test_fleet_boots_everyone_and_completes_sessions(csms: MiniCsms, version: str) -> None:
    fleet = Fleet(FleetConfig(
        csms.url, count=20, version=version, rate=500, speed=600, progress_interval_s=0.2,
        backoff=FAST_BACKOFF,
        scenario=Scenario(idle_s=60, session_s=120, unplug_after_s=5, meter_interval_s=30)))
    runner = asyncio.create_task(fleet.run())
    await csms.wait_for(lambda: fleet.stats.boots_accepted == 20
                        and fleet.stats.transactions_ended >= 10)
    fleet.stop()
    summary = await runner
    assert summary.stations == 20 and summary.boots_accepted == 20
    assert len({s for s, _, _ in csms.received}) == 20
    assert summary.errors == 0
    # counted when answered: at stop, each station may have one call in flight, received by
    # the CSMS but not yet answered
    assert summary.messages_sent <= len(csms.received) <= summary.messages_sent + 20
    ended = (len([e for e in csms.of("TransactionEvent") if e["eventType"] == "Ended"])
             if version != "1.6" else len(csms.of("StopTransaction")))
    assert ended <= summary.transactions_ended and ended >= 10
    assert fleet.stats.connected == 0  # all closed
