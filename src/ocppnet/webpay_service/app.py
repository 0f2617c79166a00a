"""The web-payment service's HTTP side: the phone page a QR code opens, and its JSON steps.

* ``GET <the URL template's path>``: validate the link, open a session, serve the page (or a
  page that says in one sentence why the link is refused: expired, wrong, used already);
* ``POST /api/v1/webpay/sessions/{id}/pay | channel | start | receipt | report``: the
  steps of :class:`~ocppnet.webpay_service.service.WebPaymentService`;
* ``GET /api/v1/webpay/static/…``: the page's own script and style (no CDN).

The page is public by nature (an anonymous driver's phone); it carries no operator rights.
"""

from __future__ import annotations

import html
import json
from importlib import resources
from string import Template
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from ocppnet.webpay.psp import SIMULATION_NOTICE
from ocppnet.webpay.sessions import LinkError
from ocppnet.webpay_service.service import WebPaymentService

__all__ = ["webpay_app"]

API = "/api/v1/webpay"
_STATUS = {"UnknownSession": 404, "OutOfOrder": 409, "Reused": 409, "Unreachable": 502,
           "Malformed": 404}


def _page(name: str) -> Template:
    return Template((resources.files("ocppnet.webpay_service") / "static" / name).read_text())


def _error(exc: LinkError) -> JSONResponse:
    return JSONResponse({"error": exc.reason, "message": exc.message},
                        status_code=_STATUS.get(exc.reason, 400))


def webpay_app(service: WebPaymentService) -> Starlette:
    """The ASGI app of one service (given to the Participant as ``http_app``)."""
    page, refused = _page("index.html"), _page("refused.html")

    async def scan(request: Request) -> Response:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        try:
            session = service.scan(target)
        except LinkError as exc:
            status = _STATUS.get(exc.reason, 403)
            return HTMLResponse(refused.substitute(reason=html.escape(exc.reason),
                                                   message=html.escape(exc.message)),
                                status_code=status)
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

    async def body(request: Request) -> dict[str, Any]:
        try:
            value = await request.json()
        except ValueError:
            raise LinkError("BadMessage", "the request body is not JSON") from None
        if not isinstance(value, dict):
            raise LinkError("BadMessage", "the request body is not a JSON object")
        return value

    async def step(request: Request) -> Response:
        session_id = request.path_params["session"]
        name = request.path_params["step"]
        try:
            if name == "pay":
                return JSONResponse(await service.pay(session_id))
            if name == "channel":
                return JSONResponse(await service.relay(session_id, await body(request)))
            if name == "start":
                return JSONResponse(await service.start(session_id))
            if name == "receipt":
                data = await body(request)
                return JSONResponse(await service.settle(session_id, data.get("receipt", {})))
            if name == "report":
                data = await body(request)
                await service.report(session_id, str(data.get("reason", "PageError")),
                               str(data.get("message", "")))
                return JSONResponse({"logged": True})
        except LinkError as exc:
            return _error(exc)
        return JSONResponse({"error": "NotFound", "message": f"no step {name}"},
                            status_code=404)

    async def state(request: Request) -> Response:
        try:
            session = service.sessions.get(request.path_params["session"])
        except LinkError as exc:
            return _error(exc)
        return JSONResponse({"state": session.state, "error": session.error,
                             "amount": session.amount, "transactionId": session.transaction_id})

    static = StaticFiles(directory=str(resources.files("ocppnet.webpay_service") / "static"))
    return Starlette(routes=[
        Mount(f"{API}/static", app=static, name="static"),
        Route(f"{API}/sessions/{{session}}", state, methods=["GET"]),
        Route(f"{API}/sessions/{{session}}/{{step}}", step, methods=["POST"]),
        Route("/{path:path}", scan, methods=["GET"]),
    ])
