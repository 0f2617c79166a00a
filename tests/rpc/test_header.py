"""Header-only reading (rpc.header): what is read fast, what the full codec still decides, and
that a re-targeted frame carries its payload bytes through untouched."""

from __future__ import annotations

import orjson
import pytest

from ocppnet.routing import retarget
from ocppnet.rpc.codec import DecodeFailure, Limits, decode, encode
from ocppnet.rpc.frames import Call, CallResult, Send
from ocppnet.rpc.header import (
    RawCall,
    RawCallResult,
    RawFrame,
    RawSend,
    payload_failure,
    plain,
    raw_call,
    read_frame,
)

# a payload as a station might write it: not what orjson would write back (1.50, \u00e9, spaces)
ODD_PAYLOAD = '{"value": 1.50, "unit":"\\u00e9", "signatures":[{"signature":"c2ln"}]}'


def test_the_routing_doc_example_hop_by_hop() -> None:
    """docs/routing.md "Wire examples": CS-1 -> NODE-A -> NODE-B -> CSMS and back."""
    at_a = read_frame('[2,"42","Heartbeat",{}]')
    assert isinstance(at_a, RawCall) and at_a.action == "Heartbeat" and at_a.dest is None
    up = encode(retarget(at_a, "CSMS", ("CS-1", "NODE-A")))
    assert up == b'[2,"CSMS",["CS-1","NODE-A"],"42","Heartbeat",{}]'
    at_b = read_frame(up, overlay=True)
    assert isinstance(at_b, RawCall) and at_b.path == ("CS-1", "NODE-A")
    assert encode(retarget(at_b, "CSMS", (*at_b.path, "NODE-B"))) == (
        b'[2,"CSMS",["CS-1","NODE-A","NODE-B"],"42","Heartbeat",{}]'
    )
    answer = read_frame(
        '[3,"CS-1",["CSMS-1","NODE-B"],"42",{"currentTime":"2025-03-01T10:00:00Z"}]',
        overlay=True,
    )
    assert isinstance(answer, RawCallResult)
    assert encode(retarget(answer, None, ())) == b'[3,"42",{"currentTime":"2025-03-01T10:00:00Z"}]'


def test_a_one_hop_path_is_written_as_a_string_as_the_codec_does() -> None:
    frame = read_frame('[3,"CS-1","CSMS-1","r1",{"status":"Accepted"}]', overlay=True)
    assert isinstance(frame, RawCallResult) and frame.path == ("CSMS-1",)
    out = retarget(frame, "CSMS-1", ("CS-1",))
    assert encode(out) == encode(plain(out)) == b'[3,"CSMS-1","CS-1","r1",{"status":"Accepted"}]'


def test_the_payload_bytes_are_copied_through_untouched() -> None:
    frame = read_frame(f'[2,"m1","DataTransfer",{ODD_PAYLOAD}]')
    assert isinstance(frame, RawCall)
    out = encode(retarget(frame, "CSMS", ("CS-1", "NODE-A")))
    assert out == b'[2,"CSMS",["CS-1","NODE-A"],"m1","DataTransfer",' + ODD_PAYLOAD.encode() + b"]"
    # a decode + encode would have rewritten the number and the escape
    assert orjson.dumps(orjson.loads(ODD_PAYLOAD)) != ODD_PAYLOAD.encode()
    assert frame.payload_text == ODD_PAYLOAD.encode()


def test_the_payload_is_parsed_only_when_read_and_then_kept() -> None:
    frame = read_frame('[2,"m1","Heartbeat",{"a":[1,2]}]')
    assert isinstance(frame, RawFrame) and frame._cache is None
    moved = retarget(frame, "CSMS", ("CS-1",))
    assert moved.payload == {"a": [1, 2]}
    assert frame._cache is None  # the original was not touched by reading the copy
    assert payload_failure(frame) is None and frame._cache == {"a": [1, 2]}


@pytest.mark.parametrize(("text", "overlay", "version", "kind"), [
    ('[2,"1","Heartbeat",{}]', False, "2.0.1", RawCall),
    ('[3,"1",{}]', False, "1.6", RawCallResult),
    ('[6,"1","NotifyPeriodicEventStream",{"id":1}]', False, "2.1", RawSend),
    ('[2,"CS-1",["CSMS-1"],"1","Reset",{"type":"Immediate"}]', True, "2.0.1", RawCall),
    ('[3,"CSMS",[],"1",{}]', True, "2.0.1", RawCallResult),
    ('[2,"CSMS","CS-\u00e9","1","Heartbeat",{}]', True, "2.0.1", RawCall),
    ('[2,"CSMS",["CS-1","]"],"1","Heartbeat",{}]', True, "1.6", RawCall),  # a hop "]"
])
def test_compact_requests_and_results_are_read_raw_and_equal_the_codec(
    text: str, overlay: bool, version: str, kind: type[RawFrame]
) -> None:
    for data in (text, text.encode()):
        frame = read_frame(data, overlay=overlay, version=version)
        assert type(frame) is kind
        assert frame == decode(data, overlay=overlay, version=version)
        assert decode(data, overlay=overlay, version=version) == frame  # both directions
        assert type(plain(frame)) is kind._plain
        assert encode(frame) == encode(plain(frame))


@pytest.mark.parametrize(("text", "overlay", "version"), [
    ('[2, "1", "Heartbeat", {}]', False, "2.0.1"),  # whitespace
    ('[2,"1\\u0041","Heartbeat",{}]', False, "2.0.1"),  # an escape in the header
    ('[2,"1","Heartbeat",{}] ', False, "2.0.1"),  # trailing whitespace
    ('[4,"1","NotImplemented","no handler",{}]', False, "2.0.1"),  # errors: the codec
    ('[5,"1","FormatViolation","bad",{}]', False, "2.1"),
    ('[2,"CSMS",["CS-1","NODE-\\"A"],"1","Heartbeat",{}]', True, "2.0.1"),
])
def test_other_valid_input_is_decoded_by_the_codec(
    text: str, overlay: bool, version: str
) -> None:
    frame = read_frame(text, overlay=overlay, version=version)
    assert not isinstance(frame, RawFrame)
    assert frame == decode(text, overlay=overlay, version=version)
    assert not isinstance(frame, DecodeFailure)


@pytest.mark.parametrize(("text", "overlay", "version"), [
    ('[6,"1","NotifyPeriodicEventStream",{}]', False, "2.0.1"),  # SEND before 2.1
    ('[2,"","Heartbeat",{}]', False, "2.0.1"),  # empty id
    ('[2,"' + "x" * 37 + '","Heartbeat",{}]', False, "2.0.1"),  # id too long
    ('[2,"1","",{}]', False, "2.0.1"),  # empty action
    ('[3,"1","Heartbeat",{}]', False, "2.0.1"),  # a result with an action: arity
    ('[2,"1",{}]', False, "2.0.1"),  # a call without one
    ('[2,"1","Heartbeat",{}]', True, "2.0.1"),  # standard frame on an overlay link
    ('[2,"","CS-1","1","Heartbeat",{}]', True, "2.0.1"),  # empty DEST
    ('[2,"CSMS",["CS-1",""],"1","Heartbeat",{}]', True, "2.0.1"),  # empty hop
    ('[2,"CSMS",5,"1","Heartbeat",{}]', True, "2.0.1"),  # PATH not a string or array
    ('[2,"1","Heartbeat",[]]', False, "2.0.1"),  # payload not an object
    ('[2,"1","Heartbeat",{}', False, "2.0.1"),  # cut
    ('[9,"1","Heartbeat",{}]', False, "2.0.1"),  # unknown type
    ('[2,"1\x01","Heartbeat",{}]', False, "2.0.1"),  # control character in a string
    ('[2,"1","Heart\ud800beat",{}]', False, "2.0.1"),  # lone surrogate
    ("", False, "2.0.1"),
    ("[]", False, "1.6"),
])
def test_malformed_headers_get_exactly_the_codecs_answer(
    text: str, overlay: bool, version: str
) -> None:
    result = read_frame(text, overlay=overlay, version=version)
    expected = decode(text, overlay=overlay, version=version)
    assert isinstance(expected, DecodeFailure)
    assert result == expected


def test_bytes_that_are_not_utf8_get_the_codecs_answer() -> None:
    data = b'[2,"1","Heartbeat",{"a":"\xff"}]'
    assert read_frame(data) == decode(data)
    assert isinstance(read_frame(data), DecodeFailure)


def test_a_frame_over_the_size_limit_gets_the_codecs_answer() -> None:
    limits = Limits(max_frame_bytes=30)
    text = '[2,"1","Heartbeat",{"a":"' + "x" * 20 + '"}]'
    assert read_frame(text, limits=limits) == decode(text, limits=limits)
    assert isinstance(read_frame(text, limits=limits), DecodeFailure)


@pytest.mark.parametrize("payload", [
    '{"a":}', '{"a":1},{"b":2}', '{"a":1', '{' * 40 + '}' * 40, '{"a":' * 33 + '1' + '}' * 33,
    '{"a":NaN}',
])
def test_a_malformed_payload_is_found_when_it_is_read_with_the_codecs_answer(
    payload: str,
) -> None:
    """The header is sound, so the frame is read raw; whoever must look at the payload gets,
    from payload_failure, exactly what a full decode would have answered."""
    for overlay, text in ((False, f'[2,"m1","DataTransfer",{payload}]'),
                          (True, f'[2,"CSMS","CS-1","m1","DataTransfer",{payload}]')):
        frame = read_frame(text, overlay=overlay)
        expected = decode(text, overlay=overlay)
        assert isinstance(expected, DecodeFailure)
        if isinstance(frame, DecodeFailure):  # the header already told (e.g. not "}]")
            assert frame == expected
            continue
        assert isinstance(frame, RawCall)
        assert payload_failure(frame) == expected
        assert "m1" in repr(frame)  # repr never parses


def test_a_payload_exactly_at_the_depth_limit_passes() -> None:
    payload = '{"a":' * 31 + "1" + "}" * 31  # 31 objects: within max_depth 32
    frame = read_frame(f'[2,"m1","DataTransfer",{payload}]')
    assert isinstance(frame, RawCall)
    assert payload_failure(frame) is None
    assert isinstance(decode(f'[2,"m1","DataTransfer",{payload}]'), Call)


def test_plain_frames_have_no_payload_failure_and_stay_as_they_are() -> None:
    call = Call("1", "Heartbeat", {})
    assert payload_failure(call) is None and plain(call) is call


def test_a_queued_request_rebuilt_from_its_parts_leaves_with_its_bytes() -> None:
    frame = raw_call("q1", "TransactionEvent", ODD_PAYLOAD.encode(), "CSMS", ("CS-1", "NODE-A"))
    assert payload_failure(frame) is None
    expected = b'[2,"CSMS",["CS-1","NODE-A"],"q1","TransactionEvent",' + ODD_PAYLOAD.encode()
    assert encode(frame) == expected + b"]"
    assert encode(retarget(frame, None, ())) == (
        b'[2,"q1","TransactionEvent",' + ODD_PAYLOAD.encode() + b"]"
    )


def test_once_the_payload_was_handed_out_the_frame_is_written_from_it() -> None:
    """What leaves is what was seen: whoever read .payload may have changed it."""
    frame = read_frame(f'[2,"m1","DataTransfer",{ODD_PAYLOAD}]')
    assert isinstance(frame, RawCall)
    assert frame == Call("m1", "DataTransfer", orjson.loads(ODD_PAYLOAD))  # comparing: no
    assert ODD_PAYLOAD.encode() in encode(frame)
    frame.payload["value"] = 2
    moved = retarget(frame, "CSMS", ("CS-1",))
    assert orjson.loads(encode(moved))[-1]["value"] == 2
    assert moved.payload_text == orjson.dumps(frame.payload)


def test_raw_and_plain_frames_compare_by_value_only_within_their_kind() -> None:
    raw = read_frame('[2,"1","Heartbeat",{}]')
    assert raw == Call("1", "Heartbeat", {}) and Call("1", "Heartbeat", {}) == raw
    assert raw != Send("1", "Heartbeat", {}) and raw != Call("1", "Heartbeat", {"a": 1})
    assert raw != CallResult("1", {}) and raw != "text"
