"""Every bad ``[security]`` file stops ``ocppnet node run`` / ``csms`` / ``station`` at start
with one line naming the file and the problem, and ``ocppnet policy check`` on the same TOML
file says exactly the same (it runs the same loader). Real subprocesses of ``ocppnet``."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from ocppnet.cli.main import main
from ocppnet.security.keystore import KeyStore

OCPPNET = [sys.executable, "-m", "ocppnet.cli.main"]

POLICY = """
[[policies]]
id = "site"
[[policies.rules]]
direction = "outgoing"
sign_with = ["{key}"]
[[policies.rules]]
direction = "incoming"
action = "SetChargingProfile"
require = "role"
roles = ["{role}"]

[[roles]]
name = "grid-operator"
keys = ["{kid}"]
"""


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*OCPPNET, *args], capture_output=True, text=True, timeout=60,
                          cwd=cwd)


def setup(tmp: Path, *, key: str = "node", role: str = "grid-operator",
          trust: str = "trusted", mode: int = 0o600, table: str = "node") -> Path:
    store = KeyStore(tmp / "keys")
    info = store.new("node", "secp256r1")
    os.chmod(tmp / "keys" / "node.key.pem", mode)
    (tmp / "trusted").mkdir()
    (tmp / "trusted" / "grid.pub.pem").write_bytes(store.public_pem("node"))
    (tmp / "garbage.pem").write_text("-----BEGIN PUBLIC KEY-----\nnot base64\n"
                                     "-----END PUBLIC KEY-----\n")
    (tmp / "policy.toml").write_text(POLICY.format(key=key, role=role, kid=info.key_id))
    head = {"node": '[node]\nid = "NODE-A"\nport = 0\n', "csms": '[csms]\nport = 0\n'}[table]
    config = tmp / f"{table}.toml"
    config.write_text(head + f"""
[security]
keystore = "keys"
signing_keys = ["node"]
trust = ["{trust}"]
policy_file = "policy.toml"
""")
    return config


BAD = {
    "missing key": ({"key": "nokey"}, "signs with 'nokey', which is not in security.signing_keys"),
    "unreadable PEM": ({"trust": "garbage.pem"}, "garbage.pem: not a usable PEM public key"),
    "unknown role": ({"role": "installer"}, "requires role 'installer', which no role file"),
    "open private key": ({"mode": 0o644}, "node.key.pem: private key readable by others"),
    "missing trust file": ({"trust": "gone.pem"}, "security.trust[0]: gone.pem: no such file"),
}


def one_line(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode != 0
    assert result.stderr.count("\n") == 1, result.stderr
    assert "Traceback" not in result.stderr
    return result.stderr.strip()


@pytest.mark.parametrize("case", ["missing key", "unreadable PEM", "open private key"])
def test_node_refuses_a_bad_security_file_at_start(tmp_path: Path, case: str) -> None:
    changes, problem = BAD[case]
    config = setup(tmp_path, **changes)  # type: ignore[arg-type]
    line = one_line(run("node", "run", "--config", str(config.name), cwd=tmp_path))
    assert line.startswith("ocppnet node: node.toml: security.") and problem in line
    if case == "missing key":  # the check runs the loader the node runs: the same line
        check = one_line(run("policy", "check", config.name, cwd=tmp_path))
        assert check.removeprefix("ocppnet policy check: ") == \
            line.removeprefix("ocppnet node: ")


@pytest.mark.parametrize("case", sorted(BAD))
def test_every_bad_file_gives_the_same_line_to_node_and_check(
    tmp_path: Path, case: str, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The same, for every case, through the CLI's main in this process (fast)."""
    changes, problem = BAD[case]
    config = setup(tmp_path, **changes)  # type: ignore[arg-type]
    monkeypatch.chdir(tmp_path)
    assert main(["node", "run", "--config", config.name]) == 2
    node_line = capsys.readouterr().err.strip()
    assert main(["policy", "check", config.name]) == 1
    check_line = capsys.readouterr().err.strip()
    assert problem in node_line and "\n" not in node_line
    assert check_line.removeprefix("ocppnet policy check: ") == \
        node_line.removeprefix("ocppnet node: ")


def test_csms_refuses_a_bad_security_file_at_start(tmp_path: Path) -> None:
    config = setup(tmp_path, table="csms", role="installer")
    line = one_line(run("csms", "--config", config.name, "--no-dashboard", cwd=tmp_path))
    assert line.startswith("ocppnet csms: csms.toml: security.policy_file")


def test_station_refuses_a_bad_security_file_at_start(tmp_path: Path) -> None:
    config = setup(tmp_path, mode=0o640)
    line = one_line(run("station", "--url", "ws://127.0.0.1:9/ocpp", "--security", config.name,
                        "--duration", "1", cwd=tmp_path))
    assert line.startswith("ocppnet station: node.toml: security.signing_keys")
    assert "private key readable by others" in line


def test_policy_check_summarises_a_good_process_file(tmp_path: Path) -> None:
    config = setup(tmp_path)
    result = run("policy", "check", config.name, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "node.toml: [security]: 1 signing keys, 1 trusted keys, 0 trusted CAs, 1 policies " \
           "(2 rules), 1 roles, jws=accept" in result.stdout
