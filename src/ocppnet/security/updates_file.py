"""Remote trust, policy and role updates kept across restarts (``[security] updates_file``).

An accepted AddTrustedKey, RevokeTrustedKey, Add/Delete SignaturePolicy or Add/Delete UserRole
changes the verifier in memory; without this file a restart goes back to the trust and policy
files, so a key revoked remotely would be trusted again. With it, every accepted change is
appended as one JSON line (the signed request as it arrived, its valid signers and the time it
was applied), fsynced before the answer goes out, and applied again in order at start, with
the authority the signers have *then* (a role removed from the role file since no longer
authorises it: that change is skipped and logged).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import orjson

from ocppnet.errors import ConfigError
from ocppnet.rpc.timestamps import format_timestamp, parse_timestamp
from ocppnet.security.context import ManagementUpdate, SecurityContext
from ocppnet.security.signatures import SignatureVerdict, VerdictStatus

__all__ = ["UpdatesFile", "decode_updates", "encode_update", "restore_updates"]

log = logging.getLogger("ocppnet.security.updates")

ACTIONS = frozenset({"AddTrustedKey", "RevokeTrustedKey", "AddSignaturePolicy",
                     "DeleteSignaturePolicy", "AddUserRole", "DeleteUserRole"})


def encode_update(update: ManagementUpdate) -> bytes:
    """One line: the action, the signed payload, its valid signers, when it was applied."""
    signers = [{"index": v.index, "key_id": v.key_id, "name": v.name, "subject": v.subject}
               for v in update.verdicts if v.valid]
    return orjson.dumps({"action": update.action, "at": format_timestamp(update.at),
                         "signers": signers, "payload": update.payload}) + b"\n"


def _signer(raw: Any, where: str) -> SignatureVerdict:
    if not isinstance(raw, dict) or not isinstance(raw.get("index"), int) or not isinstance(
            raw.get("key_id"), str):
        raise ConfigError(f"{where}: signers: expected {{index, key_id, ...}}, got {raw!r}")
    return SignatureVerdict(raw["index"], raw["key_id"], VerdictStatus.VALID,
                            "applied before the restart", raw.get("name"), raw.get("subject"))


def decode_updates(data: bytes, *, source: str) -> list[ManagementUpdate]:
    """Every update in ``data``; ConfigError naming ``source:line`` and the field if bad.
    A last line without its newline (a crash in the middle of a write) is ignored: that
    change was never answered."""
    updates: list[ManagementUpdate] = []
    lines = data.split(b"\n")
    for number, line in enumerate(lines, start=1):
        if not line.strip() or number == len(lines):  # the last piece has no newline
            continue
        where = f"{source}:{number}"
        try:
            raw = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            raise ConfigError(f"{where}: not JSON ({exc})") from None
        if not isinstance(raw, dict):
            raise ConfigError(f"{where}: expected an object")
        action, payload = raw.get("action"), raw.get("payload")
        if action not in ACTIONS:
            raise ConfigError(f"{where}: action: expected one of {sorted(ACTIONS)}, "
                              f"got {action!r}")
        if not isinstance(payload, dict):
            raise ConfigError(f"{where}: payload: expected an object")
        at = parse_timestamp(raw.get("at")) if isinstance(raw.get("at"), str) else None
        if at is None:
            raise ConfigError(f"{where}: at: expected an RFC 3339 time, got {raw.get('at')!r}")
        signers = raw.get("signers")
        if not isinstance(signers, list):
            raise ConfigError(f"{where}: signers: expected a list")
        updates.append(ManagementUpdate(action, payload,
                                        tuple(_signer(s, where) for s in signers), at))
    return updates


def restore_updates(context: SecurityContext, updates: Iterable[ManagementUpdate], *,
                    source: str) -> int:
    """Apply ``updates`` in order; the number applied (a refused one is logged, skipped)."""
    applied = 0
    for number, update in enumerate(updates, start=1):
        response = context.apply_update(update)
        if response.get("status") == "Accepted":
            applied += 1
            continue
        info = response.get("statusInfo") or {}
        log.warning("event=security_update_skipped file=%s entry=%d action=%s reason=%s "
                    "detail=%r", source, number, update.action, info.get("reasonCode"),
                    info.get("additionalInfo", ""))
    return applied


class UpdatesFile:
    """The JSON-lines file; :meth:`append` is the context's ``on_update``."""

    __slots__ = ("path",)

    def __init__(self, path: Path) -> None:
        self.path = path

    def load(self) -> list[ManagementUpdate]:
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return []
        except OSError as exc:
            raise ConfigError(f"{self.path}: cannot read: {exc.strerror}") from None
        return decode_updates(data, source=str(self.path))

    def append(self, update: ManagementUpdate) -> None:
        """Append and fsync; an OSError here refuses to answer the change as accepted."""
        with open(self.path, "ab") as out:
            out.write(encode_update(update))
            out.flush()
            os.fsync(out.fileno())

