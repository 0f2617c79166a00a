"""One database session on a dedicated thread, with group commit.

Blocking database calls must not run on the event loop, and SQLite allows one writer:
so the store owns one connection, used only by this thread. Coroutines submit jobs
(functions of the session); the thread drains every job queued so far and runs them in
one transaction, each inside a savepoint so that a failing job does not undo the others.
Many concurrent writers (1000 stations sending meter values) thus cost one commit per
batch instead of one per message. Fire-and-forget rows (the message log) are inserted
with a single ``executemany`` per batch.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from ocppnet.store.records import StoreError

T = TypeVar("T")
S = TypeVar("S", bound="TransactionalSession")

log = logging.getLogger(__name__)

MAX_BATCH = 2000


class TransactionalSession(Protocol):
    """A blocking SQL session that the worker drives (SQLite or psycopg adapter)."""

    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]: ...

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None: ...

    def begin(self) -> None: ...

    def commit(self) -> None: ...

    def rollback(self) -> None: ...

    def close(self) -> None: ...


@dataclass(slots=True)
class _Job:
    fn: Callable[[Any], Any]
    future: asyncio.Future[Any]


@dataclass(slots=True)
class _Row:
    """A fire-and-forget row: ``bulk(session, rows)`` inserts all rows of one batch."""

    bulk: Callable[[Any, list[Any]], None]
    value: Any


_STOP = object()


class SessionWorker(Generic[S]):
    """Runs jobs against a session created (and used) only on the worker thread."""

    def __init__(self, connect: Callable[[], S], name: str = "ocppnet-store") -> None:
        self._connect = connect
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._name = name
        self._started = threading.Event()
        self._start_error: BaseException | None = None
        self.batches = 0
        self.jobs = 0

    async def start(self) -> None:
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
        self._thread.start()
        await asyncio.to_thread(self._started.wait)
        if self._start_error is not None:
            err, self._start_error, self._thread = self._start_error, None, None
            raise StoreError(f"cannot open store: {err}") from err

    async def stop(self) -> None:
        thread, self._thread = self._thread, None
        if thread is None:
            return
        self._queue.put(_STOP)
        await asyncio.to_thread(thread.join)

    async def run(self, fn: Callable[[S], T]) -> T:
        """Run ``fn(session)`` in the next batch; returns once its batch is committed."""
        if self._thread is None:
            raise StoreError("store is not open")
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._queue.put(_Job(fn, future))
        return await future

    def put_row(self, bulk: Callable[[S, list[Any]], None], value: Any) -> None:
        """Queue a row for ``bulk`` insertion with the next batch; never blocks."""
        if self._thread is None:
            raise StoreError("store is not open")
        self._queue.put(_Row(bulk, value))

    # --- worker thread ---

    def _run(self) -> None:
        try:
            session = self._connect()
        except BaseException as exc:  # reported to start(), which raises StoreError
            self._start_error = exc
            self._started.set()
            return
        self._started.set()
        try:
            stop = False
            while not stop:
                batch = [self._queue.get()]
                while len(batch) < MAX_BATCH:
                    try:
                        batch.append(self._queue.get_nowait())
                    except queue.Empty:
                        break
                if any(item is _STOP for item in batch):
                    stop = True
                    batch = [item for item in batch if item is not _STOP]
                if batch:
                    self._run_batch(session, batch)
        finally:
            session.close()

    def _run_batch(self, session: S, batch: list[Any]) -> None:
        jobs = [item for item in batch if isinstance(item, _Job)]
        results: list[tuple[_Job, Any, BaseException | None]] = []
        try:
            session.begin()
            self._insert_rows(session, [item for item in batch if isinstance(item, _Row)])
            for job in jobs:
                session.execute("SAVEPOINT job")
                try:
                    value = job.fn(session)
                except Exception as exc:
                    session.execute("ROLLBACK TO SAVEPOINT job")
                    results.append((job, None, exc))
                else:
                    results.append((job, value, None))
                session.execute("RELEASE SAVEPOINT job")
            session.commit()
        except Exception as exc:  # the whole batch failed (I/O, disk full): tell everyone
            log.error("store batch failed: %s", exc)
            try:
                session.rollback()
            except Exception:
                log.exception("store rollback failed")
            results = [(job, None, exc) for job in jobs]
        self.batches += 1
        self.jobs += len(batch)
        for job, value, error in results:
            # RuntimeError: the loop is closed, nobody is waiting any more
            with contextlib.suppress(RuntimeError):
                job.future.get_loop().call_soon_threadsafe(_settle, job.future, value, error)

    @staticmethod
    def _insert_rows(session: S, rows: list[_Row]) -> None:
        groups: dict[Callable[[Any, list[Any]], None], list[Any]] = {}
        for row in rows:
            groups.setdefault(row.bulk, []).append(row.value)
        for bulk, values in groups.items():
            bulk(session, values)


def _settle(future: asyncio.Future[Any], value: Any, error: BaseException | None) -> None:
    if future.done():  # the awaiting task was cancelled
        return
    if error is None:
        future.set_result(value)
    else:
        future.set_exception(error)
