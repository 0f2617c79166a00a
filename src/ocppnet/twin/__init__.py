"""The digital twin (``ocppnet twin run``): an analytics participant that verifies signed,
chained telemetry streams, keeps time series and a twin state per station, and serves an
HTTP API with time charts. It has no command rights (docs/digital-twin.md)."""

from ocppnet.twin.service import SiteSection, TwinSection, TwinService
from ocppnet.twin.store import SeriesStore, open_series_store

__all__ = ["SeriesStore", "SiteSection", "TwinSection", "TwinService", "open_series_store"]
