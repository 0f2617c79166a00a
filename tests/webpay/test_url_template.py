"""Expanding the C25 URL template at the station and matching it at the backend."""

from __future__ import annotations

import pytest

from ocppnet.webpay.url_template import UrlTemplate, UrlTemplateError

TEMPLATE = "https://qr.example.com/{chargingStationId}/{EVSE}/{totp}?v={version}&k={channelKeyId}"


def test_expand_and_match_round_trip() -> None:
    template = UrlTemplate.parse(TEMPLATE)
    assert template.variables == ("chargingStationId", "evse", "totp", "version", "channelKeyId")
    url = template.expand({"chargingStationId": "CS 1/x", "evse": 2, "totp": "CN63y502maVh",
                           "version": "1", "channelKeyId": "ab-_Z"})
    assert url == "https://qr.example.com/CS%201%2Fx/2/CN63y502maVh?v=1&k=ab-_Z"
    assert template.origin == "https://qr.example.com"
    assert template.match(url.removeprefix(template.origin)) == {
        "chargingStationId": "CS 1/x", "evse": "2", "totp": "CN63y502maVh", "version": "1",
        "channelKeyId": "ab-_Z"}


def test_whitepaper_examples_parse() -> None:
    assert UrlTemplate.parse("https://qr.mycsms.com/{totp}/{version}/{chargingStationId}/"
                             ).variables == ("totp", "version", "chargingStationId")
    assert UrlTemplate.parse("https://qr.mycsms.com/{chargingStationId}/{evse}/{totp}?v={version}"
                             ).match("/CS-1/1/abc?v=1") == {
        "chargingStationId": "CS-1", "evse": "1", "totp": "abc", "version": "1"}


def test_a_url_of_another_shape_does_not_match() -> None:
    template = UrlTemplate.parse("https://qr.example.com/pay/{chargingStationId}/{totp}")
    assert template.match("/pay/CS-1") is None
    assert template.match("/pay/CS-1/abc/extra") is None
    assert template.match("/other/CS-1/abc") is None


@pytest.mark.parametrize(("text", "message"), [
    ("https://x.example/{foo}/{totp}", r"unknown variable \{foo\}"),
    ("https://x.example/{evse}", r"the variable \{totp\} is missing"),
    ("https://x.example/{totp}/{TOTP}", r"variable \{TOTP\} appears twice"),
    ("https://x.example/{totp}/{", "unbalanced curly brace"),
    ("x.example/{totp}", "is not an absolute URL"),
    ("https://{evse}.example/{totp}", "not in the scheme or host"),
])
def test_bad_templates_are_refused(text: str, message: str) -> None:
    with pytest.raises(UrlTemplateError, match=message):
        UrlTemplate.parse(text)


def test_expand_names_a_missing_value() -> None:
    with pytest.raises(UrlTemplateError, match=r"no value for \{evse\}"):
        UrlTemplate.parse("https://x.example/{evse}/{totp}").expand({"totp": "a"})
