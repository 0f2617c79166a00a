"""The answer to a message that could not be decoded, written once for every reader of a link.

The codec (:class:`~ocppnet.rpc.codec.DecodeFailure`) says what went wrong and which error
frame answers it; every place that reads a link (a station's pump, the router, the
per-station fallback upstream, a station's file service) logs it and sends that frame here.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from ocppnet.errors import ConnectionClosed
from ocppnet.rpc.codec import DecodeFailure
from ocppnet.rpc.frames import Frame

__all__ = ["answer_undecodable"]


async def answer_undecodable(
    failure: DecodeFailure,
    write: Callable[[Frame], Awaitable[object]],
    *,
    sender: str | None,
    log: logging.Logger,
    event: str = "decode_failed",
    **context: object,
) -> bool:
    """Log ``failure`` (``event=... <context> code=... description=...``) and send the codec's
    error frame through ``write``, with PATH = (``sender``,) in overlay mode; nothing is sent
    when no message id could be recovered. False when the link closed while answering."""
    fields = " ".join(f"{key}={value}" for key, value in context.items())
    log.warning(
        "event=%s %s code=%s description=%r message_id=%s",
        event, fields, failure.error_code, failure.description, failure.message_id,
    )
    reply = failure.reply_from(sender)
    if reply is None:
        return True
    try:
        await write(reply)
    except ConnectionClosed:
        return False
    return True
