import pytest

from ocppnet.rpc.versions import (
    SUBPROTOCOLS,
    VERSIONS,
    check_version,
    has_message_type,
    subprotocol_for_version,
    version_for_subprotocol,
    wire_error_code,
)


@pytest.mark.parametrize(
    ("subprotocol", "version"), [("ocpp1.6", "1.6"), ("ocpp2.0.1", "2.0.1"), ("ocpp2.1", "2.1")]
)
def test_subprotocol_and_version_map_both_ways(subprotocol: str, version: str) -> None:
    assert version_for_subprotocol(subprotocol) == version
    assert subprotocol_for_version(version) == subprotocol
    assert subprotocol in SUBPROTOCOLS
    assert version in VERSIONS


def test_unknown_names() -> None:
    assert version_for_subprotocol("ocpp1.5") is None
    with pytest.raises(ValueError, match=r"2\.0"):
        subprotocol_for_version("2.0")
    with pytest.raises(ValueError):
        check_version("3")


def test_send_and_callresulterror_exist_only_in_21() -> None:
    for mt in (2, 3, 4):
        assert all(has_message_type(v, mt) for v in VERSIONS)
    for mt in (5, 6):
        assert has_message_type("2.1", mt)
        assert not has_message_type("2.0.1", mt)
        assert not has_message_type("1.6", mt)
    assert not has_message_type("2.1", 7)


def test_error_code_spelling_per_version() -> None:
    assert wire_error_code("1.6", "FormatViolation") == "FormationViolation"
    assert wire_error_code("1.6", "OccurrenceConstraintViolation") == "OccurenceConstraintViolation"
    assert wire_error_code("1.6", "RpcFrameworkError") == "ProtocolError"
    assert wire_error_code("1.6", "MessageTypeNotSupported") == "GenericError"
    assert wire_error_code("2.0.1", "FormationViolation") == "FormatViolation"
    assert wire_error_code("2.1", "OccurenceConstraintViolation") == "OccurrenceConstraintViolation"
    assert wire_error_code("2.1", "RpcFrameworkError") == "RpcFrameworkError"
    assert wire_error_code("2.0.1", "UnknownClient") == "UnknownClient"
