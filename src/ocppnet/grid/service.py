"""The DSO process: a participant + :class:`GridOperator` + audit log + HTTP API, from TOML.

``load_service("grid.toml")`` reads ``[participant]``, ``[security]``, ``[grid]`` and
``[api]`` (bearer tokens, docs/operations.md) and returns a :class:`GridService`;
``await service.run()`` serves until SIGINT/SIGTERM (``ocppnet grid run``).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path

from fastapi import Depends

from ocppnet.api import ApiSection, api_app, check_bind, require_scope, token_table, tokens_of
from ocppnet.errors import ConfigError
from ocppnet.grid.api import grid_router
from ocppnet.grid.audit import AuditLog
from ocppnet.grid.config import GridSection
from ocppnet.grid.operator import CommandRefused, GridOperator
from ocppnet.participant import (
    Participant,
    ParticipantFile,
    load_participant_config,
    run_until_stopped,
)

__all__ = ["GridService", "load_service"]


@dataclass(slots=True)
class GridService:
    config: ParticipantFile[GridSection]
    grid: GridSection
    store: str

    def build(self, audit: AuditLog) -> tuple[Participant, GridOperator]:
        """The participant (with the HTTP API: ``[api]`` tokens, ``read`` scope to look,
        ``operator`` scope to command) and the operator on it."""
        participant = Participant(self.config.participant, security=self.config.security)
        try:
            operator = GridOperator(participant, self.grid, audit)
        except CommandRefused as exc:
            raise ConfigError(f"{self.config.source}: {exc.description}") from None
        router = grid_router(operator, read=[Depends(require_scope("read"))],
                             command=[Depends(require_scope("operator"))])
        api = self.config.section(ApiSection, "api")
        app = api_app("ocppnet grid operator", [router], auth=token_table(
            api, source=f"{self.config.source}: api"),
            description="Curtail sites and stations (§14a EnWG), receipts, audit log.")
        check_bind(self.config.participant.http_host, tokens_of(app),
                   what="participant.http_port")
        participant.http_app = app
        return participant, operator

    async def run(self) -> int:
        audit = AuditLog(self.store)
        await audit.open()
        try:
            participant, operator = self.build(audit)
            await operator.restore()

            async def heartbeats() -> None:
                operator.start()
                try:
                    await asyncio.Event().wait()
                finally:
                    await operator.stop()

            return await run_until_stopped(participant, banner="grid operator",
                                           also=heartbeats)
        finally:
            await audit.close()


def load_service(path: str | Path) -> GridService:
    """Read and check ``grid.toml``; ConfigError names the file and the key."""
    config = load_participant_config(path, GridSection, "grid")
    grid = config.app or GridSection()
    if config.security is None:
        raise ConfigError(f"{path}: security: missing [security] table (the operator's "
                          "signing key and the policy that signs its commands)")
    if not grid.targets:
        raise ConfigError(f"{path}: grid.targets: at least one [[grid.targets]] is needed")
    return GridService(config, grid, grid.store_location(Path(path).parent))
