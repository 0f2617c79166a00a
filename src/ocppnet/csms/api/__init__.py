"""The CSMS operator HTTP API: read stations, transactions, the message log and station
events; send any OCPP call to any station (also behind nodes). See docs/operations.md.

``csms_api(app, auth=..., registry=...)`` is the FastAPI app (``ocppnet.api.api_app``)
with :func:`read_router` and :func:`call_router`; ``ocppnet csms`` mounts the dashboard on it.
"""

from __future__ import annotations

from collections.abc import Sequence

from fastapi import APIRouter, FastAPI
from prometheus_client import CollectorRegistry

from ocppnet.api import ApiSection, TokenTable, api_app
from ocppnet.csms.api.calls import StationCaller, call_router
from ocppnet.csms.api.read import read_router
from ocppnet.csms.app import CsmsApp

__all__ = ["StationCaller", "call_router", "csms_api", "read_router"]


def csms_api(
    app: CsmsApp,
    *,
    auth: TokenTable | ApiSection | None = None,
    registry: CollectorRegistry | None = None,
    extra_routers: Sequence[APIRouter] = (),
) -> FastAPI:
    """The operator API of ``app``; ``extra_routers`` (e.g. OCMF, NAP) go under /api/v1 too."""
    return api_app(
        f"ocppnet CSMS {app.config.id}",
        [read_router(app), call_router(app), *extra_routers],
        auth=auth, registry=registry,
        description="Operate the CSMS: stations, transactions, message log, station events; "
                    "send any OCPP call to any station. Bearer token with scope read or "
                    "operator (see docs/operations.md).",
    )
