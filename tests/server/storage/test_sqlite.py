"""The SQLite store: settings, migrations, bytes stored as BLOBs, rules in one transaction."""

from __future__ import annotations

import asyncio
import dataclasses
import sqlite3
from pathlib import Path

import pytest

from server.errors import ConflictError, StaleEpochError, TooLargeError
from server.storage.interface import SendRequest
from server.storage.migrations import LATEST_VERSION
from server.storage.sqlite import SqliteRelayStorage
from server.storage.writer import WriteTransaction

pytestmark = pytest.mark.asyncio

GROUP = b"g" * 16
DEVICE = b"d" * 16


def send(key: bytes, *, epoch: int = 0, commit: bool = False) -> SendRequest:
    return SendRequest(
        group_id=GROUP,
        sender=DEVICE,
        idempotency_key=key,
        is_commit=commit,
        epoch=epoch,
        payload=b"\x00\x01ciphertext\xff",
        received_at=1,
    )


async def test_settings_and_schema(tmp_path: Path) -> None:
    storage = SqliteRelayStorage(tmp_path / "relay.db")
    await storage.open()
    await storage.close()
    with sqlite3.connect(tmp_path / "relay.db") as db:
        assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        assert db.execute("SELECT max(version) FROM schema_version").fetchone() == (LATEST_VERSION,)
    storage = SqliteRelayStorage(tmp_path / "relay.db")
    await storage.open()  # reopening applies nothing twice
    await storage.close()


async def test_payloads_are_blobs_and_commits_order_epochs(tmp_path: Path) -> None:
    storage = SqliteRelayStorage(tmp_path / "relay.db")
    await storage.open()
    try:
        await storage.create_group(GROUP, DEVICE, 1)
        results = await asyncio.gather(
            *(storage.send(send(bytes([i]) * 32, commit=True)) for i in range(5)),
            return_exceptions=True,
        )
        winners = [r for r in results if not isinstance(r, BaseException)]
        assert len(winners) == 1 and winners[0].epoch == 1
        assert all(isinstance(r, StaleEpochError) and r.epoch == 1 for r in results[1:])
        again = await storage.send(send(bytes([0]) * 32, commit=True))
        assert (again.seq, again.duplicate) == (1, True)
        with pytest.raises(ConflictError):
            await storage.create_group(GROUP, DEVICE, 2)
    finally:
        await storage.close()
    with sqlite3.connect(tmp_path / "relay.db") as db:
        assert db.execute("SELECT typeof(payload), payload FROM messages").fetchall() == [
            ("blob", b"\x00\x01ciphertext\xff")
        ]


async def test_roster_size_is_bounded(tmp_path: Path) -> None:
    storage = SqliteRelayStorage(tmp_path / "relay.db")
    await storage.open()
    try:
        await storage.create_group(GROUP, DEVICE, 1)
        others = [bytes([i]) * 16 for i in range(3)]

        def insert_devices(tx: WriteTransaction) -> None:
            for device in others:
                tx.conn.execute(
                    "INSERT INTO devices VALUES (?, ?, 1, ?, 0, 9, ?, 0, NULL, NULL)",
                    (device, device, b"k", b"c"),
                )

        await storage.writer.submit(insert_devices)
        request = dataclasses.replace(
            send(b"k" * 32, commit=True), roster_add=tuple(others), max_roster=3
        )
        with pytest.raises(TooLargeError):
            await storage.send(request)
        assert await storage.roster(GROUP) == [DEVICE]
        ok = dataclasses.replace(request, roster_add=tuple(others[:2]))
        assert (await storage.send(ok)).seq == 1
        assert len(await storage.roster(GROUP)) == 3
    finally:
        await storage.close()


async def test_expired_sessions_are_purged(tmp_path: Path) -> None:
    storage = SqliteRelayStorage(tmp_path / "relay.db")
    await storage.open()
    try:
        await storage.create_session(b"old" * 8, DEVICE, 10)
        await storage.create_session(b"new" * 8, DEVICE, 1000)
        await storage.purge_expired(100)
        assert await storage.session(b"old" * 8) is None
        assert await storage.session(b"new" * 8) is not None
    finally:
        await storage.close()


async def test_reads_under_concurrent_load_see_every_committed_write(tmp_path: Path) -> None:
    storage = SqliteRelayStorage(tmp_path / "relay.db")
    await storage.open()
    busy = b"b" * 16
    await storage.create_group(busy, DEVICE, 1)
    stop = asyncio.Event()

    async def keep_reading() -> None:  # reads that return a row, as logins and pushes do
        while not stop.is_set():
            await storage.membership(busy, DEVICE)

    readers = [asyncio.create_task(keep_reading()) for _ in range(8)]
    try:
        await asyncio.sleep(0.01)
        for i in range(30):
            group = bytes([i]) * 16
            await storage.create_group(group, DEVICE, 1)
            assert (await storage.membership(group, DEVICE)).active  # not an old snapshot
    finally:
        stop.set()
        await asyncio.gather(*readers)
        await storage.close()
