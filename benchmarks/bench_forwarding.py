"""Forwarding and latency through networking nodes (needs ocppnet.node; see run_* below)."""

from __future__ import annotations

from benchmarks.report import Row


def run_forwarding(quick: bool) -> list[Row]:
    return []


def run_latency(quick: bool) -> list[Row]:
    return []
