"""The pure token table: hashing, scopes and the verdicts a request gets."""

from __future__ import annotations

from ocppnet.api.tokens import (
    ANONYMOUS,
    AuthFailure,
    Grant,
    TokenTable,
    expand_scopes,
    hash_token,
    new_token,
)


def test_hash_is_sha256_hex() -> None:
    # sha256("abc") from FIPS 180-2, appendix B.1
    assert hash_token("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"


def test_new_tokens_are_random_and_prefixed() -> None:
    tokens = {new_token() for _ in range(50)}
    assert len(tokens) == 50
    assert all(t.startswith("ocn_") and len(t) > 40 for t in tokens)


def test_operator_implies_read_and_metrics() -> None:
    assert expand_scopes(["operator"]) == {"operator", "read", "metrics"}
    assert expand_scopes(["grid"]) == {"grid"}


def table() -> TokenTable:
    return TokenTable([("ops", hash_token("op-secret"), ["operator"]),
                       ("viewer", hash_token("read-secret").upper(), ["read"])])


def test_right_token_and_scope_is_granted() -> None:
    grant = table().check("Bearer op-secret", "operator")
    assert grant == Grant("ops", frozenset({"operator", "read", "metrics"}))
    assert table().check("bearer   read-secret ", "read") == Grant(
        "viewer", frozenset({"read", "metrics"}))


def test_missing_malformed_and_unknown_tokens_are_401() -> None:
    for header, says in [(None, "no bearer token"), ("", "no bearer token"),
                         ("Basic dXNlcjpwdw==", "not 'Bearer <token>'"),
                         ("Bearer", "not 'Bearer <token>'"), ("Bearer nope", "unknown token")]:
        verdict = table().check(header, "read")
        assert isinstance(verdict, AuthFailure), header
        assert (verdict.status, verdict.error) == (401, "unauthorized")
        assert says in verdict.detail


def test_wrong_scope_is_403_naming_token_and_scope_never_the_secret() -> None:
    verdict = table().check("Bearer read-secret", "operator")
    assert isinstance(verdict, AuthFailure)
    assert verdict.status == 403
    assert "'viewer'" in verdict.detail and "'operator'" in verdict.detail
    assert "read-secret" not in verdict.detail


def test_any_token_check_and_no_tokens_means_anonymous() -> None:
    assert isinstance(table().check("Bearer read-secret", None), Grant)
    assert isinstance(table().check("Bearer wrong", None), AuthFailure)
    assert TokenTable().check(None, "operator") is ANONYMOUS
    assert not TokenTable().enabled and len(table()) == 2
