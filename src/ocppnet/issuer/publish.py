"""Sign a tariff and send it to a station through the overlay (the asyncio side of the issuer).

``SetDefaultTariff`` (for an EVSE, 0: all) or, with a transaction id, ``ChangeTransactionTariff``.
The tariff is checked (our model and the official 2.1 schema) before it is signed, so a bad
file is refused here with the field named, not by the station.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import orjson

from ocppnet.errors import ConfigError
from ocppnet.issuer.config import TariffIssuerSection
from ocppnet.participant import Participant, ParticipantFile
from ocppnet.security.keystore import KeyStore, KeyStoreError
from ocppnet.security.settings import SecuritySection
from ocppnet.tariffs import parse_tariff, sign_tariff, tariff_hash
from ocppnet.validation import validate

__all__ = ["load_tariff_file", "publish", "signing_key", "tariff_request"]

log = logging.getLogger("ocppnet.issuer")


def load_tariff_file(path: str | Path) -> dict[str, Any]:
    """A TariffType JSON file, checked; ConfigError names the file and the field."""
    try:
        data = orjson.loads(Path(path).read_bytes())
    except orjson.JSONDecodeError as exc:
        raise ConfigError(f"{path}: not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: a tariff is a JSON object")
    parse_tariff(data, where=f"{path}: tariff")
    return data


def tariff_request(
    tariff: dict[str, Any], *, evse_id: int = 0, transaction_id: str | None = None
) -> tuple[str, dict[str, Any]]:
    """(action, payload) carrying ``tariff``; ConfigError when the 2.1 schema refuses it."""
    payload: dict[str, Any] = {"tariff": tariff}
    if transaction_id is not None:
        action = "ChangeTransactionTariff"
        payload["transactionId"] = transaction_id
    else:
        action = "SetDefaultTariff"
        payload["evseId"] = evse_id
    failure = validate("2.1", action, "request", payload)
    if failure is not None:
        raise ConfigError(f"{action}: {failure.description}")
    return action, payload


def signing_key(config: ParticipantFile[TariffIssuerSection]) -> Any:
    app = config.app
    assert app is not None
    security = config.section(SecuritySection, "security")
    if security.keystore is None:
        raise ConfigError(f"{config.source}: security.keystore: needed to sign tariffs")
    try:
        return KeyStore(security.keystore).key_pair(app.signing_key)
    except KeyStoreError as exc:
        raise ConfigError(f"{config.source}: tariff.signing_key: {exc}") from None


async def publish(
    config: ParticipantFile[TariffIssuerSection],
    tariff: dict[str, Any],
    target: str,
    *,
    evse_id: int = 0,
    transaction_id: str | None = None,
) -> tuple[str, dict[str, Any], dict[str, Any]]:
    """Sign ``tariff`` with the issuer's key and send it to ``target``.

    Returns (action, signed tariff, response). Raises ConfigError, CallErrorReceived (e.g.
    ``SecurityError`` from the station), UnknownClient, CallTimeout."""
    app = config.app
    assert app is not None
    key = signing_key(config)
    participant = Participant(config.participant, security=config.security)
    async with participant:
        signed = sign_tariff(tariff, key, now=participant.now(), name=app.issuer_name)
        action, payload = tariff_request(signed, evse_id=evse_id, transaction_id=transaction_id)
        response = await participant.call(target, action, payload)
    log.info("event=tariff_published issuer=%s target=%s action=%s tariff=%s hash=%s status=%s",
             participant.id, target, action, tariff.get("tariffId"), tariff_hash(signed),
             response.get("status"))
    return action, signed, response
