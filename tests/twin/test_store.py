"""The twin's series store on SQLite and on a real PostgreSQL server."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from ocppnet.twin.store import Sample, SeriesStore, open_series_store
from tests.store.conftest import postgres_url  # noqa: F401  (the session's PostgreSQL)


@pytest.fixture(params=["sqlite", "postgresql"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[SeriesStore]:
    if request.param == "sqlite":
        location = str(tmp_path / "twin.sqlite3")
    else:
        url = request.getfixturevalue("postgres_url")
        location = url
    series = open_series_store(location)
    await series.open()
    try:
        if request.param == "postgresql":  # a shared server: start from empty tables
            await series._worker.run(lambda s: [s.execute(f"DELETE FROM {t}") for t in (
                "twin_samples", "twin_rollups", "twin_verdicts")])
        yield series
    finally:
        await series.close()


async def test_series_come_back_in_order_and_old_data_is_rolled_up(store: SeriesStore) -> None:
    for t in range(0, 180, 10):
        store.add(Sample("CS-1", "evse1.power", float(t), float(t)))
    store.add(Sample("CS-1", "evse1.connector", 5.0, None, "Occupied"))
    store.add(Sample("CS-2", "evse1.power", 5.0, 1.0))
    points = await store.series("CS-1", "evse1.power")
    assert points == [(float(t), float(t)) for t in range(0, 180, 10)]
    folded = await store.compact(before=120.0, bucket_s=60.0)
    assert folded == 13  # 12 power samples below 120 s, and CS-2's
    after = await store.series("CS-1", "evse1.power")
    assert after[:2] == [(0.0, 25.0), (60.0, 85.0)]  # means of the two rolled-up minutes
    assert after[2:] == [(float(t), float(t)) for t in range(120, 180, 10)]
    store.add(Sample("CS-1", "evse1.power", 100.0, 1000.0))  # a late sample, rolled up later
    await store.compact(before=120.0, bucket_s=60.0)
    assert (await store.series("CS-1", "evse1.power", 60.0, 120.0))[0][1] == pytest.approx(
        (85.0 * 6 + 1000.0) / 7)


async def test_verdicts_are_counted_and_problems_listed(store: SeriesStore) -> None:
    store.add_verdict(1.0, "CS-1", 3, 7, "altered", "CS-1 stream 3 batch 7: ...")
    store.add_verdict(2.0, "CS-1", 3, 9, "dropped", "CS-1 stream 3 batch 9: ...")
    store.add_verdict(3.0, "CS-1", 3, 10, "shed", "CS-1 stream 3 batch 10: ...")
    counts = await store.verdict_counts()
    assert {(c["status"], c["count"]) for c in counts} == {("altered", 1), ("dropped", 1),
                                                           ("shed", 1)}
    problems = await store.problems()
    assert [p["status"] for p in problems] == ["dropped", "altered"]  # newest first
