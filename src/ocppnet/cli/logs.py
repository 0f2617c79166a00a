"""Structured logging: one event per line, ``key=value`` by default or JSON with --log-json."""

from __future__ import annotations

import logging
import sys
import time
from typing import TextIO

import orjson


class KeyValueFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        ts = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
        line = f"{ts}.{int(record.msecs):03d}Z level={record.levelname.lower()} " \
               f"logger={record.name} {record.getMessage()}"
        if record.exc_info and record.levelno >= logging.ERROR:
            line += " exc=" + repr(self.formatException(record.exc_info))
        return line


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return orjson.dumps(
            {
                "ts": record.created,
                "level": record.levelname.lower(),
                "logger": record.name,
                "msg": record.getMessage(),
            }
        ).decode()


class StderrHandler(logging.StreamHandler[TextIO]):
    """Writes to whatever ``sys.stderr`` is at the time of each record, not the stream it had
    when logging was configured (a CLI run in-process, as tests do, must not leave a handler
    on a stream that was closed since)."""

    def emit(self, record: logging.LogRecord) -> None:
        self.stream = sys.stderr
        super().emit(record)


def configure_logging(level: str = "INFO", *, json_lines: bool = False) -> None:
    handler = StderrHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if json_lines else KeyValueFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
