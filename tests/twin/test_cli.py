"""``ocppnet twin run`` as a process: bad files give one line; a good one serves its page."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from ocppnet.node.config import load_config
from ocppnet.twin.cli import build

EXAMPLES = Path(__file__).parents[2] / "examples"


def ocppnet(*args: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "ocppnet.cli.main", *args],
                          capture_output=True, text=True, timeout=timeout)


def test_the_examples_parse(tmp_path: Path) -> None:
    (EXAMPLES / "station-keys").mkdir(exist_ok=True)
    try:
        participant, service = build(EXAMPLES / "twin.toml")
        assert participant.id == "TWIN-1" and service.section.sites["garage"].limit_w == 22000
        node = load_config(EXAMPLES / "node-mirror.toml")
        assert node.mirror is not None and node.mirror.to == "TWIN-1"
    finally:
        (EXAMPLES / "station-keys").rmdir()


@pytest.mark.parametrize(("text", "message"), [
    ('[participant]\nid = "TWIN-1"\n[[participant.upstreams]]\nid = "N"\nurl = "ws://x"\n',
     'participant.version: a twin receives SEND frames'),
    ('[participant]\nid = "TWIN-1"\nversion = "2.1"\n[[participant.upstreams]]\nid = "N"\n'
     'url = "ws://x"\n[twin]\nraw_retention_s = 0\n', "twin.raw_retention_s: must be > 0"),
    ('[participant]\nid = "TWIN-1"\nversion = "2.1"\n[[participant.upstreams]]\nid = "N"\n'
     'url = "ws://x"\n[twin.sites.a]\nlimit_w = 1\n', "twin.sites.a.stations: missing"),
    ('[participant]\nid = "TWIN-1"\nversion = "2.1"\n[[participant.upstreams]]\nid = "N"\n'
     'url = "ws://x"\n[security]\ntrust = ["nope.pem"]\n', "security.trust[0]: "),
])
def test_bad_files_end_with_one_line(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "twin.toml"
    path.write_text(text)
    done = ocppnet("twin", "run", "--config", str(path))
    assert done.returncode == 2
    assert message in done.stderr and len(done.stderr.strip().splitlines()) == 1
    assert "Traceback" not in done.stderr


def test_it_runs_and_serves_its_api(tmp_path: Path) -> None:

    upstream = subprocess.Popen(
        [sys.executable, "-m", "benchmarks.peers", "overlay", "--upstream-id", "NODE-A"],
        stdout=subprocess.PIPE, text=True, cwd=Path(__file__).parents[2])
    try:
        assert upstream.stdout is not None
        port = int(upstream.stdout.readline().split()[1])
        path = tmp_path / "twin.toml"
        path.write_text(f'[participant]\nid = "TWIN-1"\nversion = "2.1"\nhttp_port = 0\n'
                        f'[[participant.upstreams]]\nid = "NODE-A"\n'
                        f'url = "ws://127.0.0.1:{port}/ocpp"\n[twin]\nstore = "t.sqlite3"\n')
        twin = subprocess.Popen(
            [sys.executable, "-m", "ocppnet.cli.main", "twin", "run", "--config", str(path),
             "--duration", "20"], stderr=subprocess.PIPE, text=True)
        try:
            assert twin.stderr is not None
            banner = twin.stderr.readline()
            while "http http" not in banner and banner:
                banner = twin.stderr.readline()
            url = banner.split("http ")[-1].split()[0].rstrip(",")
            deadline = time.monotonic() + 10
            while True:
                try:
                    with urllib.request.urlopen(f"{url}/api/v1/twin/stations", timeout=2) as r:
                        body = json.load(r)
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.1)
            assert body["stations"] == [] and body["counters"]["batches"] == 0
            with urllib.request.urlopen(f"{url}/api/v1/openapi.json", timeout=2) as r:
                assert "/api/v1/twin/series" in json.load(r)["paths"]
        finally:
            twin.terminate()
            assert twin.wait(10) == 0
        assert (tmp_path / "t.sqlite3").exists()
    finally:
        upstream.terminate()
        upstream.wait(10)


@pytest.mark.parametrize(("flags", "message"), [
    (["--telemetry", "all"], "--telemetry needs --version 2.1"),
    (["--version", "2.1", "--telemetry", "power,humidity"], "unknown quantity 'humidity'"),
    (["--version", "2.1", "--telemetry", "all", "--telemetry-batch", "0"],
     "--telemetry-interval/--telemetry-batch:"),
    (["--telemetry-keys", "k"], "--telemetry-keys needs --telemetry"),
])
def test_station_telemetry_flags_are_checked(flags: list[str], message: str) -> None:
    done = ocppnet("station", "--url", "ws://127.0.0.1:1/ocpp", *flags, "--duration", "1")
    assert done.returncode == 2 and message in done.stderr, done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_the_fleet_makes_one_key_per_station_that_a_twin_can_trust(tmp_path: Path) -> None:
    from ocppnet.security.settings import load_trust
    from ocppnet.station.fleet import Fleet, FleetConfig
    from ocppnet.station.telemetry import TelemetryPlan

    fleet = Fleet(FleetConfig(url="ws://127.0.0.1:1/ocpp", count=2, version="2.1",
                              telemetry=TelemetryPlan(), telemetry_keys=tmp_path / "keys"))
    stations = [fleet._make(i, s) for i, s in enumerate(fleet.ids)]
    keys = [s.telemetry.plan.key for s in stations if s.telemetry is not None]
    assert len({k.key_id for k in keys if k is not None}) == 2
    trust = load_trust((tmp_path / "keys",), where="t.toml: security")
    assert {entry.name for entry in trust} == set(fleet.ids)  # named after the stations


async def test_the_twin_api_wants_a_read_token_when_tokens_are_configured() -> None:
    import httpx

    from ocppnet.api import ApiSection, ApiToken, hash_token
    from ocppnet.security.trust import TrustStore
    from ocppnet.twin.service import TwinSection, TwinService
    from ocppnet.twin.store import open_series_store
    from ocppnet.twin.web import twin_app

    service = TwinService(TwinSection(store=":memory:"), TrustStore(),
                          open_series_store(":memory:"))
    await service.store.open()
    try:
        api = ApiSection(tokens=(ApiToken(name="viewer", sha256=hash_token("secret"),
                                          scopes=("read",)),))
        app = twin_app(service, auth=api)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                     base_url="http://twin") as http:
            assert (await http.get("/api/v1/twin/stations")).status_code == 401
            ok = await http.get("/api/v1/twin/stations",
                                headers={"Authorization": "Bearer secret"})
            assert ok.status_code == 200 and ok.json()["stations"] == []
            metrics = await http.get("/metrics", headers={"Authorization": "Bearer secret"})
            assert "ocppnet_twin_batches_total" in metrics.text
            assert (await http.get("/")).status_code == 200  # the page itself is public
    finally:
        await service.store.close()


async def test_a_participant_never_serves_off_loopback_without_a_token() -> None:
    from fastapi import FastAPI

    from ocppnet.errors import ConfigError
    from ocppnet.participant import Participant, ParticipantSection, UpstreamSection

    section = ParticipantSection(id="TWIN-1", http_host="0.0.0.0", http_port=0,
                                 upstreams=(UpstreamSection(id="N", url="ws://127.0.0.1:1"),))
    refusal = r"refusing to serve TWIN-1's HTTP API \(participant\.http_host\) on 0\.0\.0\.0"
    with pytest.raises(ConfigError, match=refusal):
        await Participant(section, http_app=FastAPI()).start(wait=1.0)
