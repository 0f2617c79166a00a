"""``ocppnet webpay run --config webpay.toml``: the web-payment participant.

``ocppnet webpay station --config station.toml``: a simulated 2.1 station with its
WebPaymentsCtrlr and a display page showing its QR code (:mod:`ocppnet.station.webpay_run`).

The web-payment TOML file has ``[participant]`` (id, upstreams, ``http_port`` where the
phone page is served), ``[security]`` and ``[api]`` (both optional; ``[api]`` holds the
tokens of ``/metrics``) and ``[webpay]`` (:mod:`ocppnet.webpay_service.config`).
Bad input is one line on stderr and exit 2 (the main CLI turns ConfigError into that).
"""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

from ocppnet.api import ApiSection, token_table
from ocppnet.participant import Participant, load_participant_config, run_until_stopped
from ocppnet.webpay_service.app import webpay_app
from ocppnet.webpay_service.config import WebpaySection
from ocppnet.webpay_service.service import WebPaymentService


def register(subparsers: Any) -> None:
    """Add ``webpay`` (with ``run``) to the main parser's subparsers."""
    p: argparse.ArgumentParser = subparsers.add_parser(
        "webpay", help="ad hoc payment by QR code (OCPP 2.1 C25) with an encrypted channel",
        description="The web-payment participant: the page a station's QR code opens.")
    verbs = p.add_subparsers(dest="verb", metavar="VERB", required=True)
    run_p = verbs.add_parser("run", help="serve the phone page and join the overlay")
    run_p.add_argument("--config", required=True, help="TOML file (see examples/webpay.toml)")
    run_p.add_argument("--duration", type=float, default=None,
                       help="stop after this many seconds (default: until Ctrl-C)")
    run_p.set_defaults(func=run)
    station_p = verbs.add_parser(
        "station", help="a simulated OCPP 2.1 station with WebPaymentsCtrlr and a QR display")
    station_p.add_argument("--config", required=True,
                           help="TOML file (see examples/webpay-station.toml)")
    station_p.add_argument("--duration", type=float, default=None,
                           help="stop after this many seconds (default: until Ctrl-C)")
    station_p.set_defaults(func=station)


def build(path: str) -> tuple[Participant, WebPaymentService]:
    """The participant and its service from the TOML file (ConfigError names file and key)."""
    file = load_participant_config(path, WebpaySection, "webpay")
    assert file.app is not None
    participant = Participant(file.participant, security=file.security)
    service = WebPaymentService(file.app, participant)
    participant.http_app = webpay_app(service, auth=token_table(file.section(ApiSection, "api")))
    return participant, service


def run(args: argparse.Namespace) -> int:
    participant, _ = build(args.config)
    return asyncio.run(run_until_stopped(participant, banner="webpay", duration=args.duration))


def station(args: argparse.Namespace) -> int:
    from ocppnet.station.webpay_run import load_station_file, run_station

    return asyncio.run(run_station(load_station_file(args.config), args.duration))
