"""Shared fixtures: a throw-away PKI made once per test session (keys never leave tmp)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ocppnet.pki import ThrowawayPki


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> ThrowawayPki:
    """CA + server certificate for 127.0.0.1/localhost; ``pki.client_context(id)`` for mTLS."""
    return ThrowawayPki(tmp_path_factory.mktemp("pki"), now=datetime.now(UTC))


@pytest.fixture(scope="session")
def rogue_pki(tmp_path_factory: pytest.TempPathFactory) -> ThrowawayPki:
    """A second, unrelated CA: its client certificates must not be accepted by ``pki``."""
    return ThrowawayPki(
        tmp_path_factory.mktemp("rogue-pki"), now=datetime.now(UTC), ca_name="rogue CA"
    )
