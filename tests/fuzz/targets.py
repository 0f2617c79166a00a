"""Fuzz targets: each takes arbitrary bytes and must never raise anything but the errors its
parser documents (a value that says "refused"). Used by the coverage-guided fuzzer
(``scripts/fuzz.sh TARGET SECONDS``, atheris) and, over the committed corpus, by
tests/fuzz/test_corpus.py, so whatever a fuzzer once found stays a regression test.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from datetime import UTC, datetime

import orjson

from ocppnet.config import parse_section
from ocppnet.errors import ConfigError
from ocppnet.metering.errors import OcmfError
from ocppnet.metering.record import parse_record, verify_record
from ocppnet.node.config import NodeConfig
from ocppnet.rpc.binary import decode_binary
from ocppnet.rpc.codec import DecodeFailure, decode, encode
from ocppnet.security.canonical import CanonicalizationError, canonicalize
from ocppnet.security.settings import SecuritySection
from ocppnet.security.signatures import verify
from ocppnet.security.trust import TrustStore

NOW = datetime(2026, 12, 1, tzinfo=UTC)


def codec(data: bytes) -> None:
    """Text frames, standard and overlay, every version: a frame or a DecodeFailure; a frame
    encodes and decodes back to itself."""
    for overlay in (False, True):
        for version in ("1.6", "2.0.1", "2.1"):
            result = decode(data, overlay=overlay, version=version)
            if isinstance(result, DecodeFailure):
                continue
            again = decode(encode(result), overlay=overlay, version=version)
            assert again == result, (result, again)


def binary(data: bytes) -> None:
    """Binary frames (length, header JSON, sha256, payload): a frame or a DecodeFailure."""
    for overlay in (False, True):
        decode_binary(data, overlay=overlay, version="2.1")


def canonical(data: bytes) -> None:
    """RFC 8785 of any JSON value: bytes that parse back to an equal value, or a refusal."""
    try:
        value = orjson.loads(data)
    except orjson.JSONDecodeError:
        return
    try:
        out = canonicalize(value)
    except CanonicalizationError:
        return
    again = orjson.loads(out)  # the canonical form is JSON, and canonical again where the
    try:  # parsed value is representable (an integral double past 2**53 parses as an int)
        assert canonicalize(again) == out
    except CanonicalizationError:
        assert any(isinstance(v, int) and abs(v) > 2**53 for v in _numbers(again))


def _numbers(value: object) -> list[object]:
    if isinstance(value, dict):
        return [n for v in value.values() for n in _numbers(v)]
    if isinstance(value, list):
        return [n for v in value for n in _numbers(v)]
    return [value]


def signatures(data: bytes) -> None:
    """Any payload with any ``signatures`` member: one verdict per entry, never an exception."""
    try:
        value = orjson.loads(data)
    except orjson.JSONDecodeError:
        return
    if not isinstance(value, dict):
        value = {"signatures": value}
    verdicts = verify(value, action="SetChargingProfile", kind="request", version="2.0.1",
                      trusted=TrustStore(), now=NOW)
    assert all(not v.valid for v in verdicts)  # nothing is trusted: nothing can be valid


def ocmf(data: bytes) -> None:
    """OCMF records: parsed (and verified without a key) or refused with OcmfError."""
    text = data.decode("utf-8", "replace")
    try:
        record = parse_record(text)
    except OcmfError:
        return
    verify_record(record, None)


def config(data: bytes) -> None:
    """TOML into the [node] and [security] models: a model or one ConfigError line."""
    try:
        document = tomllib.loads(data.decode("utf-8", "replace"))
    except tomllib.TOMLDecodeError:
        return
    for key, model in (("node", NodeConfig), ("security", SecuritySection)):
        try:
            parse_section(model, document.get(key, document), source="fuzz.toml", where=key)
        except ConfigError as exc:
            assert "\n" not in exc.description


TARGETS: dict[str, Callable[[bytes], None]] = {
    "codec": codec, "binary": binary, "canonical": canonical, "signatures": signatures,
    "ocmf": ocmf, "config": config,
}
