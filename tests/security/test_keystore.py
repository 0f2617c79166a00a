"""Keys, the file-based key store and the ``ocppnet keys`` CLI."""

from __future__ import annotations

import argparse
import stat
from pathlib import Path

import pytest

from ocppnet.cli import keys as keys_cli
from ocppnet.security.keys import (
    ALGORITHMS,
    KeyMaterialError,
    KeyPair,
    generate,
    key_id,
    load_private_pem,
    load_public_pem,
    private_pem,
    public_pem,
)
from ocppnet.security.keystore import KeyStore, KeyStoreError


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_pem_round_trip_keeps_the_key_id(algorithm: str) -> None:
    key = generate(algorithm)
    kid = key_id(key)
    assert len(kid) == 43 and "=" not in kid and "+" not in kid and "/" not in kid
    assert key_id(load_private_pem(private_pem(key))) == kid
    assert key_id(load_public_pem(public_pem(key))) == kid


def test_bad_key_material() -> None:
    with pytest.raises(KeyMaterialError, match="unknown algorithm 'dsa'"):
        generate("dsa")
    with pytest.raises(KeyMaterialError):
        load_public_pem(b"-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n")
    from cryptography.hazmat.primitives.asymmetric import ec

    with pytest.raises(KeyMaterialError, match="unsupported curve 'secp256k1'"):
        load_private_pem(private_pem(ec.generate_private_key(ec.SECP256K1())))


def test_repr_never_shows_private_material() -> None:
    pair = KeyPair.generate("ed25519")
    assert "PRIVATE" not in repr(pair) and "private_key" not in repr(pair)


def test_store_new_list_and_modes(tmp_path: Path) -> None:
    store = KeyStore(tmp_path / "keys")
    info = store.new("grid", "secp256r1")
    peer = KeyPair.generate("ed25519")
    store.import_public("peer", public_pem(peer.private_key))
    assert [(i.name, i.has_private) for i in store.list_keys()] == [("grid", True),
                                                                     ("peer", False)]
    assert stat.S_IMODE((tmp_path / "keys" / "grid.key.pem").stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "keys").stat().st_mode) == 0o700
    assert store.key_pair("grid").key_id == info.key_id
    assert set(store.signing_keys()) == {"grid"}
    trust = store.trust_store()
    assert info.key_id in trust and peer.key_id in trust
    assert store.find(peer.key_id) == "peer"
    assert "PRIVATE" not in repr(store)


def test_store_refusals(tmp_path: Path) -> None:
    store = KeyStore(tmp_path)
    store.new("a", "ed25519")
    with pytest.raises(KeyStoreError, match="already exists"):
        store.new("a", "ed25519")
    with pytest.raises(KeyStoreError, match="bad key name"):
        store.new("../escape", "ed25519")
    with pytest.raises(KeyStoreError, match="unknown algorithm"):
        store.new("b", "dsa")
    with pytest.raises(KeyStoreError, match="no key 'zzz'"):
        store.find("zzz")
    with pytest.raises(KeyStoreError, match="not a usable PEM private key"):
        store.import_private("c", b"garbage")
    store.import_public("p", store.public_pem("a"))
    with pytest.raises(KeyStoreError, match="no private key 'p'"):
        store.key_pair("p")


def _cli(*argv: str) -> int:
    parser = argparse.ArgumentParser()
    keys_cli.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(list(argv))
    result: int = args.func(args)
    return result


def test_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store = str(tmp_path / "ks")
    assert _cli("keys", "new", "--store", store, "--name", "node", "--algorithm", "ed25519") == 0
    name, kid, alg = capsys.readouterr().out.split()
    assert (name, alg) == ("node", "ed25519")
    assert _cli("keys", "list", "--store", store) == 0
    assert capsys.readouterr().out == f"node\t{kid}\ted25519\tprivate+public\n"
    # a key id may start with "-", which argparse takes for an option unless it is attached
    assert _cli("keys", "export", "--store", store, f"--name={kid}") == 0
    pem = capsys.readouterr().out
    assert pem.startswith("-----BEGIN PUBLIC KEY-----") and "PRIVATE" not in pem
    assert _cli("keys", "fingerprint", "--store", store, "--name", "node") == 0
    assert capsys.readouterr().out.strip() == kid
    assert _cli("keys", "fingerprint", str(tmp_path / "ks" / "node.key.pem")) == 0
    assert capsys.readouterr().out.strip() == kid


def test_cli_errors_are_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store = str(tmp_path)
    _cli("keys", "new", "--store", store, "--name", "a")
    capsys.readouterr()
    assert _cli("keys", "new", "--store", store, "--name", "a") == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("ocppnet keys new: key 'a' already exists")
    assert _cli("keys", "fingerprint", str(tmp_path / "missing.pem")) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "No such file or directory" in err
