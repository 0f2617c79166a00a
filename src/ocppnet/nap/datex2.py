"""DATEX II v3 energy-infrastructure publications (CEN/TS 16157-10), the format AFIR names.

:func:`table_publication` is the static data (``EnergyInfrastructureTablePublication``: sites,
stations, charge points, connectors, operator, opening hours, ad hoc price, payment, energy
mix); :func:`status_publication` the dynamic data (``EnergyInfrastructureStatusPublication``:
each charge point's status and whether its electricity is 100 % renewable, the ad hoc price
in force). Both return the XML document as bytes, deterministic for the same input:
``publicationTime`` is the time the data last changed, so an unchanged publication has the
same bytes (and ETag).

A site is a location of the site data, a station one OCPP station at it, a charge point
(``ElectricChargingPoint``, ``RefillPoint``) one EVSE. Object versions are the Unix time of
the object's last change. The documents validate against the official v3.2 XSD
(``tests/nap/schemas/datex2-v3.2``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from decimal import Decimal

from lxml import etree

from ocppnet.nap.sites import AdhocPrice, Connector, Evse, Location, OpeningPeriod, Sites
from ocppnet.nap.status import EvseState, EvseStatus, StatusSnapshot

__all__ = ["NS", "status_publication", "table_publication"]

NS = {
    "d2": "http://datex2.eu/schema/3/d2Payload",
    "com": "http://datex2.eu/schema/3/common",
    "egi": "http://datex2.eu/schema/3/energyInfrastructure",
    "fac": "http://datex2.eu/schema/3/facilities",
    "loc": "http://datex2.eu/schema/3/locationReferencing",
    "locx": "http://datex2.eu/schema/3/locationExtension",
    "xsi": "http://www.w3.org/2001/XMLSchema-instance",
}
_XSI_TYPE = f"{{{NS['xsi']}}}type"
_LANG = "en"
_MODEL_VERSION = "3"

_CONNECTOR_TYPES = {
    "CHADEMO": "chademo", "DOMESTIC_A": "domesticA", "DOMESTIC_B": "domesticB",
    "DOMESTIC_C": "domesticC", "DOMESTIC_D": "domesticD", "DOMESTIC_E": "domesticE",
    "DOMESTIC_F": "domesticF", "DOMESTIC_G": "domesticG", "DOMESTIC_H": "domesticH",
    "DOMESTIC_I": "domesticI", "DOMESTIC_J": "domesticJ", "DOMESTIC_K": "domesticK",
    "DOMESTIC_L": "domesticL", "DOMESTIC_M": "domesticM", "DOMESTIC_N": "domesticN",
    "DOMESTIC_O": "domesticO", "IEC_60309_2_single_16": "iec60309x2single16",
    "IEC_60309_2_three_16": "iec60309x2three16", "IEC_60309_2_three_32": "iec60309x2three32",
    "IEC_60309_2_three_64": "iec60309x2three64", "IEC_62196_T1": "iec62196T1",
    "IEC_62196_T1_COMBO": "iec62196T1COMBO", "IEC_62196_T2": "iec62196T2",
    "IEC_62196_T2_COMBO": "iec62196T2COMBO", "IEC_62196_T3A": "iec62196T3A",
    "IEC_62196_T3C": "iec62196T3C", "PANTOGRAPH_BOTTOM_UP": "pantographBottomUp",
    "PANTOGRAPH_TOP_DOWN": "pantographTopDown", "TESLA_R": "teslaR", "TESLA_S": "teslaS",
}
_CHARGING_MODES = {"AC_3_PHASE": "mode3AC3p", "DC": "mode4DC"}
_AUTHENTICATION = {
    "rfid": "rfid", "app": "apps", "website": "website", "credit_card": "creditCard",
    "debit_card": "debitCard", "contactless": "nfc",
}
_PAYMENT_MEANS = {"credit_card": "paymentCreditCard", "debit_card": "paymentDebitCard"}


def _q(tag: str) -> str:
    prefix, name = tag.split(":")
    return f"{{{NS[prefix]}}}{name}"


def _sub(parent: etree._Element, tag: str, text: str | None = None,
         **attributes: str) -> etree._Element:
    element = etree.SubElement(parent, _q(tag))
    if text is not None:
        element.text = text
    for key, value in attributes.items():
        element.set(_XSI_TYPE if key == "xsi_type" else key, value)
    return element


def _time(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _version(value: datetime) -> str:
    return str(int(value.timestamp()))


def _text(parent: etree._Element, tag: str, text: str) -> None:
    values = _sub(_sub(parent, tag), "com:values")
    _sub(values, "com:value", text, lang=_LANG)


def _money(value: float) -> str:
    return str(Decimal(str(value)).quantize(Decimal("0.01")))


def _payload(kind: str, sites: Sites, published: datetime) -> etree._Element:
    root = etree.Element(_q("d2:payload"), nsmap=NS)
    root.set(_XSI_TYPE, f"egi:{kind}")
    root.set("lang", _LANG)
    root.set("modelBaseVersion", _MODEL_VERSION)
    _sub(root, "com:publicationTime", _time(published))
    creator = _sub(root, "com:publicationCreator")
    _sub(creator, "com:country", sites.operator.country_code)
    _sub(creator, "com:nationalIdentifier", sites.operator.publisher_id)
    return root


def _serialize(root: etree._Element) -> bytes:
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def station_groups(location: Location) -> dict[str, list[Evse]]:
    """The location's EVSEs by OCPP station, in site-data order."""
    groups: dict[str, list[Evse]] = {}
    for evse in location.evses:
        groups.setdefault(evse.station, []).append(evse)
    return groups


def station_object_id(location: Location, station: str) -> str:
    return f"{location.id}/{station}"


# --- static: the table publication ---

def table_publication(sites: Sites) -> bytes:
    """The ``EnergyInfrastructureTablePublication`` of every location in ``sites``."""
    published = sites.last_updated
    root = _payload("EnergyInfrastructureTablePublication", sites, published)
    table = _sub(root, "egi:energyInfrastructureTable", id=sites.operator.publisher_id,
                 version=_version(published))
    for location in sites.locations:
        _site(table, sites, location)
    return _serialize(root)


def _site(table: etree._Element, sites: Sites, location: Location) -> None:
    updated = sites.location_updated(location)
    version = _version(updated)
    site = _sub(table, "egi:energyInfrastructureSite", id=location.id, version=version)
    _text(site, "fac:name", location.name)
    _sub(site, "fac:lastUpdated", _time(updated))
    _operating_hours(site, location, updated)
    _location_reference(site, location)
    _operator(site, sites, version)
    _rates(site, "fac:rates", location, location.adhoc_price, updated)
    for station, evses in station_groups(location).items():
        element = _sub(site, "egi:energyInfrastructureStation",
                       id=station_object_id(location, station), version=version)
        _sub(element, "fac:lastUpdated", _time(updated))
        for method in location.payment_methods:
            _sub(element, "egi:authenticationAndIdentificationMethods", _AUTHENTICATION[method])
        for evse in evses:
            _charging_point(element, location, evse, updated)


def _operating_hours(site: etree._Element, location: Location, updated: datetime) -> None:
    if not location.opening_hours:
        _sub(site, "fac:operatingHours", xsi_type="fac:OpenAllHours")
        return
    hours = _sub(site, "fac:operatingHours", xsi_type="fac:OperatingHoursSpecification",
                 id=f"{location.id}/hours", version=_version(updated))
    overall = _sub(hours, "fac:overallPeriod")
    _sub(overall, "com:overallStartTime", _time(updated))
    for period in location.opening_hours:
        _period(overall, period)


def _period(overall: etree._Element, period: OpeningPeriod) -> None:
    valid = _sub(overall, "com:validPeriod")
    of_day = _sub(valid, "com:recurringTimePeriodOfDay")
    close = "23:59:59" if period.close == "24:00" else f"{period.close}:00"
    _sub(of_day, "com:startTimeOfPeriod", f"{period.open}:00")
    _sub(of_day, "com:endTimeOfPeriod", close)
    days = _sub(valid, "com:recurringDayWeekMonthPeriod")
    for day in period.days:
        _sub(days, "com:applicableDay", day)


def _location_reference(site: etree._Element, location: Location) -> None:
    reference = _sub(site, "fac:locationReference", xsi_type="loc:PointLocation")
    extension = _sub(reference, "loc:_locationReferenceExtension")
    facility = _sub(extension, "loc:facilityLocation")
    address = _sub(facility, "locx:address")
    _sub(address, "locx:postcode", location.postal_code)
    _text(address, "locx:city", location.city)
    _sub(address, "locx:countryCode", location.country)
    line = _sub(address, "locx:addressLine", order="1")
    _sub(line, "locx:type", "street")
    _text(line, "locx:text", location.address)
    by_coordinates = _sub(reference, "loc:pointByCoordinates")
    coordinates = _sub(by_coordinates, "loc:pointCoordinates")
    _sub(coordinates, "loc:latitude", repr(location.latitude))
    _sub(coordinates, "loc:longitude", repr(location.longitude))


def _operator(site: etree._Element, sites: Sites, version: str) -> None:
    operator = sites.operator
    element = _sub(site, "fac:operator", xsi_type="fac:OrganisationSpecification",
                   id=operator.publisher_id, version=version)
    _text(element, "fac:name", operator.name)
    _sub(element, "fac:externalCode", f"{operator.country_code}*{operator.party_id}")
    if operator.website:
        _sub(element, "fac:linkToGeneralInformation", operator.website)
    _sub(element, "fac:organisationUnit")


def _rates(parent: etree._Element, tag: str, location: Location, price: AdhocPrice | None,
           updated: datetime) -> None:
    """The ad hoc price and the payment means (AFIR Art. 5) as a ``RateTable``."""
    means = [_PAYMENT_MEANS[m] for m in location.payment_methods if m in _PAYMENT_MEANS]
    if price is None:
        if means:
            rates = _sub(parent, tag, xsi_type="fac:UnspecifiedRates")
            _payment(rates, means)
        return
    rates = _sub(parent, tag, xsi_type="fac:RateTable", id=f"{location.id}/adhoc",
                 version=_version(updated))
    _sub(rates, "fac:applicableCurrency", price.currency)
    if means:
        _payment(rates, means)
    policy = _sub(rates, "fac:energyPricingPolicy")
    if price.per_kwh is not None:
        _sub(policy, "egi:pricingPolicy", "pricePerDeliveryUnit")
    if price.per_minute is not None:
        _sub(policy, "egi:pricingPolicy", "pricePerChargingTime")
    if price.per_kwh is None and price.per_minute is None:
        _sub(policy, "egi:pricingPolicy", "flatRate")
    _sub(rates, "fac:lastUpdated", _time(updated))
    _text(rates, "fac:rateTableName", "ad hoc")
    collection = _sub(rates, "fac:rateLineCollection", collectionSequence="1")
    _sub(collection, "fac:applicableCurrency", price.currency)
    _sub(collection, "fac:taxIncluded", "true" if price.vat_included else "false")
    sequence = 0
    for kind, value, unit, period in (
        ("flatRate", price.per_session, "per session", None),
        ("perUnit", price.per_kwh, "per kWh", None),
        ("incrementingRate", price.per_minute, "per minute", "PT1M"),
    ):
        if value is None:
            continue
        sequence += 1
        line = _sub(collection, "fac:rateLine", sequence=str(sequence))
        _sub(line, "fac:rateLineType", kind)
        _text(line, "fac:description", unit)
        if period is not None:
            _sub(line, "fac:incrementPeriod", period)
        _sub(line, "fac:value", _money(value))


def _payment(rates: etree._Element, means: Iterable[str]) -> None:
    payment = _sub(rates, "fac:paymentMethod")
    for mean in means:
        _sub(payment, "fac:paymentMeans", mean)


def _charging_point(station: etree._Element, location: Location, evse: Evse,
                    updated: datetime) -> None:
    point = _sub(station, "egi:refillPoint", xsi_type="egi:ElectricChargingPoint",
                 id=evse.uid, version=_version(updated))
    _sub(point, "fac:externalIdentifier", evse.evse_id)
    _sub(point, "fac:lastUpdated", _time(updated))
    _sub(point, "egi:availableChargingPower",
         repr(float(max(c.max_power_w for c in evse.connectors))))
    for connector in evse.connectors:
        _connector(point, connector)
    mix = _sub(point, "egi:electricEnergyMix", energyMixIndex="1")
    _sub(mix, "egi:isGreenEnergy", "true" if location.renewable else "false")


def _connector(point: etree._Element, connector: Connector) -> None:
    element = _sub(point, "egi:connector")
    _sub(element, "egi:connectorType", _CONNECTOR_TYPES.get(connector.standard, "other"))
    if connector.power_type in _CHARGING_MODES:
        _sub(element, "egi:chargingMode", _CHARGING_MODES[connector.power_type])
    if connector.format == "SOCKET":
        connector_format = "socket"
    else:
        connector_format = "cableMode3" if connector.power_type != "DC" else "otherCable"
    _sub(element, "egi:connectorFormat", connector_format)
    _sub(element, "egi:maxPowerAtSocket", repr(float(connector.max_power_w)))
    _sub(element, "egi:voltage", repr(float(connector.max_voltage)))
    _sub(element, "egi:maximumCurrent", repr(float(connector.max_amperage)))


# --- dynamic: the status publication ---

def status_publication(sites: Sites, snapshot: StatusSnapshot,
                       prices: Mapping[str, AdhocPrice] | None = None) -> bytes:
    """The ``EnergyInfrastructureStatusPublication``: every charge point's status, and the
    ad hoc price in force per location (``prices`` by location id, else the site data's)."""
    root = _payload("EnergyInfrastructureStatusPublication", sites, snapshot.last_modified)
    for location in sites.locations:
        price = (prices or {}).get(location.id, location.adhoc_price)
        _site_status(root, sites, location, snapshot.states, price)
    return _serialize(root)


def _reference(parent: etree._Element, object_id: str, version: str) -> None:
    _sub(parent, "fac:reference", targetClass="fac:FacilityObject", id=object_id,
         version=version)


def _site_status(root: etree._Element, sites: Sites, location: Location,
                 states: Mapping[str, EvseState], price: AdhocPrice | None) -> None:
    static = sites.location_updated(location)
    version = _version(static)
    mine = [states[e.uid] for e in location.evses if e.uid in states]
    changed = max([static, *(s.updated for s in mine)])
    site = _sub(root, "egi:energyInfrastructureSiteStatus")
    _reference(site, location.id, version)
    _sub(site, "fac:lastUpdated", _time(changed))
    if price is not None:
        _rates(site, "fac:newRates", location, price, static)
    for station, evses in station_groups(location).items():
        points = [states[e.uid] for e in evses if e.uid in states]
        element = _sub(site, "egi:energyInfrastructureStationStatus")
        _reference(element, station_object_id(location, station), version)
        _sub(element, "fac:lastUpdated", _time(max([static, *(p.updated for p in points)])))
        available = any(p.status is EvseStatus.AVAILABLE for p in points)
        _sub(element, "egi:isAvailable", "true" if available else "false")
        for state in points:
            point = _sub(element, "egi:refillPointStatus",
                         xsi_type="egi:ElectricChargingPointStatus")
            _reference(point, state.uid, version)
            _sub(point, "fac:lastUpdated", _time(state.updated))
            _sub(point, "egi:status", state.status.value)
            mix = _sub(point, "egi:electricEnergyMixOverride", energyMixIndex="1")
            _sub(mix, "egi:isGreenEnergy", "true" if location.renewable else "false")
