"""Throw-away X.509 certificates for tests and demos, made at run time with `cryptography`.

Nothing here is meant for production: keys are EC P-256 (fast to generate), the CA lives
in memory, and private keys are only ever written to a caller-chosen temporary directory.
The clock is an argument (``now``), so the same inputs give certificates with the same dates.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


@dataclass(frozen=True, slots=True)
class Issued:
    """A certificate and its private key."""

    cert: x509.Certificate
    key: ec.EllipticCurvePrivateKey

    @property
    def cert_pem(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.PEM)

    @property
    def key_pem(self) -> bytes:
        return self.key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )

    @property
    def common_name(self) -> str:
        attrs = self.cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
        return str(attrs[0].value) if attrs else ""


def _name(common_name: str, organization: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _builder(
    subject: x509.Name,
    issuer: x509.Name,
    key: ec.EllipticCurvePrivateKey,
    now: datetime,
    days: int,
) -> x509.CertificateBuilder:
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=days))
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False
        )
    )


def make_ca(
    *, now: datetime, common_name: str = "ocppnet throw-away CA", days: int = 2
) -> Issued:
    """A self-signed root CA that may sign end-entity certificates only (path length 0)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = _name(common_name, "ocppnet test")
    cert = (
        _builder(name, name, key, now, days)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(key, hashes.SHA256())
    )
    return Issued(cert, key)


def _leaf(
    ca: Issued,
    common_name: str,
    san: Sequence[x509.GeneralName],
    usage: x509.ObjectIdentifier,
    now: datetime,
    days: int,
) -> Issued:
    key = ec.generate_private_key(ec.SECP256R1())
    builder = (
        _builder(_name(common_name, "ocppnet test"), ca.cert.subject, key, now, days)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.key.public_key()),
            critical=False,
        )
    )
    if san:
        builder = builder.add_extension(x509.SubjectAlternativeName(list(san)), critical=False)
    return Issued(builder.sign(ca.key, hashes.SHA256()), key)


def make_server_cert(
    ca: Issued,
    *,
    now: datetime,
    hosts: Sequence[str] = ("127.0.0.1", "localhost"),
    days: int = 2,
) -> Issued:
    """A TLS server certificate for ``hosts`` (IP addresses become IP SANs, names DNS SANs)."""
    san: list[x509.GeneralName] = []
    for host in hosts:
        try:
            san.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            san.append(x509.DNSName(host))
    return _leaf(ca, hosts[0], san, ExtendedKeyUsageOID.SERVER_AUTH, now, days)


def make_client_cert(ca: Issued, station_id: str, *, now: datetime, days: int = 2) -> Issued:
    """A TLS client certificate whose subject CN is the station id (security profile 3)."""
    return _leaf(ca, station_id, (), ExtendedKeyUsageOID.CLIENT_AUTH, now, days)
