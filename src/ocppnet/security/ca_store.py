"""An owner CA kept in a key store directory: the file side of security/certificates.py.

Next to the CA's key (``<ca>.key.pem``, written by :class:`KeyStore`) live ``<ca>.ca.pem`` (the
self-signed CA certificate), ``<ca>.issued.json`` (serial, subject, not-after of every
certificate issued) and ``<ca>.revoked.json`` (serial and time of every revocation); the CRL
is built from the latter. A signer certificate for a key ``<name>`` of the same store is
written as ``<name>.crt.pem``; :meth:`KeyStore.key_pair` then attaches it to the key, so that
signatures carry it (``x5c``) to verifiers that trust only the CA.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from ocppnet.security.certificates import (
    CertificateError,
    build_crl,
    issue_signer,
    load_certificates,
    new_ca,
    thumbprint,
)
from ocppnet.security.keys import PublicKey
from ocppnet.security.keystore import KeyStore, KeyStoreError

__all__ = ["CaStore", "Issued"]


@dataclass(frozen=True, slots=True)
class Issued:
    serial: int
    subject: str
    not_after: str
    revoked_at: str | None = None


class CaStore:
    """The owner CA ``name`` in ``store`` (its key is a key of the store)."""

    __slots__ = ("name", "store")

    def __init__(self, store: KeyStore, name: str) -> None:
        self.store = store
        self.name = name

    def _file(self, suffix: str) -> Path:
        return self.store.directory / f"{self.name}{suffix}"

    @property
    def certificate_path(self) -> Path:
        return self._file(".ca.pem")

    def create(self, *, now: datetime, algorithm: str = "secp256r1", days: int = 3650,
               subject: str | None = None) -> x509.Certificate:
        """A new CA key and self-signed certificate; refuses to overwrite."""
        if self.certificate_path.exists():
            raise KeyStoreError(f"CA {self.name!r} already exists in {self.store.directory}")
        self.store.new(self.name, algorithm)
        cert = new_ca(self.store.key_pair(self.name).private_key, name=subject or self.name,
                      now=now, days=days)
        _write_new(self.certificate_path, cert.public_bytes(serialization.Encoding.PEM))
        _write_json(self._file(".issued.json"), [])
        _write_json(self._file(".revoked.json"), [])
        return cert

    def certificate(self) -> x509.Certificate:
        try:
            return load_certificates(self.certificate_path.read_bytes())[0]
        except FileNotFoundError:
            raise KeyStoreError(f"no CA {self.name!r} in {self.store.directory}") from None
        except CertificateError as exc:
            raise KeyStoreError(f"{self.certificate_path}: {exc}") from None

    def issue(self, public_key: PublicKey, *, subject: str, now: datetime,
              days: int = 365) -> x509.Certificate:
        """A signer certificate for ``public_key``, recorded in the issued list."""
        ca_cert = self.certificate()
        cert = issue_signer(self.store.key_pair(self.name).private_key, ca_cert, public_key,
                            name=subject, now=now, days=days)
        issued = self._read(".issued.json")
        issued.append({"serial": f"{cert.serial_number:x}", "subject": subject,
                       "not_after": cert.not_valid_after_utc.isoformat()})
        _write_json(self._file(".issued.json"), issued)
        return cert

    def issue_for_key(self, key_name: str, *, subject: str | None = None, now: datetime,
                      days: int = 365) -> x509.Certificate:
        """Certify key ``key_name`` of the same store; writes ``<key_name>.crt.pem``."""
        cert = self.issue(self.store.public_key(key_name), subject=subject or key_name,
                          now=now, days=days)
        path = self.store.directory / f"{key_name}.crt.pem"
        path.unlink(missing_ok=True)  # a renewed certificate replaces the old one
        _write_new(path, cert.public_bytes(serialization.Encoding.PEM))
        return cert

    def issued(self) -> list[Issued]:
        revoked = {r["serial"]: r["at"] for r in self._read(".revoked.json")}
        return [Issued(int(i["serial"], 16), i["subject"], i["not_after"],
                       revoked.get(i["serial"])) for i in self._read(".issued.json")]

    def revoke(self, *, serial: int | None = None, subject: str | None = None,
               now: datetime) -> list[int]:
        """Revoke by serial, or every live certificate of a subject; returns the serials."""
        targets = [i for i in self.issued() if i.revoked_at is None and (
            i.serial == serial or (subject is not None and i.subject == subject))]
        if not targets:
            what = f"serial {serial:x}" if serial is not None else f"subject {subject!r}"
            raise KeyStoreError(f"CA {self.name!r} has no unrevoked certificate with {what}")
        revoked = self._read(".revoked.json")
        revoked.extend({"serial": f"{t.serial:x}", "at": now.astimezone(UTC).isoformat()}
                       for t in targets)
        _write_json(self._file(".revoked.json"), revoked)
        return [t.serial for t in targets]

    def crl(self, *, now: datetime, days: int = 7) -> x509.CertificateRevocationList:
        entries = [(i.serial, datetime.fromisoformat(i.revoked_at))
                   for i in self.issued() if i.revoked_at is not None]
        return build_crl(self.store.key_pair(self.name).private_key, self.certificate(),
                         entries, now=now, days=days)

    def thumbprint(self) -> str:
        return thumbprint(self.certificate())

    def _read(self, suffix: str) -> list[dict[str, Any]]:
        path = self._file(suffix)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise KeyStoreError(f"no CA {self.name!r} in {self.store.directory}") from None
        except ValueError:
            raise KeyStoreError(f"{path}: not valid JSON") from None
        if not isinstance(data, list):
            raise KeyStoreError(f"{path}: expected a list")
        return data


def _write_new(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)


def _write_json(path: Path, data: list[dict[str, Any]]) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    os.replace(tmp, path)
