"""The single writer: group commit, isolation between operations, durability before ack."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import aiosqlite
import pytest

from server.errors import StorageUnavailableError
from server.storage.writer import (
    GroupCommitWriter,
    NotStagedError,
    StagedOp,
    WriteOp,
    WriteTransaction,
)

pytestmark = pytest.mark.asyncio


async def open_pair(path: Path) -> tuple[sqlite3.Connection, aiosqlite.Connection]:
    write = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    write.execute("PRAGMA journal_mode=WAL")
    write.execute("CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT)")
    read = await aiosqlite.connect(path, isolation_level=None)
    return write, read


async def count(read: aiosqlite.Connection) -> int:
    async with read.execute("SELECT count(*) FROM t") as cursor:
        row = await cursor.fetchone()
    assert row is not None
    return int(row[0])


async def test_concurrent_ops_commit_in_one_batch_and_resolve_after_commit(tmp_path: Path) -> None:
    write, read = await open_pair(tmp_path / "db")
    writer = GroupCommitWriter(write, batch_limit=100)
    seen_before_commit: list[int] = []
    other = sqlite3.connect(tmp_path / "db", check_same_thread=False)

    def op(k: int):
        def run(tx: WriteTransaction) -> int:
            tx.conn.execute("INSERT INTO t (k, v) VALUES (?, 'x')", (k,))
            # another connection sees nothing yet
            seen_before_commit.append(other.execute("SELECT count(*) FROM t").fetchone()[0])
            return k

        return run

    futures = [writer.submit(op(k)) for k in range(20)]
    writer.start()
    results = await asyncio.gather(*futures)
    assert results == list(range(20))
    assert seen_before_commit == [0] * 20
    assert await count(read) == 20
    assert writer.batches == 1
    other.close()
    await writer.close()
    await read.close()
    write.close()


async def test_a_failing_op_undoes_only_itself(tmp_path: Path) -> None:
    write, read = await open_pair(tmp_path / "db")
    writer = GroupCommitWriter(write, batch_limit=100)

    def good(tx: WriteTransaction) -> None:
        tx.conn.execute("INSERT INTO t (k, v) VALUES (1, 'good')")

    def bad(tx: WriteTransaction) -> None:
        tx.conn.execute("INSERT INTO t (k, v) VALUES (2, 'bad')")
        raise ValueError("refused")

    def duplicate(tx: WriteTransaction) -> None:
        tx.conn.execute("INSERT INTO t (k, v) VALUES (3, 'dup')")
        tx.conn.execute("INSERT INTO t (k, v) VALUES (1, 'dup')")

    hooks: list[str] = []

    def hooked(tx: WriteTransaction) -> None:
        tx.conn.execute("INSERT INTO t (k, v) VALUES (4, 'hooked')")
        tx.after_commit(lambda: hooks.append("committed"))

    futures = [writer.submit(op) for op in (good, bad, duplicate, hooked)]
    writer.start()
    results = await asyncio.gather(*futures, return_exceptions=True)
    assert results[0] is None and results[3] is None
    assert isinstance(results[1], ValueError)
    assert isinstance(results[2], sqlite3.IntegrityError)
    async with read.execute("SELECT k, v FROM t ORDER BY k") as cursor:
        assert list(await cursor.fetchall()) == [(1, "good"), (4, "hooked")]
    assert hooks == ["committed"]
    await writer.close()
    await read.close()
    write.close()


async def test_failed_commit_acknowledges_nothing(tmp_path: Path) -> None:
    write, read = await open_pair(tmp_path / "db")
    writer = GroupCommitWriter(write, batch_limit=100)
    writer.start()

    def breaks_the_database(tx: WriteTransaction) -> None:
        tx.conn.execute("INSERT INTO t (k, v) VALUES (1, 'x')")
        raise sqlite3.OperationalError("database or disk is full")

    with pytest.raises(StorageUnavailableError):
        await writer.submit(breaks_the_database)
    assert await count(read) == 0

    def fine(tx: WriteTransaction) -> None:
        tx.conn.execute("INSERT INTO t (k, v) VALUES (2, 'x')")

    await writer.submit(fine)  # the writer recovers
    assert await count(read) == 1
    await writer.close()
    with pytest.raises(StorageUnavailableError):
        await writer.submit(fine)
    await read.close()
    write.close()


async def test_close_commits_what_is_queued(tmp_path: Path) -> None:
    write, read = await open_pair(tmp_path / "db")
    writer = GroupCommitWriter(write, batch_limit=2)
    writer.start()

    def insert(tx: WriteTransaction) -> None:
        tx.conn.execute("INSERT INTO t (v) VALUES ('x')")

    pending = [asyncio.ensure_future(writer.submit(insert)) for _ in range(5)]
    await asyncio.sleep(0)
    await writer.close()
    await asyncio.gather(*pending)
    assert await count(read) == 5
    await read.close()
    write.close()


class StagedInsert(StagedOp[int]):
    """Inserts ``k``: staged, unless told to refuse; plain when run on its own."""

    def __init__(self, k: int, *, refuse: bool = False) -> None:
        self.k, self.refuse = k, refuse

    def __call__(self, tx: WriteTransaction) -> int:
        tx.conn.execute("INSERT INTO t (k, v) VALUES (?, 'plain')", (self.k,))
        return self.k

    def stage(self, tx: WriteTransaction) -> int:
        if self.refuse:
            raise NotStagedError
        tx.staged.insert("INSERT INTO t (k, v)", (self.k, "staged"))
        return self.k


async def test_staged_rows_are_written_before_a_plain_op_and_survive_its_undo(
    tmp_path: Path,
) -> None:
    write, read = await open_pair(tmp_path / "db")
    writer = GroupCommitWriter(write, batch_limit=100)
    statements: list[str] = []
    write.set_trace_callback(statements.append)

    def fails(tx: WriteTransaction) -> None:
        tx.conn.execute("INSERT INTO t (k, v) VALUES (9, 'undone')")
        raise ValueError("refused")

    ops: list[WriteOp[int | None]] = [StagedInsert(1), StagedInsert(2), fails]
    ops += [StagedInsert(3, refuse=True), StagedInsert(4)]
    futures = [writer.submit(op) for op in ops]
    writer.start()
    results = await asyncio.gather(*futures, return_exceptions=True)
    assert results[:2] == [1, 2] and results[3:] == [3, 4]
    assert isinstance(results[2], ValueError)
    async with read.execute("SELECT k, v FROM t ORDER BY k") as cursor:
        assert list(await cursor.fetchall()) == [(1, "staged"), (2, "staged"), (3, "plain"),
                                                 (4, "staged")]  # fmt: skip
    assert writer.batches == 1
    assert "INSERT INTO t (k, v) VALUES (1, 'staged'), (2, 'staged')" in statements  # one call
    await writer.close()
    await read.close()
    write.close()


async def test_a_staged_row_that_fails_runs_the_batch_again_op_by_op(tmp_path: Path) -> None:
    write, read = await open_pair(tmp_path / "db")
    writer = GroupCommitWriter(write, batch_limit=100)
    futures = [writer.submit(op) for op in (StagedInsert(1), StagedInsert(2), StagedInsert(1))]
    writer.start()
    results = await asyncio.gather(*futures, return_exceptions=True)
    assert results[:2] == [1, 2]
    assert isinstance(results[2], sqlite3.IntegrityError)  # as it fails on its own
    async with read.execute("SELECT k, v FROM t ORDER BY k") as cursor:
        assert list(await cursor.fetchall()) == [(1, "plain"), (2, "plain")]
    assert writer.batches == 1
    await writer.close()
    await read.close()
    write.close()
