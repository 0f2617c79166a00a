"""One database session on a dedicated thread, with group commit (PostgreSQL, and the
other SQLite stores: twin series, grid audit; the CSMS's SQLite store runs the same batches
on the event loop, :mod:`.loop_worker`).

Blocking database calls must not run on the event loop, and a database allows one writer
per session: so the store owns one connection, used only by this thread. Coroutines submit
jobs (functions of the session); the thread drains every job queued so far and runs them
in one transaction (:func:`execute_batch`: a failing job does not undo the others). Many
concurrent writers (1000 stations sending meter values) thus cost one commit per batch
instead of one per message, and one wake-up of the event loop per batch. Fire-and-forget
rows (the message log) are inserted with a single ``executemany`` per batch.
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
S_co = TypeVar("S_co", bound="TransactionalSession", covariant=True)

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


class JobRunner(Protocol[S_co]):
    """What a SQL store needs from its worker (:class:`SessionWorker` on a thread,
    :class:`~ocppnet.store.loop_worker.LoopWorker` on the event loop)."""

    batches: int
    jobs: int

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def run(self, fn: Callable[[S_co], T]) -> T: ...

    def put_row(self, bulk: Callable[[S_co, list[Any]], None], value: Any) -> None: ...


@dataclass(slots=True)
class Job:
    fn: Callable[[Any], Any]
    future: asyncio.Future[Any]


@dataclass(slots=True)
class QueuedRow:
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
        self._queue.put(Job(fn, future))
        return await future

    def put_row(self, bulk: Callable[[S, list[Any]], None], value: Any) -> None:
        """Queue a row for ``bulk`` insertion with the next batch; never blocks."""
        if self._thread is None:
            raise StoreError("store is not open")
        self._queue.put(QueuedRow(bulk, value))

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
        results = execute_batch(session, batch)
        self.batches += 1
        self.jobs += len(batch)
        if results:
            # one wake-up of the loop per batch, not one per job
            loop = results[0][0].future.get_loop()
            with contextlib.suppress(RuntimeError):  # the loop is closed: nobody waits
                loop.call_soon_threadsafe(settle_all, results)


Result = tuple[Job, Any, BaseException | None]


def execute_batch(session: TransactionalSession, batch: Sequence[Any]) -> list[Result]:
    """Run one batch (jobs and rows) in one transaction; the outcome of every job (not yet
    delivered to its future). A job that raises undoes only its own writes: the batch is
    first run straight through (no savepoints: two statements less per job); if a job
    raises, that attempt is rolled back and the batch runs again with each job in a
    savepoint. Jobs are functions of the session only, so running one again is safe. A
    batch that fails as a whole (I/O error, disk full) is rolled back and every job gets
    the error."""
    jobs = [item for item in batch if isinstance(item, Job)]
    rows = [item for item in batch if isinstance(item, QueuedRow)]
    try:
        results = _attempt(session, jobs, rows, savepoints=False)
        if results is None:  # a job raised: again, each job isolated in a savepoint
            session.rollback()
            results = _attempt(session, jobs, rows, savepoints=True)
            assert results is not None
        session.commit()
    except Exception as exc:  # the whole batch failed (I/O, disk full): tell everyone
        log.error("event=store_batch_failed error=%s", exc)
        try:
            session.rollback()
        except Exception:
            log.exception("event=store_rollback_failed")
        results = [(job, None, exc) for job in jobs]
    return results


def _attempt(session: TransactionalSession, jobs: list[Job], rows: list[QueuedRow], *,
             savepoints: bool) -> list[Result] | None:
    """Begin, insert the rows, run the jobs; None if a job raised and ``savepoints`` is off
    (the transaction is then to be rolled back)."""
    session.begin()
    _insert_rows(session, rows)
    results: list[Result] = []
    for job in jobs:
        if savepoints:
            session.execute("SAVEPOINT job")
        try:
            value = job.fn(session)
        except Exception as exc:
            if not savepoints:
                return None
            session.execute("ROLLBACK TO SAVEPOINT job")
            results.append((job, None, exc))
        else:
            results.append((job, value, None))
        if savepoints:
            session.execute("RELEASE SAVEPOINT job")
    return results


def _insert_rows(session: TransactionalSession, rows: list[QueuedRow]) -> None:
    groups: dict[Callable[[Any, list[Any]], None], list[Any]] = {}
    for row in rows:
        groups.setdefault(row.bulk, []).append(row.value)
    for bulk, values in groups.items():
        bulk(session, values)


def settle_all(results: list[Result]) -> None:
    """Deliver a batch's outcomes to the futures still waiting for them."""
    for job, value, error in results:
        _settle(job.future, value, error)


def _settle(future: asyncio.Future[Any], value: Any, error: BaseException | None) -> None:
    if future.done():  # the awaiting task was cancelled
        return
    if error is None:
        future.set_result(value)
    else:
        future.set_exception(error)
