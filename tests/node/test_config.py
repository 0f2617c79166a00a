"""Node configuration: every error names the file and the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from ocppnet.errors import ConfigError
from ocppnet.node.config import load_config, parse_config
from ocppnet.routing import DEFAULT_ROUTE

GOOD = """
[node]
id = "NODE-A"
port = 0
queue = "queue.sqlite3"
request_timeout = 20
[[node.upstreams]]
id = "CSMS-1"
url = "ws://127.0.0.1:9000/ocpp"
mode = "auto"
routes = ["CSMS", "*default*"]
[[node.upstreams]]
id = "GRID-1"
url = "ws://127.0.0.1:9100/ocpp"
mode = "overlay"
[[node.routes]]
destination = "DSO-7"
via = "GRID-1"
priority = 5
[node.filters]
default = "forward"
[[node.filters.rules]]
action = "DataTransfer"
verdict = "reject"
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "node.toml"
    path.write_text(text)
    return path


def error_of(tmp_path: Path, text: str) -> str:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    message = info.value.description
    assert message.startswith(f"{path}: "), message
    return message


def test_good_file_is_parsed_into_typed_values(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, GOOD))
    assert config.id == "NODE-A"
    assert config.request_timeout == 20.0 and isinstance(config.request_timeout, float)
    assert [u.id for u in config.upstreams] == ["CSMS-1", "GRID-1"]
    assert config.upstreams[0].routes == ("CSMS", DEFAULT_ROUTE)
    assert config.upstreams[1].mode == "overlay"
    assert config.routes[0].destination == "DSO-7" and config.routes[0].priority == 5
    verdict = config.filters.verdict("DataTransfer", direction="up", source="CS-1", dest="CSMS")
    assert verdict == "reject"
    assert config.queue == "queue.sqlite3"


@pytest.mark.parametrize(
    ("text", "key", "words"),
    [
        ("[node]\nport = 1\n", "node.id", "missing"),
        ('[node]\nid = "CSMS"\n', "node.id", "not a valid node id"),
        ('[node]\nid = "A"\ncolour = "red"\n', "node.colour", "unknown key"),
        ('[node]\nid = "A"\nport = 70000\n', "node.port", "0..65535"),
        ('[node]\nid = "A"\nport = "80"\n', "node.port", "valid integer"),
        ('[node]\nid = "A"\nhop_limit = 0\n', "node.hop_limit", "1..64"),
        ('[node]\nid = "A"\nsecurity_profile = 1\n', "node.passwords", "needs station passwords"),
        ('[node]\nid = "A"\nsecurity_profile = 2\npasswords = {CS = "x"}\n', "node.tls_cert",
         "needed"),
        ('[node]\nid = "A"\nsecurity_profile = 7\n', "node.security_profile", "0, 1, 2 or 3"),
        ('[node]\nid = "A"\nsubprotocols = ["ocpp9"]\n', "node.subprotocols", "not one of"),
        ('[node]\nid = "A"\n[[node.upstreams]]\nurl = "ws://h/"\n', "node.upstreams[0].id",
         "missing"),
        ('[node]\nid = "A"\n[[node.upstreams]]\nid = "U"\nurl = "http://h/"\n',
         "node.upstreams[0].url", "ws://"),
        ('[node]\nid = "A"\n[[node.upstreams]]\nid = "U"\nurl = "wss://h/"\n',
         "node.upstreams[0].tls_ca", "wss://"),
        ('[node]\nid = "A"\n[[node.upstreams]]\nid = "U"\nurl = "ws://h/"\nmode = "fast"\n',
         "node.upstreams[0].mode", "'overlay', 'standard' or 'auto'"),
        ('[node]\nid = "A"\n[[node.upstreams]]\nid = "U"\nurl = "ws://h/"\nspeed = 1\n',
         "node.upstreams[0].speed", "unknown key"),
        ('[node]\nid = "A"\n[[node.upstreams]]\nid = "U"\nurl = "ws://h/"\n'
         '[[node.upstreams]]\nid = "U"\nurl = "ws://h/"\n', "node.upstreams", "unique"),
        ('[node]\nid = "A"\n[[node.routes]]\ndestination = "X"\nvia = "NOWHERE"\n',
         "node.routes[0].via", "not the id of an upstream"),
        ('[node]\nid = "A"\n[[node.upstreams]]\nid = "U"\nurl = "ws://h/"\n'
         '[[node.routes]]\ndestination = "*"\nvia = "U"\n', "node.routes[0].destination",
         "not a node id"),
        ('[node]\nid = "A"\n[[node.upstreams]]\nid = "U"\nurl = "ws://h/"\n'
         '[[node.routes]]\ndestination = "X"\nvia = "U"\nweight = 0\n', "node.routes[0].weight",
         ">= 1"),
        ('[node]\nid = "A"\n[node.filters]\ndefault = "allow"\n', "node.filters.default",
         "'forward', 'reject' or 'drop'"),
        ('[node]\nid = "A"\n[[node.filters.rules]]\naction = "Reset"\n',
         "node.filters.rules[0].verdict", "missing"),
        ('[node]\nid = "A"\npasswords = {CS = 1}\n', "node.passwords.CS", "valid string"),
    ],
)
def test_each_error_names_file_and_key(tmp_path: Path, text: str, key: str, words: str) -> None:
    message = error_of(tmp_path, text)
    assert f": {key}: " in message, message
    assert words in message, message


def test_missing_node_table(tmp_path: Path) -> None:
    assert "node: missing [node] table" in error_of(tmp_path, 'id = "A"\n')


def test_bad_toml_is_one_error_naming_the_file(tmp_path: Path) -> None:
    message = error_of(tmp_path, "[node\nid = 'A'\n")
    assert "not valid TOML" in message and "line 1" in message


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.toml"
    with pytest.raises(ConfigError, match="no such file") as info:
        load_config(path)
    assert str(path) in info.value.description


def test_parse_config_defaults() -> None:
    config = parse_config({"node": {"id": "NODE-A"}})
    assert config.upstreams == () and config.routes == ()
    assert config.hop_limit == 16 and config.security_profile == 0 and config.port == 0
    assert config.subprotocols == ("ocpp2.0.1", "ocpp2.1", "ocpp1.6")
    assert config.filters.verdict("X", direction="up", source="a", dest="b") == "forward"


@pytest.mark.parametrize(
    ("text", "key", "words"),
    [
        ('[node]\nid = "A"\nlearned_ttl = 0\n', "node.learned_ttl", "> 0"),
        ('[node]\nid = "A"\nrequest_timeout = -1\n', "node.request_timeout", "> 0"),
        ('[node]\nid = "A"\nannounce_interval = 0\n', "node.announce_interval", "> 0"),
        ('[node]\nid = "A"\nhttp_port = 99999\n', "node.http_port", "0..65535"),
        ('[node]\nid = "A"\n[[node.upstreams]]\nid = "U"\nurl = "ws://h/"\nweight = 0\n',
         "node.upstreams[0].weight", ">= 1"),
        ('[node]\nid = "A"\n[[node.upstreams]]\nid = "A"\nurl = "ws://h/"\n',
         "node.upstreams[0].id", "differ from node.id"),
    ],
)
def test_values_that_would_fail_later_are_refused_here(
    tmp_path: Path, text: str, key: str, words: str
) -> None:
    """A value the router would reject at start-up (a traceback) is a config error instead."""
    message = error_of(tmp_path, text)
    assert f": {key}: " in message and words in message, message


def test_the_shipped_example_is_valid() -> None:
    example = Path(__file__).parents[2] / "examples" / "node-a.toml"
    config = load_config(example)
    assert config.id == "NODE-A" and [u.id for u in config.upstreams] == ["CSMS-1", "GRID-1"]
    assert config.filters.verdict(
        "UpdateFirmware", direction="down", source="GRID-1", dest="CS-001") == "reject"
