"""The grid operator's signer: profiles the station accepts, signatures that verify."""

from __future__ import annotations

from datetime import timedelta

from ocppnet.security.keys import KeyPair
from ocppnet.security.signatures import verify
from ocppnet.security.signer import CommandSigner, external_limit_profile
from ocppnet.security.trust import TrustStore
from ocppnet.validation import validate

from .conftest import NOW


def test_external_limit_profile_is_valid_ocpp() -> None:
    plain = external_limit_profile(4200)
    assert plain["chargingProfile"]["chargingProfilePurpose"] == \
        "ChargingStationExternalConstraints"
    assert "startSchedule" not in plain["chargingProfile"]["chargingSchedule"][0]
    timed = external_limit_profile(6000.5, evse_id=2, profile_id=9, stack_level=3,
                                   start=NOW + timedelta(minutes=5), duration_s=900)
    schedule = timed["chargingProfile"]["chargingSchedule"][0]
    assert schedule["startSchedule"] == "2025-03-01T12:05:00.000Z"
    assert schedule["duration"] == 900
    for version in ("2.0.1", "2.1"):
        assert validate(version, "SetChargingProfile", "request", plain) is None
        assert validate(version, "SetChargingProfile", "request", timed) is None


def test_signed_by_the_signer_and_bound_to_the_version() -> None:
    key = KeyPair.generate("secp384r1")
    signer = CommandSigner(key, description="feed-in limit")
    signed = signer.external_limit(5000, version="2.0.1", now=NOW)
    [meta] = signed["signatures"]
    assert (meta["keyId"], meta["name"], meta["description"]) == \
        (key.key_id, "grid-operator", "feed-in limit")
    trust = TrustStore()
    trust.add(key.public_key)
    for version, valid in (("2.0.1", True), ("2.1", False)):
        [verdict] = verify(signed, action="SetChargingProfile", kind="request",
                           version=version, trusted=trust, now=NOW)
        assert verdict.valid is valid
    assert repr(signer) == f"CommandSigner(key_id={key.key_id!r}, name='grid-operator')"
