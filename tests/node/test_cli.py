"""``ocppnet node``: expected failures are one line on stderr and an exit code, no traceback."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
from pathlib import Path

from ocppnet.node.cli import _routes
from tests.node.helpers import Recorder, node_config, overlay_csms, running_node, upstream


def run_node(config: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ocppnet.cli.main", "node", "run", "--config", str(config)],
        capture_output=True, text=True, timeout=60,
    )


def error_lines(result: subprocess.CompletedProcess[str]) -> list[str]:
    assert "Traceback" not in result.stderr, result.stderr
    return [line for line in result.stderr.splitlines() if line.startswith("ocppnet node:")]


def test_bad_config_is_one_line_naming_the_key_exit_2(tmp_path: Path) -> None:
    config = tmp_path / "node.toml"
    config.write_text('[node]\nid = "NODE-A"\n[[node.upstreams]]\nid = "U"\nurl = "http://x"\n')
    result = run_node(config)
    assert result.returncode == 2
    [line] = error_lines(result)
    assert f"{config}: node.upstreams[0].url:" in line


def test_missing_config_file(tmp_path: Path) -> None:
    result = run_node(tmp_path / "absent.toml")
    assert result.returncode == 2
    [line] = error_lines(result)
    assert "absent.toml: no such file" in line


def test_port_in_use_is_one_line_exit_nonzero(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        for key in ("port", "http_port"):
            config = tmp_path / f"{key}.toml"
            config.write_text(f'[node]\nid = "NODE-A"\n{key} = {port}\n')
            result = run_node(config)
            assert result.returncode != 0
            [line] = error_lines(result)
            assert f"node.{key}: cannot listen on 127.0.0.1:{port}" in line, line


async def test_routes_prints_links_and_routes(capsys: object) -> None:
    async with overlay_csms(Recorder()) as csms, running_node(
        node_config("NODE-A", [upstream("CSMS-1", csms.port)], http_port=0)
    ) as node:
        assert node.http is not None
        args = type("Args", (), {"url": node.http.url, "json": False})()
        code = await asyncio.to_thread(_routes, args)  # type: ignore[arg-type]
    out = capsys.readouterr().out  # type: ignore[attr-defined]
    assert code == 0
    assert "node NODE-A" in out and "CSMS-1" in out and "*default*" in out


def test_routes_unreachable_is_one_line() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "ocppnet.cli.main", "node", "routes", "--url",
         "http://127.0.0.1:1"], capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 1
    [line] = [x for x in result.stderr.splitlines() if x.startswith("ocppnet node routes:")]
    assert "Traceback" not in result.stderr and "cannot read" in line
