"""``ocppnet keys new|list|export|fingerprint|ca``: manage a node's signing keys (``ca``: an
owner CA for signer certificates, cli/keys_ca.py).

Private keys are written by the key store with mode 0600 and never printed; ``export`` prints
the public key only. Failures print one line to stderr and return a non-zero exit code.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

from ocppnet.cli.keys_ca import register_ca
from ocppnet.security.keys import (
    KEY_ALGORITHMS,
    KeyMaterialError,
    key_id,
    load_private_pem,
    load_public_pem,
)
from ocppnet.security.keystore import KeyStore, KeyStoreError

__all__ = ["register"]

_DEFAULT_STORE = "keys"


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the ``keys`` subcommand and its actions to the main parser."""
    keys = subparsers.add_parser("keys", help="manage signing keys (end-to-end signatures)")
    actions = keys.add_subparsers(dest="keys_command", metavar="ACTION", required=True)

    new = actions.add_parser("new", help="generate a key pair")
    _store(new)
    new.add_argument("--name", required=True, help="name of the key in the store")
    new.add_argument("--algorithm", default="secp256r1", choices=KEY_ALGORITHMS)
    new.set_defaults(func=_guard(_new))

    listing = actions.add_parser("list", help="list stored keys")
    _store(listing)
    listing.set_defaults(func=_guard(_list))

    export = actions.add_parser("export", help="print a stored public key as PEM")
    _store(export)
    export.add_argument("--name", required=True, help="key name or key id")
    export.set_defaults(func=_guard(_export))

    fp = actions.add_parser("fingerprint", help="print the key id of a stored key or PEM file")
    _store(fp)
    group = fp.add_mutually_exclusive_group(required=True)
    group.add_argument("--name", help="key name or key id in the store")
    group.add_argument("file", nargs="?", help="a PEM file (public or private key)")
    fp.set_defaults(func=_guard(_fingerprint))

    register_ca(actions, _store)


def _store(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--store", default=_DEFAULT_STORE, metavar="DIR",
                        help=f"key store directory (default: ./{_DEFAULT_STORE})")


def _guard(
    func: Callable[[argparse.Namespace], int],
) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        try:
            return func(args)
        except (KeyStoreError, KeyMaterialError) as exc:
            print(f"ocppnet keys {args.keys_command}: {exc}", file=sys.stderr)
            return 1
        except OSError as exc:
            where = f" ({exc.filename})" if exc.filename else ""
            print(f"ocppnet keys {args.keys_command}: {exc.strerror or exc}{where}",
                  file=sys.stderr)
            return 1

    return run


def _new(args: argparse.Namespace) -> int:
    info = KeyStore(args.store).new(args.name, args.algorithm)
    print(f"{info.name} {info.key_id} {info.algorithm}")
    return 0


def _list(args: argparse.Namespace) -> int:
    for info in KeyStore(args.store).list_keys():
        kind = "private+public" if info.has_private else "public"
        print(f"{info.name}\t{info.key_id}\t{info.algorithm}\t{kind}")
    return 0


def _export(args: argparse.Namespace) -> int:
    store = KeyStore(args.store)
    sys.stdout.write(store.public_pem(store.find(args.name)).decode("ascii"))
    return 0


def _fingerprint(args: argparse.Namespace) -> int:
    if args.name:
        store = KeyStore(args.store)
        print(key_id(store.public_key(store.find(args.name))))
        return 0
    data = Path(args.file).read_bytes()
    if b"PRIVATE KEY" in data:
        print(key_id(load_private_pem(data)))
    else:
        print(key_id(load_public_pem(data)))
    return 0
