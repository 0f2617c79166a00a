"""Shared fixtures: the example site data with a fixed change time, the official DATEX II
v3.2 schema (compiled once), and store records as the CSMS writes them."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from lxml import etree

from ocppnet.nap.sites import Sites, load_sites
from ocppnet.store.records import ConnectorRecord, StationRecord

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "sites.toml"
SCHEMA = Path(__file__).parent / "schemas" / "datex2-v3.2" / "DATEXII_3_D2Payload.xsd"
T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def sites() -> Sites:
    return load_sites(EXAMPLE).model_copy(update={"updated": T0})


@pytest.fixture(scope="session")
def datex2_schema() -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(SCHEMA)))


def assert_valid(schema: etree.XMLSchema, document: bytes) -> etree._Element:
    root = etree.fromstring(document)
    assert schema.validate(root), "\n".join(str(e) for e in schema.error_log)
    return root


def station(station_id: str, *, connected: bool = True, version: str = "2.0.1",
            at: datetime = T0) -> StationRecord:
    return StationRecord(station_id, "Vendor", "Model", None, None, version, "Accepted",
                         "PowerUp", at, connected, ())


def connector(station_id: str, evse: int, status: str, at: datetime = T0,
              connector_id: int = 1) -> ConnectorRecord:
    return ConnectorRecord(station_id, evse, connector_id, status, at)
