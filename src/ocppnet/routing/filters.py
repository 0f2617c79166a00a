"""Per-action forwarding filter: the node as an OCPP firewall.

An ordered list of rules, first match wins, then ``default``. A rule matches an action,
a direction and optionally the source (PATH[0]) and destination, each a shell-style glob
(``*``, ``?``, ``[..]``). Direction is where the request travels: ``up`` when it arrived on
a downstream link (station -> CSMS), ``down`` when it arrived on an upstream link.
Only requests (CALL, SEND) are filtered; a response follows its request.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final, Literal, TypeAlias

from ocppnet.config import Section, parse_section

Verdict: TypeAlias = Literal["forward", "reject", "drop"]
Direction: TypeAlias = Literal["up", "down"]

VERDICTS: Final = ("forward", "reject", "drop")
DIRECTIONS: Final = ("up", "down", "any")


def _matcher(pattern: str) -> re.Pattern[str] | str:
    if any(ch in pattern for ch in "*?["):
        return re.compile(fnmatch.translate(pattern))
    return pattern


def _matches(matcher: re.Pattern[str] | str, value: str) -> bool:
    if isinstance(matcher, str):
        return matcher == value
    return matcher.match(value) is not None


@dataclass(frozen=True, slots=True)
class FilterRule:
    action: str
    verdict: Verdict
    direction: Literal["up", "down", "any"] = "any"
    source: str = "*"
    dest: str = "*"
    _compiled: tuple[re.Pattern[str] | str, ...] = field(
        init=False, repr=False, compare=False, default=()
    )

    def __post_init__(self) -> None:
        if self.verdict not in VERDICTS:
            raise ValueError(f"verdict must be one of {', '.join(VERDICTS)}")
        if self.direction not in DIRECTIONS:
            raise ValueError(f"direction must be one of {', '.join(DIRECTIONS)}")
        for name in ("action", "source", "dest"):
            if not getattr(self, name):
                raise ValueError(f"{name} must be a non-empty string")
        compiled = (_matcher(self.action), _matcher(self.source), _matcher(self.dest))
        object.__setattr__(self, "_compiled", compiled)

    def matches(self, action: str, direction: Direction, source: str, dest: str) -> bool:
        if self.direction != "any" and self.direction != direction:
            return False
        action_m, source_m, dest_m = self._compiled
        return _matches(action_m, action) and _matches(source_m, source) and _matches(dest_m, dest)


@dataclass(frozen=True, slots=True)
class ForwardingFilter:
    """Ordered rules plus a default verdict; the empty filter forwards everything."""

    rules: tuple[FilterRule, ...] = ()
    default: Verdict = "forward"

    def verdict(self, action: str, *, direction: Direction, source: str, dest: str) -> Verdict:
        for rule in self.rules:
            if rule.matches(action, direction, source, dest):
                return rule.verdict
        return self.default

    @classmethod
    def from_config(
        cls, section: Mapping[str, Any], *, source: str = "<config>", where: str = "filters"
    ) -> ForwardingFilter:
        """Build from a TOML section; raises ConfigError ``source: where.key: problem``.

        Shape: ``default = "forward"`` and ``[[filters.rules]]`` tables with ``action``,
        ``verdict``, optional ``direction`` (up/down/any), ``source`` and ``dest`` globs.
        """
        table = parse_section(FilterTable, section, source=source, where=where)
        return cls(table.rules, table.default)


class FilterTable(Section):
    """The filter's TOML table (a node's ``[node.filters]``), as ``ocppnet.config`` reads it."""

    default: Verdict = "forward"
    rules: tuple[FilterRule, ...] = ()
