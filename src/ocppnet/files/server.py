"""The answering side of file transfer: a station (or any node) serving a :class:`FileArea`.

:class:`FileServer` turns one decoded binary request into its answer (binary CALLRESULT or
text CALLERROR). Two adapters carry the frames: :class:`LinkFileService` for an endpoint that
reads its own link (``pump(link, conn, on_binary=service.on_binary)``), and
:class:`RouterFileService` for a router's local application (``router.binary_local``).
ListDirectory and DeleteFile are ordinary text requests: :func:`add_file_handlers`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from ocppnet.errors import OcppNetError
from ocppnet.files.area import FileArea
from ocppnet.files.protocol import GET_FILE, MAX_CHUNK_SIZE, SEND_FILE, result, status_info
from ocppnet.node.router import Router
from ocppnet.rpc.binary import BinaryFrame, decode_binary, encode_binary
from ocppnet.rpc.codec import DecodeFailure, encode
from ocppnet.rpc.frames import CallError, Frame, JsonObject, MessageType
from ocppnet.rpc.versions import wire_error_code
from ocppnet.security.file_signatures import FileSignatureCheck
from ocppnet.transport.handlers import CallContext, Handlers
from ocppnet.transport.link import Link
from ocppnet.transport.undecodable import answer_undecodable
from ocppnet.validation import validate

log = logging.getLogger("ocppnet.files.server")


class FileServer:
    """Answers SendFile and GetFile for ``area``; never raises for bad input."""

    def __init__(
        self, area: FileArea, *, max_chunk: int = MAX_CHUNK_SIZE,
        signatures: FileSignatureCheck | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        """``signatures``: which files must be signed, and by whom (checked before a byte
        of the file is stored; security/file_signatures.py)."""
        self.area = area
        self.max_chunk = max_chunk
        self.signatures = signatures
        self.clock = clock
        self._signed_ok: tuple[str, int, str, str] | None = None  # the upload under way

    def handle(self, frame: BinaryFrame, version: str) -> BinaryFrame | CallError | None:
        """The answer to ``frame`` in standard form (None for anything but a CALL)."""
        if frame.message_type != MessageType.CALL:
            log.info("event=binary_ignored message_id=%s type=%d", frame.message_id,
                     frame.message_type)
            return None
        action = frame.action or ""
        if action not in (SEND_FILE, GET_FILE):
            return _error(frame, version, "NotSupported", f"{action} is not served here")
        failure = validate(version, action, "request", frame.meta)
        if failure is not None:
            return CallError(frame.message_id, failure.error_code, failure.description, {})
        try:
            if action == SEND_FILE:
                return self._send_file(frame, version)
            return self._get_file(frame)
        except OcppNetError as exc:
            log.warning("event=file_request_refused action=%s message_id=%s reason=%r",
                        action, frame.message_id, exc.description)
            return _error(frame, version, exc.code, exc.description)
        except OSError as exc:
            log.error("event=file_io_failed action=%s message_id=%s error=%r",
                      action, frame.message_id, exc)
            return _error(frame, version, "InternalError", f"{action}: {exc.strerror or exc}")

    def _send_file(self, frame: BinaryFrame, version: str) -> BinaryFrame | CallError:
        meta = frame.meta
        missing = [k for k in ("offset", "totalLength", "fileSha256") if k not in meta]
        if missing:
            return _error(frame, version, "OccurrenceConstraintViolation",
                          f"SendFile needs {', '.join(missing)}")
        name = meta["fileName"]
        refused = self._signature_problem(meta)
        if refused is not None:
            log.warning("event=file_signature_refused name=%s reason=%r", name, refused)
            return result(frame.message_id, {"status": "Rejected", "fileName": name,
                                             "statusInfo": status_info("SignatureRejected",
                                                                       refused[:500])})
        outcome = self.area.write_chunk(
            name, meta["offset"], meta["totalLength"], meta["fileSha256"], frame.data
        )
        answer: dict[str, Any] = {"status": "Accepted", "fileName": name}
        if not outcome.accepted:
            answer["status"] = "Rejected"
            assert outcome.reason is not None
            answer["statusInfo"] = status_info(outcome.reason, str(outcome.expected))
        return result(frame.message_id, answer)

    def _signature_problem(self, meta: JsonObject) -> str | None:
        """Checked on every chunk (a resumed upload starts anywhere), verified once per upload."""
        if self.signatures is None:
            return None
        signature = meta.get("fileSignature")
        key = (meta["fileName"], meta["totalLength"], meta["fileSha256"], repr(signature))
        if key == self._signed_ok:
            return None
        problem = self.signatures.problem(
            meta["fileName"], meta["totalLength"], meta["fileSha256"], signature,
            now=self.clock(), purpose=meta.get("purpose"))
        if problem is None:
            self._signed_ok = key
        return problem

    def _get_file(self, frame: BinaryFrame) -> BinaryFrame:
        meta = frame.meta
        name = meta["fileName"]
        offset = meta.get("offset", 0)
        wanted = min(meta.get("maxBytes", self.max_chunk), self.max_chunk)
        chunk = self.area.read_chunk(name, offset, wanted)
        if chunk is None:
            return result(frame.message_id, {"status": "NotFound", "fileName": name})
        answer = {
            "status": "Accepted", "fileName": name, "offset": offset,
            "totalLength": chunk.total, "fileSha256": chunk.sha256,
        }
        return result(frame.message_id, answer, chunk.data)


def _error(frame: BinaryFrame, version: str, code: str, description: str) -> CallError:
    return CallError(frame.message_id, wire_error_code(version, code), description[:255], {})


class LinkFileService:
    """A FileServer on one link that an endpoint reads itself (a station's link to its node):
    pass :meth:`on_binary` to :func:`ocppnet.transport.link.pump`."""

    def __init__(self, server: FileServer, link: Link) -> None:
        self.server = server
        self.link = link

    async def _send(self, frame: Frame) -> None:
        await self.link.send_text(encode(frame))

    async def on_binary(self, message: bytes) -> None:
        info = self.link.info
        frame = decode_binary(message, overlay=info.overlay, version=info.version)
        if isinstance(frame, DecodeFailure):
            await answer_undecodable(
                frame, self._send, sender=info.station_id if info.overlay else None, log=log,
                event="binary_decode_failed", station=info.station_id,
            )
            return
        answer = self.server.handle(frame, info.version)
        if answer is None:
            return
        dest, path = (frame.path[0], (info.station_id,)) if info.overlay and frame.path else (
            None, ())
        if isinstance(answer, CallError):
            await self.link.send_text(encode(CallError(
                answer.message_id, answer.error_code, answer.error_description,
                answer.error_details, dest, path,
            )))
        else:
            await self.link.send_binary(encode_binary(BinaryFrame(
                answer.message_type, answer.message_id, answer.data, None, answer.meta, dest, path,
            )))


class RouterFileService:
    """A FileServer as a router's binary application: ``RouterFileService(server, router)``
    sets ``router.binary_local``; answers go back into the overlay to the asker."""

    def __init__(self, server: FileServer, router: Router) -> None:
        self.server = server
        self.router = router
        router.binary_local = self

    async def deliver_binary(self, frame: BinaryFrame, version: str) -> None:
        answer = self.server.handle(frame, version)
        if answer is None or not frame.path:
            return
        asker = frame.path[0]
        if isinstance(answer, CallError):
            await self.router.send_local(CallError(
                answer.message_id, answer.error_code, answer.error_description,
                answer.error_details, asker,
            ), version)
            return
        await self.router.send_local_binary(BinaryFrame(
            answer.message_type, answer.message_id, answer.data, None, answer.meta, asker,
        ), version)


def add_file_handlers(handlers: Handlers, area: FileArea) -> None:
    """Register ListDirectory and DeleteFile (text requests) for ``area``."""

    @handlers.on("ListDirectory")
    async def list_directory(ctx: CallContext, payload: dict[str, Any]) -> dict[str, Any]:
        directory = payload["directoryPath"]
        entries = area.listing(directory)
        if entries is None:
            return {"status": "NotFound", "directoryPath": directory}
        return {"status": "Accepted", "directoryPath": directory, "entries": entries}

    @handlers.on("DeleteFile")
    async def delete_file(ctx: CallContext, payload: dict[str, Any]) -> dict[str, Any]:
        name = payload["fileName"]
        status = "Accepted" if area.delete(name) else "NotFound"
        return {"status": status, "fileName": name}
