"""Site data: the example loads; bad input is one ConfigError naming the file and dotted key."""

from __future__ import annotations

from pathlib import Path

import pytest

from ocppnet.errors import ConfigError
from ocppnet.nap.sites import load_sites
from tests.nap.conftest import EXAMPLE, T0


def test_the_example_loads_with_the_file_time_as_default_change_time() -> None:
    sites = load_sites(EXAMPLE)
    assert [loc.id for loc in sites.locations] == ["DE-EXC-MARKT", "DE-EXC-HOF", "DE-EXC-SEE"]
    assert sites.updated is not None and sites.operator.publisher_id == "DE*EXC"
    hof = sites.locations[1]
    assert hof.opening_hours and not sites.locations[0].opening_hours
    assert hof.adhoc_price is not None
    assert hof.adhoc_price.per_minute == 0.05
    assert sites.locations[2].evses[1].status == "planned"


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "sites.toml"
    path.write_text(text)
    return path


def _variant(tmp_path: Path, old: str, new: str) -> Path:
    text = EXAMPLE.read_text()
    assert old in text
    return _write(tmp_path, text.replace(old, new, 1))


@pytest.mark.parametrize(("old", "new", "key"), [
    ('standard = "IEC_62196_T2"', 'standard = "SCHUKO"',
     "sites.locations[0].evses[0].connectors[0].standard"),
    ('time_zone = "Europe/Berlin"', 'time_zone = "Europe/Atlantis"',
     "sites.locations[0].time_zone"),
    ('evse_id = "DE*EXC*E0001*1"', 'evse_id = "12345"', "sites.locations[0].evses[0].evse_id"),
    ("latitude = 52.520008", "latitude = 152.5", "sites.locations[0].latitude"),
    ('party_id = "EXC"', 'party_id = "EXC"\ncolour = "red"', "sites.operator.colour"),
    ('uid = "MARKT-A1-1"', 'uid = "MARKT-D1-1"', "sites.locations[0]"),
    ("per_kwh = 0.59", "per_kwh = 0.595", "sites.locations[0].adhoc_price.per_kwh"),
    ('close = "23:00"', 'close = "05:00"', "sites.locations[1].opening_hours[0]: close 05:00"),
    ('country = "DE"\nlatitude = 52.520008', 'country = "US"\nlatitude = 52.520008',
     "sites.locations[0]"),
    ("max_power_w = 22000", 'max_power_w = "22000"',
     "sites.locations[0].evses[0].connectors[0].max_power_w"),
])
def test_bad_site_data_names_the_file_and_the_key(tmp_path: Path, old: str, new: str,
                                                   key: str) -> None:
    path = _variant(tmp_path, old, new)
    with pytest.raises(ConfigError) as caught:
        load_sites(path)
    message = caught.value.description or str(caught.value)
    assert message.startswith(f"{path}: {key}"), message
    assert "\n" not in message


def test_the_same_station_evse_twice_is_refused(tmp_path: Path) -> None:
    path = _variant(tmp_path, 'station = "CS-A1"', 'station = "CS-D1"')
    with pytest.raises(ConfigError, match="CS-D1 EVSE 1 is both MARKT-D1-1 and MARKT-A1-1"):
        load_sites(path)


def test_a_file_without_sites_or_with_bad_toml(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="sites"):
        load_sites(_write(tmp_path, "[csms]\nport = 1\n"))
    with pytest.raises(ConfigError, match=r"sites\.toml"):
        load_sites(_write(tmp_path, "[sites\n"))


def test_an_explicit_change_time_wins_over_the_file_time(tmp_path: Path) -> None:
    path = _variant(tmp_path, "# updated = 2025-03-01T00:00:00Z", "updated = 2025-03-01T12:00:00Z")
    assert load_sites(path).updated == T0
