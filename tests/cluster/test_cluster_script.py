"""scripts/cluster.sh, as an operator runs it: start three front-ends behind HAProxy with
nats-server and a PostgreSQL made by initdb, serve a station through HAProxy, report status,
and stop every process it started."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from ocppnet.transport import connect_station
from tests.cluster import processes
from tests.cluster.processes import ROOT, Missing

SCRIPT = ROOT / "scripts" / "cluster.sh"
BOOT = {"reason": "PowerUp", "chargingStation": {"model": "m", "vendorName": "v"}}

pytestmark = [pytest.mark.slow, pytest.mark.timeout(120)]


def script(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "OCPPNET": str(ROOT / ".venv" / "bin" / "ocppnet")}
    return subprocess.run([str(SCRIPT), *args], capture_output=True, text=True, env=env,
                          timeout=90)


def free_block(size: int) -> int:
    """A base port whose next ``size`` ports are free right now (the script numbers ports)."""
    while True:
        base = processes.free_port()
        if base + size < 65535 and all(_free(base + i) for i in range(1, size + 1)):
            return base


def _free(port: int) -> bool:
    import socket

    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


@pytest.fixture
def run() -> Iterator[Path]:
    """A directory the postgres user can reach (pytest's tmp_path is private to root)."""
    directory = Path(tempfile.mkdtemp(prefix="ocppnet-cluster-"))
    directory.chmod(0o755)
    try:
        yield directory
    finally:
        shutil.rmtree(directory, ignore_errors=True)


async def test_cluster_script_starts_three_frontends_behind_haproxy_and_stops_them(
    run: Path,
) -> None:
    if not processes.has_scaleout_core():
        pytest.skip("this ocppnet has no 'csms --bus' (the scale-out core of issue 18)")
    try:
        for name in ("nats-server", "haproxy", "initdb"):
            processes.find_binary(name, "/usr/lib/postgresql/*/bin")
    except Missing as exc:
        pytest.skip(str(exc))
    port, http, nats = free_block(3), free_block(3), free_block(0)
    where = ["--dir", str(run)]
    started = script("start", *where, "--port", str(port), "--http-port", str(http),
                     "--nats-port", str(nats))
    try:
        assert started.returncode == 0, started.stdout + started.stderr
        assert f"ws://127.0.0.1:{port}/ocpp/<id>" in started.stdout
        async with connect_station(f"ws://127.0.0.1:{port}/ocpp", "CS-SCRIPT") as station:
            reply = await station.call("BootNotification", BOOT)
        assert reply["status"] == "Accepted"
        status = script("status", *where)
        assert status.returncode == 0, status.stdout
        for name in ("nats", "fe1", "fe2", "fe3", "haproxy", "postgres"):
            assert f"{name}: running" in status.stdout
    finally:
        stopped = script("stop", *where)
    assert stopped.returncode == 0, stopped.stderr
    assert "stopped haproxy" in stopped.stdout and "stopped postgres" in stopped.stdout
    assert not [name for name in os.listdir(run) if name.endswith(".pid")]
