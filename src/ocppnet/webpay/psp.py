"""A SIMULATED payment service provider: no money moves, no card data is asked for.

It stands where a real PSP (card acquirer, wallet) would be, so the flow around it is real:
an authorization returns a payment reference (``pspRef``, the C25 ``additionalInfo``), a
capture settles an amount up to the authorized maximum. Every reference starts with
``SIM-`` so nobody mistakes it for a real payment.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field

__all__ = ["SIMULATION_NOTICE", "Authorization", "PspError", "SimulatedPsp"]

SIMULATION_NOTICE = "SIMULATION - no real payment takes place"


class PspError(ValueError):
    """The simulated PSP refuses (unknown reference, amount above the authorization)."""


@dataclass(frozen=True, slots=True)
class Authorization:
    psp_ref: str
    max_amount: float
    currency: str


@dataclass(slots=True)
class SimulatedPsp:
    """Authorize a maximum, capture what was used; all in memory."""

    authorizations: dict[str, Authorization] = field(default_factory=dict)
    captured: dict[str, float] = field(default_factory=dict)

    def authorize(self, max_amount: float, currency: str) -> Authorization:
        if not max_amount > 0:
            raise PspError("the amount to authorize must be > 0")
        auth = Authorization(f"SIM-{secrets.token_hex(8).upper()}", max_amount, currency)
        self.authorizations[auth.psp_ref] = auth
        return auth

    def void(self, psp_ref: str) -> None:
        """Release an authorization nothing will be captured from."""
        if self.authorizations.pop(psp_ref, None) is None:
            raise PspError(f"unknown payment reference {psp_ref}")

    def capture(self, psp_ref: str, amount: float) -> float:
        """Settle ``amount`` (capped at the authorization); returns what was captured."""
        auth = self.authorizations.get(psp_ref)
        if auth is None:
            raise PspError(f"unknown payment reference {psp_ref}")
        if psp_ref in self.captured:
            raise PspError(f"payment {psp_ref} was settled already")
        if amount < 0:
            raise PspError("a negative amount cannot be captured")
        captured = round(min(amount, auth.max_amount), 2)
        self.captured[psp_ref] = captured
        return captured
