"""Plausibility checks on what stations in the street report (energy, power, time, SoC, seqNo).

The checker is pure (:mod:`.checker`); :mod:`.node_guard` and :mod:`.handlers` enforce it at a
networking node or a CSMS. See docs/plausibility.md.
"""

from ocppnet.plausibility.checker import CHECKED_ACTIONS, PlausibilityChecker
from ocppnet.plausibility.config import (
    DEFAULT_RULES,
    PlausibilityConfig,
    Severity,
    load_config,
    parse_config,
)
from ocppnet.plausibility.findings import Finding, FindingLog, Verdict

__all__ = [
    "CHECKED_ACTIONS",
    "DEFAULT_RULES",
    "Finding",
    "FindingLog",
    "PlausibilityChecker",
    "PlausibilityConfig",
    "Severity",
    "Verdict",
    "load_config",
    "parse_config",
]
