"""NATS names of one CSMS's scale-out: buckets, stream, subjects and keys. Pure.

Station ids, CSMS ids and front-end ids are free text (an OCPP identity may hold ``.``,
``*`` or spaces), while NATS subject tokens and KV keys may not, and bucket and stream names
allow only ``[A-Za-z0-9_-]``. :func:`token` escapes a text for a subject token or KV key
(``=`` and the UTF-8 bytes of any character outside ``[A-Za-z0-9_-]`` become ``=HH``),
:func:`name_part` for a bucket or stream name (``_`` is the escape character there, so
``_`` itself becomes ``_5F``); both are reversible and leave the common ids (``CS-001``,
``CSMS``) unchanged.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

EventKind = Literal["message", "station", "connector", "energy"]
EVENT_KINDS: tuple[EventKind, ...] = ("message", "station", "connector", "energy")

_TOKEN_SAFE = re.compile(r"[A-Za-z0-9_-]")
_NAME_SAFE = re.compile(r"[A-Za-z0-9-]")
_HEX = re.compile(r"[0-9A-F]{2}")


def _escape(text: str, safe: re.Pattern[str], mark: str) -> str:
    out: list[str] = []
    for char in text:
        if safe.fullmatch(char):
            out.append(char)
        else:
            out.extend(f"{mark}{byte:02X}" for byte in char.encode())
    return "".join(out)


def _unescape(text: str, mark: str) -> str:
    raw = bytearray()
    i = 0
    while i < len(text):
        pair = text[i + 1:i + 3]
        if text[i] == mark and len(pair) == 2 and _HEX.fullmatch(pair):
            raw.append(int(pair, 16))
            i += 3
        else:
            raw.extend(text[i].encode())
            i += 1
    return raw.decode(errors="replace")


def token(text: str) -> str:
    """``text`` as one NATS subject token or JetStream KV key (never empty)."""
    if not text:
        raise ValueError("an id must not be empty")
    return _escape(text, _TOKEN_SAFE, "=")


def untoken(escaped: str) -> str:
    """The inverse of :func:`token`."""
    return _unescape(escaped, "=")


def name_part(text: str) -> str:
    """``text`` as part of a JetStream stream or bucket name (``[A-Za-z0-9_-]`` only)."""
    if not text:
        raise ValueError("an id must not be empty")
    return _escape(text, _NAME_SAFE, "_")


def unname_part(escaped: str) -> str:
    """The inverse of :func:`name_part`."""
    return _unescape(escaped, "_")


@dataclass(frozen=True, slots=True)
class ClusterNames:
    """Every NATS name of CSMS ``csms_id``: ``ClusterNames("CSMS").presence_bucket`` is
    ``ocppnet-CSMS-presence``."""

    csms_id: str

    @property
    def _csms_name(self) -> str:
        return name_part(self.csms_id)

    @property
    def _csms_token(self) -> str:
        return token(self.csms_id)

    @property
    def presence_bucket(self) -> str:
        """KV bucket: key = station (:func:`token`), value = the front-end holding it."""
        return f"ocppnet-{self._csms_name}-presence"

    @property
    def frontends_bucket(self) -> str:
        """KV bucket with a TTL (the lease): key = front-end id, value = its lease."""
        return f"ocppnet-{self._csms_name}-frontends"

    @property
    def events_stream(self) -> str:
        return f"ocppnet-{self._csms_name}-events"

    def rpc_subject(self, frontend_id: str) -> str:
        """Where front-end ``frontend_id`` answers calls to the stations it holds."""
        return f"ocppnet.{self._csms_token}.rpc.{token(frontend_id)}"

    def event_subject(self, kind: str, station_id: str) -> str:
        if kind not in EVENT_KINDS:
            raise ValueError(f"unknown event kind {kind!r} (expected one of {EVENT_KINDS})")
        return f"ocppnet.{self._csms_token}.{kind}.{token(station_id)}"

    def event_subjects(self) -> list[str]:
        """The events stream's subjects: one wildcard per kind (never ``rpc``, whose
        requests must not be stored nor acknowledged by JetStream)."""
        return [f"ocppnet.{self._csms_token}.{kind}.*" for kind in EVENT_KINDS]

    @staticmethod
    def station_key(station_id: str) -> str:
        return token(station_id)

    @staticmethod
    def frontend_key(frontend_id: str) -> str:
        return token(frontend_id)
