"""Property tests: decode never raises, and decode(encode(frame)) == frame."""

from typing import Any

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from ocppnet.rpc.codec import DecodeFailure, decode, encode
from ocppnet.rpc.frames import Frame

from .strategies import frames, json_values

VERSIONS = st.sampled_from(["1.6", "2.0.1", "2.1"])


def check_outcome(result: object) -> None:
    if isinstance(result, DecodeFailure):
        assert result.error_code and result.description
        if result.reply is not None:
            assert result.reply.message_id == result.message_id
            orjson.loads(encode(result.reply))  # every reply is encodable


@settings(max_examples=300)
@given(data=st.binary(max_size=200) | st.text(max_size=200), overlay=st.booleans(), v=VERSIONS)
def test_decode_never_raises_on_arbitrary_input(data: str | bytes, overlay: bool, v: str) -> None:
    check_outcome(decode(data, overlay=overlay, version=v))


@settings(max_examples=300)
@given(value=json_values, overlay=st.booleans(), v=VERSIONS)
def test_decode_never_raises_on_arbitrary_json(value: Any, overlay: bool, v: str) -> None:
    check_outcome(decode(orjson.dumps(value), overlay=overlay, version=v))


frame_like = st.tuples(
    st.integers(min_value=-1, max_value=8) | json_values, st.lists(json_values, max_size=7)
)


@settings(max_examples=300)
@given(parts=frame_like, overlay=st.booleans(), v=VERSIONS)
def test_decode_never_raises_on_frame_shaped_json(
    parts: tuple[Any, list[Any]], overlay: bool, v: str
) -> None:
    head, rest = parts
    check_outcome(decode(orjson.dumps([head, *rest]), overlay=overlay, version=v))


@given(st.data())
def test_round_trip_standard_mode(data: st.DataObject) -> None:
    version = data.draw(VERSIONS)
    frame: Frame = data.draw(frames(overlay=False, version=version))
    assert decode(encode(frame), overlay=False, version=version) == frame


@given(st.data())
def test_round_trip_overlay_mode(data: st.DataObject) -> None:
    version = data.draw(VERSIONS)
    frame: Frame = data.draw(frames(overlay=True, version=version))
    encoded = encode(frame)
    assert decode(encoded, overlay=True, version=version) == frame
    assert decode(encoded.decode(), overlay=True, version=version) == frame
