"""Signer certificates: an owner CA vouches for signing keys, so a verifier trusts one CA.

Pure X.509 on top of ``cryptography``: issue an owner CA, issue signer certificates (key usage
``digitalSignature``, not a CA), build CRLs, and check a chain with the library's RFC 5280 path
validation (:mod:`cryptography.x509.verification`) plus revocation against the CRLs the
verifier holds (checked here: the library does no revocation). ``now`` is always passed in.

A chain is leaf first; the anchor (a CA certificate the verifier trusts) may be left out.
The thumbprint of a certificate is ``x5t#S256`` of RFC 7515: base64url(SHA-256(DER)).
"""

from __future__ import annotations

import base64
import hashlib
import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509 import verification
from cryptography.x509.oid import NameOID

from ocppnet.security.keys import PrivateKey, PublicKey, algorithm_of, key_id

__all__ = [
    "CertificateError",
    "CertifiedKey",
    "ChainVerifier",
    "build_crl",
    "common_name",
    "decode_chain",
    "encode_chain",
    "issue_signer",
    "load_certificates",
    "load_crl",
    "new_ca",
    "thumbprint",
    "verify_issued_by",
]


class CertificateError(ValueError):
    """A certificate, chain or CRL is unusable; the message is one line, fit for a verdict."""


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _hash_for(key: PrivateKey) -> hashes.SHA256 | hashes.SHA384 | hashes.SHA512 | None:
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return None
    if isinstance(key, ec.EllipticCurvePrivateKey) and key.curve.name == "secp384r1":
        return hashes.SHA384()
    if isinstance(key, ec.EllipticCurvePrivateKey) and key.curve.name == "secp521r1":
        return hashes.SHA512()
    return hashes.SHA256()


def _usage(*, signer: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=signer, content_commitment=False, key_encipherment=False,
        data_encipherment=False, key_agreement=False, key_cert_sign=not signer,
        crl_sign=not signer, encipher_only=False, decipher_only=False,
    )


def new_ca(key: PrivateKey, *, name: str, now: datetime, days: int = 3650) -> x509.Certificate:
    """A self-signed owner CA (path length 0: it certifies signer keys, not other CAs)."""
    public = key.public_key()
    return (
        x509.CertificateBuilder()
        .subject_name(_name(name)).issuer_name(_name(name)).public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5)).not_valid_after(now + timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_usage(signer=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .sign(key, _hash_for(key))
    )


def issue_signer(
    ca_key: PrivateKey,
    ca_cert: x509.Certificate,
    public_key: PublicKey,
    *,
    name: str,
    now: datetime,
    days: int = 365,
    not_before: datetime | None = None,
) -> x509.Certificate:
    """A signer certificate for ``public_key``: CN ``name``, key usage digitalSignature only."""
    start = not_before if not_before is not None else now - timedelta(minutes=5)
    return (
        x509.CertificateBuilder()
        .subject_name(_name(name)).issuer_name(ca_cert.subject).public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(start).not_valid_after(now + timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_usage(signer=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
        .sign(ca_key, _hash_for(ca_key))
    )


def build_crl(
    ca_key: PrivateKey,
    ca_cert: x509.Certificate,
    revoked: Iterable[tuple[int, datetime]],
    *,
    now: datetime,
    days: int = 7,
) -> x509.CertificateRevocationList:
    """A CRL by ``ca_cert`` listing ``(serial, revoked_at)``; valid until ``now + days``."""
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(ca_cert.subject).last_update(now).next_update(now + timedelta(days=days))
    )
    for serial, at in revoked:
        builder = builder.add_revoked_certificate(
            x509.RevokedCertificateBuilder().serial_number(serial).revocation_date(at).build()
        )
    return builder.sign(ca_key, _hash_for(ca_key))


def thumbprint(cert: x509.Certificate) -> str:
    """``x5t#S256``: base64url (no padding) of SHA-256 over the certificate's DER."""
    digest = hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def common_name(cert: x509.Certificate) -> str | None:
    names = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    value = names[0].value if names else None
    return value if isinstance(value, str) else None


def load_certificates(data: bytes) -> list[x509.Certificate]:
    """Every certificate in a PEM bundle (or one DER certificate)."""
    try:
        if b"-----BEGIN" in data:
            certs = x509.load_pem_x509_certificates(data)
        else:
            certs = [x509.load_der_x509_certificate(data)]
    except ValueError as exc:
        raise CertificateError(f"not a usable certificate: {exc}") from None
    if not certs:
        raise CertificateError("no certificate found")
    return certs


def load_crl(data: bytes) -> x509.CertificateRevocationList:
    try:
        if b"-----BEGIN" in data:
            return x509.load_pem_x509_crl(data)
        return x509.load_der_x509_crl(data)
    except ValueError as exc:
        raise CertificateError(f"not a usable CRL: {exc}") from None


def decode_chain(x5c: object) -> list[x509.Certificate]:
    """An ``x5c`` member (RFC 7515 4.1.6: standard base64 DER, leaf first) as certificates."""
    if not isinstance(x5c, list) or not x5c or not all(isinstance(c, str) for c in x5c):
        raise CertificateError("x5c is not a non-empty array of base64 strings")
    try:
        return [x509.load_der_x509_certificate(base64.b64decode(c, validate=True)) for c in x5c]
    except ValueError as exc:
        raise CertificateError(f"x5c holds an unusable certificate: {exc}") from None


def encode_chain(chain: Sequence[x509.Certificate]) -> list[str]:
    return [base64.b64encode(c.public_bytes(serialization.Encoding.DER)).decode("ascii")
            for c in chain]


@dataclass(frozen=True, slots=True)
class CertifiedKey:
    """A signing key vouched for by a chain to a trusted CA."""

    key_id: str
    public_key: PublicKey = field(repr=False, compare=False)
    algorithm: str
    subject: str | None
    issuer: str | None
    serial: int
    thumbprint: str
    not_before: datetime  # the latest not-before along the chain
    not_after: datetime  # the earliest not-after along the chain


def _require_signer_usage(
    policy: verification.Policy, cert: x509.Certificate, usage: x509.KeyUsage | None
) -> None:
    if usage is None or not usage.digital_signature:
        raise ValueError("key usage does not include digitalSignature")


def _refuse_ca(
    policy: verification.Policy, cert: x509.Certificate, bc: x509.BasicConstraints | None
) -> None:
    if bc is not None and bc.ca:
        raise ValueError("a CA certificate cannot sign messages")


_EE_POLICY = (
    verification.ExtensionPolicy.permit_all()
    .require_present(x509.KeyUsage, verification.Criticality.AGNOSTIC, _require_signer_usage)
    .may_be_present(x509.BasicConstraints, verification.Criticality.AGNOSTIC, _refuse_ca)
)
_CA_POLICY = verification.ExtensionPolicy.webpki_defaults_ca()


class ChainVerifier:
    """Trusted CA certificates (anchors) and the CRLs they issued; verifies signer chains."""

    __slots__ = ("_anchors", "_crls", "_store")

    def __init__(
        self,
        anchors: Iterable[x509.Certificate] = (),
        crls: Iterable[x509.CertificateRevocationList] = (),
    ) -> None:
        self._anchors: dict[str, x509.Certificate] = {}
        self._crls: dict[bytes, x509.CertificateRevocationList] = {}
        self._store: verification.Store | None = None
        for anchor in anchors:
            self.add_anchor(anchor)
        for crl in crls:
            self.add_crl(crl)

    def __bool__(self) -> bool:
        return bool(self._anchors)

    @property
    def anchors(self) -> list[x509.Certificate]:
        return list(self._anchors.values())

    def add_anchor(self, cert: x509.Certificate) -> None:
        try:
            bc = cert.extensions.get_extension_for_class(x509.BasicConstraints).value
        except x509.ExtensionNotFound:
            bc = None
        if bc is None or not bc.ca:
            raise CertificateError(f"{cert.subject.rfc4514_string()} is not a CA certificate")
        self._anchors[thumbprint(cert)] = cert
        self._store = None

    def add_crl(self, crl: x509.CertificateRevocationList) -> None:
        """Install a CRL (replacing an older one of the same issuer); its issuer must be an
        anchor or an intermediate seen later, and the CRL must be signed by it."""
        issuers = [a for a in self._anchors.values() if a.subject == crl.issuer]
        if not issuers:
            raise CertificateError(f"CRL issuer {crl.issuer.rfc4514_string()} is not a trusted CA")
        if not any(crl.is_signature_valid(a.public_key())  # type: ignore[arg-type]
                   for a in issuers):
            raise CertificateError(f"CRL of {crl.issuer.rfc4514_string()}: bad signature "
                                   "(not signed by the trusted CA of that name)")
        old = self._crls.get(crl.issuer.public_bytes())
        if old is None or old.last_update_utc <= crl.last_update_utc:
            self._crls[crl.issuer.public_bytes()] = crl

    def verify(self, chain: Sequence[x509.Certificate], *, now: datetime) -> CertifiedKey:
        """The certified leaf key, or CertificateError saying why the chain is refused."""
        if not chain:
            raise CertificateError("empty certificate chain")
        if not self._anchors:
            raise CertificateError("no trusted CA")
        if self._store is None:
            self._store = verification.Store(list(self._anchors.values()))
        verifier = (
            verification.PolicyBuilder().store(self._store).time(now).max_chain_depth(2)
            .extension_policies(ca_policy=_CA_POLICY, ee_policy=_EE_POLICY)
            .build_client_verifier()
        )
        leaf = chain[0]
        try:
            verified = verifier.verify(leaf, list(chain[1:])).chain
        except verification.VerificationError as exc:
            raise CertificateError(f"certificate {_cn(leaf)}: {_short(str(exc))}") from None
        for cert, issuer in itertools.pairwise(verified):
            self._check_revocation(cert, issuer, now)
        public = leaf.public_key()
        if not isinstance(public, ec.EllipticCurvePublicKey | ed25519.Ed25519PublicKey
                          | rsa.RSAPublicKey):
            raise CertificateError(f"certificate {_cn(leaf)}: unsupported key type")
        return CertifiedKey(
            key_id=key_id(public), public_key=public, algorithm=algorithm_of(public),
            subject=common_name(leaf), issuer=common_name(verified[-1]),
            serial=leaf.serial_number, thumbprint=thumbprint(leaf),
            not_before=max(c.not_valid_before_utc for c in verified),
            not_after=min(c.not_valid_after_utc for c in verified),
        )

    def _check_revocation(
        self, cert: x509.Certificate, issuer: x509.Certificate, now: datetime
    ) -> None:
        crl = self._crls.get(issuer.subject.public_bytes())
        if crl is None:
            return
        if crl.next_update_utc is not None and crl.next_update_utc < now:
            raise CertificateError(f"CRL of {_cn(issuer)} expired at "
                                   f"{crl.next_update_utc.isoformat()}: refusing (fail closed)")
        if crl.get_revoked_certificate_by_serial_number(cert.serial_number) is not None:
            raise CertificateError(f"certificate {_cn(cert)} (serial {cert.serial_number:x}) "
                                   "is revoked")

    def revoked_serials(self) -> int:
        return sum(len(list(crl)) for crl in self._crls.values())


def _cn(cert: x509.Certificate) -> str:
    return repr(common_name(cert) or cert.subject.rfc4514_string())


def _short(text: str) -> str:
    return text.removeprefix("validation failed: ").split(" (encountered")[0][:200]


def verify_issued_by(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    """Whether ``issuer`` signed ``cert`` (used by the CLI to refuse foreign CRL requests)."""
    try:
        cert.verify_directly_issued_by(issuer)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True
