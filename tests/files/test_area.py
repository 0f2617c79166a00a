"""Chunked writes with offsets, resume and whole-file hash; chunked reads."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from ocppnet.errors import PropertyConstraintViolation
from ocppnet.files import FileArea, chunk_ranges, file_sha256

CONTENT = bytes(range(256)) * 1000  # 256 000 bytes
SHA = hashlib.sha256(CONTENT).hexdigest()


def test_chunk_ranges_cover_the_file_exactly() -> None:
    assert list(chunk_ranges(10, 4)) == [(0, 4), (4, 4), (8, 2)]
    assert list(chunk_ranges(8, 4, start=4)) == [(4, 4)]
    assert list(chunk_ranges(0, 4)) == []
    ranges = list(chunk_ranges(len(CONTENT), 65536))
    assert sum(n for _, n in ranges) == len(CONTENT) and len(ranges) == 4
    with pytest.raises(ValueError):
        list(chunk_ranges(1, 0))


def test_file_sha256_reads_in_blocks(tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.write_bytes(CONTENT)
    assert file_sha256(path, block=1000) == SHA


def write_all(area: FileArea, name: str, data: bytes, chunk: int, sha: str = SHA) -> list[bool]:
    return [
        area.write_chunk(name, off, len(data), sha, data[off : off + n]).complete
        for off, n in chunk_ranges(len(data), chunk)
    ]


def test_file_appears_only_after_its_last_chunk_and_hash(tmp_path: Path) -> None:
    area = FileArea(tmp_path)
    done = write_all(area, "fw/v2.bin", CONTENT, 100_000)
    assert done == [False, False, True]
    assert (tmp_path / "fw" / "v2.bin").read_bytes() == CONTENT
    assert area.held(SHA) == 0  # the partial file moved into place


def test_wrong_offset_tells_how_much_is_held_and_resume_continues(tmp_path: Path) -> None:
    area = FileArea(tmp_path)
    assert area.write_chunk("fw.bin", 0, len(CONTENT), SHA, CONTENT[:1000]).accepted
    gap = area.write_chunk("fw.bin", 5000, len(CONTENT), SHA, CONTENT[5000:6000])
    assert (gap.accepted, gap.reason, gap.expected) == (False, "WrongOffset", 1000)
    probe = area.write_chunk("fw.bin", len(CONTENT), len(CONTENT), SHA, b"")
    assert probe.expected == 1000
    rest = area.write_chunk("fw.bin", 1000, len(CONTENT), SHA, CONTENT[1000:])
    assert rest.complete and (tmp_path / "fw.bin").read_bytes() == CONTENT


def test_corrupted_content_is_detected_by_the_whole_file_hash(tmp_path: Path) -> None:
    area = FileArea(tmp_path)
    bad = bytearray(CONTENT)
    bad[12345] ^= 1
    outcome = [area.write_chunk("fw.bin", o, len(bad), SHA, bytes(bad[o : o + n]))
               for o, n in chunk_ranges(len(bad), 65536)][-1]
    assert (outcome.accepted, outcome.reason) == (False, "HashMismatch")
    assert not (tmp_path / "fw.bin").exists() and area.held(SHA) == 0


def test_chunk_beyond_total_length_is_refused(tmp_path: Path) -> None:
    with pytest.raises(PropertyConstraintViolation, match="beyond totalLength"):
        FileArea(tmp_path).write_chunk("f", 0, 3, SHA, b"abcd")


def test_reads_are_chunked_with_size_and_cached_hash(tmp_path: Path) -> None:
    (tmp_path / "logs").mkdir()
    (tmp_path / "logs" / "a.log").write_bytes(CONTENT)
    area = FileArea(tmp_path)
    parts, offset = [], 0
    while offset < len(CONTENT):
        chunk = area.read_chunk("logs/a.log", offset, 100_000)
        assert chunk is not None and (chunk.total, chunk.sha256) == (len(CONTENT), SHA)
        parts.append(chunk.data)
        offset += len(chunk.data)
    assert b"".join(parts) == CONTENT and len(parts) == 3
    assert area.read_chunk("logs/none.log", 0, 10) is None
    with pytest.raises(PropertyConstraintViolation, match="beyond the end"):
        area.read_chunk("logs/a.log", len(CONTENT) + 1, 10)


def test_listing_and_delete(tmp_path: Path) -> None:
    area = FileArea(tmp_path)
    write_all(area, "fw.bin", CONTENT, 65536)
    (tmp_path / "logs").mkdir()
    entries = area.listing("")
    assert entries is not None
    assert [(e["name"], e["type"], e.get("size")) for e in entries] == [
        ("fw.bin", "File", len(CONTENT)), ("logs", "Directory", None)
    ]  # the hidden partial folder is not listed
    assert area.listing("nope") is None
    assert area.delete("fw.bin") and not area.delete("fw.bin")
