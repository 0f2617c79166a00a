"""Turn throw-away certificates into files and `ssl.SSLContext`s for security profiles 2 and 3.

`ssl` loads a certificate chain only from files, so :class:`ThrowawayPki` writes PEM files
(private keys with mode 0600) into a directory the caller owns, typically a pytest ``tmp_path``.
"""

from __future__ import annotations

import os
import ssl
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from ocppnet.pki.certificates import Issued, make_ca, make_client_cert, make_server_cert


@dataclass(frozen=True, slots=True)
class CertFiles:
    """Where one certificate and its private key were written."""

    cert_file: Path
    key_file: Path


def write_cert_files(directory: Path, name: str, issued: Issued) -> CertFiles:
    """Write ``name.pem`` and ``name.key`` (0600) into ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    cert_file = directory / f"{name}.pem"
    key_file = directory / f"{name}.key"
    cert_file.write_bytes(issued.cert_pem)
    fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(issued.key_pem)
    return CertFiles(cert_file, key_file)


def server_ssl_context(
    files: CertFiles, *, client_ca_pem: bytes | None = None
) -> ssl.SSLContext:
    """TLS server context; with ``client_ca_pem`` clients must present a certificate it signed
    (security profile 3), without it the server does not ask for one (profile 2)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(files.cert_file, files.key_file)
    if client_ca_pem is not None:
        context.verify_mode = ssl.CERT_REQUIRED
        context.load_verify_locations(cadata=client_ca_pem.decode("ascii"))
    return context


def client_ssl_context(ca_pem: bytes, files: CertFiles | None = None) -> ssl.SSLContext:
    """TLS client context trusting only ``ca_pem``; ``files`` adds a client certificate."""
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cadata=ca_pem.decode("ascii"))
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    if files is not None:
        context.load_cert_chain(files.cert_file, files.key_file)
    return context


class ThrowawayPki:
    """A CA, a server certificate for ``hosts`` and client certificates made on demand."""

    def __init__(
        self,
        directory: Path,
        *,
        now: datetime,
        hosts: tuple[str, ...] = ("127.0.0.1", "localhost"),
        ca_name: str = "ocppnet throw-away CA",
    ) -> None:
        self.directory = directory
        self.now = now
        self.ca = make_ca(now=now, common_name=ca_name)
        self.server = make_server_cert(self.ca, now=now, hosts=hosts)
        self.server_files = write_cert_files(directory, "server", self.server)
        self._clients: dict[str, CertFiles] = {}

    @property
    def ca_pem(self) -> bytes:
        return self.ca.cert_pem

    def client_files(self, station_id: str) -> CertFiles:
        """Client certificate files with CN = ``station_id`` (made once, then reused)."""
        files = self._clients.get(station_id)
        if files is None:
            issued = make_client_cert(self.ca, station_id, now=self.now)
            safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in station_id)
            files = write_cert_files(self.directory, f"client-{safe}-{len(self._clients)}", issued)
            self._clients[station_id] = files
        return files

    def server_context(self, *, mutual: bool) -> ssl.SSLContext:
        """Profile 2 (``mutual=False``) or profile 3 (``mutual=True``) server context."""
        return server_ssl_context(self.server_files, client_ca_pem=self.ca_pem if mutual else None)

    def client_context(self, station_id: str | None = None) -> ssl.SSLContext:
        """Client context trusting this CA; with ``station_id`` it presents a client certificate."""
        files = self.client_files(station_id) if station_id is not None else None
        return client_ssl_context(self.ca_pem, files)
