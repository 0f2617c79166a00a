"""OCPP security profiles on the server side: what a station must present to connect.

Profile 0 is no security (development only), 1 HTTP Basic auth over plain WebSocket,
2 TLS with a server certificate plus Basic auth, 3 mutual TLS (the client certificate's CN
is the station id). Passwords are checked by a pluggable callback, sync or async.
"""

from __future__ import annotations

import hmac
import ssl
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

#: ``check(station_id, password) -> bool`` (or an awaitable of bool).
PasswordCheck = Callable[[str, str], bool | Awaitable[bool]]


class StaticPasswords:
    """A PasswordCheck over a fixed station id -> password table (constant-time compare)."""

    __slots__ = ("_passwords",)

    def __init__(self, passwords: Mapping[str, str]) -> None:
        self._passwords = {k: v.encode() for k, v in passwords.items()}

    def __call__(self, station_id: str, password: str) -> bool:
        expected = self._passwords.get(station_id)
        return expected is not None and hmac.compare_digest(expected, password.encode())


@dataclass(frozen=True, slots=True)
class ServerSecurity:
    """The security profile a server enforces, with what it needs (checked at construction)."""

    profile: int = 0
    check_password: PasswordCheck | None = None
    ssl_context: ssl.SSLContext | None = None

    def __post_init__(self) -> None:
        if self.profile not in (0, 1, 2, 3):
            raise ValueError(f"security profile must be 0..3, not {self.profile}")
        if self.profile in (1, 2) and self.check_password is None:
            raise ValueError(f"security profile {self.profile} needs check_password")
        if self.profile in (2, 3) and self.ssl_context is None:
            raise ValueError(f"security profile {self.profile} needs an SSL context")
        if self.profile in (0, 1) and self.ssl_context is not None:
            raise ValueError(f"security profile {self.profile} runs without TLS")
        context = self.ssl_context
        if self.profile == 3 and context is not None and context.verify_mode != ssl.CERT_REQUIRED:
            raise ValueError("security profile 3 needs an SSL context that requires client certs")

    @property
    def basic_auth(self) -> bool:
        return self.profile in (1, 2)
