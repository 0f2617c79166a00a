"""The CSMS configuration: table ``[csms]`` of one TOML file, declared once as :class:`CsmsConfig`.

A :class:`ocppnet.config.Section`: every error names the file and the key (``csms.toml:
csms.port: input should be a valid integer, got '9000'``) and raises
:class:`ocppnet.errors.ConfigError`; unknown keys are errors too, so a typo never silently
falls back to a default. Relative paths are relative to the file. docs/csms.md's table of
keys is checked against these fields.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, ValidationInfo, field_validator

from ocppnet.config import RelPath, Section, in_range, parse_section, read_toml
from ocppnet.errors import ConfigError

TokenStatus = Literal[
    "Accepted", "Blocked", "Expired", "Invalid", "ConcurrentTx", "NoCredit", "Unknown"
]
TOKEN_STATUSES = frozenset(TokenStatus.__args__)  # type: ignore[attr-defined]


class CsmsConfig(Section):
    """What ``ocppnet csms`` needs; the defaults make a working local CSMS."""

    id: str = Field(default="CSMS", description="the CSMS's overlay id")
    host: str = Field(default="127.0.0.1", description="listen address")
    port: Annotated[int, in_range(0, 65535)] = Field(
        default=9000, description="listen port (0..65535, 0 = any free port)")
    security_profile: Annotated[int, in_range(0, 3)] = Field(
        default=0, description="0 plain ws (loopback/demo), 1 Basic, 2 TLS + Basic, 3 mutual TLS")
    store: str = Field(
        default="csms.sqlite3", validate_default=True,
        description="SQLite file (relative to the TOML file), `:memory:` or postgresql:// URL")
    accept_unknown_tokens: bool = Field(
        default=True, description="authorize id tokens the store does not know")
    heartbeat_interval: Annotated[int, in_range(1, 86400)] = Field(
        default=300, description="seconds, sent in BootNotification responses (1..86400)")
    overlay_allowed: bool = Field(default=True, description="accept networking nodes")
    tls_cert: RelPath | None = Field(
        default=None, validate_default=True, description="server certificate (profiles 2, 3)")
    tls_key: RelPath | None = Field(
        default=None, validate_default=True, description="server key (profiles 2, 3)")
    tls_ca: RelPath | None = Field(
        default=None, validate_default=True, description="client CA (profile 3)")
    passwords: dict[str, str] = Field(
        default_factory=dict, description="station id -> Basic password")
    id_tokens: dict[str, TokenStatus] = Field(
        default_factory=dict, description="token -> status, seeded into the store at start")

    @field_validator("id", "host")
    @classmethod
    def _text(cls, value: str) -> str:
        if not value:
            raise ValueError(f"expected a non-empty string, got {value!r}")
        return value

    @field_validator("store")
    @classmethod
    def _store(cls, value: str, info: ValidationInfo) -> str:
        if not value:
            raise ValueError("expected a non-empty string, got ''")
        base = info.context.get("base") if isinstance(info.context, Mapping) else None
        if value == ":memory:" or "://" in value or base is None:
            return value
        return str(Path(base) / value)

    @field_validator("tls_cert", "tls_key", "tls_ca")
    @classmethod
    def _tls(cls, value: Path | None, info: ValidationInfo) -> Path | None:
        profile = info.data.get("security_profile", 0)
        if value is None and profile >= 2 and info.field_name != "tls_ca":
            raise ValueError(f"required by security_profile {profile}")
        if value is None and profile == 3:
            raise ValueError("required by security_profile 3 (client certificates)")
        return value


def load_config(path: str | Path) -> CsmsConfig:
    """Read and check ``path``; ConfigError names the file and the key on any problem."""
    file = Path(path)
    return parse_config(read_toml(file), source=str(file), base=file.parent)


def parse_config(document: dict[str, Any], *, source: str, base: Path) -> CsmsConfig:
    """Build a CsmsConfig from a parsed TOML document (its ``[csms]`` table)."""
    unknown_top = sorted(set(document) - {"csms", "security"})
    if unknown_top:
        raise ConfigError(f"{source}: {unknown_top[0]}: unknown table "
                          "(expected [csms], [security])")
    return parse_section(CsmsConfig, document.get("csms"), source=source, where="csms", base=base)
