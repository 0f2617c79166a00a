"""A node's key store on disk: a directory of PEM files, the only file I/O in security/.

Layout: ``<name>.key.pem`` (PKCS#8 private key, mode 0600, written with O_EXCL so an existing
key is never overwritten), ``<name>.pub.pem`` (public key; alone for a peer's trusted key) and
optionally ``<name>.crt.pem`` (the key's signer certificate, chain leaf first; security/ca_store.py
writes it and the CA files).
The directory is created with mode 0700. Private key bytes never reach a log, ``repr`` or error.
"""

from __future__ import annotations

import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path

from ocppnet.security.certificates import CertificateError, encode_chain, load_certificates
from ocppnet.security.keys import (
    KeyMaterialError,
    KeyPair,
    PublicKey,
    algorithm_of,
    generate,
    key_id,
    load_private_pem,
    load_public_pem,
    private_pem,
    public_pem,
)
from ocppnet.security.trust import TrustStore

__all__ = ["KeyInfo", "KeyStore", "KeyStoreError"]

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


class KeyStoreError(Exception):
    """A key store operation failed; the message is one line, fit for a CLI."""


@dataclass(frozen=True, slots=True)
class KeyInfo:
    name: str
    key_id: str
    algorithm: str
    has_private: bool


class KeyStore:
    """Keys of one node, by name, in ``directory``."""

    __slots__ = ("directory",)

    def __init__(self, directory: str | os.PathLike[str]) -> None:
        self.directory = Path(directory)

    def __repr__(self) -> str:
        return f"KeyStore({str(self.directory)!r})"

    def _path(self, name: str, suffix: str) -> Path:
        if not _NAME.fullmatch(name):
            raise KeyStoreError(f"bad key name {name!r}: use letters, digits, '.', '_', '-'")
        return self.directory / f"{name}{suffix}"

    def _ensure_dir(self) -> None:
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)

    def new(self, name: str, algorithm: str) -> KeyInfo:
        """Generate and store a key pair; refuses to overwrite an existing name."""
        try:
            return self.import_private(name, private_pem(generate(algorithm)))
        except KeyMaterialError as exc:
            raise KeyStoreError(str(exc)) from None

    def import_private(self, name: str, pem: bytes) -> KeyInfo:
        try:
            key = load_private_pem(pem)
        except KeyMaterialError as exc:
            raise KeyStoreError(str(exc)) from None
        priv, pub = self._path(name, ".key.pem"), self._path(name, ".pub.pem")
        if priv.exists() or pub.exists():
            raise KeyStoreError(f"key {name!r} already exists in {self.directory}")
        self._ensure_dir()
        self._write(priv, private_pem(key), 0o600)
        self._write(pub, public_pem(key), 0o644)
        return KeyInfo(name, key_id(key), algorithm_of(key), True)

    def import_public(self, name: str, pem: bytes) -> KeyInfo:
        """Store a peer's public key (it becomes part of :meth:`trust_store`)."""
        try:
            key = load_public_pem(pem)
        except KeyMaterialError as exc:
            raise KeyStoreError(str(exc)) from None
        pub = self._path(name, ".pub.pem")
        if pub.exists():
            raise KeyStoreError(f"key {name!r} already exists in {self.directory}")
        self._ensure_dir()
        self._write(pub, public_pem(key), 0o644)
        return KeyInfo(name, key_id(key), algorithm_of(key), False)

    @staticmethod
    def _write(path: Path, data: bytes, mode: int) -> None:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
        try:
            os.write(fd, data)
        finally:
            os.close(fd)
        os.chmod(path, mode)  # the umask may have removed bits; never added any

    def list_keys(self) -> list[KeyInfo]:
        if not self.directory.is_dir():
            return []
        out = []
        for pub in sorted(self.directory.glob("*.pub.pem")):
            name = pub.name.removesuffix(".pub.pem")
            key = self.public_key(name)
            has_private = (self.directory / f"{name}.key.pem").exists()
            out.append(KeyInfo(name, key_id(key), algorithm_of(key), has_private))
        return out

    def find(self, name_or_id: str) -> str:
        """The stored name for a name or key id."""
        for info in self.list_keys():
            if name_or_id in (info.name, info.key_id):
                return info.name
        raise KeyStoreError(f"no key {name_or_id!r} in {self.directory}")

    def public_key(self, name: str) -> PublicKey:
        try:
            return load_public_pem(self._path(name, ".pub.pem").read_bytes())
        except FileNotFoundError:
            raise KeyStoreError(f"no key {name!r} in {self.directory}") from None
        except KeyMaterialError as exc:
            raise KeyStoreError(f"{name}.pub.pem: {exc}") from None

    def public_pem(self, name: str) -> bytes:
        return public_pem(self.public_key(name))

    def key_pair(self, name: str) -> KeyPair:
        """The private key ``name``, with its certificate chain from ``<name>.crt.pem`` if any."""
        path = self._path(name, ".key.pem")
        try:
            mode = stat.S_IMODE(path.stat().st_mode)
            if mode & 0o077:
                raise KeyStoreError(f"{path}: private key is accessible by group/others "
                                    f"(mode {mode:04o}); chmod 600 it")
            key = load_private_pem(path.read_bytes())
        except FileNotFoundError:
            raise KeyStoreError(f"no private key {name!r} in {self.directory}") from None
        except KeyMaterialError:
            raise KeyStoreError(f"{name}.key.pem is not a usable private key") from None
        return KeyPair.of(key, self.chain(name, key_id(key)))

    def chain(self, name: str, kid: str) -> tuple[str, ...]:
        """``<name>.crt.pem`` as ``x5c`` (leaf first); empty without one. The leaf must certify
        the key: a certificate for another key is refused."""
        path = self._path(name, ".crt.pem")
        if not path.exists():
            return ()
        try:
            certs = load_certificates(path.read_bytes())
        except CertificateError as exc:
            raise KeyStoreError(f"{path}: {exc}") from None
        leaf_key = certs[0].public_key()
        if key_id(leaf_key) != kid:  # type: ignore[arg-type]
            raise KeyStoreError(f"{path}: the certificate is for another key than {name}.key.pem")
        return tuple(encode_chain(certs))

    def signing_keys(self) -> dict[str, KeyPair]:
        """Every private key, by name (for :class:`SecurityContext`)."""
        return {i.name: self.key_pair(i.name) for i in self.list_keys() if i.has_private}

    def trust_store(self) -> TrustStore:
        """A TrustStore with every public key in the store (own and peers')."""
        trust = TrustStore()
        for info in self.list_keys():
            trust.add(self.public_key(info.name), name=info.name)
        return trust
