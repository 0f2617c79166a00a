"""The calibration law as a user runs it: ``ocppnet csms`` with a ``[metering]`` table,
``ocppnet station --meter-keys`` charging, the operator API (scope ``read``) serving the
receipt and the transparency file, ``ocppnet ocmf verify`` checking it."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import httpx

from tests.integration.processes import (
    OCPPNET,
    READ_TOKEN,
    api_tokens_toml,
    csms_process,
    started,
)

READ = {"Authorization": f"Bearer {READ_TOKEN}"}


def test_csms_and_station_processes_give_a_verifiable_transparency_file(tmp_path: Path) -> None:
    config = tmp_path / "csms.toml"
    config.write_text(f'[csms]\nid = "CSMS-1"\nport = 0\nstore = "{tmp_path / "c.sqlite3"}"\n'
                      '[metering]\ntrust = "pin-first"\ntolerance_wh = 1.0\n'
                      + api_tokens_toml())
    station = ("station", "--url", "ws://127.0.0.1:{port}/ocpp", "--speed", "600", "--idle",
               "20", "--session", "120", "--meter-keys", str(tmp_path / "keys"))
    with csms_process(config) as csms, \
            started(*(a.format(port=csms.ws_port) for a in station)), \
            httpx.Client(base_url=csms.http, timeout=10) as http:
        deadline = time.monotonic() + 30  # guards against a hang only
        ended: list[dict[str, object]] = []
        while not ended and time.monotonic() < deadline:
            listing = http.get("/api/v1/transactions", headers=READ)
            assert listing.status_code == 200, listing.text
            ended = [t for t in listing.json() if t.get("state") != "active"]
            time.sleep(0.2)
        assert ended, "no transaction ended"
        tx = str(ended[0]["transactionId"])
        assert http.get(f"/api/v1/transactions/{tx}/receipt").status_code == 401
        receipt = http.get(f"/api/v1/transactions/{tx}/receipt", headers=READ).json()
        xml = http.get(f"/api/v1/transactions/{tx}/transparency", headers=READ)
        assert xml.status_code == 200
    assert receipt["verified"] is True, receipt["flags"]
    assert receipt["meterSerial"] == "CS-00001-1"
    path = tmp_path / "transparency.xml"
    path.write_bytes(xml.content)
    result = subprocess.run([*OCPPNET, "ocmf", "verify", str(path)], capture_output=True,
                            text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count(": valid: signature valid") == 2
    key = subprocess.run([*OCPPNET, "ocmf", "key", "CS-00001", "--store", str(tmp_path / "keys")],
                         capture_output=True, text=True, timeout=60, check=True).stdout.strip()
    assert {r["publicKey"] for r in receipt["records"]} == {key}


def test_a_bad_metering_table_is_one_line(tmp_path: Path) -> None:
    config = tmp_path / "csms.toml"
    config.write_text('[csms]\nport = 0\n[metering]\ntrust = "blind"\n')
    result = subprocess.run([*OCPPNET, "csms", "--config", str(config)], capture_output=True,
                            text=True, timeout=60, check=False)
    assert result.returncode != 0
    [line] = result.stderr.strip().splitlines()
    assert line.startswith(f"ocppnet csms: {config}: metering.trust: ")
