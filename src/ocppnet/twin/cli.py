"""``ocppnet twin run --config twin.toml``: the digital twin as a participant on the overlay.

The file has ``[participant]`` (version 2.1: streams are SEND frames), ``[security]`` (the
stations' public keys in ``trust``, each file named after its station) and ``[twin]``
(examples/twin.toml). A bad file or a busy port end the command with one line on stderr.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
from pathlib import Path
from typing import Any

from ocppnet.api import ApiSection
from ocppnet.cli.main import run_async
from ocppnet.errors import ConfigError
from ocppnet.participant import Participant, load_participant_config, run_until_stopped
from ocppnet.security.trust import TrustStore
from ocppnet.twin.service import TwinSection, TwinService
from ocppnet.twin.store import open_series_store
from ocppnet.twin.web import twin_app

__all__ = ["build", "register"]


def register(subparsers: Any) -> None:
    p: argparse.ArgumentParser = subparsers.add_parser(
        "twin", help="the digital twin: verified telemetry, time series, charts",
        description="Run the digital twin, an analytics participant on the overlay.")
    sub = p.add_subparsers(dest="twin_command", metavar="COMMAND", required=True)
    run_p = sub.add_parser("run", help="run the twin service")
    run_p.add_argument("--config", required=True, help="TOML file (examples/twin.toml)")
    run_p.add_argument("--duration", type=float, default=None,
                       help="stop after this many seconds (default: until Ctrl-C)")
    run_p.set_defaults(func=run)


def build(path: str | Path) -> tuple[Participant, TwinService]:
    """The twin participant and its service from one TOML file (ConfigError names the key)."""
    loaded = load_participant_config(path, TwinSection, "twin")
    section = loaded.app or TwinSection()
    if loaded.participant.version != "2.1":
        raise ConfigError(f"{path}: participant.version: a twin receives SEND frames "
                          f"(periodic event streams): use \"2.1\"")
    store_location = section.store
    if store_location != ":memory:" and "://" not in store_location:
        store_location = str(Path(path).parent / store_location)
    service = TwinService(section,
                          loaded.security.trust if loaded.security else TrustStore(),
                          open_series_store(store_location))
    api = loaded.section(ApiSection, "api")
    participant = Participant(loaded.participant, http_app=twin_app(service, auth=api))
    service.register(participant.handlers)
    return participant, service


def run(args: argparse.Namespace) -> int:
    if args.duration is not None and args.duration <= 0:
        raise ConfigError("--duration must be > 0")
    participant, service = build(args.config)
    return run_async(_run(participant, service, args.duration))


async def _run(participant: Participant, service: TwinService, duration: float | None) -> int:
    await service.store.open()
    try:
        return await run_until_stopped(participant, banner="twin", duration=duration,
                                       also=service.compact_forever)
    finally:
        with contextlib.suppress(asyncio.CancelledError):
            await service.store.close()
