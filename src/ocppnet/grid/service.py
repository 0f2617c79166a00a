"""The DSO process: a participant + :class:`GridOperator` + audit log + HTTP API, from TOML.

``load_service("grid.toml")`` reads ``[participant]``, ``[security]``, ``[grid]`` (and
``[api]`` when the shared API layer is installed) and returns a :class:`GridService`;
``await service.run()`` serves until SIGINT/SIGTERM (``ocppnet grid run``).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path

from fastapi import FastAPI

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
        """The participant (with the HTTP API) and the operator on it."""
        app = FastAPI(title="ocppnet grid operator", docs_url="/api/v1/docs",
                      openapi_url="/api/v1/openapi.json")
        participant = Participant(self.config.participant, security=self.config.security,
                                  http_app=app)
        try:
            operator = GridOperator(participant, self.grid, audit)
        except CommandRefused as exc:
            raise ConfigError(f"{self.config.source}: {exc.description}") from None
        app.include_router(grid_router(operator), prefix="/api/v1")
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
