"""Issue 12 end to end with real processes on loopback (``ocppnet ...`` subprocesses):

    ocppnet grid run (GRID-OP) -> ocppnet csms (CSMS-1) -> ocppnet node (NODE-A)
        -> ocppnet node (NODE-B: the site, load management + [node.grid]) -> ocppnet station x3

A 6 kW site limit is shared and the measured sum stays under it; the DSO is SIGKILLed and
the site falls to its failsafe limit within the failsafe time + one heartbeat, then returns
to the operator's limit when the DSO comes back; a limit below 4.2 kW is refused; a NODE-A
that drops the operator's messages cannot keep the site unlimited. Short periods (heartbeat
0.5 s, failsafe after 1.5 s) come from the TOML files, as an operator would set them.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from ocppnet.security.keystore import KeyStore
from tests.grid.net import operator_policy, site_policy, until

HEARTBEAT_S = 0.5
TIMEOUT_S = 1.5
LIMIT_W = 6_000.0


class Proc:
    """One ``ocppnet`` process with its stderr in a file."""

    def __init__(self, name: str, args: list[str], directory: Path) -> None:
        self.name = name
        self.log = directory / f"{name}.log"
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "ocppnet.cli.main", "--log-level", "INFO", *args],
            stdout=subprocess.DEVNULL, stderr=self.log.open("wb"), env=env, cwd=directory)

    def text(self) -> str:
        return self.log.read_text(errors="replace")

    async def printed(self, pattern: str) -> re.Match[str]:
        def found() -> re.Match[str] | None:
            assert self.process.poll() is None, f"{self.name} exited:\n{self.text()[-3000:]}"
            return re.search(pattern, self.text())

        found_match: re.Match[str] = await until(found, limit=30)
        return found_match

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "ocppnet.cli.main", "--log-level", "WARNING",
                           "grid", *args], capture_output=True, text=True, timeout=60, cwd=cwd)


def free_port() -> int:
    """A port the OS just handed out (closed again: the process under test binds it)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def post_json(url: str, body: dict[str, Any]) -> tuple[int, Any]:
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as exc:
        return exc.code, json.load(exc)


def get_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.load(response)


class Site:
    """The whole topology, its files and processes."""

    def __init__(self, directory: Path, *, drop_at_node_a: bool) -> None:
        self.dir = directory
        self.drop_at_node_a = drop_at_node_a
        self.procs: list[Proc] = []
        grid_keys, site_keys = KeyStore(directory / "keys-grid"), KeyStore(
            directory / "keys-node-b")
        grid = grid_keys.new("grid-op", "secp256r1")
        site_keys.new("node-b", "ed25519")
        site_keys.import_public("grid-op", grid_keys.public_pem("grid-op"))
        grid_keys.import_public("node-b", site_keys.public_pem("node-b"))
        (directory / "grid-policy.json").write_text(json.dumps(operator_policy()))
        (directory / "site-policy.json").write_text(json.dumps(site_policy(grid.key_id)))
        self.grid_url = ""

    def start(self, name: str, *args: str) -> Proc:
        proc = Proc(name, list(args), self.dir)
        self.procs.append(proc)
        return proc

    def write(self, name: str, text: str) -> Path:
        path = self.dir / name
        path.write_text(text)
        return path

    async def up(self) -> None:
        """Every process at once (ports taken from the OS first): links retry until the
        process they dial is up, as in a real start-up."""
        port, port_a, port_b = free_port(), free_port(), free_port()
        self.write("csms.toml", f'[csms]\nid = "CSMS-1"\nport = {port}\n'
                                'store = "csms.sqlite3"\nsecurity_profile = 0\n'
                                "overlay_allowed = true\n")
        self.start("csms", "csms", "--config", "csms.toml", "--no-dashboard")
        drop = "".join(
            f'[[node.filters.rules]]\naction = "{action}"\ndirection = "down"\n'
            f'source = "GRID-OP"\nverdict = "drop"\n'
            for action in ("GridHeartbeat", "SetChargingProfile", "ClearChargingProfile")
        ) if self.drop_at_node_a else ""
        self.write("node-a.toml", f'[node]\nid = "NODE-A"\nport = {port_a}\n'
                   'announce_interval = 1.0\n'
                   f'[[node.upstreams]]\nid = "CSMS-1"\nurl = "ws://127.0.0.1:{port}/ocpp"\n'
                   f'mode = "overlay"\nsubprotocols = ["ocpp2.1"]\n'
                   + (f'[node.filters]\ndefault = "forward"\n{drop}' if drop else ""))
        self.start("node-a", "node", "run", "--config", "node-a.toml")
        self.write("node-b.toml", f"""[node]
id = "NODE-B"
port = {port_b}
announce_interval = 1.0
[[node.upstreams]]
id = "NODE-A"
url = "ws://127.0.0.1:{port_a}/ocpp"
mode = "overlay"
subprotocols = ["ocpp2.1"]
[node.load_management]
capacity_w = 33000
evse_max_w = 11000
interval_s = 1
[node.grid]
operator = "GRID-OP"
signing_key = "node-b"
heartbeat_timeout_s = {TIMEOUT_S}
measurement_interval_s = 0.5
[security]
keystore = "keys-node-b"
signing_keys = ["node-b"]
policy_file = "site-policy.json"
""")
        self.start("node-b", "node", "run", "--config", "node-b.toml")
        self.start("stations", "station", "--url", f"ws://127.0.0.1:{port_b}/ocpp",
                   "--id", "CS-B{}", "--count", "3", "--speed", "20", "--meter-interval", "20",
                   "--idle", "1", "--session", "100000", "--max-power", "11000")
        self.write("grid.toml", f"""[participant]
id = "GRID-OP"
version = "2.1"
http_port = 0
call_timeout = 2.0
[[participant.upstreams]]
id = "CSMS-1"
url = "ws://127.0.0.1:{port}/ocpp"
[security]
keystore = "keys-grid"
signing_keys = ["grid-op"]
policy_file = "grid-policy.json"
[grid]
heartbeat_period_s = {HEARTBEAT_S}
store = "audit.sqlite3"
[[grid.targets]]
id = "NODE-B"
key = "keys-grid/node-b.pub.pem"
devices = 1
""")
        await self.start_grid()
        for proc in self.procs[:3]:
            await proc.printed(r"listening on|stations and nodes")

    async def start_grid(self) -> Proc:
        grid = self.start("grid", "grid", "run", "--config", "grid.toml")
        self.grid_url = (await grid.printed(r"http (http://127\.0\.0\.1:\d+)")).group(1)
        return grid

    def node_b(self) -> Proc:
        return next(p for p in self.procs if p.name == "node-b")

    def target(self) -> dict[str, Any]:
        status = get_json(f"{self.grid_url}/api/v1/grid/status")
        [target] = status["targets"]
        assert isinstance(target, dict)
        return target

    async def wait_target(self, check: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
        def ready() -> dict[str, Any] | None:
            target = self.target()
            return target if check(target) else None

        try:
            found: dict[str, Any] = await until(ready, limit=30)
        except TimeoutError:
            raise AssertionError(f"target never got there: {self.target()}\n"
                                 f"{self.logs()}") from None
        return found

    def logs(self) -> str:
        return "\n".join(f"--- {p.name}\n{p.text()[-2500:]}" for p in self.procs)

    def down(self) -> None:
        for proc in reversed(self.procs):
            proc.stop()


@pytest.fixture
async def site(tmp_path: Path, request: pytest.FixtureRequest) -> AsyncIterator[Site]:
    topo = Site(tmp_path, drop_at_node_a=getattr(request, "param", False))
    try:
        await topo.up()
        yield topo
    finally:
        topo.down()


def in_force(target: dict[str, Any]) -> tuple[str | None, float | None]:
    force = target["inForce"] or {}
    return force.get("state"), force.get("limitW")


async def test_limit_shared_failsafe_on_dso_kill_and_back(site: Site) -> None:
    await site.wait_target(lambda t: t["proven"] and in_force(t)[0] == "unlimited")
    # three cars charge: the site draws more than the coming limit
    await site.wait_target(lambda t: any(m["powerW"] > LIMIT_W for m in t["measurements"]))

    done = cli("curtail", "--url", site.grid_url, "--target", "NODE-B",
               "--limit-w", str(LIMIT_W), "--duration", "600", cwd=site.dir)
    assert done.returncode == 0, done.stderr
    assert "NODE-B: SetChargingProfile -> Accepted, state limited, in force 6000 W, proven" \
        in done.stdout

    def settled(target: dict[str, Any]) -> bool:
        limited = [m for m in target["measurements"] if m["state"] == "limited"]
        return len(limited) >= 3 and all(m["powerW"] <= LIMIT_W for m in limited[-3:])

    before = await site.wait_target(settled)
    seen = {m["sequence"] for m in before["measurements"]}
    after = await site.wait_target(lambda t: len(
        [m for m in t["measurements"] if m["sequence"] not in seen]) >= 4)
    fresh = [m for m in after["measurements"] if m["sequence"] not in seen]
    assert all(m["state"] == "limited" and m["limitW"] == LIMIT_W for m in fresh)
    assert all(m["powerW"] <= LIMIT_W for m in fresh), fresh  # the shared limit holds

    low = post_json(f"{site.grid_url}/api/v1/grid/curtail",
                    {"target": "NODE-B", "limitW": 3000, "durationS": 60})
    assert low == (422, {"error": "BelowMinimum",
                         "detail": "limit 3000 W for NODE-B is below the guaranteed minimum "
                                   "4200 W for 1 device(s) (§14a EnWG, BK6-22-300)"})

    # the DSO dies: the site falls to failsafe on its own
    grid = next(p for p in site.procs if p.name == "grid")
    killed_at = time.time()
    grid.stop(signal.SIGKILL)
    failsafe = await site.node_b().printed(
        r"event=grid_state target=NODE-B state=failsafe limit_w=4200 since=([\d.]+)")
    assert float(failsafe.group(1)) <= killed_at + TIMEOUT_S + HEARTBEAT_S
    await site.node_b().printed(r"site_limit_w=4200 sessions=3")

    # the DSO comes back: its curtailment (from the audit log) is in force again
    await site.start_grid()
    back = await site.wait_target(lambda t: t["proven"] and in_force(t) == ("limited", LIMIT_W))
    assert back["wanted"]["limitW"] == LIMIT_W
    status = cli("status", "--url", site.grid_url, cwd=site.dir)
    assert status.returncode == 0, status.stderr
    assert re.search(r"NODE-B\s+limited\s+limit 6000 W\s+proven", status.stdout), status.stdout
    code, released = post_json(f"{site.grid_url}/api/v1/grid/release", {"target": "NODE-B"})
    assert code == 200 and (released["outcome"], released["proven"], released["state"]) == (
        "Accepted", True, "unlimited")
    audit = get_json(f"{site.grid_url}/api/v1/grid/audit")["entries"]
    commands = [(e["action"], e["outcome"], e["proven"]) for e in audit
                if e["action"] != "GridHeartbeat"]  # heartbeats are logged when things change
    assert commands[0] == ("ClearChargingProfile", "Accepted", True)
    assert ("SetChargingProfile", "Accepted", True) in commands


@pytest.mark.parametrize("site", [True], indirect=True)
async def test_a_node_dropping_the_operators_messages_cannot_keep_the_site_unlimited(
        site: Site) -> None:
    await site.node_b().printed(r"event=grid_state target=NODE-B state=failsafe limit_w=4200")
    # its heartbeats vanish at NODE-A: no answer, no proof
    target = await site.wait_target(lambda t: "Timeout" in t["problem"])
    assert not target["proven"] and target["inForce"] is None
    done = cli("curtail", "--url", site.grid_url, "--target", "NODE-B", "--limit-w", "11000",
               "--duration", "60", cwd=site.dir)
    assert done.returncode == 1
    assert "NOT PROVEN" in done.stdout
    await site.node_b().printed(r"site_limit_w=4200")
    # and what NODE-B measured still reaches the operator (measurements are not dropped)
    measured = await site.wait_target(lambda t: bool(t["measurements"]))
    assert measured["measurements"][-1]["state"] == "failsafe"
