"""Bearer tokens of the HTTP API: generated, stored as SHA-256 hashes, checked against scopes.

Pure: a :class:`TokenTable` maps token hashes to their name and scopes and answers
:meth:`TokenTable.check` with a :class:`Grant` or an :class:`AuthFailure` (a value, never an
exception). The token itself is never kept: only its hash, so a leaked TOML file does not
leak the API. Scopes imply narrower ones (``operator`` ⊃ ``read`` ⊃ ``metrics``).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal

#: A scope implies these (transitively): an operator may read, a reader may scrape metrics.
IMPLIED_SCOPES: Mapping[str, frozenset[str]] = {
    "admin": frozenset({"operator"}),
    "operator": frozenset({"read"}),
    "read": frozenset({"metrics"}),
}

TOKEN_PREFIX = "ocn_"


def new_token() -> str:
    """A fresh random token (256 bits, URL-safe), prefixed so a leaked one is recognisable."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    """The SHA-256 hex digest that the TOML file stores instead of the token."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def expand_scopes(scopes: Iterable[str]) -> frozenset[str]:
    """``scopes`` with every scope they imply."""
    result: set[str] = set()
    todo = list(scopes)
    while todo:
        scope = todo.pop()
        if scope not in result:
            result.add(scope)
            todo.extend(IMPLIED_SCOPES.get(scope, ()))
    return frozenset(result)


@dataclass(frozen=True, slots=True)
class Grant:
    """Who is calling (the token's name) and what it may do."""

    name: str
    scopes: frozenset[str]


#: What ``Grant`` a process gives when no token is configured (loopback only).
ANONYMOUS = Grant("anonymous", frozenset({"*"}))


@dataclass(frozen=True, slots=True)
class AuthFailure:
    """Why a request is refused: ``status`` 401 (who are you?) or 403 (not allowed)."""

    status: Literal[401, 403]
    error: str
    detail: str


class TokenTable:
    """The configured tokens, by hash. Empty means authentication is off (see
    :func:`ocppnet.api.auth.check_bind`: only allowed on loopback)."""

    def __init__(self, entries: Iterable[tuple[str, str, Iterable[str]]] = ()) -> None:
        """``entries``: (name, sha256 hex of the token, scopes)."""
        self._entries = [(name, digest.lower(), expand_scopes(scopes))
                         for name, digest, scopes in entries]

    @property
    def enabled(self) -> bool:
        return bool(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def identify(self, token: str) -> Grant | None:
        """The grant of ``token``, or None if no configured hash matches (constant time per
        entry, so the comparison leaks nothing about the stored hashes)."""
        digest = hash_token(token)
        found: Grant | None = None
        for name, stored, scopes in self._entries:
            if hmac.compare_digest(digest, stored):
                found = Grant(name, scopes)
        return found

    def check(self, authorization: str | None, scope: str | None) -> Grant | AuthFailure:
        """Check an ``Authorization`` header value against ``scope`` (None: any known token)."""
        if not self.enabled:
            return ANONYMOUS
        if not authorization:
            return AuthFailure(401, "unauthorized",
                               "no bearer token: send 'Authorization: Bearer <token>'")
        kind, _, token = authorization.strip().partition(" ")
        if kind.lower() != "bearer" or not token.strip():
            return AuthFailure(401, "unauthorized",
                               "Authorization header is not 'Bearer <token>'")
        grant = self.identify(token.strip())
        if grant is None:
            return AuthFailure(401, "unauthorized", "unknown token")
        if scope is not None and scope not in grant.scopes:
            held = ", ".join(sorted(grant.scopes)) or "none"
            return AuthFailure(403, "forbidden",
                               f"token '{grant.name}' lacks scope '{scope}' (it has: {held})")
        return grant
