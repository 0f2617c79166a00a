"""The operator's description of its public charging sites (the static AFIR data).

A sites file is TOML with one ``[sites]`` table: the operator, then ``[[sites.locations]]``,
each with ``[[sites.locations.evses]]`` and their ``[[...connectors]]``. Each EVSE names the
station (OCPP identity) and the OCPP EVSE id it is, so the dynamic status can be joined with
what the station reports. Names of enumerations are OCPI 2.2.1's (connector standards, power
types, parking types); :mod:`ocppnet.nap.datex2` maps them to DATEX II.

Validation is the same as for every configuration: unknown keys are errors, and an error
names the file and the dotted key (``sites.toml: sites.locations.0.evses.1.uid: ...``).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, Field, model_validator

from ocppnet.config import Section, load_section
from ocppnet.nap.countries import ALPHA3

__all__ = [
    "AdhocPrice",
    "Connector",
    "Evse",
    "Location",
    "OpeningPeriod",
    "Operator",
    "Sites",
    "load_sites",
]

ConnectorStandard = Literal[
    "CHADEMO", "CHAOJI", "DOMESTIC_A", "DOMESTIC_B", "DOMESTIC_C", "DOMESTIC_D", "DOMESTIC_E",
    "DOMESTIC_F", "DOMESTIC_G", "DOMESTIC_H", "DOMESTIC_I", "DOMESTIC_J", "DOMESTIC_K",
    "DOMESTIC_L", "DOMESTIC_M", "DOMESTIC_N", "DOMESTIC_O", "GBT_AC", "GBT_DC",
    "IEC_60309_2_single_16", "IEC_60309_2_three_16", "IEC_60309_2_three_32",
    "IEC_60309_2_three_64", "IEC_62196_T1", "IEC_62196_T1_COMBO", "IEC_62196_T2",
    "IEC_62196_T2_COMBO", "IEC_62196_T3A", "IEC_62196_T3C", "NEMA_5_20", "NEMA_6_30",
    "NEMA_6_50", "NEMA_10_30", "NEMA_10_50", "NEMA_14_30", "NEMA_14_50",
    "PANTOGRAPH_BOTTOM_UP", "PANTOGRAPH_TOP_DOWN", "TESLA_R", "TESLA_S",
]
PowerType = Literal["AC_1_PHASE", "AC_2_PHASE", "AC_2_PHASE_SPLIT", "AC_3_PHASE", "DC"]
ParkingType = Literal[
    "ALONG_MOTORWAY", "PARKING_GARAGE", "PARKING_LOT", "ON_DRIVEWAY", "ON_STREET",
    "UNDERGROUND_GARAGE",
]
# How a driver can start and pay; each maps to DATEX II and OCPI values (see docs).
PaymentMethod = Literal["rfid", "app", "website", "credit_card", "debit_card", "contactless"]
Weekday = Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
WEEKDAYS: tuple[Weekday, ...] = (
    "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday",
)

_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9*_.\-]*$")
_EMI3_EVSE = re.compile(r"^[A-Z]{2}\*?[A-Z0-9]{3}\*?E[A-Z0-9*]{1,30}$")
_HHMM = re.compile(r"^([01][0-9]|2[0-3]):[0-5][0-9]$|^24:00$")


def _identifier(value: str) -> str:
    if not _ID.match(value):
        raise ValueError("letters, digits and * _ . - only, starting with a letter or digit")
    return value


def _emi3_evse(value: str) -> str:
    if not _EMI3_EVSE.match(value):
        raise ValueError(f"{value!r} is not an eMI3 EVSE id (e.g. DE*ABC*E1001*1)")
    return value


def _time_zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown IANA time zone {value!r}") from None
    return value


def _hhmm(value: str) -> str:
    if not _HHMM.match(value):
        raise ValueError(f"expected HH:MM, got {value!r}")
    return value


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("needs a time zone offset (e.g. 2025-03-01T00:00:00Z)")
    return value.astimezone(UTC)


Identifier = Annotated[str, Field(min_length=1, max_length=36), AfterValidator(_identifier)]
TimeZone = Annotated[str, AfterValidator(_time_zone)]
EvseId = Annotated[str, Field(max_length=48), AfterValidator(_emi3_evse)]
HhMm = Annotated[str, AfterValidator(_hhmm)]
Timestamp = Annotated[datetime, AfterValidator(_aware)]


class Operator(Section):
    """Who runs the charge points: named in every publication and its signature."""

    name: str = Field(min_length=1, max_length=100)
    country_code: str = Field(pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2")
    party_id: str = Field(pattern=r"^[A-Z0-9]{3}$", description="eMI3 / OCPI party id")
    website: str | None = Field(default=None, pattern=r"^https?://")
    national_id: str | None = Field(
        default=None, min_length=1,
        description="id at the national access point; default country_code*party_id")

    @property
    def publisher_id(self) -> str:
        return self.national_id or f"{self.country_code}*{self.party_id}"


def _cents(value: float) -> float:
    if round(value, 2) != value:
        raise ValueError(f"at most two decimals (DATEX II amounts), got {value}")
    return value


Money = Annotated[float, Field(ge=0), AfterValidator(_cents)]


class AdhocPrice(Section):
    """The price a driver pays without a contract (AFIR Art. 5). Taken from the site data
    until the tariff in force is available from the tariffs module."""

    currency: str = Field(pattern=r"^[A-Z]{3}$")
    per_kwh: Money | None = None
    per_minute: Money | None = None
    per_session: Money | None = None
    vat_included: bool = True

    @model_validator(mode="after")
    def _some_price(self) -> AdhocPrice:
        if self.per_kwh is None and self.per_minute is None and self.per_session is None:
            raise ValueError("needs at least one of per_kwh, per_minute, per_session")
        return self


class OpeningPeriod(Section):
    """Open on ``days`` from ``open`` to ``close`` (local time; ``24:00`` = midnight)."""

    days: list[Weekday] = Field(min_length=1)
    open: HhMm
    close: HhMm

    @model_validator(mode="after")
    def _ordered(self) -> OpeningPeriod:
        if self.close != "24:00" and self.close <= self.open:
            raise ValueError(f"close {self.close} is not after open {self.open}")
        if len(set(self.days)) != len(self.days):
            raise ValueError("a day is listed twice")
        return self


class Connector(Section):
    id: int = Field(ge=1, le=99, description="connector id at the OCPP EVSE")
    standard: ConnectorStandard
    format: Literal["SOCKET", "CABLE"]
    power_type: PowerType
    max_power_w: int = Field(gt=0)
    max_voltage: int = Field(gt=0)
    max_amperage: int = Field(gt=0)


class Evse(Section):
    uid: Identifier
    evse_id: EvseId = Field(description="eMI3 EVSE id, e.g. DE*ABC*E1001*1")
    station: str = Field(min_length=1, max_length=48, description="OCPP identity")
    ocpp_evse: int = Field(default=1, ge=1, description="EVSE id at the station")
    physical_reference: str | None = Field(default=None, max_length=16)
    floor_level: str | None = Field(default=None, max_length=4)
    status: Literal["planned", "removed"] | None = Field(
        default=None, description="overrides the reported status while planned or removed")
    connectors: list[Connector] = Field(min_length=1)

    @model_validator(mode="after")
    def _check(self) -> Evse:
        ids = [c.id for c in self.connectors]
        if len(set(ids)) != len(ids):
            raise ValueError("two connectors with the same id")
        return self


class Location(Section):
    id: Identifier
    name: str = Field(min_length=1, max_length=255)
    address: str = Field(min_length=1, max_length=45)
    city: str = Field(min_length=1, max_length=45)
    postal_code: str = Field(min_length=1, max_length=10)
    country: str = Field(pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2")
    latitude: float = Field(ge=-90, le=90)
    longitude: float = Field(ge=-180, le=180)
    time_zone: TimeZone
    parking_type: ParkingType | None = None
    opening_hours: list[OpeningPeriod] = Field(
        default_factory=list, description="none: open 24/7")
    payment_methods: list[PaymentMethod] = Field(min_length=1)
    renewable: bool = False
    adhoc_price: AdhocPrice | None = None
    updated: Timestamp | None = None
    evses: list[Evse] = Field(min_length=1)

    @model_validator(mode="after")
    def _check(self) -> Location:
        if self.country not in ALPHA3:
            raise ValueError(f"country {self.country!r} is not an AFIR (EU/EEA) country")
        uids = [e.uid for e in self.evses]
        if len(set(uids)) != len(uids):
            raise ValueError("two EVSEs with the same uid")
        return self


class Sites(Section):
    """The ``[sites]`` table."""

    operator: Operator
    updated: Timestamp | None = Field(
        default=None, description="when the static data last changed; default: file mtime")
    k_anonymity: int = Field(default=5, ge=1, description="smallest published statistics cell")
    locations: list[Location] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique(self) -> Sites:
        ids = [loc.id for loc in self.locations]
        if len(set(ids)) != len(ids):
            raise ValueError("two locations with the same id")
        seen: dict[tuple[str, int], str] = {}
        uids: set[str] = set()
        for loc in self.locations:
            for evse in loc.evses:
                if evse.uid in uids:
                    raise ValueError(f"EVSE uid {evse.uid!r} is used at two locations")
                uids.add(evse.uid)
                key = (evse.station, evse.ocpp_evse)
                if key in seen:
                    raise ValueError(f"station {evse.station} EVSE {evse.ocpp_evse} is both "
                                     f"{seen[key]} and {evse.uid}")
                seen[key] = evse.uid
        return self

    def location_updated(self, location: Location) -> datetime:
        """When a location's static data last changed (its own stamp, else the file's)."""
        stamp = location.updated or self.updated
        if stamp is None:
            raise ValueError("sites.updated is not set")  # load_sites always sets it
        return stamp

    @property
    def last_updated(self) -> datetime:
        return max(self.location_updated(loc) for loc in self.locations)


def load_sites(path: str | Path) -> Sites:
    """Read ``[sites]`` from a TOML file; ``updated`` defaults to the file's mtime.

    Raises :class:`ocppnet.config.ConfigError` naming the file and the dotted key.
    """
    sites = load_section(path, "sites", Sites)
    if sites.updated is None:
        mtime = datetime.fromtimestamp(int(Path(path).stat().st_mtime), tz=UTC)
        sites = sites.model_copy(update={"updated": mtime})
    return sites
