"""GET /api/v1/stations/{id}/transactions/{tx}/price on the CSMS operator API."""

from __future__ import annotations

from typing import Any

import httpx

from ocppnet.api import TokenTable, hash_token
from ocppnet.csms import CsmsApp
from ocppnet.csms.api import csms_api
from ocppnet.csms.tariff_api import tariff_router
from ocppnet.security.keys import KeyPair
from ocppnet.tariffs import sign_tariff, tariff_hash

from .conftest import T0, send
from .test_tariff_check import TARIFF, event, trusting

TOKENS = TokenTable([("viewer", hash_token("ro"), ["read"])])


async def test_price_of_a_transaction(app: CsmsApp) -> None:
    emp = KeyPair.generate("ed25519")
    app.core.tariff_trust = trusting(emp)
    readings: list[Any] = []
    await send(app, "2.1", "CS-1", "TransactionEvent",
               event("Started", 0, 0, 0, readings, sign_tariff(TARIFF, emp, now=T0)))
    await send(app, "2.1", "CS-1", "TransactionEvent", event("Ended", 1, 60, 10_000, readings))
    api = csms_api(app, auth=TOKENS, extra_routers=[tariff_router(app)])
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=api),
                                 base_url="http://127.0.0.1") as http:
        url = "/api/v1/stations/CS-1/transactions/tx-1/price"
        assert (await http.get(url)).status_code == 401
        response = await http.get(url, headers={"Authorization": "Bearer ro"})
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["tariffs"][0]["sha256"] == tariff_hash(TARIFF)
        assert body["cost"] == {"exclTax": 4.0, "inclTax": 4.0} and body["costMatches"]
        assert body["final"] and [c["seqNo"] for c in body["checks"]] == [0, 1]
        missing = await http.get("/api/v1/stations/CS-1/transactions/nope/price",
                                 headers={"Authorization": "Bearer ro"})
        assert missing.status_code == 404
        assert "no tariff priced transaction nope" in missing.text
