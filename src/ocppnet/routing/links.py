"""What the router needs to know about a link: its id, mode, peer and direction.

A *standard*-mode link carries plain OCPP-J for exactly one station (``remote_id``).
An *overlay*-mode link carries DEST/PATH frames of many parties. ``role`` says where the
peer sits: ``downstream`` (a station or a child node) or ``upstream`` (a CSMS, a backend,
a parent node). The per-station fallback towards a plain CSMS is presented to the router
as one overlay link (see docs/routing.md "Plain upstreams").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, TypeAlias

LinkMode: TypeAlias = Literal["standard", "overlay"]
LinkRole: TypeAlias = Literal["downstream", "upstream"]


@dataclass(frozen=True, slots=True)
class LinkInfo:
    """One live link of a node; ``remote_id`` is the id the peer authenticated with."""

    link_id: str
    mode: LinkMode
    remote_id: str
    role: LinkRole = "downstream"

    def __post_init__(self) -> None:
        if self.mode not in ("standard", "overlay"):
            raise ValueError(f"link {self.link_id!r}: mode must be standard or overlay")
        if self.role not in ("downstream", "upstream"):
            raise ValueError(f"link {self.link_id!r}: role must be downstream or upstream")
        if self.mode == "standard" and self.role != "downstream":
            raise ValueError(
                f"link {self.link_id!r}: a standard-mode link is a station (downstream); "
                "present a plain upstream as an overlay link"
            )

    @property
    def overlay(self) -> bool:
        return self.mode == "overlay"
