"""The QR URL template of OCPP 2.1 C25: expanding it at the station, matching it at the backend.

A template is a URL with variables in curly braces, e.g.
``https://pay.example/{chargingStationId}/{evse}/{totp}?v={version}``. Variable names
compare case-insensitively. The C25 variables are below; ``channelKeyId`` is ocppnet's
extension (the fingerprint of the station's channel key that the phone checks, see
``ocppnet.webpay.channel``). Values are percent-encoded when expanded.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final
from urllib.parse import quote, unquote

__all__ = ["VARIABLES", "UrlTemplate", "UrlTemplateError"]

#: canonical spelling of every variable a template may use
VARIABLES: Final = (
    "chargingStationId", "evse", "roamingCSId", "roamingEVSEId", "totp", "version",
    "maxEnergy", "maxTime", "maxCost", "channelKeyId",
)
_CANONICAL: Final = {name.lower(): name for name in VARIABLES}
_MANDATORY: Final = ("totp",)
_VARIABLE = re.compile(r"\{([^{}]*)\}")


class UrlTemplateError(ValueError):
    """A template that cannot be used, or values that do not fill it."""


def _origin_split(url: str) -> tuple[str, str]:
    """(scheme://authority, rest); rest starts with '/' or is empty."""
    scheme, sep, after = url.partition("://")
    if not sep:
        raise UrlTemplateError(f"URLTemplate: {url!r} is not an absolute URL")
    authority, slash, rest = after.partition("/")
    return f"{scheme}://{authority}", slash + rest


@dataclass(frozen=True, slots=True)
class UrlTemplate:
    """A parsed template; ``variables`` in the order they appear, canonical spelling."""

    text: str
    variables: tuple[str, ...]

    @classmethod
    def parse(cls, text: str) -> UrlTemplate:
        origin, _ = _origin_split(text)
        if "{" in origin:
            raise UrlTemplateError("URLTemplate: variables belong in the path or query, "
                                   "not in the scheme or host")
        names: list[str] = []
        for raw in _VARIABLE.findall(text):
            name = _CANONICAL.get(raw.lower())
            if name is None:
                raise UrlTemplateError(
                    f"URLTemplate: unknown variable {{{raw}}} (known: {', '.join(VARIABLES)})")
            if name in names:
                raise UrlTemplateError(f"URLTemplate: variable {{{raw}}} appears twice")
            names.append(name)
        if _VARIABLE.sub("", text).count("{") or _VARIABLE.sub("", text).count("}"):
            raise UrlTemplateError("URLTemplate: unbalanced curly brace")
        for required in _MANDATORY:
            if required not in names:
                raise UrlTemplateError(f"URLTemplate: the variable {{{required}}} is missing")
        return cls(text, tuple(names))

    def expand(self, values: Mapping[str, str | int]) -> str:
        """The URL with every variable filled in (``values`` keyed by canonical name)."""
        def fill(match: re.Match[str]) -> str:
            name = _CANONICAL[match.group(1).lower()]
            if name not in values:
                raise UrlTemplateError(f"URLTemplate: no value for {{{name}}}")
            return quote(str(values[name]), safe="")
        return _VARIABLE.sub(fill, self.text)

    def match(self, path_and_query: str) -> dict[str, str] | None:
        """The variables of a URL the backend received (its path and query, as sent), or
        None when it does not have the template's shape."""
        _, rest = _origin_split(self.text)
        pattern = []
        position = 0
        for found in _VARIABLE.finditer(rest):
            pattern.append(re.escape(rest[position:found.start()]))
            pattern.append(f"(?P<{_CANONICAL[found.group(1).lower()]}>[^/?&#]+)")
            position = found.end()
        pattern.append(re.escape(rest[position:]))
        matched = re.fullmatch("".join(pattern), path_and_query)
        if matched is None:
            return None
        return {name: unquote(value) for name, value in matched.groupdict().items()}

    @property
    def origin(self) -> str:
        """scheme://host[:port] of the template (where the QR code sends the phone)."""
        return _origin_split(self.text)[0]
