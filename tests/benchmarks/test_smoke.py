"""Smoke test of the benchmark code (structure only, no timing thresholds)."""

from __future__ import annotations

import json
from pathlib import Path

from benchmarks.bench_csms import measure_in_process
from benchmarks.report import Row, Target, machine, write
from benchmarks.wsclient import client_frame


async def test_in_process_csms_load_reports_positive_rates() -> None:
    result = await measure_in_process(stations=2, seconds=0.3, warmup=0.1)
    assert result.stations == 2
    assert result.calls > 0 and result.rate > 0 and result.seconds > 0
    assert result.errors == 0  # every Heartbeat/MeterValues got a CALLRESULT
    assert 0 < result.p50_ms <= result.p99_ms


def test_client_frame_is_masked_and_unmasks_to_the_payload() -> None:
    payload = b'[2,"id-1","Heartbeat",{}]'
    frame = client_frame(payload)
    assert frame[0] == 0x81 and frame[1] == 0x80 | len(payload)
    mask, body = frame[2:6], frame[6:]
    assert bytes(b ^ mask[i % 4] for i, b in enumerate(body)) == payload
    long = client_frame(b"x" * 300)
    assert long[1] == 0x80 | 126 and int.from_bytes(long[2:4], "big") == 300


def test_report_marks_targets_and_writes_markdown_and_json(tmp_path: Path) -> None:
    rows = [
        Row("csms", "calls/s", "calls/s", 600.0, 100.0, "ocpp pkg", Target("min_ratio", 5)),
        Row("connections", "memory", "KiB", 25.0, None, "", Target("max_value", 20)),
    ]
    meta = {"mode": "quick", "loop": "asyncio", "seconds": 1.0, "machine": machine()}
    text = write(tmp_path, rows, {"latency": "RuntimeError: boom"}, meta)
    assert "| 6.00x | >= 5x | met |" in text
    assert "target missed" in text and "crashed" in text
    data = json.loads((tmp_path / "results.json").read_text())
    assert data["rows"][0]["ratio"] == 6.0 and data["rows"][0]["met"] is True
    assert data["rows"][1]["met"] is False
    assert data["failures"] == {"latency": "RuntimeError: boom"}
    assert (tmp_path / "results.md").read_text() == text


async def test_api_benchmark_measures_both_paths() -> None:
    from benchmarks.bench_api import measure

    api_rate, direct_rate = await measure(stations=1, seconds=0.2, warmup=0.05)
    assert api_rate > 0 and direct_rate > 0
