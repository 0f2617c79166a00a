"""A grid site's LPC state on disk, so that a restarted node or station goes on enforcing.

Without it a restarted site starts ``unlimited`` and has forgotten the last sequence it
accepted: a curtailment in force would be lifted by a restart, and a recorded older command
of the operator could be replayed within the signature window. With ``state_file`` set
(``[node.grid] state_file``), every accepted command or heartbeat and every timed transition
is written (atomically: a temporary file, fsync, rename) before the site answers, and read
back at start: :meth:`~ocppnet.grid.lpc.LpcMachine.restore` then applies whatever became due
while the site was down (a heartbeat timeout passed during the restart means failsafe).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from ocppnet.errors import ConfigError
from ocppnet.grid.lpc import LpcMachine, LpcSettings

__all__ = ["SiteState", "load_site_state", "save_site_state"]

FORMAT = 1


@dataclass(frozen=True, slots=True)
class SiteState:
    """What a site keeps: the target it is, the last accepted sequence, the machine."""

    target: str
    last_sequence: int
    machine: dict[str, Any]


def encode_site_state(state: SiteState) -> bytes:
    return orjson.dumps({"format": FORMAT, "target": state.target,
                         "last_sequence": state.last_sequence, "machine": state.machine},
                        option=orjson.OPT_INDENT_2)


def decode_site_state(data: bytes, *, source: str) -> SiteState:
    """The state in ``data``; ConfigError naming ``source`` and the field if it is bad."""
    try:
        raw = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise ConfigError(f"{source}: not JSON ({exc})") from None
    if not isinstance(raw, dict) or raw.get("format") != FORMAT:
        raise ConfigError(f"{source}: format: expected {FORMAT}")
    target, sequence, machine = raw.get("target"), raw.get("last_sequence"), raw.get("machine")
    if not isinstance(target, str):
        raise ConfigError(f"{source}: target: expected a string, got {target!r}")
    if isinstance(sequence, bool) or not isinstance(sequence, int):
        raise ConfigError(f"{source}: last_sequence: expected an integer, got {sequence!r}")
    if not isinstance(machine, dict):
        raise ConfigError(f"{source}: machine: expected a table, got {machine!r}")
    return SiteState(target, sequence, machine)


def restore_machine(state: SiteState, settings: LpcSettings, now: float, *,
                    source: str) -> LpcMachine:
    try:
        return LpcMachine.restore(settings, state.machine, now)
    except ValueError as exc:
        raise ConfigError(f"{source}: machine.{exc}") from None


def load_site_state(path: Path, target: str) -> SiteState | None:
    """The state saved in ``path`` (None if there is no file yet); ConfigError if it is
    unreadable, malformed or another target's (a copied file must not steer this site)."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the grid state: {exc.strerror}") from None
    state = decode_site_state(data, source=str(path))
    if state.target != target:
        raise ConfigError(f"{path}: target: the file holds the state of {state.target!r}, "
                          f"this site is {target!r}")
    return state


def save_site_state(path: Path, state: SiteState) -> None:
    """Write ``state`` so that a crash leaves the old file or the new one, never half."""
    temporary = path.with_name(path.name + ".tmp")
    with open(temporary, "wb") as out:
        out.write(encode_site_state(state))
        out.flush()
        os.fsync(out.fileno())
    os.replace(temporary, path)
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)
