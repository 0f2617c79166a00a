"""Real sockets: firmware from the CSMS to a station two nodes down, logs back up."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from ocppnet.errors import CallErrorReceived
from ocppnet.files import (
    FileArea,
    FileServer,
    LinkFileService,
    TransferFailed,
    add_file_handlers,
    get_file,
    send_file,
)
from ocppnet.node.overlay_csms import OverlayCsmsServer
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


@contextlib.asynccontextmanager
async def station_with_files(url: str, area: FileArea) -> AsyncIterator[Connection]:
    """A plain (standard-mode) station whose link also serves files."""
    link = await open_link(url, "CS-1")
    handlers = Handlers()
    add_file_handlers(handlers, area)
    conn = Connection(handlers, version=link.info.version, remote_id="CSMS",
                      sender=DirectSender(link))
    service = LinkFileService(FileServer(area), link)
    reader = asyncio.create_task(pump(link, conn, on_binary=service.on_binary))
    try:
        yield conn
    finally:
        await link.close()
        await reader


@contextlib.asynccontextmanager
async def two_nodes_down(area: FileArea) -> AsyncIterator[OverlayCsmsServer]:
    """CSMS <- NODE-A <- NODE-B <- CS-1 (booted, so every hop knows the way)."""
    async with overlay_csms(Recorder()) as csms, running_node(
        node_config("NODE-A", [upstream("CSMS-1", csms.port)])
    ) as node_a, running_node(
        node_config("NODE-B", [upstream("NODE-A", node_a.port)])
    ) as node_b, station_with_files(station_url(node_b), area) as station:
        assert (await station.call("BootNotification", BOOT))["status"] == "Accepted"
        yield csms


async def test_5mb_firmware_down_and_a_log_back_up(tmp_path: Path) -> None:
    firmware = tmp_path / "fw-2.1.bin"
    firmware.write_bytes(os.urandom(5 * 1024 * 1024))
    area = FileArea(tmp_path / "station")
    (area.root / "logs").mkdir()
    log_bytes = b"2026-01-01T00:00:00Z boot ok\n" * 20_000
    (area.root / "logs" / "today.log").write_bytes(log_bytes)
    seen: list[int] = []
    async with two_nodes_down(area) as csms:
        sent = await send_file(csms, "CS-1", firmware, "firmware/fw-2.1.bin",
                               progress=lambda done, total: seen.append(done))
        stored = area.root / "firmware" / "fw-2.1.bin"
        assert hashlib.sha256(stored.read_bytes()).hexdigest() == sent.sha256
        assert stored.read_bytes() == firmware.read_bytes()
        assert sent.chunks == 80 and seen[-1] == 5 * 1024 * 1024

        got = await get_file(csms, "CS-1", "logs/today.log", tmp_path / "today.log")
        assert (tmp_path / "today.log").read_bytes() == log_bytes
        assert got.sha256 == hashlib.sha256(log_bytes).hexdigest() and got.chunks == 9

        listing = await csms.connections["CS-1"].call("ListDirectory", {"directoryPath": ""})
        assert [e["name"] for e in listing["entries"]] == ["firmware", "logs"]


async def test_errors_and_resume_across_the_overlay(tmp_path: Path) -> None:
    area = FileArea(tmp_path / "station")
    source = tmp_path / "fw.bin"
    source.write_bytes(os.urandom(300_000))
    async with two_nodes_down(area) as csms:
        with pytest.raises(CallErrorReceived) as refused:
            await send_file(csms, "CS-1", source, "../../outside.bin")
        assert refused.value.code == "PropertyConstraintViolation"
        assert "'..' is not allowed" in refused.value.description
        with pytest.raises(CallErrorReceived) as unknown:
            await send_file(csms, "CS-9", source)
        assert unknown.value.code == "UnknownClient"
        with pytest.raises(TransferFailed, match="NotFound"):
            await get_file(csms, "CS-1", "logs/none.log", tmp_path / "none.log")

        # an upload interrupted after 100 000 bytes continues where it stopped
        data = source.read_bytes()
        sha = hashlib.sha256(data).hexdigest()
        area.write_chunk("fw.bin", 0, len(data), sha, data[:100_000])
        resumed = await send_file(csms, "CS-1", source, resume=True, chunk_size=50_000)
        assert resumed.resumed_from == 100_000 and resumed.chunks == 4
        assert (area.root / "fw.bin").read_bytes() == data
