"""examples/signed/ as a user runs it: make-keys.sh (real ``ocppnet keys`` subprocesses), then
every TOML file loads exactly as its process loads it (``ocppnet policy check``, and the
node's, CSMS's and participant's own readers)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ocppnet.csms.config import load_config as load_csms
from ocppnet.node.config import load_config as load_node
from ocppnet.participant import load_participant_config

EXAMPLES = Path(__file__).parents[2] / "examples" / "signed"
OCPPNET = [sys.executable, "-m", "ocppnet.cli.main"]


@pytest.fixture(scope="module")
def signed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("examples") / "signed"
    shutil.copytree(EXAMPLES, target, ignore=shutil.ignore_patterns("keys"))
    env = {**os.environ, "OCPPNET": " ".join(OCPPNET)}
    result = subprocess.run(["sh", str(target / "make-keys.sh")], capture_output=True,
                            text=True, timeout=120, env=env)
    assert result.returncode == 0, result.stderr
    return target


@pytest.mark.parametrize("name", ["csms.toml", "node.toml", "station.toml",
                                  "grid-participant.toml"])
def test_policy_check_builds_every_example(signed: Path, name: str) -> None:
    result = subprocess.run([*OCPPNET, "policy", "check", str(signed / name)],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "[security]:" in result.stdout


def test_the_processes_read_their_tables(signed: Path) -> None:
    assert load_node(signed / "node.toml").id == "NODE-S"
    assert load_csms(signed / "csms.toml").id == "CSMS-S"
    grid = load_participant_config(signed / "grid-participant.toml")
    assert grid.security is not None and grid.participant.id == "GRID-S"
    [pair] = {p.key_id: p for p in grid.security.signing_keys().values()}.values()
    assert pair.chain  # the CA's certificate travels with the grid operator's signatures
