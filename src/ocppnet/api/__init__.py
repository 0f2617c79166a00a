"""The HTTP API infrastructure every ocppnet process shares (CSMS, node, participants).

* :func:`api_app` — a FastAPI app: routes under ``/api/v1``, OpenAPI at ``/api/v1/docs``,
  ``/metrics`` (Prometheus, one registry per process), JSON error bodies;
* :func:`require_scope` — ``Depends(require_scope("operator"))``: bearer token with a scope,
  401 without or with an unknown token, 403 with the wrong scope;
* :class:`ApiSection` — the ``[api]`` TOML table (token hashes and scopes),
  :func:`token_table` turns it into the :class:`TokenTable` the app checks;
* :func:`serve_api` / :func:`check_bind` — never bind off loopback without a token;
* :class:`ApiError` — ``raise ApiError(404, "unknown_station", "...")`` in a route.

See docs/operations.md.
"""

from ocppnet.api.app import API_PREFIX, api_app, serve_api, tokens_of
from ocppnet.api.auth import OperatorGrant, ReadGrant, check_bind, is_loopback, require_scope
from ocppnet.api.config import ApiSection, ApiToken, token_table
from ocppnet.api.errors import ApiError
from ocppnet.api.metrics import new_registry
from ocppnet.api.tokens import ANONYMOUS, Grant, TokenTable, hash_token, new_token

__all__ = [
    "ANONYMOUS",
    "API_PREFIX",
    "ApiError",
    "ApiSection",
    "ApiToken",
    "Grant",
    "OperatorGrant",
    "ReadGrant",
    "TokenTable",
    "api_app",
    "check_bind",
    "hash_token",
    "is_loopback",
    "new_registry",
    "new_token",
    "require_scope",
    "serve_api",
    "token_table",
    "tokens_of",
]
