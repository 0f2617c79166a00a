"""ocppnet: an OCPP networking stack with overlay routing, end-to-end signatures and binary frames."""

__version__ = "0.1.0"
