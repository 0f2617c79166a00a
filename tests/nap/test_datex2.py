"""DATEX II v3 publications of the demo's sites validate against the official v3.2 XSD and
say what the site data and the stations say."""

from __future__ import annotations

from datetime import timedelta

from lxml import etree

from ocppnet.nap.datex2 import NS, status_publication, table_publication
from ocppnet.nap.sites import Sites
from ocppnet.nap.status import evse_states, snapshot
from tests.nap.conftest import T0, assert_valid, connector, station


def test_the_table_of_the_example_sites_is_schema_valid(
        sites: Sites, datex2_schema: etree.XMLSchema) -> None:
    root = assert_valid(datex2_schema, table_publication(sites))
    assert root.get(f"{{{NS['xsi']}}}type") == "egi:EnergyInfrastructureTablePublication"
    site_ids = root.xpath("//egi:energyInfrastructureSite/@id", namespaces=NS)
    assert site_ids == ["DE-EXC-MARKT", "DE-EXC-HOF", "DE-EXC-SEE"]
    points = root.xpath("//egi:refillPoint/fac:externalIdentifier/text()", namespaces=NS)
    assert "DE*EXC*E0012*1" in points and len(points) == 8
    hof = root.xpath("//egi:energyInfrastructureSite[@id='DE-EXC-HOF']", namespaces=NS)[0]
    assert hof.xpath(".//egi:connectorType/text()", namespaces=NS)[:3] == [
        "iec62196T2COMBO", "iec62196T2COMBO", "chademo"]
    assert hof.xpath(".//fac:rateLine/fac:value/text()", namespaces=NS) == ["0.69", "0.05"]
    assert hof.xpath(".//com:applicableDay/text()", namespaces=NS)[-2:] == [
        "saturday", "sunday"]
    assert hof.xpath(".//com:endTimeOfPeriod/text()", namespaces=NS) == ["23:00:00", "23:59:59"]
    green = root.xpath("//egi:energyInfrastructureSite[@id='DE-EXC-MARKT']//"
                       "egi:isGreenEnergy/text()", namespaces=NS)
    assert set(green) == {"true"}
    assert root.xpath("string(//com:publicationTime)", namespaces=NS) == "2025-03-01T12:00:00Z"


def test_the_status_of_the_example_sites_is_schema_valid(
        sites: Sites, datex2_schema: etree.XMLSchema) -> None:
    later = T0 + timedelta(minutes=3)
    states = evse_states(sites, {"CS-D1": station("CS-D1"), "CS-A1": station("CS-A1")},
                         {"CS-D1": [connector("CS-D1", 1, "Available")],
                          "CS-A1": [connector("CS-A1", 1, "Faulted", later)]}, [])
    root = assert_valid(datex2_schema, status_publication(sites, snapshot(sites, states)))
    status = {
        point.xpath("string(fac:reference/@id)", namespaces=NS):
            point.xpath("string(egi:status)", namespaces=NS)
        for point in root.xpath("//egi:refillPointStatus", namespaces=NS)
    }
    assert status["MARKT-D1-1"] == "available"
    assert status["MARKT-A1-1"] == "outOfOrder"
    assert status["HOF-B1-1"] == "unknown"
    assert status["SEE-PLANNED-1"] == "planned"
    assert root.xpath("string(//com:publicationTime)", namespaces=NS) == "2025-03-01T12:03:00Z"
    green = {p.xpath("string(fac:reference/@id)", namespaces=NS):
             p.xpath("string(egi:electricEnergyMixOverride/egi:isGreenEnergy)", namespaces=NS)
             for p in root.xpath("//egi:refillPointStatus", namespaces=NS)}
    assert green["MARKT-D1-1"] == "true" and green["HOF-B1-1"] == "false"
    assert root.xpath("//egi:energyInfrastructureSiteStatus[fac:reference/@id='DE-EXC-MARKT']"
                      "//fac:newRates//fac:value/text()", namespaces=NS) == ["0.59"]


def test_same_data_same_bytes(sites: Sites) -> None:
    states = evse_states(sites, {}, {}, [])
    assert table_publication(sites) == table_publication(sites)
    assert status_publication(sites, snapshot(sites, states)) == \
        status_publication(sites, snapshot(sites, dict(states)))


def test_the_schema_check_is_real(sites: Sites, datex2_schema: etree.XMLSchema) -> None:
    """A status outside the DATEX II enumeration, or a missing required attribute, fails."""
    document = status_publication(sites, snapshot(sites, evse_states(sites, {}, {}, [])))
    bad = etree.fromstring(document.replace(b">unknown<", b">broken<", 1))
    assert not datex2_schema.validate(bad)
    assert "enumeration" in str(datex2_schema.error_log.last_error)
    bad = etree.fromstring(table_publication(sites).replace(b' modelBaseVersion="3"', b"", 1))
    assert not datex2_schema.validate(bad)
