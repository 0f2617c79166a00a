"""A real ``nats-server -js`` for the scale-out tests: a port found free on 127.0.0.1, its
storage in a temporary directory, stopped (and killed if need be) when the block ends."""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass(frozen=True)
class NatsServer:
    url: str
    port: int
    process: subprocess.Popen[bytes]


def _accepting(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.2)
        return sock.connect_ex(("127.0.0.1", port)) == 0


@contextlib.contextmanager
def running_nats(store_dir: Path, port: int | None = None, *,
                 jetstream: bool = True) -> Iterator[NatsServer]:
    """``port``: the one to take (a restart of a server that was stopped), else a free one;
    ``jetstream=False``: a plain NATS server (no ``-js``)."""
    binary = shutil.which("nats-server") or shutil.which("nats-server", path="/usr/sbin")
    if binary is None:
        pytest.skip("nats-server is not installed (scripts/setup.sh installs it)")
    port = port or free_port()
    store_dir.mkdir(parents=True, exist_ok=True)
    js = ["-js", "-sd", str(store_dir)] if jetstream else []
    proc = subprocess.Popen([binary, *js, "-a", "127.0.0.1", "-p", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while not _accepting(port):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"nats-server did not start on port {port}")
            time.sleep(0.02)
        yield NatsServer(f"nats://127.0.0.1:{port}", port, proc)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
