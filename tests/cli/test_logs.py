"""The CLI's log handler follows sys.stderr: a CLI run in-process (as tests do) must not leave a
handler on a stream that is closed afterwards ("--- Logging error ---" in later tests)."""

from __future__ import annotations

import io
import logging
import sys

import pytest

from ocppnet.cli.logs import configure_logging


def test_handler_writes_to_the_current_stderr(monkeypatch: pytest.MonkeyPatch) -> None:
    root = logging.getLogger()
    saved_handlers, saved_level = root.handlers[:], root.level
    first, second = io.StringIO(), io.StringIO()
    try:
        monkeypatch.setattr(sys, "stderr", first)
        configure_logging("INFO")
        logging.getLogger("ocppnet.test").info("event=one")
        first.close()  # the stream the handler saw at configuration time is gone
        monkeypatch.setattr(sys, "stderr", second)
        logging.getLogger("ocppnet.test").info("event=two")
    finally:
        root.handlers[:], root.level = saved_handlers, saved_level
    assert "level=info logger=ocppnet.test event=two" in second.getvalue()
