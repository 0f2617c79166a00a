"""Real processes of a scale-out set-up on 127.0.0.1: nats-server (JetStream), a throw-away
PostgreSQL, HAProxy (TCP mode) and ``ocppnet csms`` front-ends.

Plain context managers (usable from tests and from ``benchmarks/bench_scaleout.py``): each one
starts its process in a directory of its own, waits until it serves, and stops it in
``finally`` whatever happens. A binary that is not installed raises :class:`Missing` (the
fixtures in ``conftest.py`` turn it into a skip). nats-server and HAProxy are configured from
the same templates as ``scripts/cluster.sh`` (``scripts/cluster/*.conf|cfg``), so the tests
exercise the configuration the docs hand to operators.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import glob
import importlib.util
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from tests.integration.processes import OCPPNET, Process, api_tokens_toml

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = ROOT / "scripts" / "cluster"
CSMS_ID = "CSMS-1"


class Missing(Exception):
    """A program the set-up needs is not installed (the message names it)."""


def find_binary(name: str, *extra: str) -> str:
    """``name`` on PATH or in one of the ``extra`` glob patterns; Missing otherwise."""
    search = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/sbin",
                              *(d for pattern in extra for d in sorted(glob.glob(pattern),
                                                                       reverse=True))])
    found = shutil.which(name, path=search)
    if found is None:
        raise Missing(f"{name} is not installed (scripts/setup.sh installs it from Debian)")
    return found


def free_port(host: str = "127.0.0.1") -> int:
    """A port nobody listens on right now (for programs that cannot be given port 0)."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def render(template: str, values: dict[str, str]) -> str:
    """``scripts/cluster/<template>`` with every ``@NAME@`` replaced; KeyError if one is left."""
    text = (TEMPLATES / template).read_text()
    for name, value in values.items():
        text = text.replace(f"@{name}@", value)
    if "@" in "".join(line.split("#", 1)[0] for line in text.splitlines()):
        raise KeyError(f"{template}: a placeholder was not given a value")
    return text


def wait_port(host: str, port: int, what: str, proc: Process, limit: float = 20.0) -> None:
    """Return once ``host:port`` accepts a TCP connection (RuntimeError if ``proc`` dies)."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if proc.proc.poll() is not None:
            raise RuntimeError(f"{what} exited ({proc.proc.returncode}):\n{''.join(proc.lines)}")
        with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=1):
            return
        time.sleep(0.05)
    raise RuntimeError(f"{what} does not accept connections on {host}:{port}")


@contextlib.contextmanager
def running(cmd: Sequence[str], *, env: dict[str, str] | None = None,
            cwd: Path | None = None) -> Iterator[Process]:
    """``cmd`` as a subprocess whose stderr (and stdout) lines are collected; SIGKILLed at
    the end if it is still running (nothing here needs a graceful stop)."""
    proc = subprocess.Popen(list(cmd), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            stdin=subprocess.DEVNULL, text=True, cwd=cwd,
                            env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})})
    process = Process(proc)
    try:
        yield process
    finally:
        process.kill()


# --- nats-server ------------------------------------------------------------------------


@dataclass(frozen=True)
class NatsServer:
    process: Process
    url: str  # nats://127.0.0.1:PORT
    monitor: str  # http://127.0.0.1:PORT (/varz, /jsz)
    store_dir: Path


@contextlib.contextmanager
def nats_server(directory: Path, *, port: int = -1) -> Iterator[NatsServer]:
    """nats-server with JetStream on loopback, its store under ``directory``."""
    binary = find_binary("nats-server")
    directory.mkdir(parents=True, exist_ok=True)
    conf = directory / "nats.conf"
    store = directory / "jetstream"
    conf.write_text(render("nats.conf", {"HOST": "127.0.0.1", "PORT": str(port),
                                         "HTTP_PORT": "-1", "STORE_DIR": str(store)}))
    with running([binary, "-c", str(conf)]) as process:
        client = process.read_until(r"Listening for client connections on ([\d.]+:\d+)")
        monitor = process.read_until(r"Starting http monitor on ([\d.]+:\d+)")
        process.read_until(r"Server is ready")
        yield NatsServer(process, f"nats://{client.group(1)}", f"http://{monitor.group(1)}",
                         store)


# --- PostgreSQL ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Postgres:
    url: str
    directory: Path  # data/, log, the Unix socket; data/postmaster.pid names the server


@contextlib.contextmanager
def postgres(*, max_connections: int = 100) -> Iterator[Postgres]:
    """A throw-away PostgreSQL cluster (initdb) on a Unix socket in a directory of its own
    under the system temp dir (the postgres user must reach it; no TCP port). Like
    tests/store/conftest.py, but usable outside pytest."""
    pattern = "/usr/lib/postgresql/*/bin"
    initdb, pg_ctl = find_binary("initdb", pattern), find_binary("pg_ctl", pattern)
    run_as: list[str] = []
    user = None
    if os.geteuid() == 0:  # PostgreSQL refuses to run as root
        try:
            user = pwd.getpwnam("postgres")
        except KeyError:
            raise Missing("running as root and there is no 'postgres' user") from None
        run_as = ["runuser", "-u", "postgres", "--"]
    directory = Path(tempfile.mkdtemp(prefix="ocppnet-pg-"))
    try:
        if user is not None:
            os.chown(directory, user.pw_uid, user.pw_gid)
        data = directory / "data"
        subprocess.run([*run_as, initdb, "-D", str(data), "-A", "trust", "-U", "postgres"],
                       check=True, capture_output=True)
        options = (f"-c listen_addresses='' -c unix_socket_directories={directory} "
                   f"-p 5432 -c fsync=off -c max_connections={max_connections}")
        subprocess.run([*run_as, pg_ctl, "-D", str(data), "-o", options, "-w",
                        "-l", str(directory / "log"), "start"], check=True, capture_output=True)
        try:
            yield Postgres(f"postgresql://postgres@/postgres?host={directory}", directory)
        finally:
            subprocess.run([*run_as, pg_ctl, "-D", str(data), "-m", "immediate", "stop"],
                           capture_output=True)
    finally:
        shutil.rmtree(directory, ignore_errors=True)


# --- ocppnet csms front-ends ----------------------------------------------------------------


@dataclass(frozen=True)
class Frontend:
    id: str
    process: Process
    ws_port: int
    http: str  # http://127.0.0.1:PORT (dashboard, operator API, /api/v1/cluster/...)

    @property
    def http_port(self) -> int:
        return int(self.http.rsplit(":", 1)[1])

    @property
    def pid(self) -> int:
        return self.process.proc.pid

    def kill(self) -> None:
        """SIGKILL: no goodbye to NATS, presence entries are left to their lease."""
        self.process.kill()


def has_scaleout_core() -> bool:
    """Whether this tree has the scale-out core (``ocppnet csms --bus/--reuse-port``)."""
    return importlib.util.find_spec("ocppnet.cluster") is not None


def frontend_args(frontend_id: str, store: str, bus: str | None, *, port: int = 0,
                  reuse_port: bool = False) -> list[str]:
    """The ``ocppnet csms`` flags of one front-end (without ``--bus`` when ``bus`` is None:
    a plain single-process CSMS, what the benchmark harness falls back to)."""
    args = ["--port", str(port), "--http-port", "0", "--store", store]
    if bus is not None:
        args += ["--bus", bus, "--frontend-id", frontend_id]
    if reuse_port:
        args.append("--reuse-port")
    return args


def write_frontend_toml(directory: Path, *, heartbeat_interval: int = 300,
                        lease_s: float | None = None, overlay: bool = True) -> Path:
    """A ``[csms]`` file shared by all front-ends (same CSMS id: one CSMS, many processes)
    plus the operator and read tokens of tests/integration/processes.py; ``lease_s``: the
    front-ends' lease in ``[cluster]`` (docs/scale-out.md), else its default; without
    ``overlay`` the front-ends accept stations only (no networking nodes)."""
    directory.mkdir(parents=True, exist_ok=True)
    file = directory / "csms.toml"
    cluster = "" if lease_s is None else f"[cluster]\nlease_s = {lease_s}\n"
    file.write_text(f'[csms]\nid = "{CSMS_ID}"\nheartbeat_interval = {heartbeat_interval}\n'
                    f'overlay_allowed = {str(overlay).lower()}\n' + cluster + api_tokens_toml())
    return file


def _ready(frontend_id: str, process: Process) -> Frontend:
    ws = process.read_until(r"stations(?: and nodes)?:\s+ws://127\.0\.0\.1:(\d+)/ocpp", 90)
    api = process.read_until(r"operator API:\s+(http://127\.0\.0\.1:\d+)/api/v1/docs", 90)
    return Frontend(frontend_id, process, int(ws.group(1)), api.group(1))


def migrate(store: str) -> None:
    """Create the store's tables once, before several front-ends open it: migrations of
    several processes on one empty PostgreSQL database collide (CREATE TABLE IF NOT EXISTS
    is not safe against a concurrent one). Runs on a thread of its own, so it may be called
    from a coroutine's fixture too."""
    from ocppnet.store import open_store

    async def once() -> None:
        opened = open_store(store)
        await opened.open()
        await opened.close()

    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, once()).result()


@contextlib.contextmanager
def frontends(config: Path, ids: Sequence[str], store: str, bus: str | None, *,
              port: int = 0, reuse_port: bool = False) -> Iterator[list[Frontend]]:
    """Front-ends ``ids``, started together (Python start-up is the slow part) on a store
    whose tables exist (:func:`migrate`); yields once all listen (ports read from their
    output)."""
    if store.startswith("postgresql://"):
        migrate(store)
    with contextlib.ExitStack() as stack:
        started = [(fid, stack.enter_context(running(
            [*OCPPNET, "csms", "--config", str(config),
             *frontend_args(fid, store, bus, port=port, reuse_port=reuse_port)])))
            for fid in ids]
        yield [_ready(fid, process) for fid, process in started]


@contextlib.contextmanager
def frontend(config: Path, frontend_id: str, store: str, bus: str | None, *,
             port: int = 0, reuse_port: bool = False) -> Iterator[Frontend]:
    """One ``ocppnet csms`` front-end; yields once it listens."""
    with frontends(config, [frontend_id], store, bus, port=port,
                   reuse_port=reuse_port) as [one]:
        yield one


# --- HAProxy --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Backend:
    name: str
    ws_port: int
    http_port: int  # health check: GET /api/v1/health


def haproxy_config(bind: str, backends: Sequence[Backend], *, maxconn: int = 4096) -> str:
    servers = "\n".join(f"    server {b.name} 127.0.0.1:{b.ws_port} check port {b.http_port}"
                        for b in backends)
    return render("haproxy.cfg", {"BIND": bind, "MAXCONN": str(maxconn), "SERVERS": servers})


@dataclass(frozen=True)
class Haproxy:
    process: Process
    port: int

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ocpp"


@contextlib.contextmanager
def haproxy(directory: Path, backends: Sequence[Backend], *, port: int = 0,
            maxconn: int = 4096) -> Iterator[Haproxy]:
    """HAProxy (TCP mode, health checks, redispatch) in front of ``backends``."""
    binary = find_binary("haproxy")
    directory.mkdir(parents=True, exist_ok=True)
    port = port or free_port()
    cfg = directory / "haproxy.cfg"
    cfg.write_text(haproxy_config(f"127.0.0.1:{port}", backends, maxconn=maxconn))
    check = subprocess.run([binary, "-c", "-f", str(cfg)], capture_output=True, text=True)
    if check.returncode != 0:
        raise RuntimeError(f"{cfg}: {check.stdout}{check.stderr}")
    with running([binary, "-db", "-f", str(cfg)]) as process:
        wait_port("127.0.0.1", port, "haproxy", process)
        yield Haproxy(process, port)


def fresh_schema(server_url: str, name: str) -> str:
    """A URL of ``server_url`` whose sessions use the new, empty schema ``name``."""
    import psycopg

    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {name}")
    separator = "&" if "?" in server_url else "?"
    return f"{server_url}{separator}options=-csearch_path%3D{name}"


# --- the whole set-up -----------------------------------------------------------------------


@dataclass(frozen=True)
class Cluster:
    nats: NatsServer | None
    store: str
    frontends: list[Frontend]
    proxy: Haproxy
    config: Path

    def by_id(self, frontend_id: str) -> Frontend:
        return next(f for f in self.frontends if f.id == frontend_id)


@contextlib.contextmanager
def cluster(directory: Path, *, count: int = 3, bus: bool = True,
            store: str | None = None, lease_s: float | None = None) -> Iterator[Cluster]:
    """nats-server (``bus``), PostgreSQL (``store`` or a throw-away one), ``count``
    front-ends ``fe1``... on ports of their own, HAProxy in front; all stopped at the end."""
    with contextlib.ExitStack() as stack:
        nats = stack.enter_context(nats_server(directory / "nats")) if bus else None
        url = store or stack.enter_context(postgres()).url
        config = write_frontend_toml(directory / "csms", lease_s=lease_s)
        started = stack.enter_context(frontends(
            config, [f"fe{i}" for i in range(1, count + 1)], url, nats.url if nats else None))
        proxy = stack.enter_context(haproxy(
            directory / "haproxy", [Backend(f.id, f.ws_port, f.http_port) for f in started]))
        yield Cluster(nats, url, started, proxy, config)
