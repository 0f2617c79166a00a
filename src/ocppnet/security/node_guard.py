"""Signature policy and roles enforced at a networking node, before a command reaches a station.

A node is not the final verifier, but it may refuse early what the station would refuse anyway
(a SetChargingProfile that no role allows, a forged or replayed command) so it never crosses
the last hop. :func:`signature_guard` builds a :data:`ocppnet.node.router.Guard` from a
:class:`SecurityContext` with the node's own trust store, policies and roles::

    node.router.guards.append(signature_guard(security))

The router answers a refused request with CALLERROR ``SecurityError`` to its real asker; a
policy's ``drop`` is answered the same way (the router never swallows a request silently).
The node keeps its own replay memory, independent of the station's. A ``RevokeTrustedKey``
passing through that the node's own policy accepts is applied to the node's trust too.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection

from ocppnet.rpc.frames import Call
from ocppnet.security.context import SecurityContext
from ocppnet.security.jws import unsigned_action
from ocppnet.security.policy import PolicyDecision
from ocppnet.security.verdicts import Clock, verdict_summary, wall_clock

__all__ = ["NodeGuard", "signature_guard"]

log = logging.getLogger("ocppnet.security.node")

#: ``on_verdict(call, decision)``: for the dashboard (signature verdicts seen at the node).
NodeVerdictHook = Callable[[Call, PolicyDecision], None]


class NodeGuard:
    """Callable ``(call, version) -> reason | None``; see the module docstring."""

    __slots__ = ("actions", "checked", "clock", "node_id", "on_verdict", "refused", "security")

    def __init__(
        self,
        security: SecurityContext,
        *,
        actions: Collection[str] | None = None,
        clock: Clock = wall_clock,
        on_verdict: NodeVerdictHook | None = None,
        node_id: str = "",
    ) -> None:
        self.security = security
        self.actions = None if actions is None else frozenset(actions)
        self.clock = clock
        self.on_verdict = on_verdict
        self.node_id = node_id
        self.checked = 0
        self.refused = 0

    def __call__(self, call: Call, version: str) -> str | None:
        if self.actions is not None and call.action not in self.actions:
            return None
        decision = self.security.check_incoming(
            call.action, "request", call.payload, version=version, now=self.clock()
        )
        self.checked += 1
        if self.on_verdict is not None:
            try:
                self.on_verdict(call, decision)
            except Exception:
                log.exception("event=verdict_hook_failed node=%s", self.node_id)
        if decision.accepted:
            if unsigned_action(call.action) == "RevokeTrustedKey":  # on its way: apply it here
                self._learn_revocation(call, decision)
            if decision.logged_failure:
                log.warning(
                    "event=security_accept_and_log node=%s action=%s message_id=%s reason=%r",
                    self.node_id, call.action, call.message_id, decision.reason,
                )
            return None
        self.refused += 1
        log.warning(
            "event=security_refused node=%s action=%s message_id=%s path=%s verdict=%r",
            self.node_id, call.action, call.message_id, "/".join(call.path),
            verdict_summary(decision),
        )
        return f"refused at node {self.node_id or '?'}: {decision.reason}"

    def _learn_revocation(self, call: Call, decision: PolicyDecision) -> None:
        """A RevokeTrustedKey this node may verify itself (signed by a manage_keys role it
        trusts) revokes the key at the node as well, so the node refuses that key's next
        command before it travels on; the request is forwarded to its destination anyway."""
        payload = decision.payload if decision.payload is not None else call.payload  # JWS
        response = self.security.handle_management("RevokeTrustedKey", payload, decision,
                                                   now=self.clock())
        log.info("event=revocation_learned node=%s key_id=%s status=%s", self.node_id,
                 payload.get("keyId"), response.get("status"))


def signature_guard(
    security: SecurityContext,
    *,
    actions: Collection[str] | None = None,
    clock: Clock = wall_clock,
    on_verdict: NodeVerdictHook | None = None,
    node_id: str = "",
) -> NodeGuard:
    """A router guard checking every forwarded request (or only ``actions``) against
    ``security``'s incoming policy and roles."""
    return NodeGuard(security, actions=actions, clock=clock, on_verdict=on_verdict,
                     node_id=node_id)
