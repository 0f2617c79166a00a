"""The web-payment service's sessions, pure: from a scanned QR link to a settled payment.

:meth:`PaymentSessions.open_link` takes the path and query the phone sent, matches them
against the URL template, checks the station, the TOTP (previous/current/next slot) and that
the link was not used before, and opens a :class:`PaymentSession`. Every refusal is a
:class:`LinkError` with a reason code and one sentence for the page and the log. The state
machine refuses steps out of order (paying twice, starting before the channel is open).
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final, Literal

from ocppnet.webpay.channel import new_channel_id
from ocppnet.webpay.totp import TotpSettings, time_slot, totp_for_slot, verify
from ocppnet.webpay.url_template import UrlTemplate

__all__ = ["LinkError", "PaymentSession", "PaymentSessions", "State"]

State = Literal["Scanned", "Paid", "ChannelOpen", "Charging", "Settled", "Failed"]
_NEXT: Final[dict[str, tuple[str, ...]]] = {
    "Scanned": ("Paid", "Failed"),
    "Paid": ("ChannelOpen", "Failed"),
    "ChannelOpen": ("Charging", "Failed"),
    "Charging": ("Settled", "Failed"),
    "Settled": (),
    "Failed": (),
}
_EXPIRED_LOOKBACK_S: Final = 3600  # an older TOTP is "wrong", a younger one "expired"
_KEEP_FINISHED_S: Final = 3600  # a settled or failed session stays readable this long
_KEEP_ANY_S: Final = 86_400  # no session outlives a day


class LinkError(ValueError):
    """A scanned link or a step the service refuses; ``reason`` is a short code."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


@dataclass(slots=True)
class PaymentSession:
    """One driver's ad hoc payment, from the scan to the settlement."""

    id: str
    station_id: str
    evse_id: int
    fingerprint: str
    created_at: float
    channel_id: str = field(default_factory=new_channel_id)
    state: State = "Scanned"
    psp_ref: str | None = None
    id_token: str | None = None
    station_key: str | None = None  # relayed in the channel's Open answer (public)
    transaction_id: str | None = None
    amount: float | None = None
    error: str | None = None

    def stale(self, now: float) -> bool:
        """Old enough to forget: finished an hour ago, or started a day ago."""
        age = now - self.created_at
        return age > _KEEP_ANY_S or (self.state in ("Settled", "Failed")
                                     and age > _KEEP_FINISHED_S)

    def advance(self, to: State) -> None:
        if to not in _NEXT[self.state]:
            raise LinkError("OutOfOrder", f"session {self.id} is {self.state}; cannot go to {to}")
        self.state = to


class PaymentSessions:
    """All sessions of one service, and the links already used."""

    def __init__(self, template: UrlTemplate, stations: Mapping[str, TotpSettings]) -> None:
        for needed in ("chargingStationId", "evse", "totp", "channelKeyId"):
            if needed not in template.variables:
                raise LinkError("BadTemplate",
                                f"url_template: needs {{{needed}}} for the web-payment service")
        self.template = template
        self.stations = dict(stations)
        self.sessions: dict[str, PaymentSession] = {}
        self._used: dict[tuple[str, str, str], float] = {}  # (station, evse, totp) -> until

    def open_link(self, path_and_query: str, now: float) -> PaymentSession:
        """A new session for a valid, unused link; LinkError otherwise."""
        self._forget_old(now)
        fields = self.template.match(path_and_query)
        if fields is None:
            raise LinkError("Malformed", "this address is not a payment link of this service")
        station_id, evse, code = fields["chargingStationId"], fields["evse"], fields["totp"]
        settings = self.stations.get(station_id)
        if settings is None:
            raise LinkError("UnknownStation", f"station {station_id} does not take web payments "
                            "here")
        if not evse.isdigit() or int(evse) < 1:
            raise LinkError("Malformed", f"evse {evse!r} is not an EVSE number")
        if "version" in fields and fields["version"] != settings.version:
            raise LinkError("Malformed", f"TOTP version {fields['version']!r} is not "
                            f"{settings.version!r}")
        if verify(settings, code, now) is None:
            if self._expired(settings, code, now):
                raise LinkError("Expired", "this QR code has expired: scan the code the "
                                "station shows now")
            raise LinkError("WrongTotp", "this QR code is not valid for this station")
        key = (station_id, evse, code)
        if key in self._used:
            raise LinkError("Reused", "this payment link was used already: scan the code the "
                            "station shows now")
        self._used[key] = now + 3 * settings.validity_s
        session = PaymentSession(secrets.token_urlsafe(16), station_id, int(evse),
                                 fields["channelKeyId"], now)
        self.sessions[session.id] = session
        return session

    @property
    def remembered_links(self) -> int:
        """How many used links are remembered (each until its TOTP could not pass anyway)."""
        return len(self._used)

    def get(self, session_id: str) -> PaymentSession:
        session = self.sessions.get(session_id)
        if session is None:
            raise LinkError("UnknownSession", "no such payment session (it may have ended)")
        return session

    @staticmethod
    def _expired(settings: TotpSettings, code: str, now: float) -> bool:
        current = time_slot(now, settings.validity_s)
        slots = min(_EXPIRED_LOOKBACK_S // settings.validity_s, 720)
        given = code.encode()
        return any(hmac.compare_digest(totp_for_slot(settings, current - back).encode(), given)
                   for back in range(2, min(slots, current) + 1))

    def _forget_old(self, now: float) -> None:
        for key in [k for k, until in self._used.items() if until < now]:
            del self._used[key]
        for sid in [sid for sid, s in self.sessions.items() if s.stale(now)]:
            del self.sessions[sid]
