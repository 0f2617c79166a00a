"""Keys and security contexts of a grid-operator topology, shared by the loopback tests."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from ocppnet.grid.policy import operator_policy, site_policy, site_security
from ocppnet.security.context import SecurityContext
from ocppnet.security.keys import KeyPair
from ocppnet.security.policy import PolicySet
from ocppnet.security.trust import TrustStore

__all__ = ["operator_policy", "operator_security", "site_policy", "site_security", "until"]


def operator_security(grid: KeyPair) -> SecurityContext:
    return SecurityContext(trust=TrustStore(), signing_keys={"grid-op": grid},
                           policies=PolicySet.from_config(operator_policy()))


async def until(check: Callable[[], Any], limit: float = 20.0) -> Any:
    async with asyncio.timeout(limit):  # guards against a hang only
        while not (result := check()):  # noqa: ASYNC110 (polls processes' state)
            await asyncio.sleep(0.05)
        return result
