"""Benchmark: OCMF record verification vs raw ``cryptography`` verify of the same bytes.

"ours" is what ``ocppnet ocmf verify`` and the CSMS do per record: parse the OCMF text
(strict JSON, payload model, time and OBIS checks), pick the algorithm, decode the DER
signature and verify it over the exact payload bytes. "raw" is the bare
``EllipticCurvePublicKey.verify`` of those bytes and that signature. Same run, same machine,
interleaved rounds, best of each. Targets (secp256r1): verifying a parsed record >= 90 % of
raw (the key is loaded once, the bytes are not copied); parse + verify >= 50 % of raw (the
parse builds the whole payload model in Python, which the CSMS needs for pagination,
serial and readings anyway).

    python -m benchmarks ocmf [--quick]      (or: python benchmarks/bench_ocmf.py [--quick])
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from benchmarks.report import Row, Target
from ocppnet.metering import (
    MeterKey,
    OcmfRecord,
    Payload,
    Reading,
    format_time,
    parse_record,
    parse_time,
    sign_payload,
    verify_record,
)

ROUNDS = 5
FULL_TARGET = Target("min_ratio", 0.5)
PARSED_TARGET = Target("min_ratio", 0.9)
T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def _records(key: MeterKey, count: int) -> list[OcmfRecord]:
    """Begin/end records as a DC charger writes them (two readings, all user fields)."""
    out = []
    for i in range(count):
        start, stop = T0 + timedelta(minutes=i), T0 + timedelta(minutes=i + 45)
        readings = tuple(
            Reading(parse_time(format_time(at, "S"), "TM")[0], tx, Decimal(value),
                    "01-00:01.08.00*FF", "kWh", "DC", None, "", "G")
            for at, tx, value in ((start, "B", f"{1000 + i}.125"), (stop, "E", f"{1031 + i}.750")))
        out.append(sign_payload(Payload(
            pagination=f"T{i + 1}", readings=readings, format_version="1.4",
            gateway_id="ocppnet bench", gateway_serial="GW-1", meter_vendor="ocppnet",
            meter_model="BenchMeter", meter_serial="M-1", identification_status=True,
            identification_level="VERIFIED", identification_flags=("RFID_PLAIN", "OCPP_RS_TLS"),
            identification_type="ISO14443", identification_data="1F2D3A4F5506C7",
            charge_point_id_type="EVSEID", charge_point_id="DE*OCN*E1*1"), key))
    return out


def _rate(items: list[Any], func: Callable[[Any], object], seconds: float) -> float:
    n, start = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        func(items[n % len(items)])
        n += 1
    return n / elapsed


def bench(algorithm: str, seconds: float) -> tuple[float, float, float]:
    """(parse+verify/s, verify of a parsed record/s, raw cryptography verify/s)."""
    key = MeterKey.generate(algorithm)
    public = key.public
    records = _records(key, 50)
    texts = [r.text for r in records]
    raw_key = public.key
    assert raw_key is not None  # an OpenSSL curve
    pairs = [(r.signature.signature_bytes(), r.payload_bytes) for r in records]
    algo = ec.ECDSA(hashes.SHA256())

    def ours_full(text: str) -> None:
        assert verify_record(parse_record(text), public).valid

    def ours_parsed(record: OcmfRecord) -> None:
        assert verify_record(record, public).valid

    def raw(pair: tuple[bytes, bytes]) -> None:
        raw_key.verify(pair[0], pair[1], algo)

    jobs: list[tuple[list[Any], Callable[[Any], object]]] = [
        (texts, ours_full), (records, ours_parsed), (pairs, raw)]
    best = [0.0] * len(jobs)
    for _ in range(ROUNDS):
        for i, (items, func) in enumerate(jobs):
            best[i] = max(best[i], _rate(items, func, seconds / ROUNDS))
    return best[0], best[1], best[2]


def run(quick: bool) -> list[Row]:
    seconds = 0.25 if quick else 2.0
    algorithms = ["ECDSA-secp256r1-SHA256"] if quick else [
        "ECDSA-secp256r1-SHA256", "ECDSA-secp384r1-SHA256", "ECDSA-brainpool256r1-SHA256"]
    rows = []
    for algorithm in algorithms:
        full, parsed, raw = bench(algorithm, seconds)
        curve = algorithm.split("-")[1]
        rows.append(Row("ocmf", f"parse+verify/s {curve}", "records/s", full, raw,
                        "cryptography verify", FULL_TARGET if curve == "secp256r1" else None))
        rows.append(Row("ocmf", f"verify/s parsed record {curve}", "records/s", parsed, raw,
                        "cryptography verify", PARSED_TARGET if curve == "secp256r1" else None))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="short run (< 5 s)")
    for row in run(parser.parse_args().quick):
        print(f"{row.metric:36s} {row.ours:9.0f} vs {row.baseline or 0:9.0f} raw "
              f"({row.ratio or 0:.0%})")


if __name__ == "__main__":
    main()
