"""Issue 14 end to end on loopback: an e-mobility provider's signed OCPP 2.1 tariff crosses the
CSMS and two networking nodes to a simulated station, which verifies the issuer, prices the
session locally and reports costDetails; the CSMS recomputes the cost from what it stored.

    EMP-1 (Participant, tariff issuer) ──overlay──┐
                                    CSMS-1 (CsmsApp on serve_overlay_csms; recomputes cost)
                                       │ overlay
                                    NODE-B
                                       │ overlay
                                    NODE-A
                                       │ standard OCPP 2.1
                                    CS-1 (SimulatedStation: trusts EMP-1 for tariffs)

The expected cost is computed by hand in the tests, from the readings the CSMS stored.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import itertools
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pytest

from ocppnet.csms.app import CsmsApp
from ocppnet.csms.config import CsmsConfig
from ocppnet.errors import CallErrorReceived, UnknownClient
from ocppnet.node.overlay_csms import serve_overlay_csms
from ocppnet.participant import Participant, ParticipantSection, UpstreamSection
from ocppnet.security.context import SecurityContext
from ocppnet.security.keys import KeyPair
from ocppnet.security.roles import RoleSet
from ocppnet.security.trust import TrustStore
from ocppnet.station.clock import SimClock
from ocppnet.station.model import StationConfig
from ocppnet.station.runtime import SimulatedStation
from ocppnet.station.scenario import Scenario
from ocppnet.store import MeterSample
from ocppnet.tariffs import sign_tariff
from ocppnet.transport import Backoff
from tests.integration import overlay_node, stop_node

ISSUER_ROLE = {"name": "tariff-issuer", "allow": [
    {"action": "SetDefaultTariff"}, {"action": "ChangeTransactionTariff"}]}
T1: dict[str, Any] = {
    "tariffId": "EMP-T1", "currency": "EUR",
    "energy": {"prices": [{"priceKwh": 0.40}], "taxRates": [{"type": "VAT", "tax": 19}]},
    "chargingTime": {"prices": [{"priceMinute": 0.01}], "taxRates": [{"type": "VAT", "tax": 19}]},
    "idleTime": {"prices": [{"priceMinute": 0.05}], "taxRates": [{"type": "VAT", "tax": 19}]},
    "fixedFee": {"prices": [{"priceFixed": 0.50}], "taxRates": [{"type": "VAT", "tax": 19}]},
}
T2: dict[str, Any] = {
    "tariffId": "EMP-T2", "currency": "EUR",
    "energy": {"prices": [{"priceKwh": 0.20}], "taxRates": [{"type": "VAT", "tax": 19}]},
}


def trusting(*issuers: KeyPair) -> SecurityContext:
    """A verifier that trusts ``issuers`` for tariffs (role ``tariff-issuer``)."""
    trust = TrustStore()
    for key in issuers:
        trust.add(key.public_key, name="emp")
    roles = RoleSet.from_config({"roles": [{**ISSUER_ROLE,
                                            "keys": [k.key_id for k in issuers]}]})
    return SecurityContext(trust=trust, roles=roles)


class Net:
    def __init__(self, app: CsmsApp, station: SimulatedStation, emp: Participant,
                 keys: dict[str, KeyPair]) -> None:
        self.app, self.station, self.emp, self.keys = app, station, emp, keys

    def signed(self, tariff: dict[str, Any], key: str = "emp") -> dict[str, Any]:
        return sign_tariff(tariff, self.keys[key], now=datetime.now(UTC), name="EMP-1")

    async def set_default(self, tariff: dict[str, Any]) -> dict[str, Any]:
        return await self.emp.call("CS-1", "SetDefaultTariff", {"evseId": 0, "tariff": tariff})

    async def checks(self, tx: str) -> list[dict[str, Any]]:
        events = await self.app.store.list_station_events("CS-1", "CostCheck")
        return [e.data for e in events if e.data["transactionId"] == tx]

    async def start(self) -> str:
        assert (await self.app.remote_start("CS-1", "DRIVER-1", evse_id=1))["status"] == \
            "Accepted"
        return str(await until(lambda: self.station.model.evses[1].session and
                               self.station.model.evses[1].session.transaction_id))

    async def readings(self, tx: str) -> list[tuple[datetime, float]]:
        record = await self.app.store.get_transaction("CS-1", tx)
        assert record is not None
        samples: list[MeterSample] = await self.app.store.list_meter_samples(record.key)
        return [(s.timestamp, s.value) for s in samples
                if s.measurand == "Energy.Active.Import.Register" and s.value is not None]


async def until(check: Callable[[], Any]) -> Any:
    async with asyncio.timeout(10):  # guards against a hang only
        while not (result := check()):  # noqa: ASYNC110 (polls the simulator's state)
            await asyncio.sleep(0.02)
        return result


async def until_async(check: Callable[[], Any]) -> Any:
    async with asyncio.timeout(10):
        while not (result := await check()):  # noqa: ASYNC110 (polls the CSMS's store)
            await asyncio.sleep(0.05)
        return result


def speaks_21(app: CsmsApp) -> bool:
    try:
        return app.version("CS-1") == "2.1"
    except UnknownClient:
        return False



@pytest.fixture(scope="module")
def keys() -> dict[str, KeyPair]:
    return {"emp": KeyPair.generate("ed25519"), "rogue": KeyPair.generate("secp256r1")}


@pytest.fixture
async def net(keys: dict[str, KeyPair]) -> AsyncIterator[Net]:
    async with contextlib.AsyncExitStack() as stack:
        app = await stack.enter_async_context(CsmsApp(CsmsConfig(store=":memory:", port=0)))
        app.core.tariff_trust = trusting(keys["emp"])
        csms = await serve_overlay_csms(app.handlers, node_id="CSMS-1",
                                        on_connect=app.on_connect,
                                        on_disconnect=app.on_disconnect)
        stack.push_async_callback(csms.close)
        node_b = overlay_node("NODE-B", "CSMS-1", csms.port)
        await node_b.start()
        stack.push_async_callback(stop_node, node_b)
        node_a = overlay_node("NODE-A", "NODE-B", node_b.port)
        await node_a.start()
        stack.push_async_callback(stop_node, node_a)
        station = SimulatedStation(
            "CS-1", f"ws://127.0.0.1:{node_a.port}/ocpp", version="2.1",
            config=StationConfig(evse_count=1, evse_max_power_w=22_000),
            scenario=Scenario(auto=False, meter_interval_s=300, heartbeat_s=3600,
                              ev_max_power_w=11_000, ev_soc_min=0.2, ev_soc_max=0.2),
            clock=SimClock(speed=600.0), backoff=Backoff(base=0.05, cap=0.2, jitter=0.05),
            call_timeout=5.0, security=trusting(keys["emp"]))
        task = asyncio.create_task(station.run())

        async def stop_station() -> None:
            await station.close()
            await asyncio.wait_for(task, 5)

        stack.push_async_callback(stop_station)
        emp = Participant(ParticipantSection(
            id="EMP-1", version="2.1", call_timeout=5.0,
            upstreams=(UpstreamSection(id="CSMS-1", url=f"ws://127.0.0.1:{csms.port}/ocpp"),)))
        await stack.enter_async_context(emp)
        await until(lambda: station.accepted)
        # the overlay links speak 2.0.1; NODE-A announces CS-1's own version (2.1) to the CSMS
        await until(lambda: speaks_21(app))
        yield Net(app, station, emp, keys)


def by_hand(readings: list[tuple[datetime, float]], changed_at: datetime | None = None) -> Decimal:
    """T1 (then T2 from ``changed_at``), incl. 19 % VAT, rounded to cents: the fixed fee, and
    for each pair of readings energy * price/kWh and the minutes at the charging or idle rate."""
    net = Decimal("0.50")
    for (t0, e0), (t1, e1) in itertools.pairwise(readings):
        minutes = Decimal((t1 - t0).total_seconds()) / 60
        kwh = (Decimal(str(e1)) - Decimal(str(e0))) / 1000
        if changed_at is not None and t0 >= changed_at:  # T2: energy only
            net += kwh * Decimal("0.20")
        elif kwh > 0:
            net += kwh * Decimal("0.40") + minutes * Decimal("0.01")
        else:
            net += minutes * Decimal("0.05")
    return (net * Decimal("1.19")).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


async def test_signed_tariff_prices_the_session_at_both_ends(net: Net) -> None:
    assert (await net.set_default(net.signed(T1)))["status"] == "Accepted"
    assert net.station.tariffs.book.default_for(1, datetime.now(UTC)) is not None
    tx = await net.start()
    await until_async(lambda: _count(net, tx, 3))  # Started + two periodic readings
    assert (await net.app.remote_stop("CS-1", tx))["status"] == "Accepted"
    checks = await until_async(lambda: _ended(net, tx))
    readings = await net.readings(tx)
    assert len(readings) >= 4 and readings[-1][1] > readings[0][1]
    expected = float(by_hand(readings))
    final = net.station.tariffs.costs[tx]["totalCost"]
    assert final["total"]["inclTax"] == expected
    assert all(c["match"] and c["verified"] for c in checks), checks
    assert checks[-1]["csms"]["inclTax"] == expected
    in_use = await net.app.store.list_station_events("CS-1", "TariffInUse")
    assert [e.data["tariffId"] for e in in_use] == ["EMP-T1"]
    assert in_use[0].data["issuer"] == net.keys["emp"].key_id


async def test_altered_unsigned_and_untrusted_tariffs_are_refused(net: Net) -> None:
    altered = copy.deepcopy(net.signed(T1))
    altered["energy"]["prices"][0]["priceKwh"] = 0.01
    for tariff, reason in ((altered, "invalid signature"), (T1, "unsigned"),
                           (net.signed(T1, "rogue"), "not signed by a trusted issuer")):
        with pytest.raises(CallErrorReceived) as info:
            await net.set_default(tariff)
        assert info.value.code == "SecurityError"
        assert reason in info.value.description
    assert net.station.tariffs.book.default_for(1, datetime.now(UTC)) is None
    response = await net.emp.call("CS-1", "GetTariffs", {"evseId": 0})
    assert response == {"status": "NoTariff"}


async def test_change_transaction_tariff_is_honoured_from_that_moment(net: Net) -> None:
    assert (await net.set_default(net.signed(T1)))["status"] == "Accepted"
    tx = await net.start()
    await until_async(lambda: _count(net, tx, 2))
    with pytest.raises(CallErrorReceived) as info:  # a forged change is refused too
        await net.emp.call("CS-1", "ChangeTransactionTariff",
                           {"transactionId": tx, "tariff": net.signed(T2, "rogue")})
    assert info.value.code == "SecurityError"
    response = await net.emp.call("CS-1", "ChangeTransactionTariff",
                                  {"transactionId": tx, "tariff": net.signed(T2)})
    assert response["status"] == "Accepted"
    before = len(await net.checks(tx))
    await until_async(lambda: _count(net, tx, before + 2))
    assert (await net.app.remote_stop("CS-1", tx))["status"] == "Accepted"
    checks = await until_async(lambda: _ended(net, tx))
    in_use = [e.data for e in await net.app.store.list_station_events("CS-1", "TariffInUse")]
    assert [t["tariffId"] for t in in_use] == ["EMP-T1", "EMP-T2"]
    changed_at = datetime.fromisoformat(in_use[1]["from"].replace("Z", "+00:00"))
    readings = await net.readings(tx)
    assert any(t == changed_at for t, _ in readings)  # the station read its meter then
    expected = float(by_hand(readings, changed_at))
    assert net.station.tariffs.costs[tx]["totalCost"]["total"]["inclTax"] == expected
    assert all(c["match"] for c in checks) and checks[-1]["csms"]["inclTax"] == expected
    periods = net.station.tariffs.costs[tx]["chargingPeriods"]
    assert periods[-1]["tariffId"] == "EMP-T2"
    assert periods[-1]["startPeriod"] == in_use[1]["from"]


async def _count(net: Net, tx: str, n: int) -> bool:
    return len(await net.checks(tx)) >= n


async def _ended(net: Net, tx: str) -> list[dict[str, Any]] | None:
    checks = await net.checks(tx)
    return checks if checks and checks[-1]["eventType"] == "Ended" else None
