"""``ocppnet policy check|show FILE``: validate and explain a signature policy / roles file.

The file is TOML or JSON (by extension) with top-level ``policies`` and ``roles`` lists
(docs/signatures.md sections 7 and 8), or a process's TOML file with a ``[security]`` table,
which is then built exactly as the process builds it at start (keys, trust, policy, roles).
``check`` prints a summary, warnings for references that cannot work, and exits 1 with one
line naming the key on the first error. ``show`` prints every rule and role, or with
``--action`` the rule that wins for each direction.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Callable
from pathlib import Path

from ocppnet.config import read_toml
from ocppnet.errors import ConfigError
from ocppnet.security.policy import Requirement, Rule
from ocppnet.security.roles import Role
from ocppnet.security.settings import PolicyFile, load_policy_file, load_security

__all__ = ["PolicyFile", "load_policy_file", "register"]

_KEY_ID = re.compile(r"[A-Za-z0-9_-]{43}")


def warnings(pf: PolicyFile) -> list[str]:
    """References that parse but cannot work as written (undefined roles, odd key ids)."""
    out: list[str] = []
    defined = set(pf.roles.roles)
    for p_index, policy in enumerate(pf.policies.policies):
        for r_index, rule in enumerate(policy.rules):
            where = f"{pf.source}.policies[{p_index}].rules[{r_index}]"
            out.extend(f"{where}.roles: role {name!r} is not defined in this file"
                       for name in rule.roles if name not in defined)
            out.extend(f"{where}.keys: {kid!r} does not look like a key id (43 base64url chars)"
                       for kid in rule.keys if not _KEY_ID.fullmatch(kid))
            if rule.direction == "outgoing" and rule.require is not Requirement.NONE:
                out.append(f"{where}.require: has no effect on outgoing messages")
    for r_index, role in enumerate(pf.roles.roles.values()):
        where = f"{pf.source}.roles[{r_index}]"
        out.extend(f"{where}.keys: {kid!r} does not look like a key id (43 base64url chars)"
                   for kid in sorted(role.keys) if not _KEY_ID.fullmatch(kid))
        if not role.keys and not role.subjects:
            out.append(f"{where}.keys: role {role.name!r} has no keys")
    return out


def describe_rule(rule: Rule) -> str:
    parts = [f"{rule.direction:<8} {rule.action} {rule.kind}"]
    if rule.sign_with:
        parts.append(f"sign_with={','.join(rule.sign_with)}")
    if rule.direction == "incoming":
        parts.append(f"require={rule.require.value}")
        if rule.keys:
            parts.append(f"keys={','.join(rule.keys)}")
        if rule.roles:
            parts.append(f"roles={','.join(rule.roles)}")
        parts.append(f"authorize={'yes' if rule.authorize else 'no'}")
        parts.append(f"on_failure={rule.on_failure.value}")
    return " ".join(parts)


def describe_role(role: Role) -> list[str]:
    lines = [f"role {role.name}: {len(role.keys)} key(s)"
             + (f", permissions={','.join(sorted(role.permissions))}" if role.permissions else "")]
    for kid in sorted(role.keys):
        lines.append(f"  key {kid}")
    for perm in role.allow:
        constraints = "; ".join(f"{c.field} {c.op} {c.value!r}" for c in perm.constraints)
        lines.append(f"  allow {perm.action}" + (f" if {constraints}" if constraints else ""))
    return lines


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the ``policy`` subcommand and its actions to the main parser."""
    policy = subparsers.add_parser("policy", help="check and show signature policies and roles")
    actions = policy.add_subparsers(dest="policy_command", metavar="ACTION", required=True)

    check = actions.add_parser("check", help="validate a policy/roles file (TOML or JSON)")
    check.add_argument("file", help="policy file (.toml or .json)")
    check.add_argument("--strict", action="store_true", help="treat warnings as errors")
    check.set_defaults(func=_guard(_check))

    show = actions.add_parser("show", help="print the rules and roles of a policy file")
    show.add_argument("file", help="policy file (.toml or .json)")
    show.add_argument("--action", help="only: which rule applies to this action")
    show.add_argument("--kind", default="request", choices=("request", "response"))
    show.set_defaults(func=_guard(_show))


def _guard(func: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        try:
            return func(args)
        except ConfigError as exc:
            print(f"ocppnet policy {args.policy_command}: {exc.description}", file=sys.stderr)
            return 1
        except OSError as exc:
            where = f" ({exc.filename})" if exc.filename else ""
            print(f"ocppnet policy {args.policy_command}: {exc.strerror or exc}{where}",
                  file=sys.stderr)
            return 1

    return run


def _check_process(path: str) -> int | None:
    """A process TOML with ``[security]``: build it exactly as the process will at start."""
    if not path.endswith(".toml") or not Path(path).is_file():
        return None
    if "security" not in read_toml(path):
        return None
    ctx = load_security(path)
    assert ctx is not None
    signing = sorted({pair.key_id for pair in ctx.signing_keys().values()})
    rules = sum(len(p.rules) for p in ctx.policies.policies)
    print(f"{path}: [security]: {len(signing)} signing keys, {len(ctx.trust)} trusted keys, "
          f"{len(ctx.trust.ca.anchors)} trusted CAs, {len(ctx.policies.policies)} policies "
          f"({rules} rules), {len(ctx.roles.roles)} roles, jws={ctx.jws}")
    return 0


def _check(args: argparse.Namespace) -> int:
    process = _check_process(args.file)
    if process is not None:
        return process
    pf = load_policy_file(args.file)
    rules = sum(len(p.rules) for p in pf.policies.policies)
    keys = len({k for r in pf.roles.roles.values() for k in r.keys})
    problems = warnings(pf)
    for line in problems:
        print(f"warning: {line}", file=sys.stderr)
    print(f"{pf.source}: {len(pf.policies.policies)} policies ({rules} rules), "
          f"{len(pf.roles.roles)} roles ({keys} keys), {len(problems)} warnings")
    return 1 if problems and args.strict else 0


def _show(args: argparse.Namespace) -> int:
    pf = load_policy_file(args.file)
    if args.action:
        for direction in ("incoming", "outgoing"):
            rule = pf.policies.rule_for(args.action, args.kind, direction)
            owner = next((p.id for p in pf.policies.policies
                          if any(r is rule for r in p.rules)), None)
            print(f"{direction} {args.action} {args.kind}: "
                  + (f"policy {owner}: {describe_rule(rule)}" if rule else "no rule"))
        return 0
    for policy in pf.policies.policies:
        print(f"policy {policy.id}")
        for rule in policy.rules:
            print(f"  {describe_rule(rule)}")
    for role in pf.roles.roles.values():
        print("\n".join(describe_role(role)))
    return 0
