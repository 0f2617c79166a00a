"""The web-payment service's Prometheus counters (in the process's own registry)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter

__all__ = ["WebpayMetrics"]


class WebpayMetrics:
    """Sessions opened, refusals by step and reason, settlements and their amount."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.sessions = Counter("ocppnet_webpay_sessions", "payment sessions opened by a scan",
                                registry=registry)
        self.refusals = Counter("ocppnet_webpay_refusals", "what the service or the page "
                                "refused", ["step", "reason"], registry=registry)
        self.settlements = Counter("ocppnet_webpay_settlements", "NotifySettlement sent",
                                   ["status"], registry=registry)
        self.amount = Counter("ocppnet_webpay_settled_amount", "sum of settled amounts "
                              "(simulated PSP)", registry=registry)
