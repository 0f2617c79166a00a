"""Handlers and a message exchange shared by the transport integration tests."""

from __future__ import annotations

from typing import Any

from ocppnet.transport import CallContext, Connection, Handlers

NOW = "2025-01-01T00:00:00Z"

REQUESTS: dict[str, dict[str, dict[str, Any]]] = {
    "2.0.1": {
        "BootNotification": {
            "chargingStation": {"model": "M1", "vendorName": "ocppnet"}, "reason": "PowerUp",
        },
        "Heartbeat": {},
        "Authorize": {"idToken": {"idToken": "04A1B2C3", "type": "ISO14443"}},
    },
    "1.6": {
        "BootNotification": {"chargePointVendor": "ocppnet", "chargePointModel": "M1"},
        "Heartbeat": {},
        "Authorize": {"idTag": "04A1B2C3"},
    },
}
REQUESTS["2.1"] = REQUESTS["2.0.1"]


def csms_handlers(seen: list[tuple[str, str]] | None = None) -> Handlers:
    """A CSMS that accepts every station and every token, for any version."""
    handlers = Handlers()

    def note(ctx: CallContext) -> None:
        if seen is not None:
            seen.append((ctx.remote_id, ctx.action))

    @handlers.on("BootNotification")
    async def boot(ctx: CallContext, payload: dict[str, Any]) -> dict[str, Any]:
        note(ctx)
        return {"currentTime": NOW, "interval": 300, "status": "Accepted"}

    @handlers.on("Heartbeat")
    async def heartbeat(ctx: CallContext, payload: dict[str, Any]) -> dict[str, Any]:
        note(ctx)
        return {"currentTime": NOW}

    @handlers.on("Authorize")
    async def authorize(ctx: CallContext, payload: dict[str, Any]) -> dict[str, Any]:
        note(ctx)
        if ctx.version == "1.6":
            return {"idTagInfo": {"status": "Accepted"}}
        return {"idTokenInfo": {"status": "Accepted"}}

    return handlers


async def boot_heartbeat_authorize(conn: Connection) -> None:
    """The station side of the basic exchange; asserts the CSMS accepted each step."""
    requests = REQUESTS[conn.version]
    boot = await conn.call("BootNotification", requests["BootNotification"])
    assert boot["status"] == "Accepted" and boot["interval"] == 300
    assert await conn.call("Heartbeat", {}) == {"currentTime": NOW}
    auth = await conn.call("Authorize", requests["Authorize"])
    info = auth["idTagInfo"] if conn.version == "1.6" else auth["idTokenInfo"]
    assert info["status"] == "Accepted"
