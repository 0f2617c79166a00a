"""In-process micro-benchmarks written by the codec and security engineers, as table rows.

Calls their functions (benchmarks/bench_signatures.py, bench_codec.py, bench_canonical.py)
with the durations of the chosen mode; CPU-bound, one core, no network.
"""

from __future__ import annotations

import rfc8785

from benchmarks import bench_canonical, bench_codec, bench_signatures
from benchmarks.report import Row, Target
from ocppnet.security.canonical import canonicalize

VERIFY_TARGET = Target("min_ratio", 0.8)  # bench_signatures.py: verify >= 80 % of raw


def signatures(quick: bool) -> list[Row]:
    """Sign and verify per second per algorithm, versus bare ``cryptography``."""
    seconds = 0.2 if quick else 1.5
    algorithms = list(bench_signatures.ALGORITHMS)
    if quick:
        algorithms = algorithms[:1] + algorithms[-1:]
    rows = []
    for algorithm in algorithms:
        s, raw_s, v, raw_v = bench_signatures.bench(algorithm, seconds)
        rows.append(Row("signatures", f"sign/s {algorithm}", "ops/s", s, raw_s, "cryptography"))
        rows.append(Row(
            "signatures", f"verify/s {algorithm}", "ops/s", v, raw_v, "cryptography",
            VERIFY_TARGET if algorithm == "secp256r1" else None,
        ))
    v, raw_v, chains = bench_signatures.bench_certified(seconds)
    rows.append(Row("signatures", "verify/s secp256r1, certified by owner CA (x5c)", "ops/s",
                    v, raw_v, "cryptography", VERIFY_TARGET,
                    note=f"uncached chain checks/s {chains:.0f}"))
    v, raw_v = bench_signatures.bench_jws(seconds)
    rows.append(Row("signatures", "verify/s OCPP 2.1 JWS ES256", "ops/s", v, raw_v,
                    "cryptography", VERIFY_TARGET))
    return rows


def codec(quick: bool) -> list[Row]:
    """Decode + validate of a MeterValues CALL versus json + jsonschema."""
    seconds = 0.4 if quick else 3.0
    ours = bench_codec.rate(bench_codec.ocppnet_once, seconds)
    theirs = bench_codec.rate(bench_codec.baseline_once, seconds)
    return [Row("codec", "decode+validate MeterValues frames/s", "frames/s", ours, theirs,
                "json+jsonschema")]


def canonical(quick: bool) -> list[Row]:
    """RFC 8785 canonicalization versus the ``rfc8785`` package."""
    seconds = 0.2 if quick else 2.0
    rows = []
    for label, value in (("SetChargingProfile", bench_canonical.PROFILE),
                         ("BootNotification", bench_canonical.BOOT)):
        ours = bench_codec.rate(lambda v=value: canonicalize(v), seconds)
        theirs = bench_codec.rate(lambda v=value: rfc8785.dumps(v), seconds)
        rows.append(Row("canonical", f"canonicalize {label}/s", "ops/s", ours, theirs,
                        "rfc8785"))
    return rows
