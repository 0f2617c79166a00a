"""Pure handshake decisions: station id from the path, subprotocol choice, mode, identities."""

from __future__ import annotations

from http import HTTPStatus

import pytest

from ocppnet.transport.handshake import (
    Refusal,
    certificate_common_names,
    check_basic_user,
    check_client_certificate,
    select_subprotocol,
    station_id_from_path,
    wants_overlay,
)


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/ocpp/CP001", "CP001"),
        ("/CP001", "CP001"),
        ("/a/b/c/CP-1_x.y", "CP-1_x.y"),
        ("/ocpp/CP%2A1", "CP*1"),
        ("/ocpp/CP001?token=1", "CP001"),
        ("/ocpp/" + "x" * 48, "x" * 48),
    ],
)
def test_station_id_is_the_last_path_segment_decoded(path: str, expected: str) -> None:
    assert station_id_from_path(path) == expected


@pytest.mark.parametrize("path", ["/", "/ocpp/", "", "/ocpp/?x=1"])
def test_missing_station_id_is_404(path: str) -> None:
    refusal = station_id_from_path(path)
    assert isinstance(refusal, Refusal) and refusal.status == HTTPStatus.NOT_FOUND


@pytest.mark.parametrize(
    "path", ["/ocpp/CP%20001", "/ocpp/" + "x" * 49, "/ocpp/CP%2F1", "/ocpp/%C3%A9", "/ocpp/a%ZZ"]
)
def test_invalid_station_id_is_400(path: str) -> None:
    refusal = station_id_from_path(path)
    assert isinstance(refusal, Refusal) and refusal.status == HTTPStatus.BAD_REQUEST


def test_server_preference_order_wins() -> None:
    preference = ("ocpp2.1", "ocpp2.0.1", "ocpp1.6")
    assert select_subprotocol(["ocpp1.6", "ocpp2.0.1"], preference) == "ocpp2.0.1"
    assert select_subprotocol(["ocpp1.6", "ocpp2.0.1"], ("ocpp1.6", "ocpp2.0.1")) == "ocpp1.6"
    assert select_subprotocol(["ocpp9"], preference) is None
    assert select_subprotocol([], preference) is None


def test_overlay_request_header_is_case_insensitive_in_value() -> None:
    assert wants_overlay({"X-OCPP-NetworkingMode": "OverlayNetwork"})
    assert wants_overlay({"X-OCPP-NetworkingMode": " overlaynetwork "})
    assert not wants_overlay({"X-OCPP-NetworkingMode": "Standard"})
    assert not wants_overlay({})


def test_basic_username_must_be_the_station_id() -> None:
    assert check_basic_user("CP1", "CP1") is None
    refusal = check_basic_user("CP2", "CP1")
    assert refusal is not None and refusal.status == HTTPStatus.UNAUTHORIZED


PEERCERT = {
    "subject": ((("organizationName", "ocppnet test"),), (("commonName", "CP1"),)),
    "subjectAltName": (("DNS", "CP9"),),
}


def test_common_names_come_from_the_subject_only() -> None:
    assert certificate_common_names(PEERCERT) == ("CP1",)
    assert certificate_common_names(None) == ()


def test_client_certificate_must_name_the_station() -> None:
    assert check_client_certificate(PEERCERT, "CP1") is None
    other = check_client_certificate(PEERCERT, "CP9")
    assert other is not None and other.status == HTTPStatus.FORBIDDEN
    missing = check_client_certificate({}, "CP1")
    assert missing is not None and missing.status == HTTPStatus.UNAUTHORIZED
