"""The one answer to an undecodable message: logged, the codec's error frame sent once."""

from __future__ import annotations

import logging

import pytest

from ocppnet.errors import ConnectionClosed
from ocppnet.rpc.codec import decode
from ocppnet.rpc.frames import CallError, Frame
from ocppnet.transport.undecodable import answer_undecodable

log = logging.getLogger("tests.undecodable")


def test_an_overlay_reply_leaves_with_the_senders_path() -> None:
    bad = decode('[2, "CSMS", ["CS-9"], "m2", "Heartbeat", []]', overlay=True, version="2.0.1")
    assert not isinstance(bad, Frame)
    reply = bad.reply_from("NODE-A")
    assert isinstance(reply, CallError) and reply.dest == "CS-9" and reply.path == ("NODE-A",)
    plain = decode('[2, "m1", "BootNotification", 5]', overlay=False, version="2.0.1")
    assert not isinstance(plain, Frame) and plain.reply_from("NODE-A") == plain.reply


async def test_logged_and_answered_once(caplog: pytest.LogCaptureFixture) -> None:
    sent: list[Frame] = []

    async def write(frame: Frame) -> None:
        sent.append(frame)

    bad = decode('[2, "m1", "BootNotification", 5]', overlay=False, version="2.0.1")
    assert not isinstance(bad, Frame)
    with caplog.at_level(logging.WARNING, "tests.undecodable"):
        assert await answer_undecodable(bad, write, sender=None, log=log, station="CS-1")
    assert [f.message_id for f in sent] == ["m1"] and isinstance(sent[0], CallError)
    assert "event=decode_failed station=CS-1 code=" in caplog.text

    garbage = decode("not json", overlay=False, version="2.0.1")
    assert not isinstance(garbage, Frame)
    assert await answer_undecodable(garbage, write, sender=None, log=log)
    assert len(sent) == 1  # no message id: nothing to answer


async def test_a_closed_link_is_reported_not_raised() -> None:
    async def closed(frame: Frame) -> None:
        raise ConnectionClosed("gone")

    bad = decode('[2, "m1", "BootNotification", 5]', overlay=False, version="2.0.1")
    assert not isinstance(bad, Frame)
    assert not await answer_undecodable(bad, closed, sender=None, log=log)
