"""``ocppnet api token``: a token whose printed entry the [api] reader accepts."""

from __future__ import annotations

import io
import tomllib

import pytest

from ocppnet.api import ApiSection, Grant, token_table
from ocppnet.cli.main import main
from ocppnet.config import parse_section


def test_token_and_entry_round_trip(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["api", "token", "--name", "night-shift", "--scopes", "read,grid"]) == 0
    out = capsys.readouterr().out
    token = out.split()[1]
    entry = out[out.index("[[api.tokens]]"):]
    section = parse_section(ApiSection, tomllib.loads(entry)["api"], where="api")
    assert token_table(section).check(f"Bearer {token}", "grid") == Grant(
        "night-shift", frozenset({"read", "grid", "metrics"}))


def test_hash_of_existing_token(capsys: pytest.CaptureFixture[str],
                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("abc\n"))
    assert main(["api", "token", "--hash"]) == 0
    assert ('sha256 = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"'
            in capsys.readouterr().out)


def test_bad_scope_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["api", "token", "--scopes", "Read"]) == 2
    assert capsys.readouterr().err == "ocppnet api token: --scopes: not a scope: 'Read'\n"
