"""rpc.timestamps: the one reader and writer of OCPP date-times."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ocppnet.rpc.timestamps import (
    format_seconds,
    format_timestamp,
    parse_seconds,
    parse_timestamp,
)

NOON = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize("text", [
    "2025-03-01T12:00:00Z", "2025-03-01T12:00:00.000Z", "2025-03-01t12:00:00z",
    "2025-03-01T13:00:00+01:00", "2025-03-01 12:00:00+00:00",
])
def test_rfc3339_forms_are_read(text: str) -> None:
    assert parse_timestamp(text) == NOON


@pytest.mark.parametrize("text", [None, 5, "", "2025-03-01", "noon", "2025-13-01T12:00:00Z"])
def test_what_is_not_a_date_time_is_none(text: object) -> None:
    assert parse_timestamp(text) is None


def test_a_missing_zone_is_utc_or_refused() -> None:
    assert parse_timestamp("2025-03-01T12:00:00") == NOON
    assert parse_timestamp("2025-03-01T12:00:00", naive="reject") is None
    assert parse_timestamp("2025-03-01T12:00:00Z", naive="reject") == NOON


def test_written_in_utc_with_z() -> None:
    east = NOON.astimezone(timezone(timedelta(hours=2)))
    assert format_timestamp(east) == "2025-03-01T12:00:00.000Z"
    assert format_timestamp(NOON.replace(tzinfo=None), "seconds") == "2025-03-01T12:00:00Z"
    assert format_seconds(1_700_000_000.0) == "2023-11-14T22:13:20.000Z"
    with pytest.raises(ValueError, match="RFC 3339"):
        parse_seconds("yesterday")


@given(st.datetimes(min_value=datetime(1971, 1, 1), max_value=datetime(2200, 1, 1),
                    timezones=st.just(UTC)))
def test_round_trip_to_the_microsecond(at: datetime) -> None:
    assert parse_timestamp(format_timestamp(at, "microseconds")) == at
