"""``ocppnet ocmf verify FILE|-``: check OCMF records or a transparency file, record by record.
``ocppnet ocmf key --store DIR STATION``: print a simulated meter's public key (for
``[metering] trusted_keys``).

Prints one line per record (``valid`` or ``INVALID`` and why) and, for records a transparency
file groups under one transaction, the energy between the signed begin and end readings or
what is wrong with them. Exit 0 only when every record verifies (``--strict``: and every
transaction check passes); 1 when one does not; 2 when the input cannot be read.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ocppnet.metering import (
    DocumentReport,
    MeterPublicKey,
    OcmfError,
    parse_public_key,
    verify_document,
)

__all__ = ["register"]


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the ``ocmf`` subcommand (calibration law: signed meter values)."""
    ocmf = subparsers.add_parser("ocmf", help="OCMF signed meter values (calibration law)")
    actions = ocmf.add_subparsers(dest="ocmf_command", metavar="ACTION", required=True)
    verify = actions.add_parser(
        "verify", help="verify OCMF records or a transparency XML file")
    verify.add_argument("file", help="a file with OCMF records or transparency XML; - for stdin")
    verify.add_argument("--public-key", metavar="KEY",
                        help="the meter's public key known out of band (hex or base64 DER, "
                             "or @FILE); overrides keys carried in the file")
    verify.add_argument("--strict", action="store_true",
                        help="also fail on transaction problems and spec deviations")
    verify.set_defaults(func=_verify)
    key = actions.add_parser("key", help="print a simulated station's meter public key")
    key.add_argument("station", help="station id (the key is meter-<station> in the store)")
    key.add_argument("--store", required=True, metavar="DIR",
                     help="the key store given to ocppnet station --meter-keys")
    key.add_argument("--base64", action="store_true", help="base64 instead of hex DER")
    key.set_defaults(func=_key_of)


def _key_of(args: argparse.Namespace) -> int:
    from ocppnet.security.keystore import KeyStore, KeyStoreError
    from ocppnet.station.signed_meter import meter_key_name

    try:
        pem = KeyStore(args.store).public_pem(meter_key_name(args.station))
        public = parse_public_key(pem.decode("ascii"), "meter key")
    except (KeyStoreError, OcmfError) as exc:
        print(f"ocppnet ocmf key: {exc}", file=sys.stderr)
        return 2
    print(public.base64() if args.base64 else public.hex())
    return 0


def _read(name: str) -> bytes:
    if name == "-":
        return sys.stdin.buffer.read()
    return Path(name).read_bytes()


def _key(value: str | None) -> MeterPublicKey | None:
    if value is None:
        return None
    if value.startswith("@"):
        value = Path(value[1:]).read_text(encoding="utf-8")
    return parse_public_key(value, "--public-key")


def _print(report: DocumentReport, strict: bool) -> bool:
    ok = report.all_valid
    for item in report.records:
        word = "valid" if item.verdict.valid else "INVALID"
        print(f"{item.label}: {word}: {item.verdict.reason}")
        issues = item.record.issues if item.record is not None else ()
        for issue in issues:
            print(f"{item.label}: note: {issue}")
        if strict and issues:
            ok = False
    for tx, check in report.transactions.items():
        if check.ok:
            started = check.started.isoformat() if check.started else "?"
            stopped = check.stopped.isoformat() if check.stopped else "?"
            print(f"transaction {tx}: ok: {check.energy} {check.unit} from meter "
                  f"{check.meter_serial or '?'}, {started} to {stopped}")
        for problem in check.problems:
            print(f"transaction {tx}: problem: {problem}")
        if strict and not check.ok:
            ok = False
    return ok


def _verify(args: argparse.Namespace) -> int:
    source = "stdin" if args.file == "-" else args.file
    try:
        report = verify_document(_read(args.file), _key(args.public_key), source)
    except OcmfError as exc:
        print(f"ocppnet ocmf verify: {exc}", file=sys.stderr)
        return 2
    except UnicodeDecodeError:
        print(f"ocppnet ocmf verify: {source}: not UTF-8 text", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"ocppnet ocmf verify: {exc.filename or source}: {exc.strerror or exc}",
              file=sys.stderr)
        return 2
    return 0 if _print(report, args.strict) else 1
