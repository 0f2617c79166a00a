"""Micro-benchmark: RFC 8785 canonicalization, ocppnet vs the ``rfc8785`` package.

Two payloads: a SetChargingProfile request (floats: the general path) and a
BootNotification request (no floats, ASCII keys: the orjson fast path). Both
implementations canonicalize the same value in the same run; prints ops/s and the ratio.

    python benchmarks/bench_canonical.py [--quick]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import Any

import rfc8785

from ocppnet.security.canonical import canonicalize

PROFILE: dict[str, Any] = {
    "evseId": 0,
    "chargingProfile": {
        "id": 7, "stackLevel": 1,
        "chargingProfilePurpose": "ChargingStationExternalConstraints",
        "chargingProfileKind": "Absolute",
        "chargingSchedule": [{
            "id": 1, "startSchedule": "2025-03-01T12:00:00Z", "chargingRateUnit": "W",
            "chargingSchedulePeriod": [
                {"startPeriod": 900 * i, "limit": 11000.0 - 100.5 * i} for i in range(24)
            ],
        }],
    },
}
BOOT: dict[str, Any] = {
    "reason": "PowerUp",
    "chargingStation": {"model": "Wallbox XYZ", "vendorName": "ocppnet", "serialNumber": "S-1",
                        "firmwareVersion": "1.2.3", "modem": {"iccid": "8949", "imsi": "26201"}},
    "customData": {"vendorId": "ocppnet", "tags": ["a", "b", "c"], "n": 12345},
}


def _rate(func: Callable[[Any], bytes], value: Any, seconds: float) -> float:
    n, start = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        for _ in range(100):
            func(value)
        n += 100
    return n / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="short run (< 3 s)")
    seconds = 0.3 if parser.parse_args().quick else 2.0
    for label, value in (("SetChargingProfile (24 float periods)", PROFILE),
                         ("BootNotification (no floats)", BOOT)):
        assert canonicalize(value) == rfc8785.dumps(value)
        ours = _rate(canonicalize, value, seconds)
        theirs = _rate(rfc8785.dumps, value, seconds)
        print(f"{label:40s} ocppnet {ours:10.0f}/s  rfc8785 {theirs:10.0f}/s  "
              f"ratio {ours / theirs:5.1f}x")


if __name__ == "__main__":
    main()
