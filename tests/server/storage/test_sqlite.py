"""The SQLite store: settings, migrations, bytes stored as BLOBs, rules in one transaction."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import sqlite3
from pathlib import Path

import pytest

from server.errors import (
    ConflictError,
    EnrolmentDecidedError,
    NotOnRosterError,
    StaleEpochError,
    TooLargeError,
)
from server.storage.interface import EnrolmentStatus, NewDevice, SendRequest, SendResult
from server.storage.migrations import LATEST_VERSION, MIGRATIONS
from server.storage.sqlite import SqliteRelayStorage, migrate
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


async def test_a_version_1_database_is_migrated_in_place(tmp_path: Path) -> None:
    """Migration 2 adds enrolment requests and the roster's leaf indexes; rows of a relay
    that ran version 1 stay as they were, their leaf index unknown."""
    with contextlib.closing(sqlite3.connect(tmp_path / "relay.db", isolation_level=None)) as db:
        db.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
        version, script = MIGRATIONS[0]
        db.executescript(f"BEGIN;{script}INSERT INTO schema_version VALUES ({version});COMMIT;")
        db.execute("INSERT INTO groups VALUES (?, 3, 9, 1)", (GROUP,))
        db.execute("INSERT INTO roster VALUES (?, ?, NULL)", (GROUP, DEVICE))
        assert migrate(db) == LATEST_VERSION == 2
        assert db.execute("SELECT * FROM roster").fetchall() == [(GROUP, DEVICE, None, None)]
        assert db.execute("SELECT count(*) FROM enrolments").fetchone() == (0,)
        assert migrate(db) == LATEST_VERSION  # nothing applied twice


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


async def test_a_published_credential_approves_its_enrolment_request(tmp_path: Path) -> None:
    storage = SqliteRelayStorage(tmp_path / "relay.db")
    await storage.open()
    try:
        invite = b"i" * 16
        record, created = await storage.request_enrolment(invite, DEVICE, b"request", 5, 10)
        assert created and record.status == EnrolmentStatus.PENDING
        await storage.publish_credential(
            NewDevice(
                device_id=DEVICE, member_id=b"m" * 16, cipher_suite=1, signature_key=b"k",
                not_before=0, not_after=9, credential=b"c", invite_id=invite, leaf=b"leaf",
            ),
            6,
        )  # fmt: skip
        approved = await storage.enrolment(invite)
        assert approved is not None and approved.status == EnrolmentStatus.APPROVED
        assert await storage.pending_enrolments() == []
        with pytest.raises(EnrolmentDecidedError):
            await storage.reject_enrolment(invite)
    finally:
        await storage.close()


async def insert_devices(storage: SqliteRelayStorage, count: int) -> list[bytes]:
    """``count`` devices in the directory, their ids made of one repeated byte."""
    devices = [bytes([i]) * 16 for i in range(count)]

    def insert(tx: WriteTransaction) -> None:
        for device in devices:
            tx.conn.execute(
                "INSERT INTO devices VALUES (?, ?, 1, ?, 0, 9, ?, 0, NULL, NULL)",
                (device, device, b"k", b"c"),
            )

    await storage.writer.submit(insert)
    return devices


async def test_roster_size_is_bounded(tmp_path: Path) -> None:
    storage = SqliteRelayStorage(tmp_path / "relay.db")
    await storage.open()
    try:
        await storage.create_group(GROUP, DEVICE, 1)
        others = await insert_devices(storage, 3)
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


async def test_each_send_notifies_the_roster_as_it_is_after_every_change(tmp_path: Path) -> None:
    storage = SqliteRelayStorage(tmp_path / "relay.db")
    await storage.open()
    try:
        await storage.create_group(GROUP, DEVICE, 1)
        others = await insert_devices(storage, 3)
        added = await storage.send(
            dataclasses.replace(send(b"a" * 32, commit=True), roster_add=tuple(others[:2]))
        )
        assert set(added.notify) == {DEVICE, *others[:2]}
        too_many = dataclasses.replace(
            send(b"b" * 32, epoch=1, commit=True), roster_add=(others[2],), max_roster=3
        )
        with pytest.raises(TooLargeError):  # undone: the roster it had staged must not leak
            await storage.send(too_many)
        message = await storage.send(send(b"c" * 32, epoch=1))
        assert set(message.notify) == {DEVICE, *others[:2]}
        removed = await storage.send(
            dataclasses.replace(send(b"d" * 32, epoch=1, commit=True), roster_remove=(others[0],))
        )
        assert (removed.seq, removed.epoch, set(removed.notify)) == (3, 2, {DEVICE, *others[:2]})
        with pytest.raises(NotOnRosterError):
            await storage.send(dataclasses.replace(send(b"e" * 32, epoch=2), sender=others[0]))
        with pytest.raises(StaleEpochError):
            await storage.send(send(b"f" * 32, epoch=1))
        last = await storage.send(send(b"g" * 32, epoch=2))
        assert (last.seq, set(last.notify)) == (4, {DEVICE, others[1]})
    finally:
        await storage.close()


async def test_sends_of_one_batch_are_staged_and_keep_every_rule(tmp_path: Path) -> None:
    """Plain sends of one batch are written by a few statements for the whole batch; a
    resend (of a committed send, or of one in the same batch), a stale epoch and a commit
    among them still get what a send on its own gets, and nothing else of the batch is lost."""
    storage = SqliteRelayStorage(tmp_path / "relay.db")
    await storage.open()
    statements: list[str] = []
    try:
        await storage.create_group(GROUP, DEVICE, 1)
        first = await storage.send(send(b"first"))  # reads the group into the writer's memo
        assert first.seq == 1
        assert storage._write is not None
        storage._write.set_trace_callback(statements.append)
        results = await asyncio.gather(*(storage.send(send(b"k%d" % i)) for i in range(40)))
        assert [r.seq for r in results] == list(range(2, 42))
        assert not any(r.duplicate for r in results)
        assert sum(s.startswith("INSERT INTO messages") for s in statements) <= 6  # 32 + 8
        assert not any(s.startswith("SAVEPOINT") for s in statements)
        statements.clear()
        batches = storage.writer.batches
        mixed = await asyncio.gather(
            storage.send(send(b"new-1")),
            storage.send(send(b"k3")),  # committed in the batch before
            storage.send(send(b"new-2")),
            storage.send(send(b"new-2")),  # the same send twice in one batch
            storage.send(send(b"stale", epoch=7)),
            storage.send(send(b"commit", commit=True)),
            storage.send(send(b"after", epoch=1)),
            storage.send(send(b"before", epoch=0)),  # stale once the commit is in
            return_exceptions=True,
        )
        assert storage.writer.batches == batches + 1
        assert "ROLLBACK" in statements  # a staged dedup key failed: the batch ran again
        assert mixed[0] == SendResult(seq=42, epoch=0, duplicate=False, notify=frozenset({DEVICE}))
        assert mixed[1] == SendResult(seq=5, epoch=0, duplicate=True)
        assert isinstance(mixed[2], SendResult) and mixed[2].seq == 43
        assert mixed[3] == SendResult(seq=43, epoch=0, duplicate=True)
        assert isinstance(mixed[4], StaleEpochError)
        assert isinstance(mixed[5], SendResult) and (mixed[5].seq, mixed[5].epoch) == (44, 1)
        assert isinstance(mixed[6], SendResult) and (mixed[6].seq, mixed[6].epoch) == (45, 1)
        assert isinstance(mixed[7], StaleEpochError)
        statements.clear()
        again = await asyncio.gather(storage.send(send(b"k3")), storage.send(send(b"x", epoch=1)))
        assert again[0] == SendResult(seq=5, epoch=1, duplicate=True)  # the group's epoch now
        assert again[1].seq == 46
        stored = await storage.messages(GROUP, 0, 100)
        assert [m.seq for m in stored] == list(range(1, 47))
        membership = await storage.membership(GROUP, DEVICE)
        assert (membership.group.last_seq, membership.group.epoch) == (46, 1)
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
