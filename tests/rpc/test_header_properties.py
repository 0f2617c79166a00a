"""Property tests: header-only reading + re-assembly agree with the full codec.

- for every valid frame: read_frame + retarget + encode decodes to what decode + retarget +
  encode gives (semantically equal frames, whichever path the reader took);
- for every input at all: read_frame never raises, and read_frame followed by
  payload_failure (what a node does when it must look at the payload) answers exactly what
  decode answers.
"""

from __future__ import annotations

from typing import Any

import orjson
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from ocppnet.routing import retarget
from ocppnet.rpc.codec import DecodeFailure, decode, encode
from ocppnet.rpc.frames import Call, CallResult, Frame, Send
from ocppnet.rpc.header import RawFrame, payload_failure, read_frame

from .strategies import frames, json_objects, json_values, node_ids

VERSIONS = st.sampled_from(["1.6", "2.0.1", "2.1"])
# ids as stations and nodes really write them, so that most frames take the raw path
plain_text = st.text(
    alphabet=st.characters(codec="utf-8", exclude_characters='"\\',
                           exclude_categories=("Cc", "Cs")),
    min_size=1, max_size=20,
)
paths = st.lists(node_ids | plain_text, max_size=4).map(tuple)


def compact_frames(version: str) -> st.SearchStrategy[Frame]:
    overlay = st.one_of(st.none(), plain_text)
    kinds: list[st.SearchStrategy[Frame]] = [
        st.builds(Call, plain_text, plain_text, json_objects, overlay, paths),
        st.builds(CallResult, plain_text, json_objects, overlay, paths),
    ]
    if version == "2.1":
        kinds.append(st.builds(Send, plain_text, plain_text, json_objects, overlay, paths))
    return st.one_of(kinds)


def same_answer(data: str | bytes, overlay: bool, version: str) -> None:
    """read_frame (+ payload_failure when raw) == decode, for any input."""
    expected = decode(data, overlay=overlay, version=version)
    got = read_frame(data, overlay=overlay, version=version)
    if isinstance(got, RawFrame):
        failure = payload_failure(got)
        if failure is not None:
            assert failure == expected
            return
    assert got == expected


def reassembled_agrees(frame: Frame, dest: str | None, path: tuple[str, ...], v: str) -> None:
    overlay = frame.dest is not None
    data = encode(frame)
    full = decode(data, overlay=overlay, version=v)
    assume(not isinstance(full, DecodeFailure))  # e.g. a message type the version lacks
    assert not isinstance(full, DecodeFailure)
    read = read_frame(data, overlay=overlay, version=v)
    assert read == full
    overlay_out = dest is not None
    expected = retarget(full, dest, path)
    wire = encode(retarget(read, dest, path))
    again = decode(wire, overlay=overlay_out, version=v)
    assert again == expected, (data, wire)
    if isinstance(read, RawFrame):  # the payload bytes travel as they came
        assert read.payload_text in wire


@settings(max_examples=300)
@given(data=st.data(), v=VERSIONS, dest=st.none() | plain_text, path=paths)
def test_reassembly_of_compact_frames_equals_decode_and_encode(
    data: st.DataObject, v: str, dest: str | None, path: tuple[str, ...]
) -> None:
    frame = data.draw(compact_frames(v))
    reassembled_agrees(frame, dest, path if dest is not None else (), v)


@settings(max_examples=300)
@given(data=st.data(), overlay=st.booleans(), v=VERSIONS, dest=st.none() | node_ids,
       path=st.lists(node_ids, max_size=4).map(tuple))
def test_reassembly_of_any_valid_frame_equals_decode_and_encode(
    data: st.DataObject, overlay: bool, v: str, dest: str | None, path: tuple[str, ...]
) -> None:
    frame = data.draw(frames(overlay=overlay, version=v))
    reassembled_agrees(frame, dest, path if dest is not None else (), v)


@settings(max_examples=300)
@given(data=st.binary(max_size=120) | st.text(max_size=120), overlay=st.booleans(), v=VERSIONS)
def test_arbitrary_input_gets_the_codecs_answer(
    data: str | bytes, overlay: bool, v: str
) -> None:
    same_answer(data, overlay, v)


@settings(max_examples=300)
@given(value=st.lists(json_values, max_size=7), overlay=st.booleans(), v=VERSIONS)
def test_arbitrary_json_arrays_get_the_codecs_answer(
    value: list[Any], overlay: bool, v: str
) -> None:
    same_answer(orjson.dumps(value), overlay, v)


@settings(max_examples=400)
@given(data=st.data(), v=VERSIONS, overlay=st.booleans())
def test_damaged_compact_frames_get_the_codecs_answer(
    data: st.DataObject, v: str, overlay: bool
) -> None:
    """A valid compact frame with one cut, inserted or replaced character: the reader (then
    payload_failure) answers as the codec does, the damage in the header or the payload."""
    frame = data.draw(compact_frames(v))
    if overlay and frame.dest is None:
        frame = retarget(frame, "CSMS", ("CS-1",))
    elif not overlay:
        frame = retarget(frame, None, ())
    text = encode(frame).decode()
    i = data.draw(st.integers(0, len(text)))
    how = data.draw(st.sampled_from(["cut", "insert", "replace", "truncate"]))
    char = data.draw(st.sampled_from(list('[]{},":\\ 0a\x00\ud800')))
    if how == "cut":
        damaged = text[:i] + text[i + 1:]
    elif how == "insert":
        damaged = text[:i] + char + text[i:]
    elif how == "replace":
        damaged = text[:i] + char + text[i + 1:]
    else:
        damaged = text[:i]
    same_answer(damaged, overlay, v)
