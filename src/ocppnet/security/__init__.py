"""End-to-end signatures (docs/signatures.md): keys, RFC 8785, sign/verify, policies, roles.

Pure except ``keystore``. Most callers need only :class:`SecurityContext` and the value types
it returns; the submodules hold one concept each. The integration modules attach the core to
the network and are not imported here: ``endpoint`` (Handlers wrapper, signed calls),
``node_guard`` (router guard) and ``signer`` (pure); a signing overlay node is a
:class:`ocppnet.participant.Participant`.
"""

from ocppnet.security.context import SecurityContext
from ocppnet.security.keys import KeyPair
from ocppnet.security.management import MANAGEMENT_ACTIONS
from ocppnet.security.policy import Outcome, PolicyDecision, PolicySet
from ocppnet.security.replay import ReplayCache
from ocppnet.security.roles import Authorization, RoleSet
from ocppnet.security.signatures import SignatureVerdict, VerdictStatus, sign, verify
from ocppnet.security.trust import TrustStore

__all__ = [
    "MANAGEMENT_ACTIONS",
    "Authorization",
    "KeyPair",
    "Outcome",
    "PolicyDecision",
    "PolicySet",
    "ReplayCache",
    "RoleSet",
    "SecurityContext",
    "SignatureVerdict",
    "TrustStore",
    "VerdictStatus",
    "sign",
    "verify",
]
