"""TOML/dict -> PlausibilityConfig; errors name the source and the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from ocppnet.errors import ConfigError
from ocppnet.plausibility import DEFAULT_RULES, PlausibilityConfig, load_config, parse_config


def test_defaults_when_empty() -> None:
    assert parse_config({}) == PlausibilityConfig()
    assert parse_config({}).severity("energy.decreasing") == "reject"


def test_a_full_toml_file_is_parsed(tmp_path: Path) -> None:
    path = tmp_path / "node.toml"
    path.write_text(
        "[plausibility]\n"
        "max_power_w = 22000\n"
        "clock_skew_s = 60\n"
        "[plausibility.stations]\n"
        "CS-1 = 11000\n"
        '"CS-2" = { max_power_w = 50000 }\n'
        "[plausibility.models]\n"
        '"Wallbox 3" = 3700\n'
        "[plausibility.rules]\n"
        'energy.rate = "flag"\n'
        '"soc.jump" = "off"\n',
        encoding="utf-8",
    )
    config = load_config(path)
    assert config.max_power_w == 22_000.0 and config.clock_skew_s == 60.0
    assert config.stations == {"CS-1": 11_000.0, "CS-2": 50_000.0}
    assert config.models == {"Wallbox 3": 3_700.0}
    assert config.rules == {**DEFAULT_RULES, "energy.rate": "flag", "soc.jump": "off"}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"max_power_w": "22 kW"},
         "x.toml: plausibility.max_power_w: input should be a valid number"),
        ({"max_power_w": 0}, "plausibility.max_power_w: must be positive"),
        ({"clock_skew_s": -1}, "plausibility.clock_skew_s: must be zero or more"),
        ({"max_powr_w": 1}, "plausibility.max_powr_w: unknown key"),
        ({"rules": {"energy.rat": "flag"}}, "plausibility.rules: unknown rule 'energy.rat'"),
        ({"rules": {"energy.rate": "refuse"}},
         "plausibility.rules.energy.rate: input should be 'reject', 'flag' or 'off'"),
        ({"stations": {"CS-1": {"max_power": 1}}},
         "plausibility.stations.CS-1: input should be a valid number, got {'max_power': 1}"),
        ({"models": {"M": True}}, "plausibility.models.M: input should be a valid number"),
    ],
)
def test_errors_name_the_key(data: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(data, source="x.toml")
    assert message in caught.value.description


def test_a_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"nope\.toml"):
        load_config(tmp_path / "nope.toml")
