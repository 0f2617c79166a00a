"""Bearer-token authentication for FastAPI routes, and the rule about where a process may bind.

``Depends(require_scope("operator"))`` on a route (or router) checks the request's
``Authorization: Bearer <token>`` against the app's :class:`~ocppnet.api.tokens.TokenTable`
(set by :func:`ocppnet.api.api_app`): no or unknown token -> 401, missing scope -> 403, both
with a JSON body saying what was wrong. Tokens are never logged; the token's name is.
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from ocppnet.api.errors import ApiError
from ocppnet.api.tokens import AuthFailure, Grant, TokenTable
from ocppnet.errors import ConfigError

log = logging.getLogger("ocppnet.api")

#: Declares the scheme in the OpenAPI document (the docs page gets an "Authorize" button);
#: the check itself is ours, so a missing header is our 401, not FastAPI's 403.
bearer_scheme = HTTPBearer(auto_error=False, description="a token from the [api] table")


def token_table_of(request: Request) -> TokenTable:
    table = getattr(request.app.state, "api_tokens", None)
    if not isinstance(table, TokenTable):
        raise ApiError(500, "internal_error",
                       "this app has no token table: build it with ocppnet.api.api_app")
    return table


def require_scope(scope: str | None) -> Callable[..., Awaitable[Grant]]:
    """A FastAPI dependency granting the request if its token holds ``scope`` (None: any
    configured token). Without tokens configured every request is granted (loopback only)."""

    async def dependency(
        request: Request,
        _credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
    ) -> Grant:
        verdict = token_table_of(request).check(request.headers.get("authorization"), scope)
        if isinstance(verdict, AuthFailure):
            log.info("event=api_refused status=%d method=%s path=%s scope=%s reason=%r",
                     verdict.status, request.method, request.url.path, scope, verdict.detail)
            headers = {"WWW-Authenticate": "Bearer"} if verdict.status == 401 else None
            raise ApiError(verdict.status, verdict.error, verdict.detail, headers=headers)
        request.state.grant = verdict
        return verdict

    dependency.__name__ = f"require_scope_{scope or 'token'}"
    return dependency


#: Route parameters: ``grant: ReadGrant`` / ``grant: OperatorGrant``.
ReadGrant = Annotated[Grant, Depends(require_scope("read"))]
OperatorGrant = Annotated[Grant, Depends(require_scope("operator"))]


def is_loopback(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and ``localhost``; any other name or address is not."""
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_bind(host: str, tokens: TokenTable, *, what: str = "the HTTP API") -> None:
    """Refuse (ConfigError, one line) to serve off loopback without a token configured."""
    if not tokens.enabled and not is_loopback(host):
        raise ConfigError(
            f"refusing to serve {what} on {host} without an API token: add [[api.tokens]] to "
            "the TOML file (`ocppnet api token` makes one) or bind to 127.0.0.1"
        )
