"""PendingTable: keys by (standard link, id) and (source, id), deadlines, link loss."""

from __future__ import annotations

from ocppnet.routing import PendingRequest, PendingTable


def req(
    mid: str,
    source: str,
    *,
    out: str = "s1",
    standard: bool = True,
    in_link: str | None = "up",
    deadline: float = 10.0,
) -> PendingRequest:
    return PendingRequest(mid, "Reset", source, "CS-1", in_link, out, standard, deadline)


def test_standard_out_link_matched_by_link_and_id() -> None:
    table = PendingTable()
    assert table.add(req("42", "CSMS-1"))
    assert table.pop_source("CSMS-1", "42") is None
    entry = table.pop_link("s1", "42")
    assert entry is not None and entry.source == "CSMS-1"
    assert table.pop_link("s1", "42") is None and len(table) == 0


def test_two_sources_same_id_to_one_station_conflict() -> None:
    table = PendingTable()
    assert table.add(req("42", "CSMS-1"))
    assert not table.add(req("42", "GRID-1"))
    assert table.pop_link("s1", "42").source == "CSMS-1"  # type: ignore[union-attr]


def test_same_source_retrying_replaces_its_entry() -> None:
    table = PendingTable()
    table.add(req("42", "CSMS-1", deadline=10.0))
    assert table.add(req("42", "CSMS-1", deadline=20.0))
    assert len(table) == 1
    assert table.expire(15.0) == []
    assert [e.deadline for e in table.expire(20.0)] == [20.0]


def test_edge_entries_of_two_stations_with_same_id_do_not_collide() -> None:
    table = PendingTable()
    assert table.add(req("1", "CS-1", out="up", standard=False, in_link="s1"))
    assert table.add(req("1", "CS-2", out="up", standard=False, in_link="s2"))
    assert table.pop_source("CS-2", "1").in_link == "s2"  # type: ignore[union-attr]
    assert table.pop_source("CS-1", "1").in_link == "s1"  # type: ignore[union-attr]


def test_expire_returns_oldest_first_and_skips_answered() -> None:
    table = PendingTable()
    table.add(req("a", "X", deadline=5.0))
    table.add(req("b", "X", deadline=3.0))
    table.add(req("c", "X", deadline=4.0))
    table.pop_link("s1", "c")
    assert table.expire(2.0) == []
    assert [e.message_id for e in table.expire(10.0)] == ["b", "a"]
    assert len(table) == 0


def test_drop_link_returns_requests_through_or_from_it() -> None:
    table = PendingTable()
    table.add(req("1", "CS-1", out="up", standard=False, in_link="s1"))
    table.add(req("2", "CSMS-1", out="s2", in_link="up"))
    table.add(req("3", "CSMS-1", out="s3", in_link="other"))
    assert sorted(e.message_id for e in table.drop_link("up")) == ["1", "2"]
    assert [e.message_id for e in table] == ["3"]
