"""Interop: our verifier and pyocmf (written by others) agree on the S.A.F.E. sample files."""

from __future__ import annotations

import warnings
from pathlib import Path

import pyocmf
import pytest

from ocppnet.metering import (
    OcmfError,
    parse_public_key,
    parse_record,
    read_transparency,
    verify_record,
)

SAMPLES = Path(__file__).parent / "samples"
EXPECTED = {
    "test_ocmf_keba_kcp30.xml": [True],
    "test_ocmf_keba_kcp30_fail.xml": [False],
    "test_ocmf_ebee_01.xml": [True, True],
    "test_ocmf_ebee_02.xml": [False, True],
    "ocmf_sec.xml": [True, True],
    "brainpoolP256r1.xml": [True, True],
    "second_key_fail_ocmf.xml": [True, False],
    "test_ocmf_transaction_two_values.xml": [True, True],
}


def _theirs(signed_data: str, key: str | None) -> bool:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return bool(pyocmf.OCMF.from_string(signed_data).verify_signature(key))
        except pyocmf.SignatureVerificationError:
            return False


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_we_agree_with_pyocmf_on_safe_samples(name: str) -> None:
    entries = read_transparency((SAMPLES / name).read_bytes(), name)
    ours: list[bool] = []
    theirs: list[bool] = []
    for entry in entries:
        record = parse_record(entry.signed_data)
        key = parse_public_key(entry.public_key) if entry.public_key else None
        verdict = verify_record(record, key)
        assert verdict.reason
        ours.append(verdict.valid)
        theirs.append(_theirs(entry.signed_data, entry.public_key))
    assert ours == theirs == EXPECTED[name]


def test_tampered_sample_reason_names_the_payload() -> None:
    entry = read_transparency((SAMPLES / "test_ocmf_keba_kcp30_fail.xml").read_bytes())[0]
    verdict = verify_record(parse_record(entry.signed_data),
                            parse_public_key(entry.public_key or ""))
    assert not verdict.valid
    assert "does not match the payload" in verdict.reason


def test_samples_keep_the_signed_text_with_its_spaces() -> None:
    entry = read_transparency((SAMPLES / "ocmf_sec.xml").read_bytes())[0]
    record = parse_record(entry.signed_data)
    assert record.payload_text.startswith('{"FV" : "1.0",')
    assert record.payload.readings[0].value is not None
    assert str(record.payload.readings[0].value) == "3.988"
    assert any("a string, not a JSON number" in issue for issue in record.issues)


def test_a_curve_mismatch_is_a_reason_not_an_error() -> None:
    entry = read_transparency((SAMPLES / "second_key_fail_ocmf.xml").read_bytes())[1]
    verdict = verify_record(parse_record(entry.signed_data),
                            parse_public_key(entry.public_key or ""))
    assert verdict.reason == ("the public key is on secp256r1, the record says "
                              "ECDSA-secp256k1-SHA256")


def test_unreadable_key_is_one_line() -> None:
    with pytest.raises(OcmfError, match=r"^publicKey: not a DER public key"):
        parse_public_key("not a key")
