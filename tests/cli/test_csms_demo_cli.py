"""``ocppnet csms`` and ``ocppnet demo`` as a user runs them (subprocesses): bad input and busy
ports end with one line naming the problem and a non-zero code; a normal run serves the
dashboard and stops cleanly on SIGTERM or after --duration."""

from __future__ import annotations

import json
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

OCPPNET = [sys.executable, "-m", "ocppnet.cli.main"]


def run(*args: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*OCPPNET, *args], capture_output=True, text=True, timeout=timeout)


def one_line_error(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if "level=" not in line]
    assert len(errors) == 1, result.stderr
    return errors[0]


@pytest.fixture
def busy_port() -> Iterator[int]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(1)
        yield sock.getsockname()[1]


def test_csms_bad_config_names_the_file_and_key(tmp_path: Path) -> None:
    config = tmp_path / "csms.toml"
    config.write_text('[csms]\nport = "nine thousand"\n')
    line = one_line_error(run("csms", "--config", str(config)))
    assert f"{config}: csms.port: input should be a valid integer" in line
    config.write_text("[csms]\nprot = 9000\n")
    assert "csms.prot: unknown key" in one_line_error(run("csms", "--config", str(config)))
    config.write_text("[csms\n")
    assert "not valid TOML" in one_line_error(run("csms", "--config", str(config)))


def test_csms_missing_config_and_bad_flags(tmp_path: Path) -> None:
    missing = tmp_path / "nope.toml"
    assert f"{missing}: no such file" in one_line_error(run("csms", "--config", str(missing)))
    assert "--http-port: expected 0..65535" in one_line_error(
        run("csms", "--http-port", "70000"))
    assert "--node-url: expected NAME=http://host:port" in one_line_error(
        run("csms", "--node-url", "NODE-A"))


def test_csms_port_in_use(busy_port: int, tmp_path: Path) -> None:
    store = str(tmp_path / "s.sqlite3")
    line = one_line_error(run("csms", "--port", str(busy_port), "--store", store))
    assert line.startswith(f"ocppnet csms: cannot listen on 127.0.0.1:{busy_port} "
                           "for stations and nodes:")
    line = one_line_error(run("csms", "--port", "0", "--http-port", str(busy_port),
                              "--store", store))
    assert f"cannot listen on 127.0.0.1:{busy_port} for the dashboard" in line


def test_demo_dashboard_port_in_use_and_bad_arguments(busy_port: int) -> None:
    line = one_line_error(run("demo", "--http-port", str(busy_port)))
    assert line.startswith(f"ocppnet demo: cannot listen on 127.0.0.1:{busy_port} "
                           "for the dashboard:")
    assert "--duration must be > 0" in one_line_error(run("demo", "--duration", "0"))
    assert "--http-port: expected 0..65535" in one_line_error(run("demo", "--http-port", "-1"))


def read_until(proc: subprocess.Popen[str], marker: str, limit: float = 20) -> str:
    """stderr lines until one contains ``marker`` (``limit`` only guards against a hang).

    Read on a thread: select() on the pipe misses lines already in the reader's buffer (two
    lines written together), which made this wait out its limit under load."""
    assert proc.stderr is not None
    lines: queue.Queue[str] = queue.Queue()
    stream = proc.stderr

    def pump() -> None:
        for line in iter(stream.readline, ""):
            lines.put(line)
            if marker in line:
                return

    threading.Thread(target=pump, daemon=True).start()
    deadline = time.monotonic() + limit
    seen = []
    while (left := deadline - time.monotonic()) > 0:
        try:
            line = lines.get(timeout=left)
        except queue.Empty:
            break
        seen.append(line)
        if marker in line:
            return line
    raise AssertionError("".join(seen))


def test_csms_serves_the_dashboard_and_stops_on_sigterm(tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [*OCPPNET, "csms", "--port", "0", "--http-port", "0", "--store",
         str(tmp_path / "csms.sqlite3"), "--id", "CSMS-7"],
        stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        line = read_until(proc, "dashboard:")
        url = line.split("dashboard:")[1].strip()
        with urllib.request.urlopen(url + "api/state", timeout=5) as response:
            state = json.load(response)
        assert state["csms"] == "CSMS-7"
        assert state["topology"]["vertices"][0] == {
            "id": "CSMS-7", "kind": "csms", "up": True, "layer": 0}
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=15) == 0
        assert proc.stderr is not None
        assert "Traceback" not in proc.stderr.read()
    finally:
        if proc.poll() is None:
            proc.kill()


def test_demo_runs_for_its_duration_and_exits_cleanly() -> None:
    result = run("demo", "--http-port", "0", "--duration", "3", timeout=60)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "Traceback" not in result.stderr
    assert "  dashboard: http://127.0.0.1:" in result.stderr
    assert "event=demo_stopping" in result.stderr
