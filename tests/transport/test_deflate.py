"""permessage-deflate (RFC 7692) negotiation and codec, without sockets."""

from __future__ import annotations

import zlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ocppnet.transport.deflate import (
    CLIENT_OFFER,
    Agreement,
    Deflate,
    DeflateError,
    client_accept,
    parse_extensions,
    server_accept,
)

# RFC 7692 section 7.2.3.1 and 7.2.3.2: "Hello" compressed, then "Hello" again with the
# sliding window shared from the first message (context takeover)
HELLO = bytes.fromhex("f248cdc9c90700")
HELLO_AGAIN = bytes.fromhex("f200110000")


def test_offers_are_parsed_with_their_parameters() -> None:
    assert parse_extensions(['permessage-deflate; client_max_window_bits; '
                             'server_max_window_bits="10", x-webkit-deflate-frame']) == [
        ("permessage-deflate", [("client_max_window_bits", None),
                                ("server_max_window_bits", "10")]),
        ("x-webkit-deflate-frame", []),
    ]


@pytest.mark.parametrize(("offer", "answer"), [
    (CLIENT_OFFER, "permessage-deflate; server_max_window_bits=12; client_max_window_bits=12"),
    ("permessage-deflate", "permessage-deflate; server_max_window_bits=12"),
    ("permessage-deflate; client_max_window_bits=10",
     "permessage-deflate; server_max_window_bits=12; client_max_window_bits=10"),
    ("permessage-deflate; client_max_window_bits=15",
     "permessage-deflate; server_max_window_bits=12; client_max_window_bits=12"),
    ("permessage-deflate; server_max_window_bits=10",
     "permessage-deflate; server_max_window_bits=10"),
    ("permessage-deflate; server_no_context_takeover; client_no_context_takeover",
     "permessage-deflate; server_no_context_takeover; client_no_context_takeover; "
     "server_max_window_bits=12"),
    # the first offer is invalid (8 bits: zlib cannot compress with it), the second is taken
    ("permessage-deflate; server_max_window_bits=8, permessage-deflate",
     "permessage-deflate; server_max_window_bits=12"),
])
def test_the_server_answers_the_first_acceptable_offer(offer: str, answer: str) -> None:
    agreement = server_accept([offer])
    assert agreement is not None
    assert agreement.header() == answer


@pytest.mark.parametrize("offer", [
    "x-webkit-deflate-frame",
    "permessage-deflate; unknown_param",
    "permessage-deflate; server_no_context_takeover; server_no_context_takeover",
    "permessage-deflate; server_no_context_takeover=1",
    "permessage-deflate; client_max_window_bits=16",
    "permessage-deflate; server_max_window_bits",
    "permessage-deflate; client_max_window_bits=010",
])
def test_invalid_offers_are_declined(offer: str) -> None:
    assert server_accept([offer]) is None


def test_the_client_reads_the_servers_answer() -> None:
    assert client_accept([]) is None
    agreement = client_accept(["permessage-deflate; server_max_window_bits=12; "
                               "client_no_context_takeover"])
    assert agreement == Agreement(client_no_context_takeover=True, server_max_window_bits=12)
    with pytest.raises(ValueError, match="Sec-WebSocket-Extensions"):
        client_accept(["permessage-deflate; client_max_window_bits"])  # needs a value
    with pytest.raises(ValueError, match="unexpected extensions"):
        client_accept(["permessage-deflate, permessage-deflate"])


def test_the_rfc_examples_inflate_with_context_takeover() -> None:
    inbound = Deflate(Agreement(), client=True)
    assert inbound.decode(HELLO, None) == b"Hello"
    assert inbound.decode(HELLO_AGAIN, None) == b"Hello"


def test_without_context_takeover_each_message_stands_alone() -> None:
    agreement = Agreement(server_no_context_takeover=True, client_no_context_takeover=True)
    server, client = Deflate(agreement, client=False), Deflate(agreement, client=True)
    first, second = server.encode(b"Hello"), server.encode(b"Hello")
    assert first == second == HELLO  # zlib's own output for the RFC example
    assert client.decode(first, None) == client.decode(second, None) == b"Hello"
    with pytest.raises(DeflateError):  # a context-takeover message needs the first one
        client.decode(HELLO_AGAIN, None)


def test_too_big_and_corrupt_messages_are_errors() -> None:
    client = Deflate(Agreement(), client=True)
    big = Deflate(Agreement(), client=False).encode(b"x" * 10_000)
    with pytest.raises(DeflateError) as too_big:
        client.decode(big, 9_999)
    assert too_big.value.too_big
    with pytest.raises(DeflateError) as corrupt:
        Deflate(Agreement(), client=True).decode(b"\xff\xff\xff", None)
    assert not corrupt.value.too_big


@given(st.lists(st.binary(max_size=3000), max_size=8), st.booleans(), st.integers(9, 15))
def test_every_message_sequence_round_trips(
    messages: list[bytes], reset: bool, bits: int
) -> None:
    agreement = Agreement(server_no_context_takeover=reset, client_no_context_takeover=reset,
                          server_max_window_bits=bits, client_max_window_bits=bits)
    server, client = Deflate(agreement, client=False), Deflate(agreement, client=True)
    for message in messages:
        assert client.decode(server.encode(message), None) == message
        assert server.decode(client.encode(message), None) == message


def test_the_output_is_raw_deflate_that_zlib_inflates() -> None:
    payload = Deflate(Agreement(), client=False).encode(b'[2,"1","Heartbeat",{}]' * 20)
    inflater = zlib.decompressobj(-15)
    assert inflater.decompress(payload + b"\x00\x00\xff\xff") == b'[2,"1","Heartbeat",{}]' * 20
