"""Shared fixtures: one key per algorithm (generated once per session) and a fixed clock."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from ocppnet.security.keys import ALGORITHMS, KeyPair

NOW = datetime(2025, 3, 1, 12, 0, 0, tzinfo=UTC)


@pytest.fixture(scope="session")
def keys() -> dict[str, KeyPair]:
    return {alg: KeyPair.generate(alg) for alg in ALGORITHMS}


@pytest.fixture
def profile() -> dict[str, Any]:
    """A SetChargingProfile request (OCPP 2.0.1) as a grid operator would send it."""
    return {
        "evseId": 0,
        "chargingProfile": {
            "id": 7,
            "stackLevel": 1,
            "chargingProfilePurpose": "ChargingStationExternalConstraints",
            "chargingProfileKind": "Absolute",
            "chargingSchedule": [{
                "id": 1,
                "startSchedule": "2025-03-01T12:00:00Z",
                "chargingRateUnit": "W",
                "chargingSchedulePeriod": [
                    {"startPeriod": 0, "limit": 11000.0},
                    {"startPeriod": 900, "limit": 4200.0},
                ],
            }],
        },
    }
