"""Micro-benchmark: decode + validate of a MeterValues CALL, ocppnet vs json + jsonschema.

The baseline is what mobilityhouse/ocpp does per message: ``json.loads`` and a cached
``jsonschema`` validator for the action's official schema. Both sides parse the same
bytes and validate the same payload; the script prints frames/s and the ratio.

    python benchmarks/bench_codec.py [--quick]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from importlib import resources

import jsonschema
import orjson

from ocppnet.rpc.codec import decode
from ocppnet.rpc.frames import Call
from ocppnet.validation import validate

VERSION = "2.0.1"
SAMPLE = {
    "value": 1234.5,
    "measurand": "Energy.Active.Import.Register",
    "unitOfMeasure": {"unit": "Wh"},
}
FRAME = orjson.dumps(
    [
        2,
        "0c2b4f2e-5d8b-4a9b-9a51-6f3a9a1c7d10",
        "MeterValues",
        {
            "evseId": 1,
            "meterValue": [
                {
                    "timestamp": "2024-05-01T10:00:00Z",
                    "sampledValue": [
                        SAMPLE,
                        {"value": 7.2, "measurand": "Power.Active.Import", "phase": "L1"},
                        {"value": 230.1, "measurand": "Voltage", "phase": "L1-N"},
                        {"value": 31.4, "measurand": "Current.Import", "phase": "L1"},
                    ],
                }
            ],
        },
    ]
)


def ocppnet_once() -> None:
    frame = decode(FRAME, version=VERSION)
    assert isinstance(frame, Call)
    assert validate(VERSION, frame.action, "request", frame.payload) is None


schema = json.loads(
    (resources.files("ocpp") / "v201" / "schemas" / "MeterValuesRequest.json").read_text("utf-8")
)
baseline_validator = jsonschema.Draft6Validator(schema)


def baseline_once() -> None:
    message = json.loads(FRAME)
    assert message[0] == 2 and isinstance(message[1], str)
    baseline_validator.validate(message[3])


def rate(fn: Callable[[], None], seconds: float) -> float:
    """Frames per second of ``fn`` measured for about ``seconds``."""
    fn()  # warm up (compiles the validator once)
    n, batch, start = 0, 200, time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        for _ in range(batch):
            fn()
        n += batch
    return n / elapsed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short run (< 3 s)")
    args = parser.parse_args(argv)
    seconds = 0.6 if args.quick else 3.0
    ours = rate(ocppnet_once, seconds)
    theirs = rate(baseline_once, seconds)
    sys.stdout.write(
        f"frame: MeterValues CALL, {len(FRAME)} bytes, OCPP {VERSION}\n"
        f"ocppnet decode+validate (orjson + fastjsonschema): {ours:12,.0f} frames/s\n"
        f"json.loads + jsonschema (cached validator):        {theirs:12,.0f} frames/s\n"
        f"ratio: {ours / theirs:.1f}x\n"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
