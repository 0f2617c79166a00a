"""The tariff issuer: a participant (an e-mobility provider or the operator) that signs OCPP 2.1
tariffs with its own key and sends them to stations through the overlay
(``ocppnet tariff publish``; also ``sign``, and ``verify``/``cost`` for anyone who checks one).
The tariff model, cost and signatures are :mod:`ocppnet.tariffs`."""

from ocppnet.issuer.config import TariffIssuerSection
from ocppnet.issuer.publish import load_tariff_file, publish, tariff_request

__all__ = ["TariffIssuerSection", "load_tariff_file", "publish", "tariff_request"]
