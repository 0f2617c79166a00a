"""OBIS reading identifiers (``RI``): ``01-00:01.08.00*FF``, ``1-b:1.8.0``, ``01-0B:B3.08.00*FF``.

Meters write OBIS codes in several spellings (decimal ``1.8.0``, hexadecimal groups with
``*`` or ``.`` before F). :func:`parse_obis` reads them all into groups; :attr:`Obis.register`
says which billing register a code names: the classic ``1.8`` (import) and ``2.8`` (export)
active-energy registers and the OCMF 1.4 reserved ``B0..B3`` / ``C0..C3`` (table 25).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["Obis", "parse_obis"]

_OBIS = re.compile(
    r"([0-9A-Za-z]{1,3})-([0-9A-Za-z]{1,3}):([0-9A-Za-z]{1,3})\.([0-9A-Za-z]{1,3})"
    r"\.([0-9A-Za-z]{1,3})(?:[.*]([0-9A-Za-z]{1,3}))?"
)

# Table 25 of OCMF 1.4 (C group, hexadecimal).
_RESERVED = {
    0xB0: "total import mains energy", 0xB1: "total import device energy",
    0xB2: "transaction import mains energy", 0xB3: "transaction import device energy",
    0xC0: "total export mains energy", 0xC1: "total export device energy",
    0xC2: "transaction export mains energy", 0xC3: "transaction export device energy",
}


def _group(text: str) -> int | None:
    try:
        return int(text, 16)
    except ValueError:
        return None


@dataclass(frozen=True, slots=True)
class Obis:
    """An OBIS code as written (``text``) and its six groups (F is None when omitted)."""

    text: str
    a: str
    b: str
    c: str
    d: str
    e: str
    f: str | None

    @property
    def register(self) -> str | None:
        """What energy register this names, or None when it is no energy register."""
        c, d = _group(self.c), _group(self.d)
        if c in _RESERVED and d == 8:
            return _RESERVED[c]
        if d == 8 and c == 1:
            return "active energy import"
        if d == 8 and c == 2:
            return "active energy export"
        return None

    @property
    def billing_relevant(self) -> bool:
        """True for an energy register a bill may be based on."""
        return self.register is not None


def parse_obis(text: str) -> Obis | None:
    """The OBIS code in ``text``, or None when it is not in any known OBIS spelling."""
    match = _OBIS.fullmatch(text.strip())
    if match is None:
        return None
    a, b, c, d, e, f = match.groups()
    return Obis(text, a, b, c, d, e, f)
