"""The ``[api]`` TOML table: who may use a process's HTTP API (tokens, hashed, with scopes).

```toml
[api]
[[api.tokens]]
name = "ops"                        # shown in logs and 403 messages, never the token
sha256 = "9f86d081884c7d65..."      # ``ocppnet api token`` prints a token and this hash
scopes = ["operator"]
```

``token_file`` names a file with one token per line as ``sha256-hex name scope,scope``
(``#`` comments), for deployments that keep secrets out of the main file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import Field, StringConstraints

from ocppnet.api.tokens import TokenTable
from ocppnet.config import RelPath, Section
from ocppnet.errors import ConfigError

Sha256Hex = Annotated[str, StringConstraints(pattern=r"^[0-9a-fA-F]{64}$")]
Scope = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_.-]*$")]


class ApiToken(Section):
    """One bearer token: its name, the SHA-256 of the token, its scopes."""

    name: str = Field(min_length=1, description="who holds it (logged instead of the token)")
    sha256: Sha256Hex = Field(description="SHA-256 hex digest of the token")
    scopes: tuple[Scope, ...] = Field(
        min_length=1, description="e.g. read, operator (operator implies read)")


class ApiSection(Section):
    """The ``[api]`` table."""

    tokens: tuple[ApiToken, ...] = Field(default=(), description="bearer tokens (hashed)")
    token_file: RelPath | None = Field(
        default=None, description="file with 'sha256 name scope,scope' lines")


def token_table(section: ApiSection, *, source: str = "[api]") -> TokenTable:
    """The tokens of ``section`` (and of its token file); ConfigError names a bad line."""
    entries = [(t.name, t.sha256, t.scopes) for t in section.tokens]
    if section.token_file is not None:
        entries.extend(read_token_file(section.token_file))
    names = [name for name, _, _ in entries]
    duplicate = next((n for n in names if names.count(n) > 1), None)
    if duplicate is not None:
        raise ConfigError(f"{source}: api.tokens: name '{duplicate}' is used twice")
    return TokenTable(entries)


def read_token_file(path: Path) -> list[tuple[str, str, tuple[str, ...]]]:
    """Parse a token file; ConfigError ``file:line: problem``."""
    try:
        text = path.read_text("utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read token file: {exc.strerror or exc}") from None
    entries = []
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        parts = line.split()
        if len(parts) != 3:
            raise ConfigError(f"{path}:{number}: expected 'sha256-hex name scope[,scope]'")
        digest, name, scopes = parts
        try:
            token = ApiToken(name=name, sha256=digest, scopes=tuple(scopes.split(",")))
        except ValueError:
            raise ConfigError(
                f"{path}:{number}: expected a 64-hex-digit sha256 and scopes like read,operator"
            ) from None
        entries.append((token.name, token.sha256, token.scopes))
    return entries
