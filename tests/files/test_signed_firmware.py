"""Signed files: firmware must carry a signature over its SHA-256 and metadata by a key the
station trusts; unsigned or wrongly signed firmware is refused before a byte is stored.
Pure checks first, then real sockets (CSMS -> NODE-A -> station)."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ocppnet.files import FileArea, FileServer, LinkFileService, TransferFailed, send_file
from ocppnet.node.overlay_csms import OverlayCsmsServer
from ocppnet.security.file_signatures import FileSignatureCheck, sign_file
from ocppnet.security.keys import KeyPair
from ocppnet.security.trust import TrustStore
from ocppnet.transport import Connection, DirectSender, Handlers, open_link, pump
from tests.node.helpers import (
    BOOT,
    Recorder,
    node_config,
    overlay_csms,
    running_node,
    station_url,
    upstream,
)

VENDOR, STRANGER = KeyPair.generate("secp256r1"), KeyPair.generate("ed25519")
NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
SHA = hashlib.sha256(b"firmware").hexdigest()


def check() -> FileSignatureCheck:
    trust = TrustStore()
    trust.add(VENDOR.public_key, name="vendor")
    return FileSignatureCheck(trust)


def test_signed_firmware_passes_and_every_mismatch_is_named() -> None:
    good = sign_file("firmware/fw.bin", 8, SHA, key=VENDOR, now=NOW)
    c = check()
    assert c.problem("firmware/fw.bin", 8, SHA, good, now=NOW) is None
    later = datetime(2027, 6, 1, tzinfo=UTC)  # signed months ago is fine for a file
    assert c.problem("firmware/fw.bin", 8, SHA, good, now=later) is None
    assert "unsigned" in (c.problem("firmware/fw.bin", 8, SHA, None, now=NOW) or "")
    assert "size 8, not 9" in (c.problem("firmware/fw.bin", 9, SHA, good, now=NOW) or "")
    assert "sha256" in (c.problem("firmware/fw.bin", 8, "0" * 64, good, now=NOW) or "")
    assert "fileName" in (c.problem("firmware/other.bin", 8, SHA, good, now=NOW) or "")
    foreign = sign_file("firmware/fw.bin", 8, SHA, key=STRANGER, now=NOW)
    assert "unknown key" in (c.problem("firmware/fw.bin", 8, SHA, foreign, now=NOW) or "")
    forged = {**good, "size": 8, "purpose": "log"}  # the purpose is signed too
    assert "invalid signature" in (c.problem("firmware/fw.bin", 8, SHA, forged, now=NOW) or "")
    # a log needs no signature; relabelling firmware as a log does not skip the check
    assert c.problem("logs/today.log", 8, SHA, None, now=NOW) is None
    assert c.problem("x.bin", 8, SHA, None, now=NOW, purpose="firmware") is not None


@contextlib.asynccontextmanager
async def signed_station(area: FileArea) -> AsyncIterator[OverlayCsmsServer]:
    """CSMS <- NODE-A <- CS-1, whose file service needs signed firmware."""
    async with overlay_csms(Recorder()) as csms, running_node(
        node_config("NODE-A", [upstream("CSMS-1", csms.port)])
    ) as node:
        link = await open_link(station_url(node), "CS-1")
        conn = Connection(Handlers(), version=link.info.version, remote_id="CSMS",
                          sender=DirectSender(link))
        service = LinkFileService(FileServer(area, signatures=check()), link)
        reader = asyncio.create_task(pump(link, conn, on_binary=service.on_binary))
        try:
            assert (await conn.call("BootNotification", BOOT))["status"] == "Accepted"
            yield csms
        finally:
            await link.close()
            await reader


async def test_firmware_over_the_overlay_needs_the_vendors_signature(tmp_path: Path) -> None:
    firmware = tmp_path / "fw.bin"
    firmware.write_bytes(os.urandom(200_000))
    size, sha = firmware.stat().st_size, hashlib.sha256(firmware.read_bytes()).hexdigest()
    area = FileArea(tmp_path / "station")
    async with signed_station(area) as csms:
        with pytest.raises(TransferFailed, match=r"SignatureRejected.*unsigned"):
            await send_file(csms, "CS-1", firmware, "firmware/fw.bin")
        wrong = sign_file("firmware/fw.bin", size, sha, key=STRANGER, now=datetime.now(UTC))
        with pytest.raises(TransferFailed, match=r"SignatureRejected.*unknown key"):
            await send_file(csms, "CS-1", firmware, "firmware/fw.bin", signature=wrong)
        assert not (area.root / "firmware" / "fw.bin").exists()
        assert not any((area.root / ".partial").glob("*"))  # nothing was stored

        good = sign_file("firmware/fw.bin", size, sha, key=VENDOR, now=datetime.now(UTC))
        sent = await send_file(csms, "CS-1", firmware, "firmware/fw.bin", signature=good,
                               purpose="firmware", chunk_size=64_000)
        assert sent.chunks == 4
        assert (area.root / "firmware" / "fw.bin").read_bytes() == firmware.read_bytes()
