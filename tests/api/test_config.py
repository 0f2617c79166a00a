"""The [api] TOML table: hashed tokens with scopes, a token file, errors that name the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from ocppnet.api import ApiSection, Grant, hash_token, token_table
from ocppnet.config import load_section, parse_section
from ocppnet.errors import ConfigError

DIGEST = hash_token("s3cret")


def test_tokens_from_toml(tmp_path: Path) -> None:
    file = tmp_path / "csms.toml"
    file.write_text(f'[api]\n[[api.tokens]]\nname = "ops"\nsha256 = "{DIGEST}"\n'
                    'scopes = ["operator"]\n')
    table = token_table(load_section(file, "api", ApiSection))
    assert table.check("Bearer s3cret", "read") == Grant(
        "ops", frozenset({"operator", "read", "metrics"}))


@pytest.mark.parametrize(("table", "message"), [
    ({"tokens": [{"name": "a", "sha256": "abc", "scopes": ["read"]}]},
     "x.toml: api.tokens[0].sha256: string should match pattern"),
    ({"tokens": [{"name": "a", "sha256": DIGEST, "scopes": []}]},
     "x.toml: api.tokens[0].scopes:"),
    ({"tokens": [{"name": "a", "sha256": DIGEST, "scopes": ["read"], "token": "x"}]},
     "x.toml: api.tokens[0].token: unknown key"),
    ({"tokenz": []}, "x.toml: api.tokenz: unknown key"),
])
def test_bad_tables_name_the_key(table: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_section(ApiSection, table, source="x.toml", where="api")
    assert str(caught.value).startswith(message)


def test_duplicate_names_are_refused() -> None:
    entry = {"name": "a", "sha256": DIGEST, "scopes": ["read"]}
    section = parse_section(ApiSection, {"tokens": [entry, entry]}, where="api")
    with pytest.raises(ConfigError, match="name 'a' is used twice"):
        token_table(section, source="x.toml")


def test_token_file_relative_to_the_toml(tmp_path: Path) -> None:
    (tmp_path / "tokens.txt").write_text(
        f"# monitoring\n{hash_token('scrape')} prometheus metrics\n\n"
        f"{hash_token('op')} ops operator,grid  # the night shift\n")
    section = parse_section(ApiSection, {"token_file": "tokens.txt"}, where="api",
                            base=tmp_path)
    table = token_table(section)
    assert table.check("Bearer scrape", "metrics") == Grant("prometheus", frozenset({"metrics"}))
    assert table.check("Bearer op", "grid") == Grant(
        "ops", frozenset({"operator", "grid", "read", "metrics"}))


def test_bad_token_file_line_names_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "tokens.txt"
    bad.write_text(f"{hash_token('a')} a read\nnot-a-hash b read\n")
    section = ApiSection(token_file=bad)
    with pytest.raises(ConfigError, match=r"tokens.txt:2: expected a 64-hex-digit sha256"):
        token_table(section)
    with pytest.raises(ConfigError, match="cannot read token file"):
        token_table(ApiSection(token_file=tmp_path / "missing.txt"))
