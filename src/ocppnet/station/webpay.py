"""The simulated station's web payments (OCPP 2.1 C25): WebPaymentsCtrlr, QR code, channel end.

* ``WebPaymentsCtrlr`` variables (Enabled, URLTemplate, TOTPVersion, ValidityTime,
  SharedSecret (write-only), Length) through GetVariables/SetVariables;
* the QR code of the current slot as PNG (:meth:`StationWebPayments.qr_png`), and a display
  task that rewrites a PNG file at the start of every slot (:meth:`run_display`);
* ``NotifyWebPaymentStarted``: the web-payment service announces a payment on an EVSE (the
  channel it will open and the price it charges ride in ``customData``);
* ``SecureDataTransfer``: the station's end of the encrypted channel (``Open``, ``Data``,
  ``Close``); over it the phone reads live power, energy and cost and can stop the session,
  and gets the station's signed receipt at the end.

Attach to a 2.1 station with :func:`attach_web_payments`; the crypto is in ``ocppnet.webpay``.
"""

from __future__ import annotations

import asyncio
import io
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import segno

from ocppnet.errors import (
    OccurrenceConstraintViolation,
    PropertyConstraintViolation,
)
from ocppnet.rpc.timestamps import format_seconds
from ocppnet.security.keys import KeyPair
from ocppnet.transport import CallContext
from ocppnet.webpay.channel import VENDOR_ID, ChannelEnd, ChannelError, station_accept
from ocppnet.webpay.receipt import sign_receipt
from ocppnet.webpay.totp import TotpSettings, TotpSettingsError, remaining_s, totp
from ocppnet.webpay.url_template import UrlTemplate, UrlTemplateError

if TYPE_CHECKING:
    from ocppnet.station.runtime import SimulatedStation

log = logging.getLogger("ocppnet.station.webpay")

COMPONENT = "WebPaymentsCtrlr"
_MAX_TIMEOUT_S = 300
_KEEP_ENDED_S = 3600  # an ended session's receipt stays readable this long


@dataclass(slots=True)
class _Payment:
    """One announced web payment on an EVSE, and its channel once the phone opened it."""

    evse_id: int
    channel_id: str
    until: float
    price_per_kwh: float
    currency: str
    id_token: str
    channel: ChannelEnd | None = None
    transaction_id: str | None = None
    energy_wh: float = 0.0
    receipt: dict[str, Any] | None = None
    ended_at: float | None = None
    closed: bool = False

    def finished(self, now: float) -> bool:
        """Nothing more can happen on it: closed, never opened in time, or ended long ago."""
        return self.closed or (self.channel is None and now > self.until) or (
            self.ended_at is not None and now - self.ended_at > _KEEP_ENDED_S)


@dataclass(slots=True)
class WebPaymentsCtrlr:
    """The device-model component's values (one QR code for the station's EVSE)."""

    url_template: str
    shared_secret: str = field(repr=False)
    validity_s: int = 30
    length: int = 12
    totp_version: str = "1"
    enabled: bool = True

    def settings(self) -> TotpSettings:
        return TotpSettings(self.shared_secret, self.validity_s, self.length,
                            version=self.totp_version)


class StationWebPayments:
    """The station's C25 state: its controller values, announced payments and channels."""

    def __init__(self, station: SimulatedStation, ctrlr: WebPaymentsCtrlr, identity: KeyPair,
                 *, evse_id: int = 1, wall: Callable[[], float] = time.time) -> None:
        ctrlr.settings()  # refuse unusable values at start, naming the variable
        UrlTemplate.parse(ctrlr.url_template)
        self.station, self.ctrlr, self.identity = station, ctrlr, identity
        self.evse_id = evse_id
        self.wall = wall  # TOTP slots follow the wall clock, whatever the simulation speed
        self.payments: dict[str, _Payment] = {}

    # --- QR code -----------------------------------------------------------------------

    def current_url(self, now: float | None = None) -> str:
        """The URL the QR code shows now (the template filled in for this slot)."""
        at = self.wall() if now is None else now
        ctrlr = self.ctrlr
        return UrlTemplate.parse(ctrlr.url_template).expand({
            "chargingStationId": self.station.station_id, "evse": self.evse_id,
            "totp": totp(ctrlr.settings(), at), "version": ctrlr.totp_version,
            "channelKeyId": self.identity.key_id})

    def qr_png(self, now: float | None = None, *, scale: int = 6) -> bytes:
        """The QR code of :meth:`current_url` as PNG (error correction M)."""
        buffer = io.BytesIO()
        segno.make(self.current_url(now), error="m", micro=False).save(
            buffer, kind="png", scale=scale, border=4)
        return buffer.getvalue()

    async def run_display(self, path: Path) -> None:
        """Rewrite ``path`` with the QR code at the start of every slot (until cancelled)."""
        while True:
            now = self.wall()
            if self.ctrlr.enabled:
                temporary = path.with_name(f".{path.name}.tmp")
                temporary.write_bytes(self.qr_png(now))
                os.replace(temporary, path)  # a reader never sees half a PNG
                log.debug("event=webpay_qr_refreshed station=%s", self.station.station_id)
            await asyncio.sleep(remaining_s(self.ctrlr.settings(), now) + 0.01)

    # --- device model ------------------------------------------------------------------

    def get_variable(self, name: str) -> tuple[str, str | None]:
        """(GetVariableStatusEnumType, value); the shared secret is write-only."""
        c = self.ctrlr
        values = {"Enabled": str(c.enabled).lower(), "URLTemplate": c.url_template,
                  "TOTPVersion": c.totp_version, "ValidityTime": str(c.validity_s),
                  "Length": str(c.length)}
        if name == "SharedSecret":
            return "Rejected", None
        if name not in values:
            return "UnknownVariable", None
        return "Accepted", values[name]

    def set_variable(self, name: str, value: str) -> str:
        """SetVariableStatusEnumType; a value the algorithm cannot use is Rejected (logged)."""
        c = self.ctrlr
        candidate = WebPaymentsCtrlr(c.url_template, c.shared_secret, c.validity_s, c.length,
                                     c.totp_version, c.enabled)
        try:
            if name == "Enabled":
                if value.lower() not in ("true", "false"):
                    raise ValueError("Enabled: expected true or false")
                candidate.enabled = value.lower() == "true"
            elif name == "URLTemplate":
                UrlTemplate.parse(value)
                candidate.url_template = value
            elif name in ("ValidityTime", "Length"):
                number = int(value)
                if name == "ValidityTime":
                    candidate.validity_s = number
                else:
                    candidate.length = number
            elif name == "SharedSecret":
                candidate.shared_secret = value
            elif name == "TOTPVersion":
                candidate.totp_version = value
            else:
                return "UnknownVariable"
            candidate.settings()
        except (ValueError, TotpSettingsError, UrlTemplateError) as exc:
            log.warning("event=webpay_variable_rejected station=%s variable=%s reason=%r",
                        self.station.station_id, name, str(exc))
            return "Rejected"
        self.ctrlr = candidate
        return "Accepted"

    # --- NotifyWebPaymentStarted -------------------------------------------------------

    def blocks_local(self, evse_id: int, now: float) -> bool:
        """Whether local authorization is off on ``evse_id``: a web payment was announced
        there and neither started nor timed out (C25: no concurrent local session)."""
        blocked = any(p.evse_id == evse_id and p.transaction_id is None and now <= p.until
                      and not p.closed for p in self.payments.values())
        if blocked:
            log.info("event=webpay_local_auth_blocked station=%s evse=%d",
                     self.station.station_id, evse_id)
        return blocked

    async def on_notify_started(self, ctx: CallContext, payload: dict[str, Any]) -> dict[str, Any]:
        evse_id, timeout = payload["evseId"], payload["timeout"]
        custom = payload.get("customData") or {}
        channel_id = custom.get("channelId")
        if evse_id not in self.station.model.evses:
            raise PropertyConstraintViolation(f"evseId: no EVSE {evse_id}")
        if not 0 <= timeout <= _MAX_TIMEOUT_S:
            raise PropertyConstraintViolation(
                f"timeout: {timeout} s is outside 0..{_MAX_TIMEOUT_S} s")
        if timeout == 0:  # a silent revocation of earlier announcements on this EVSE
            for key in [k for k, p in self.payments.items()
                        if p.evse_id == evse_id and p.transaction_id is None]:
                del self.payments[key]
            log.info("event=webpay_revoked station=%s evse=%d", self.station.station_id,
                     evse_id)
            return {}
        id_token = custom.get("idToken")
        if custom.get("vendorId") != VENDOR_ID or not isinstance(channel_id, str) \
                or not isinstance(id_token, str):
            raise OccurrenceConstraintViolation(
                f"customData: needs vendorId {VENDOR_ID!r}, a channelId and an idToken")
        now = self.station.clock.now()
        for key in [k for k, p in self.payments.items() if p.finished(now)]:
            del self.payments[key]
        self.payments[channel_id] = _Payment(
            evse_id, channel_id, now + timeout, float(custom.get("pricePerKWh", 0.0)),
            str(custom.get("currency", "EUR")), id_token=id_token)
        log.info("event=webpay_started station=%s evse=%d channel=%s timeout=%d from=%s",
                 self.station.station_id, evse_id, channel_id, timeout, ctx.remote_id)
        return {}

    # --- SecureDataTransfer ------------------------------------------------------------

    async def on_secure_data(self, ctx: CallContext, payload: dict[str, Any]) -> dict[str, Any]:
        channel_id, phase = payload["channelId"], payload["phase"]
        try:
            payment = self.payments.get(channel_id)
            if payment is None:
                raise ChannelError("UnknownChannel", f"no web payment announced for channel "
                                   f"{channel_id}")
            if phase == "Open":
                return self._open(payment, payload["clientKey"])
            if payment.channel is None or payment.closed:
                raise ChannelError("NotOpen", f"channel {channel_id} is not open")
            if phase == "Close":
                payment.closed = True
                return {"status": "Accepted"}
            message = payment.channel.open(payload["counter"], payload["ciphertext"])
            reply = payment.channel.seal(self._command(payment, message))
            return {"status": "Accepted", "counter": reply.counter,
                    "ciphertext": reply.ciphertext}
        except ChannelError as exc:
            log.warning("event=webpay_channel_refused station=%s channel=%s phase=%s "
                        "reason=%s detail=%r", self.station.station_id, channel_id, phase,
                        exc.reason, exc.message)
            return {"status": "Rejected",
                    "statusInfo": {"reasonCode": exc.reason[:20],
                                   "additionalInfo": exc.message[:512]}}

    def _open(self, payment: _Payment, client_key: str) -> dict[str, Any]:
        if payment.channel is not None:
            raise ChannelError("ChannelInUse", f"channel {payment.channel_id} was opened "
                               "already (a second Open is refused)")
        if self.station.clock.now() > payment.until and payment.transaction_id is None:
            raise ChannelError("Expired", "the web payment timed out before the channel opened")
        announcement, end = station_accept(payment.channel_id, self.station.station_id,
                                           client_key, self.identity)
        payment.channel = end
        log.info("event=webpay_channel_open station=%s channel=%s", self.station.station_id,
                 payment.channel_id)
        return {"status": "Accepted", **announcement.to_wire()}

    def _command(self, payment: _Payment, message: dict[str, Any]) -> dict[str, Any]:
        kind = message.get("type")
        if kind == "stop":
            evse = self.station.model.evses[payment.evse_id]
            session = evse.session
            if session is not None and session.transaction_id is not None \
                    and not session.ended and session.transaction_id == self._tx(payment):
                self.station.apply(self.station.model.stop(payment.evse_id, "Local",
                                                           self.station.clock.now()))
                log.info("event=webpay_stopped_by_phone station=%s channel=%s tx=%s",
                         self.station.station_id, payment.channel_id, session.transaction_id)
        elif kind != "status":
            return {"type": "error", "message": f"unknown command {kind!r}"}
        return self._status(payment)

    def _tx(self, payment: _Payment) -> str | None:
        """The transaction of the payment's session: the one on its EVSE started with the
        announced ad hoc idToken (never another driver's session on that EVSE)."""
        if payment.transaction_id is None:
            session = self.station.model.evses[payment.evse_id].session
            if session is not None and session.transaction_id is not None \
                    and session.id_token == payment.id_token:
                payment.transaction_id = session.transaction_id
        return payment.transaction_id

    def _status(self, payment: _Payment) -> dict[str, Any]:
        station, now = self.station, self.station.clock.now()
        station.apply(station.model.advance(now))
        evse = station.model.evses[payment.evse_id]
        tx = self._tx(payment)
        session = evse.session
        live = session is not None and tx is not None and session.transaction_id == tx
        state = "Waiting" if tx is None else "Charging"
        power = 0.0
        if live and session is not None:
            payment.energy_wh = evse.energy_wh - session.meter_start_wh
            power = evse.power_w
            if session.ended:
                state, power = "Ended", 0.0
        elif tx is not None:
            state = "Ended"  # the car left before the phone asked again
        cost = round(payment.energy_wh / 1000.0 * payment.price_per_kwh, 2)
        status: dict[str, Any] = {
            "type": "status", "state": state, "evseId": payment.evse_id, "transactionId": tx,
            "powerW": round(power, 1), "energyWh": round(payment.energy_wh, 1), "cost": cost,
            "currency": payment.currency}
        if state == "Ended":
            if payment.receipt is None:
                payment.ended_at = now
                payment.receipt = sign_receipt({
                    "channelId": payment.channel_id, "stationId": station.station_id,
                    "evseId": payment.evse_id, "transactionId": tx,
                    "idToken": payment.id_token,
                    "energyWh": round(payment.energy_wh, 1), "cost": cost,
                    "currency": payment.currency, "endedAt": format_seconds(now)},
                    self.identity)
            status["receipt"] = payment.receipt
        return status


def attach_web_payments(station: SimulatedStation, ctrlr: WebPaymentsCtrlr, identity: KeyPair,
                        **kwargs: Any) -> StationWebPayments:
    """Give an OCPP 2.1 station its WebPaymentsCtrlr and channel end (handlers registered)."""
    if station.version != "2.1":
        raise ValueError(f"web payments (C25) need an OCPP 2.1 station, not {station.version}")
    web = StationWebPayments(station, ctrlr, identity, **kwargs)
    station.handlers.add("NotifyWebPaymentStarted", web.on_notify_started)
    station.handlers.add("SecureDataTransfer", web.on_secure_data)
    station.web_payments = web
    return web
