"""Signature policies: per action and direction, who signs outgoing and what incoming needs.

A rule matches ``action`` (or ``"*"``), ``kind`` (request/response/``"*"``) and ``direction``
(incoming/outgoing). The most specific matching rule wins (exact action beats ``"*"``, then exact
kind); among equally specific rules the one from the policy installed last wins. Incoming
requirements: ``none`` | ``any_trusted`` | ``all_listed`` (``keys``) | ``role`` (``roles``).
When a requirement is set, a signature by a known key that fails (invalid, replayed, expired,
revoked, malformed) fails the message too: a signer we trust vouched for something else.
Signatures by unknown keys are ignored. ``authorize`` (default: on for ``role``) additionally
checks the signers' role permissions and field constraints (see roles.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import Field, ValidationInfo, field_validator

from ocppnet.config import Section, parse_section
from ocppnet.errors import SecurityError
from ocppnet.security.config import NonEmpty, tables_of
from ocppnet.security.jws import is_signed, unsigned_action, verify_jws
from ocppnet.security.replay import ReplayCache
from ocppnet.security.roles import RoleSet
from ocppnet.security.signatures import SignatureVerdict, VerdictStatus, context_of, verify
from ocppnet.security.trust import TrustStore

__all__ = [
    "OnFailure",
    "Outcome",
    "PolicyDecision",
    "PolicyEngine",
    "PolicySection",
    "PolicySet",
    "Requirement",
    "Rule",
    "RuleSection",
    "SignaturePolicy",
    "parse_policy",
]


class Requirement(StrEnum):
    NONE = "none"
    ANY_TRUSTED = "any_trusted"
    ALL_LISTED = "all_listed"
    ROLE = "role"


class OnFailure(StrEnum):
    REJECT = "reject"
    DROP = "drop"
    ACCEPT_AND_LOG = "accept_and_log"


class Outcome(StrEnum):
    ACCEPT = "accept"
    REJECT = "reject"
    DROP = "drop"


# A failed check of a known key means the message is not what a trusted signer signed.
_FATAL = frozenset({
    VerdictStatus.MALFORMED, VerdictStatus.UNTRUSTED_KEY, VerdictStatus.EXPIRED,
    VerdictStatus.FUTURE, VerdictStatus.INVALID, VerdictStatus.REPLAYED,
})


@dataclass(frozen=True, slots=True)
class Rule:
    direction: str
    action: str = "*"
    kind: str = "*"
    sign_with: tuple[str, ...] = ()
    require: Requirement = Requirement.NONE
    keys: tuple[str, ...] = ()
    roles: tuple[str, ...] = ()
    authorize: bool = False
    on_failure: OnFailure = OnFailure.REJECT

    def specificity(self, action: str, kind: str, direction: str) -> int:
        """-1 when the rule does not apply; higher is more specific."""
        if self.direction != direction or self.action not in (action, "*"):
            return -1
        if self.kind not in (kind, "*"):
            return -1
        return (2 if self.action == action else 0) + (1 if self.kind == kind else 0)


@dataclass(frozen=True, slots=True)
class SignaturePolicy:
    id: str
    rules: tuple[Rule, ...]


@dataclass(frozen=True, slots=True)
class PolicySet:
    """Installed policies in installation order; immutable, changes return a new set."""

    policies: tuple[SignaturePolicy, ...] = ()

    @classmethod
    def from_config(cls, data: Mapping[str, Any], *, source: str = "<config>") -> PolicySet:
        """Policies from the ``policies`` list of a parsed TOML/JSON document."""
        return cls(tuple(
            parse_policy(p, source=source, where=f"policies[{i}]")
            for i, p in enumerate(tables_of(data, "policies", source=source))
        ))

    def with_policy(self, policy: SignaturePolicy) -> PolicySet:
        """Install (or replace, keeping the new one last) the policy with this id."""
        return PolicySet((*(p for p in self.policies if p.id != policy.id), policy))

    def without(self, policy_id: str) -> PolicySet:
        return PolicySet(tuple(p for p in self.policies if p.id != policy_id))

    def get(self, policy_id: str) -> SignaturePolicy | None:
        return next((p for p in self.policies if p.id == policy_id), None)

    def rule_for(self, action: str, kind: str, direction: str) -> Rule | None:
        best: Rule | None = None
        best_score = -1
        for policy in self.policies:
            for rule in policy.rules:
                score = rule.specificity(action, kind, direction)
                if score >= best_score and score >= 0:
                    best, best_score = rule, score
        return best


@dataclass(frozen=True, slots=True)
class PolicyDecision:
    """What to do with an incoming message, and why (``reason`` is safe to send in a CALLERROR)."""

    outcome: Outcome
    reason: str
    signer_roles: frozenset[str] = frozenset()
    verdicts: tuple[SignatureVerdict, ...] = ()
    logged_failure: bool = False
    #: the encapsulated message of an OCPP 2.1 ``<Action>-Signed`` JWS (None: not one)
    payload: dict[str, Any] | None = None

    @property
    def accepted(self) -> bool:
        return self.outcome is Outcome.ACCEPT

    def error(self) -> SecurityError:
        """The SecurityError to answer a rejected CALL with."""
        return SecurityError(self.reason, {"verdicts": [v.reason for v in self.verdicts]})


class PolicyEngine:
    """Applies a PolicySet with the verifier's trust store, roles and replay cache."""

    __slots__ = ("policies", "replay", "roles", "trust")

    def __init__(
        self,
        policies: PolicySet,
        trust: TrustStore,
        roles: RoleSet | None = None,
        replay: ReplayCache | None = None,
    ) -> None:
        self.policies = policies
        self.trust = trust
        self.roles = roles if roles is not None else RoleSet()
        self.replay = replay

    def outgoing(self, action: str, kind: str) -> tuple[str, ...]:
        """Key ids (or key names) that sign an outgoing message; empty: send unsigned."""
        rule = self.policies.rule_for(action, kind, "outgoing")
        return rule.sign_with if rule else ()

    def check_incoming(
        self, action: str, kind: str, payload: Mapping[str, Any], version: str, now: datetime,
        *, message_type_id: int | None = None,
    ) -> PolicyDecision:
        """Our form, or an OCPP 2.1 ``<Action>-Signed`` JWS (same verdicts, same rules; a
        JWS that cannot be read at all is always rejected: there is no message to process)."""
        if is_signed(action):
            base = unsigned_action(action)
            check = verify_jws(payload, action=base, kind=kind, trusted=self.trust, now=now,
                               replay=self.replay, message_type_id=message_type_id)
            if check.payload is None:
                what = context_of(version, base, kind).partition("/")[2]
                return PolicyDecision(Outcome.REJECT, f"{what}: {check.verdict.reason}",
                                verdicts=(check.verdict,))
            decision = self.decide(base, kind, check.payload, (check.verdict,), version)
            return replace(decision, payload=check.payload)
        verdicts = tuple(verify(payload, action=action, kind=kind, version=version,
                                trusted=self.trust, now=now, replay=self.replay))
        return self.decide(action, kind, payload, verdicts, version)

    def decide(
        self, action: str, kind: str, payload: Mapping[str, Any],
        verdicts: tuple[SignatureVerdict, ...], version: str,
    ) -> PolicyDecision:
        """Apply the incoming rule for ``action`` to verdicts already reached."""
        signer_roles = self.roles.roles_of(
            (v.key_id for v in verdicts if v.valid and v.key_id),
            subjects=(v.subject for v in verdicts if v.valid and v.subject),
        )
        rule = self.policies.rule_for(action, kind, "incoming")
        what = context_of(version, action, kind).partition("/")[2]
        if rule is None or (rule.require is Requirement.NONE and not rule.authorize):
            return PolicyDecision(Outcome.ACCEPT, "no signature required", signer_roles, verdicts)
        failure = _requirement_failure(rule, what, verdicts, self.roles, signer_roles)
        if failure is None and rule.authorize:
            auth = self.roles.authorize(action, payload, signer_roles)
            if not auth.allowed:
                failure = auth.reason
        if failure is None:
            return PolicyDecision(
                Outcome.ACCEPT, "signature requirements met", signer_roles, verdicts)
        if rule.on_failure is OnFailure.ACCEPT_AND_LOG:
            return PolicyDecision(
                Outcome.ACCEPT, failure, signer_roles, verdicts, logged_failure=True)
        outcome = Outcome.DROP if rule.on_failure is OnFailure.DROP else Outcome.REJECT
        return PolicyDecision(outcome, failure, signer_roles, verdicts)


def _requirement_failure(
    rule: Rule,
    what: str,
    verdicts: tuple[SignatureVerdict, ...],
    roles: RoleSet,
    signer_roles: frozenset[str],
) -> str | None:
    if rule.require is Requirement.NONE:
        return None
    bad = [v for v in verdicts if v.status in _FATAL]
    if bad:
        return f"{what}: signature {bad[0].index}: {bad[0].reason}"
    valid = {v.key_id for v in verdicts if v.valid}
    detail = "; ".join(f"signature {v.index}: {v.reason}" for v in verdicts) or "unsigned"
    if rule.require is Requirement.ANY_TRUSTED and not valid:
        return f"{what} requires a signature by a trusted key ({detail})"
    if rule.require is Requirement.ALL_LISTED:
        missing = [k for k in rule.keys if k not in valid]
        if missing:
            return f"{what} requires signatures by {', '.join(missing)} ({detail})"
    if rule.require is Requirement.ROLE and not signer_roles & set(rule.roles):
        return f"{what} requires a signature by role {' or '.join(rule.roles)} ({detail})"
    return None


_NEEDS = {
    "keys": (Requirement.ALL_LISTED, "all_listed needs at least one key id"),
    "roles": (Requirement.ROLE, "require = 'role' needs at least one role"),
}


class RuleSection(Section):
    """One ``[[policies.rules]]`` table (docs/signatures.md)."""

    direction: Literal["incoming", "outgoing"]
    action: NonEmpty = "*"
    kind: Literal["request", "response", "*"] = "*"
    sign_with: tuple[NonEmpty, ...] = ()
    require: Requirement = Requirement.NONE
    keys: tuple[NonEmpty, ...] = Field(default=(), validate_default=True)
    roles: tuple[NonEmpty, ...] = Field(default=(), validate_default=True)
    authorize: bool | None = None
    on_failure: OnFailure = OnFailure.REJECT

    @field_validator("keys", "roles")
    @classmethod
    def _named(cls, value: tuple[str, ...], info: ValidationInfo) -> tuple[str, ...]:
        """``all_listed`` needs keys, ``role`` needs roles."""
        needs, problem = _NEEDS[info.field_name or ""]
        if info.data.get("require") is needs and not value:
            raise ValueError(problem)
        return value

    def rule(self) -> Rule:
        authorize = self.require is Requirement.ROLE if self.authorize is None else self.authorize
        return Rule(
            direction=self.direction, action=self.action, kind=self.kind,
            sign_with=self.sign_with, require=self.require, keys=self.keys, roles=self.roles,
            authorize=authorize, on_failure=self.on_failure,
        )


class PolicySection(Section):
    """One ``[[policies]]`` table: ``id`` and ``rules``."""

    id: NonEmpty
    rules: tuple[RuleSection, ...] = ()


def parse_policy(data: Any, *, source: str, where: str) -> SignaturePolicy:
    """One policy table (``where`` names it, e.g. ``policies[0]``); ConfigError
    ``source: where.key: problem``."""
    section = parse_section(PolicySection, data, source=source, where=where)
    return SignaturePolicy(section.id, tuple(r.rule() for r in section.rules))
