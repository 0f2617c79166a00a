import hashlib
import struct
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ocppnet.rpc.binary import BinaryFrame, decode_binary, encode_binary
from ocppnet.rpc.codec import DecodeFailure, Limits
from ocppnet.rpc.frames import CallError, CallResultError, MessageType

from .strategies import ids, json_objects, node_ids

DATA = b"\x00\x01hello\xff"
DIGEST = hashlib.sha256(DATA).hexdigest()


def message(header: Any, body: bytes = DATA) -> bytes:
    head = header if isinstance(header, bytes) else orjson.dumps(header)
    return struct.pack(">I", len(head)) + head + body


def failure(data: bytes, **kw: Any) -> DecodeFailure:
    result = decode_binary(data, **kw)
    assert isinstance(result, DecodeFailure), result
    return result


def test_encode_layout_standard_call() -> None:
    frame = BinaryFrame(MessageType.CALL, "42", DATA, "SendFile", {"fileName": "a.bin"})
    out = encode_binary(frame)
    (n,) = struct.unpack(">I", out[:4])
    assert orjson.loads(out[4 : 4 + n]) == [
        2,
        "42",
        "SendFile",
        {"fileName": "a.bin", "length": len(DATA), "sha256": DIGEST},
    ]
    assert out[4 + n :] == DATA
    assert decode_binary(out) == frame


def test_encode_layout_overlay_result() -> None:
    frame = BinaryFrame(MessageType.CALLRESULT, "7", DATA, dest="cs1", path=("CSMS",))
    out = encode_binary(frame)
    (n,) = struct.unpack(">I", out[:4])
    header = orjson.loads(out[4 : 4 + n])
    assert header == [3, "cs1", "CSMS", "7", {"length": len(DATA), "sha256": DIGEST}]
    assert decode_binary(out, overlay=True) == frame


def test_send_exists_only_in_21() -> None:
    out = encode_binary(BinaryFrame(MessageType.SEND, "s", b"", "BinaryDataTransfer"))
    assert isinstance(decode_binary(out, version="2.1"), BinaryFrame)
    assert failure(out, version="2.0.1").error_code == "MessageTypeNotSupported"


@pytest.mark.parametrize(
    "kwargs",
    [
        {"message_type": MessageType.CALLERROR, "action": None},
        {"message_type": MessageType.CALL, "action": None},
        {"message_type": MessageType.CALLRESULT, "action": "A"},
        {"message_type": MessageType.CALL, "action": "A", "meta": {"length": 1}},
        {"message_type": MessageType.CALL, "action": "A", "meta": {"sha256": "00"}},
    ],
)
def test_inconsistent_binary_frames_cannot_be_built(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        BinaryFrame(message_id="m", data=b"", **kwargs)


# --------------------------------------------------------------------- corruption


def test_flipped_payload_byte_fails_the_hash_and_answers_the_call() -> None:
    good = encode_binary(BinaryFrame(MessageType.CALL, "m", DATA, "BinaryDataTransfer"))
    bad = good[:-1] + bytes([good[-1] ^ 1])
    f = failure(bad)
    assert f.description == "binary payload does not match its sha256"
    assert isinstance(f.reply, CallError)
    assert (f.reply.message_id, f.reply.error_code) == ("m", "FormatViolation")


def test_truncated_payload_fails_the_length() -> None:
    good = encode_binary(BinaryFrame(MessageType.CALL, "m", DATA, "A", dest="CSMS", path=("cs1",)))
    f = failure(good[:-2], overlay=True, version="1.6")
    assert f.description == f"binary payload has {len(DATA) - 2} bytes, header says {len(DATA)}"
    assert f.error_code == "FormationViolation"
    assert isinstance(f.reply, CallError)
    assert (f.reply.dest, f.reply.path) == ("cs1", ())


def test_corrupt_binary_result_gets_callresulterror_only_in_21() -> None:
    good = encode_binary(BinaryFrame(MessageType.CALLRESULT, "r", DATA))
    bad = good + b"extra"
    assert failure(bad, version="2.0.1").reply is None
    assert isinstance(failure(bad, version="2.1").reply, CallResultError)


@pytest.mark.parametrize(
    ("meta", "fragment"),
    [
        ({"sha256": DIGEST}, "'length'"),
        ({"length": -1, "sha256": DIGEST}, "'length'"),
        ({"length": "7", "sha256": DIGEST}, "'length'"),
        ({"length": 7}, "'sha256'"),
        ({"length": 7, "sha256": DIGEST.upper()}, "'sha256'"),
        ({"length": 7, "sha256": DIGEST[:-1]}, "'sha256'"),
    ],
)
def test_bad_header_meta(meta: dict[str, Any], fragment: str) -> None:
    f = failure(message([2, "m", "A", meta]))
    assert fragment in f.description
    assert isinstance(f.reply, CallError)


def test_header_length_beyond_the_data_salvages_the_id() -> None:
    head = orjson.dumps([2, "m", "A", {"length": 7, "sha256": DIGEST}])
    data = struct.pack(">I", len(head) + 100) + head
    f = failure(data)
    assert "exceeds" in f.description
    assert isinstance(f.reply, CallError)
    assert f.reply.message_id == "m"


@pytest.mark.parametrize("data", [b"", b"\x00\x00", b"\x00\x00\x00\x05abc", b"\xff\xff\xff\xff"])
def test_too_short_or_truncated_messages_are_dropped(data: bytes) -> None:
    f = failure(data)
    assert (f.error_code, f.reply) == ("FormatViolation", None)


def test_header_that_is_not_json_or_not_a_frame() -> None:
    assert failure(message(b"{nope")).error_code == "FormatViolation"
    f = failure(message([2, "m", "A", []]))
    assert "payload must be a JSON object" in f.description


def test_error_frames_are_not_binary() -> None:
    f = failure(message([4, "m", "GenericError", "", {}]))
    assert (f.error_code, f.message_id, f.reply) == ("RpcFrameworkError", "m", None)


def test_whole_message_size_limit() -> None:
    out = encode_binary(BinaryFrame(MessageType.CALL, "m", b"x" * 1000, "SendFile"))
    f = failure(out, limits=Limits(max_frame_bytes=500))
    assert "exceeds the limit of 500 bytes" in f.description
    assert isinstance(f.reply, CallError)
    assert isinstance(decode_binary(out, limits=Limits(max_frame_bytes=len(out))), BinaryFrame)


# --------------------------------------------------------------------- properties


@st.composite
def binary_frames(draw: st.DrawFn, overlay: bool) -> BinaryFrame:
    mt = draw(st.sampled_from([MessageType.CALL, MessageType.CALLRESULT, MessageType.SEND]))
    meta = draw(json_objects)
    meta.pop("length", None)
    meta.pop("sha256", None)
    return BinaryFrame(
        mt,
        draw(ids),
        draw(st.binary(max_size=300)),
        None if mt == MessageType.CALLRESULT else draw(st.text(min_size=1, max_size=20)),
        meta,
        draw(node_ids) if overlay else None,
        tuple(draw(st.lists(node_ids, max_size=4))) if overlay else (),
    )


@given(st.data())
def test_binary_round_trip(data: st.DataObject) -> None:
    overlay = data.draw(st.booleans())
    frame = data.draw(binary_frames(overlay))
    assert decode_binary(encode_binary(frame), overlay=overlay, version="2.1") == frame


@given(st.data())
def test_any_single_byte_corruption_of_the_body_is_detected(data: st.DataObject) -> None:
    frame = data.draw(binary_frames(False))
    out = bytearray(encode_binary(frame))
    body_start = len(out) - len(frame.data)
    if body_start == len(out):
        return
    i = data.draw(st.integers(min_value=body_start, max_value=len(out) - 1))
    out[i] ^= data.draw(st.integers(min_value=1, max_value=255))
    assert isinstance(decode_binary(bytes(out), version="2.1"), DecodeFailure)


@settings(max_examples=300)
@given(data=st.binary(max_size=300), overlay=st.booleans())
def test_decode_binary_never_raises(data: bytes, overlay: bool) -> None:
    result = decode_binary(data, overlay=overlay, version="2.1")
    assert isinstance(result, BinaryFrame | DecodeFailure)
