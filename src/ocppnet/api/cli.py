"""``ocppnet api token``: make a bearer token for an ``[api]`` table.

Prints the token once (give it to the client; it is not stored anywhere) and the TOML lines
with its SHA-256 hash to paste into the process's file. ``--hash`` only hashes a token read
from standard input (to re-derive a line for a token you already hold).
"""

from __future__ import annotations

import argparse
import re
import sys
from typing import Any

from ocppnet.api.tokens import hash_token, new_token

_NAME = re.compile(r"^[A-Za-z0-9_.@-]+$")
_SCOPE = re.compile(r"^[a-z][a-z0-9_.-]*$")


def register(subparsers: Any) -> None:
    api = subparsers.add_parser("api", help="HTTP API helpers (bearer tokens)")
    actions = api.add_subparsers(dest="api_command", metavar="ACTION", required=True)
    token = actions.add_parser(
        "token", help="make a token and its [[api.tokens]] entry",
        description="Print a new random bearer token and the [[api.tokens]] TOML entry "
                    "(its SHA-256) to add to the process's configuration file.")
    token.add_argument("--name", default="operator", help="who holds it (default operator)")
    token.add_argument("--scopes", default="operator",
                       help="comma-separated scopes: read, operator, metrics, ... "
                            "(default operator, which implies read)")
    token.add_argument("--hash", action="store_true",
                       help="read an existing token from stdin and print only its entry")
    token.set_defaults(func=_token)


def toml_entry(name: str, digest: str, scopes: list[str]) -> str:
    listed = ", ".join(f'"{s}"' for s in scopes)
    return f'[[api.tokens]]\nname = "{name}"\nsha256 = "{digest}"\nscopes = [{listed}]\n'


def _token(args: argparse.Namespace) -> int:
    scopes = [s.strip() for s in args.scopes.split(",") if s.strip()]
    bad = next((s for s in scopes if not _SCOPE.match(s)), None)
    if not scopes or bad is not None:
        print(f"ocppnet api token: --scopes: not a scope: {bad or args.scopes!r}",
              file=sys.stderr)
        return 2
    if not _NAME.match(args.name):
        print(f"ocppnet api token: --name: use letters, digits and _.@- only, got "
              f"{args.name!r}", file=sys.stderr)
        return 2
    if args.hash:
        token = sys.stdin.readline().strip()
        if not token:
            print("ocppnet api token: --hash: no token on standard input", file=sys.stderr)
            return 2
        print(toml_entry(args.name, hash_token(token), scopes), end="")
        return 0
    token = new_token()
    print(f"token: {token}\n"
          "  (shown once; clients send it as 'Authorization: Bearer <token>')\n\n"
          f"{toml_entry(args.name, hash_token(token), scopes)}", end="")
    return 0
