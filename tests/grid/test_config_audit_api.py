"""Configuration tables (errors name file and key), the audit log on SQLite and PostgreSQL,
the HTTP routes in a plain FastAPI app, and the CLI verbs' one-line failures."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from ocppnet.api import api_app, hash_token, new_token
from ocppnet.cli.main import main
from ocppnet.config import parse_section, read_toml
from ocppnet.errors import ConfigError
from ocppnet.grid.api import grid_router
from ocppnet.grid.audit import AuditEntry, AuditLog
from ocppnet.grid.config import GridSection, GridSiteSection
from ocppnet.grid.node_site import load_node_file
from ocppnet.grid.operator import GridOperator
from ocppnet.grid.service import load_service
from ocppnet.participant import Participant, ParticipantSection, UpstreamSection
from ocppnet.security.keys import KeyPair, public_pem
from ocppnet.store.records import StoreError

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def test_the_examples_parse() -> None:
    grid = read_toml(EXAMPLES / "grid.toml")
    section = parse_section(GridSection, grid["grid"], source="grid.toml", where="grid",
                            base=EXAMPLES)
    assert [t.id for t in section.targets] == ["NODE-B", "CS-7"]
    assert section.targets[0].minimum_w == 10_500
    assert section.store_location(EXAMPLES) == str(EXAMPLES / "grid-audit.sqlite3")
    parse_section(ParticipantSection, grid["participant"], source="grid.toml",
                  where="participant", base=EXAMPLES)
    site = read_toml(EXAMPLES / "grid-site.toml")["node"]["grid"]
    parsed = parse_section(GridSiteSection, site, source="grid-site.toml", where="node.grid")
    assert parsed.minimum_w == 10_500 and parsed.lpc_settings().failsafe_limit_w == 10_500


@pytest.mark.parametrize(("table", "message"), [
    ({"operator": "GRID-OP", "signing_key": "k", "failsafe_limit_w": 3000},
     "node.grid: failsafe_limit_w 3000 is below the guaranteed minimum 4200 W for 1 device"),
    ({"operator": "GRID-OP", "signing_key": "k", "controllable_devices": 2},
     "node.grid: failsafe_limit_w 4200 is below the guaranteed minimum 7560 W for 2"),
    ({"operator": "GRID-OP"}, "node.grid.signing_key: missing"),
    ({"operator": "GRID-OP", "signing_key": "k", "heartbeat_timeout_s": 0},
     "node.grid.heartbeat_timeout_s: must be > 0"),
    ({"operator": "GRID-OP", "signing_key": "k", "failsafe": 1}, "node.grid.failsafe: unknown"),
])
def test_site_table_errors_name_the_key(table: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_section(GridSiteSection, table, source="site.toml", where="node.grid")
    assert str(info.value).startswith("site.toml: ")
    assert message in str(info.value)


def test_node_file_needs_load_management_and_security(tmp_path: Path) -> None:
    path = tmp_path / "node.toml"
    path.write_text('[node]\nid = "NODE-B"\n[node.grid]\noperator = "GRID-OP"\n'
                    'signing_key = "node-b"\n')
    with pytest.raises(ConfigError, match=r"node\.toml: node\.grid: needs \[node\.load_"):
        load_node_file(path)
    path.write_text('[node]\nid = "NODE-B"\n[node.load_management]\ncapacity_w = 1000\n'
                    '[node.grid]\noperator = "GRID-OP"\nsigning_key = "node-b"\n')
    with pytest.raises(ConfigError, match=r"node\.grid: needs a \[security\] table"):
        load_node_file(path)
    path.write_text('[node]\nid = "NODE-B"\n')
    config, grid, security = load_node_file(path)
    assert (config.id, grid, security) == ("NODE-B", None, None)


def test_grid_file_errors(tmp_path: Path) -> None:
    path = tmp_path / "grid.toml"
    path.write_text('[participant]\nid = "GRID-OP"\n[[participant.upstreams]]\nid = "C"\n'
                    'url = "ws://127.0.0.1:1/ocpp"\n[grid]\nheartbeat_period_s = 1\n')
    with pytest.raises(ConfigError, match=r"grid\.toml: security: missing \[security\]"):
        load_service(path)
    path.write_text(path.read_text() + '[[grid.targets]]\nid = "A"\nkey = "a.pem"\n'
                                       '[[grid.targets]]\nid = "A"\nkey = "b.pem"\n')
    with pytest.raises(ConfigError, match=r"grid\.targets: target ids must be unique"):
        load_service(path)


def test_cli_verbs_fail_with_one_line(tmp_path: Path,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["grid", "status", "--url", "http://127.0.0.1:9"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(
        "ocppnet grid status: cannot reach http://127.0.0.1:9/api/v1/grid/status")
    assert main(["grid", "run", "--config", str(tmp_path / "none.toml")]) == 2
    assert capsys.readouterr().err.strip() == (
        f"ocppnet grid: {tmp_path / 'none.toml'}: no such file")


# --- the audit log ------------------------------------------------------------------------


async def audit_roundtrip(audit: AuditLog) -> None:
    await audit.open()
    try:
        first = AuditEntry(1.0, "NODE-B", "SetChargingProfile", 7, "Accepted", True, 6_000.0,
                           600.0, "limited", 6_000.0, 1.0, 601.0, "")
        second = AuditEntry(2.0, "CS-1", "GridHeartbeat", 8, "SecurityError", False,
                            detail="not signed by CS-1's key")
        await audit.record(first)
        await audit.record(second)
        assert await audit.recent() == [second, first]
        assert await audit.recent(target="NODE-B") == [first]
        assert await audit.recent(limit=1) == [second]
    finally:
        await audit.close()


async def test_audit_log_on_sqlite(tmp_path: Path) -> None:
    await audit_roundtrip(AuditLog(tmp_path / "audit.sqlite3"))
    reopened = AuditLog(tmp_path / "audit.sqlite3")
    await reopened.open()
    assert len(await reopened.recent()) == 2  # kept across restarts
    await reopened.close()


def test_audit_log_refuses_unknown_schemes() -> None:
    with pytest.raises(StoreError, match=r"grid\.store: unknown scheme in mysql://"):
        AuditLog("mysql://db/grid")


# --- HTTP routes --------------------------------------------------------------------------


async def test_routes_in_the_shared_api_app(tmp_path: Path) -> None:
    key = KeyPair.generate("ed25519")
    (tmp_path / "k.pem").write_bytes(public_pem(key.public_key))
    section = parse_section(GridSection, {"targets": [
        {"id": "NODE-B", "key": str(tmp_path / "k.pem"), "devices": 3}]})
    participant = Participant(ParticipantSection(id="GRID-OP", upstreams=(
        UpstreamSection(id="C", url="ws://127.0.0.1:9/ocpp"),)))
    audit = AuditLog(":memory:")
    await audit.open()
    operator = GridOperator(participant, section, audit)
    app = api_app("grid", [grid_router(operator)])
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://grid") as client:
            status = (await client.get("/api/v1/grid/status")).json()
            assert status["targets"][0]["minimumW"] == 10_500
            low = await client.post("/api/v1/grid/curtail", json={
                "target": "NODE-B", "limitW": 9_000, "durationS": 60})
            assert low.status_code == 422
            assert "below the guaranteed minimum 10500 W for 3 device(s)" in low.json()["detail"]
            unknown = await client.post("/api/v1/grid/release", json={"target": "X"})
            assert unknown.status_code == 404 and unknown.json()["error"] == "UnknownTarget"
            assert "unknown target 'X'" in unknown.json()["detail"]
            bad = await client.post("/api/v1/grid/curtail", json={"target": "NODE-B"})
            assert bad.status_code == 422
            assert (await client.get("/api/v1/grid/audit")).json() == {"entries": []}
    finally:
        await audit.close()


async def test_commands_need_the_operator_scope(tmp_path: Path) -> None:
    """``ocppnet grid run`` builds its app with the ``[api]`` tokens: looking needs ``read``,
    curtailing ``operator`` (the service's own wiring, GridService.build)."""
    key = KeyPair.generate("ed25519")
    (tmp_path / "k.pem").write_bytes(public_pem(key.public_key))
    reader, admin = new_token(), new_token()
    (tmp_path / "keys").mkdir()
    path = tmp_path / "grid.toml"
    path.write_text(f"""[participant]
id = "GRID-OP"
[[participant.upstreams]]
id = "C"
url = "ws://127.0.0.1:9/ocpp"
[security]
[grid]
store = ":memory:"
[[grid.targets]]
id = "NODE-B"
key = "k.pem"
[[api.tokens]]
name = "viewer"
sha256 = "{hash_token(reader)}"
scopes = ["read"]
[[api.tokens]]
name = "control-room"
sha256 = "{hash_token(admin)}"
scopes = ["operator"]
""")
    service = load_service(path)
    audit = AuditLog(":memory:")
    await audit.open()
    try:
        participant, _ = service.build(audit)
        assert participant.http_app is not None
        transport = httpx.ASGITransport(app=participant.http_app)
        async with httpx.AsyncClient(transport=transport, base_url="http://grid") as client:
            assert (await client.get("/api/v1/grid/status")).status_code == 401
            seen = await client.get("/api/v1/grid/status",
                                    headers={"Authorization": f"Bearer {reader}"})
            assert seen.status_code == 200
            body = {"target": "NODE-B", "limitW": 3000, "durationS": 60}
            denied = await client.post("/api/v1/grid/curtail", json=body,
                                       headers={"Authorization": f"Bearer {reader}"})
            assert denied.status_code == 403
            refused = await client.post("/api/v1/grid/curtail", json=body,
                                        headers={"Authorization": f"Bearer {admin}"})
            assert refused.status_code == 422 and refused.json()["error"] == "BelowMinimum"
    finally:
        await audit.close()
