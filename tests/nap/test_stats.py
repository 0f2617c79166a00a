"""Statistics per EVSE and day: sums are right, small cells are merged or suppressed, and
nothing that identifies a session or a driver is in the output."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from ocppnet.nap.sites import Sites, load_sites
from ocppnet.nap.stats import statistics
from ocppnet.store.records import TransactionRecord
from tests.nap.conftest import EXAMPLE

DAY = date(2025, 3, 1)
NOON = datetime(2025, 3, 1, 11, 0, tzinfo=UTC)  # 12:00 in Berlin


def _tx(n: int, station: str, start: datetime, minutes: float, energy_wh: float,
        evse: int = 1) -> TransactionRecord:
    return TransactionRecord(n, station, f"TXID-{n:04d}", evse, 1, f"TOKEN-{n:04d}", start,
                             start + timedelta(minutes=minutes), 0.0, energy_wh, energy_wh,
                             "Local", "ended")


def test_sums_and_k_anonymity(sites: Sites) -> None:
    busy = [_tx(n, "CS-D1", NOON + timedelta(minutes=30 * n), 24, 10_000) for n in range(6)]
    few = [_tx(10 + n, station, NOON, 60, 5_000)
           for n, station in enumerate(["CS-A1", "CS-A1", "CS-A2", "CS-A2"])]
    lonely = [_tx(20, "CS-B1", NOON, 30, 7_000)]
    stats = statistics(sites, busy + few + lonely, first_day=DAY, last_day=DAY,
                       now=NOON + timedelta(days=2), k=4)
    cells = {(c.location, c.evse): c.to_json() for c in stats.cells}
    d1 = cells[("DE-EXC-MARKT", "MARKT-D1-1")]
    assert d1["sessions"] == 6 and d1["energy_kwh"] == 60.0
    assert d1["utilisation"] == round(6 * 24 * 60 / 86_400, 3)
    # A1 and A2 have two sessions each (< k): merged into one cell of two EVSEs
    merged = cells[("DE-EXC-MARKT", None)]
    assert merged["evses"] == 2 and merged["sessions"] == 4 and merged["energy_kwh"] == 20.0
    assert ("DE-EXC-MARKT", "MARKT-A1-1") not in cells
    # B1's single session stays below k even merged: suppressed, not published
    assert ("DE-EXC-HOF", "HOF-B1-1") not in cells and ("DE-EXC-HOF", None) not in cells
    assert stats.suppressed == 1
    assert cells[("DE-EXC-HOF", "HOF-B2-1")]["sessions"] == 0  # empty cells are harmless
    text = json.dumps(stats.to_json())
    assert "TOKEN-" not in text and "TXID-" not in text and "T11:" not in text


def test_a_session_over_midnight_occupies_both_days_and_counts_once(sites: Sites) -> None:
    late = datetime(2025, 3, 1, 22, 0, tzinfo=UTC)  # 23:00 local, until 01:00 local
    sessions = [_tx(n, "CS-D1", late, 120, 1_000) for n in range(2)]
    stats = statistics(sites, sessions, first_day=DAY, last_day=DAY + timedelta(days=1),
                       now=late + timedelta(days=3), k=2)
    by_day = {c.day: c.to_json() for c in stats.cells if c.evse == "MARKT-D1-1"}
    assert by_day[DAY]["sessions"] == 2 and by_day[DAY]["energy_kwh"] == 2.0
    assert by_day[DAY]["utilisation"] == round(2 * 3600 / 86_400, 3)
    # the next day has no session of its own but is not empty: below k, so not published
    assert DAY + timedelta(days=1) not in by_day


def test_an_active_session_counts_up_to_now(sites: Sites) -> None:
    active = TransactionRecord(1, "CS-D1", "TXID-A", 1, 1, "TOKEN-A", NOON, None, 0.0, None,
                               None, None, "active")
    stats = statistics(sites, [active], first_day=DAY, last_day=DAY,
                       now=NOON + timedelta(hours=6), k=1)
    cell = next(c for c in stats.cells if c.evse == "MARKT-D1-1")
    assert cell.sessions == 1 and cell.to_json()["utilisation"] == 0.25


_STATIONS = ["CS-D1", "CS-A1", "CS-A2", "CS-B1", "CS-B2", "CS-B3", "CS-B4"]


@settings(max_examples=60, deadline=None)
@given(
    k=st.integers(min_value=1, max_value=6),
    sessions=st.lists(st.tuples(st.sampled_from(_STATIONS), st.integers(0, 3 * 24 * 60),
                                st.integers(1, 600), st.integers(0, 80_000)),
                      max_size=60),
)
def test_no_published_cell_is_below_k_and_nothing_is_invented(
        k: int, sessions: list[tuple[str, int, int, int]]) -> None:
    sites = load_sites(EXAMPLE)
    start = datetime(2025, 2, 28, 23, 0, tzinfo=UTC)  # local midnight, 1 March
    txs = [_tx(n, station, start + timedelta(minutes=offset), minutes, energy)
           for n, (station, offset, minutes, energy) in enumerate(sessions)]
    stats = statistics(sites, txs, first_day=DAY, last_day=DAY + timedelta(days=2),
                       now=start + timedelta(days=5), k=k)
    published = [c.to_json() for c in stats.cells]
    for cell in published:
        assert cell["sessions"] >= k or (cell["sessions"] == 0 and cell["utilisation"] == 0)
        assert 0 <= cell["utilisation"] <= 1
    assert sum(c["sessions"] for c in published) <= len(txs)
    # every EVSE-day is accounted for: published alone, merged, or suppressed
    alone = sum(1 for c in published if c["evse"] is not None)
    merged = sum(c["evses"] for c in published if c["evse"] is None)
    assert alone + merged + stats.suppressed == 8 * 3
    text = json.dumps(stats.to_json())
    assert "TOKEN-" not in text and "TXID-" not in text
