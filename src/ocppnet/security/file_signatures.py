"""Signed files: a signature over a file's SHA-256 and metadata, checked before it is accepted.

The *manifest* ``{"fileName", "size", "sha256", "purpose"}`` is signed in our signature form
(docs/signatures.md) with the context ``file/SignedFileRequest`` (action ``SignedFile``,
version ``file``), so a file signature can never pass for an OCPP message signature. It
travels in SendFile's meta as ``fileSignature`` (the manifest with its ``signatures``).

The receiver decides which files must be signed (``signed_prefixes``, default ``firmware/``:
by *name*, so relabelling the purpose does not skip the check) and checks, before one byte is
stored: a valid signature by a trusted key (optionally of a role that may send
``SignedFile``), and a manifest equal to what arrives (name, size, SHA-256; the file area
verifies the bytes against that SHA-256). Pure: ``now`` is passed in.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from ocppnet.security.keys import KeyPair
from ocppnet.security.replay import ReplayCache
from ocppnet.security.roles import RoleSet
from ocppnet.security.signatures import sign, verify
from ocppnet.security.trust import TrustStore

__all__ = ["FILE_ACTION", "FILE_VERSION", "FileSignatureCheck", "manifest", "sign_file"]

FILE_ACTION: Final = "SignedFile"
FILE_VERSION: Final = "file"
#: a firmware file may be signed long before it is installed: signatures do not expire here
FILE_WINDOW: Final = 10 * 365 * 86400.0


def manifest(name: str, size: int, sha256: str, purpose: str = "firmware") -> dict[str, Any]:
    return {"fileName": name, "size": size, "sha256": sha256.lower(), "purpose": purpose}


def sign_file(
    name: str, size: int, sha256: str, *, key: KeyPair, now: datetime,
    purpose: str = "firmware", signer_name: str | None = None,
) -> dict[str, Any]:
    """The ``fileSignature`` for a file (the manifest, signed)."""
    return sign(manifest(name, size, sha256, purpose), action=FILE_ACTION, kind="request",
                version=FILE_VERSION, key=key, now=now, name=signer_name)


@dataclass(slots=True)
class FileSignatureCheck:
    """The receiver's rule: which files need a signature, and whose."""

    trust: TrustStore
    signed_prefixes: tuple[str, ...] = ("firmware/",)
    roles: RoleSet | None = None  # set: a signer's role must allow the action "SignedFile"
    window: float = FILE_WINDOW

    def needs_signature(self, name: str, purpose: object = None) -> bool:
        return purpose == "firmware" or name.startswith(self.signed_prefixes)

    def problem(
        self, name: str, size: int, sha256: str, signature: object, *, now: datetime,
        purpose: object = None,
    ) -> str | None:
        """Why the file may not be accepted (None: it may). Unsigned files that do not need
        a signature pass; a signature that is present is always checked."""
        if signature is None:
            if self.needs_signature(name, purpose):
                return f"{name}: unsigned; files under {', '.join(self.signed_prefixes)} and " \
                       "firmware must carry a fileSignature"
            return None
        if not isinstance(signature, Mapping):
            return f"{name}: fileSignature is not an object"
        want = manifest(name, size, sha256, str(signature.get("purpose", "")))
        for key in ("fileName", "size", "sha256"):
            if signature.get(key) != want[key]:
                return (f"{name}: fileSignature is for {key} {signature.get(key)!r}, "
                        f"not {want[key]!r}")
        # a fresh cache per check: its window applies, but nothing is remembered (the same
        # signed firmware arrives in every chunk and at every station)
        verdicts = verify(signature, action=FILE_ACTION, kind="request", version=FILE_VERSION,
                          trusted=self.trust, now=now, replay=ReplayCache(window=self.window))
        valid = [v for v in verdicts if v.valid]
        if not valid:
            detail = "; ".join(v.reason for v in verdicts) or "no signatures"
            return f"{name}: fileSignature not valid ({detail})"
        if self.roles is not None:
            signer_roles = self.roles.roles_of(
                (v.key_id for v in valid if v.key_id),
                subjects=(v.subject for v in valid if v.subject))
            auth = self.roles.authorize(FILE_ACTION, signature, signer_roles)
            if not auth.allowed:
                return f"{name}: {auth.reason}"
        return None
