"""Id token decisions (pure): what the CSMS answers for a token it knows, or does not.

OCPP 1.6 knows fewer statuses than 2.x; a 2.x-only status maps to ``Invalid`` in 1.6.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ocppnet.rpc.timestamps import format_timestamp
from ocppnet.store import IdTokenRecord

V16_STATUSES = frozenset({"Accepted", "Blocked", "Expired", "Invalid", "ConcurrentTx"})


def token_status(record: IdTokenRecord | None, *, accept_unknown: bool, now: datetime) -> str:
    """The authorization status of a token: its stored status, ``Expired`` past its expiry,
    and for an unknown token ``Accepted`` or ``Invalid`` per ``accept_unknown``."""
    if record is None:
        return "Accepted" if accept_unknown else "Invalid"
    if record.status == "Accepted" and record.expiry is not None and record.expiry <= now:
        return "Expired"
    return record.status


def id_token_info(status: str) -> dict[str, Any]:
    """OCPP 2.0.1/2.1 ``idTokenInfo``."""
    return {"status": status}


def id_tag_info(status: str, record: IdTokenRecord | None) -> dict[str, Any]:
    """OCPP 1.6 ``idTagInfo`` (with the token's expiry if it has one)."""
    info: dict[str, Any] = {"status": status if status in V16_STATUSES else "Invalid"}
    if record is not None and record.expiry is not None:
        info["expiryDate"] = format_timestamp(record.expiry)
    return info

