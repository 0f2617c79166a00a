"""Plausibility configuration: a ``[plausibility]`` TOML table or dict -> typed config.

Every error raises :class:`ocppnet.errors.ConfigError` naming the source and the key
(``node.toml: plausibility.rules.energy.rate: expected one of reject, flag, off``); unknown
keys are errors so a typo never falls back to a default silently. See docs/plausibility.md.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from ocppnet.errors import ConfigError

Severity = Literal["reject", "flag", "off"]
SEVERITIES: tuple[Severity, ...] = ("reject", "flag", "off")

#: Rule id -> default severity. ``reject`` refuses the message, ``flag`` accepts it and records
#: a finding, ``off`` disables the rule.
DEFAULT_RULES: dict[str, Severity] = {
    "energy.decreasing": "reject",
    "energy.rate": "reject",
    "power.range": "reject",
    "units": "reject",
    "value.numeric": "reject",
    "soc.range": "reject",
    "soc.jump": "flag",
    "time.future": "flag",
    "time.before_start": "flag",
    "seqno.duplicate": "flag",
    "seqno.order": "flag",
    "tx.ended_without_started": "flag",
}


@dataclass(frozen=True, slots=True)
class PlausibilityConfig:
    """Limits and severities; the defaults suit any AC or DC station up to 350 kW."""

    max_power_w: float = 350_000.0
    """Used when neither the station nor its model (from BootNotification) has a limit."""
    power_tolerance: float = 1.1
    """Factor on the max power for reported power and for energy growth."""
    energy_tolerance_wh: float = 10.0
    """Absolute slack on energy growth (meter resolution, rounding)."""
    clock_skew_s: float = 300.0
    """How far in the future a timestamp may lie."""
    start_slack_s: float = 5.0
    """How far before the transaction start a timestamp may lie."""
    soc_max_rate_pct_per_h: float = 300.0
    """Fastest plausible SoC change (10 -> 80 % in 15 min is 280 %/h)."""
    soc_tolerance_pct: float = 2.0
    stations: dict[str, float] = field(default_factory=dict)
    """Station id -> max power in W (wins over the model)."""
    models: dict[str, float] = field(default_factory=dict)
    """Model (BootNotification ``model`` / ``chargePointModel``) -> max power in W."""
    rules: dict[str, Severity] = field(default_factory=lambda: dict(DEFAULT_RULES))

    def severity(self, rule: str) -> Severity:
        return self.rules.get(rule, "flag")


_NUMBERS = (
    "max_power_w", "power_tolerance", "energy_tolerance_wh", "clock_skew_s", "start_slack_s",
    "soc_max_rate_pct_per_h", "soc_tolerance_pct",
)


def parse_config(data: dict[str, Any], *, source: str = "<config>",
                 where: str = "plausibility") -> PlausibilityConfig:
    """``data`` is the content of the ``[plausibility]`` table."""

    def fail(key: str, problem: str) -> ConfigError:
        return ConfigError(f"{source}: {where}.{key}: {problem}")

    def number(key: str, value: Any, *, positive: bool = True) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise fail(key, f"expected a number, got {value!r}")
        if value < 0 or (positive and value == 0):
            raise fail(key, f"must be {'positive' if positive else 'zero or more'}, got {value!r}")
        return float(value)

    def limits(key: str, value: Any) -> dict[str, float]:
        if not isinstance(value, dict):
            raise fail(key, "expected a table")
        out: dict[str, float] = {}
        for name, entry in value.items():
            if isinstance(entry, dict):
                unknown = set(entry) - {"max_power_w"}
                if unknown or "max_power_w" not in entry:
                    raise fail(f"{key}.{name}", "expected a table with max_power_w only")
                entry = entry["max_power_w"]
                out[name] = number(f"{key}.{name}.max_power_w", entry)
            else:
                out[name] = number(f"{key}.{name}", entry)
        return out

    values: dict[str, Any] = {}
    for key, value in data.items():
        if key in _NUMBERS:
            values[key] = number(key, value, positive=key in ("max_power_w", "power_tolerance"))
        elif key in ("stations", "models"):
            values[key] = limits(key, value)
        elif key == "rules":
            if not isinstance(value, dict):
                raise fail(key, "expected a table rule id -> severity")
            rules = dict(DEFAULT_RULES)
            for rule, severity in _flatten(value).items():
                if rule not in DEFAULT_RULES:
                    raise fail(f"rules.{rule}", f"unknown rule; known: {', '.join(DEFAULT_RULES)}")
                if severity not in SEVERITIES:
                    raise fail(f"rules.{rule}", f"expected one of {', '.join(SEVERITIES)}, "
                                                f"got {severity!r}")
                rules[rule] = severity
            values[key] = rules
        else:
            raise fail(key, "unknown key")
    return PlausibilityConfig(**values)


def _flatten(table: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """TOML reads ``energy.rate = "flag"`` as a nested table; both spellings are accepted."""
    out: dict[str, Any] = {}
    for key, value in table.items():
        if isinstance(value, dict):
            out.update(_flatten(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


def load_config(path: Path) -> PlausibilityConfig:
    """The ``[plausibility]`` table of a TOML file (defaults when the table is absent)."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: {exc}") from exc
    table = data.get("plausibility", {})
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: plausibility: expected a table")
    return parse_config(table, source=str(path))
