"""Loading a trust store from PEM files and directories (the ``[security] trust`` list).

Each entry is a file or a directory (its ``*.pem`` files, private ``*.key.pem`` skipped):

* ``PUBLIC KEY`` PEM: a pinned key, named after the file (``grid.pub.pem`` -> ``grid``);
* ``CERTIFICATE`` PEM: a CA certificate becomes an anchor (every signer certificate it issued
  is trusted), any other certificate a pinned signer certificate (bounded by its validity);
* ``X509 CRL`` PEM: a CRL of one of the anchors (checked against it; loaded after them).

Every problem is a ConfigError naming the file: unreadable, not PEM, a key we cannot use, a
CRL whose issuer is not trusted or whose signature is wrong.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from cryptography import x509

from ocppnet.errors import ConfigError
from ocppnet.security.certificates import CertificateError, load_certificates, load_crl
from ocppnet.security.keys import KeyMaterialError, load_public_pem
from ocppnet.security.trust import TrustStore

__all__ = ["load_trust", "trust_files"]


def trust_files(entries: Iterable[str | Path], *, where: str = "") -> list[tuple[str, Path]]:
    """(label, file) for the PEM files the entries name (a directory: its ``*.pem`` except
    private keys); the label is ``where[i]: `` for error messages (empty without ``where``)."""
    out: list[tuple[str, Path]] = []
    for index, entry in enumerate(entries):
        path = Path(entry)
        label = f"{where}[{index}]: " if where else ""
        if path.is_dir():
            out.extend((label, p) for p in sorted(path.glob("*.pem"))
                       if not p.name.endswith(".key.pem"))
        elif path.exists():
            out.append((label, path))
        else:
            raise ConfigError(f"{label}{path}: no such file or directory")
    return out


def load_trust(
    entries: Iterable[str | Path], *, into: TrustStore | None = None, where: str = ""
) -> TrustStore:
    """A TrustStore from PEM files/directories (see the module docstring); errors start with
    ``where[i]: <file>: `` (``where``: e.g. ``node.toml: security.trust``)."""
    trust = into if into is not None else TrustStore()
    crls: list[tuple[str, Path]] = []
    for label, path in trust_files(entries, where=where):
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise ConfigError(f"{label}{path}: cannot read: {exc.strerror or exc}") from None
        try:
            if b"-----BEGIN X509 CRL-----" in data:
                crls.append((label, path))
            elif b"-----BEGIN CERTIFICATE-----" in data:
                for cert in load_certificates(data):
                    if _is_ca(cert):
                        trust.add_anchor(cert)
                    else:
                        trust.add_certificate(cert)
            elif b"PRIVATE KEY-----" in data:
                raise ConfigError(f"{label}{path}: a private key does not belong in the "
                                  "trust list")
            elif b"-----BEGIN PUBLIC KEY-----" in data:
                trust.add(load_public_pem(data), name=path.name.removesuffix(".pem")
                          .removesuffix(".pub"))
            else:
                raise ConfigError(f"{label}{path}: not a PEM public key, certificate or CRL")
        except (KeyMaterialError, CertificateError) as exc:
            raise ConfigError(f"{label}{path}: {exc}") from None
    for label, path in crls:
        try:
            trust.add_crl(load_crl(path.read_bytes()))
        except CertificateError as exc:
            raise ConfigError(f"{label}{path}: {exc}") from None
    return trust


def _is_ca(cert: x509.Certificate) -> bool:
    try:
        return bool(cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca)
    except x509.ExtensionNotFound:
        return False
