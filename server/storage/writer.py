"""One writer owns the write connection and commits queued operations in batches.

DESIGN.md §7: with one shared aiosqlite connection, concurrent handlers' statements
silently join one open transaction — a later ``COMMIT`` commits nothing of its own and one
request's ``ROLLBACK`` discards the others' rows. Here nothing but the writer thread
touches the write connection, and it runs a whole batch in one go, so the event loop hands
work to it once per batch, not once per statement::

    request ─► submit(op) ─► queue ─► writer thread: BEGIN IMMEDIATE
                                        SAVEPOINT op ; op(tx) ; RELEASE     (each op)
                                        (a failed op: ROLLBACK TO its savepoint only)
                                      COMMIT                                (one fsync)
                                      event loop: after-commit hooks, in order
    request ◄─ future resolved ◄──────  only now

An operation is a plain function of a :class:`WriteTransaction`; it runs on the writer
thread, so it only reads and writes through ``tx.conn`` and leaves everything else to
after-commit hooks, which run on the event loop.

A failing operation undoes only its own statements; the batch still commits the others.
If ``COMMIT`` fails (disk full, I/O error) every operation of the batch fails with
:class:`~server.errors.StorageUnavailableError` and nothing of it is acknowledged.

Operations may keep what they read or wrote in :class:`WriterMemo` (a group's epoch and
roster, read by every send) so that the next one need not ask SQLite again: each SQLite
call releases the GIL and must win it back from the event loop, so fewer calls per
operation is what keeps the writer's latency low under load. Anything rolled back clears
the memo whole, so it never holds a value the database does not.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
from collections.abc import Callable, Hashable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TypeVar

from server.errors import StorageUnavailableError

T = TypeVar("T")

log = logging.getLogger(__name__)


MEMO_ENTRIES = 4096


class WriterMemo:
    """Values that operations read or wrote in the open transaction, for later operations
    of the same writer; used on the writer thread only, emptied when anything rolls back
    and when it reaches ``max_entries`` (a bound, not an eviction policy: refilling is a
    read each)."""

    def __init__(self, max_entries: int = MEMO_ENTRIES) -> None:
        self._max_entries = max_entries
        self._entries: dict[Hashable, Any] = {}

    def get(self, key: Hashable) -> Any:
        return self._entries.get(key)

    def put(self, key: Hashable, value: object) -> None:
        if len(self._entries) >= self._max_entries and key not in self._entries:
            self._entries.clear()
        self._entries[key] = value

    def forget(self, key: Hashable) -> None:
        self._entries.pop(key, None)

    def clear(self) -> None:
        self._entries.clear()


@dataclass(slots=True)
class WriteTransaction:
    """What an operation gets: the connection inside the open batch, the writer's memo,
    and commit hooks."""

    conn: sqlite3.Connection
    memo: WriterMemo = field(default_factory=WriterMemo)
    _hooks: list[Callable[[], None]] = field(default_factory=list)

    def after_commit(self, hook: Callable[[], None]) -> None:
        """Run ``hook`` once the batch is durable (never if this operation is undone)."""
        self._hooks.append(hook)


WriteOp = Callable[[WriteTransaction], T]
_Outcome = tuple[bool, Any, list[Callable[[], None]]]


@dataclass(slots=True)
class _Queued:
    op: WriteOp[Any]
    future: asyncio.Future[Any]


class WriterClosedError(StorageUnavailableError):
    code = "storage_closed"


class GroupCommitWriter:
    """The single owner of the write connection (opened with ``check_same_thread=False``
    and used by nothing else once handed over)."""

    def __init__(self, conn: sqlite3.Connection, batch_limit: int) -> None:
        self._conn = conn
        self._batch_limit = batch_limit
        self._queue: asyncio.Queue[_Queued | None] = asyncio.Queue()
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="relay-writer")
        self._task: asyncio.Task[None] | None = None
        self._memo = WriterMemo()
        self._closing = False
        self.batches = 0  # committed batches, for tests and metrics

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="relay-writer")

    async def submit(self, op: WriteOp[T]) -> T:
        """Queue ``op``; return its result once its batch has committed."""
        if self._closing or self._task is None:
            raise WriterClosedError("the relay is shutting down")
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait(_Queued(op, future))
        return await future

    async def close(self) -> None:
        """Commit everything queued so far, then stop."""
        if self._task is None:
            return
        self._closing = True
        self._queue.put_nowait(None)
        await self._task
        self._task = None
        self._thread.shutdown(wait=True)

    async def _run(self) -> None:
        while True:
            first = await self._queue.get()
            if first is None:
                return
            batch = [first]
            stop = False
            while len(batch) < self._batch_limit and not self._queue.empty():
                item = self._queue.get_nowait()
                if item is None:
                    stop = True
                    break
                batch.append(item)
            await self._commit(batch)
            if stop:
                return

    async def _commit(self, batch: list[_Queued]) -> None:
        ops = [item.op for item in batch]
        try:
            outcomes = await asyncio.get_running_loop().run_in_executor(
                self._thread, self._run_batch, ops
            )
        except sqlite3.Error as exc:
            log.exception("write batch of %d operations failed: %s", len(batch), type(exc).__name__)
            failure = StorageUnavailableError("the write could not be made durable")
            for item in batch:
                if not item.future.done():
                    item.future.set_exception(failure)
            return
        self.batches += 1
        for item, (ok, value, hooks) in zip(batch, outcomes, strict=True):
            if ok:
                _run_hooks(hooks)
            if item.future.done():  # the request went away; its write still stands
                continue
            if ok:
                item.future.set_result(value)
            else:
                item.future.set_exception(value)

    def _run_batch(self, ops: list[WriteOp[Any]]) -> list[_Outcome]:
        """On the writer thread: the whole batch, one transaction."""
        try:
            self._conn.execute("BEGIN IMMEDIATE")
            outcomes = [self._run_one(op) for op in ops]
            self._conn.execute("COMMIT")
        except sqlite3.Error:
            self._memo.clear()
            with contextlib.suppress(sqlite3.Error):  # no transaction was open
                self._conn.execute("ROLLBACK")
            raise
        return outcomes

    def _run_one(self, op: WriteOp[Any]) -> _Outcome:
        tx = WriteTransaction(self._conn, self._memo)
        self._conn.execute("SAVEPOINT op")
        try:
            value = op(tx)
        except sqlite3.Error as exc:
            if not isinstance(exc, sqlite3.IntegrityError):
                raise  # the database itself failed: the whole batch fails
            self._undo()
            return False, exc, []
        except Exception as exc:  # noqa: BLE001 - handed to the waiting request, not lost
            self._undo()
            return False, exc, []
        self._conn.execute("RELEASE op")
        return True, value, tx._hooks

    def _undo(self) -> None:
        self._memo.clear()
        self._conn.execute("ROLLBACK TO op")
        self._conn.execute("RELEASE op")


def _run_hooks(hooks: list[Callable[[], None]]) -> None:
    for hook in hooks:
        try:
            hook()
        except Exception:  # a hook must not stop the writer; its data is durable already
            log.exception("after-commit hook failed")
