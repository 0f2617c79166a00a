"""The CSMS configuration: one TOML file, table ``[csms]``, parsed into :class:`CsmsConfig`.

Every error names the file and the key (``csms.toml: csms.port: expected an integer ...``)
and raises :class:`ocppnet.errors.ConfigError`; unknown keys are errors too, so a typo
never silently falls back to a default. Relative paths are relative to the file.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ocppnet.errors import ConfigError

TOKEN_STATUSES = frozenset(
    {"Accepted", "Blocked", "Expired", "Invalid", "ConcurrentTx", "NoCredit", "Unknown"}
)


@dataclass(frozen=True, slots=True)
class CsmsConfig:
    """What ``ocppnet csms`` needs; the defaults make a working local CSMS."""

    id: str = "CSMS"
    host: str = "127.0.0.1"
    port: int = 9000
    security_profile: int = 0  # 0: plain ws (loopback/demo), 1: Basic, 2: TLS+Basic, 3: mTLS
    store: str = "csms.sqlite3"  # file path, ":memory:" or postgresql:// URL
    accept_unknown_tokens: bool = True
    heartbeat_interval: int = 300  # seconds, sent in BootNotification responses
    overlay_allowed: bool = True
    tls_cert: Path | None = None
    tls_key: Path | None = None
    tls_ca: Path | None = None
    passwords: dict[str, str] = field(default_factory=dict)  # station id -> Basic password
    id_tokens: dict[str, str] = field(default_factory=dict)  # token -> status, seeded at start


_KEYS = frozenset(CsmsConfig.__dataclass_fields__)


def load_config(path: str | Path) -> CsmsConfig:
    """Read and check ``path``; ConfigError names the file and the key on any problem."""
    file = Path(path)
    try:
        with file.open("rb") as f:
            document = tomllib.load(f)
    except FileNotFoundError:
        raise ConfigError(f"{file}: file not found") from None
    except OSError as exc:
        raise ConfigError(f"{file}: cannot read: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{file}: not valid TOML: {exc}") from None
    return parse_config(document, source=str(file), base=file.parent)


def parse_config(document: dict[str, Any], *, source: str, base: Path) -> CsmsConfig:
    """Build a CsmsConfig from a parsed TOML document (its ``[csms]`` table)."""
    unknown_top = sorted(set(document) - {"csms", "security"})
    if unknown_top:
        raise ConfigError(f"{source}: {unknown_top[0]}: unknown table "
                          "(expected [csms], [security])")
    table = document.get("csms", {})
    if not isinstance(table, dict):
        raise ConfigError(f"{source}: csms: expected a table")
    return _Reader(source, base, table).config()


class _Reader:
    def __init__(self, source: str, base: Path, table: dict[str, Any]) -> None:
        self.source = source
        self.base = base
        self.table = table

    def fail(self, key: str, problem: str) -> ConfigError:
        return ConfigError(f"{self.source}: csms.{key}: {problem}")

    def config(self) -> CsmsConfig:
        unknown = sorted(set(self.table) - _KEYS)
        if unknown:
            raise self.fail(unknown[0], "unknown key")
        d = CsmsConfig()
        cfg = CsmsConfig(
            id=self.text("id", d.id),
            host=self.text("host", d.host),
            port=self.integer("port", d.port, 0, 65535),
            security_profile=self.integer("security_profile", d.security_profile, 0, 3),
            store=self.store(d.store),
            accept_unknown_tokens=self.boolean("accept_unknown_tokens", d.accept_unknown_tokens),
            heartbeat_interval=self.integer("heartbeat_interval", d.heartbeat_interval, 1, 86400),
            overlay_allowed=self.boolean("overlay_allowed", d.overlay_allowed),
            tls_cert=self.path("tls_cert"),
            tls_key=self.path("tls_key"),
            tls_ca=self.path("tls_ca"),
            passwords=self.mapping("passwords", None),
            id_tokens=self.mapping("id_tokens", TOKEN_STATUSES),
        )
        if cfg.security_profile >= 2 and (cfg.tls_cert is None or cfg.tls_key is None):
            missing = "tls_cert" if cfg.tls_cert is None else "tls_key"
            raise self.fail(missing, f"required by security_profile {cfg.security_profile}")
        if cfg.security_profile == 3 and cfg.tls_ca is None:
            raise self.fail("tls_ca", "required by security_profile 3 (client certificates)")
        return cfg

    def text(self, key: str, default: str) -> str:
        value = self.table.get(key, default)
        if not isinstance(value, str) or not value:
            raise self.fail(key, f"expected a non-empty string, got {value!r}")
        return value

    def integer(self, key: str, default: int, low: int, high: int) -> int:
        value = self.table.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(key, f"expected an integer, got {value!r}")
        if not low <= value <= high:
            raise self.fail(key, f"expected {low}..{high}, got {value}")
        return value

    def boolean(self, key: str, default: bool) -> bool:
        value = self.table.get(key, default)
        if not isinstance(value, bool):
            raise self.fail(key, f"expected true or false, got {value!r}")
        return value

    def path(self, key: str) -> Path | None:
        if key not in self.table:
            return None
        return self.base / self.text(key, "")

    def store(self, default: str) -> str:
        value = self.text("store", default)
        if value == ":memory:" or "://" in value:
            return value
        return str(self.base / value)

    def mapping(self, key: str, allowed: frozenset[str] | None) -> dict[str, str]:
        value = self.table.get(key, {})
        if not isinstance(value, dict):
            raise self.fail(key, "expected a table of strings")
        for name, item in value.items():
            if not isinstance(item, str):
                raise self.fail(f"{key}.{name}", f"expected a string, got {item!r}")
            if allowed is not None and item not in allowed:
                raise self.fail(f"{key}.{name}", f"expected one of {sorted(allowed)}, got {item!r}")
        return dict(value)
