"""``ocppnet nap export`` and ``ocppnet nap verify`` as subprocesses, on a SQLite store that a
real CsmsApp filled: the files validate and verify; tampering, an untrusted key, bad site
data and a missing store each end with one line on stderr and a non-zero code."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from lxml import etree

from ocppnet.api.tokens import hash_token
from ocppnet.csms import CsmsApp, CsmsConfig
from ocppnet.nap.detached_jws import sign_detached, verify_detached
from ocppnet.security.keystore import KeyStore
from tests.cli.test_csms_demo_cli import read_until
from tests.csms.conftest import send
from tests.nap.conftest import EXAMPLE, SCHEMA

OCPPNET = [sys.executable, "-m", "ocppnet.cli.main"]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*OCPPNET, *args], capture_output=True, text=True, timeout=60)


def one_line_error(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode != 0, result.stdout
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if "level=" not in line]
    assert len(lines) == 1, result.stderr
    return lines[0]


@pytest.fixture
async def db(tmp_path: Path) -> Path:
    path = tmp_path / "csms.sqlite3"
    app = CsmsApp(CsmsConfig(store=str(path)))
    await app.start()
    try:
        await send(app, "2.0.1", "CS-A1", "BootNotification", {
            "chargingStation": {"vendorName": "ACME", "model": "AC-22"}, "reason": "PowerUp"})
        await send(app, "2.0.1", "CS-A1", "StatusNotification", {
            "timestamp": datetime.now(UTC).isoformat(), "connectorStatus": "Faulted",
            "evseId": 1, "connectorId": 1})
    finally:
        await app.stop()
    return path


@pytest.fixture
def keys(tmp_path: Path) -> Path:
    directory = tmp_path / "keys"
    KeyStore(directory).new("operator", "secp256r1")
    return directory


def test_datex2_export_validates_and_verifies(tmp_path: Path, db: Path, keys: Path) -> None:
    out = tmp_path / "out"
    result = run("nap", "export", "--sites", str(EXAMPLE), "--db", str(db), "--format",
                 "datex2", "--out", str(out), "--keys", str(keys), "--key", "operator")
    assert result.returncode == 0, result.stderr
    schema = etree.XMLSchema(etree.parse(str(SCHEMA)))
    for name in ("datex2-table.xml", "datex2-status.xml"):
        assert schema.validate(etree.parse(str(out / name))), schema.error_log
        assert (out / f"{name}.jws").is_file()
        ok = run("nap", "verify", str(out / name), "--keys", str(keys))
        assert ok.returncode == 0 and "valid, signed by" in ok.stdout, ok.stderr
    assert b">outOfOrder<" in (out / "datex2-status.xml").read_bytes()
    checked = run("nap", "verify", str(out / "datex2-table.xml"), "--keys", str(keys),
                  "--schema", str(SCHEMA))
    assert checked.returncode == 0, checked.stderr
    odd = out / "odd.xml"  # signed by us, but not DATEX II: the schema check says so
    odd.write_bytes(b"<payload/>")
    odd.with_name("odd.xml.jws").write_text(
        sign_detached(b"<payload/>", KeyStore(keys).key_pair("operator").private_key))
    line = one_line_error(run("nap", "verify", str(odd), "--keys", str(keys), "--schema",
                              str(SCHEMA)))
    assert "signed, but not valid against DATEXII_3_D2Payload.xsd: " in line
    assert line.endswith("line 1")

    status = out / "datex2-status.xml"
    status.write_bytes(status.read_bytes().replace(b">outOfOrder<", b">available<"))
    assert "invalid: signature by" in one_line_error(run("nap", "verify", str(status),
                                                         "--keys", str(keys)))
    stranger = KeyStore(tmp_path / "other").new("x", "secp256r1")
    pem = tmp_path / "stranger.pem"
    pem.write_bytes(KeyStore(tmp_path / "other").public_pem(stranger.name))
    table = str(out / "datex2-table.xml")
    assert "not trusted" in one_line_error(run("nap", "verify", table, "--public-key",
                                               str(pem)))
    assert "no such file" in one_line_error(run("nap", "verify", table, "--signature",
                                                str(tmp_path / "none.jws"), "--keys",
                                                str(keys))).lower()


@pytest.mark.parametrize(("fmt", "name"), [("ocpi", "ocpi-locations.json"),
                                           ("stats", "statistics.json")])
def test_ocpi_and_statistics_exports_verify(tmp_path: Path, db: Path, keys: Path, fmt: str,
                                            name: str) -> None:
    out = tmp_path / "out"
    result = run("nap", "export", "--sites", str(EXAMPLE), "--db", str(db), "--format", fmt,
                 "--out", str(out), "--keys", str(keys), "--key", "operator")
    assert result.returncode == 0, result.stderr
    assert run("nap", "verify", str(out / name), "--keys", str(keys)).returncode == 0


def test_bad_input_is_one_line(tmp_path: Path, db: Path, keys: Path) -> None:
    bad = tmp_path / "sites.toml"
    bad.write_text(EXAMPLE.read_text().replace('power_type = "AC_3_PHASE"',
                                               'power_type = "AC_4_PHASE"', 1))
    common = ["--format", "datex2", "--out", str(tmp_path / "o"), "--keys", str(keys)]
    line = one_line_error(run("nap", "export", "--sites", str(bad), "--db", str(db), *common,
                              "--key", "operator"))
    assert "sites.locations[0].evses[0].connectors[0].power_type" in line
    line = one_line_error(run("nap", "export", "--sites", str(EXAMPLE), "--db",
                              str(tmp_path / "missing.sqlite3"), *common, "--key", "operator"))
    assert "missing.sqlite3" in line
    line = one_line_error(run("nap", "export", "--sites", str(EXAMPLE), "--db", str(db),
                              *common, "--key", "nobody"))
    assert "nobody" in line


def test_export_from_a_csms_file_with_nap(tmp_path: Path, db: Path, keys: Path) -> None:
    config = tmp_path / "csms.toml"
    config.write_text(f'[security]\nkeystore = "keys"\n\n[nap]\nsites = "{EXAMPLE}"\n'
                      'signing_key = "operator"\n')
    out = tmp_path / "out"
    result = run("nap", "export", "--config", str(config), "--db", str(db), "--format", "ocpi",
                 "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert run("nap", "verify", str(out / "ocpi-locations.json"), "--keys",
               str(keys)).returncode == 0
    line = one_line_error(run("nap", "export", "--db", str(db), "--format", "ocpi", "--out",
                              str(out)))
    assert "--config" in line


def test_csms_with_nap_serves_the_routes_under_its_operator_api(tmp_path: Path,
                                                                  keys: Path) -> None:
    """``ocppnet csms`` with ``[nap]`` in its file: the routes are on the operator API and
    need a token with scope ``read``."""
    token = "ocn_nap-reader-token"
    config = tmp_path / "csms.toml"
    config.write_text(
        f'[csms]\nport = 0\nstore = "csms.sqlite3"\n\n'
        f'[api]\n[[api.tokens]]\nname = "nap"\nsha256 = "{hash_token(token)}"\n'
        'scopes = ["read"]\n\n'
        f'[nap]\nsites = "{EXAMPLE}"\nkeystore = "keys"\nsigning_key = "operator"\n')
    proc = subprocess.Popen([*OCPPNET, "csms", "--config", str(config), "--http-port", "0"],
                            stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        url = read_until(proc, "dashboard:").split("dashboard:")[1].strip().rstrip("/")
        route = f"{url}/api/v1/nap/datex2/table"
        with httpx.Client(timeout=10) as client:
            assert client.get(route).status_code == 401
            answer = client.get(route, headers={"Authorization": f"Bearer {token}"})
            assert answer.status_code == 200
            trusted = {info.key_id: KeyStore(keys).public_key(info.name)
                       for info in KeyStore(keys).list_keys()}
            assert verify_detached(answer.content, answer.headers["x-jws-signature"], trusted)
            again = client.get(route, headers={"Authorization": f"Bearer {token}",
                                               "If-None-Match": answer.headers["etag"]})
            assert again.status_code == 304
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=15) == 0
    finally:
        if proc.poll() is None:
            proc.kill()


def test_csms_with_a_bad_nap_table_is_one_line(tmp_path: Path) -> None:
    config = tmp_path / "csms.toml"
    config.write_text('[csms]\nport = 0\n\n[nap]\nsites = "none.toml"\nsigning_key = "x"\n')
    line = one_line_error(run("csms", "--config", str(config), "--http-port", "0"))
    assert "nap.keystore" in line
