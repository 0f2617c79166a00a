"""Throw-away PKI for tests and demos: a CA, server and client certificates, SSL contexts."""

from ocppnet.pki.certificates import Issued, make_ca, make_client_cert, make_server_cert
from ocppnet.pki.tls import (
    CertFiles,
    ThrowawayPki,
    client_ssl_context,
    server_ssl_context,
    write_cert_files,
)

__all__ = [
    "CertFiles",
    "Issued",
    "ThrowawayPki",
    "client_ssl_context",
    "make_ca",
    "make_client_cert",
    "make_server_cert",
    "server_ssl_context",
    "write_cert_files",
]
