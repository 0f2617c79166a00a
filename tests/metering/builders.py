"""Payloads for the metering tests: a begin/end pair like a DC meter writes them."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from ocppnet.metering import OcmfTime, Payload, Reading, format_time, parse_time


def tm(moment: datetime, status: str = "S") -> OcmfTime:
    return parse_time(format_time(moment, status), "TM")[0]


def reading(value: str, reason: str, moment: datetime) -> Reading:
    return Reading(time=tm(moment), reason=reason, value=Decimal(value),
                   obis="01-00:01.08.00*FF", unit="kWh", current_type="AC", error_flags="",
                   status="G")


def payload(page: int, *readings: Reading, serial: str = "SIM-METER-1") -> Payload:
    return Payload(
        pagination=f"T{page}", readings=readings, format_version="1.4", gateway_id="ocppnet sim",
        gateway_serial="GW-1", gateway_version="0.1", meter_vendor="ocppnet",
        meter_model="SimMeter", meter_serial=serial, meter_firmware="1.0",
        identification_status=True, identification_level="TRUSTED",
        identification_flags=("RFID_NONE", "OCPP_AUTH"), identification_type="CENTRAL",
        identification_data="TAG-1", charge_point_id_type="CBIDC", charge_point_id="CS1 1")


T0 = datetime(2026, 12, 1, 9, 0, 0, tzinfo=UTC)
T1 = datetime(2026, 12, 1, 9, 45, 30, 250000, tzinfo=UTC)
