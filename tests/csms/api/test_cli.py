"""``ocppnet csms`` with the operator API: an [api] table in the TOML file, the refusal to
serve off loopback without a token, a bad table named by its key (real subprocesses)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from ocppnet.csms.api.settings import load_csms_file

OCPPNET = [sys.executable, "-m", "ocppnet.cli.main"]
EXAMPLE = Path(__file__).parents[3] / "examples" / "csms.toml"


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*OCPPNET, *args], capture_output=True, text=True, timeout=60)


def test_off_loopback_without_a_token_is_refused_in_one_line(tmp_path: Path) -> None:
    result = run("csms", "--port", "0", "--http-host", "0.0.0.0", "--http-port", "0",
                 "--store", str(tmp_path / "csms.sqlite3"))
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "ocppnet csms: refusing to serve the dashboard and operator API on 0.0.0.0 without "
        "an API token: add [[api.tokens]] to the TOML file (`ocppnet api token` makes one) "
        "or bind to 127.0.0.1")


def test_a_bad_api_table_names_its_key(tmp_path: Path) -> None:
    config = tmp_path / "csms.toml"
    config.write_text('[csms]\nport = 0\n[[api.tokens]]\nname = "ops"\nsha256 = "nope"\n'
                      'scopes = ["operator"]\n')
    result = run("csms", "--config", str(config), "--http-port", "0")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert f"{config}: api.tokens[0].sha256: string should match pattern" in result.stderr


def test_the_example_file_reads() -> None:
    loaded = load_csms_file(EXAMPLE)
    assert loaded.csms.id == "CSMS-1" and loaded.api.tokens == ()
