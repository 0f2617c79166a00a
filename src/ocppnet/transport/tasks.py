"""Stopping the tasks a component started: cancel them all, then wait for each to finish.

Cancelling first and waiting after lets them wind down together; a task that ended with
CancelledError is the expected outcome, any other exception is raised as usual.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterable
from typing import Any

__all__ = ["cancel_and_wait"]


async def cancel_and_wait(tasks: Iterable[asyncio.Future[Any]]) -> None:
    """Cancel every task of ``tasks`` and wait until each has finished."""
    pending = list(tasks)
    for task in pending:
        task.cancel()
    for task in pending:
        with contextlib.suppress(asyncio.CancelledError):
            await task
