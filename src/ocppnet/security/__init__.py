"""End-to-end signatures (docs/signatures.md): keys, RFC 8785, sign/verify, policies, roles.

Pure except the file side (``keystore``, ``ca_store``, ``trust_files``, ``settings``), and
importing nothing of asyncio, transport, node or web (tests/test_layers.py checks it). Most
callers need only :class:`SecurityContext` and the value types it returns; the submodules hold
one concept each: ``jws`` (OCPP 2.1 signed messages), ``certificates`` (owner CA, signer
certificates, CRLs), ``key_management`` (AddTrustedKey/RevokeTrustedKey), ``file_signatures``
(signed firmware). ``node_guard`` (a router guard: a function of a request) and ``signer`` are
pure too and not imported here; the Connection-side wrapper (Handlers, signed calls) is
:mod:`ocppnet.transport.secured`, and a signing overlay node is a
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
