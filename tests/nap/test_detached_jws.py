"""Detached JWS over exports: round trip, tampering, untrusted keys, and interop with joserfc
(an independent JOSE implementation) in both directions."""

from __future__ import annotations

import pytest
from joserfc import jws as jose
from joserfc.jwk import ECKey, OKPKey

from ocppnet.nap.detached_jws import (
    DetachedJwsError,
    jose_algorithm,
    sign_detached,
    verify_detached,
)
from ocppnet.security.keys import ALGORITHMS, generate, key_id, public_pem

CONTENT = b"<d2:payload>the publication, byte for byte</d2:payload>\n"


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_round_trip_and_tampering(algorithm: str) -> None:
    key = generate(algorithm)
    trusted = {key_id(key): key.public_key()}
    token = sign_detached(CONTENT, key, content_type="application/xml")
    _, payload, _ = token.split(".")
    assert payload == ""  # detached (RFC 7515 appendix F)
    verdict = verify_detached(CONTENT, token, trusted)
    assert verdict.key_id == key_id(key) and verdict.algorithm == jose_algorithm(key)
    assert verdict.header["cty"] == "application/xml"
    with pytest.raises(DetachedJwsError, match="does not match the content"):
        verify_detached(CONTENT.replace(b"byte", b"bite"), token, trusted)


def test_untrusted_key_attached_payload_and_alg_confusion() -> None:
    key, other = generate("secp256r1"), generate("secp256r1")
    token = sign_detached(CONTENT, key)
    with pytest.raises(DetachedJwsError, match="not trusted"):
        verify_detached(CONTENT, token, {key_id(other): other.public_key()})
    header, _, signature = token.split(".")
    with pytest.raises(DetachedJwsError, match="attached"):
        verify_detached(CONTENT, f"{header}.Zm9v.{signature}", {key_id(key): key.public_key()})
    with pytest.raises(DetachedJwsError, match="compact"):
        verify_detached(CONTENT, "garbage", {key_id(key): key.public_key()})
    # the trusted key decides the algorithm, never the header alone
    big = generate("secp384r1")
    with pytest.raises(DetachedJwsError, match=r"alg 'ES256' does not match key .* \(ES384\)"):
        verify_detached(CONTENT, token, {key_id(key): big.public_key()})


@pytest.mark.parametrize("algorithm", ["secp256r1", "ed25519"])
def test_joserfc_verifies_ours(algorithm: str) -> None:
    key = generate(algorithm)
    token = sign_detached(CONTENT, key)
    pem = public_pem(key)
    public = ECKey.import_key(pem) if algorithm != "ed25519" else OKPKey.import_key(pem)
    result = jose.deserialize_compact(token, public, payload=CONTENT,
                                      algorithms=[jose_algorithm(key)])
    assert result.payload == CONTENT
    assert result.protected["kid"] == key_id(key)


def test_we_verify_joserfc_detached() -> None:
    key = generate("secp256r1")
    private = ECKey.import_key(key)
    full = jose.serialize_compact({"alg": "ES256", "kid": key_id(key)}, CONTENT, private)
    detached = jose.detach_content(full)
    assert detached.split(".")[1] == ""
    assert verify_detached(CONTENT, detached, {key_id(key): key.public_key()}).algorithm == \
        "ES256"
