"""client.store and client.store_migrations: the local database (ATTACKS.md F1, L, K4).

Opening, versions and migrations; the one-writer transaction (atomicity, reentrancy,
closing); each table's operations; the outbox state machine; and what the file on disk
holds — sealed values not readable there and not movable between rows, columns or tables.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import stat
import sys
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

import client.store
from client.sealed_fields import SealedValueError, StorageKey, StoreError
from client.store import (
    DuplicateEntryError,
    LocalStore,
    OutboxState,
    OutboxStateError,
    StoreClosedError,
    StoreCursorError,
    StoreKeyError,
    StoreNotFoundError,
    StoreReentrancyError,
    StoreUnavailableError,
    StoreVersionError,
    new_client_message_id,
)
from client.store_migrations import MIGRATIONS, SCHEMA_VERSION
from crypto.signatures import ED25519
from protocol.transparency import SignedTreeHead, TreeHead, sign_tree_head
from tests.helpers import DeterministicRandom

G1 = b"\x01" * 16
G2 = b"\x02" * 16
N1 = b"\x11" * 16
N2 = b"\x12" * 16
N3 = b"\x13" * 16
N4 = b"\x14" * 16
DEVICE = b"\xdd" * 16
R1 = b"\x21" * 32
R2 = b"\x22" * 32
T0 = 1_700_000_000
RELAY_KEY = ED25519.generate(DeterministicRandom("relay identity"))

skip_on_windows = pytest.mark.skipif(sys.platform == "win32", reason="POSIX file modes")


class CallerError(Exception):
    """An error of the caller's own, raised inside a transaction."""


class FakeClock:
    def __init__(self, now: int = T0) -> None:
        self.now = now

    def __call__(self) -> float:
        return float(self.now)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    """The file the ``store`` fixture of conftest.py opens."""
    return tmp_path / "local.db"


@pytest_asyncio.fixture
async def clocked(db_path: Path, storage_key: StorageKey, clock: FakeClock) -> Any:
    opened = await LocalStore.open(db_path, storage_key, clock=clock)
    try:
        yield opened
    finally:
        await opened.close()


@contextlib.contextmanager
def raw_db(path: Path) -> Iterator[sqlite3.Connection]:
    """A plain sqlite3 connection to the file: what someone with the disk can do."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        yield conn
    finally:
        conn.close()


def _versions(path: Path) -> list[int]:
    with raw_db(path) as conn:
        return [row[0] for row in conn.execute("SELECT version FROM schema_version ORDER BY 1")]


def _tables(path: Path) -> set[str]:
    with raw_db(path) as conn:
        return {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}


def _head(size: int, root_byte: int, timestamp: int = T0) -> SignedTreeHead:
    return sign_tree_head(
        RELAY_KEY,
        TreeHead(tree_size=size, root_hash=bytes([root_byte]) * 32, timestamp=timestamp),
    )


# --- opening, versions, migrations --------------------------------------------------------


@pytest.mark.asyncio
async def test_a_new_database_is_migrated_to_the_current_version(
    db_path: Path, storage_key: StorageKey
) -> None:
    store = await LocalStore.open(db_path, storage_key)
    assert not store.closed
    assert repr(store) == "LocalStore(open)"
    await store.close()
    assert _versions(db_path) == [SCHEMA_VERSION] == [MIGRATIONS[-1][0]]
    assert {
        "schema_version",
        "meta",
        "groups",
        "notes",
        "outbox",
        "security_events",
        "tree_heads",
        "key_package_secrets",
    } <= _tables(db_path)


@pytest.mark.asyncio
async def test_reopening_keeps_data_and_does_not_migrate_again(
    db_path: Path, storage_key: StorageKey
) -> None:
    async with await LocalStore.open(db_path, storage_key) as store:
        await store.add_note(G1, N1, b"kept")
    async with await LocalStore.open(db_path, storage_key) as store:
        assert (await store.note(G1, N1)) is not None
    assert _versions(db_path) == [SCHEMA_VERSION]


@pytest.mark.asyncio
async def test_the_connection_is_durable_wal(store: LocalStore) -> None:
    async with store.transaction() as tx:
        assert (await tx._one("PRAGMA journal_mode"))[0] == "wal"
        assert (await tx._one("PRAGMA synchronous"))[0] == 2  # FULL
        assert (await tx._one("PRAGMA secure_delete"))[0] == 1
        assert (await tx._one("PRAGMA foreign_keys"))[0] == 1
        assert (await tx._one("PRAGMA trusted_schema"))[0] == 0


@skip_on_windows
@pytest.mark.asyncio
async def test_database_files_are_private(db_path: Path, store: LocalStore) -> None:
    await store.add_note(G1, N1, b"x")
    wal = db_path.with_name(db_path.name + "-wal")
    assert wal.exists()
    for path in (db_path, wal):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path.name


@pytest.mark.asyncio
async def test_a_newer_schema_is_refused(db_path: Path, storage_key: StorageKey) -> None:
    await (await LocalStore.open(db_path, storage_key)).close()
    with raw_db(db_path) as conn:
        conn.execute("INSERT INTO schema_version (version) VALUES (?)", (SCHEMA_VERSION + 1,))
    with pytest.raises(StoreVersionError, match="schema version") as caught:
        await LocalStore.open(db_path, storage_key)
    assert caught.value.code == "store_version"
    assert _versions(db_path) == [SCHEMA_VERSION, SCHEMA_VERSION + 1]


@pytest.mark.asyncio
async def test_a_file_that_is_not_a_database_is_refused(
    db_path: Path, storage_key: StorageKey
) -> None:
    garbage = bytes(range(256)) * 16
    db_path.write_bytes(garbage)
    with pytest.raises(StoreVersionError) as caught:
        await LocalStore.open(db_path, storage_key)
    assert caught.value.code == "store_version"
    assert db_path.read_bytes() == garbage


@pytest.mark.asyncio
async def test_a_missing_directory_is_unavailable(tmp_path: Path, storage_key: StorageKey) -> None:
    with pytest.raises(StoreUnavailableError) as caught:
        await LocalStore.open(tmp_path / "absent" / "local.db", storage_key)
    assert caught.value.code == "store_unavailable"


@pytest.mark.asyncio
async def test_a_later_migration_is_applied_once(
    db_path: Path, storage_key: StorageKey, monkeypatch: pytest.MonkeyPatch
) -> None:
    await (await LocalStore.open(db_path, storage_key)).close()
    later = (*MIGRATIONS, (SCHEMA_VERSION + 1, "CREATE TABLE later (a INTEGER);"))
    monkeypatch.setattr(client.store, "MIGRATIONS", later)
    monkeypatch.setattr(client.store, "SCHEMA_VERSION", SCHEMA_VERSION + 1)
    for _ in range(2):
        await (await LocalStore.open(db_path, storage_key)).close()
    assert _versions(db_path) == [SCHEMA_VERSION, SCHEMA_VERSION + 1]
    assert "later" in _tables(db_path)
    monkeypatch.undo()  # this casecircle again: the file is now newer than it knows
    with pytest.raises(StoreVersionError):
        await LocalStore.open(db_path, storage_key)


@pytest.mark.asyncio
async def test_a_failed_migration_leaves_the_previous_version(
    db_path: Path, storage_key: StorageKey, monkeypatch: pytest.MonkeyPatch
) -> None:
    await (await LocalStore.open(db_path, storage_key)).close()
    broken = "CREATE TABLE half (a INTEGER);\nCREATE TABLE half (a INTEGER);"
    monkeypatch.setattr(client.store, "MIGRATIONS", (*MIGRATIONS, (SCHEMA_VERSION + 1, broken)))
    monkeypatch.setattr(client.store, "SCHEMA_VERSION", SCHEMA_VERSION + 1)
    with pytest.raises(StoreUnavailableError, match=f"migration {SCHEMA_VERSION + 1}"):
        await LocalStore.open(db_path, storage_key)
    assert _versions(db_path) == [SCHEMA_VERSION]
    assert "half" not in _tables(db_path)
    monkeypatch.undo()
    async with await LocalStore.open(db_path, storage_key) as store:
        await store.add_note(G1, N1, b"still usable")


@pytest.mark.asyncio
async def test_another_storage_key_is_refused_at_open(
    db_path: Path, storage_key: StorageKey
) -> None:
    async with await LocalStore.open(db_path, storage_key) as store:
        await store.add_note(G1, N1, b"mine")
    other = StorageKey.generate(DeterministicRandom("another profile"))
    with pytest.raises(StoreKeyError) as caught:
        await LocalStore.open(db_path, other)
    assert caught.value.code == "store_key"
    async with await LocalStore.open(db_path, storage_key) as store:
        note = await store.note(G1, N1)
        assert note is not None
        assert note.body == b"mine"


@pytest.mark.parametrize("stored", [b"", b"\x01" * 64, 7, "key_check"])
@pytest.mark.asyncio
async def test_a_damaged_key_check_is_refused(
    db_path: Path, storage_key: StorageKey, stored: object
) -> None:
    await (await LocalStore.open(db_path, storage_key)).close()
    with raw_db(db_path) as conn:
        conn.execute("UPDATE meta SET value = ? WHERE name = 'key_check'", (stored,))
    with pytest.raises(StoreKeyError):
        await LocalStore.open(db_path, storage_key)


# --- closing ------------------------------------------------------------------------------

CALLS: dict[str, Callable[[LocalStore], Awaitable[object]]] = {
    "save_group": lambda s: s.save_group(G1, b"state", 0),
    "load_group": lambda s: s.load_group(G1),
    "group_cursors": lambda s: s.group_cursors(),
    "delete_group": lambda s: s.delete_group(G1),
    "add_note": lambda s: s.add_note(G1, N1, b"body"),
    "set_note_seq": lambda s: s.set_note_seq(G1, N1, 1),
    "note": lambda s: s.note(G1, N1),
    "notes": lambda s: s.notes(G1),
    "enqueue": lambda s: s.enqueue("m", G1, b"payload"),
    "mark_sent": lambda s: s.mark_sent("m"),
    "mark_acked": lambda s: s.mark_acked("m", 1),
    "requeue": lambda s: s.requeue("m"),
    "outbox_entry": lambda s: s.outbox_entry("m"),
    "pending_outbox": lambda s: s.pending_outbox(),
    "prune_acked": lambda s: s.prune_acked(),
    "record_security_event": lambda s: s.record_security_event("invalid_signature"),
    "security_events": lambda s: s.security_events(),
    "record_tree_head": lambda s: s.record_tree_head(_head(1, 1)),
    "latest_tree_head": lambda s: s.latest_tree_head(),
    "tree_heads": lambda s: s.tree_heads(1),
    "save_key_package_secret": lambda s: s.save_key_package_secret(R1, b"secret"),
    "key_package_secret": lambda s: s.key_package_secret(R1),
    "delete_key_package_secret": lambda s: s.delete_key_package_secret(R1),
}


@pytest.mark.parametrize("call", CALLS)
@pytest.mark.asyncio
async def test_a_closed_store_refuses_every_call(store: LocalStore, call: str) -> None:
    await store.close()
    assert store.closed
    assert repr(store) == "LocalStore(closed)"
    with pytest.raises(StoreClosedError) as caught:
        await CALLS[call](store)
    assert caught.value.code == "store_closed"
    await store.close()  # idempotent


@pytest.mark.asyncio
async def test_a_closed_store_refuses_a_transaction(store: LocalStore) -> None:
    await store.close()
    with pytest.raises(StoreClosedError):
        async with store.transaction():
            pytest.fail("a transaction began on a closed store")


@pytest.mark.asyncio
async def test_a_transaction_object_is_dead_after_its_block(store: LocalStore) -> None:
    async with store.transaction() as tx:
        await tx.add_note(G1, N1, b"x")
    with pytest.raises(StoreClosedError, match="transaction has ended"):
        await tx.note(G1, N1)
    with pytest.raises(StoreClosedError):
        await tx.add_note(G1, N2, b"too late")
    assert [n.note_id for n in await store.notes(G1)] == [N1]


@pytest.mark.asyncio
async def test_close_waits_for_a_running_transaction(store: LocalStore) -> None:
    inside = asyncio.Event()
    release = asyncio.Event()

    async def writer() -> None:
        async with store.transaction() as tx:
            await tx.add_note(G1, N1, b"committed before the close")
            inside.set()
            await release.wait()

    task = asyncio.create_task(writer())
    await inside.wait()
    closing = asyncio.create_task(store.close())
    await asyncio.sleep(0.02)
    assert not closing.done()
    release.set()
    await task
    await closing
    assert store.closed


# --- transactions -------------------------------------------------------------------------


async def _fill(tx: client.store.StoreTransaction) -> None:
    await tx.save_group(G1, b"group state", 3)
    await tx.add_note(G1, N1, b"note body")
    await tx.enqueue("m-1", G1, b"payload")
    await tx.record_security_event("invalid_signature", group_id=G1)
    await tx.record_tree_head(_head(4, 4))
    await tx.save_key_package_secret(R1, b"kp secret")


async def _contents(store: LocalStore) -> list[object]:
    return [
        await store.load_group(G1),
        await store.notes(G1),
        await store.pending_outbox(),
        await store.security_events(),
        await store.latest_tree_head(),
        await store.key_package_secret(R1),
    ]


@pytest.mark.asyncio
async def test_an_exception_in_a_transaction_rolls_back_all_of_it(store: LocalStore) -> None:
    await store.enqueue("m-0", G2, b"queued before")
    with pytest.raises(CallerError):
        async with store.transaction() as tx:
            await _fill(tx)
            await tx.mark_sent("m-0")
            assert (await tx.note(G1, N1)) is not None  # visible inside the transaction
            raise CallerError
    assert await _contents(store) == [None, [], [await store.outbox_entry("m-0")], [], None, None]
    entry = await store.outbox_entry("m-0")
    assert entry is not None
    assert entry.state is OutboxState.QUEUED


@pytest.mark.asyncio
async def test_a_transaction_commits_all_of_it(store: LocalStore, db_path: Path) -> None:
    async with store.transaction() as tx:
        await _fill(tx)
    group = await store.load_group(G1)
    assert group is not None
    assert (group.state, group.cursor) == (b"group state", 3)
    assert [n.body for n in await store.notes(G1)] == [b"note body"]
    assert [e.client_message_id for e in await store.pending_outbox()] == ["m-1"]
    assert [e.code for e in await store.security_events()] == ["invalid_signature"]
    assert await store.latest_tree_head() == _head(4, 4)
    secret = await store.key_package_secret(R1)
    assert secret is not None
    assert secret.secret == b"kp secret"
    with raw_db(db_path) as conn:  # committed: another connection sees it
        assert conn.execute("SELECT count(*) FROM outbox").fetchone() == (1,)


@pytest.mark.asyncio
async def test_a_sqlite_failure_becomes_unavailable_and_keeps_nothing(store: LocalStore) -> None:
    with pytest.raises(StoreUnavailableError, match="nothing was kept") as caught:
        async with store.transaction() as tx:
            await tx.add_note(G1, N1, b"x")
            raise sqlite3.OperationalError("disk I/O error")
    assert isinstance(caught.value.__cause__, sqlite3.OperationalError)
    assert await store.notes(G1) == []
    await store.add_note(G1, N1, b"the store still works")


@pytest.mark.asyncio
async def test_cancelling_a_transaction_rolls_it_back(store: LocalStore) -> None:
    inside = asyncio.Event()

    async def writer() -> None:
        async with store.transaction() as tx:
            await tx.add_note(G1, N1, b"x")
            inside.set()
            await asyncio.Event().wait()

    task = asyncio.create_task(writer())
    await inside.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await store.notes(G1) == []
    await store.add_note(G1, N2, b"the lock was released")


@pytest.mark.asyncio
async def test_calling_the_store_inside_its_own_transaction_is_an_error(
    store: LocalStore,
) -> None:
    async with asyncio.timeout(5):  # a regression would deadlock, not fail
        async with store.transaction() as tx:
            with pytest.raises(StoreReentrancyError) as caught:
                await store.add_note(G1, N1, b"through the store")
            assert caught.value.code == "store_reentrant"
            with pytest.raises(StoreReentrancyError):
                async with store.transaction():
                    pytest.fail("a nested transaction began")
            await tx.add_note(G1, N2, b"through the transaction")
    assert [n.note_id for n in await store.notes(G1)] == [N2]


@pytest.mark.asyncio
async def test_closing_the_store_inside_its_own_transaction_is_an_error(
    store: LocalStore,
) -> None:
    async with asyncio.timeout(5):  # a regression would deadlock, not fail
        async with store.transaction() as tx:
            with pytest.raises(StoreReentrancyError):
                await store.close()
            await tx.add_note(G1, N1, b"still open")
    assert not store.closed
    assert len(await store.notes(G1)) == 1


@pytest.mark.asyncio
async def test_one_tasks_rollback_never_discards_another_tasks_rows(store: LocalStore) -> None:
    inside = asyncio.Event()
    release = asyncio.Event()

    async def failing() -> None:
        async with store.transaction() as tx:
            await tx.add_note(G1, N1, b"rolled back")
            inside.set()
            await release.wait()
            raise CallerError

    first = asyncio.create_task(failing())
    await inside.wait()
    second = asyncio.create_task(store.add_note(G1, N2, b"kept"))
    await asyncio.sleep(0.02)
    assert not second.done()  # it waits for the first transaction instead of joining it
    release.set()
    with pytest.raises(CallerError):
        await first
    await second
    assert [(n.note_id, n.body) for n in await store.notes(G1)] == [(N2, b"kept")]


# --- groups -------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_group_state_and_cursor(clocked: LocalStore, clock: FakeClock) -> None:
    assert await clocked.load_group(G1) is None
    await clocked.save_group(G1, b"epoch 1", 5)
    record = await clocked.load_group(G1)
    assert record is not None
    assert (record.group_id, record.state, record.cursor, record.updated_at) == (
        G1,
        b"epoch 1",
        5,
        T0,
    )
    clock.now += 60
    await clocked.save_group(G1, b"epoch 1 again", 5)  # the same cursor: allowed
    await clocked.save_group(G1, b"epoch 2", 9)
    await clocked.save_group(G2, b"other", 0)
    record = await clocked.load_group(G1)
    assert record is not None
    assert (record.state, record.cursor, record.updated_at) == (b"epoch 2", 9, T0 + 60)
    assert await clocked.group_cursors() == {G1: 9, G2: 0}
    assert "epoch" not in repr(record)


@pytest.mark.asyncio
async def test_a_cursor_never_moves_back(store: LocalStore) -> None:
    await store.save_group(G1, b"newer", 9)
    with pytest.raises(StoreCursorError) as caught:
        await store.save_group(G1, b"older", 8)
    assert caught.value.code == "store_cursor"
    record = await store.load_group(G1)
    assert record is not None
    assert (record.state, record.cursor) == (b"newer", 9)


@pytest.mark.parametrize("cursor", [-1, 1 << 63, True, 1.0])
@pytest.mark.asyncio
async def test_a_cursor_is_a_non_negative_int64(store: LocalStore, cursor: Any) -> None:
    with pytest.raises(ValueError, match="cursor"):
        await store.save_group(G1, b"state", cursor)
    assert await store.load_group(G1) is None


@pytest.mark.asyncio
async def test_delete_group(store: LocalStore) -> None:
    await store.save_group(G1, b"state", 1)
    await store.save_group(G2, b"state", 1)
    assert await store.delete_group(G1) is True
    assert await store.delete_group(G1) is False
    assert await store.load_group(G1) is None
    assert await store.group_cursors() == {G2: 1}


# --- notes --------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_notes_are_stored_and_read_back(clocked: LocalStore) -> None:
    record = await clocked.add_note(G1, N1, b"a note")
    assert (record.group_id, record.note_id, record.seq, record.body, record.stored_at) == (
        G1,
        N1,
        None,
        b"a note",
        T0,
    )
    assert await clocked.note(G1, N1) == record
    assert await clocked.note(G1, N2) is None
    assert await clocked.note(G2, N1) is None
    assert "a note" not in repr(record)


@pytest.mark.asyncio
async def test_a_note_id_is_unique_within_its_group(store: LocalStore) -> None:
    await store.add_note(G1, N1, b"first")
    with pytest.raises(DuplicateEntryError) as caught:
        await store.add_note(G1, N1, b"second")
    assert caught.value.code == "store_duplicate"
    await store.add_note(G2, N1, b"the same id in another case")
    first = await store.note(G1, N1)
    assert first is not None
    assert first.body == b"first"


@pytest.mark.asyncio
async def test_notes_are_in_relay_order_then_arrival_order(store: LocalStore) -> None:
    await store.add_note(G1, N1, b"a", seq=5)
    await store.add_note(G1, N2, b"b")
    await store.add_note(G1, N3, b"c", seq=2)
    await store.add_note(G1, N4, b"d")
    await store.add_note(G2, N1, b"other case", seq=1)
    assert [n.note_id for n in await store.notes(G1)] == [N3, N1, N2, N4]
    await store.set_note_seq(G1, N2, 9)
    assert [(n.note_id, n.seq) for n in await store.notes(G1)] == [
        (N3, 2),
        (N1, 5),
        (N2, 9),
        (N4, None),
    ]
    assert [n.body for n in await store.notes(G2)] == [b"other case"]


@pytest.mark.asyncio
async def test_set_note_seq_needs_the_note(store: LocalStore) -> None:
    with pytest.raises(StoreNotFoundError) as caught:
        await store.set_note_seq(G1, N1, 1)
    assert caught.value.code == "store_not_found"
    with pytest.raises(ValueError, match="seq"):
        await store.add_note(G1, N1, b"x", seq=-1)
    await store.add_note(G1, N1, b"x")
    with pytest.raises(ValueError, match="seq"):
        await store.set_note_seq(G1, N1, -1)


# --- outbox -------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_enqueue_is_durable_when_it_returns(clocked: LocalStore, db_path: Path) -> None:
    entry = await clocked.enqueue("m-1", G1, b"payload")
    assert (entry.client_message_id, entry.group_id, entry.state, entry.payload, entry.seq) == (
        "m-1",
        G1,
        OutboxState.QUEUED,
        b"payload",
        None,
    )
    assert entry.created_at == entry.updated_at == T0
    assert "payload" not in repr(entry)
    assert await clocked.outbox_entry("m-1") == entry
    with raw_db(db_path) as conn:
        assert conn.execute("SELECT client_message_id, state FROM outbox").fetchall() == [
            ("m-1", "queued")
        ]


@pytest.mark.asyncio
async def test_outbox_happy_path(clocked: LocalStore, clock: FakeClock) -> None:
    await clocked.enqueue("m-1", G1, b"first")
    await clocked.enqueue("m-2", G1, b"second")
    clock.now += 1
    await clocked.mark_sent("m-1")
    clock.now += 1
    await clocked.mark_acked("m-1", 41)
    entry = await clocked.outbox_entry("m-1")
    assert entry is not None
    assert (entry.state, entry.seq, entry.created_at, entry.updated_at) == (
        OutboxState.ACKED,
        41,
        T0,
        T0 + 2,
    )
    assert [e.client_message_id for e in await clocked.pending_outbox()] == ["m-2"]
    assert await clocked.prune_acked() == 1
    assert await clocked.prune_acked() == 0
    assert await clocked.outbox_entry("m-1") is None
    assert [e.client_message_id for e in await clocked.pending_outbox()] == ["m-2"]


@pytest.mark.asyncio
async def test_mark_acked_with_the_recorded_seq_is_a_no_op(
    clocked: LocalStore, clock: FakeClock
) -> None:
    await clocked.enqueue("m-1", G1, b"p")
    await clocked.mark_sent("m-1")
    await clocked.mark_acked("m-1", 7)
    before = await clocked.outbox_entry("m-1")
    clock.now += 100
    await clocked.mark_acked("m-1", 7)  # a resend after a lost ack returns the same seq
    assert await clocked.outbox_entry("m-1") == before
    with pytest.raises(OutboxStateError):
        await clocked.mark_acked("m-1", 8)
    assert await clocked.outbox_entry("m-1") == before


@pytest.mark.asyncio
async def test_requeue_with_a_rebuilt_payload(store: LocalStore) -> None:
    await store.enqueue("m-1", G1, b"built at epoch 3")
    await store.enqueue("m-2", G1, b"next")
    await store.mark_sent("m-1")
    await store.requeue("m-1", b"rebuilt at epoch 4")
    pending = await store.pending_outbox()
    assert [(e.client_message_id, e.state, e.payload, e.seq) for e in pending] == [
        ("m-1", OutboxState.QUEUED, b"rebuilt at epoch 4", None),  # keeps its place
        ("m-2", OutboxState.QUEUED, b"next", None),
    ]
    await store.mark_sent("m-1")
    await store.requeue("m-1")  # without a payload: the stored one stays
    entry = await store.outbox_entry("m-1")
    assert entry is not None
    assert entry.payload == b"rebuilt at epoch 4"


Q, S, A = OutboxState.QUEUED, OutboxState.SENT, OutboxState.ACKED
MOVES: dict[str, Callable[[LocalStore, str], Awaitable[None]]] = {
    "mark_sent": lambda s, m: s.mark_sent(m),
    "mark_acked(7)": lambda s, m: s.mark_acked(m, 7),
    "mark_acked(8)": lambda s, m: s.mark_acked(m, 8),
    "requeue": lambda s, m: s.requeue(m, b"rebuilt"),
}
LEGAL: dict[tuple[OutboxState, str], tuple[OutboxState, int | None]] = {
    (Q, "mark_sent"): (S, None),
    (S, "mark_acked(7)"): (A, 7),
    (S, "mark_acked(8)"): (A, 8),
    (S, "requeue"): (Q, None),
    (A, "mark_acked(7)"): (A, 7),  # the same seq again: a no-op
}


@pytest.mark.parametrize("move", MOVES)
@pytest.mark.parametrize("state", [Q, S, A])
@pytest.mark.asyncio
async def test_outbox_transition_table(store: LocalStore, state: OutboxState, move: str) -> None:
    await store.enqueue("m", G1, b"original")
    if state in (S, A):
        await store.mark_sent("m")
    if state is A:
        await store.mark_acked("m", 7)
    before = await store.outbox_entry("m")
    assert before is not None
    assert before.state is state
    if (state, move) in LEGAL:
        await MOVES[move](store, "m")
        after = await store.outbox_entry("m")
        assert after is not None
        assert (after.state, after.seq) == LEGAL[state, move]
    else:
        with pytest.raises(OutboxStateError) as caught:
            await MOVES[move](store, "m")
        assert caught.value.code == "outbox_state"
        assert await store.outbox_entry("m") == before


@pytest.mark.parametrize("move", MOVES)
@pytest.mark.asyncio
async def test_a_move_needs_the_entry(store: LocalStore, move: str) -> None:
    with pytest.raises(StoreNotFoundError):
        await MOVES[move](store, "never queued")


@pytest.mark.asyncio
async def test_a_client_message_id_is_queued_once(store: LocalStore) -> None:
    await store.enqueue("m-1", G1, b"first")
    with pytest.raises(DuplicateEntryError):
        await store.enqueue("m-1", G2, b"second")
    entry = await store.outbox_entry("m-1")
    assert entry is not None
    assert (entry.group_id, entry.payload) == (G1, b"first")


@pytest.mark.parametrize("bad", ["", "x" * 129, "café", "tab\there", "line\n", None, b"m-1"])
@pytest.mark.asyncio
async def test_client_message_ids_are_short_printable_ascii(store: LocalStore, bad: Any) -> None:
    with pytest.raises(ValueError, match="client message id"):
        await store.enqueue(bad, G1, b"p")
    assert await store.pending_outbox() == []


@pytest.mark.asyncio
async def test_the_longest_client_message_id(store: LocalStore) -> None:
    longest = "~" * client.store.MAX_CLIENT_MESSAGE_ID
    await store.enqueue(longest, G1, b"p")
    assert [e.client_message_id for e in await store.pending_outbox()] == [longest]


def test_new_client_message_ids_are_128_random_bits() -> None:
    value = new_client_message_id(DeterministicRandom("ids"))
    assert value == DeterministicRandom("ids").random_bytes(16).hex()
    assert len(value) == 32
    assert value != new_client_message_id(DeterministicRandom("other ids"))


# --- security events ----------------------------------------------------------------------


@pytest.mark.asyncio
async def test_security_events_are_recorded_and_listed(
    clocked: LocalStore, clock: FakeClock
) -> None:
    first = await clocked.record_security_event(
        SealedValueError.code, group_id=G1, device_id=DEVICE, seq=3
    )
    clock.now += 5
    second = await clocked.record_security_event("keystore_rollback")
    third = await clocked.record_security_event("invalid_signature", group_id=G2)
    assert (first.code, first.group_id, first.device_id, first.seq, first.at) == (
        "store_sealed_value",
        G1,
        DEVICE,
        3,
        T0,
    )
    assert (second.group_id, second.device_id, second.seq, second.at) == (None, None, None, T0 + 5)
    assert first.event_id < second.event_id < third.event_id
    assert await clocked.security_events() == [first, second, third]
    assert await clocked.security_events(after=first.event_id) == [second, third]
    assert await clocked.security_events(limit=2) == [first, second]
    assert await clocked.security_events(after=third.event_id) == []


@pytest.mark.parametrize(
    "code", ["", "Invalid", "has space", "1starts_with_digit", "a" * 65, "free text: secret"]
)
@pytest.mark.asyncio
async def test_a_security_event_is_a_stable_code_never_free_text(
    store: LocalStore, code: str
) -> None:
    with pytest.raises(ValueError, match="event code"):
        await store.record_security_event(code)
    assert await store.security_events() == []


@pytest.mark.asyncio
async def test_every_store_error_code_can_be_recorded(store: LocalStore) -> None:
    errors = [getattr(client.store, name) for name in client.store.__all__]
    codes = {e.code for e in errors if isinstance(e, type) and issubclass(e, StoreError)}
    assert {"store_sealed_value", "outbox_state", "store_key"} <= codes
    for code in sorted(codes):
        await store.record_security_event(code)
    assert sorted(e.code for e in await store.security_events()) == sorted(codes)


# --- tree heads ---------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_tree_heads_are_kept_and_forks_preserved(
    clocked: LocalStore, clock: FakeClock
) -> None:
    assert await clocked.latest_tree_head() is None
    small = _head(5, 0x55)
    assert await clocked.record_tree_head(small) is True
    assert await clocked.record_tree_head(small) is False
    clock.now += 10
    large = _head(9, 0xBB)
    assert await clocked.record_tree_head(large) is True
    assert await clocked.latest_tree_head() == large
    clock.now += 10
    fork = _head(9, 0x01)  # same size, another root: seen later, sorts first by root
    assert await clocked.record_tree_head(fork) is True
    assert await clocked.tree_heads(9) == [large, fork]
    assert await clocked.latest_tree_head() == large  # the first seen of that size
    assert await clocked.tree_heads(5) == [small]
    assert await clocked.tree_heads(7) == []


# --- key package secrets ------------------------------------------------------------------


@pytest.mark.asyncio
async def test_key_package_secrets_are_saved_read_and_deleted(clocked: LocalStore) -> None:
    await clocked.save_key_package_secret(R1, b"init key one")
    await clocked.save_key_package_secret(R2, b"init key two", last_resort=True)
    first = await clocked.key_package_secret(R1)
    assert first is not None
    assert (first.reference, first.secret, first.last_resort, first.created_at) == (
        R1,
        b"init key one",
        False,
        T0,
    )
    assert "init key" not in repr(first)
    second = await clocked.key_package_secret(R2)
    assert second is not None
    assert second.last_resort is True
    with pytest.raises(DuplicateEntryError):
        await clocked.save_key_package_secret(R1, b"replacement")
    assert await clocked.delete_key_package_secret(R1) is True
    assert await clocked.delete_key_package_secret(R1) is False
    assert await clocked.key_package_secret(R1) is None
    assert await clocked.key_package_secret(R2) == second


# --- the file on disk (L) -----------------------------------------------------------------


def _disk_bytes(db_path: Path) -> bytes:
    return b"".join(
        path.read_bytes()
        for path in (db_path, db_path.with_name(db_path.name + "-wal"))
        if path.exists()
    )


@pytest.mark.asyncio
async def test_sealed_fields_never_reach_the_disk_in_the_clear(
    db_path: Path, storage_key: StorageKey
) -> None:
    marker = b"CANARY-note-text-5e1f0c"
    store = await LocalStore.open(db_path, storage_key)
    try:
        await store.add_note(G1, N1, b"the body holds " + marker + b" somewhere")
        await store.enqueue("visible-client-message-id", G1, marker)
        await store.save_group(G1, marker * 3, 0)
        await store.save_key_package_secret(R1, marker)
        on_disk = _disk_bytes(db_path)
        assert b"visible-client-message-id" in on_disk  # the search finds what is clear
        assert marker not in on_disk
        assert marker[:12] not in on_disk
    finally:
        await store.close()
    on_disk = _disk_bytes(db_path)  # after the checkpoint into the main file
    assert b"visible-client-message-id" in on_disk
    assert marker not in on_disk


@pytest_asyncio.fixture
async def filled(db_path: Path, storage_key: StorageKey) -> Path:
    """A closed database with one row of every sealed kind, some of them twice."""
    async with await LocalStore.open(db_path, storage_key) as store:
        await store.save_group(G1, b"state of case 1", 1)
        await store.save_group(G2, b"state of case 2", 1)
        await store.add_note(G1, N1, b"note 1 of case 1")
        await store.add_note(G1, N2, b"note 2 of case 1")
        await store.add_note(G2, N1, b"note 1 of case 2")
        await store.enqueue("m-1", G1, b"outbox 1")
        await store.enqueue("m-2", G1, b"outbox 2")
        await store.save_key_package_secret(R1, b"secret 1")
        await store.save_key_package_secret(R2, b"secret 2")
    return db_path


READS: dict[str, Callable[[LocalStore], Awaitable[object]]] = {
    "note": lambda s: s.note(G1, N1),
    "notes": lambda s: s.notes(G1),
    "group": lambda s: s.load_group(G1),
    "outbox": lambda s: s.outbox_entry("m-1"),
    "pending": lambda s: s.pending_outbox(),
    "secret": lambda s: s.key_package_secret(R1),
}

# (what is moved, SELECT of the source value, UPDATE of the target, read, table, column)
SWAPS: list[tuple[str, str, tuple[Any, ...], str, tuple[Any, ...], str, str, str]] = [
    (
        "note body to another note",
        "SELECT body FROM notes WHERE group_id = ? AND note_id = ?",
        (G1, N2),
        "UPDATE notes SET body = ? WHERE group_id = ? AND note_id = ?",
        (G1, N1),
        "note",
        "notes",
        "body",
    ),
    (
        "note body to the same note id in another case",
        "SELECT body FROM notes WHERE group_id = ? AND note_id = ?",
        (G2, N1),
        "UPDATE notes SET body = ? WHERE group_id = ? AND note_id = ?",
        (G1, N1),
        "notes",
        "notes",
        "body",
    ),
    (
        "group state to another case",
        "SELECT state FROM groups WHERE group_id = ?",
        (G2,),
        "UPDATE groups SET state = ? WHERE group_id = ?",
        (G1,),
        "group",
        "groups",
        "state",
    ),
    (
        "outbox payload to another entry",
        "SELECT payload FROM outbox WHERE client_message_id = ?",
        ("m-2",),
        "UPDATE outbox SET payload = ? WHERE client_message_id = ?",
        ("m-1",),
        "outbox",
        "outbox",
        "payload",
    ),
    (
        "note body passed off as an outbox payload",
        "SELECT body FROM notes WHERE group_id = ? AND note_id = ?",
        (G1, N1),
        "UPDATE outbox SET payload = ? WHERE client_message_id = ?",
        ("m-1",),
        "pending",
        "outbox",
        "payload",
    ),
    (
        "outbox payload passed off as a note",
        "SELECT payload FROM outbox WHERE client_message_id = ?",
        ("m-1",),
        "UPDATE notes SET body = ? WHERE group_id = ? AND note_id = ?",
        (G1, N1),
        "note",
        "notes",
        "body",
    ),
    (
        "key package secret to another reference",
        "SELECT secret FROM key_package_secrets WHERE reference = ?",
        (R2,),
        "UPDATE key_package_secrets SET secret = ? WHERE reference = ?",
        (R1,),
        "secret",
        "key_package_secrets",
        "secret",
    ),
    (
        "key check passed off as group state",
        "SELECT value FROM meta WHERE name = ?",
        ("key_check",),
        "UPDATE groups SET state = ? WHERE group_id = ?",
        (G1,),
        "group",
        "groups",
        "state",
    ),
]


@pytest.mark.asyncio
async def test_every_sealed_row_opens_before_tampering(
    filled: Path, storage_key: StorageKey
) -> None:
    async with await LocalStore.open(filled, storage_key) as store:
        for read in READS.values():
            assert await read(store)


@pytest.mark.parametrize(
    ("select", "source", "update", "target", "read", "table", "column"),
    [pytest.param(*swap[1:], id=swap[0]) for swap in SWAPS],
)
@pytest.mark.asyncio
async def test_a_sealed_value_moved_to_another_place_does_not_open(
    filled: Path,
    storage_key: StorageKey,
    select: str,
    source: tuple[Any, ...],
    update: str,
    target: tuple[Any, ...],
    read: str,
    table: str,
    column: str,
) -> None:
    with raw_db(filled) as conn:
        (value,) = conn.execute(select, source).fetchone()
        assert conn.execute(update, (value, *target)).rowcount == 1
    async with await LocalStore.open(filled, storage_key) as store:
        with pytest.raises(SealedValueError) as caught:
            await READS[read](store)
        assert caught.value.code == "store_sealed_value"
        assert (caught.value.table, caught.value.column) == (table, column)
        assert (await store.note(G1, N2)) is not None  # untouched rows still open


@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param(lambda v: bytes([v[0]]) + bytes([v[1] ^ 1]) + v[2:], id="nonce bit"),
        pytest.param(lambda v: v[:-1] + bytes([v[-1] ^ 0x80]), id="tag bit"),
        pytest.param(lambda v: v[:-1], id="truncated"),
        pytest.param(lambda v: v + b"\x00", id="extended"),
        pytest.param(lambda v: 42, id="an integer"),
        pytest.param(lambda v: v.hex(), id="text"),
    ],
)
@pytest.mark.asyncio
async def test_a_damaged_sealed_value_does_not_open(
    filled: Path, storage_key: StorageKey, tamper: Callable[[bytes], object]
) -> None:
    with raw_db(filled) as conn:
        (value,) = conn.execute(
            "SELECT body FROM notes WHERE group_id = ? AND note_id = ?", (G1, N1)
        ).fetchone()
        conn.execute(
            "UPDATE notes SET body = ? WHERE group_id = ? AND note_id = ?",
            (tamper(value), G1, N1),
        )
    async with await LocalStore.open(filled, storage_key) as store:
        with pytest.raises(SealedValueError):
            await store.note(G1, N1)
        with pytest.raises(SealedValueError):
            await store.notes(G1)
