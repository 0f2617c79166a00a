"""The asking side of file transfer: push a file to a peer, or fetch one, in chunks.

Works from any endpoint with ``call_binary`` (a :class:`~ocppnet.node.router.Router`, so a
CSMS served by ``serve_overlay_csms`` or a node application): ``await send_file(csms, "CS-1",
path)``, ``await get_file(csms, "CS-1", "logs/today.log", target)``. Each chunk waits for its
answer (one in flight). Failures raise :class:`TransferFailed` or the peer's
:class:`~ocppnet.errors.CallErrorReceived`.
"""

from __future__ import annotations

import itertools
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from ocppnet.errors import CallErrorReceived, GenericError
from ocppnet.files.protocol import (
    DEFAULT_CHUNK_SIZE,
    GET_FILE,
    SEND_FILE,
    WRONG_OFFSET,
    chunk_ranges,
    file_sha256,
    get_request,
    send_chunk,
)
from ocppnet.rpc.binary import BinaryFrame
from ocppnet.rpc.frames import CallError, CallResult, Frame, JsonObject, MessageType
from ocppnet.validation import validate

log = logging.getLogger("ocppnet.files.transfer")

DEFAULT_TIMEOUT = 30.0
Progress = Callable[[int, int], None]
"""``progress(bytes_done, total)`` after every chunk."""


class BinaryCaller(Protocol):
    """What sends a binary CALL and returns its answer (a Router does)."""

    async def call_binary(
        self, frame: BinaryFrame, version: str, timeout: float  # noqa: ASYNC109
    ) -> BinaryFrame | Frame: ...


class TransferFailed(GenericError):
    """The peer refused the transfer (status not Accepted) or the content did not match."""


@dataclass(frozen=True, slots=True)
class TransferReport:
    name: str
    bytes: int
    sha256: str
    chunks: int
    seconds: float
    resumed_from: int = 0

    @property
    def mb_per_s(self) -> float:
        return self.bytes / 1e6 / self.seconds if self.seconds > 0 else 0.0


_ids = itertools.count(1)
_prefix = os.urandom(3).hex()


def _message_id() -> str:
    return f"f{_prefix}-{next(_ids)}"


def _caller(endpoint: Any) -> BinaryCaller:
    """A Router, or anything holding one as ``.router`` (OverlayCsmsServer, LocalEndpoint)."""
    caller = getattr(endpoint, "router", endpoint)
    if not callable(getattr(caller, "call_binary", None)):
        raise TypeError(f"{type(endpoint).__name__} cannot send binary frames")
    return caller  # type: ignore[no-any-return]


async def _ask(
    caller: BinaryCaller, frame: BinaryFrame, version: str, timeout: float  # noqa: ASYNC109
) -> BinaryFrame:
    """One request: its binary CALLRESULT (meta validated), else an exception."""
    answer = await caller.call_binary(frame, version, timeout)
    if isinstance(answer, CallError):
        raise CallErrorReceived(answer.error_code, answer.error_description, answer.error_details)
    if isinstance(answer, CallResult) or not (
        isinstance(answer, BinaryFrame) and answer.message_type == MessageType.CALLRESULT
    ):
        raise TransferFailed(f"{frame.action}: the peer did not answer with a binary CALLRESULT")
    failure = validate(version, frame.action or "", "response", answer.meta)
    if failure is not None:
        raise TransferFailed(f"{frame.action}Response: {failure.description}")
    return answer


def _refusal(meta: JsonObject) -> str:
    info = meta.get("statusInfo", {})
    detail = " ".join(str(info[k]) for k in ("reasonCode", "additionalInfo") if k in info)
    return f"{meta.get('status')}{': ' + detail if detail else ''}"


class _ProgressLog:
    """Logs a transfer at every 10 % (and calls ``progress`` after every chunk)."""

    def __init__(self, action: str, dest: str, name: str, total: int, progress: Progress | None):
        self.action, self.dest, self.name, self.total = action, dest, name, total
        self.progress = progress
        self.next_step = 10

    def __call__(self, done: int) -> None:
        if self.progress is not None:
            self.progress(done, self.total)
        percent = 100 if self.total == 0 else done * 100 // self.total
        if percent >= self.next_step:
            log.info("event=file_progress action=%s peer=%s name=%s bytes=%d total=%d percent=%d",
                     self.action, self.dest, self.name, done, self.total, percent)
            self.next_step = percent // 10 * 10 + 10


async def send_file(
    endpoint: Any,
    dest: str,
    source: Path | str,
    name: str | None = None,
    *,
    version: str = "2.0.1",
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    timeout: float = DEFAULT_TIMEOUT,  # noqa: ASYNC109
    resume: bool = False,
    progress: Progress | None = None,
    signature: JsonObject | None = None,
    purpose: str | None = None,
) -> TransferReport:
    """Write the local file ``source`` as ``name`` (default: its file name) on ``dest``.

    ``resume`` first asks where an earlier, interrupted upload of the same content stopped.
    ``signature`` (``security.file_signatures.sign_file``) and ``purpose`` go with every chunk;
    a receiver that needs a signed file refuses with reason ``SignatureRejected``.
    """
    caller = _caller(endpoint)
    source = Path(source)
    name = name or source.name
    total = source.stat().st_size
    digest = file_sha256(source)
    extra: JsonObject = {}
    if purpose is not None:
        extra["purpose"] = purpose
    if signature is not None:
        extra["fileSignature"] = signature
    started = time.perf_counter()
    start = 0
    if resume:
        probe = await _ask(caller, send_chunk(_message_id(), name, total, total, digest, b"",
                                              dest=dest, extra=extra), version, timeout)
        if probe.meta["status"] == "Accepted":  # the peer held it all: it is in place now
            return TransferReport(name, total, digest, 0, time.perf_counter() - started, total)
        info = probe.meta.get("statusInfo", {})
        if info.get("reasonCode") != WRONG_OFFSET:
            raise TransferFailed(f"SendFile {name} to {dest}: {_refusal(probe.meta)}")
        start = int(info.get("additionalInfo", "0"))
    report = _ProgressLog(SEND_FILE, dest, name, total, progress)
    chunks = 0
    # one chunk's read costs less than a thread hop; the socket round trip dominates
    with source.open("rb") as f:  # noqa: ASYNC230
        f.seek(start)
        for offset, length in chunk_ranges(total, chunk_size, start):
            data = f.read(length)
            frame = send_chunk(_message_id(), name, offset, total, digest, data, dest=dest,
                               extra=extra)
            answer = await _ask(caller, frame, version, timeout)
            if answer.meta["status"] != "Accepted":
                raise TransferFailed(f"SendFile {name} to {dest} at {offset}: "
                                     f"{_refusal(answer.meta)}")
            chunks += 1
            report(offset + length)
    if chunks == 0:  # an empty file still needs its one (empty) chunk
        frame = send_chunk(_message_id(), name, 0, 0, digest, b"", dest=dest, extra=extra)
        answer = await _ask(caller, frame, version, timeout)
        if answer.meta["status"] != "Accepted":
            raise TransferFailed(f"SendFile {name} to {dest}: {_refusal(answer.meta)}")
        chunks = 1
    seconds = time.perf_counter() - started
    log.info("event=file_sent peer=%s name=%s bytes=%d chunks=%d seconds=%.3f sha256=%s",
             dest, name, total, chunks, seconds, digest)
    return TransferReport(name, total, digest, chunks, seconds, start)


async def get_file(
    endpoint: Any,
    dest: str,
    name: str,
    target: Path | str,
    *,
    version: str = "2.0.1",
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    timeout: float = DEFAULT_TIMEOUT,  # noqa: ASYNC109
    resume: bool = False,
    progress: Progress | None = None,
) -> TransferReport:
    """Fetch ``name`` from ``dest`` into the local file ``target`` (written as
    ``target.part`` until the whole SHA-256 matched); ``resume`` continues an existing part."""
    caller = _caller(endpoint)
    target = Path(target)
    part = target.with_name(target.name + ".part")
    start = part.stat().st_size if resume and part.exists() else 0
    started = time.perf_counter()
    offset, chunks, total, digest = start, 0, -1, ""
    report: _ProgressLog | None = None
    with part.open("r+b" if start else "wb") as f:
        f.truncate(start)
        f.seek(start)
        while total < 0 or offset < total:
            frame = get_request(_message_id(), name, offset, chunk_size, dest=dest)
            answer = await _ask(caller, frame, version, timeout)
            meta = answer.meta
            if meta["status"] != "Accepted":
                raise TransferFailed(f"GetFile {name} from {dest}: {_refusal(meta)}")
            if digest and meta.get("fileSha256") != digest:
                raise TransferFailed(f"GetFile {name} from {dest}: the file changed at {offset}")
            if meta.get("offset") != offset or "totalLength" not in meta:
                raise TransferFailed(f"GetFile {name} from {dest}: answer for another offset")
            total, digest = meta["totalLength"], meta.get("fileSha256", "")
            if not answer.data and offset < total:
                raise TransferFailed(f"GetFile {name} from {dest}: empty chunk at {offset}")
            f.write(answer.data)
            offset += len(answer.data)
            chunks += 1
            report = report or _ProgressLog(GET_FILE, dest, name, total, progress)
            report(offset)
    actual = file_sha256(part)
    if actual != digest:
        part.unlink()
        raise TransferFailed(f"GetFile {name} from {dest}: SHA-256 {actual} is not {digest}")
    os.replace(part, target)
    seconds = time.perf_counter() - started
    log.info("event=file_received peer=%s name=%s bytes=%d chunks=%d seconds=%.3f sha256=%s",
             dest, name, total, chunks, seconds, digest)
    return TransferReport(name, total, digest, chunks, seconds, start)
