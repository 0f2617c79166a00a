"""A node's own applications from its TOML file: load management and plausibility checks."""

from __future__ import annotations

import pytest

from ocppnet.errors import ConfigError
from ocppnet.node.config import parse_config
from ocppnet.plausibility.node_guard import PlausibilityGuard
from tests.node.helpers import Recorder, overlay_csms, running_node, upstream


def config(**node: object) -> dict[str, object]:
    return {"node": {"id": "NODE-A", **node}}


def test_load_management_and_plausibility_sections_are_typed() -> None:
    parsed = parse_config(config(
        load_management={"capacity_w": 22000, "reserve_w": 2000, "hysteresis_w": 300},
        plausibility={"max_power_w": 50000, "rules": {"energy": {"rate": "flag"}}},
    ))
    assert parsed.load_management is not None
    assert parsed.load_management.site_limit_w() == 20000
    assert parsed.load_management.hysteresis.abs_w == 300
    assert parsed.plausibility is not None
    assert parsed.plausibility.max_power_w == 50000
    assert parsed.plausibility.severity("energy.rate") == "flag"


@pytest.mark.parametrize(
    ("node", "key"),
    [
        ({"load_management": {"reserve_w": 1}}, "node.load_management.capacity_w: missing"),
        ({"load_management": {"capacity_w": "big"}},
         "node.load_management.capacity_w: input should be a valid number"),
        ({"load_management": {"capacity_w": 1, "bogus": 1}}, "node.load_management.bogus"),
        ({"load_management": {"capacity_w": 1, "evse_min_w": 5, "evse_max_w": 1}},
         "node.load_management: loadmgmt: need 0 <= evse_min_w <= evse_max_w"),
        ({"load_management": 3}, "node.load_management: must be a table"),
        ({"plausibility": {"rules": {"no.such": "flag"}}},
         "node.plausibility.rules: unknown rule 'no.such'"),
        ({"plausibility": {"max_power_w": -1}}, "node.plausibility.max_power_w"),
    ],
)
def test_bad_sections_name_the_key(node: dict[str, object], key: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_config(config(**node), "site.toml")
    assert key in info.value.description
    assert info.value.description.startswith("site.toml: ")


async def test_a_node_runs_its_configured_applications() -> None:
    async with overlay_csms(Recorder()) as csms, running_node(parse_config(config(
        upstreams=[upstream("CSMS-1", csms.port)],
        load_management={"capacity_w": 11000},
        plausibility={},
    ))) as node:
        assert node.load_manager is not None
        assert node.load_manager.observe in node.router.observers
        assert any(isinstance(g, PlausibilityGuard) for g in node.router.guards)
    assert node.load_manager is None
