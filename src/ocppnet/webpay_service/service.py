"""The web-payment service's steps, each one HTTP request of the phone page.

``scan`` (the QR link) -> ``pay`` (simulated PSP, NotifyWebPaymentStarted to the station)
-> ``relay`` ``Open`` (the phone's channel handshake, forwarded as is) -> ``start``
(RequestStartTransaction with the ad hoc idToken) -> ``relay`` ``Data`` (ciphertext both
ways, as often as the page asks) -> ``settle`` (the station-signed receipt the phone got over
the channel; NotifySettlement). The service calls the overlay through a :class:`Caller`
(a :class:`~ocppnet.participant.Participant`); it never holds a channel key.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import time
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from ocppnet.errors import OcppNetError
from ocppnet.rpc.timestamps import format_seconds
from ocppnet.validation import validate
from ocppnet.webpay.channel import VENDOR_ID, ChannelError
from ocppnet.webpay.psp import PspError, SimulatedPsp
from ocppnet.webpay.receipt import verify_receipt
from ocppnet.webpay.sessions import LinkError, PaymentSession, PaymentSessions
from ocppnet.webpay_service.config import WebpaySection
from ocppnet.webpay_service.metrics import WebpayMetrics

__all__ = ["Caller", "WebPaymentService"]

log = logging.getLogger("ocppnet.webpay")

_HANDSHAKE_REFUSALS = frozenset({"WrongStationKey", "BadSignature", "BadKey", "BadMessage"})
_RELAYED = {"Open": ("clientKey",), "Data": ("counter", "ciphertext"), "Close": ()}


class Caller(Protocol):
    async def call(self, dest: str, action: str, payload: Mapping[str, Any]) -> dict[str, Any]:
        ...


class WebPaymentService:
    """One service instance: its sessions, its simulated PSP and the overlay caller."""

    def __init__(self, config: WebpaySection, caller: Caller, *,
                 clock: Callable[[], float] = time.time) -> None:
        self.config = config
        self.caller = caller
        self.clock = clock
        self.sessions: PaymentSessions = config.sessions()
        self.psp = SimulatedPsp()
        self.settlements: list[dict[str, Any]] = []
        self.metrics: WebpayMetrics | None = None  # set by webpay_app (its registry)
        self._remote_start_ids = itertools.count(1)

    def _refuse(self, step: str, session: PaymentSession | None, exc: LinkError | ChannelError,
                ) -> LinkError:
        log.warning("event=webpay_refused step=%s session=%s station=%s reason=%s detail=%r",
                    step, session.id if session else "-",
                    session.station_id if session else "-", exc.reason, exc.message)
        if self.metrics is not None:
            self.metrics.refusals.labels(step, exc.reason).inc()
        if session is not None and session.state not in ("Settled", "Failed") and \
                exc.reason not in ("OutOfOrder",):
            session.error = exc.message
        return exc if isinstance(exc, LinkError) else LinkError(exc.reason, exc.message)

    # --- steps --------------------------------------------------------------------------

    def scan(self, path_and_query: str) -> PaymentSession:
        """The phone opened a QR link; LinkError (expired, wrong, reused, ...) refuses it."""
        try:
            session = self.sessions.open_link(path_and_query, self.clock())
        except LinkError as exc:
            raise self._refuse("scan", None, exc) from None
        log.info("event=webpay_scanned session=%s station=%s evse=%d", session.id,
                 session.station_id, session.evse_id)
        if self.metrics is not None:
            self.metrics.sessions.inc()
        return session

    async def pay(self, session_id: str) -> dict[str, Any]:
        """Authorize with the simulated PSP and tell the station a payment started."""
        session = self.sessions.get(session_id)
        try:
            session.advance("Paid")
        except LinkError as exc:
            raise self._refuse("pay", session, exc) from None
        try:
            auth = self.psp.authorize(self.config.max_amount, self.config.currency)
        except PspError as exc:
            session.advance("Failed")
            raise self._refuse("pay", session, LinkError("PaymentFailed", str(exc))) from None
        session.psp_ref = auth.psp_ref
        session.id_token = f"ADHOC-{session.id[:12]}"
        try:
            await self._call(session, "NotifyWebPaymentStarted", {
                "evseId": session.evse_id, "timeout": self.config.payment_timeout_s,
                "customData": {"vendorId": VENDOR_ID, "channelId": session.channel_id,
                               "idToken": session.id_token,
                               "pricePerKWh": self.config.price_per_kwh,
                               "currency": self.config.currency}})
        except LinkError as exc:
            await self._cancel(session, exc.reason)
            raise
        log.info("event=webpay_paid session=%s psp_ref=%s max_amount=%s simulated=true",
                 session.id, auth.psp_ref, auth.max_amount)
        return {"pspRef": auth.psp_ref, "maxAmount": auth.max_amount,
                "currency": auth.currency, "channelId": session.channel_id}

    async def relay(self, session_id: str, record: Mapping[str, Any]) -> dict[str, Any]:
        """Forward one channel message of the phone to the station and its answer back.

        Only the fields of the phase go through (no room for anything in plaintext); the
        answer is returned as the station sent it."""
        session = self.sessions.get(session_id)
        phase = record.get("phase")
        if phase not in _RELAYED:
            raise self._refuse("relay", session, LinkError("BadMessage",
                                                           f"phase {phase!r} is not relayed"))
        if session.state not in ("Paid", "ChannelOpen", "Charging"):
            raise self._refuse("relay", session, LinkError(
                "OutOfOrder", f"session {session.id} is {session.state}; no channel"))
        payload: dict[str, Any] = {"channelId": session.channel_id, "phase": phase}
        for name in _RELAYED[str(phase)]:
            if name not in record:
                raise self._refuse("relay", session, LinkError(
                    "BadMessage", f"{phase}: missing {name}"))
            payload[name] = record[name]
        failure = validate("2.1", "SecureDataTransfer", "request", payload)
        if failure is not None:
            raise self._refuse("relay", session, LinkError("BadMessage", failure.description))
        answer = await self._call(session, "SecureDataTransfer", payload)
        if phase == "Open" and answer.get("status") == "Accepted":
            session.station_key = str(answer.get("stationKey"))
            session.advance("ChannelOpen")
        if answer.get("status") == "Rejected":
            info = answer.get("statusInfo", {})
            log.warning("event=webpay_channel_rejected_by_station session=%s reason=%s "
                        "detail=%r", session.id, info.get("reasonCode"),
                        info.get("additionalInfo"))
        return answer

    async def start(self, session_id: str) -> dict[str, Any]:
        """The phone verified the station's channel key: start the ad hoc session."""
        session = self.sessions.get(session_id)
        try:
            session.advance("Charging")
        except LinkError as exc:
            raise self._refuse("start", session, exc) from None
        assert session.psp_ref is not None and session.id_token is not None
        try:
            response = await self._call(session, "RequestStartTransaction", {
                "evseId": session.evse_id, "remoteStartId": next(self._remote_start_ids),
                "idToken": {"idToken": session.id_token, "type": "DirectPayment",
                            "additionalInfo": [{"additionalIdToken": session.psp_ref,
                                                "type": "PspRef"}]}})
        except LinkError as exc:
            await self._cancel(session, exc.reason)
            raise
        if response.get("status") != "Accepted":
            reason = response.get("statusInfo", {}).get("reasonCode", "Rejected")
            await self._cancel(session, f"StartRejected {reason}")
            raise self._refuse("start", session, LinkError(
                "StartRejected", f"the station did not start the session ({reason})"))
        log.info("event=webpay_session_started session=%s station=%s id_token=%s",
                 session.id, session.station_id, session.id_token)
        return {"status": "Accepted", "idToken": session.id_token}

    async def settle(self, session_id: str, receipt: Mapping[str, Any]) -> dict[str, Any]:
        """Verify the station's receipt (key from the channel, fingerprint from the QR
        link), capture the amount and send NotifySettlement."""
        session = self.sessions.get(session_id)
        if session.state != "Charging" or session.station_key is None:
            raise self._refuse("settle", session, LinkError(
                "OutOfOrder", f"session {session.id} is {session.state}; nothing to settle"))
        try:
            body = verify_receipt(receipt, session.station_key, session.fingerprint)
        except ChannelError as exc:
            raise self._refuse("settle", session, exc) from None
        if body["channelId"] != session.channel_id or body["stationId"] != session.station_id \
                or body["idToken"] != session.id_token:
            raise self._refuse("settle", session, LinkError(
                "WrongReceipt", "the receipt belongs to another session"))
        assert session.psp_ref is not None
        amount = round(float(body["energyWh"]) / 1000.0 * self.config.price_per_kwh, 2)
        captured = self.psp.capture(session.psp_ref, amount)
        session.transaction_id = str(body["transactionId"])
        session.amount = captured
        now = self.clock()
        settlement = {"transactionId": session.transaction_id, "pspRef": session.psp_ref,
                      "status": "Settled", "settlementAmount": captured,
                      "settlementTime": format_seconds(now),
                      "statusInfo": f"ad hoc web payment ({body['energyWh']} Wh); simulated PSP"}
        await self._call(session, "NotifySettlement", settlement, dest=self.config.settle_to)
        session.advance("Settled")
        self.settlements.append(settlement)
        if self.metrics is not None:
            self.metrics.settlements.labels("Settled").inc()
            self.metrics.amount.inc(captured)
        log.info("event=webpay_settled session=%s tx=%s psp_ref=%s amount=%s currency=%s "
                 "energy_wh=%s", session.id, session.transaction_id, session.psp_ref, captured,
                 self.config.currency, body["energyWh"])
        return {"status": "Settled", "amount": captured, "currency": self.config.currency,
                "pspRef": session.psp_ref, "transactionId": session.transaction_id}

    async def report(self, session_id: str, reason: str, message: str) -> None:
        """The page refused something (a key that does not match the QR code, a tampered
        or replayed record): log it beside the service's own refusals. When the channel
        could not be opened nothing was started: the payment is cancelled (authorization
        released, the station's block lifted with timeout 0, NotifySettlement Canceled)."""
        session = self.sessions.get(session_id)
        self._refuse("phone", session, LinkError(reason[:40], message[:300]))
        if reason in _HANDSHAKE_REFUSALS and session.state in ("Paid", "ChannelOpen"):
            await self._cancel(session, reason)

    async def _cancel(self, session: PaymentSession, reason: str) -> None:
        session.advance("Failed")
        assert session.psp_ref is not None
        self.psp.void(session.psp_ref)
        with contextlib.suppress(LinkError):
            await self._call(session, "NotifyWebPaymentStarted",
                             {"evseId": session.evse_id, "timeout": 0})
        with contextlib.suppress(LinkError):
            await self._call(session, "NotifySettlement", {
                "pspRef": session.psp_ref, "status": "Canceled", "settlementAmount": 0,
                "settlementTime": format_seconds(self.clock()),
                "statusInfo": f"cancelled before the start: {reason}"},
                dest=self.config.settle_to)
        log.info("event=webpay_cancelled session=%s psp_ref=%s reason=%s", session.id,
                 session.psp_ref, reason)
        if self.metrics is not None:
            self.metrics.settlements.labels("Canceled").inc()

    # --- overlay ------------------------------------------------------------------------

    async def _call(self, session: PaymentSession, action: str, payload: dict[str, Any],
                    *, dest: str | None = None) -> dict[str, Any]:
        target = dest or session.station_id
        try:
            return await self.caller.call(target, action, payload)
        except OcppNetError as exc:
            code = getattr(exc, "code", "GenericError")
            raise self._refuse(action, session, LinkError(
                "Unreachable", f"{action} to {target} failed: {code} "
                f"{exc.description or exc}".strip())) from None
