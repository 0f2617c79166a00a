"""The ``[webpay]`` table of the web-payment participant's TOML file.

```toml
[webpay]
url_template = "http://127.0.0.1:8300/pay/{chargingStationId}/{evse}/{totp}?v={version}&k={channelKeyId}"
price_per_kwh = 0.39          # what the driver pays (until a tariff is published for the site)
currency = "EUR"
max_amount = 50.0             # the simulated PSP authorizes this much, settles what was used
payment_timeout_s = 120       # NotifyWebPaymentStarted.timeout
settle_to = "CSMS"            # where NotifySettlement goes

[[webpay.stations]]
id = "CS-1"
shared_secret = "the WebPaymentsCtrlr.SharedSecret of CS-1"
validity_s = 30
length = 12
```
"""

from __future__ import annotations

from pydantic import Field, ValidationInfo, field_validator

from ocppnet.config import Section
from ocppnet.webpay.sessions import LinkError, PaymentSessions
from ocppnet.webpay.totp import TotpSettings, TotpSettingsError
from ocppnet.webpay.url_template import UrlTemplate, UrlTemplateError

__all__ = ["WebpaySection", "WebpayStation"]


class WebpayStation(Section):
    """One station whose QR codes this service accepts (its WebPaymentsCtrlr values)."""

    id: str = Field(description="the station's id (chargingStationId in the URL)")
    shared_secret: str = Field(repr=False, description="WebPaymentsCtrlr.SharedSecret")
    validity_s: int = Field(30, description="WebPaymentsCtrlr.ValidityTime, seconds")
    length: int = Field(12, description="WebPaymentsCtrlr.Length")
    totp_version: str = Field("1", description="WebPaymentsCtrlr.TOTPVersion")

    def settings(self) -> TotpSettings:
        return TotpSettings(self.shared_secret, self.validity_s, self.length,
                            version=self.totp_version)

    @field_validator("shared_secret", "validity_s", "length", "totp_version")
    @classmethod
    def _usable(cls, value: str | int, info: ValidationInfo) -> str | int:
        """The TOTP's own checks, reported at the TOML key that holds the value."""
        field = {"shared_secret": "shared_secret", "validity_s": "validity_s",
                 "length": "length", "totp_version": "version"}[info.field_name or ""]
        try:
            TotpSettings(**{"shared_secret": "x" * 16, field: value})  # type: ignore[arg-type]
        except TotpSettingsError as exc:
            raise ValueError(str(exc).split(": ", 1)[-1]) from None
        return value


class WebpaySection(Section):
    """``[webpay]``: the QR URL template, the price, the stations."""

    url_template: str = Field(description="the WebPaymentsCtrlr.URLTemplate of the stations")
    price_per_kwh: float = Field(description="price per kWh the driver pays")
    currency: str = Field("EUR", description="ISO 4217 currency of the price")
    max_amount: float = Field(50.0, description="amount the simulated PSP authorizes")
    payment_timeout_s: int = Field(120, description="NotifyWebPaymentStarted.timeout, s")
    settle_to: str = Field("CSMS", description="destination id of NotifySettlement")
    stations: tuple[WebpayStation, ...] = Field(description="stations taking web payments")

    @field_validator("url_template")
    @classmethod
    def _template(cls, value: str) -> str:
        try:
            template = UrlTemplate.parse(value)
            PaymentSessions(template, {})
        except (UrlTemplateError, LinkError) as exc:
            raise ValueError(str(exc).removeprefix("URLTemplate: ").removeprefix(
                "url_template: ")) from None
        return value

    @field_validator("price_per_kwh", "max_amount")
    @classmethod
    def _positive(cls, value: float) -> float:
        if value < 0:
            raise ValueError("must be >= 0")
        return value

    @field_validator("payment_timeout_s")
    @classmethod
    def _timeout(cls, value: int) -> int:
        if not 0 < value <= 300:
            raise ValueError("must be 1..300 s (C25: at most 5 minutes)")
        return value

    @field_validator("stations")
    @classmethod
    def _stations(cls, value: tuple[WebpayStation, ...]) -> tuple[WebpayStation, ...]:
        if not value:
            raise ValueError("at least one [[webpay.stations]] is needed")
        ids = [s.id for s in value]
        if len(set(ids)) != len(ids):
            raise ValueError("a station id appears twice")
        return value

    def sessions(self) -> PaymentSessions:
        return PaymentSessions(UrlTemplate.parse(self.url_template),
                               {s.id: s.settings() for s in self.stations})
