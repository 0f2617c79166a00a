"""The ``[security]`` table every process shares (CSMS, node, station simulator, participants),
and building a :class:`SecurityContext` from it.

```toml
[security]
keystore = "keys"                  # directory of <name>.key.pem / <name>.pub.pem (ocppnet keys)
signing_keys = ["grid-operator"]   # names in the key store this process signs with
trust = ["trusted/", "csms.pub.pem"]  # PEM public keys, or directories of them
policy_file = "policy.toml"        # policies (and roles), as `ocppnet policy check` reads them
role_file = "roles.toml"           # roles only (optional; else the policy file's roles)
replay_window_s = 300
```

Reading the files is the only I/O here; every problem is a ConfigError naming the TOML file,
the key and the file it points to (docs/configuration.md, docs/signatures.md).
"""

from __future__ import annotations

import stat
from dataclasses import dataclass
from pathlib import Path

from pydantic import Field, field_validator

from ocppnet.config import RelPath, Section
from ocppnet.errors import ConfigError
from ocppnet.security.config import parse_text
from ocppnet.security.context import SecurityContext
from ocppnet.security.keys import KeyMaterialError, KeyPair, load_public_pem
from ocppnet.security.keystore import KeyStore, KeyStoreError
from ocppnet.security.policy import PolicySet
from ocppnet.security.replay import DEFAULT_WINDOW, ReplayCache
from ocppnet.security.roles import RoleSet
from ocppnet.security.trust import TrustStore

__all__ = [
    "PolicyFile",
    "SecuritySection",
    "build_security",
    "load_policy_file",
    "load_trust",
]

_POLICY_TOP_LEVEL = frozenset({"policies", "roles"})


class SecuritySection(Section):
    """``[security]``: keys, trusted keys, policies, roles and the replay window."""

    keystore: RelPath | None = Field(
        None, description="key store directory (`ocppnet keys new --store DIR`)")
    signing_keys: tuple[str, ...] = Field(
        (), description="names of the private keys in the key store this process signs with")
    trust: tuple[RelPath, ...] = Field(
        (), description="trusted public keys: PEM files, or directories of *.pem files")
    trust_keystore: bool = Field(
        True, description="also trust every public key in the key store")
    policy_file: RelPath | None = Field(
        None, description="signature policies (and roles), TOML or JSON")
    role_file: RelPath | None = Field(
        None, description="roles, TOML or JSON (else the roles of the policy file)")
    replay_window_s: float = Field(
        DEFAULT_WINDOW, description="signature timestamps older or newer than this are refused")

    @field_validator("replay_window_s")
    @classmethod
    def _positive(cls, value: float) -> float:
        if not value > 0:
            raise ValueError("must be > 0")
        return value


@dataclass(frozen=True, slots=True)
class PolicyFile:
    """A parsed policy file: what `ocppnet policy check` validates and processes load."""

    source: str
    policies: PolicySet
    roles: RoleSet


def load_policy_file(path: str | Path, *, roles_only: bool = False) -> PolicyFile:
    """Parse and check a policy (or role) file; ConfigError naming file and key, or OSError."""
    source = str(path)
    data = parse_text(Path(path).read_text(encoding="utf-8"), source=source)
    allowed = frozenset({"roles"}) if roles_only else _POLICY_TOP_LEVEL
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise ConfigError(f"{source}: unknown key(s) {', '.join(unknown)} "
                          f"(expected {', '.join(sorted(allowed))})")
    return PolicyFile(source, PolicySet.from_config(data, source=source),
                      RoleSet.from_config(data, source=source))


def load_trust(paths: tuple[Path, ...], *, where: str) -> TrustStore:
    """Public keys from PEM files and directories of them (named after the file)."""
    trust = TrustStore()
    for index, path in enumerate(paths):
        files = [path]
        if path.is_dir():  # public keys only: a key store's *.key.pem files stay private
            files = sorted(f for f in path.glob("*.pem") if not f.name.endswith(".key.pem"))
        for file in files:
            try:
                pem = file.read_bytes()
            except FileNotFoundError:
                raise ConfigError(f"{where}.trust[{index}]: {file}: no such file") from None
            except OSError as exc:
                raise ConfigError(
                    f"{where}.trust[{index}]: {file}: cannot read: {exc.strerror}") from None
            try:
                trust.add(load_public_pem(pem), name=file.name.removesuffix(".pem")
                          .removesuffix(".pub"))
            except KeyMaterialError as exc:
                raise ConfigError(
                    f"{where}.trust[{index}]: {file}: not a public key PEM: {exc}") from None
    return trust


def _private_key(store: KeyStore, name: str, where: str) -> KeyPair:
    path = store.directory / f"{name}.key.pem"
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise ConfigError(f"{where}: no private key {name!r} in {store.directory} "
                          f"(expected {path.name})") from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ConfigError(f"{where}: {path}: private key readable by others "
                          f"(mode {stat.S_IMODE(mode):o}; chmod 600 it)")
    try:
        return store.key_pair(name)
    except KeyStoreError as exc:
        raise ConfigError(f"{where}: {store.directory}: {exc}") from None


def _policy(path: Path, where: str, *, roles_only: bool = False) -> PolicyFile:
    try:
        return load_policy_file(path, roles_only=roles_only)
    except FileNotFoundError:
        raise ConfigError(f"{where}: {path}: no such file") from None
    except OSError as exc:
        raise ConfigError(f"{where}: {path}: cannot read: {exc.strerror}") from None


def build_security(section: SecuritySection, *, source: str = "<config>",
                   where: str = "security") -> SecurityContext:
    """The SecurityContext ``section`` describes: keys loaded, files parsed and cross-checked
    (a policy that signs with a key this process does not hold, or requires a role no role
    file defines, is an error here, not at the first message)."""
    prefix = f"{source}: {where}"
    keys: dict[str, KeyPair] = {}
    trust = TrustStore()
    if section.keystore is not None:
        store = KeyStore(section.keystore)
        if not section.keystore.is_dir():
            raise ConfigError(f"{prefix}.keystore: {section.keystore}: no such directory")
        for name in section.signing_keys:
            keys[name] = _private_key(store, name, f"{prefix}.signing_keys")
        if section.trust_keystore:
            try:
                trust = store.trust_store()
            except KeyStoreError as exc:
                raise ConfigError(f"{prefix}.keystore: {exc}") from None
    elif section.signing_keys:
        raise ConfigError(f"{prefix}.signing_keys: needs security.keystore")
    for entry in load_trust(section.trust, where=prefix):
        trust.add(entry.public_key, name=entry.name)
    policies, roles = PolicySet(), RoleSet()
    if section.policy_file is not None:
        loaded = _policy(section.policy_file, f"{prefix}.policy_file")
        policies, roles = loaded.policies, loaded.roles
    if section.role_file is not None:
        roles = _policy(section.role_file, f"{prefix}.role_file", roles_only=True).roles
    _cross_check(policies, roles, keys, prefix)
    return SecurityContext(trust=trust, signing_keys=keys, policies=policies, roles=roles,
                           replay=ReplayCache(window=section.replay_window_s))


def _cross_check(
    policies: PolicySet, roles: RoleSet, keys: dict[str, KeyPair], prefix: str
) -> None:
    for policy in policies.policies:
        for index, rule in enumerate(policy.rules):
            at = f"{prefix}.policy_file: policy {policy.id!r} rule {index}"
            held = set(keys) | {pair.key_id for pair in keys.values()}
            for name in rule.sign_with:
                if name not in held:
                    raise ConfigError(f"{at}: signs with {name!r}, which is not in "
                                      f"security.signing_keys")
            for role in rule.roles:
                if role not in roles.roles:
                    raise ConfigError(f"{at}: requires role {role!r}, which no role file "
                                      f"defines")
