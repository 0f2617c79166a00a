"""One export as it leaves the operator: bytes, media type, validators, detached signature.

The same :class:`Publication` is written by ``ocppnet nap export`` (``NAME.xml`` plus
``NAME.xml.jws``) and served over HTTP (body, ``ETag``, ``Last-Modified``, the signature in
``X-JWS-Signature``). :func:`not_modified` is the conditional-request rule (RFC 9110 13.1):
``If-None-Match`` decides when present, else ``If-Modified-Since``.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime

from ocppnet.nap.detached_jws import sign_detached
from ocppnet.security.keys import PrivateKey

__all__ = ["SIGNATURE_HEADER", "Publication", "http_date", "not_modified", "publication"]

SIGNATURE_HEADER = "X-JWS-Signature"


@dataclass(frozen=True, slots=True)
class Publication:
    name: str  # file stem: datex2-table, datex2-status, ocpi-locations, statistics
    body: bytes
    media_type: str
    last_modified: datetime
    etag: str  # strong validator, quoted
    signature: str  # compact JWS, detached payload

    @property
    def suffix(self) -> str:
        return ".xml" if self.media_type.endswith("xml") else ".json"

    @property
    def file_name(self) -> str:
        return self.name + self.suffix


def etag_of(body: bytes) -> str:
    digest = hashlib.sha256(body).digest()[:18]
    return '"' + base64.urlsafe_b64encode(digest).decode("ascii") + '"'


def publication(name: str, body: bytes, media_type: str, last_modified: datetime,
                key: PrivateKey) -> Publication:
    return Publication(name, body, media_type, last_modified.astimezone(UTC), etag_of(body),
                       sign_detached(body, key, content_type=media_type))


def http_date(value: datetime) -> str:
    return format_datetime(value.astimezone(UTC).replace(microsecond=0), usegmt=True)


def not_modified(pub: Publication, if_none_match: str | None,
                 if_modified_since: str | None) -> bool:
    """True when the client's copy is current (answer 304)."""
    if if_none_match is not None:
        tags = {t.strip().removeprefix("W/") for t in if_none_match.split(",")}
        return "*" in tags or pub.etag in tags
    if if_modified_since is not None:
        try:
            since = parsedate_to_datetime(if_modified_since)
        except (TypeError, ValueError):
            return False
        if since.tzinfo is None:
            return False
        return pub.last_modified.replace(microsecond=0) <= since
    return False
