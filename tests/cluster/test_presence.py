"""Presence: the pure rules (names, escaping, leases, which entry wins, the write queue),
then two real front-ends on a real nats-server moving a real station between them."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import nats
import pytest

from ocppnet.cluster.cache import LookupCache
from ocppnet.cluster.names import ClusterNames, name_part, token, unname_part, untoken
from ocppnet.cluster.presence import (
    BadEntry,
    Delete,
    Lease,
    PresenceEntry,
    PresenceTable,
    Put,
    entry_is_live,
    lease_is_live,
    live_leases,
    should_overwrite,
)
from tests.cluster.frontends import RO, frontend, held_by, station
from tests.cluster.natsd import NatsServer, running_nats

T0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def entry(station: str = "CS-1", frontend: str = "fe-a", incarnation: str = "i1",
          at: datetime = T0, version: str = "2.0.1") -> PresenceEntry:
    return PresenceEntry(station, frontend, incarnation, version, at)


def lease(frontend: str = "fe-a", incarnation: str = "i1", renewed: datetime = T0) -> Lease:
    return Lease(frontend, incarnation, T0, renewed, "host", 42, 3)


# --- names -------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["CS-001", "CP_1", "a.b", "star*", "gt>", "with space",
                                  "=", "=3D", "ünïcode", "/slash", "_5F"])
def test_escaping_is_reversible_and_safe(text: str) -> None:
    assert untoken(token(text)) == text
    assert unname_part(name_part(text)) == text
    assert all(c.isalnum() or c in "-_=" for c in token(text)) and token(text).isascii()
    assert all(c.isalnum() or c in "-_" for c in name_part(text)) and name_part(text).isascii()


def test_common_ids_are_unchanged_and_odd_ones_escaped() -> None:
    assert token("CS-001") == "CS-001" and token("CP_1") == "CP_1"
    assert token("a.b") == "a=2Eb" and token("x*") == "x=2A" and token("=") == "=3D"
    assert name_part("CSMS-1") == "CSMS-1" and name_part("a_b") == "a_5Fb"
    with pytest.raises(ValueError, match="empty"):
        token("")


def test_the_nats_names_of_a_csms() -> None:
    names = ClusterNames("CSMS")
    assert names.presence_bucket == "ocppnet-CSMS-presence"
    assert names.frontends_bucket == "ocppnet-CSMS-frontends"
    assert names.rpc_subject("host.1-7") == "ocppnet.CSMS.rpc.host=2E1-7"
    assert names.event_subject("energy", "CS.1") == "ocppnet.CSMS.energy.CS=2E1"
    assert names.event_subjects() == ["ocppnet.CSMS.message.*", "ocppnet.CSMS.station.*",
                                      "ocppnet.CSMS.connector.*", "ocppnet.CSMS.energy.*"]
    assert not any(".rpc." in s for s in names.event_subjects())
    assert ClusterNames("my csms").presence_bucket == "ocppnet-my_20csms-presence"
    with pytest.raises(ValueError, match="unknown event kind"):
        names.event_subject("rpc", "CS-1")


# --- entries and leases ------------------------------------------------------------------


def test_entries_and_leases_round_trip_and_bad_ones_are_named() -> None:
    e = PresenceEntry("CS-1", "fe-a", "i1", "1.6", T0, ("NODE-A",))
    assert PresenceEntry.decode(e.encode()) == e
    assert Lease.decode(lease().encode()) == lease()
    with pytest.raises(BadEntry, match="not JSON"):
        PresenceEntry.decode(b"{")
    with pytest.raises(BadEntry, match="frontend: expected a non-empty string"):
        PresenceEntry.decode(b'{"station": "CS-1", "incarnation": "i", "version": "1.6",'
                             b' "since": "2026-12-01T12:00:00+00:00"}')
    with pytest.raises(BadEntry, match="since: expected a time with a UTC offset"):
        PresenceEntry.decode(b'{"station": "CS-1", "frontend": "f", "incarnation": "i",'
                             b' "version": "1.6", "since": "2026-12-01T12:00:00"}')
    with pytest.raises(BadEntry, match="expected a JSON object"):
        Lease.decode(b"[1]")


def test_a_lease_holds_while_renewed_and_present() -> None:
    assert lease_is_live(lease(), T0 + timedelta(seconds=10), 15)
    assert lease_is_live(lease(), T0 + timedelta(seconds=29), 15)  # one lease of tolerance
    assert not lease_is_live(lease(), T0 + timedelta(seconds=31), 15)
    assert not lease_is_live(lease(), T0 + timedelta(seconds=16), 15, tolerance_s=0)
    assert not lease_is_live(None, T0, 15)
    leases = [lease("fe-b"), lease("fe-a"), lease("fe-old", renewed=T0 - timedelta(hours=1))]
    assert [x.frontend_id for x in live_leases(leases, T0, 15)] == ["fe-a", "fe-b"]


def test_an_entry_is_live_only_with_its_frontends_lease_of_the_same_incarnation() -> None:
    assert entry_is_live(entry(), lease(), T0, 15)
    assert not entry_is_live(entry(), None, T0, 15)  # the front-end is gone
    assert not entry_is_live(entry(), lease(incarnation="i2"), T0, 15)  # it restarted
    assert not entry_is_live(entry(), lease(frontend="fe-b"), T0, 15)
    assert not entry_is_live(entry(), lease(renewed=T0 - timedelta(minutes=5)), T0, 15)


def test_the_newest_link_wins() -> None:
    ours = entry(frontend="fe-a", at=T0)
    assert should_overwrite(None, ours)
    assert should_overwrite(entry(frontend="fe-b", at=T0 - timedelta(seconds=1)), ours)
    assert not should_overwrite(entry(frontend="fe-b", at=T0 + timedelta(seconds=1)), ours)
    # our own earlier entry (same incarnation) is always ours to replace
    assert should_overwrite(entry(frontend="fe-a", at=T0 + timedelta(seconds=9)), ours)
    # ... but not one of our previous life
    assert not should_overwrite(entry(frontend="fe-a", incarnation="i0",
                                      at=T0 + timedelta(seconds=9)), ours)


# --- the write queue ---------------------------------------------------------------------


def test_connect_then_disconnect_puts_then_deletes_our_own_revision() -> None:
    table = PresenceTable()
    table.connected(entry())
    [op] = table.take(10)
    assert op == Put("CS-1", entry())
    assert table.take(10) == []  # nothing more until it is done
    table.done(op, revision=7)
    assert table.pending == 0 and table.written["CS-1"] == (7, entry())
    table.disconnected("CS-1")
    assert table.take(10) == [Delete("CS-1", 7)]


def test_a_change_while_a_write_is_in_flight_waits_for_it() -> None:
    table = PresenceTable()
    table.connected(entry())
    [put] = table.take(10)
    table.disconnected("CS-1")  # the link went while the put was on its way
    assert table.take(10) == []  # one operation per station at a time
    table.done(put, revision=3)
    assert table.take(10) == [Delete("CS-1", 3)]


def test_a_reconnect_before_the_disconnect_was_written_just_overwrites() -> None:
    table = PresenceTable()
    table.connected(entry())
    [put] = table.take(10)
    table.done(put, revision=3)
    table.disconnected("CS-1")
    newer = entry(at=T0 + timedelta(seconds=5))
    table.connected(newer)
    assert table.take(10) == [Put("CS-1", newer)]


def test_a_failed_write_is_retried_and_a_superseded_one_forgotten() -> None:
    table = PresenceTable()
    table.connected(entry())
    [put] = table.take(10)
    table.done(put, failed=True)
    assert table.pending == 1
    [again] = table.take(10)
    assert again == put
    table.done(again, superseded=True)  # a newer link on another front-end owns the key
    assert table.desired == {} and table.written == {} and table.pending == 0
    table.disconnected("CS-1")
    assert table.take(10) == []  # nothing of ours to delete


def test_a_delete_refused_by_compare_and_set_leaves_the_newer_entry() -> None:
    table = PresenceTable()
    table.connected(entry())
    [put] = table.take(10)
    table.done(put, revision=3)
    table.disconnected("CS-1")
    [delete] = table.take(10)
    table.done(delete, superseded=True)
    assert table.written == {} and table.pending == 0


def test_take_is_bounded_and_rewrite_all_writes_every_held_station_again() -> None:
    table = PresenceTable()
    for i in range(5):
        table.connected(entry(f"CS-{i}"))
    first = table.take(3)
    assert len(first) == 3 and table.pending == 5
    for op in first + table.take(3):
        table.done(op, revision=1)
    assert table.pending == 0
    table.rewrite_all()
    assert sorted(op.station_id for op in table.take(10)) == [f"CS-{i}" for i in range(5)]
    with pytest.raises(ValueError, match="revision"):
        table.done(Put("CS-0", entry("CS-0")))


def test_leaving_deletes_every_entry_written() -> None:
    table = PresenceTable()
    table.connected(entry("CS-1"))
    table.connected(entry("CS-2"))
    [first, _second] = table.take(10)
    table.done(first, revision=4)
    table.leave()
    assert table.desired == {}
    assert table.take(10) == [Delete("CS-1", 4)]  # CS-2's put is still in flight
    table.done(_second, revision=5)
    assert table.take(10) == [Delete("CS-2", 5)]


def test_the_lookup_cache_forgets_after_its_ttl_and_beyond_its_size() -> None:
    cache = LookupCache(1.0, max_entries=2)
    cache.put(entry("CS-1"), now=10.0)
    assert cache.get("CS-1", now=10.9) == entry("CS-1")
    assert cache.get("CS-1", now=11.0) is None and len(cache) == 0
    for i, at in ((1, 20.0), (2, 20.1), (3, 20.2)):
        cache.put(entry(f"CS-{i}"), now=at)
    assert cache.get("CS-1", now=20.3) is None and cache.get("CS-3", now=20.3) is not None
    cache.drop("CS-3")
    assert cache.get("CS-3", now=20.3) is None
    off = LookupCache(0)
    off.put(entry(), now=0.0)
    assert off.get("CS-1", now=0.0) is None


# --- on a real nats-server ---------------------------------------------------------------


async def test_a_lapsed_lease_makes_entries_stale_and_the_frontend_heals_them(
        nats_server: NatsServer, pg_store: str) -> None:
    async with frontend(nats_server.url, pg_store, "fe-a", lease_s=1) as a, \
            frontend(nats_server.url, pg_store, "fe-b", lease_s=1) as b, station(a.url, "CS-L"):
        await held_by(b, "CS-L", "fe-a")
        nc = await nats.connect(nats_server.url)
        try:  # as if fe-a had been cut off from the bus for longer than its lease
            leases = await nc.jetstream().key_value(ClusterNames("CSMS").frontends_bucket)
            await leases.delete("fe-a")
        finally:
            await nc.close()
        assert b.frontend.directory is not None
        entry, live = await b.frontend.directory.where("CS-L")
        assert entry is not None and entry.frontend_id == "fe-a" and not live
        _revision, removed = await b.frontend.directory.lookup("CS-L")
        assert removed is None  # the stale entry was removed by the lookup
        metrics = (await b.http.get("/metrics", headers=RO)).text
        assert "ocppnet_cluster_presence_stale_total 1.0" in metrics
        # fe-a's next renewal finds its lease gone, takes it again, rewrites its entries
        await held_by(b, "CS-L", "fe-a")
        assert await b.app.station_version("CS-L") == "2.0.1"


async def test_stations_are_served_while_the_bus_is_away_and_presence_catches_up(
        tmp_path: Path, pg_store: str) -> None:
    store = tmp_path / "jetstream"
    with running_nats(store) as first:
        async with frontend(first.url, pg_store, "fe-a") as a, \
                frontend(first.url, pg_store, "fe-b") as b:
            first.process.terminate()
            first.process.wait(timeout=10)
            async with station(a.url, "CS-O") as conn:  # served, stored: no bus needed
                assert (await conn.call("Heartbeat", {}))["currentTime"]
                assert a.frontend.table.pending == 1  # the put waits for the bus
                with running_nats(store, port=first.port):  # the bus is back
                    await held_by(b, "CS-O", "fe-a")
                    answer = await b.app.call("CS-O", "Reset", {"type": "Immediate"})
                    assert answer == {"status": "Accepted"}


def transaction_event(kind: str, seq: int, kwh: float) -> dict[str, object]:
    return {"eventType": kind, "timestamp": "2026-12-01T12:00:00Z", "seqNo": seq,
            "triggerReason": {"Started": "Authorized", "Updated": "MeterValuePeriodic",
                              "Ended": "EVDeparted"}[kind],
            "transactionInfo": {"transactionId": "T-M"}, "evse": {"id": 1, "connectorId": 1},
            "meterValue": [{"timestamp": "2026-12-01T12:00:00Z", "sampledValue": [
                {"value": kwh, "unitOfMeasure": {"unit": "kWh"}}]}]}


async def test_a_station_that_moves_mid_transaction_is_stored_exactly_once(
        nats_server: NatsServer, pg_store: str) -> None:
    async with frontend(nats_server.url, pg_store, "fe-a") as a, \
            frontend(nats_server.url, pg_store, "fe-b") as b:
        async with station(a.url, "CS-M") as conn:
            await conn.call("TransactionEvent", transaction_event("Started", 0, 1.0))
            await conn.call("TransactionEvent", transaction_event("Updated", 1, 2.0))
        # A stored seqNo 1 but its answer was lost: the station sends it again, to B
        async with station(b.url, "CS-M") as conn:
            await held_by(a, "CS-M", "fe-b")
            await conn.call("TransactionEvent", transaction_event("Updated", 1, 2.0))
            await conn.call("TransactionEvent", transaction_event("Ended", 2, 3.5))
        [tx] = await b.app.store.list_transactions("CS-M")
        assert tx.state == "ended" and tx.energy_wh == 2500.0
        samples = await a.app.store.list_meter_samples(tx.key)
        assert sorted(s.value for s in samples) == [1.0, 2.0, 3.5]  # kWh, one per seqNo


async def test_one_message_delivered_to_two_frontends_at_once_is_stored_once(
        nats_server: NatsServer, pg_store: str) -> None:
    async with frontend(nats_server.url, pg_store, "fe-a") as a, \
            frontend(nats_server.url, pg_store, "fe-b") as b, \
            station(a.url, "CS-D") as on_a, station(b.url, "CS-D") as on_b:
        await on_a.call("TransactionEvent", transaction_event("Started", 0, 1.0))
        for seq in range(1, 6):  # each seqNo arrives on both front-ends at the same time
            event = transaction_event("Updated", seq, 1.0 + seq)
            answers = await asyncio.gather(on_a.call("TransactionEvent", event),
                                           on_b.call("TransactionEvent", event))
            assert answers[0] == answers[1]
        [tx] = await a.app.store.list_transactions("CS-D")
        samples = await b.app.store.list_meter_samples(tx.key)
        assert sorted(s.value for s in samples) == [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]
