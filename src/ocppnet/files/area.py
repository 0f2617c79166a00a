"""A folder that a file service reads and writes: chunked, resumable, hash-checked writes.

Partial uploads live in ``<root>/.partial/<fileSha256>`` (names cannot reach hidden folders),
so a resumed upload continues only the same content, and a file appears under its name only
once its whole SHA-256 matched. Calls are synchronous: one chunk is small (64 KiB default).
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from ocppnet.errors import PropertyConstraintViolation
from ocppnet.files.names import resolve_in
from ocppnet.files.protocol import HASH_MISMATCH, WRONG_OFFSET, file_sha256
from ocppnet.rpc.timestamps import format_timestamp

log = logging.getLogger("ocppnet.files.area")

PARTIAL_DIR = ".partial"


@dataclass(frozen=True, slots=True)
class WriteOutcome:
    """``accepted``: chunk stored (``complete`` once the file is in place); else ``reason``
    (WrongOffset with ``expected`` = bytes held, or HashMismatch)."""

    accepted: bool
    complete: bool = False
    reason: str | None = None
    expected: int = 0


@dataclass(frozen=True, slots=True)
class ReadOutcome:
    data: bytes
    total: int
    sha256: str


class FileArea:
    """Files under ``root``; every name goes through :func:`~ocppnet.files.names.resolve_in`."""

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self._digests: dict[Path, tuple[int, int, str]] = {}

    def path(self, name: str) -> Path:
        return resolve_in(self.root, name)

    def _partial(self, file_hash: str) -> Path:
        folder = self.root / PARTIAL_DIR
        folder.mkdir(exist_ok=True)
        return folder / file_hash

    def write_chunk(
        self, name: str, offset: int, total: int, file_hash: str, data: bytes
    ) -> WriteOutcome:
        """Store ``data`` at ``offset``. Offset 0 with bytes restarts the upload; any other
        offset must equal the bytes already held (else WrongOffset, which a sender uses to
        resume). The last chunk moves the file in place if its SHA-256 is ``file_hash``."""
        target = self.path(name)
        if offset + len(data) > total:
            raise PropertyConstraintViolation(
                f"chunk ends at {offset + len(data)}, beyond totalLength {total}"
            )
        part = self._partial(file_hash)
        held = part.stat().st_size if part.exists() else 0
        if offset == 0 and data:
            held = 0
        if offset != held:
            return WriteOutcome(False, reason=WRONG_OFFSET, expected=held)
        with part.open("r+b" if held else "wb") as f:
            f.truncate(held)
            f.seek(held)
            f.write(data)
        if held + len(data) < total:
            return WriteOutcome(True)
        actual = file_sha256(part)
        if actual != file_hash:
            part.unlink()
            log.warning("event=file_hash_mismatch name=%s expected=%s actual=%s",
                        name, file_hash, actual)
            return WriteOutcome(False, reason=HASH_MISMATCH)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(part, target)
        log.info("event=file_stored name=%s bytes=%d sha256=%s", name, total, file_hash)
        return WriteOutcome(True, complete=True)

    def read_chunk(self, name: str, offset: int, max_bytes: int) -> ReadOutcome | None:
        """Up to ``max_bytes`` from ``offset`` with the file's size and SHA-256 (None: no such
        file). An offset beyond the end is a PropertyConstraintViolation."""
        path = self.path(name)
        if not path.is_file():
            return None
        with path.open("rb") as f:
            stat = os.fstat(f.fileno())
            if offset > stat.st_size:
                raise PropertyConstraintViolation(
                    f"offset {offset} is beyond the end of {name!r} ({stat.st_size} bytes)"
                )
            f.seek(offset)
            data = f.read(max_bytes)
        return ReadOutcome(data, stat.st_size, self._digest(path, stat.st_size, stat.st_mtime_ns))

    def _digest(self, path: Path, size: int, mtime_ns: int) -> str:
        """The file's SHA-256, computed once per (size, mtime) rather than once per chunk."""
        cached = self._digests.get(path)
        if cached is not None and cached[:2] == (size, mtime_ns):
            return cached[2]
        digest = file_sha256(path)
        self._digests[path] = (size, mtime_ns, digest)
        return digest

    def held(self, file_hash: str) -> int:
        """Bytes of an unfinished upload of the content ``file_hash``."""
        part = self.root / PARTIAL_DIR / file_hash
        return part.stat().st_size if part.exists() else 0

    def listing(self, directory: str) -> list[dict[str, Any]] | None:
        """ListDirectory entries of ``directory`` ("" = the root); None if it is no folder."""
        folder = resolve_in(self.root, directory, allow_root=True)
        if not folder.is_dir():
            return None
        entries: list[dict[str, Any]] = []
        for child in sorted(folder.iterdir()):
            if child.name.startswith("."):
                continue
            stat = child.stat()
            kind: Literal["File", "Directory"] = "Directory" if child.is_dir() else "File"
            entry: dict[str, Any] = {
                "name": child.name,
                "type": kind,
                "lastModified": format_timestamp(
                    datetime.fromtimestamp(stat.st_mtime, UTC), "seconds"),
            }
            if kind == "File":
                entry["size"] = stat.st_size
            entries.append(entry)
        return entries

    def delete(self, name: str) -> bool:
        """Remove a file; False when there is none."""
        path = self.path(name)
        if not path.is_file():
            return False
        path.unlink()
        self._digests.pop(path, None)
        return True
