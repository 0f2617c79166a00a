"""Store fixtures: every contract test runs on SQLite, and on PostgreSQL when one can be had
(``OCPPNET_TEST_POSTGRES_URL``, or a throw-away server started from ``initdb``/``pg_ctl``
on a Unix socket, no TCP port)."""

from __future__ import annotations

import glob
import importlib.util
import os
import pwd
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from ocppnet.store import SqliteStore, open_store
from ocppnet.store.sql_store import SqlStore


def _start_postgres() -> Iterator[str]:
    # Debian keeps the server binaries off PATH, in /usr/lib/postgresql/<major>/bin
    search = os.pathsep.join(
        [os.environ.get("PATH", ""), *sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)]
    )
    initdb, pg_ctl = shutil.which("initdb", path=search), shutil.which("pg_ctl", path=search)
    if initdb is None or pg_ctl is None:
        pytest.skip("PostgreSQL binaries (initdb, pg_ctl) not found")
    base = Path(tempfile.mkdtemp(prefix="ocppnet-pg-"))
    run_as: list[str] = []
    if os.geteuid() == 0:  # PostgreSQL refuses to run as root
        try:
            user = pwd.getpwnam("postgres")
        except KeyError:
            pytest.skip("running as root and there is no 'postgres' user")
        os.chown(base, user.pw_uid, user.pw_gid)
        run_as = ["runuser", "-u", "postgres", "--"]
    data = base / "data"
    subprocess.run([*run_as, initdb, "-D", str(data), "-A", "trust", "-U", "postgres"],
                   check=True, capture_output=True)
    options = f"-c listen_addresses='' -c unix_socket_directories={base} -p 5432 -c fsync=off"
    subprocess.run([*run_as, pg_ctl, "-D", str(data), "-o", options, "-w",
                    "-l", str(base / "log"), "start"], check=True, capture_output=True)
    try:
        yield f"postgresql://postgres@/postgres?host={base}"
    finally:
        subprocess.run([*run_as, pg_ctl, "-D", str(data), "-m", "immediate", "stop"],
                       capture_output=True)
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    if importlib.util.find_spec("psycopg") is None:
        pytest.skip("psycopg is not installed")
    url = os.environ.get("OCPPNET_TEST_POSTGRES_URL")
    if url:
        yield url
    else:
        yield from _start_postgres()


def _fresh_schema(server_url: str) -> str:
    """A URL whose sessions use a new, empty schema (much faster than CREATE DATABASE)."""
    import psycopg

    name = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {name}")
    separator = "&" if "?" in server_url else "?"
    return f"{server_url}{separator}options=-csearch_path%3D{name}"


@pytest.fixture(params=["sqlite", "postgres"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[SqlStore]:
    if request.param == "sqlite":
        s: SqlStore = SqliteStore(tmp_path / "csms.sqlite3")
    else:
        url = _fresh_schema(request.getfixturevalue("postgres_url"))
        opened = open_store(url)
        assert isinstance(opened, SqlStore)
        s = opened
    await s.open()
    yield s
    await s.close()
