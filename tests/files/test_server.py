"""FileServer answers: binary CALLRESULTs, text CALLERRORs for bad requests."""

from __future__ import annotations

import hashlib
from pathlib import Path

from ocppnet.files import FileArea, FileServer
from ocppnet.files.protocol import get_request, send_chunk
from ocppnet.rpc.binary import BinaryFrame
from ocppnet.rpc.frames import CallError, MessageType

DATA = b"firmware image " * 1000
SHA = hashlib.sha256(DATA).hexdigest()


def server(tmp_path: Path) -> FileServer:
    return FileServer(FileArea(tmp_path), max_chunk=4096)


def test_send_file_chunks_store_the_file(tmp_path: Path) -> None:
    files = server(tmp_path)
    half = len(DATA) // 2
    first = files.handle(send_chunk("1", "fw.bin", 0, len(DATA), SHA, DATA[:half]), "2.0.1")
    last = files.handle(send_chunk("2", "fw.bin", half, len(DATA), SHA, DATA[half:]), "2.0.1")
    for answer in (first, last):
        assert isinstance(answer, BinaryFrame) and answer.message_type == MessageType.CALLRESULT
        assert answer.meta == {"status": "Accepted", "fileName": "fw.bin"} and answer.data == b""
    assert (tmp_path / "fw.bin").read_bytes() == DATA


def test_path_traversal_gets_a_clear_callerror(tmp_path: Path) -> None:
    files = server(tmp_path)
    for name in ("../evil.bin", "/etc/evil", "a/../../evil"):
        answer = files.handle(send_chunk("t", name, 0, 3, SHA, b"abc"), "2.0.1")
        assert isinstance(answer, CallError)
        assert answer.error_code == "PropertyConstraintViolation"
        assert name in answer.error_description
        got = files.handle(get_request("g", name, 0, 10), "2.0.1")
        assert isinstance(got, CallError) and got.error_code == "PropertyConstraintViolation"
    assert list(tmp_path.parent.glob("evil*")) == []


def test_wrong_whole_file_hash_is_rejected_with_reason(tmp_path: Path) -> None:
    answer = server(tmp_path).handle(send_chunk("1", "fw.bin", 0, 3, SHA, b"abc"), "2.0.1")
    assert isinstance(answer, BinaryFrame)
    assert answer.meta["status"] == "Rejected"
    assert answer.meta["statusInfo"]["reasonCode"] == "HashMismatch"


def test_invalid_meta_and_unknown_actions_get_errors(tmp_path: Path) -> None:
    files = server(tmp_path)
    missing = BinaryFrame(MessageType.CALL, "m", b"x", "SendFile", {"fileName": "f"})
    answer = files.handle(missing, "2.0.1")
    assert isinstance(answer, CallError) and answer.error_code == "OccurrenceConstraintViolation"
    bad = BinaryFrame(MessageType.CALL, "b", b"", "GetFile", {"fileName": "f", "offset": -1})
    answer = files.handle(bad, "1.6")
    assert isinstance(answer, CallError) and answer.error_code == "PropertyConstraintViolation"
    other = BinaryFrame(MessageType.CALL, "o", b"", "BinaryDataTransfer", {"vendorId": "v"})
    answer = files.handle(other, "2.0.1")
    assert isinstance(answer, CallError) and answer.error_code == "NotSupported"
    result = BinaryFrame(MessageType.CALLRESULT, "r", b"", None, {})
    assert files.handle(result, "2.0.1") is None


def test_get_file_serves_bounded_chunks_and_not_found(tmp_path: Path) -> None:
    (tmp_path / "a.log").write_bytes(DATA)
    files = server(tmp_path)
    answer = files.handle(get_request("1", "a.log", 10, 1_000_000), "2.0.1")
    assert isinstance(answer, BinaryFrame)
    assert answer.data == DATA[10 : 10 + 4096]  # capped by the server's max_chunk
    assert answer.meta == {
        "status": "Accepted", "fileName": "a.log", "offset": 10, "totalLength": len(DATA),
        "fileSha256": SHA,
    }
    missing = files.handle(get_request("2", "b.log", 0, 10), "2.0.1")
    assert isinstance(missing, BinaryFrame) and missing.meta["status"] == "NotFound"
