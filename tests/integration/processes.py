"""Run ``ocppnet csms`` and ``ocppnet node run`` as subprocesses and read the addresses they
print; every process started is killed at the end of its ``with`` block."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

OCPPNET = [sys.executable, "-m", "ocppnet.cli.main"]
OP_TOKEN, READ_TOKEN = "op-secret-token", "read-secret-token"


class Process:
    """A subprocess whose stderr lines a thread collects (select() on a text pipe would miss
    lines that arrived in the same chunk as the one read)."""

    def __init__(self, proc: subprocess.Popen[str]) -> None:
        self.proc = proc
        self.lines: list[str] = []
        self._seen = threading.Condition()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            with self._seen:
                self.lines.append(line)
                self._seen.notify_all()
        with self._seen:
            self.lines.append("")  # end of output
            self._seen.notify_all()

    def read_until(self, pattern: str, limit: float = 30, start: int = 0) -> re.Match[str]:
        """The first stderr line from index ``start`` on matching ``pattern`` (``limit``
        only guards against a hang)."""
        deadline = time.monotonic() + limit
        index = start
        with self._seen:
            while True:
                while index < len(self.lines):
                    match = re.search(pattern, self.lines[index])
                    if match:
                        return match
                    if self.lines[index] == "":
                        deadline = 0.0
                    index += 1
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self._seen.wait(remaining)
        raise AssertionError(f"no line matching {pattern!r}:\n{''.join(self.lines)}")

    def kill(self) -> None:
        """SIGKILL: no clean-up of any kind (what a crash or power cut does)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)


@contextlib.contextmanager
def started(*args: str) -> Iterator[Process]:
    proc = subprocess.Popen([*OCPPNET, *args], stderr=subprocess.PIPE, stdout=subprocess.DEVNULL,
                            text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    process = Process(proc)
    try:
        yield process
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=10)


def api_tokens_toml() -> str:
    from ocppnet.api import hash_token

    return (f'[api]\n[[api.tokens]]\nname = "ops"\nsha256 = "{hash_token(OP_TOKEN)}"\n'
            'scopes = ["operator"]\n'
            f'[[api.tokens]]\nname = "viewer"\nsha256 = "{hash_token(READ_TOKEN)}"\n'
            'scopes = ["read"]\n')


def write_csms_toml(directory: Path, store: str, *, port: int = 0) -> Path:
    file = directory / "csms.toml"
    file.write_text(f'[csms]\nid = "CSMS-1"\nport = {port}\nstore = "{store}"\n'
                    + api_tokens_toml())
    return file


def write_node_toml(directory: Path, csms_port: int, *, queue: str | None = None,
                    port: int = 0) -> Path:
    file = directory / "node.toml"
    extra = f'queue = "{queue}"\n' if queue else ""
    file.write_text(
        f'[node]\nid = "NODE-A"\nport = {port}\nhttp_port = 0\nrequest_timeout = 30.0\n{extra}'
        f'[[node.upstreams]]\nid = "CSMS-1"\nurl = "ws://127.0.0.1:{csms_port}/ocpp"\n'
        'mode = "overlay"\n')
    return file


@dataclass(frozen=True)
class Csms:
    process: Process
    ws_port: int
    http: str


@contextlib.contextmanager
def csms_process(config: Path) -> Iterator[Csms]:
    with started("csms", "--config", str(config), "--http-port", "0") as process:
        ws = process.read_until(r"stations and nodes:\s+ws://127\.0\.0\.1:(\d+)/ocpp")
        api = process.read_until(r"operator API:\s+(http://127\.0\.0\.1:\d+)/api/v1/docs")
        yield Csms(process, int(ws.group(1)), api.group(1))


@dataclass(frozen=True)
class NodeProcess:
    process: Process
    ws_port: int
    http: str


@contextlib.contextmanager
def node_process(config: Path) -> Iterator[NodeProcess]:
    with started("node", "run", "--config", str(config)) as process:
        line = process.read_until(
            r"listening on ws://127\.0\.0\.1:(\d+)/, HTTP (http://127\.0\.0\.1:\d+)/api/node")
        yield NodeProcess(process, int(line.group(1)), line.group(2))
