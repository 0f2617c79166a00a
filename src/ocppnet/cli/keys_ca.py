"""``ocppnet keys ca new|issue|revoke|crl|list``: an owner CA for signer certificates.

A station that trusts the CA (its certificate in the station's ``[security] trust``) accepts
signatures of every key the CA certified and not revoked; the CRL that ``crl`` writes goes
into the same trust list (docs/signatures.md, "Signer certificates").
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from cryptography.hazmat.primitives import serialization

from ocppnet.security.ca_store import CaStore
from ocppnet.security.certificates import CertificateError
from ocppnet.security.keys import KEY_ALGORITHMS, KeyMaterialError, load_public_pem
from ocppnet.security.keystore import KeyStore, KeyStoreError

__all__ = ["register_ca"]


def register_ca(
    actions: argparse._SubParsersAction,  # type: ignore[type-arg]
    store_option: Callable[[argparse.ArgumentParser], None],
) -> None:
    ca = actions.add_parser("ca", help="an owner CA: issue and revoke signer certificates")
    verbs = ca.add_subparsers(dest="ca_command", metavar="ACTION", required=True)

    new = verbs.add_parser("new", help="create a CA key and self-signed CA certificate")
    store_option(new)
    new.add_argument("--name", required=True, help="name of the CA in the store")
    new.add_argument("--subject", help="CA common name (default: the name)")
    new.add_argument("--algorithm", default="secp256r1", choices=KEY_ALGORITHMS)
    new.add_argument("--days", type=int, default=3650)
    new.set_defaults(func=_guard(_new))

    issue = verbs.add_parser("issue", help="certify a signing key (writes <key>.crt.pem)")
    store_option(issue)
    issue.add_argument("--ca", required=True, help="CA name in the store")
    group = issue.add_mutually_exclusive_group(required=True)
    group.add_argument("--key", help="a key of the same store to certify")
    group.add_argument("--public", metavar="PEM", help="a public key file to certify")
    issue.add_argument("--subject", help="certificate common name (roles may name it)")
    issue.add_argument("--days", type=int, default=365)
    issue.add_argument("--out", metavar="FILE", help="with --public: where to write the PEM")
    issue.set_defaults(func=_guard(_issue))

    revoke = verbs.add_parser("revoke", help="revoke a certificate (by serial or subject)")
    store_option(revoke)
    revoke.add_argument("--ca", required=True)
    which = revoke.add_mutually_exclusive_group(required=True)
    which.add_argument("--serial", help="hex serial (see 'keys ca list')")
    which.add_argument("--subject", help="every live certificate of this subject")
    revoke.set_defaults(func=_guard(_revoke))

    crl = verbs.add_parser("crl", help="write the CA's CRL as PEM")
    store_option(crl)
    crl.add_argument("--ca", required=True)
    crl.add_argument("--days", type=int, default=7, help="validity (next update) in days")
    crl.add_argument("--out", metavar="FILE", help="default: <store>/<ca>.crl.pem")
    crl.set_defaults(func=_guard(_crl))

    listing = verbs.add_parser("list", help="list issued certificates")
    store_option(listing)
    listing.add_argument("--ca", required=True)
    listing.set_defaults(func=_guard(_list))


def _guard(func: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        try:
            return func(args)
        except (KeyStoreError, KeyMaterialError, CertificateError) as exc:
            print(f"ocppnet keys ca {args.ca_command}: {exc}", file=sys.stderr)
            return 1
        except OSError as exc:
            where = f" ({exc.filename})" if exc.filename else ""
            print(f"ocppnet keys ca {args.ca_command}: {exc.strerror or exc}{where}",
                  file=sys.stderr)
            return 1

    return run


def _now() -> datetime:
    return datetime.now(UTC)


def _ca(args: argparse.Namespace) -> CaStore:
    return CaStore(KeyStore(args.store), args.ca)


def _new(args: argparse.Namespace) -> int:
    ca = CaStore(KeyStore(args.store), args.name)
    cert = ca.create(now=_now(), algorithm=args.algorithm, days=args.days, subject=args.subject)
    print(f"{args.name} {ca.certificate_path} x5t#S256={ca.thumbprint()} "
          f"until {cert.not_valid_after_utc:%Y-%m-%d}")
    return 0


def _issue(args: argparse.Namespace) -> int:
    ca = _ca(args)
    if args.key:
        cert = ca.issue_for_key(args.key, subject=args.subject, now=_now(), days=args.days)
        where = str(Path(args.store) / f"{args.key}.crt.pem")
    else:
        if not args.subject:
            raise KeyStoreError("--public needs --subject")
        public = load_public_pem(Path(args.public).read_bytes())
        cert = ca.issue(public, subject=args.subject, now=_now(), days=args.days)
        pem = cert.public_bytes(serialization.Encoding.PEM)
        if args.out:
            Path(args.out).write_bytes(pem)
            where = args.out
        else:
            sys.stdout.write(pem.decode("ascii"))
            return 0
    print(f"{where} serial={cert.serial_number:x} until {cert.not_valid_after_utc:%Y-%m-%d}")
    return 0


def _revoke(args: argparse.Namespace) -> int:
    serial = int(args.serial, 16) if args.serial else None
    for s in _ca(args).revoke(serial=serial, subject=args.subject, now=_now()):
        print(f"revoked serial={s:x}")
    print("run 'ocppnet keys ca crl' and hand the CRL to the verifiers (or send "
          "RevokeTrustedKey)", file=sys.stderr)
    return 0


def _crl(args: argparse.Namespace) -> int:
    ca = _ca(args)
    crl = ca.crl(now=_now(), days=args.days)
    out = Path(args.out) if args.out else Path(args.store) / f"{args.ca}.crl.pem"
    tmp = out.with_suffix(out.suffix + ".tmp")
    tmp.write_bytes(crl.public_bytes(serialization.Encoding.PEM))
    tmp.replace(out)
    print(f"{out} {len(list(crl))} revoked, next update "
          f"{crl.next_update_utc:%Y-%m-%dT%H:%M:%SZ}")
    return 0


def _list(args: argparse.Namespace) -> int:
    for i in _ca(args).issued():
        state = f"revoked {i.revoked_at}" if i.revoked_at else "valid"
        print(f"{i.serial:x}\t{i.subject}\t{i.not_after}\t{state}")
    return 0
