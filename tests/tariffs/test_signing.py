"""Issuer signatures on tariffs and the station's tariff book."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from ocppnet.errors import SecurityError
from ocppnet.security.context import SecurityContext
from ocppnet.security.keys import KeyPair
from ocppnet.security.roles import RoleSet
from ocppnet.security.trust import TrustStore
from ocppnet.tariffs import (
    HeldTariff,
    Reading,
    TariffBook,
    compute_cost,
    parse_tariff,
    receipt_binding,
    sign_tariff,
    tariff_body,
    tariff_hash,
    verify_tariff,
)
from ocppnet.validation import validate

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
TARIFF: dict[str, Any] = {"tariffId": "EMP-T1", "currency": "EUR",
                          "energy": {"prices": [{"priceKwh": 0.39}]}}


@pytest.fixture(scope="module")
def emp() -> KeyPair:
    return KeyPair.generate("ed25519")


@pytest.fixture(scope="module")
def rogue() -> KeyPair:
    return KeyPair.generate("secp256r1")


def station_ctx(*issuers: KeyPair, currency: str | None = None) -> SecurityContext:
    trust = TrustStore()
    allow: dict[str, Any] = {"action": "SetDefaultTariff"}
    if currency:
        allow["constraints"] = [{"field": "tariff.currency", "op": "eq", "value": currency}]
    for key in issuers:
        trust.add(key.public_key, name="emp")
    roles = RoleSet.from_config({"roles": [{
        "name": "tariff-issuer", "keys": [k.key_id for k in issuers],
        "allow": [allow, {"action": "ChangeTransactionTariff"}]}]})
    return SecurityContext(trust=trust, roles=roles)


def check(tariff: dict[str, Any], ctx: SecurityContext | None) -> Any:
    return verify_tariff(tariff, ctx, action="SetDefaultTariff",
                         payload={"evseId": 0, "tariff": tariff}, now=NOW)


def test_signed_tariff_verifies_and_stays_schema_valid(emp: KeyPair) -> None:
    signed = sign_tariff(TARIFF, emp, now=NOW, name="EMP-1")
    assert validate("2.1", "SetDefaultTariff", "request",
                    {"evseId": 0, "tariff": signed}) is None
    verified = check(signed, station_ctx(emp))
    assert verified.issuer_key_id == emp.key_id and verified.issuer == "EMP-1"
    assert verified.roles == {"tariff-issuer"}
    assert verified.hash == tariff_hash(TARIFF) == tariff_hash(signed)
    assert tariff_body(signed) == TARIFF
    # a day later it still verifies: tariffs have no freshness window
    later = verify_tariff(signed, station_ctx(emp), action="ChangeTransactionTariff",
                          payload={"transactionId": "x", "tariff": signed},
                          now=NOW + timedelta(days=30))
    assert later.hash == verified.hash


def test_unsigned_altered_and_untrusted_are_refused(emp: KeyPair, rogue: KeyPair) -> None:
    ctx = station_ctx(emp)
    with pytest.raises(SecurityError, match="unsigned"):
        check(TARIFF, ctx)
    altered = copy.deepcopy(sign_tariff(TARIFF, emp, now=NOW))
    altered["energy"]["prices"][0]["priceKwh"] = 0.99
    with pytest.raises(SecurityError, match="invalid signature"):
        check(altered, ctx)
    with pytest.raises(SecurityError, match="not signed by a trusted issuer"):
        check(sign_tariff(TARIFF, rogue, now=NOW), ctx)
    trusted_but_no_role = station_ctx(emp)
    trusted_but_no_role.trust.add(rogue.public_key)
    with pytest.raises(SecurityError, match="may not SetDefaultTariff"):
        check(sign_tariff(TARIFF, rogue, now=NOW), trusted_but_no_role)
    with pytest.raises(SecurityError, match="no trust store"):
        check(sign_tariff(TARIFF, emp, now=NOW), None)


def test_role_constraints_apply_to_the_tariff(emp: KeyPair) -> None:
    ctx = station_ctx(emp, currency="EUR")
    check(sign_tariff(TARIFF, emp, now=NOW), ctx)
    with pytest.raises(SecurityError, match="may not SetDefaultTariff"):
        check(sign_tariff({**TARIFF, "currency": "USD"}, emp, now=NOW), ctx)


def test_countersignature_keeps_the_first(emp: KeyPair, rogue: KeyPair) -> None:
    both = sign_tariff(sign_tariff(TARIFF, emp, now=NOW), rogue, now=NOW)
    assert len(both["customData"]["signatures"]) == 2
    assert check(both, station_ctx(emp)).issuer_key_id == emp.key_id


def held(emp: KeyPair, data: dict[str, Any]) -> HeldTariff:
    signed = sign_tariff(data, emp, now=NOW)
    return HeldTariff(parse_tariff(signed), check(signed, station_ctx(emp)))


def test_book_keeps_tariffs_immutable_and_picks_the_version_in_force(emp: KeyPair) -> None:
    book = TariffBook()
    v1 = held(emp, TARIFF)
    assert book.set_default(0, v1) == "Accepted"
    assert book.set_default(0, v1) == "Accepted"  # the same signed tariff again: a no-op
    other = held(emp, {**TARIFF, "energy": {"prices": [{"priceKwh": 0.10}]}})
    assert book.set_default(0, other) == "DuplicateTariffId"
    v2 = held(emp, {**TARIFF, "tariffId": "EMP-T2", "validFrom": "2026-12-01T12:00:00Z"})
    assert book.set_default(0, v2) == "Accepted"
    assert book.default_for(1, NOW) is v1
    assert book.default_for(1, NOW.replace(hour=12)) is v2
    evse2 = held(emp, {**TARIFF, "tariffId": "EVSE2"})
    book.set_default(2, evse2)
    assert book.default_for(2, NOW) is evse2  # an EVSE's own beats the station-wide one
    assert [a["tariffId"] for a in book.assignments(0)] == ["EMP-T1", "EMP-T2", "EVSE2"]
    assert book.start("tx1", 1, NOW) is v1
    usd = held(emp, {**TARIFF, "tariffId": "USD", "currency": "USD"})
    assert book.change("tx1", usd, NOW) == "NoCurrencyChange"
    assert book.change("tx1", v2, NOW + timedelta(minutes=5)) == "Accepted"
    assert [s.tariff.tariff_id for s in book.segments("tx1")] == ["EMP-T1", "EMP-T2"]
    assert book.clear(["EMP-T1"], None) == [{"tariffId": "EMP-T1", "status": "Accepted"}]
    assert book.clear(["nope"], None) == [{"status": "NoTariff"}]
    assert book.current("tx1") is v2  # a running transaction keeps its tariff


def test_receipt_binding_names_the_signed_tariff_and_the_cost(emp: KeyPair) -> None:
    signed = sign_tariff(TARIFF, emp, now=NOW)
    result = compute_cost(parse_tariff(signed), [Reading(NOW, 0), Reading(NOW + timedelta(
        hours=1), 10_000)])
    assert receipt_binding([signed], result) == {
        "tariffs": [{"tariffId": "EMP-T1", "sha256": tariff_hash(TARIFF)}],
        "currency": "EUR", "typeOfCost": "NormalCost",
        "total": {"exclTax": 3.9, "inclTax": 3.9}}
