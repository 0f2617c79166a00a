"""One object a node or station holds for end-to-end security: sign outgoing, check incoming.

Bundles the node's signing keys, trust store, policies, roles and replay cache. Pure: ``now``
is passed in, nothing is read from disk (load keys with :class:`KeyStore` first). Typical use::

    payload = ctx.sign_outgoing("SetChargingProfile", "request", payload, version="2.0.1", now=now)
    decision = ctx.check_incoming(action, "request", payload, version="2.0.1", now=now)
    if decision.outcome is Outcome.REJECT: answer with decision.error()  (CALLERROR SecurityError)
    if action in MANAGEMENT_ACTIONS and decision.accepted:
        response = ctx.handle_management(action, payload, decision)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ocppnet.errors import SecurityError
from ocppnet.security import management
from ocppnet.security.jws import sign_jws
from ocppnet.security.key_management import add_trusted_key, revoke_trusted_key
from ocppnet.security.keys import KeyPair
from ocppnet.security.policy import PolicyDecision, PolicyEngine, PolicySet
from ocppnet.security.replay import ReplayCache
from ocppnet.security.roles import Authorization, RoleSet
from ocppnet.security.signatures import SignatureVerdict, canonical_payload, sign
from ocppnet.security.trust import TrustStore

__all__ = ["JWS_MODES", "ManagementUpdate", "SecurityContext"]

JWS_MODES = ("off", "accept", "send")


@dataclass(frozen=True, slots=True)
class ManagementUpdate:
    """One accepted remote change (AddTrustedKey, RevokeTrustedKey, Add/Delete
    SignaturePolicy, Add/Delete UserRole): what :attr:`SecurityContext.on_update` is told,
    and what a restart applies again (``[security] updates_file``)."""

    action: str
    payload: Mapping[str, Any]
    verdicts: tuple[SignatureVerdict, ...]
    at: datetime


class SecurityContext:
    """Signing keys (by key id and by name) + PolicyEngine; policies/roles change remotely."""

    __slots__ = ("_keys", "engine", "jws", "jws_key", "on_update")

    def __init__(
        self,
        *,
        trust: TrustStore,
        signing_keys: Mapping[str, KeyPair] | Iterable[KeyPair] = (),
        policies: PolicySet | None = None,
        roles: RoleSet | None = None,
        replay: ReplayCache | None = None,
        jws: str = "accept",
        jws_key: str | None = None,
    ) -> None:
        """``jws``: OCPP 2.1 signed messages ``off`` (refused as unknown actions), ``accept``
        (verified like ours, answered with a signed reply) or ``send`` (also sign our own
        outgoing 2.1 requests that way). ``jws_key`` names the key for JWS replies when the
        outgoing policy names none (default: the first ES256/RSA-capable signing key)."""
        if jws not in JWS_MODES:
            raise ValueError(f"jws must be one of {', '.join(JWS_MODES)}, not {jws!r}")
        self.jws = jws
        self.jws_key = jws_key
        named = signing_keys.items() if isinstance(signing_keys, Mapping) else (
            (k.key_id, k) for k in signing_keys
        )
        self._keys: dict[str, KeyPair] = {}
        for name, pair in named:
            self._keys[name] = pair
            self._keys[pair.key_id] = pair
        cache = replay if replay is not None else ReplayCache()
        self.engine = PolicyEngine(policies or PolicySet(), trust, roles, cache)
        self.on_update: Callable[[ManagementUpdate], None] | None = None
        """Told every accepted remote change, before the answer goes out (the updates file
        keeps them across restarts); an exception refuses the change's answer."""

    def signing_keys(self) -> dict[str, KeyPair]:
        """The signing keys by name and by key id."""
        return dict(self._keys)

    @property
    def policies(self) -> PolicySet:
        return self.engine.policies

    @property
    def roles(self) -> RoleSet:
        return self.engine.roles

    @property
    def trust(self) -> TrustStore:
        return self.engine.trust

    def sign_outgoing(
        self, action: str, kind: str, payload: Mapping[str, Any], *, version: str, now: datetime
    ) -> dict[str, Any]:
        """``payload`` signed with every key the outgoing policy names (a copy; may be unsigned).

        Raises SecurityError when the policy names a key this node does not hold.
        """
        names = self.engine.outgoing(action, kind)
        return self.sign_with(names, action, kind, payload, version=version, now=now)

    def sign_with(
        self, names: Iterable[str], action: str, kind: str, payload: Mapping[str, Any],
        *, version: str, now: datetime,
    ) -> dict[str, Any]:
        """Sign explicitly (e.g. a node countersigning); the payload is canonicalized once."""
        out = dict(payload)
        jcs: bytes | None = None
        for name in names:
            pair = self._keys.get(name)
            if pair is None:
                raise SecurityError(f"no signing key {name!r} on this node")
            jcs = jcs or canonical_payload(payload)
            out = sign(out, action=action, kind=kind, version=version, key=pair, now=now,
                       payload_jcs=jcs)
        return out

    def check_incoming(
        self, action: str, kind: str, payload: Mapping[str, Any], *, version: str, now: datetime,
        message_type_id: int | None = None,
    ) -> PolicyDecision:
        """Verify signatures and apply the incoming policy (and role constraints if it says so).

        ``action`` may be an OCPP 2.1 ``<Action>-Signed``: the JWS is verified, the policy of
        ``<Action>`` applies and ``decision.payload`` is the encapsulated message.
        """
        return self.engine.check_incoming(action, kind, payload, version, now,
                                          message_type_id=message_type_id)

    def wants_jws(self, version: str) -> bool:
        """Whether outgoing requests on a link of ``version`` go out as ``<Action>-Signed``."""
        return self.jws == "send" and version.removeprefix("ocpp") == "2.1"

    def jws_signer(self, action: str, kind: str) -> KeyPair:
        """The key that signs a JWS for ``action``: the first JWS-capable key the outgoing
        policy names, else ``jws_key``, else the first JWS-capable key; SecurityError if none."""
        names = [*self.engine.outgoing(action, kind)]
        if self.jws_key:
            names.append(self.jws_key)
        else:
            names.extend(self._keys)
        for name in names:
            pair = self._keys.get(name)
            if pair is not None and pair.algorithm in ("secp256r1", "rsa"):
                return pair
        raise SecurityError(f"no ES256/RSA signing key for a signed {action} (OCPP 2.1 JWS)")

    def seal(
        self, action: str, kind: str, payload: Mapping[str, Any], *, now: datetime,
        message_type_id: int | None = None,
    ) -> dict[str, Any]:
        """``payload`` as the flattened JWS of an OCPP 2.1 ``<action>-Signed`` message."""
        mtid = message_type_id if message_type_id is not None else (
            2 if kind == "request" else 3)
        return sign_jws(payload, action=action, message_type_id=mtid,
                        key=self.jws_signer(action, kind), now=now)

    def authorize(
        self, action: str, payload: Mapping[str, Any], signer_roles: Iterable[str]
    ) -> Authorization:
        return self.engine.roles.authorize(action, payload, signer_roles)

    def handle_management(
        self, action: str, payload: Mapping[str, Any], decision: PolicyDecision,
        *, now: datetime | None = None,
    ) -> dict[str, Any]:
        """Apply a signed Add/Delete SignaturePolicy/UserRole or Add/RevokeTrustedKey request
        (``now``: wall time, needed by the latter); returns the response."""
        update = ManagementUpdate(action, payload, decision.verdicts,
                                  now if now is not None else datetime.now(UTC))
        response = self.apply_update(update)
        if response.get("status") == "Accepted" and self.on_update is not None:
            self.on_update(update)
        return response

    def apply_update(self, update: ManagementUpdate) -> dict[str, Any]:
        """Apply one change with the authority of its signers' verdicts; the response."""
        engine, action, payload, verdicts = self.engine, update.action, update.payload, \
            update.verdicts
        if action in ("AddTrustedKey", "RevokeTrustedKey"):
            apply = add_trusted_key if action == "AddTrustedKey" else revoke_trusted_key
            k = apply(engine.trust, engine.roles, payload, verdicts, now=update.at)
            engine.roles = k.state
            return k.response
        if action in ("AddSignaturePolicy", "DeleteSignaturePolicy"):
            change = management.add_signature_policy if action == "AddSignaturePolicy" \
                else management.delete_signature_policy
            p = change(engine.policies, engine.roles, payload, verdicts)
            engine.policies = p.state
            return p.response
        if action in ("AddUserRole", "DeleteUserRole"):
            role_change = management.add_user_role if action == "AddUserRole" \
                else management.delete_user_role
            r = role_change(engine.roles, payload, verdicts)
            engine.roles = r.state
            return r.response
        raise ValueError(f"{action} is not a management action")

    def __repr__(self) -> str:
        kids = sorted({k.key_id for k in self._keys.values()})
        return f"SecurityContext(signing_keys={kids}, trust={self.trust!r})"
