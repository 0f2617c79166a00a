"""Telemetry for a digital twin (docs/digital-twin.md): OCPP 2.1 periodic event streams whose
batches are signed by the station and chained, verified where they arrive; the station
values streamed, time-series downsampling and the twin's view of each station. Pure: values
and ``now`` in, values out; the station, node and twin services are the I/O around it."""

from ocppnet.telemetry.chain import (
    CHAIN_VENDOR,
    ChainFields,
    StreamChain,
    batch_digest,
    chain_fields,
)
from ocppnet.telemetry.verifier import BatchStatus, BatchVerdict, StreamVerifier

__all__ = [
    "CHAIN_VENDOR",
    "BatchStatus",
    "BatchVerdict",
    "ChainFields",
    "StreamChain",
    "StreamVerifier",
    "batch_digest",
    "chain_fields",
]
