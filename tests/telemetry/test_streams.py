"""What a station streams, how a stream describes itself, the twin's flags and downsampling."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ocppnet.telemetry.series import downsample
from ocppnet.telemetry.streams import (
    EvseReading,
    describe,
    read_value,
    spec_from_open,
    station_streams,
)
from ocppnet.telemetry.twin_state import TwinState


def test_streams_cover_every_quantity_and_phase() -> None:
    specs = station_streams([1, 2], ["power", "current", "voltage", "temperature", "soc",
                                     "connector"])
    assert len(specs) == 2 * (1 + 3 + 3 + 1 + 1 + 1)
    assert [s.id for s in specs] == list(range(1, len(specs) + 1))
    assert {s.label for s in specs if s.evse_id == 1} >= {"evse1.current.L2", "evse1.soc"}
    with pytest.raises(ValueError, match="unknown quantity 'humidity'"):
        station_streams([1], ["humidity"])


def test_values_follow_the_reading() -> None:
    reading = EvseReading(power_w=6900.0, voltage_v=230.0, phases=1, temperature_c=31.5,
                          soc_percent=None, connector="Occupied")
    specs = {s.label: s for s in station_streams([1], ["power", "current", "soc", "connector"])}
    assert read_value(specs["evse1.power"], reading) == "6900.0"
    assert read_value(specs["evse1.current.L1"], reading) == "30.00"
    assert read_value(specs["evse1.current.L2"], reading) is None  # a one-phase EVSE
    assert read_value(specs["evse1.soc"], reading) is None  # no vehicle, no SoC
    assert read_value(specs["evse1.connector"], reading) == "Occupied"


def test_a_stream_describes_itself_in_open_periodic_event_stream() -> None:
    [spec] = [s for s in station_streams([2], ["voltage"]) if s.phase == "L3"]
    request = {"constantStreamData": {"id": spec.id, "variableMonitoringId": 7,
                                      "params": {"interval": 1, "values": 10},
                                      "customData": describe(spec)}}
    assert spec_from_open(request) == spec
    request["constantStreamData"]["customData"] = {"vendorId": "someone.else"}
    assert spec_from_open(request) is None


def test_twin_flags_what_does_not_add_up() -> None:
    state = TwinState(stale_after_intervals=5)
    specs = {s.quantity: s for s in station_streams([1], ["power", "soc", "connector"])}
    for spec in specs.values():
        state.open_stream("CS-1", spec, 1.0)
    state.update("CS-1", specs["connector"], 10.0, "Available")
    state.update("CS-1", specs["power"], 10.0, "7200.0")
    state.update("CS-1", specs["soc"], 9.0, "50.0")
    state.update("CS-1", specs["soc"], 10.0, "40.0")
    flags = state.flags("CS-1", now=11.0)
    assert "evse 1: 7200 W while the connector is Available" in flags
    assert any("SoC falling while charging" in f for f in flags)
    assert state.flags("CS-1", now=30.0)[0].startswith("stale: nothing heard for 20 s")
    [row] = state.snapshot(11.0)
    assert row["evses"]["1"]["evse1.power"] == "7200.0"


def test_downsample_buckets() -> None:
    buckets = downsample([(0.5, 1.0), (59.0, 3.0), (61.0, 10.0), (30.0, math.nan)], 60.0)
    assert [(b.start, b.mean, b.minimum, b.maximum, b.count) for b in buckets] == [
        (0.0, 2.0, 1.0, 3.0, 2), (60.0, 10.0, 10.0, 10.0, 1)]


@given(st.lists(st.tuples(st.floats(0, 1e6), st.floats(-1e6, 1e6)), max_size=50),
       st.floats(0.5, 1e4))
def test_downsampling_keeps_count_and_bounds(points: list[tuple[float, float]],
                                             bucket_s: float) -> None:
    buckets = downsample(points, bucket_s)
    assert sum(b.count for b in buckets) == len(points)
    for b in buckets:
        assert b.minimum <= b.mean + 1e-6 * max(1.0, abs(b.mean)) and b.mean <= b.maximum + 1e-3
