"""``ocppnet csms --bus``: flags and the ``[cluster]`` table, one-line failures (bad URL,
no bus there, flags without a bus), the file read once, and two real front-end processes
sharing one station port (SO_REUSEPORT) on a real nats-server and PostgreSQL."""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
import tomllib
from pathlib import Path
from typing import Any, BinaryIO

import httpx
import orjson
import pytest

from ocppnet.cli.main import build_parser, main
from ocppnet.cluster.config import ClusterSection, check_bus_url, redacted
from ocppnet.config import reader
from ocppnet.csms import cli as csms_cli
from ocppnet.errors import ConfigError
from ocppnet.transport.client import StationClient
from tests.cluster.frontends import BOOT, frontend, held_by, station
from tests.cluster.natsd import NatsServer, free_port, running_nats
from tests.integration.processes import started


def args_of(*argv: str) -> argparse.Namespace:
    return build_parser().parse_args(["csms", *argv])


def test_bus_urls() -> None:
    assert check_bus_url("nats://127.0.0.1:4222") == "nats://127.0.0.1:4222"
    assert check_bus_url("nats://a:1, tls://b:2") == "nats://a:1,tls://b:2"
    for bad, why in [("http://x:1", "expected nats://HOST:PORT"), ("nats://x", "with a port"),
                     ("nats://x:99999", "expected nats://HOST:PORT"),
                     ("nats://x:1/path", "no path"), ("nats://:1", "expected")]:
        with pytest.raises(ValueError, match=why):
            check_bus_url(bad)


def test_passwords_never_leave_the_url() -> None:
    assert redacted("tls://ops:s3cret@nats.internal:4222,nats://b:4222") == \
        "tls://ops:***@nats.internal:4222,nats://b:4222"
    assert redacted("nats://[::1]:4222") == "nats://[::1]:4222"
    assert redacted("nats://u:p@[::1]:4222") == "nats://u:***@[::1]:4222"


def test_flags_win_over_the_cluster_table(tmp_path: Path) -> None:
    file = tmp_path / "csms.toml"
    file.write_text('[csms]\nport = 0\n[cluster]\nbus = "nats://127.0.0.1:1"\n'
                    'frontend_id = "from-file"\nlease_s = 6\n')
    loaded = csms_cli.load_csms_file(file)
    section = csms_cli.cluster_from_args(args_of("--config", str(file)), loaded)
    assert section is not None and section.frontend == "from-file" and section.lease_s == 6
    section = csms_cli.cluster_from_args(
        args_of("--config", str(file), "--bus", "nats://127.0.0.1:2", "--frontend-id", "f2",
                "--reuse-port"), loaded)
    assert section == ClusterSection(bus="nats://127.0.0.1:2", frontend_id="f2",
                                     reuse_port=True, lease_s=6)
    assert csms_cli.cluster_from_args(args_of(), None) is None  # no bus: single process
    assert ClusterSection().frontend.endswith(f"-{os.getpid()}")


def test_bad_cluster_settings_are_one_line_naming_the_flag_or_key(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["csms", "--bus", "http://127.0.0.1:4222", "--no-dashboard"]) == 2
    assert capsys.readouterr().err == (
        "ocppnet csms: --bus: expected nats://HOST:PORT, got 'http://127.0.0.1:4222'\n")
    assert main(["csms", "--frontend-id", "x", "--no-dashboard"]) == 2
    assert capsys.readouterr().err == "ocppnet csms: --frontend-id: needs --bus (or " \
                                      "[cluster].bus)\n"
    assert main(["csms", "--reuse-port", "--no-dashboard"]) == 2
    assert "--reuse-port: needs --bus" in capsys.readouterr().err
    file = tmp_path / "csms.toml"
    file.write_text('[cluster]\nbus = "nats://127.0.0.1:4222"\nlease = 3\n')
    assert main(["csms", "--config", str(file), "--no-dashboard"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"ocppnet csms: {file}: cluster.lease") and err.count("\n") == 1


def test_an_unreachable_bus_is_one_line_and_the_file_is_read_once(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    port = free_port()  # nobody listens there
    file = tmp_path / "csms.toml"
    file.write_text(f'[csms]\nport = 0\nstore = ":memory:"\n[cluster]\n'
                    f'bus = "nats://ops:secret@127.0.0.1:{port}"\nconnect_timeout_s = 1\n')
    reads: list[str] = []

    class CountingToml:  # every TOML file read goes through ocppnet.config.reader
        TOMLDecodeError = tomllib.TOMLDecodeError

        @staticmethod
        def load(handle: BinaryIO) -> dict[str, Any]:
            reads.append(handle.name)
            return tomllib.load(handle)

    monkeypatch.setattr(reader, "tomllib", CountingToml)
    assert main(["csms", "--config", str(file), "--no-dashboard"]) == 1
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if " level=" not in line]  # not the logs
    assert len(lines) == 1 and "Traceback" not in err
    assert lines[0].startswith(
        f"ocppnet csms: --bus: cannot connect to nats://ops:***@127.0.0.1:{port}")
    assert "secret" not in err
    assert "event=bus_error" not in err
    assert reads == [str(file)]


def test_a_bus_without_jetstream_is_one_line(tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    with running_nats(tmp_path / "js", jetstream=False) as plain:
        assert main(["csms", "--bus", plain.url, "--store", ":memory:", "--port", "0",
                     "--no-dashboard"]) == 1
    lines = [line for line in capsys.readouterr().err.splitlines() if " level=" not in line]
    assert lines == [f"ocppnet csms: --bus: {plain.url} has no JetStream (start nats-server "
                     "with -js)"]


def test_config_errors_from_the_flags() -> None:
    with pytest.raises(ConfigError, match="--bus: expected nats://HOST:PORT with a port"):
        csms_cli.cluster_from_args(args_of("--bus", "nats://host"), None)


async def test_two_frontend_processes_share_one_station_port(
        nats_server: NatsServer, pg_store: str, tmp_path: Path) -> None:
    port = free_port()
    file = tmp_path / "csms.toml"
    file.write_text(f'[csms]\nid = "CSMS"\nport = {port}\nstore = "{pg_store}"\n'
                    f'[cluster]\nbus = "{nats_server.url}"\nreuse_port = true\n')
    api = r"operator API:\s+(http://127\.0\.0\.1:\d+)/api/v1/docs"
    # one after the other: two first starts on one fresh database race on its migration
    # (CREATE TABLE IF NOT EXISTS is not safe against a concurrent one in PostgreSQL)
    with started("csms", "--config", str(file), "--http-port", "0", "--frontend-id",
                 "fe-1") as one:
        urls = [one.read_until(api).group(1)]
        with started("csms", "--config", str(file), "--http-port", "0", "--frontend-id",
                     "fe-2") as two:
            urls.append(two.read_until(api).group(1))
            for p, fe in ((one, "fe-1"), (two, "fe-2")):
                p.read_until(rf"bus:\s+{nats_server.url}\s+\(front-end {fe}\)")
            await _one_port_two_frontends(port, urls)


async def _one_port_two_frontends(port: int, urls: list[str]) -> None:
    """A station on the shared port lands on one of them; both know which."""
    async with httpx.AsyncClient(timeout=30) as http:
        listed = (await http.get(f"{urls[0]}/api/v1/cluster/frontends")).json()
        assert sorted(f["id"] for f in listed) == ["fe-1", "fe-2"]
        client = StationClient(f"ws://127.0.0.1:{port}", "CS-P",
                               subprotocols=("ocpp2.0.1",), backoff=None)
        async with client as conn:
            await conn.call("BootNotification", BOOT)
            for _ in range(500):  # presence is written just after the connect
                seen = [await http.get(f"{u}/api/v1/cluster/stations/CS-P") for u in urls]
                if all(r.status_code == 200 for r in seen):
                    break
            holders = {r.json()["frontend"] for r in seen}
            assert len(holders) == 1 and holders <= {"fe-1", "fe-2"}
            assert sorted(r.json()["local"] for r in seen) == [False, True]


async def ocppnet(*argv: str) -> tuple[int, str, str]:
    """Run ``ocppnet ARGV`` as a subprocess: (exit code, stdout, stderr)."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "ocppnet.cli.main", *argv, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), 60)  # guards a hang only
    return proc.returncode or 0, out.decode(), err.decode()


async def test_the_cluster_verbs_read_frontends_presence_and_events(
        nats_server: NatsServer, pg_store: str, capsys: pytest.CaptureFixture[str]) -> None:
    bus = nats_server.url

    async def verb(*argv: str) -> tuple[int, str, str]:
        """``ocppnet ARGV`` in a thread of this process (its own event loop)."""
        code = await asyncio.to_thread(main, list(argv))
        out, err = capsys.readouterr()
        return code, out, err

    async with frontend(bus, pg_store, "fe-a") as a, station(a.url, "CS-E"):
        await held_by(a, "CS-E", "fe-a")
        code, out, _ = await ocppnet("cluster", "frontends", "--bus", bus, "--json")  # a process
        assert code == 0 and [orjson.loads(x)["id"] for x in out.splitlines()] == ["fe-a"]
        code, out, _ = await verb("cluster", "where", "CS-E", "--bus", bus)
        assert code == 0 and "frontend=fe-a" in out and "version=2.0.1" in out
        code, out, _ = await verb("cluster", "events", "--bus", bus, "--kind", "station",
                                  "--station", "CS-E", "--count", "2")
        events = [orjson.loads(x) for x in out.splitlines()]
        assert code == 0 and [(e["kind"], e["connected"], e["boot_status"]) for e in events] \
            == [("station", True, None), ("station", True, "Accepted")]
        assert events[0]["subject"] == "ocppnet.CSMS.station.CS-E"
        code, _, err = await verb("cluster", "where", "NOPE", "--bus", bus)
        assert code == 1 and err.splitlines()[-1] == (
            "ocppnet cluster where: station NOPE is not connected to any front-end")
        code, _, err = await verb("cluster", "frontends", "--bus", bus, "--id", "OTHER")
        assert code == 1 and err.splitlines()[-1] == (
            f"ocppnet cluster frontends: --bus: no front-end of CSMS OTHER has joined {bus} "
            "(no bucket ocppnet-OTHER-presence)")


async def test_sigterm_leaves_the_cluster_at_once(nats_server: NatsServer, pg_store: str) -> None:
    async with frontend(nats_server.url, pg_store, "fe-b") as b:
        with started("csms", "--id", "CSMS", "--port", "0", "--no-dashboard", "--store",
                     pg_store, "--bus", nats_server.url, "--frontend-id", "fe-t") as term:
            port = int(term.read_until(r"stations and nodes:\s+ws://127\.0\.0\.1:(\d+)/")
                       .group(1))
            async with station(f"ws://127.0.0.1:{port}", "CS-T"):
                await held_by(b, "CS-T", "fe-t")
                term.proc.send_signal(signal.SIGTERM)
                assert await asyncio.to_thread(term.proc.wait, 30) == 0
            assert b.frontend.directory is not None
            assert [x.frontend_id for x in await b.frontend.directory.live_frontends()] == \
                ["fe-b"]
            assert (await b.frontend.directory.lookup("CS-T"))[1] is None
