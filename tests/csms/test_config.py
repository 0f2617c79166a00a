"""CsmsConfig from TOML: defaults, relative paths, and errors naming the file and the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from ocppnet.csms import CsmsConfig, load_config
from ocppnet.errors import ConfigError


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "csms.toml"
    path.write_text(text)
    return path


def test_full_file(tmp_path: Path) -> None:
    path = write(tmp_path, """
[csms]
id = "CSMS-A"
host = "0.0.0.0"
port = 9100
security_profile = 2
store = "data/csms.sqlite3"
accept_unknown_tokens = false
heartbeat_interval = 120
overlay_allowed = false
tls_cert = "certs/server.pem"
tls_key = "certs/server.key"
passwords = { "CS1" = "secret" }
id_tokens = { "AA11" = "Accepted", "BB22" = "Blocked" }
""")
    cfg = load_config(path)
    assert cfg == CsmsConfig(
        id="CSMS-A", host="0.0.0.0", port=9100, security_profile=2,
        store=str(tmp_path / "data/csms.sqlite3"), accept_unknown_tokens=False,
        heartbeat_interval=120, overlay_allowed=False, tls_cert=tmp_path / "certs/server.pem",
        tls_key=tmp_path / "certs/server.key", passwords={"CS1": "secret"},
        id_tokens={"AA11": "Accepted", "BB22": "Blocked"})


def test_empty_file_gives_defaults_and_urls_stay_urls(tmp_path: Path) -> None:
    assert load_config(write(tmp_path, "")) == CsmsConfig(store=str(tmp_path / "csms.sqlite3"))
    url = "postgresql://u@db/csms"
    assert load_config(write(tmp_path, f'[csms]\nstore = "{url}"\n')).store == url
    assert load_config(write(tmp_path, '[csms]\nstore = ":memory:"\n')).store == ":memory:"


@pytest.mark.parametrize(("text", "message"), [
    ("[csms]\nport = 70000\n", "csms.port: must be 0..65535, got 70000"),
    ('[csms]\nport = "9000"\n', "csms.port: input should be a valid integer, got '9000'"),
    ("[csms]\nprot = 9000\n", "csms.prot: unknown key"),
    ("[node]\nid = 'x'\n", "node: unknown table"),
    ("[csms]\naccept_unknown_tokens = 1\n",
     "csms.accept_unknown_tokens: input should be a valid boolean, got 1"),
    ("[csms]\nsecurity_profile = 2\n", "csms.tls_cert: required by security_profile 2"),
    ("[csms]\nsecurity_profile = 3\ntls_cert='a'\ntls_key='b'\n", "csms.tls_ca: required"),
    ('[csms]\nid = ""\n', "csms.id: expected a non-empty string"),
    ("[csms]\nid_tokens = { T = 'Maybe' }\n",
     "csms.id_tokens.T: input should be 'Accepted', 'Blocked'"),
    ("[csms]\npasswords = { CS1 = 5 }\n",
     "csms.passwords.CS1: input should be a valid string, got 5"),
    ("[csms\n", "not valid TOML"),
])
def test_errors_name_file_and_key(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert str(err.value).startswith(f"{path}: ")
    assert message in str(err.value)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"nope\.toml: no such file"):
        load_config(tmp_path / "nope.toml")
