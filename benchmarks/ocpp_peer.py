"""The baseline CSMS: what a user of the `ocpp` package (mobilityhouse) writes.

``ocpp.v201.ChargePoint`` with ``@on`` handlers, one instance per station, over
``websockets.serve`` — the package's documented server pattern. It validates every message
with ``jsonschema`` (the package default), as ours validates with compiled schemas.

``serve_ocpp_sqlite`` is the same server plus the SQLite writes the full ``CsmsApp`` makes
per message, so that the application row compares like with like: the same schema (our
migrations create the file), the same durability (WAL, ``synchronous = NORMAL``), the same
rows — a message-log row for each request and each response, the station's ``last_seen``
on Heartbeat, on MeterValues the natural-key claim in ``received_messages``, the EVSE's
active-transaction lookup and one ``meter_values`` row per sampled value (nothing when the
key was claimed before) — and the answer leaves only after its transaction is committed. It is
written the simplest fast way: blocking ``sqlite3`` on the event loop, one transaction per
message (no thread hops; a commit in WAL mode with ``synchronous = NORMAL`` does not fsync).
"""

from __future__ import annotations

import hashlib
import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
from ocpp.routing import on
from ocpp.v201 import ChargePoint, call_result
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

from benchmarks.frames import NOW, SUBPROTOCOL


class BenchCsms(ChargePoint):  # type: ignore[misc]
    @on("Heartbeat")
    async def on_heartbeat(self, **kw: Any) -> Any:
        return call_result.Heartbeat(current_time=NOW)

    @on("MeterValues")
    async def on_meter_values(self, evse_id: int, meter_value: list[Any], **kw: Any) -> Any:
        return call_result.MeterValues()


async def serve_ocpp(host: str, port: int) -> Server:
    """Start the baseline CSMS on ``host:port`` (0: any free port)."""

    async def on_connect(websocket: ServerConnection) -> None:
        assert websocket.request is not None
        station = BenchCsms(websocket.request.path.rsplit("/", 1)[-1], websocket)
        try:
            await station.start()
        except ConnectionClosed:
            return

    return await serve(on_connect, host, port, subprotocols=[Subprotocol(SUBPROTOCOL)])


# --- the same server with the CsmsApp's SQLite writes ---------------------------------


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def _size(payload: Any) -> int:
    return len(orjson.dumps(payload))


def create_database(path: Path) -> None:
    """The CsmsApp's schema in a new file (our migrations, so both peers write alike)."""
    from ocppnet.store import migrations
    from ocppnet.store.sqlite import AUTO_KEY, SqliteSession

    session = SqliteSession(str(path))
    try:
        session.begin()
        migrations.migrate(session, auto_key=AUTO_KEY)
        session.commit()
    finally:
        session.close()


def connect(path: Path) -> sqlite3.Connection:
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA busy_timeout = 5000")
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("PRAGMA synchronous = NORMAL")
    return db


_LOG = ("INSERT INTO message_log (at, station_id, direction, message_type, message_id, action,"
        " path, signature, payload_size) VALUES (?, ?, ?, ?, ?, ?, '[]', ?, ?)")


class SqliteBenchCsms(ChargePoint):  # type: ignore[misc]
    """``BenchCsms`` whose handlers write what the CsmsApp writes, committed before answering."""

    db: sqlite3.Connection

    def _log(self, direction: str, kind: int, message_id: str, action: str,
             payload: Any) -> None:
        signature = "unsigned" if "signatures" not in payload else None
        self.db.execute(_LOG, (_now(), self.id, direction, kind, message_id, action,
                               signature, _size(payload)))

    @on("Heartbeat")
    async def on_heartbeat(self, call_unique_id: str, **kw: Any) -> Any:
        now = _now()
        self.db.execute("BEGIN")
        self._log("in", 2, call_unique_id, "Heartbeat", {})
        self.db.execute(
            "INSERT INTO stations (id, last_seen) VALUES (?, ?)"
            " ON CONFLICT (id) DO UPDATE SET last_seen = excluded.last_seen", (self.id, now))
        response = {"currentTime": now[:23] + "Z"}
        self._log("out", 3, call_unique_id, "Heartbeat", response)
        self.db.execute("COMMIT")
        return call_result.Heartbeat(current_time=response["currentTime"])

    @on("MeterValues")
    async def on_meter_values(self, evse_id: int, meter_value: list[Any],
                              call_unique_id: str, **kw: Any) -> Any:
        now = _now()
        db = self.db
        request = {"evseId": evse_id, "meterValue": meter_value}  # what the station sent
        db.execute("BEGIN")
        self._log("in", 2, call_unique_id, "MeterValues", request)
        digest = hashlib.sha256(orjson.dumps(meter_value, option=orjson.OPT_SORT_KEYS))
        key = f"{evse_id}//{digest.hexdigest()[:32]}"
        claimed = db.execute(
            "INSERT INTO received_messages (station_id, kind, natural_key, at)"
            " VALUES (?, 'MeterValues', ?, ?) ON CONFLICT (station_id, kind, natural_key)"
            " DO NOTHING RETURNING station_id", (self.id, key, now)).fetchall()
        if claimed:
            tx = db.execute(
                "SELECT key FROM transactions WHERE station_id = ? AND state = 'active'"
                " AND evse_id = ? ORDER BY key DESC LIMIT 1", (self.id, evse_id)).fetchall()
            db.executemany(
                "INSERT INTO meter_values (station_id, timestamp, value, measurand, unit,"
                " context, phase, location, evse_id, transaction_key, signed_data)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL)",
                [(self.id, mv["timestamp"], float(sv["value"]),
                  sv.get("measurand", "Energy.Active.Import.Register"),
                  (sv.get("unit_of_measure") or {}).get("unit"), sv.get("context"),
                  sv.get("phase"), sv.get("location"), evse_id, tx[0][0] if tx else None)
                 for mv in meter_value for sv in mv["sampled_value"]])
        else:  # a repeat: what the first delivery left
            db.execute("SELECT transaction_key FROM received_messages WHERE station_id = ?"
                       " AND kind = 'MeterValues' AND natural_key = ?", (self.id, key))
        self._log("out", 3, call_unique_id, "MeterValues", {})
        db.execute("COMMIT")
        return call_result.MeterValues()


def _set_connected(db: sqlite3.Connection, station: str, connected: bool) -> None:
    db.execute("INSERT INTO stations (id, last_seen, connected, via_path) VALUES (?, ?, ?, '[]')"
               " ON CONFLICT (id) DO UPDATE SET last_seen = excluded.last_seen,"
               " connected = excluded.connected, via_path = excluded.via_path",
               (station, _now(), int(connected)))


async def serve_ocpp_sqlite(host: str, port: int, path: Path) -> Server:
    """The baseline CSMS plus the CsmsApp's SQLite writes into a new database at ``path``."""
    create_database(path)
    db = connect(path)

    async def on_connect(websocket: ServerConnection) -> None:
        assert websocket.request is not None
        station = SqliteBenchCsms(websocket.request.path.rsplit("/", 1)[-1], websocket)
        station.db = db
        _set_connected(db, station.id, True)
        try:
            await station.start()
        except ConnectionClosed:
            return
        finally:
            _set_connected(db, station.id, False)

    return await serve(on_connect, host, port, subprotocols=[Subprotocol(SUBPROTOCOL)])
