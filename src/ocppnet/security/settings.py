"""The ``[security]`` table every process shares (CSMS, node, station simulator, participants),
and building a :class:`SecurityContext` from it.

```toml
[security]
keystore = "keys"                  # directory of <name>.key.pem / <name>.pub.pem (ocppnet keys)
signing_keys = ["grid-operator"]   # names in the key store this process signs with
trust = ["trusted/", "owner-ca.ca.pem", "owner-ca.crl.pem"]  # keys, certificates, CAs, CRLs
policy_file = "policy.toml"        # policies (and roles), as `ocppnet policy check` reads them
role_file = "roles.toml"           # roles only (optional; else the policy file's roles)
replay_window_s = 300
jws = "accept"                     # OCPP 2.1 <Action>-Signed: off | accept | send
```

Reading the files is the only I/O here; every problem is a ConfigError naming the TOML file,
the key and the file it points to (docs/configuration.md, docs/signatures.md).
"""

from __future__ import annotations

import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, field_validator

from ocppnet.config import RelPath, Section, parse_section, read_toml
from ocppnet.errors import ConfigError
from ocppnet.security.config import parse_text
from ocppnet.security.context import SecurityContext
from ocppnet.security.keys import KeyPair
from ocppnet.security.keystore import KeyStore, KeyStoreError
from ocppnet.security.policy import PolicySet
from ocppnet.security.replay import DEFAULT_WINDOW, ReplayCache
from ocppnet.security.roles import RoleSet
from ocppnet.security.trust import TrustStore
from ocppnet.security.trust_files import load_trust as load_trust_files
from ocppnet.security.updates_file import UpdatesFile, restore_updates

__all__ = [
    "PolicyFile",
    "SecuritySection",
    "build_security",
    "load_policy_file",
    "load_security",
    "load_trust",
    "security_from",
]

_POLICY_TOP_LEVEL = frozenset({"policies", "roles"})


class SecuritySection(Section):
    """``[security]``: keys, trusted keys, policies, roles and the replay window."""

    keystore: RelPath | None = Field(
        None, description="key store directory (`ocppnet keys new --store DIR`)")
    signing_keys: tuple[str, ...] = Field(
        (), description="names of the private keys in the key store this process signs with")
    trust: tuple[RelPath, ...] = Field(
        (), description="trusted keys: PEM public keys, signer certificates, owner CA "
        "certificates and their CRLs; files, or directories of *.pem files")
    trust_keystore: bool = Field(
        True, description="also trust every public key in the key store")
    policy_file: RelPath | None = Field(
        None, description="signature policies (and roles), TOML or JSON")
    role_file: RelPath | None = Field(
        None, description="roles, TOML or JSON (else the roles of the policy file)")
    updates_file: RelPath | None = Field(
        None, description="JSON-lines file keeping accepted remote trust, policy and role "
        "updates across restarts (none: memory only, a restart forgets them)")
    replay_window_s: float = Field(
        DEFAULT_WINDOW, description="signature timestamps older or newer than this are refused")
    jws: Literal["off", "accept", "send"] = Field(
        "accept", description="OCPP 2.1 signed messages (<Action>-Signed, JWS): off = refused; "
        "accept = verified like ours, signed reply; send = also sign our 2.1 requests so")
    jws_key: str | None = Field(
        None, description="signing key (one of signing_keys, ES256 or RSA) for JWS replies "
        "when the outgoing policy names none (default: the first that can)")

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
    """Public keys, signer certificates, owner CA certificates and their CRLs from PEM files
    and directories of them (security/trust_files.py says what each PEM becomes)."""
    return load_trust_files(paths, where=f"{where}.trust")


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
    load_trust_files(section.trust, where=f"{prefix}.trust", into=trust)
    policies, roles = PolicySet(), RoleSet()
    if section.policy_file is not None:
        loaded = _policy(section.policy_file, f"{prefix}.policy_file")
        policies, roles = loaded.policies, loaded.roles
    if section.role_file is not None:
        roles = _policy(section.role_file, f"{prefix}.role_file", roles_only=True).roles
    _cross_check(policies, roles, keys, prefix, trust)
    if section.jws_key is not None:
        pair = keys.get(section.jws_key)
        if pair is None:
            raise ConfigError(f"{prefix}.jws_key: {section.jws_key!r} is not in "
                              f"security.signing_keys")
        if pair.algorithm not in ("secp256r1", "rsa"):
            raise ConfigError(f"{prefix}.jws_key: {section.jws_key!r} is a {pair.algorithm} "
                              f"key; OCPP 2.1 signs with ES256 (secp256r1) or RSA")
    context = SecurityContext(trust=trust, signing_keys=keys, policies=policies, roles=roles,
                              replay=ReplayCache(window=section.replay_window_s),
                              jws=section.jws, jws_key=section.jws_key)
    if section.updates_file is not None:
        journal = UpdatesFile(section.updates_file)
        restore_updates(context, journal.load(), source=str(section.updates_file))
        context.on_update = journal.append
    return context


def _cross_check(
    policies: PolicySet, roles: RoleSet, keys: dict[str, KeyPair], prefix: str,
    trust: TrustStore,
) -> None:
    for policy in policies.policies:
        for index, rule in enumerate(policy.rules):
            at = f"{prefix}.policy_file: policy {policy.id!r} rule {index}"
            held = set(keys) | {pair.key_id for pair in keys.values()}
            for name in rule.sign_with:
                if name not in held:
                    raise ConfigError(f"{at}: signs with {name!r}, which is not in "
                                      f"security.signing_keys")
            for kid in rule.keys:  # all_listed: a key nobody trusts can never sign
                if kid not in trust and not trust.ca:
                    raise ConfigError(f"{at}: requires a signature by key {kid!r}, which is "
                                      f"not in security.trust (nor certified: no CA trusted)")
            for role in rule.roles:
                if role not in roles.roles:
                    raise ConfigError(f"{at}: requires role {role!r}, which no role file "
                                      f"defines")


def load_security(path: str | Path) -> SecurityContext | None:
    """The ``[security]`` table of a process's TOML file, built (None: the file has none).

    What ``ocppnet node run``, ``ocppnet csms``, ``ocppnet station`` and ``ocppnet policy
    check`` call, so the check validates exactly what the processes load. ConfigError (one
    line, naming file, key and the file it points to) on any problem.
    """
    return security_from(read_toml(path), path)


def security_from(document: dict[str, Any], path: str | Path) -> SecurityContext | None:
    """:func:`load_security` of an already read ``document`` (the file ``path``)."""
    table = document.get("security")
    if table is None:
        return None
    source = str(path)
    section = parse_section(SecuritySection, table, source=source, where="security",
                            base=Path(path).parent)
    return build_security(section, source=source)
