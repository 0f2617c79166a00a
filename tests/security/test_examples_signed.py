"""examples/signed/ as a user runs it: the ``ocppnet keys`` commands of make-keys.sh (run
in this process through the CLI's ``main``, ten subprocesses would cost ten seconds), then
every TOML file loads exactly as its process loads it (``ocppnet policy check`` as a real
subprocess for one file, in-process for the others, and the node's, CSMS's and participant's
own readers)."""

from __future__ import annotations

import contextlib
import io
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ocppnet.cli.main import main
from ocppnet.csms.config import load_config as load_csms
from ocppnet.node.config import load_config as load_node
from ocppnet.participant import load_participant_config

EXAMPLES = Path(__file__).parents[2] / "examples" / "signed"
OCPPNET = [sys.executable, "-m", "ocppnet.cli.main"]


def run_script(script: Path) -> None:
    """Each ``$O ...`` line of the script through ``ocppnet``'s main, in the script's folder
    (``> file`` redirects stdout), stopping at the first failure as ``set -e`` does."""
    before = Path.cwd()
    os.chdir(script.parent)
    try:
        for line in script.read_text().splitlines():
            if not line.startswith("$O "):
                continue
            words = shlex.split(line[3:])
            out = words[words.index(">") + 1] if ">" in words else None
            argv = words[: words.index(">")] if out else words
            buffer = io.StringIO()
            with contextlib.redirect_stdout(buffer):
                assert main(argv) == 0, line
            if out:
                Path(out).write_text(buffer.getvalue())
    finally:
        os.chdir(before)


@pytest.fixture(scope="module")
def signed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("examples") / "signed"
    shutil.copytree(EXAMPLES, target, ignore=shutil.ignore_patterns("keys"))
    run_script(target / "make-keys.sh")
    return target


def test_policy_check_as_a_subprocess(signed: Path) -> None:
    result = subprocess.run([*OCPPNET, "policy", "check", str(signed / "station.toml")],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "station.toml: [security]: 1 signing keys, 1 trusted keys, 1 trusted CAs" \
        in result.stdout


@pytest.mark.parametrize("name", ["csms.toml", "node.toml", "station.toml",
                                  "grid-participant.toml"])
def test_policy_check_builds_every_example(
    signed: Path, name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["policy", "check", str(signed / name)]) == 0
    assert "[security]:" in capsys.readouterr().out


def test_the_processes_read_their_tables(signed: Path) -> None:
    assert load_node(signed / "node.toml").id == "NODE-S"
    assert load_csms(signed / "csms.toml").id == "CSMS-S"
    grid = load_participant_config(signed / "grid-participant.toml")
    assert grid.security is not None and grid.participant.id == "GRID-S"
    [pair] = {p.key_id: p for p in grid.security.signing_keys().values()}.values()
    assert pair.chain  # the CA's certificate travels with the grid operator's signatures
