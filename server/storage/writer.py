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

The commonest operation, a plain send, goes further: a :class:`StagedOp` decides from the
memo alone, without a savepoint, and stages its rows in :class:`StagedRows`; the batch's
staged rows are written by a few multi-row statements — before the next plain operation's
savepoint, before anything reads through ``tx.conn``, and before ``COMMIT`` — so a batch
of sends costs a handful of SQLite calls, not six per send::

    BEGIN IMMEDIATE
      op.stage(tx)   (each staged op: checks against the memo, rows staged, no SQL)
      staged rows written ; SAVEPOINT op ; op(tx) ; RELEASE      (a plain op, if any)
      staged rows written
    COMMIT

Whatever a staged operation cannot decide alone (the memo lacks the group, a check
fails, a roster change) it hands back with :class:`NotStagedError` and runs as a plain
operation. A staged row that fails when written (a resend: its dedup key exists) rolls
the whole batch back, and the batch runs again with every operation plain, each in its
savepoint — so a failing send still never takes another with it.
"""

from __future__ import annotations

import abc
import asyncio
import contextlib
import functools
import logging
import sqlite3
from collections.abc import Callable, Hashable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

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


class NotStagedError(Exception):
    """Raised by :meth:`StagedOp.stage`: run this operation as a plain one instead."""


class _RestageError(Exception):
    """A staged row failed when written: the batch runs again, every operation plain."""


class StagedRows:
    """Rows that operations of the open batch staged, written together by few statements:
    each table's rows by multi-row ``INSERT`` statements (in chunks of a power of two, so
    that the statement cache holds every shape), and per key only the last ``UPDATE``
    staged under it. Written before anything else touches the connection."""

    __slots__ = ("_inserts", "_updates", "version")

    def __init__(self) -> None:
        self._inserts: dict[tuple[str, int], list[tuple[Any, ...]]] = {}
        self._updates: dict[Hashable, tuple[str, tuple[Any, ...]]] = {}
        self.version = 0  # counts staged rows and updates: shows what an operation staged

    def __bool__(self) -> bool:
        return bool(self._inserts or self._updates)

    def insert(self, into: str, row: tuple[Any, ...]) -> None:
        """Stage ``row`` for ``into`` (``"INSERT INTO t (a, b)"``; the row's values in order)."""
        self.version += 1
        rows = self._inserts.get((into, len(row)))
        if rows is None:
            self._inserts[(into, len(row))] = [row]
        else:
            rows.append(row)

    def update(self, key: Hashable, sql: str, params: tuple[Any, ...]) -> None:
        """Stage ``sql``, replacing what was staged under ``key`` (its later state wins)."""
        self.version += 1
        self._updates.pop(key, None)  # keeps the updates in the order of their last staging
        self._updates[key] = (sql, params)

    def clear(self) -> None:
        self._inserts.clear()
        self._updates.clear()

    def write(self, conn: sqlite3.Connection) -> None:
        inserts, updates = self._inserts, self._updates
        self._inserts, self._updates = {}, {}
        try:
            for (into, width), rows in inserts.items():
                start = 0
                while start < len(rows):
                    size = _chunk(len(rows) - start)
                    chunk = rows[start : start + size]
                    start += size
                    conn.execute(
                        _multi_row_sql(into, width, size),
                        [value for row in chunk for value in row],
                    )
            for sql, params in updates.values():
                conn.execute(sql, params)
        except sqlite3.IntegrityError as exc:
            raise _RestageError from exc


_MAX_CHUNK = 256


def _chunk(remaining: int) -> int:
    """The largest power of two that is at most ``remaining`` and ``_MAX_CHUNK``."""
    return min(_MAX_CHUNK, 1 << (remaining.bit_length() - 1))


@functools.cache
def _multi_row_sql(into: str, width: int, rows: int) -> str:
    one = "(" + ", ".join("?" * width) + ")"
    return f"{into} VALUES " + ", ".join([one] * rows)


class WriteTransaction:
    """What an operation gets: the connection inside the open batch, the writer's memo,
    the batch's staged rows, and commit hooks."""

    __slots__ = ("_conn", "_hooks", "memo", "staged")

    def __init__(
        self,
        conn: sqlite3.Connection,
        memo: WriterMemo | None = None,
        staged: StagedRows | None = None,
    ) -> None:
        self._conn = conn
        self.memo = WriterMemo() if memo is None else memo
        self.staged = StagedRows() if staged is None else staged
        self._hooks: list[Callable[[], None]] = []

    @property
    def conn(self) -> sqlite3.Connection:
        """The connection, with every staged row written (so reads see them)."""
        if self.staged:
            self.staged.write(self._conn)
        return self._conn

    def after_commit(self, hook: Callable[[], None]) -> None:
        """Run ``hook`` once the batch is durable (never if this operation is undone)."""
        self._hooks.append(hook)


WriteOp = Callable[[WriteTransaction], T]
_Outcome = tuple[bool, Any, list[Callable[[], None]]]


class StagedOp(abc.ABC, Generic[T]):
    """An operation that can, in the common case, stage its rows instead of executing them.

    :meth:`stage` decides from the memo (or reads through ``tx.conn``), stages its rows
    with ``tx.staged`` and updates the memo as though they were written — all after its
    last check, so that it raises with nothing staged and the memo unchanged. It raises
    :class:`NotStagedError` for anything out of the common case, and is then run as a plain
    operation (``op(tx)``, in a savepoint) — as every operation of a batch is if a staged
    row fails when written (the batch is rolled back and run again)."""

    @abc.abstractmethod
    def __call__(self, tx: WriteTransaction) -> T: ...

    @abc.abstractmethod
    def stage(self, tx: WriteTransaction) -> T: ...


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
            return self._attempt(ops, staging=True)
        except _RestageError:  # a staged row conflicted (a resend, say): each op on its own
            pass
        try:
            return self._attempt(ops, staging=False)
        except _RestageError as exc:  # cannot happen: no operation stages in this run
            raise sqlite3.DatabaseError("a staged row failed outside the staging run") from exc

    def _attempt(self, ops: list[WriteOp[Any]], *, staging: bool) -> list[_Outcome]:
        staged = StagedRows()
        try:
            self._conn.execute("BEGIN IMMEDIATE")
            outcomes = [
                self._stage_one(op, staged)
                if staging and isinstance(op, StagedOp)
                else self._run_one(op, staged)
                for op in ops
            ]
            staged.write(self._conn)
            self._conn.execute("COMMIT")
        except (sqlite3.Error, _RestageError):
            self._memo.clear()
            with contextlib.suppress(sqlite3.Error):  # no transaction was open
                self._conn.execute("ROLLBACK")
            raise
        return outcomes

    def _stage_one(self, op: StagedOp[Any], staged: StagedRows) -> _Outcome:
        tx = WriteTransaction(self._conn, self._memo, staged)
        version = staged.version
        try:
            value = op.stage(tx)
        except NotStagedError:
            return self._run_one(op, staged)
        except (sqlite3.Error, _RestageError):
            raise  # the database failed, or a staged row: the batch fails or runs again
        except Exception as exc:  # handed to the waiting request, not lost
            self._memo.clear()
            if staged.version != version:  # it staged rows before failing: not its rule
                raise _RestageError from exc
            return False, exc, []
        return True, value, tx._hooks

    def _run_one(self, op: WriteOp[Any], staged: StagedRows) -> _Outcome:
        staged.write(self._conn)  # before the savepoint: an undo must not take them along
        tx = WriteTransaction(self._conn, self._memo, staged)
        self._conn.execute("SAVEPOINT op")
        try:
            value = op(tx)
        except sqlite3.Error as exc:
            if not isinstance(exc, sqlite3.IntegrityError):
                raise  # the database itself failed: the whole batch fails
            self._undo(staged)
            return False, exc, []
        except _RestageError as exc:  # a row it staged itself failed: like the above
            self._undo(staged)
            return False, exc.__cause__, []
        except Exception as exc:  # noqa: BLE001 - handed to the waiting request, not lost
            self._undo(staged)
            return False, exc, []
        try:
            staged.write(self._conn)  # what it staged is part of it
        except _RestageError as exc:
            self._undo(staged)
            return False, exc.__cause__, []
        self._conn.execute("RELEASE op")
        return True, value, tx._hooks

    def _undo(self, staged: StagedRows) -> None:
        self._memo.clear()
        staged.clear()  # what it staged goes with it
        self._conn.execute("ROLLBACK TO op")
        self._conn.execute("RELEASE op")


def _run_hooks(hooks: list[Callable[[], None]]) -> None:
    for hook in hooks:
        try:
            hook()
        except Exception:  # a hook must not stop the writer; its data is durable already
            log.exception("after-commit hook failed")
