"""One writer owns the write connection and commits queued operations in batches.

DESIGN.md §7: with one shared aiosqlite connection, concurrent handlers' statements
silently join one open transaction — a later ``COMMIT`` commits nothing of its own and one
request's ``ROLLBACK`` discards the others' rows. Here nothing but the writer task touches
the write connection::

    request ─► submit(op) ─► queue ─► writer: BEGIN IMMEDIATE
                                        SAVEPOINT op ; op(tx) ; RELEASE     (each op)
                                        (a failed op: ROLLBACK TO its savepoint only)
                                      COMMIT                                (one fsync)
                                      after-commit hooks, in order
    request ◄─ future resolved ◄──────  only now

A failing operation undoes only its own statements; the batch still commits the others.
If ``COMMIT`` fails (disk full, I/O error) every operation of the batch fails with
:class:`~server.errors.StorageUnavailableError` and nothing of it is acknowledged.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import aiosqlite

from server.errors import StorageUnavailableError

T = TypeVar("T")

log = logging.getLogger(__name__)


@dataclass(slots=True)
class WriteTransaction:
    """What an operation gets: the connection inside the open batch, and commit hooks."""

    conn: aiosqlite.Connection
    _hooks: list[Callable[[], None]] = field(default_factory=list)

    def after_commit(self, hook: Callable[[], None]) -> None:
        """Run ``hook`` once the batch is durable (never if this operation is undone)."""
        self._hooks.append(hook)


WriteOp = Callable[[WriteTransaction], Awaitable[T]]


@dataclass(slots=True)
class _Queued:
    op: WriteOp[Any]
    future: asyncio.Future[Any]


class WriterClosedError(StorageUnavailableError):
    code = "storage_closed"


class GroupCommitWriter:
    """The single owner of the write connection."""

    def __init__(self, conn: aiosqlite.Connection, batch_limit: int) -> None:
        self._conn = conn
        self._batch_limit = batch_limit
        self._queue: asyncio.Queue[_Queued | None] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
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
        outcomes: list[tuple[bool, Any, list[Callable[[], None]]]] = []
        try:
            await self._conn.execute("BEGIN IMMEDIATE")
            for item in batch:
                outcomes.append(await self._run_one(item))
            await self._conn.execute("COMMIT")
        except sqlite3.Error as exc:
            log.exception("write batch of %d operations failed: %s", len(batch), type(exc).__name__)
            await self._rollback()
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

    async def _run_one(self, item: _Queued) -> tuple[bool, Any, list[Callable[[], None]]]:
        tx = WriteTransaction(self._conn)
        await self._conn.execute("SAVEPOINT op")
        try:
            value = await item.op(tx)
        except sqlite3.Error as exc:
            if not isinstance(exc, sqlite3.IntegrityError):
                raise  # the database itself failed: the whole batch fails
            await self._conn.execute("ROLLBACK TO op")
            await self._conn.execute("RELEASE op")
            return False, exc, []
        except Exception as exc:  # noqa: BLE001 - handed to the waiting request, not lost
            await self._conn.execute("ROLLBACK TO op")
            await self._conn.execute("RELEASE op")
            return False, exc, []
        await self._conn.execute("RELEASE op")
        return True, value, tx._hooks

    async def _rollback(self) -> None:
        with contextlib.suppress(sqlite3.Error):  # no transaction was open
            await self._conn.execute("ROLLBACK")


def _run_hooks(hooks: list[Callable[[], None]]) -> None:
    for hook in hooks:
        try:
            hook()
        except Exception:  # a hook must not stop the writer; its data is durable already
            log.exception("after-commit hook failed")
