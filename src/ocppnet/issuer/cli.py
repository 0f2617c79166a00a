"""``ocppnet tariff publish|sign|verify|cost``: an issuer signs a tariff and sends it (or writes
it); anyone checks a signed tariff against their own ``[security]`` or prices meter values."""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import orjson

from ocppnet.config import load_section
from ocppnet.errors import ConfigError
from ocppnet.issuer.config import TariffIssuerSection
from ocppnet.issuer.publish import load_tariff_file, publish, signing_key, tariff_request
from ocppnet.participant import load_participant_config
from ocppnet.security.settings import SecuritySection, build_security
from ocppnet.tariffs import (
    Context,
    compute_cost,
    parse_tariff,
    readings_from_meter_values,
    sign_tariff,
    tariff_hash,
    verify_tariff,
)

__all__ = ["register"]


def register(sub: Any) -> None:
    parser = sub.add_parser("tariff", help="sign, send, verify and price OCPP 2.1 tariffs")
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
    check = verbs.add_parser("verify", help="check a signed tariff's issuer against [security]")
    check.add_argument("--security", required=True,
                       help="a TOML file with a [security] table (a station's, a CSMS's)")
    check.add_argument("--tariff", required=True, help="a signed TariffType JSON file")
    check.add_argument("--action", default="SetDefaultTariff",
                       choices=("SetDefaultTariff", "ChangeTransactionTariff"),
                       help="the action the issuer's role must allow")
    check.set_defaults(func=_verify)
    cost = verbs.add_parser("cost", help="price OCPP meter values under a tariff (costDetails)")
    cost.add_argument("--tariff", required=True, help="a TariffType JSON file")
    cost.add_argument("--meter-values", required=True,
                      help="a JSON array of OCPP 2.x MeterValueType (the transaction's readings)")
    cost.add_argument("--tz", default="UTC", help="the tariff's time zone (e.g. Europe/Berlin)")
    cost.add_argument("--decimals", type=int, default=2, help="decimals of the amounts")
    cost.set_defaults(func=_cost)


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


def _verify(args: argparse.Namespace) -> int:
    section = load_section(args.security, "security", SecuritySection)
    security = build_security(section, source=args.security)
    tariff = load_tariff_file(args.tariff)
    payload: dict[str, Any] = {"tariff": tariff}
    payload.update({"evseId": 0} if args.action == "SetDefaultTariff" else {"transactionId": "-"})
    verified = verify_tariff(tariff, security, action=args.action, payload=payload,
                             now=datetime.now(UTC))
    print(f"{tariff['tariffId']}: valid, issuer {verified.issuer or '-'} "
          f"(key {verified.issuer_key_id}), roles {', '.join(sorted(verified.roles))}, "
          f"sha256 {verified.hash}")
    return 0


def _cost(args: argparse.Namespace) -> int:
    tariff = parse_tariff(load_tariff_file(args.tariff))
    try:
        meter_values = orjson.loads(Path(args.meter_values).read_bytes())
    except orjson.JSONDecodeError as exc:
        raise ConfigError(f"{args.meter_values}: not JSON: {exc}") from None
    if not isinstance(meter_values, list):
        raise ConfigError(f"{args.meter_values}: expected a JSON array of MeterValueType")
    try:
        zone = ZoneInfo(args.tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"--tz: unknown time zone {args.tz!r}") from None
    readings = readings_from_meter_values(meter_values, where=args.meter_values)
    result = compute_cost(tariff, readings, context=Context(zone), decimals=args.decimals)
    sys.stdout.write(orjson.dumps(result.cost_details(), option=orjson.OPT_INDENT_2).decode())
    sys.stdout.write("\n")
    return 0
