"""The result table: one :class:`Row` per figure, rendered as Markdown and JSON.

A row compares ocppnet ("ours") with a baseline measured in the same run; a target is either
a minimum ratio ours/baseline or a maximum value of ours. A missed target is reported, never
an error.
"""

from __future__ import annotations

import json
import os
import platform
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal


@dataclass(frozen=True, slots=True)
class Target:
    """``min_ratio``: ours/baseline must be >= value; ``max_ratio``: ours/baseline must be
    <= value (e.g. a latency that may grow by 20 %); ``max_value``: ours must be <= value."""

    kind: Literal["min_ratio", "max_ratio", "max_value"]
    value: float

    def label(self, unit: str) -> str:
        if self.kind == "min_ratio":
            return f">= {self.value:g}x" if self.value >= 1 else f">= {self.value:.0%}"
        if self.kind == "max_ratio":
            return f"<= {self.value:g}x"
        return f"<= {self.value:g} {unit}"


@dataclass(frozen=True, slots=True)
class Row:
    benchmark: str
    metric: str
    unit: str
    ours: float
    baseline: float | None = None
    baseline_label: str = ""
    target: Target | None = None
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def ratio(self) -> float | None:
        if self.baseline is None or self.baseline == 0:
            return None
        return self.ours / self.baseline

    @property
    def met(self) -> bool | None:
        if self.target is None:
            return None
        if self.target.kind == "max_value":
            return self.ours <= self.target.value
        ratio = self.ratio
        if ratio is None:
            return None
        if self.target.kind == "max_ratio":
            return ratio <= self.target.value
        return ratio >= self.target.value

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["ratio"] = self.ratio
        data["met"] = self.met
        data["target"] = None if self.target is None else {
            **asdict(self.target), "label": self.target.label(self.unit)}
        return data


def _num(value: float) -> str:
    if value >= 100:
        return f"{value:,.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def _ratio(ratio: float | None) -> str:
    if ratio is None:
        return ""
    return f"{ratio:.2f}x" if ratio >= 1.5 else f"{ratio:.0%}"


def status(row: Row) -> str:
    met = row.met
    return "" if met is None else ("met" if met else "target missed")


def markdown(rows: list[Row], failures: dict[str, str]) -> str:
    """The ratio table (plus one line per crashed benchmark)."""
    lines = [
        "| benchmark | metric | ocppnet | baseline | ratio | target | status |",
        "|---|---|---:|---|---:|---|---|",
    ]
    for r in rows:
        base = "" if r.baseline is None else f"{_num(r.baseline)} ({r.baseline_label})"
        target = "" if r.target is None else r.target.label(r.unit)
        lines.append(
            f"| {r.benchmark} | {r.metric} | {_num(r.ours)} {r.unit} | {base} | "
            f"{_ratio(r.ratio)} | {target} | {status(r)} |"
        )
    for name, error in failures.items():
        lines.append(f"| {name} | CRASHED: {error} | | | | | crashed |")
    notes = [f"- {r.benchmark} / {r.metric}: {r.note}" for r in rows if r.note]
    return "\n".join(lines + (["", *notes] if notes else [])) + "\n"


def machine() -> dict[str, Any]:
    """nproc, CPU model, Python and library versions: what the figures depend on."""
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    versions: dict[str, str] = {}
    for name in ("websockets", "orjson", "fastjsonschema", "ocpp", "uvloop", "cryptography"):
        try:
            from importlib.metadata import version

            versions[name] = version(name)
        except Exception:
            versions[name] = "not installed"
    return {
        "nproc": os.cpu_count(),
        "cpu": model,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "versions": versions,
    }


def write(out: Path, rows: list[Row], failures: dict[str, str], meta: dict[str, Any]) -> str:
    """Write ``results.md`` and ``results.json`` into ``out``; returns the Markdown."""
    out.mkdir(parents=True, exist_ok=True)
    text = markdown(rows, failures)
    info = meta["machine"]
    header = (
        f"Machine: {info['nproc']} cores, {info['cpu']}, Python {info['python']}; "
        f"mode: {meta['mode']}; loop: {meta['loop']}; wall time {meta['seconds']:.0f} s\n\n"
    )
    (out / "results.md").write_text(header + text)
    (out / "results.json").write_text(
        json.dumps(
            {**meta, "rows": [r.to_json() for r in rows], "failures": failures}, indent=2
        )
        + "\n"
    )
    return header + text
