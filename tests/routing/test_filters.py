"""ForwardingFilter: first match, globs, direction, config errors naming the key."""

from __future__ import annotations

from typing import Any

import pytest

from ocppnet.errors import ConfigError
from ocppnet.routing import FilterRule, ForwardingFilter

FIREWALL = ForwardingFilter.from_config(
    {
        "default": "forward",
        "rules": [
            {"action": "SetChargingProfile", "source": "GRID-*", "verdict": "forward"},
            {"action": "SetChargingProfile", "direction": "down", "verdict": "reject"},
            {"action": "DataTransfer", "direction": "up", "verdict": "drop"},
            {"action": "Get*", "dest": "CS-[0-9]", "verdict": "reject"},
        ],
    }
)


@pytest.mark.parametrize(
    ("action", "direction", "source", "dest", "expected"),
    [
        ("SetChargingProfile", "down", "GRID-1", "CS-1", "forward"),
        ("SetChargingProfile", "down", "ANALYTICS", "CS-1", "reject"),
        ("SetChargingProfile", "up", "CS-1", "CSMS", "forward"),
        ("DataTransfer", "up", "CS-1", "CSMS", "drop"),
        ("DataTransfer", "down", "CSMS-1", "CS-1", "forward"),
        ("GetVariables", "down", "CSMS-1", "CS-7", "reject"),
        ("GetVariables", "down", "CSMS-1", "CS-17", "forward"),
        ("Heartbeat", "up", "CS-1", "CSMS", "forward"),
    ],
)
def test_verdicts(action: str, direction: Any, source: str, dest: str, expected: str) -> None:
    assert FIREWALL.verdict(action, direction=direction, source=source, dest=dest) == expected


def test_default_verdict_and_empty_filter() -> None:
    closed = ForwardingFilter((FilterRule("Heartbeat", "forward"),), default="drop")
    assert closed.verdict("Heartbeat", direction="up", source="CS", dest="CSMS") == "forward"
    assert closed.verdict("Authorize", direction="up", source="CS", dest="CSMS") == "drop"
    assert ForwardingFilter().verdict("X", direction="down", source="a", dest="b") == "forward"


def test_rule_constructor_checks_values() -> None:
    with pytest.raises(ValueError):
        FilterRule("Reset", "block")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        FilterRule("Reset", "drop", direction="sideways")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("section", "key"),
    [
        ({"defualt": "drop"}, "filters.defualt"),
        ({"default": "block"}, "filters.default"),
        ({"rules": "Reset"}, "filters.rules"),
        ({"rules": [3]}, "filters.rules[0]"),
        ({"rules": [{"action": "Reset"}]}, "filters.rules[0].verdict"),
        ({"rules": [{"verdict": "drop"}]}, "filters.rules[0].action"),
        (
            {"rules": [{"action": "A", "verdict": "drop"}, {"action": "B", "verdict": "x"}]},
            "filters.rules[1].verdict",
        ),
        (
            {"rules": [{"action": "A", "verdict": "drop", "direction": "left"}]},
            "filters.rules[0].direction",
        ),
        ({"rules": [{"action": "A", "verdict": "drop", "src": "X"}]}, "filters.rules[0].src"),
        ({"rules": [{"action": "", "verdict": "drop"}]}, "filters.rules[0]"),
        ({"rules": [{"action": "A", "verdict": "drop", "dest": 5}]}, "filters.rules[0].dest"),
    ],
)
def test_config_errors_name_the_key(section: dict[str, Any], key: str) -> None:
    with pytest.raises(ConfigError) as caught:
        ForwardingFilter.from_config(section, source="node.toml")
    assert str(caught.value).startswith(f"node.toml: {key}:")


def test_config_prefix_names_the_file_section() -> None:
    with pytest.raises(ConfigError, match=r"^node\.toml: node\.filters\.default:"):
        ForwardingFilter.from_config({"default": "nah"}, source="node.toml", where="node.filters")
