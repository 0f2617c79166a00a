"""ocppnet: an OCPP networking stack: overlay routing, end-to-end signatures, binary frames."""

__version__ = "0.1.0"
