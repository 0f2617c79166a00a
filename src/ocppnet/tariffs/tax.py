"""Tax on a net amount by OCPP 2.1 tax rates with stack levels (pure).

Stack 0 taxes are on the net price; stack 1 taxes on the net price plus the stack 0 taxes;
and so on. Rates of one level add up. No rates: the amount including tax is the net amount.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from ocppnet.tariffs.model import TaxRate

__all__ = ["with_tax"]

_HUNDRED = Decimal(100)


def with_tax(net: Decimal, rates: Sequence[TaxRate]) -> Decimal:
    """``net`` with every rate applied, lowest stack level first."""
    amount = net
    for level in sorted({r.stack for r in rates}):
        percent = sum((r.percent for r in rates if r.stack == level), Decimal(0))
        amount += amount * percent / _HUNDRED
    return amount
