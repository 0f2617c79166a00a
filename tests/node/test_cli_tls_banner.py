"""``ocppnet node run`` names its listener as clients must dial it: wss:// with TLS."""

from __future__ import annotations

from pathlib import Path

from ocppnet.pki import ThrowawayPki
from tests.integration.processes import started


def test_a_tls_node_prints_wss(tmp_path: Path, pki: ThrowawayPki) -> None:
    config = tmp_path / "node.toml"
    files = pki.server_files
    config.write_text(
        '[node]\nid = "NODE-T"\nport = 0\nsecurity_profile = 2\n'
        f'tls_cert = "{files.cert_file}"\ntls_key = "{files.key_file}"\n'
        'passwords = { "CS-1" = "secret" }\n'
        '[[node.upstreams]]\nid = "CSMS-1"\nurl = "ws://127.0.0.1:1/ocpp"\nmode = "overlay"\n')
    with started("node", "run", "--config", str(config)) as node:
        line = node.read_until(r"ocppnet node NODE-T: listening on ")
        assert line.string.startswith("ocppnet node NODE-T: listening on wss://127.0.0.1:")
