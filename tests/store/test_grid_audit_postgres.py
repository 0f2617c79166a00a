"""The grid operator's audit log on PostgreSQL (here to share the store tests' throw-away
server; the SQLite case is in tests/grid/test_config_audit_api.py)."""

from __future__ import annotations

from ocppnet.grid.audit import AuditLog
from tests.grid.test_config_audit_api import audit_roundtrip
from tests.store.conftest import _fresh_schema


async def test_audit_log_on_postgres(postgres_url: str) -> None:
    await audit_roundtrip(AuditLog(_fresh_schema(postgres_url)))
