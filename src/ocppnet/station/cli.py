"""``ocppnet station``: one simulated station, or ``--count N`` of them for load.

Registered by the main CLI with :func:`register`; the subcommand returns an exit code and
turns bad input into one line on stderr (exit 2), never a traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import ssl
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from ocppnet.errors import ConfigError
from ocppnet.rpc.versions import VERSIONS
from ocppnet.security.context import SecurityContext
from ocppnet.security.settings import load_security
from ocppnet.station.fleet import Fleet, FleetConfig, station_ids
from ocppnet.station.model import StationConfig
from ocppnet.station.profile_store import Electrical
from ocppnet.station.scenario import Scenario
from ocppnet.station.signed_meter import MeterSigning
from ocppnet.station.telemetry import TelemetryPlan
from ocppnet.telemetry.streams import QUANTITIES


def register(subparsers: Any) -> None:
    """Add the ``station`` subcommand to the main parser's subparsers."""
    p: argparse.ArgumentParser = subparsers.add_parser(
        "station", help="simulated charging station(s)",
        description="Run simulated OCPP charging stations against a CSMS or a node.")
    p.add_argument("--url", required=True, help="CSMS/node base URL, e.g. ws://127.0.0.1:9000/ocpp "
                   "(the station id is appended)")
    p.add_argument("--id", default=None, help="station id, or a pattern with --count "
                   "(default CS-{:05d})")
    p.add_argument("--count", type=int, default=1, help="number of stations (default 1)")
    p.add_argument("--version", choices=VERSIONS, default="2.0.1", help="OCPP version")
    p.add_argument("--password", help="HTTP Basic password (security profile 1/2)")
    p.add_argument("--ca-file", help="CA bundle to verify the server (wss://)")
    p.add_argument("--cert", help="client certificate (security profile 3)")
    p.add_argument("--key", help="client private key for --cert")
    p.add_argument("--duration", type=float, default=None,
                   help="stop after this many seconds (default: until Ctrl-C)")
    p.add_argument("--rate", type=float, default=50.0, help="new connections per second")
    p.add_argument("--speed", type=float, default=1.0,
                   help="simulated seconds per real second (compress time)")
    p.add_argument("--meter-interval", type=float, default=60.0,
                   help="meter value interval, simulated seconds")
    p.add_argument("--heartbeat", type=float, default=None,
                   help="heartbeat interval, simulated seconds (default: from the CSMS)")
    p.add_argument("--idle", type=float, default=600.0,
                   help="mean time between sessions per EVSE, simulated seconds")
    p.add_argument("--session", type=float, default=1800.0,
                   help="charging time per session, simulated seconds")
    p.add_argument("--no-auto", action="store_true",
                   help="no simulated drivers: only boot, heartbeat and CSMS requests")
    p.add_argument("--id-token", default="SIMTOKEN01", help="token the drivers present")
    p.add_argument("--evses", type=int, default=1, help="EVSEs per station")
    p.add_argument("--max-power", type=float, default=22_000.0, help="EVSE max power, W")
    p.add_argument("--voltage", type=float, default=230.0, help="for A limits, V per phase")
    p.add_argument("--phases", type=int, default=3, choices=(1, 2, 3))
    p.add_argument("--seed", type=int, default=0, help="random seed of the drivers")
    p.add_argument("--progress-interval", type=float, default=1.0, help="seconds")
    p.add_argument("--security", metavar="TOML", help="a TOML file whose [security] table the "
                   "stations enforce on what they receive and sign with (docs/signatures.md)")
    p.add_argument("--queue-file", metavar="PATH", default=None,
                   help="SQLite file keeping the stations' offline queues across restarts "
                        "(default: in memory, lost when the process ends)")
    p.add_argument("--telemetry", metavar="QUANTITIES", default=None,
                   help="stream periodic events (2.1): 'all' or a list such as power,soc "
                        f"(of {','.join(QUANTITIES)})")
    p.add_argument("--telemetry-interval", type=float, default=1.0,
                   help="seconds (simulated) between two samples (default 1)")
    p.add_argument("--telemetry-batch", type=int, default=10,
                   help="samples per NotifyPeriodicEventStream (default 10)")
    p.add_argument("--telemetry-keys", metavar="DIR", default=None,
                   help="key store with one signing key per station (made on first use); "
                        "a twin trusts its *.pub.pem files")
    p.add_argument("--meter-keys", metavar="DIR",
                   help="sign begin/end readings (OCMF, calibration law) with a meter key per "
                        "station, kept in this key store directory (created on first use)")
    p.add_argument("--signed-meter-interval", type=float, default=None, metavar="S",
                   help="with --meter-keys, also sign periodic samples every S simulated s")
    p.add_argument("--public-key-with-signed-meter-value", default="once",
                   choices=("never", "once", "every"),
                   help="send the meter's public key: never, once per transaction, every value")
    p.set_defaults(func=run)


class _BadInput(Exception):
    pass


def _ssl_context(args: argparse.Namespace) -> ssl.SSLContext | None:
    if urlparse(args.url).scheme != "wss":
        if args.ca_file or args.cert:
            raise _BadInput("--ca-file/--cert need a wss:// URL")
        return None
    if bool(args.cert) != bool(args.key):
        raise _BadInput("--cert and --key go together")
    try:
        context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=args.ca_file)
        if args.cert:
            context.load_cert_chain(args.cert, args.key)
    except (OSError, ssl.SSLError) as exc:
        raise _BadInput(f"cannot load TLS files: {exc}") from None
    return context


def _security(path: str | None) -> SecurityContext | None:
    """``--security FILE``: its [security] table, built at start (ConfigError: one line)."""
    if path is None:
        return None
    security = load_security(path)
    if security is None:
        raise _BadInput(f"{path}: no [security] table")
    return security


def _telemetry(args: argparse.Namespace) -> TelemetryPlan | None:
    """The --telemetry flags as a plan (None: no streams); ValueError names the flag."""
    if args.telemetry is None:
        if args.telemetry_keys is not None:
            raise ValueError("--telemetry-keys needs --telemetry")
        return None
    wanted = tuple(QUANTITIES) if args.telemetry == "all" else tuple(
        q.strip() for q in args.telemetry.split(",") if q.strip())
    unknown = [q for q in wanted if q not in QUANTITIES]
    if unknown or not wanted:
        raise ValueError(f"--telemetry: unknown quantity {unknown[0] if unknown else '(none)'!r}"
                         f"; expected 'all' or some of {','.join(QUANTITIES)}")
    try:
        return TelemetryPlan(quantities=wanted, interval_s=args.telemetry_interval,
                             batch=args.telemetry_batch)
    except ValueError as exc:
        raise ValueError(f"--telemetry-interval/--telemetry-batch: {exc}") from None


def build_config(args: argparse.Namespace) -> FleetConfig:
    """The fleet configuration from parsed arguments; raises ValueError for bad input."""
    scheme = urlparse(args.url).scheme
    if scheme not in ("ws", "wss"):
        raise _BadInput(f"--url must start with ws:// or wss://, not {args.url!r}")
    pattern = args.id or ("CS-{:05d}" if args.count > 1 else "CS-00001")
    try:
        station_ids(pattern, args.count)
        return FleetConfig(
            url=args.url, count=args.count, id_pattern=pattern, version=args.version,
            rate=args.rate, password=args.password, ssl_context=_ssl_context(args),
            scenario=Scenario(auto=not args.no_auto, idle_s=args.idle, session_s=args.session,
                              meter_interval_s=args.meter_interval, heartbeat_s=args.heartbeat,
                              id_token=args.id_token),
            station=StationConfig(
                evse_count=args.evses, evse_max_power_w=args.max_power,
                electrical=Electrical(args.voltage, args.phases)),
            speed=args.speed, progress_interval_s=args.progress_interval, seed=args.seed,
            telemetry=_telemetry(args),
            telemetry_keys=Path(args.telemetry_keys) if args.telemetry_keys else None,
            meter_keys=Path(args.meter_keys) if args.meter_keys else None,
            meter_signing=MeterSigning(public_key=args.public_key_with_signed_meter_value,
                                       periodic_s=args.signed_meter_interval),
            security=_security(args.security),
            queue_file=Path(args.queue_file) if args.queue_file else None)
    except ValueError as exc:
        raise _BadInput(str(exc)) from None


def run(args: argparse.Namespace) -> int:
    """The ``station`` subcommand; returns the exit code."""
    try:
        config = build_config(args)
        if args.duration is not None and args.duration <= 0:
            raise _BadInput("--duration must be > 0")
    except (_BadInput, ConfigError) as exc:
        print(f"ocppnet station: {exc}", file=sys.stderr)
        return 2
    return asyncio.run(_run(config, args.duration))


async def _run(config: FleetConfig, duration: float | None) -> int:
    try:
        fleet = Fleet(config)
    except ValueError as exc:  # e.g. a queue file that cannot be opened
        print(f"ocppnet station: {exc}", file=sys.stderr)
        return 2
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, fleet.stop)
    summary = await fleet.run(duration)
    return 0 if summary.boots_accepted else 1
