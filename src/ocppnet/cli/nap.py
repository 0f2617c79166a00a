"""``ocppnet nap export|verify``: signed access-point exports (AFIR) as files, and their check.

``export`` reads the site data and the CSMS store and writes ``DIR/NAME.xml`` or ``.json``
with the detached JWS beside it (``NAME.xml.jws``), signed by a key of the key store
(``ocppnet keys new``). ``verify`` checks such a pair against trusted public keys (a key
store, or PEM files), with ``--schema`` also against an XML schema, and exits 0 only when
all holds. Failures are one line on stderr.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from lxml import etree

from ocppnet.csms.nap_config import load_nap
from ocppnet.csms.nap_source import NapSource
from ocppnet.errors import ConfigError
from ocppnet.nap.detached_jws import DetachedJwsError, verify_detached
from ocppnet.nap.publication import Publication
from ocppnet.nap.sites import Sites, load_sites
from ocppnet.security.keys import (
    KeyMaterialError,
    PrivateKey,
    PublicKey,
    key_id,
    load_public_pem,
)
from ocppnet.security.keystore import KeyStore, KeyStoreError
from ocppnet.store.location import open_store
from ocppnet.store.records import StoreError

__all__ = ["register"]

FORMATS = ("datex2", "ocpi", "stats")


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    nap = subparsers.add_parser("nap", help="access-point exports (AFIR): DATEX II, OCPI, "
                                "statistics, signed")
    actions = nap.add_subparsers(dest="nap_command", metavar="ACTION", required=True)

    export = actions.add_parser("export", help="write signed publications to a directory")
    export.add_argument("--config", metavar="TOML",
                        help="a CSMS file with [nap] (sites, signing key) instead of "
                        "--sites/--keys/--key")
    export.add_argument("--sites", metavar="TOML", help="site data ([sites])")
    export.add_argument("--db", required=True, metavar="LOCATION",
                        help="the CSMS store: SQLite file or postgresql:// URL")
    export.add_argument("--format", required=True, choices=FORMATS)
    export.add_argument("--out", required=True, metavar="DIR")
    export.add_argument("--keys", default="keys", metavar="DIR", help="key store directory")
    export.add_argument("--key", metavar="NAME", help="operator's signing key")
    export.add_argument("--from", dest="first", type=date.fromisoformat, metavar="YYYY-MM-DD",
                        help="statistics: first day (default: 6 days before --to)")
    export.add_argument("--to", dest="last", type=date.fromisoformat, metavar="YYYY-MM-DD",
                        help="statistics: last day (default: today, UTC)")
    export.set_defaults(func=_guard(_export))

    verify = actions.add_parser("verify", help="check a publication's detached JWS")
    verify.add_argument("file", help="the exported publication")
    verify.add_argument("--signature", metavar="JWS", help="default: FILE.jws")
    verify.add_argument("--keys", metavar="DIR", help="trust every public key of a key store")
    verify.add_argument("--public-key", action="append", default=[], metavar="PEM",
                        help="trust this public key (repeatable)")
    verify.add_argument("--schema", metavar="XSD",
                        help="also validate an XML publication (e.g. DATEXII_3_D2Payload.xsd)")
    verify.set_defaults(func=_guard(_verify))


def _guard(func: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        try:
            return func(args)
        except (ConfigError, StoreError) as exc:
            print(f"ocppnet nap {args.nap_command}: {exc.description or exc}", file=sys.stderr)
            return 2
        except (KeyStoreError, KeyMaterialError, DetachedJwsError, ValueError) as exc:
            print(f"ocppnet nap {args.nap_command}: {exc}", file=sys.stderr)
            return 1
        except OSError as exc:
            where = f" ({exc.filename})" if exc.filename else ""
            print(f"ocppnet nap {args.nap_command}: {exc.strerror or exc}{where}",
                  file=sys.stderr)
            return 1

    return run


def _sites_and_key(args: argparse.Namespace) -> tuple[Sites, PrivateKey]:
    if args.config:
        settings = load_nap(args.config)
        if settings is None:
            raise ConfigError(f"{args.config}: nap: missing [nap] table")
        sites, key = settings.sites, settings.key
    elif not args.sites or not args.key:
        raise ValueError("give --config FILE, or --sites FILE and --key NAME")
    if args.sites:
        sites = load_sites(args.sites)
    if args.key:
        key = KeyStore(args.keys).key_pair(args.key).private_key
    return sites, key


def _export(args: argparse.Namespace) -> int:
    sites, key = _sites_and_key(args)
    if "://" not in args.db and not Path(args.db).is_file():
        raise FileNotFoundError(2, "no such store", args.db)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    pubs = asyncio.run(_build(args, sites, key))
    for pub in pubs:
        path = out / pub.file_name
        path.write_bytes(pub.body)
        path.with_name(path.name + ".jws").write_text(pub.signature + "\n", encoding="ascii")
        print(f"{path} {len(pub.body)} bytes etag={pub.etag}")
    return 0


async def _build(args: argparse.Namespace, sites: Sites, key: PrivateKey) -> list[Publication]:
    store = open_store(args.db)
    await store.open()
    try:
        source = NapSource(store, sites, key)
        if args.format == "datex2":
            return [await source.datex2_table(), await source.datex2_status()]
        if args.format == "ocpi":
            return [await source.ocpi_all()]
        last = args.last or datetime.now(UTC).date()
        first = args.first or last - timedelta(days=6)
        if first > last:
            raise ValueError(f"--from {first} is after --to {last}")
        return [await source.statistics(first, last)]
    finally:
        await store.close()


def _trusted(args: argparse.Namespace) -> dict[str, PublicKey]:
    trusted: dict[str, PublicKey] = {}
    if args.keys:
        store = KeyStore(args.keys)
        for info in store.list_keys():
            trusted[info.key_id] = store.public_key(info.name)
    for pem in args.public_key:
        try:
            key = load_public_pem(Path(pem).read_bytes())
        except KeyMaterialError as exc:
            raise KeyMaterialError(f"{pem}: {exc}") from None
        trusted[key_id(key)] = key
    if not trusted:
        raise ValueError("no trusted key: give --keys DIR or --public-key PEM")
    return trusted


def _verify(args: argparse.Namespace) -> int:
    content = Path(args.file).read_bytes()
    signature_path = Path(args.signature or f"{args.file}.jws")
    signature = signature_path.read_text(encoding="ascii", errors="replace")
    try:
        verdict = verify_detached(content, signature, _trusted(args))
    except DetachedJwsError as exc:
        print(f"ocppnet nap verify: {args.file}: invalid: {exc}", file=sys.stderr)
        return 1
    if args.schema:
        problem = _schema_problem(content, args.schema)
        if problem is not None:
            print(f"ocppnet nap verify: {args.file}: signed, but {problem}", file=sys.stderr)
            return 1
    print(f"{args.file}: valid, signed by {verdict.key_id} ({verdict.algorithm})")
    return 0


def _schema_problem(content: bytes, schema_path: str) -> str | None:
    """None when ``content`` validates against the XSD, else one line saying why not."""
    try:
        schema = etree.XMLSchema(etree.parse(schema_path))
    except (etree.XMLSchemaParseError, etree.XMLSyntaxError) as exc:
        raise ValueError(f"{schema_path}: not a usable XML schema: {exc}") from None
    try:
        document = etree.fromstring(content)
    except etree.XMLSyntaxError as exc:
        return f"not XML: {exc}"
    try:
        schema.assertValid(document)
    except etree.DocumentInvalid as exc:
        return f"not valid against {Path(schema_path).name}: {exc}"
    return None

