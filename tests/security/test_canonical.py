"""RFC 8785 canonical JSON: equality with the rfc8785 package, number formatting, rejections."""

from __future__ import annotations

import math
from typing import Any

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from ocppnet.security.canonical import CanonicalizationError, canonicalize, format_number

SAFE = 2**53 - 1

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-SAFE, max_value=SAFE)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()
)
ascii_keys = st.text(alphabet=st.characters(max_codepoint=127), max_size=8)
any_keys = st.text(max_size=8)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(any_keys | ascii_keys, inner,
                                                                max_size=5),
    max_leaves=30,
)


@settings(max_examples=600, deadline=None)
@given(json_values)
def test_equals_rfc8785_package(value: Any) -> None:
    assert canonicalize(value) == rfc8785.dumps(value)


@settings(max_examples=300, deadline=None)
@given(st.recursive(st.integers(-SAFE, SAFE) | st.text(alphabet=st.characters(max_codepoint=127))
                    | st.booleans() | st.none(),
                    lambda i: st.lists(i, max_size=4) | st.dictionaries(ascii_keys, i, max_size=4)))
def test_fast_path_equals_rfc8785(value: Any) -> None:
    assert canonicalize(value) == rfc8785.dumps(value)


@settings(max_examples=2000, deadline=None)
@given(st.floats(allow_nan=False, allow_infinity=False)
       | st.builds(lambda m, e: m * 10.0**e, st.floats(0.1, 10), st.integers(-30, 30)))
def test_numbers_equal_rfc8785(f: float) -> None:
    assert format_number(f) == rfc8785.dumps(f).decode()


@pytest.mark.parametrize(
    ("number", "text"),
    [  # from RFC 8785 appendix B
        (0.0, "0"), (-0.0, "0"), (5e-324, "5e-324"), (1.7976931348623157e308,
                                                        "1.7976931348623157e+308"),
        (9007199254740992.0, "9007199254740992"), (295147905179352830000.0,
                                                   "295147905179352830000"),
        (1e21, "1e+21"), (1e-7, "1e-7"), (0.000001, "0.000001"), (4200.0, "4200"),
        (333333333.3333333, "333333333.3333333"), (-1e-7, "-1e-7"),
    ],
)
def test_ecmascript_number_formatting(number: float, text: str) -> None:
    assert format_number(number) == text


def test_utf16_key_order_differs_from_code_point_order() -> None:
    # U+1F600 is a surrogate pair (D83D ...) and sorts before U+FB01 in UTF-16.
    value = {"\ufb01": 1, "\U0001f600": 2, "a": 3}
    assert canonicalize(value) == '{"a":3,"\U0001f600":2,"\ufb01":1}'.encode()


def test_rfc8785_example_structure() -> None:
    value = {"numbers": [333333333.33333329, 1e30, 4.50, 2e-3, 0.000000000000000000000000001],
             "string": "\u20ac$\u000f\nA'B\"\\\\\"/", "literals": [None, True, False]}
    assert canonicalize(value) == (
        b'{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],'
        b'"string":"\xe2\x82\xac$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}'
    )


@pytest.mark.parametrize(
    "bad",
    [math.nan, math.inf, -math.inf, 2**53, -(2**53), {"k": 2**64}, "\ud800", {"\udc00": 1},
     {1: "x"}, {"a": object()}, b"bytes"],
)
def test_rejections(bad: Any) -> None:
    with pytest.raises(CanonicalizationError):
        canonicalize(bad)
