"""Interop: what our simulated meters sign verifies with pyocmf, on every curve we sign with."""

from __future__ import annotations

import warnings
from typing import Any

import pyocmf
import pytest

from ocppnet.metering import (
    SIGNATURE_ALGORITHMS,
    MeterKey,
    TransparencyEntry,
    sign_payload,
    verify_record,
    write_transparency,
)

from .builders import T0, T1, payload, reading

# pyocmf 0.6 matches a brainpool P-256 key only to the spelling the transparency software's
# samples use (ECDSA-brainpoolP256r1-SHA256), not to table 22's (ECDSA-brainpool256r1-SHA256);
# we read both, and sign in the spelling pyocmf knows for this test. pyocmf cannot load
# brainpool P-384 keys at all; test_record.py covers that curve with our own verifier.
_PYOCMF_SPELLING = {"ECDSA-brainpool256r1-SHA256": "ECDSA-brainpoolP256r1-SHA256"}
CURVES = [_PYOCMF_SPELLING.get(name, name)
          for name, curve in SIGNATURE_ALGORITHMS.items()
          if curve is not None and curve != "brainpoolP384r1"]


@pytest.mark.parametrize("algorithm", CURVES)
def test_pyocmf_verifies_our_records(algorithm: str) -> None:
    key = MeterKey.generate(algorithm)
    assert key.algorithm == algorithm
    record = sign_payload(payload(7, reading("12.340", "B", T0), reading("19.870", "E", T1)),
                          key)
    assert verify_record(record, key.public).valid
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # our output must not deviate from the spec
        theirs = pyocmf.OCMF.from_string(record.text)
    assert theirs.verify_signature(key.public.hex())
    assert theirs.verify_signature(key.public.base64())
    assert str(theirs.payload.RD[1].RV) == "19.870"


def test_pyocmf_rejects_our_record_altered() -> None:
    key = MeterKey.generate()
    record = sign_payload(payload(8, reading("1.000", "B", T0)), key)
    altered = record.text.replace('"RV":1.000', '"RV":0.100')
    assert altered != record.text
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert not pyocmf.OCMF.from_string(altered).verify_signature(key.public.hex())


def test_base64_signature_encoding_verifies_with_pyocmf() -> None:
    key = MeterKey.generate()
    record = sign_payload(payload(9, reading("1.5", "B", T0)), key, encoding="base64")
    assert record.signature.encoding == "base64"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert pyocmf.OCMF.from_string(record.text).verify_signature(key.public.hex())


def test_pyocmf_reads_our_transparency_file_as_one_compliant_transaction(tmp_path: Any) -> None:
    key = MeterKey.generate()
    begin = sign_payload(payload(21, reading("12.340", "B", T0)), key)
    end = sign_payload(payload(22, reading("19.870", "E", T1)), key)
    path = tmp_path / "t.xml"
    path.write_bytes(write_transparency([
        TransparencyEntry(begin.text, key.public.hex(), "42", "Transaction.Begin"),
        TransparencyEntry(end.text, key.public.hex(), "42", "Transaction.End")]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        container = pyocmf.OcmfContainer.from_xml(path)
        assert [entry.verify_signature() for entry in container] == [True, True]
        [result] = container.check_eichrecht()
    assert result.transaction_id == 42
    assert result.is_compliant, result.issues
