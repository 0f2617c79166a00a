"""Unit tests: every frame type and every class of malformed input, both modes, all versions."""

from typing import Any

import orjson
import pytest

from ocppnet.errors import NotSupported
from ocppnet.rpc.codec import (
    DEFAULT_LIMITS,
    MAX_DESCRIPTION_LENGTH,
    DecodeFailure,
    Limits,
    decode,
    decode_value,
    encode,
    error_for,
    error_reply,
)
from ocppnet.rpc.frames import Call, CallError, CallResult, CallResultError, Send

VERSIONS = ["1.6", "2.0.1", "2.1"]
MODES = [False, True]
ROUTE = ["CSMS", ["cs1", "n1"]]

FORMAT = {"1.6": "FormationViolation", "2.0.1": "FormatViolation", "2.1": "FormatViolation"}
FRAMEWORK = {"1.6": "ProtocolError", "2.0.1": "RpcFrameworkError", "2.1": "RpcFrameworkError"}
TYPE_UNSUPPORTED = {
    "1.6": "GenericError",
    "2.0.1": "MessageTypeNotSupported",
    "2.1": "MessageTypeNotSupported",
}


def raw(overlay: bool, message_type: Any, *rest: Any) -> bytes:
    head = [message_type, *ROUTE] if overlay else [message_type]
    return orjson.dumps([*head, *rest])


def failure(data: str | bytes, overlay: bool, version: str, **kw: Any) -> DecodeFailure:
    result = decode(data, overlay=overlay, version=version, **kw)
    assert isinstance(result, DecodeFailure), result
    return result


def assert_reply_to_call(f: DecodeFailure, code: str, message_id: str, overlay: bool) -> None:
    assert f.error_code == code
    assert f.message_id == message_id
    assert isinstance(f.reply, CallError)
    assert f.reply.message_id == message_id
    assert f.reply.error_code == code
    assert f.reply.error_description == f.description
    assert f.reply.error_details == {}
    assert f.reply.dest == ("cs1" if overlay else None)
    assert f.reply.path == ()


# --------------------------------------------------------------------- valid frames


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("overlay", MODES)
def test_decodes_every_frame_type_of_the_version(version: str, overlay: bool) -> None:
    dest, path = ("CSMS", ("cs1", "n1")) if overlay else (None, ())
    cases: list[tuple[bytes, object]] = [
        (raw(overlay, 2, "m1", "Heartbeat", {}), Call("m1", "Heartbeat", {}, dest, path)),
        (raw(overlay, 3, "m2", {"a": [1, 2.5]}), CallResult("m2", {"a": [1, 2.5]}, dest, path)),
        (
            raw(overlay, 4, "m3", "NotImplemented", "no", {"x": 1}),
            CallError("m3", "NotImplemented", "no", {"x": 1}, dest, path),
        ),
    ]
    if version == "2.1":
        cases += [
            (
                raw(overlay, 5, "m4", "FormatViolation", "", {}),
                CallResultError("m4", "FormatViolation", "", {}, dest, path),
            ),
            (
                raw(overlay, 6, "m5", "NotifyPeriodicEventStream", {"id": 1}),
                Send("m5", "NotifyPeriodicEventStream", {"id": 1}, dest, path),
            ),
        ]
    for data, expected in cases:
        assert decode(data, overlay=overlay, version=version) == expected
        assert decode(data.decode(), overlay=overlay, version=version) == expected


def test_overlay_path_may_be_a_single_string_or_empty_array() -> None:
    one = decode(b'[2, "CSMS", "cs1", "m", "Heartbeat", {}]', overlay=True)
    assert one == Call("m", "Heartbeat", {}, "CSMS", ("cs1",))
    empty = decode(b'[3, "cs1", [], "m", {}]', overlay=True)
    assert empty == CallResult("m", {}, "cs1", ())


def test_message_id_of_exactly_the_limit_is_accepted() -> None:
    mid = "x" * DEFAULT_LIMITS.max_message_id_length
    assert decode(raw(False, 2, mid, "Heartbeat", {})) == Call(mid, "Heartbeat", {})


# --------------------------------------------------------------------- encode


def test_encode_standard_and_overlay_forms() -> None:
    assert encode(Call("1", "Heartbeat", {})) == b'[2,"1","Heartbeat",{}]'
    assert encode(CallResult("1", {"a": 1}, "cs1", ("CSMS",))) == b'[3,"cs1","CSMS","1",{"a":1}]'
    assert (
        encode(CallError("1", "GenericError", "d", {}, "cs1", ("n1", "n2")))
        == b'[4,"cs1",["n1","n2"],"1","GenericError","d",{}]'
    )
    assert encode(Send("1", "A", {}, "CSMS", ())) == b'[6,"CSMS",[],"1","A",{}]'
    assert encode(CallResultError("1", "X", "", {})) == b'[5,"1","X","",{}]'


# --------------------------------------------------------------------- not JSON / not an array


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("overlay", MODES)
@pytest.mark.parametrize(
    "data", [b"", b"hello", b"\xff\xfe", b'{"a": 1}', b"5", b'"text"', b"null", "\ud800", b"[1,]"]
)
def test_garbage_without_an_id_is_dropped_as_format_violation(
    data: str | bytes, version: str, overlay: bool
) -> None:
    f = failure(data, overlay, version)
    assert f.error_code == FORMAT[version]
    assert f.message_id is None
    assert f.reply is None
    assert f.description


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("overlay", MODES)
def test_truncated_call_gets_a_callerror_with_the_salvaged_id(version: str, overlay: bool) -> None:
    data = raw(overlay, 2, "abc", "Authorize", {"idToken": {"idToken": "x", "type": "ISO14443"}})
    f = failure(data[:-3], overlay, version)
    assert_reply_to_call(f, FORMAT[version], "abc", overlay)
    assert f.description.startswith("not valid JSON")


@pytest.mark.parametrize("overlay", MODES)
def test_truncated_callresult_is_answered_only_in_21(overlay: bool) -> None:
    data = raw(overlay, 3, "abc", {"status": "Accepted"})[:-2]
    for version in ("1.6", "2.0.1"):
        f = failure(data, overlay, version)
        assert (f.message_id, f.reply) == ("abc", None)
    f = failure(data, overlay, "2.1")
    assert isinstance(f.reply, CallResultError)
    assert f.reply.message_id == "abc"
    assert f.reply.dest == ("cs1" if overlay else None)


@pytest.mark.parametrize("version", VERSIONS)
def test_empty_array_is_dropped(version: str) -> None:
    f = failure(b"[]", False, version)
    assert (f.error_code, f.reply) == (FRAMEWORK[version], None)


# --------------------------------------------------------------------- frame structure


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("overlay", MODES)
@pytest.mark.parametrize(
    ("rest", "fragment"),
    [
        (("m", "Heartbeat"), "needs"),  # too short
        (("m", "Heartbeat", {}, {}), "needs"),  # too long
        (("m", 17, {}), "action"),
        (("m", "", {}), "action"),
        (("", "Heartbeat", {}), "messageId must not be empty"),
        (("x" * 37, "Heartbeat", {}), "longer than 36"),
    ],
)
def test_malformed_call_structure(
    rest: tuple[Any, ...], fragment: str, version: str, overlay: bool
) -> None:
    f = failure(raw(overlay, 2, *rest), overlay, version)
    assert fragment in f.description
    assert_reply_to_call(f, FRAMEWORK[version], rest[0], overlay)


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("overlay", MODES)
@pytest.mark.parametrize("payload", [[], "x", 1, None, True])
def test_payload_not_an_object_is_format_violation(
    payload: Any, version: str, overlay: bool
) -> None:
    f = failure(raw(overlay, 2, "m", "Heartbeat", payload), overlay, version)
    assert_reply_to_call(f, FORMAT[version], "m", overlay)
    assert "payload must be a JSON object" in f.description


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("overlay", MODES)
@pytest.mark.parametrize("bad_id", [5, None, ["m"], {"m": 1}])
def test_message_id_that_is_not_a_string_cannot_be_answered(
    bad_id: Any, version: str, overlay: bool
) -> None:
    f = failure(raw(overlay, 2, bad_id, "Heartbeat", {}), overlay, version)
    assert f.error_code == FRAMEWORK[version]
    assert "messageId must be a string" in f.description
    assert (f.message_id, f.reply) == (None, None)


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("overlay", MODES)
@pytest.mark.parametrize("message_type", [0, 1, 7, 99, -2])
def test_unknown_message_type(message_type: int, version: str, overlay: bool) -> None:
    f = failure(raw(overlay, message_type, "m", "Heartbeat", {}), overlay, version)
    assert f.description == f"message type {message_type} not supported in OCPP {version}"
    assert_reply_to_call(f, TYPE_UNSUPPORTED[version], "m", overlay)


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
@pytest.mark.parametrize("overlay", MODES)
def test_send_and_callresulterror_do_not_exist_before_21(version: str, overlay: bool) -> None:
    for data in (raw(overlay, 6, "m", "A", {}), raw(overlay, 5, "m", "X", "d", {})):
        f = failure(data, overlay, version)
        assert_reply_to_call(f, TYPE_UNSUPPORTED[version], "m", overlay)


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("message_type", ["2", 2.0, True, None, [2]])
def test_message_type_must_be_an_integer(message_type: Any, version: str) -> None:
    f = failure(raw(False, message_type, "m", "Heartbeat", {}), False, version)
    assert "message type id must be an integer" in f.description
    assert_reply_to_call(f, FRAMEWORK[version], "m", False)


# --------------------------------------------------------------------- responses are never answered


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("overlay", MODES)
@pytest.mark.parametrize(
    "rest",
    [
        ("m", []),
        ("m", {"a": 1}, 3),
        ("x" * 40, {}),
    ],
)
def test_malformed_callresult_gets_callresulterror_only_in_21(
    rest: tuple[Any, ...], version: str, overlay: bool
) -> None:
    f = failure(raw(overlay, 3, *rest), overlay, version)
    assert f.message_id == rest[0]
    if version == "2.1":
        assert isinstance(f.reply, CallResultError)
        assert f.reply.message_id == rest[0]
        assert f.reply.error_code == f.error_code
    else:
        assert f.reply is None


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("overlay", MODES)
@pytest.mark.parametrize(
    ("rest", "fragment"),
    [
        (("m", 5, "d", {}), "errorCode"),
        (("m", "", "d", {}), "errorCode"),
        (("m", "GenericError", None, {}), "errorDescription"),
        (("m", "GenericError", "d", []), "errorDetails"),
        (("m", "GenericError", "d"), "needs"),
    ],
)
def test_malformed_errors_are_never_answered(
    rest: tuple[Any, ...], fragment: str, version: str, overlay: bool
) -> None:
    types = [4, 5] if version == "2.1" else [4]
    for message_type in types:
        f = failure(raw(overlay, message_type, *rest), overlay, version)
        assert fragment in f.description
        assert (f.message_id, f.reply) == ("m", None)


@pytest.mark.parametrize("overlay", MODES)
def test_malformed_send_is_never_answered(overlay: bool) -> None:
    f = failure(raw(overlay, 6, "m", "NotifyPeriodicEventStream", []), overlay, "2.1")
    assert f.error_code == "FormatViolation"
    assert (f.message_id, f.reply) == ("m", None)


# --------------------------------------------------------------------- limits


def nested(depth: int) -> dict[str, Any]:
    value: dict[str, Any] = {}
    for _ in range(depth - 1):
        value = {"a": value}
    return value


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("overlay", MODES)
def test_payload_depth_limit(version: str, overlay: bool) -> None:
    limit = DEFAULT_LIMITS.max_depth
    ok = raw(overlay, 2, "m", "DataTransfer", nested(limit))
    assert isinstance(decode(ok, overlay=overlay, version=version), Call)
    f = failure(raw(overlay, 2, "m", "DataTransfer", nested(limit + 1)), overlay, version)
    assert f.description == f"payload nests deeper than {limit} levels"
    assert_reply_to_call(f, FORMAT[version], "m", overlay)


def test_depth_counts_arrays_and_objects_alike() -> None:
    payload = {"a": [[{"b": [1]}]]}  # object, array, array, object, array = 5 levels
    data = raw(False, 2, "m", "A", payload)
    assert isinstance(decode(data, limits=Limits(max_depth=5)), Call)
    assert isinstance(decode(data, limits=Limits(max_depth=4)), DecodeFailure)


@pytest.mark.parametrize("as_bytes", [False, True])
def test_brackets_inside_strings_do_not_make_a_frame_deep(as_bytes: bool) -> None:
    # more '[' and '{' than the limit, all inside strings: the depth walk runs and passes
    data = raw(False, 2, "m", "DataTransfer", {"data": "[{" * 40, "vendorId": "x"})
    frame = decode(data if as_bytes else data.decode(), limits=Limits(max_depth=3))
    assert isinstance(frame, Call)
    assert frame.payload["data"] == "[{" * 40


def test_decode_value_checks_depth_without_raw_text() -> None:
    value = orjson.loads(raw(False, 2, "m", "DataTransfer", nested(DEFAULT_LIMITS.max_depth + 1)))
    f = decode_value(value)
    assert isinstance(f, DecodeFailure)
    assert f.description == f"payload nests deeper than {DEFAULT_LIMITS.max_depth} levels"
    ok = orjson.loads(raw(False, 2, "m", "DataTransfer", nested(DEFAULT_LIMITS.max_depth)))
    assert isinstance(decode_value(ok), Call)


@pytest.mark.parametrize("overlay", MODES)
@pytest.mark.parametrize("as_bytes", [False, True])
def test_100k_deep_nesting_is_a_failure_not_an_exception(overlay: bool, as_bytes: bool) -> None:
    text = "[" * 100_000 + "]" * 100_000
    f = failure(text.encode() if as_bytes else text, overlay, "2.0.1")
    assert f.error_code == "FormatViolation"
    assert f.reply is None
    deep_call = '[2, "m", "A", {"a": ' + "[" * 100_000 + "]" * 100_000 + "}]"
    g = failure(deep_call, False, "2.0.1")
    assert g.description == "JSON nests deeper than 32 levels"
    assert_reply_to_call(g, "FormatViolation", "m", False)


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("overlay", MODES)
def test_frame_size_limit_is_checked_before_parsing(version: str, overlay: bool) -> None:
    limits = Limits(max_frame_bytes=100)
    data = raw(overlay, 2, "m", "DataTransfer", {"d": "x" * 200})
    f = failure(data, overlay, version, limits=limits)
    assert f.description == f"frame of {len(data)} bytes exceeds the limit of 100 bytes"
    assert_reply_to_call(f, FORMAT[version], "m", overlay)
    fits = raw(overlay, 2, "m", "DataTransfer", {})
    assert isinstance(decode(fits, overlay=overlay, version=version, limits=limits), Call)


def test_size_limit_counts_utf8_bytes_of_text() -> None:
    text = '[2,"m","A",{"d":"' + "ä" * 40 + '"}]'  # 60 characters, 100 bytes
    assert (len(text), len(text.encode())) == (60, 100)
    assert isinstance(decode(text, limits=Limits(max_frame_bytes=100)), Call)
    f = failure(text, False, "2.0.1", limits=Limits(max_frame_bytes=99))
    assert "100 bytes" in f.description


def test_oversized_garbage_is_dropped() -> None:
    f = failure(b"x" * 2_000_000, False, "2.0.1")
    assert (f.error_code, f.message_id, f.reply) == ("FormatViolation", None, None)


def test_not_text_input_is_a_failure() -> None:
    f = decode(12345)  # type: ignore[arg-type]
    assert isinstance(f, DecodeFailure)
    assert f.reply is None


# --------------------------------------------------------------------- overlay routing fields


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize(
    ("dest", "path", "fragment", "answered"),
    [
        (5, ["cs1"], "DEST", True),
        ("", ["cs1"], "DEST", True),
        ("CSMS", 7, "PATH must be", False),
        ("CSMS", {"a": 1}, "PATH must be", False),
        ("CSMS", ["cs1", 3], "PATH elements", True),
        ("CSMS", ["cs1", ""], "PATH elements", True),
        ("CSMS", "", "PATH elements", False),
        ("CSMS", [""], "PATH elements", False),
        ("CSMS", [f"n{i}" for i in range(65)], "PATH longer than 64", True),
    ],
)
def test_malformed_overlay_route_fields(
    dest: Any, path: Any, fragment: str, answered: bool, version: str
) -> None:
    data = orjson.dumps([2, dest, path, "m", "Heartbeat", {}])
    f = failure(data, True, version)
    assert fragment in f.description
    assert f.error_code == FRAMEWORK[version]
    assert f.message_id == "m"
    if answered:
        assert isinstance(f.reply, CallError)
        first = path[0] if isinstance(path, list) else path
        assert (f.reply.dest, f.reply.path) == (first, ())
    else:  # no originator to route the reply to
        assert f.reply is None


def test_standard_frame_on_an_overlay_link_is_rejected_by_arity() -> None:
    f = failure(b'[2, "m", "Heartbeat", {}]', True, "2.0.1")
    assert "needs 6 elements in overlay mode" in f.description


def test_long_descriptions_are_cut_in_the_reply() -> None:
    f = failure(raw(False, 2, "m", "A" * 10, {"x": 1}, "z" * 400), False, "2.0.1")
    assert f.reply is not None
    assert len(f.reply.error_description) <= MAX_DESCRIPTION_LENGTH


# --------------------------------------------------------------------- replies for later failures


def test_error_reply_for_a_call_in_each_mode() -> None:
    call = Call("m", "BootNotification", {}, "CSMS", ("cs1", "n1"))
    reply = error_reply(call, "FormatViolation", "bad", version="1.6")
    assert reply == CallError("m", "FormationViolation", "bad", {}, "cs1", ())
    plain = error_reply(Call("m", "A", {}), "OccurrenceConstraintViolation", "x", version="2.1")
    assert plain == CallError("m", "OccurrenceConstraintViolation", "x", {})


def test_error_reply_is_none_where_no_answer_is_allowed() -> None:
    result = CallResult("m", {})
    assert error_reply(result, "FormatViolation", "x", version="2.0.1") is None
    assert isinstance(error_reply(result, "FormatViolation", "x", version="2.1"), CallResultError)
    assert error_reply(CallError("m", "X", "", {}), "GenericError", "", version="2.1") is None
    assert error_reply(Send("m", "A", {}), "GenericError", "", version="2.1") is None
    assert error_reply(Call("m", "A", {}, "CSMS", ()), "GenericError", "", version="2.1") is None


def test_error_for_maps_an_exception() -> None:
    exc = NotSupported("no handler", {"action": "Reset"})
    reply = error_for(exc, Call("m", "Reset", {}), version="2.0.1")
    assert reply == CallError("m", "NotSupported", "no handler", {"action": "Reset"})
