"""Group commit on the event loop's own thread, for SQLite.

A SQLite write in WAL mode with ``synchronous = NORMAL`` is a few microseconds of C: no
fsync, the pages go to the WAL file in the page cache. Handing each job to a writer thread
costs more than the write (a queue, a wake-up, and above all the GIL, which the writer must
win back from the busy event loop after every SQLite call: under load it waited up to the
5 ms switch interval each time, and the store became the bottleneck). So this worker runs
the jobs on the loop: every job and row submitted during one loop turn is collected, and at
the start of the next turn (``call_soon``) they run in one transaction
(:func:`~ocppnet.store.worker.execute_batch`, the same as the thread worker: a failing job
does not undo its neighbours); only after the commit are the waiting coroutines resumed,
so nothing is answered before it is stored.

The one slow SQLite operation, the checkpoint (copying the WAL back into the database file,
with an fsync), runs on its own thread with its own connection (:class:`Checkpointer`), so
the loop never waits for the disk; the writer checkpoints by itself only if that thread
falls far behind (``sqlite.FALLBACK_AUTOCHECKPOINT``).
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from ocppnet.store.records import StoreError
from ocppnet.store.worker import (
    MAX_BATCH,
    Job,
    QueuedRow,
    TransactionalSession,
    execute_batch,
    settle_all,
)

T = TypeVar("T")
S = TypeVar("S", bound=TransactionalSession)

log = logging.getLogger(__name__)


class Checkpointer:
    """A thread that checkpoints a WAL database every ``interval`` seconds (and when
    :meth:`nudge` asks), with its own connection made by ``connect`` on that thread.
    ``checkpoint(conn)`` does the work (``PRAGMA wal_checkpoint(PASSIVE)``: it never
    blocks the writer)."""

    def __init__(
        self, connect: Callable[[], Any], checkpoint: Callable[[Any], None], *,
        interval: float = 0.5, name: str = "ocppnet-checkpoint",
    ) -> None:
        self._connect = connect
        self._checkpoint = checkpoint
        self._interval = interval
        self._wake = threading.Event()
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self.checkpoints = 0

    def start(self) -> None:
        self._thread.start()

    def nudge(self) -> None:
        self._wake.set()

    async def stop(self) -> None:
        self._stopping = True
        self._wake.set()
        await asyncio.to_thread(self._thread.join)

    def _run(self) -> None:
        try:
            conn = self._connect()
        except Exception as exc:
            log.error("event=checkpointer_failed error=%s", exc)
            return
        try:
            while not self._stopping:
                self._wake.wait(self._interval)
                self._wake.clear()
                try:
                    self._checkpoint(conn)
                    self.checkpoints += 1
                except Exception as exc:  # busy or I/O: the next round tries again
                    log.warning("event=checkpoint_failed error=%s", exc)
        finally:
            conn.close()


class LoopWorker(Generic[S]):
    """The :class:`~ocppnet.store.worker.SessionWorker` interface (``start``, ``stop``,
    ``run``, ``put_row``, ``batches``, ``jobs``), with the session on the loop's thread."""

    def __init__(
        self, connect: Callable[[], S], *,
        checkpointer: Callable[[], Checkpointer] | None = None,
        nudge_every: int = 64,
    ) -> None:
        self._connect = connect
        self._make_checkpointer = checkpointer
        self._checkpointer: Checkpointer | None = None
        self._session: S | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._pending: list[Any] = []
        self._scheduled = False
        self._nudge_every = nudge_every
        self.batches = 0
        self.jobs = 0

    async def start(self) -> None:
        if self._session is not None:
            return
        try:
            self._session = self._connect()
        except Exception as exc:
            raise StoreError(f"cannot open store: {exc}") from exc
        self._loop = asyncio.get_running_loop()
        if self._make_checkpointer is not None:
            self._checkpointer = self._make_checkpointer()
            self._checkpointer.start()

    async def stop(self) -> None:
        session, self._session = self._session, None
        if session is None:
            return
        while self._pending:  # what was submitted before stop() is still stored
            self._flush_with(session)
        checkpointer, self._checkpointer = self._checkpointer, None
        if checkpointer is not None:
            await checkpointer.stop()
        session.close()

    async def run(self, fn: Callable[[S], T]) -> T:
        """Run ``fn(session)`` in the next batch; returns once its batch is committed."""
        if self._session is None:
            raise StoreError("store is not open")
        loop = self._loop = asyncio.get_running_loop()  # the loop that uses the store now
        future: asyncio.Future[T] = loop.create_future()
        self._pending.append(Job(fn, future))
        self._schedule()
        return await future

    def put_row(self, bulk: Callable[[S, list[Any]], None], value: Any) -> None:
        """Queue a row for ``bulk`` insertion with the next batch; never blocks."""
        if self._session is None:
            raise StoreError("store is not open")
        self._pending.append(QueuedRow(bulk, value))
        self._schedule()

    def _schedule(self) -> None:
        if not self._scheduled:
            self._scheduled = True
            assert self._loop is not None
            self._loop.call_soon(self._flush)

    def _flush(self) -> None:
        self._scheduled = False
        if self._session is not None and self._pending:
            self._flush_with(self._session)

    def _flush_with(self, session: S) -> None:
        batch, self._pending = self._pending[:MAX_BATCH], self._pending[MAX_BATCH:]
        if self._pending:  # the rest in the next turn: the loop keeps serving meanwhile
            self._schedule()
        results = execute_batch(session, batch)
        self.batches += 1
        self.jobs += len(batch)
        if self._checkpointer is not None and self.batches % self._nudge_every == 0:
            self._checkpointer.nudge()
        settle_all(results)
