"""``ocppnet keys ca ...`` as a user runs it (subprocesses), then a station's trust list loaded
from the files it wrote: the CA certificate and the CRL, nothing else."""

from __future__ import annotations

import contextlib
import io
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ocppnet.cli.main import main
from ocppnet.errors import ConfigError
from ocppnet.security.keystore import KeyStore
from ocppnet.security.signatures import sign, verify
from ocppnet.security.trust_files import load_trust

OCPPNET = [sys.executable, "-m", "ocppnet.cli.main"]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*OCPPNET, *args], capture_output=True, text=True, timeout=60)


def ok(*args: str) -> str:
    """A real subprocess (where the CLI wiring is what is tested)."""
    result = run(*args)
    assert result.returncode == 0, result.stderr
    return result.stdout


def cli(*args: str) -> str:
    """The same through the CLI's main in this process (a subprocess costs ~1 s)."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(list(args)) == 0, args
    return out.getvalue()


def check(trust_entries: list[Path], store: KeyStore) -> str:
    now = datetime.now(UTC)
    payload = sign({"type": "Immediate"}, action="Reset", kind="request", version="2.0.1",
                   key=store.key_pair("grid"), now=now)
    verdict = verify(payload, action="Reset", kind="request", version="2.0.1",
                     trusted=load_trust(trust_entries), now=now)[0]
    return verdict.reason


def test_ca_issue_revoke_crl(tmp_path: Path) -> None:
    ks = str(tmp_path / "keys")
    ok("keys", "ca", "new", "--store", ks, "--name", "owner-ca", "--subject", "Owner CA")
    cli("keys", "new", "--store", ks, "--name", "grid")
    out = cli("keys", "ca", "issue", "--store", ks, "--ca", "owner-ca", "--key", "grid",
             "--subject", "grid-operator", "--days", "30")
    assert "grid.crt.pem serial=" in out
    store = KeyStore(ks)
    assert store.key_pair("grid").chain  # the certificate now travels with the key
    ca_pem = tmp_path / "keys" / "owner-ca.ca.pem"
    assert check([ca_pem], store) == "valid"

    cli("keys", "ca", "revoke", "--store", ks, "--ca", "owner-ca", "--subject", "grid-operator")
    crl_out = ok("keys", "ca", "crl", "--store", ks, "--ca", "owner-ca",
                 "--out", str(tmp_path / "owner.crl.pem"))
    assert "1 revoked" in crl_out
    assert "revoked" in check([ca_pem, tmp_path / "owner.crl.pem"], store)
    listing = cli("keys", "ca", "list", "--store", ks, "--ca", "owner-ca")
    assert "grid-operator" in listing and "revoked" in listing


def test_ca_errors_are_one_line(tmp_path: Path) -> None:
    ks = str(tmp_path / "keys")
    cli("keys", "ca", "new", "--store", ks, "--name", "ca")
    again = run("keys", "ca", "new", "--store", ks, "--name", "ca")
    assert again.returncode == 1 and again.stderr.count("\n") == 1
    assert "already exists" in again.stderr
    with contextlib.redirect_stderr(io.StringIO()) as err:
        assert main(["keys", "ca", "issue", "--store", ks, "--ca", "ca", "--key", "nope"]) == 1
    assert "no key 'nope'" in err.getvalue()


def test_bad_trust_files_name_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "garbage.pem"
    bad.write_text("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")
    with pytest.raises(ConfigError, match=r"garbage\.pem: not a usable certificate"):
        load_trust([bad])
    with pytest.raises(ConfigError, match="no such file or directory"):
        load_trust([tmp_path / "nowhere"])
    private = tmp_path / "x.pem"
    private.write_text("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")
    with pytest.raises(ConfigError, match=r"x\.pem: a private key does not belong"):
        load_trust([private])
