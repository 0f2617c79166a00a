"""ocppnet.config: typed sections, one error line naming file and dotted key."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

import pytest
from pydantic import Field, field_validator

from ocppnet.config import RelPath, Section, describe_section, load_section, parse_section
from ocppnet.config.reader import read_toml
from ocppnet.errors import ConfigError


class Upstream(Section):
    id: str
    url: str
    priority: int = 0


class Example(Section):
    id: str = Field(description="overlay id of the process")
    port: int = 0
    ratio: float = 1.0
    mode: Literal["overlay", "standard"] = "overlay"
    key: RelPath | None = None
    upstreams: tuple[Upstream, ...] = ()
    passwords: dict[str, str] = Field(default_factory=dict)
    since: datetime | None = None
    enabled: bool = False

    @field_validator("port")
    @classmethod
    def _port(cls, value: int) -> int:
        if not 0 <= value <= 65535:
            raise ValueError("must be 0..65535")
        return value


def parse(data: object) -> Example:
    return parse_section(Example, data, source="x.toml", where="node", base=Path("/etc/ocppnet"))


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({}, "x.toml: node.id: missing"),
        ({"id": "N", "port": "1"}, "x.toml: node.port: input should be a valid integer, got '1'"),
        ({"id": "N", "port": True}, "x.toml: node.port: input should be a valid integer, got True"),
        ({"id": "N", "port": 70000}, "x.toml: node.port: must be 0..65535"),
        ({"id": "N", "enabled": "yes"}, "x.toml: node.enabled: input should be a valid boolean"),
        ({"id": "N", "mode": "auto"}, "x.toml: node.mode: input should be 'overlay' or "
                                      "'standard', got 'auto'"),
        ({"id": "N", "typo": 1}, "x.toml: node.typo: unknown key"),
        ({"id": "N", "upstreams": [{"id": "U"}]}, "x.toml: node.upstreams[0].url: missing"),
        ({"id": "N", "upstreams": [{"id": "U", "url": "ws://x", "prio": 1}]},
         "x.toml: node.upstreams[0].prio: unknown key"),
        ({"id": "N", "passwords": {"CS-1": 5}}, "x.toml: node.passwords.CS-1: input should be a "
                                                "valid string, got 5"),
        ([1, 2], "x.toml: node: expected a table"),
    ],
)
def test_errors_name_file_key_and_problem(data: object, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse(data)
    assert caught.value.description.startswith(message)
    assert "\n" not in caught.value.description


def test_several_problems_are_counted_in_one_line() -> None:
    with pytest.raises(ConfigError, match=r"node.id: missing \(and 1 more\)"):
        parse({"port": "x"})


def test_values_keep_toml_types_and_paths_resolve_against_the_file() -> None:
    config = parse({
        "id": "N", "ratio": 2, "key": "keys/k.pem",
        "upstreams": [{"id": "U", "url": "ws://127.0.0.1:1"}],
        "since": datetime(2026, 1, 1, tzinfo=UTC),
    })
    assert config.ratio == 2.0 and isinstance(config.ratio, float)
    assert config.key == Path("/etc/ocppnet/keys/k.pem")
    assert config.upstreams == (Upstream(id="U", url="ws://127.0.0.1:1"),)
    assert config.since == datetime(2026, 1, 1, tzinfo=UTC)
    assert parse({"id": "N", "key": "/abs/k.pem"}).key == Path("/abs/k.pem")


def test_sections_are_frozen() -> None:
    config = parse({"id": "N"})
    with pytest.raises(ValueError):
        config.id = "M"  # type: ignore[misc]


def test_load_section_reads_the_file(tmp_path: Path) -> None:
    path = tmp_path / "n.toml"
    path.write_text('[node]\nid = "N"\nkey = "k.pem"\n')
    config = load_section(path, "node", Example)
    assert config.key == tmp_path / "k.pem"
    with pytest.raises(ConfigError, match=r"n.toml: other: missing \[other\] table"):
        load_section(path, "other", Example)


def test_read_toml_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such file"):
        read_toml(tmp_path / "missing.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("[node\n")
    with pytest.raises(ConfigError, match=r"bad\.toml: not valid TOML"):
        read_toml(bad)
    with pytest.raises(ConfigError, match="is a directory"):
        read_toml(tmp_path)


def test_describe_section_lists_every_field() -> None:
    rows = {key: (kind, default, text) for key, kind, default, text in describe_section(Example)}
    assert rows["id"] == ("str", "required", "overlay id of the process")
    assert rows["mode"][0] == "'overlay' | 'standard'"
    assert rows["key"][:2] == ("path", "(none)")
    assert rows["upstreams"][0] == "list of table"
    assert rows["passwords"][:2] == ("table of str", "(empty)")
    assert set(rows) == set(Example.model_fields)


def test_an_integer_past_64_bits_is_named_not_a_crash() -> None:
    """Found by the config fuzzer (tests/fuzz/corpus/config/found-bigint): TOML allows any
    integer, the JSON encoder under the models did not."""
    with pytest.raises(ConfigError, match=r"x\.toml: node\.port: must be 0\.\.65535"):
        parse({"id": "N", "port": -(10**30)})
