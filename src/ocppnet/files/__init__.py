"""File transfer over the overlay with binary frames: firmware down, logs up (docs/files.md)."""

from ocppnet.files.area import FileArea
from ocppnet.files.names import name_problem, resolve_in
from ocppnet.files.protocol import DEFAULT_CHUNK_SIZE, chunk_ranges, file_sha256
from ocppnet.files.server import (
    FileServer,
    LinkFileService,
    RouterFileService,
    add_file_handlers,
)
from ocppnet.files.transfer import TransferFailed, TransferReport, get_file, send_file

__all__ = [
    "DEFAULT_CHUNK_SIZE",
    "FileArea",
    "FileServer",
    "LinkFileService",
    "RouterFileService",
    "TransferFailed",
    "TransferReport",
    "add_file_handlers",
    "chunk_ranges",
    "file_sha256",
    "get_file",
    "name_problem",
    "resolve_in",
    "send_file",
]
