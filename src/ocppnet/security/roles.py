"""Roles: which signing keys may send which actions, with declarative constraints on fields.

A role names key ids (or certificate subjects, ``subjects``: the CN of a key certified by a CA
the verifier trusts), management ``permissions`` (``manage_policies``, ``manage_roles``,
``manage_keys``) and
``allow`` entries: an action (or ``"*"``) plus constraints. A constraint selects fields with a
dotted path where ``[*]`` visits every array element and ``[N]`` one element, and holds only if
*every* selected value satisfies the operator (eq, ne, in, ge, le, gt, lt, max_length). A
required field that is absent anywhere along the path fails the constraint. A message is
authorized when one of its signers' roles has an ``allow`` for the action whose constraints
all hold. RoleSet is an immutable value; changes return a new RoleSet.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from dataclasses import field as dc_field
from typing import Any

from pydantic import field_validator, model_validator

from ocppnet.config import Section, parse_section
from ocppnet.security.config import NonEmpty, tables_of

__all__ = [
    "OPERATORS",
    "PERMISSIONS",
    "AllowSection",
    "Authorization",
    "Constraint",
    "ConstraintSection",
    "Permission",
    "Role",
    "RoleSection",
    "RoleSet",
    "parse_role",
    "parse_selector",
]

PERMISSIONS = frozenset({"manage_policies", "manage_roles", "manage_keys"})
OPERATORS = ("eq", "ne", "in", "ge", "le", "gt", "lt", "max_length")
_SEGMENT = re.compile(r"([^.\[\]]+)((?:\[(?:\*|\d+)\])*)")
_INDEX = re.compile(r"\[(\*|\d+)\]")
_STAR = -1
_MISSING = object()

Step = str | int  # a key, an index, or _STAR


def parse_selector(text: str) -> tuple[Step, ...]:
    """``"a.b[*].c[0]"`` -> ``("a", "b", _STAR, "c", 0)``; ValueError on bad syntax."""
    steps: list[Step] = []
    for part in text.split("."):
        m = _SEGMENT.fullmatch(part)
        if m is None:
            raise ValueError(f"bad field selector {text!r} at {part!r}")
        steps.append(m.group(1))
        steps.extend(_STAR if i == "*" else int(i) for i in _INDEX.findall(m.group(2)))
    return tuple(steps)


def _select(value: Any, steps: tuple[Step, ...]) -> list[Any]:
    current = [value]
    for step in steps:
        following: list[Any] = []
        for item in current:
            if item is _MISSING:
                following.append(item)
            elif isinstance(step, str):
                following.append(item.get(step, _MISSING) if isinstance(item, dict) else _MISSING)
            elif not isinstance(item, list):
                following.append(_MISSING)
            elif step == _STAR:
                following.extend(item)
            else:
                following.append(item[step] if step < len(item) else _MISSING)
        current = following
    return current


def _number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def _same(a: Any, b: Any) -> bool:
    return a == b and isinstance(a, bool) == isinstance(b, bool)


@dataclass(frozen=True, slots=True)
class Constraint:
    """``field op value``; see the module docstring for selector and all-elements semantics."""

    field: str
    op: str
    value: Any
    required: bool = True
    steps: tuple[Step, ...] = dc_field(default=(), repr=False, compare=False)

    @classmethod
    def make(cls, field_: str, op: str, value: Any, required: bool = True) -> Constraint:
        if op not in OPERATORS:
            raise ValueError(f"unknown operator {op!r} (known: {', '.join(OPERATORS)})")
        if op in ("ge", "le", "gt", "lt") and not _number(value):
            raise ValueError(f"operator {op!r} needs a number")
        if op == "in" and not isinstance(value, list):
            raise ValueError("operator 'in' needs a list")
        if op == "max_length" and not (isinstance(value, int) and not isinstance(value, bool)):
            raise ValueError("operator 'max_length' needs an integer")
        return cls(field_, op, value, required, parse_selector(field_))

    def violation(self, payload: Mapping[str, Any]) -> str | None:
        """Why ``payload`` breaks this constraint, or None."""
        for v in _select(payload, self.steps):
            if v is _MISSING:
                if self.required:
                    return f"{self.field}: missing"
                continue
            if not self._holds(v):
                return f"{self.field}: {v!r} violates {self.op} {self.value!r}"
        return None

    def _holds(self, v: Any) -> bool:
        op, ref = self.op, self.value
        if op == "eq":
            return _same(v, ref)
        if op == "ne":
            return not _same(v, ref)
        if op == "in":
            return any(_same(v, r) for r in ref)
        if op == "max_length":
            return isinstance(v, str | list) and len(v) <= ref
        if not _number(v):
            return False
        return bool({"ge": v >= ref, "le": v <= ref, "gt": v > ref, "lt": v < ref}[op])


@dataclass(frozen=True, slots=True)
class Permission:
    """May send ``action`` ("*": any) when every constraint holds."""

    action: str
    constraints: tuple[Constraint, ...] = ()


@dataclass(frozen=True, slots=True)
class Role:
    name: str
    keys: frozenset[str] = frozenset()
    allow: tuple[Permission, ...] = ()
    permissions: frozenset[str] = frozenset()
    #: certificate subjects (CN) of keys certified by a trusted CA that hold this role
    subjects: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class Authorization:
    allowed: bool
    reason: str
    role: str | None = None


@dataclass(frozen=True, slots=True)
class RoleSet:
    """All roles a verifier knows, by name."""

    roles: Mapping[str, Role] = dc_field(default_factory=dict)

    @classmethod
    def of(cls, roles: Iterable[Role]) -> RoleSet:
        return cls({r.name: r for r in roles})

    @classmethod
    def from_config(cls, data: Mapping[str, Any], *, source: str = "<config>") -> RoleSet:
        """Roles from the ``roles`` list of a parsed TOML/JSON document."""
        return cls.of(
            parse_role(item, source=source, where=f"roles[{i}]")
            for i, item in enumerate(tables_of(data, "roles", source=source))
        )

    def with_role(self, role: Role) -> RoleSet:
        return RoleSet({**self.roles, role.name: role})

    def without(self, name: str) -> RoleSet:
        return RoleSet({k: v for k, v in self.roles.items() if k != name})

    def roles_of(self, key_ids: Iterable[str], subjects: Iterable[str] = ()) -> frozenset[str]:
        """Roles naming one of the keys, or the certificate subject (CN) of one of them."""
        kids = set(key_ids)
        cns = set(subjects)
        return frozenset(r.name for r in self.roles.values() if r.keys & kids or
                         r.subjects & cns)

    def has_permission(self, signer_roles: Iterable[str], permission: str) -> bool:
        return any(
            permission in self.roles[name].permissions
            for name in signer_roles
            if name in self.roles
        )

    def authorize(
        self, action: str, payload: Mapping[str, Any], signer_roles: Iterable[str]
    ) -> Authorization:
        """Allowed when some signer role has an ``allow`` for ``action`` whose constraints hold."""
        names = sorted(set(signer_roles))
        if not names:
            return Authorization(False, f"{action}: no signer with a role")
        refusals: list[str] = []
        for name in names:
            role = self.roles.get(name)
            if role is None:
                continue
            for perm in role.allow:
                if perm.action not in (action, "*"):
                    continue
                broken = next(
                    (r for c in perm.constraints if (r := c.violation(payload)) is not None), None
                )
                if broken is None:
                    return Authorization(True, f"{action} allowed by role {name!r}", name)
                refusals.append(f"role {name!r}: {broken}")
        if not refusals:
            return Authorization(False, f"{action} is not allowed for role(s) {', '.join(names)}")
        return Authorization(False, f"{action} refused: " + "; ".join(refusals))


class ConstraintSection(Section):
    """One constraint of an ``allow`` entry: ``field`` (a selector), ``op``, ``value``."""

    field: NonEmpty
    op: NonEmpty
    value: Any
    required: bool = True

    @field_validator("op")
    @classmethod
    def _op(cls, value: str) -> str:
        if value not in OPERATORS:
            raise ValueError(f"{value!r} is not one of {', '.join(OPERATORS)}")
        return value

    @model_validator(mode="after")
    def _well_formed(self) -> ConstraintSection:
        self.constraint()  # ValueError names the problem (a number expected, ...)
        return self

    def constraint(self) -> Constraint:
        return Constraint.make(self.field, self.op, self.value, self.required)


class AllowSection(Section):
    """One ``allow`` entry of a role: an action (or ``*``) and its constraints."""

    action: NonEmpty
    constraints: tuple[ConstraintSection, ...] = ()


class RoleSection(Section):
    """One ``[[roles]]`` table: name, keys, permissions, allow."""

    name: NonEmpty
    keys: tuple[NonEmpty, ...] = ()
    subjects: tuple[NonEmpty, ...] = ()  # certificate CNs of keys certified by a trusted CA
    permissions: tuple[NonEmpty, ...] = ()
    allow: tuple[AllowSection, ...] = ()

    @field_validator("permissions")
    @classmethod
    def _permissions(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        unknown = set(value) - PERMISSIONS
        if unknown:
            raise ValueError(f"unknown {', '.join(sorted(unknown))}")
        return value


def parse_role(data: Any, *, source: str, where: str) -> Role:
    """One role table (``where`` names it, e.g. ``roles[0]``); ConfigError
    ``source: where.key: problem``."""
    section = parse_section(RoleSection, data, source=source, where=where)
    allow = tuple(
        Permission(a.action, tuple(c.constraint() for c in a.constraints)) for a in section.allow
    )
    return Role(section.name, frozenset(section.keys), allow, frozenset(section.permissions),
                frozenset(section.subjects))
