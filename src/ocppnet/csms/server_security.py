"""The transport's ServerSecurity from the CSMS config (reads the PEM files it names)."""

from __future__ import annotations

import ssl
from pathlib import Path

from ocppnet.csms.config import CsmsConfig
from ocppnet.errors import ConfigError
from ocppnet.pki.tls import CertFiles, server_ssl_context
from ocppnet.transport.security import ServerSecurity, StaticPasswords


def server_security(config: CsmsConfig) -> ServerSecurity | None:
    """None for profile 0; otherwise passwords and/or TLS as the profile requires.

    ConfigError names the key whose file cannot be used."""
    profile = config.security_profile
    if profile == 0:
        return None
    passwords = StaticPasswords(config.passwords) if profile in (1, 2) else None
    context = None
    if profile >= 2:
        assert config.tls_cert is not None and config.tls_key is not None  # checked at load
        ca = _read("tls_ca", config.tls_ca) if profile == 3 else None
        try:
            context = server_ssl_context(
                CertFiles(config.tls_cert, config.tls_key), client_ca_pem=ca
            )
        except (OSError, ssl.SSLError) as exc:
            raise ConfigError(f"csms.tls_cert/tls_key: cannot load: {exc}") from None
    return ServerSecurity(profile, passwords, context)


def _read(key: str, path: Path | None) -> bytes:
    if path is None:
        raise ConfigError(f"csms.{key}: required by security_profile 3")
    try:
        return path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"csms.{key}: cannot read {path}: {exc.strerror}") from None
