"""``[nap]`` in a CSMS file: site data and signing key resolved relative to the file; every
problem is one ConfigError naming the file and the key."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from ocppnet.csms.nap_api import nap_routers
from ocppnet.csms.nap_config import load_nap
from ocppnet.errors import ConfigError
from ocppnet.security.keys import key_id
from ocppnet.security.keystore import KeyStore
from ocppnet.store.sqlite import SqliteStore
from tests.nap.conftest import EXAMPLE


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    shutil.copy(EXAMPLE, tmp_path / "sites.toml")
    KeyStore(tmp_path / "keys").new("operator", "secp256r1")
    return tmp_path


def _csms(folder: Path, text: str) -> Path:
    path = folder / "csms.toml"
    path.write_text(text)
    return path


def test_keystore_from_security_and_relative_paths(folder: Path) -> None:
    path = _csms(folder, '[security]\nkeystore = "keys"\n\n'
                         '[nap]\nsites = "sites.toml"\nsigning_key = "operator"\n')
    settings = load_nap(path)
    assert settings is not None and settings.sites_file == folder / "sites.toml"
    assert key_id(settings.key) == KeyStore(folder / "keys").list_keys()[0].key_id
    assert len(settings.sites.locations) == 3


def test_no_nap_table_is_none(folder: Path) -> None:
    assert load_nap(_csms(folder, '[csms]\nport = 9000\n')) is None


@pytest.mark.parametrize(("text", "expected"), [
    ('[nap]\nsites = "sites.toml"\nsigning_key = "operator"\n',
     "nap.keystore: missing (and no [security].keystore)"),
    ('[nap]\nsites = "sites.toml"\nkeystore = "keys"\nsigning_key = "nobody"\n',
     "nap.signing_key: no private key 'nobody'"),
    ('[nap]\nsites = "sites.toml"\nkeystore = "keys"\n', "nap.signing_key: missing"),
    ('[nap]\nsites = "none.toml"\nkeystore = "keys"\nsigning_key = "operator"\n',
     "none.toml: no such file"),
])
def test_problems_name_file_and_key(folder: Path, text: str, expected: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_nap(_csms(folder, text))
    message = str(caught.value)
    assert expected in message and "\n" not in message, message
    assert message.startswith(str(folder))


def test_routers_for_a_csms_file(folder: Path) -> None:
    store = SqliteStore(":memory:")
    assert nap_routers(store, None) == []
    path = _csms(folder, '[security]\nkeystore = "keys"\n\n'
                         '[nap]\nsites = "sites.toml"\nsigning_key = "operator"\n')
    (router,) = nap_routers(store, load_nap(path))
    paths = {route.path for route in router.routes}  # type: ignore[attr-defined]
    assert paths == {"/nap/datex2/table", "/nap/datex2/status", "/nap/ocpi/locations",
                     "/nap/statistics"}
    assert router.dependencies  # guarded by the operator API's scope check
