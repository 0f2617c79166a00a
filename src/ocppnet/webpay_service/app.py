"""The web-payment service's HTTP side: the phone page a QR code opens, and its JSON steps.

One :func:`~ocppnet.api.api_app` (OpenAPI at ``/api/v1/docs``, ``/metrics``, JSON errors
``{"error", "detail"}``) with:

* ``GET <the URL template's path>``: validate the link, open a session, serve the page (or a
  page that says in one sentence why the link is refused: expired, wrong, used already);
* ``POST /api/v1/webpay/sessions/{id}/pay | channel | start | receipt | report`` and
  ``GET /api/v1/webpay/sessions/{id}``: the steps of
  :class:`~ocppnet.webpay_service.service.WebPaymentService` (:func:`webpay_router`);
* ``GET /api/v1/webpay/static/…``: the page's own script and style (no CDN).

The page and its steps are public by nature (an anonymous driver's phone) and carry no
operator rights; ``/metrics`` needs a token with scope ``metrics`` as everywhere.
"""

from __future__ import annotations

import html
import json
from importlib import resources
from string import Template
from typing import Annotated, Any

from fastapi import APIRouter, Body, FastAPI, Request
from prometheus_client import CollectorRegistry
from starlette.responses import HTMLResponse, Response
from starlette.staticfiles import StaticFiles

from ocppnet.api import API_PREFIX, ApiError, TokenTable, api_app, new_registry
from ocppnet.webpay.psp import SIMULATION_NOTICE
from ocppnet.webpay.sessions import LinkError
from ocppnet.webpay_service.metrics import WebpayMetrics
from ocppnet.webpay_service.service import WebPaymentService

__all__ = ["webpay_app", "webpay_router"]

API = f"{API_PREFIX}/webpay"
_STATUS = {"UnknownSession": 404, "OutOfOrder": 409, "Reused": 409, "Unreachable": 502,
           "Malformed": 404}
Fields = Annotated[dict[str, Any], Body(description="the step's JSON fields")]


def _page(name: str) -> Template:
    return Template((resources.files("ocppnet.webpay_service") / "static" / name).read_text())


def _api_error(exc: LinkError) -> ApiError:
    return ApiError(_STATUS.get(exc.reason, 400), exc.reason, exc.message)


def webpay_router(service: WebPaymentService) -> APIRouter:
    """The phone page's JSON steps, under ``/webpay`` (``/api/v1/webpay`` once mounted)."""
    router = APIRouter(prefix="/webpay", tags=["webpay"])

    @router.get("/sessions/{session}", summary="a payment session's state (no token)")
    async def state(session: str) -> dict[str, Any]:
        try:
            found = service.sessions.get(session)
        except LinkError as exc:
            raise _api_error(exc) from None
        return {"state": found.state, "error": found.error, "amount": found.amount,
                "transactionId": found.transaction_id}

    @router.post("/sessions/{session}/pay",
                 summary="simulated payment, then NotifyWebPaymentStarted to the station")
    async def pay(session: str) -> dict[str, Any]:
        try:
            return await service.pay(session)
        except LinkError as exc:
            raise _api_error(exc) from None

    @router.post("/sessions/{session}/channel",
                 summary="relay one SecureDataTransfer record to the station (ciphertext)")
    async def channel(session: str, fields: Fields) -> dict[str, Any]:
        try:
            return await service.relay(session, fields)
        except LinkError as exc:
            raise _api_error(exc) from None

    @router.post("/sessions/{session}/start",
                 summary="RequestStartTransaction with the ad hoc idToken")
    async def start(session: str) -> dict[str, Any]:
        try:
            return await service.start(session)
        except LinkError as exc:
            raise _api_error(exc) from None

    @router.post("/sessions/{session}/receipt",
                 summary="settle from the station's signed receipt (NotifySettlement)")
    async def receipt(session: str, fields: Fields) -> dict[str, Any]:
        signed = fields.get("receipt")
        if not isinstance(signed, dict):
            raise ApiError(400, "BadMessage", "body.receipt: expected the station's receipt")
        try:
            return await service.settle(session, signed)
        except LinkError as exc:
            raise _api_error(exc) from None

    @router.post("/sessions/{session}/report",
                 summary="the page refused something (logged; a refused handshake cancels)")
    async def report(session: str, fields: Fields) -> dict[str, Any]:
        try:
            await service.report(session, str(fields.get("reason", "PageError")),
                                 str(fields.get("message", "")))
        except LinkError as exc:
            raise _api_error(exc) from None
        return {"logged": True}

    return router


def webpay_app(service: WebPaymentService, *, auth: TokenTable | None = None,
               registry: CollectorRegistry | None = None) -> FastAPI:
    """The ASGI app of one service (given to the Participant as ``http_app``)."""
    registry = registry if registry is not None else new_registry()
    service.metrics = WebpayMetrics(registry)
    app = api_app("ocppnet webpay", [webpay_router(service)], auth=auth, registry=registry,
                  description="Ad hoc payment by QR code (OCPP 2.1 C25): the phone page's "
                  "steps. The payment is a simulation.")
    page, refused = _page("index.html"), _page("refused.html")

    async def scan(request: Request) -> Response:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        try:
            session = service.scan(target)
        except LinkError as exc:
            return HTMLResponse(refused.substitute(reason=html.escape(exc.reason),
                                                   message=html.escape(exc.message)),
                                status_code=_STATUS.get(exc.reason, 403))
        data = {"session": session.id, "station": session.station_id,
                "evse": session.evse_id, "fingerprint": session.fingerprint,
                "price": service.config.price_per_kwh, "currency": service.config.currency,
                "maxAmount": service.config.max_amount, "api": API}
        return HTMLResponse(page.substitute(
            station=html.escape(session.station_id), evse=session.evse_id,
            price=f"{service.config.price_per_kwh:.2f}",
            currency=html.escape(service.config.currency),
            notice=html.escape(SIMULATION_NOTICE),
            config=html.escape(json.dumps(data), quote=True)))

    static = resources.files("ocppnet.webpay_service") / "static"
    app.mount(f"{API}/static", StaticFiles(directory=str(static)), name="webpay-static")
    app.add_route("/{path:path}", scan, methods=["GET"], include_in_schema=False)
    return app
