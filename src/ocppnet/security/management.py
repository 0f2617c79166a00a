"""Remote management of policies and roles: AddSignaturePolicy, DeleteSignaturePolicy,
AddUserRole, DeleteUserRole (our extension messages; payload shapes in docs/signatures.md).

Pure functions over the current immutable PolicySet/RoleSet, the (schema-validated) request
payload and the signature verdicts of that request. A change is applied only when a *valid*
signature comes from a key whose role holds ``manage_policies`` / ``manage_roles``. The result
carries the response payload and the new set (unchanged when rejected).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from ocppnet.errors import ConfigError
from ocppnet.security.policy import PolicySet, parse_policy
from ocppnet.security.roles import RoleSet, parse_role
from ocppnet.security.signatures import SignatureVerdict

__all__ = [
    "MANAGEMENT_ACTIONS",
    "Change",
    "add_signature_policy",
    "add_user_role",
    "delete_signature_policy",
    "delete_user_role",
]

#: served by SecurityContext.handle_management (Add/RevokeTrustedKey: key_management.py)
MANAGEMENT_ACTIONS = frozenset(
    {"AddSignaturePolicy", "DeleteSignaturePolicy", "AddUserRole", "DeleteUserRole",
     "AddTrustedKey", "RevokeTrustedKey"}
)
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Change(Generic[T]):
    """``state`` is the set to keep using; ``response`` the payload to answer with."""

    accepted: bool
    state: T
    response: dict[str, Any]


def _response(accepted: bool, code: str = "", info: str = "") -> dict[str, Any]:
    if accepted:
        return {"status": "Accepted"}
    return {"status": "Rejected", "statusInfo": {"reasonCode": code, "additionalInfo": info[:512]}}


_PAYLOAD = "payload"


def _key_problem(exc: ConfigError) -> str:
    """``policy.rules[0].direction: missing``: the key in the request's payload, no source."""
    return exc.description.removeprefix(f"{_PAYLOAD}: ")


def _refusal(
    roles: RoleSet, verdicts: Iterable[SignatureVerdict], permission: str
) -> str | None:
    valid = [v for v in verdicts if v.valid]
    signer_roles = roles.roles_of((v.key_id for v in valid if v.key_id),
                                  subjects=(v.subject for v in valid if v.subject))
    if roles.has_permission(signer_roles, permission):
        return None
    return f"needs a valid signature by a key whose role has {permission!r}"


def add_signature_policy(
    policies: PolicySet, roles: RoleSet, payload: Mapping[str, Any],
    verdicts: Iterable[SignatureVerdict],
) -> Change[PolicySet]:
    refusal = _refusal(roles, verdicts, "manage_policies")
    if refusal:
        return Change(False, policies, _response(False, "Unauthorized", refusal))
    try:
        policy = parse_policy(payload.get("policy"), source=_PAYLOAD, where="policy")
    except ConfigError as exc:
        return Change(False, policies, _response(False, "InvalidPolicy", _key_problem(exc)))
    return Change(True, policies.with_policy(policy), _response(True))


def delete_signature_policy(
    policies: PolicySet, roles: RoleSet, payload: Mapping[str, Any],
    verdicts: Iterable[SignatureVerdict],
) -> Change[PolicySet]:
    refusal = _refusal(roles, verdicts, "manage_policies")
    if refusal:
        return Change(False, policies, _response(False, "Unauthorized", refusal))
    policy_id = payload.get("id")
    if not isinstance(policy_id, str) or policies.get(policy_id) is None:
        info = f"no policy {policy_id!r}"
        return Change(False, policies, _response(False, "UnknownPolicy", info))
    return Change(True, policies.without(policy_id), _response(True))


def add_user_role(
    roles: RoleSet, payload: Mapping[str, Any], verdicts: Iterable[SignatureVerdict]
) -> Change[RoleSet]:
    refusal = _refusal(roles, verdicts, "manage_roles")
    if refusal:
        return Change(False, roles, _response(False, "Unauthorized", refusal))
    try:
        role = parse_role(payload.get("role"), source=_PAYLOAD, where="role")
    except ConfigError as exc:
        return Change(False, roles, _response(False, "InvalidRole", _key_problem(exc)))
    return Change(True, roles.with_role(role), _response(True))


def delete_user_role(
    roles: RoleSet, payload: Mapping[str, Any], verdicts: Iterable[SignatureVerdict]
) -> Change[RoleSet]:
    refusal = _refusal(roles, verdicts, "manage_roles")
    if refusal:
        return Change(False, roles, _response(False, "Unauthorized", refusal))
    name = payload.get("name")
    if not isinstance(name, str) or name not in roles.roles:
        return Change(False, roles, _response(False, "UnknownRole", f"no role {name!r}"))
    return Change(True, roles.without(name), _response(True))


#: for the other management modules (key_management.py): same responses, same refusal
response = _response
refusal = _refusal
