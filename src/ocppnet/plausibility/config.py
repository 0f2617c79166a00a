"""Plausibility configuration: a ``[plausibility]`` TOML table or dict -> typed config.

Declared once as a :class:`ocppnet.config.Section`: every error is a ConfigError naming the
source and the key (``node.toml: plausibility.rules.energy.rate: input should be 'reject',
'flag' or 'off'``); unknown keys are errors so a typo never falls back to a default silently.
See docs/plausibility.md.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import Field, field_validator

from ocppnet.config import Section, load_section, parse_section

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


class PlausibilityConfig(Section):
    """Limits and severities; the defaults suit any AC or DC station up to 350 kW."""

    max_power_w: float = Field(
        default=350_000.0,
        description="used when neither the station nor its model has a limit (W)")
    power_tolerance: float = Field(
        default=1.1, description="factor on the max power for reported power and energy growth")
    energy_tolerance_wh: float = Field(
        default=10.0, description="absolute slack on energy growth (meter resolution, rounding)")
    clock_skew_s: float = Field(
        default=300.0, description="how far in the future a timestamp may lie")
    start_slack_s: float = Field(
        default=5.0, description="how far before the transaction start a timestamp may lie")
    soc_max_rate_pct_per_h: float = Field(
        default=300.0, description="fastest plausible SoC change (10 -> 80 % in 15 min is 280)")
    soc_tolerance_pct: float = Field(default=2.0, description="slack on SoC checks (%)")
    stations: dict[str, float] = Field(
        default_factory=dict,
        description="station id -> max power in W, or `{ max_power_w = W }` (wins over model)")
    models: dict[str, float] = Field(
        default_factory=dict,
        description="BootNotification model -> max power in W, or `{ max_power_w = W }`")
    rules: dict[str, Severity] = Field(
        default_factory=lambda: dict(DEFAULT_RULES),
        description="rule id -> reject, flag or off (`energy.rate = \"flag\"`)")

    @field_validator("max_power_w", "power_tolerance")
    @classmethod
    def _above_zero(cls, value: float) -> float:
        if not value > 0:
            raise ValueError(f"must be positive, got {value!r}")
        return value

    @field_validator("energy_tolerance_wh", "clock_skew_s", "start_slack_s",
                     "soc_max_rate_pct_per_h", "soc_tolerance_pct")
    @classmethod
    def _not_negative(cls, value: float) -> float:
        if value < 0:
            raise ValueError(f"must be zero or more, got {value!r}")
        return value

    @field_validator("stations", "models", mode="before")
    @classmethod
    def _limit_tables(cls, value: Any) -> Any:
        """``CS-1 = 11000`` and ``CS-1 = { max_power_w = 11000 }`` mean the same."""
        if not isinstance(value, dict):
            return value
        return {
            name: entry["max_power_w"]
            if isinstance(entry, dict) and set(entry) == {"max_power_w"} else entry
            for name, entry in value.items()
        }

    @field_validator("rules", mode="before")
    @classmethod
    def _known_rules(cls, value: Any) -> Any:
        """Given severities override the defaults; an unknown rule id is an error."""
        if not isinstance(value, dict):
            return value
        given = _flatten(value)
        unknown = sorted(set(given) - set(DEFAULT_RULES))
        if unknown:
            raise ValueError(f"unknown rule {unknown[0]!r}; known: {', '.join(DEFAULT_RULES)}")
        return {**DEFAULT_RULES, **given}

    @field_validator("stations", "models")
    @classmethod
    def _positive(cls, value: dict[str, float]) -> dict[str, float]:
        for name, limit in value.items():
            if not limit > 0:
                raise ValueError(f"limit of {name!r} must be positive, got {limit!r}")
        return value

    def severity(self, rule: str) -> Severity:
        return self.rules.get(rule, "flag")


def _flatten(table: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """TOML reads ``energy.rate = "flag"`` as a nested table; both spellings are accepted."""
    out: dict[str, Any] = {}
    for key, value in table.items():
        if isinstance(value, dict):
            out.update(_flatten(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


def parse_config(data: dict[str, Any], *, source: str = "<config>",
                 where: str = "plausibility") -> PlausibilityConfig:
    """``data`` is the content of the ``[plausibility]`` table."""
    return parse_section(PlausibilityConfig, data, source=source, where=where)


def load_config(path: Path) -> PlausibilityConfig:
    """The ``[plausibility]`` table of a TOML file (defaults when the table is absent)."""
    return load_section(path, "plausibility", PlausibilityConfig, required=False)
