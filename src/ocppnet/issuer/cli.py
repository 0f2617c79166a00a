"""``ocppnet tariff publish|sign``: an issuer signs a tariff and sends it (or writes it)."""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from ocppnet.issuer.config import TariffIssuerSection
from ocppnet.issuer.publish import load_tariff_file, publish, signing_key, tariff_request
from ocppnet.participant import load_participant_config
from ocppnet.tariffs import sign_tariff, tariff_hash

__all__ = ["register"]


def register(sub: Any) -> None:
    parser = sub.add_parser("tariff", help="sign OCPP 2.1 tariffs and send them to stations")
    verbs = parser.add_subparsers(dest="verb", metavar="VERB", required=True)
    pub = verbs.add_parser("publish", help="sign a tariff and send it through the overlay")
    pub.add_argument("--config", required=True, help="the issuer's TOML file (emp.toml)")
    pub.add_argument("--tariff", required=True, help="a TariffType JSON file")
    pub.add_argument("--target", required=True, help="station id to send it to")
    pub.add_argument("--evse", type=int, default=0, help="EVSE id (0: the whole station)")
    pub.add_argument("--transaction", help="ChangeTransactionTariff for this transaction")
    pub.set_defaults(func=_publish)
    sign = verbs.add_parser("sign", help="sign a tariff and write it (no network)")
    sign.add_argument("--config", required=True, help="the issuer's TOML file (emp.toml)")
    sign.add_argument("--tariff", required=True, help="a TariffType JSON file")
    sign.add_argument("--out", required=True, help="where to write the signed tariff")
    sign.set_defaults(func=_sign)


def _publish(args: argparse.Namespace) -> int:
    config = load_participant_config(args.config, TariffIssuerSection, "tariff")
    tariff = load_tariff_file(args.tariff)
    action, signed, response = asyncio.run(_send(config, tariff, args))
    status = response.get("status")
    print(f"{action} {tariff['tariffId']} (sha256 {tariff_hash(signed)[:16]}) -> "
          f"{args.target}: {status}")
    if status != "Accepted":
        info = response.get("statusInfo", {})
        detail = f" ({info.get('reasonCode')}: {info.get('additionalInfo', '')})" if info else ""
        print(f"ocppnet tariff: {args.target} answered {status}{detail}", file=sys.stderr)
        return 1
    return 0


async def _send(config: Any, tariff: dict[str, Any],
                args: argparse.Namespace) -> tuple[str, dict[str, Any], dict[str, Any]]:
    return await publish(config, tariff, args.target, evse_id=args.evse,
                         transaction_id=args.transaction)


def _sign(args: argparse.Namespace) -> int:
    config = load_participant_config(args.config, TariffIssuerSection, "tariff")
    tariff = load_tariff_file(args.tariff)
    assert config.app is not None
    signed = sign_tariff(tariff, signing_key(config), now=datetime.now(UTC),
                         name=config.app.issuer_name)
    tariff_request(signed)
    Path(args.out).write_bytes(orjson.dumps(signed, option=orjson.OPT_INDENT_2))
    print(f"signed {tariff['tariffId']} (sha256 {tariff_hash(signed)}) -> {args.out}")
    return 0
