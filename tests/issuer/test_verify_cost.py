"""``ocppnet tariff verify`` against a [security] table and ``ocppnet tariff cost`` of meter
values (in-process: ``main(argv)``, what the console script runs)."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from ocppnet.cli.main import main
from ocppnet.security.keystore import KeyStore

EXAMPLES = Path(__file__).parents[2] / "examples"


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    store = KeyStore(tmp_path / "keys")
    emp = store.new("emp", "ed25519")
    (tmp_path / "roles.toml").write_text(f"""
[[roles]]
name = "tariff-issuer"
keys = ["{emp.key_id}"]
allow = [{{ action = "SetDefaultTariff", constraints = [
  {{ field = "tariff.currency", op = "eq", value = "EUR" }}] }}]
""")
    (tmp_path / "station.toml").write_text(
        '[security]\nkeystore = "keys"\nrole_file = "roles.toml"\n')
    (tmp_path / "emp.toml").write_text("""
[participant]
id = "EMP-1"
version = "2.1"
[[participant.upstreams]]
id = "CSMS-1"
url = "ws://127.0.0.1:9/ocpp"
[security]
keystore = "keys"
[tariff]
signing_key = "emp"
issuer_name = "EMP-1"
""")
    return {"station": tmp_path / "station.toml", "emp": tmp_path / "emp.toml",
            "signed": tmp_path / "signed.json"}


def test_verify_a_signed_tariff_and_refuse_an_altered_one(
    files: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["tariff", "sign", "--config", str(files["emp"]), "--tariff",
                 str(EXAMPLES / "tariff.json"), "--out", str(files["signed"])]) == 0
    capsys.readouterr()
    assert main(["tariff", "verify", "--security", str(files["station"]),
                 "--tariff", str(files["signed"])]) == 0
    out = capsys.readouterr().out
    assert out.startswith("EMP-1-2026-12: valid, issuer EMP-1 (key ")
    assert "roles tariff-issuer" in out
    signed = orjson.loads(files["signed"].read_bytes())
    signed["energy"]["prices"][1]["priceKwh"] = 0.01
    files["signed"].write_bytes(orjson.dumps(signed))
    assert main(["tariff", "verify", "--security", str(files["station"]),
                 "--tariff", str(files["signed"])]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["ocppnet tariff: tariff EMP-1-2026-12: invalid signature: payload, action "
                   "or signature metadata changed"]
    assert main(["tariff", "verify", "--security", str(files["station"]), "--tariff",
                 str(EXAMPLES / "tariff.json")]) == 2
    assert "unsigned" in capsys.readouterr().err


def test_cost_of_meter_values_under_the_example_tariff(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def mv(at: str, wh: float) -> dict[str, object]:
        return {"timestamp": at, "sampledValue": [
            {"value": wh, "measurand": "Energy.Active.Import.Register",
             "unitOfMeasure": {"unit": "Wh"}}]}

    # Berlin: 16:00-17:00 at 0.39 (10 kWh), 17:00-18:00 at 0.49 (10 kWh), 90 min idle
    # (30 free, 60 x 0.10), 0.79 start fee; all + 19 % VAT
    values = [mv("2026-12-01T15:00:00Z", 0), mv("2026-12-01T17:00:00Z", 20_000),
              mv("2026-12-01T18:30:00Z", 20_000)]
    path = tmp_path / "mv.json"
    path.write_bytes(orjson.dumps(values))
    assert main(["tariff", "cost", "--tariff", str(EXAMPLES / "tariff.json"),
                 "--meter-values", str(path), "--tz", "Europe/Berlin"]) == 0
    details = orjson.loads(capsys.readouterr().out)
    net = 10 * 0.39 + 10 * 0.49 + 60 * 0.10 + 0.79  # 15.59
    assert details["totalCost"]["total"] == {"exclTax": round(net, 2),
                                             "inclTax": round(net * 1.19, 2)}
    assert [p["startPeriod"] for p in details["chargingPeriods"]] == [
        "2026-12-01T15:00:00.000Z", "2026-12-01T16:00:00.000Z", "2026-12-01T17:00:00.000Z",
        "2026-12-01T17:30:00.000Z"]
    path.write_bytes(orjson.dumps([{"timestamp": "yesterday", "sampledValue": []}]))
    assert main(["tariff", "cost", "--tariff", str(EXAMPLES / "tariff.json"),
                 "--meter-values", str(path)]) == 2
    assert capsys.readouterr().err.strip() == (
        f"ocppnet tariff: {path}[0].timestamp: not an RFC 3339 date-time")


def test_the_example_issuer_file_reads_and_matches_the_example_csms(tmp_path: Path) -> None:
    from ocppnet.csms.api.settings import load_csms_file
    from ocppnet.issuer import TariffIssuerSection
    from ocppnet.participant import load_participant_config

    (tmp_path / "emp.toml").write_bytes((EXAMPLES / "emp.toml").read_bytes())
    KeyStore(tmp_path / "emp-keys").new("emp", "ed25519")  # as its first line says
    emp = load_participant_config(tmp_path / "emp.toml", TariffIssuerSection, "tariff")
    assert emp.participant.id == "EMP-1" and emp.participant.version == "2.1"
    assert emp.app is not None and emp.app.signing_key == "emp"
    [upstream] = emp.participant.upstreams
    csms = load_csms_file(EXAMPLES / "csms.toml").csms
    assert upstream.url == f"ws://127.0.0.1:{csms.port}/ocpp"
    assert csms.passwords[emp.participant.id] == upstream.password
