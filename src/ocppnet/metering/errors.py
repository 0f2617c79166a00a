"""The one error the OCMF core raises: a record or key that cannot be read, naming where."""

from __future__ import annotations

__all__ = ["OcmfError"]


class OcmfError(ValueError):
    """Malformed OCMF input; the message names the section and field (``payload.RD[1].TM``)."""
