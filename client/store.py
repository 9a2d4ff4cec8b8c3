"""The device's local database (DESIGN.md §7–§8; ATTACKS.md F1, L, K4): one SQLite file in
the profile directory, its sensitive fields sealed under the keystore's storage key.

::

    table                 sealed (client.sealed_fields)       in the clear
    ───────────────────   ─────────────────────────────────   ───────────────────────────────
    groups                state (Group.to_bytes())            group id, relay cursor, time
    notes                 body                                group id, note id, relay seq,
                                                              arrival order, time
    outbox                payload                             client message id, group id,
                                                              state, relay seq, times
    key_package_secrets   secret                              KeyPackageRef, last resort, time
    security_events       — (holds no secrets)                error code, group and device
                                                              ids, relay seq, time
    tree_heads            — (relay-signed, public)            size, root hash, signed head
    meta                  value (a key check; the inbox       name
                          cursor)

What a thief of the locked disk reads is the right-hand column — identifiers the relay also
holds (docs/zero-knowledge.md), counts, times and padded sizes — never note text, case
content or key material. Sealed values are bound to their table, column and row, not to a
time: see :mod:`client.sealed_fields` for what that leaves open.

**Durability (F1).** WAL with ``synchronous=FULL``: when a write method returns, its
transaction is on disk and survives ``kill -9`` and power loss. :meth:`StoreTransaction.enqueue`
is how a note the user wrote becomes durable *before* anything is sent.

**One writer (DESIGN.md §7).** A :class:`LocalStore` owns one connection and one lock.
Every statement runs inside ``BEGIN IMMEDIATE … COMMIT`` while its task holds the lock, so
two tasks never share an open transaction: one task's rollback can never discard another's
rows. Group several writes atomically with :meth:`LocalStore.transaction`; the single-call
methods each run their own. Calling the store from inside a transaction of the same task
raises :class:`StoreReentrancyError` instead of deadlocking; a task started inside a
transaction that calls the store waits for it, so do not await such a task there.
A transaction cancelled while committing may have committed: after a restart, the outbox's
:meth:`~StoreTransaction.pending_outbox` is the truth.

**Outbox states.** An entry moves only along these transitions (anything else raises
:class:`OutboxStateError`)::

    queued ──mark_sent──► sent ──mark_acked(seq)──► acked
       ▲                   │
       └─────requeue───────┘   (the relay refused it retryably, e.g. 409 stale epoch)

``mark_acked`` with the sequence number already recorded is a no-op, as a resend after a
lost acknowledgement returns the original sequence number (DESIGN.md §7).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import sqlite3
import time
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from types import TracebackType
from typing import Any

import aiosqlite

from client.random import SystemRandom
from client.sealed_fields import (
    FieldSealer,
    SealedValueError,
    StorageKey,
    StoreError,
    row_key,
)
from client.store_migrations import MIGRATIONS, SCHEMA_VERSION
from crypto.random import RandomSource
from protocol.transparency import SignedTreeHead

__all__ = [
    "DuplicateEntryError",
    "GroupRecord",
    "KeyPackageSecret",
    "LocalStore",
    "NoteRecord",
    "OutboxEntry",
    "OutboxState",
    "OutboxStateError",
    "SealedValueError",
    "SecurityEvent",
    "StorageKey",
    "StoreClosedError",
    "StoreCursorError",
    "StoreError",
    "StoreKeyError",
    "StoreNotFoundError",
    "StoreReentrancyError",
    "StoreTransaction",
    "StoreUnavailableError",
    "StoreVersionError",
    "new_client_message_id",
]

MAX_CLIENT_MESSAGE_ID = 128
_KEY_CHECK = b"casecircle 1 local store key check"
_INBOX_CURSOR = "inbox_cursor"  # the meta row of the relay inbox cursor
_EVENT_CODE = re.compile(r"[a-z][a-z0-9_]{0,63}")
_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=FULL",
    "PRAGMA foreign_keys=ON",
    "PRAGMA secure_delete=ON",
    "PRAGMA trusted_schema=OFF",
    "PRAGMA busy_timeout=5000",
)


# --- errors -------------------------------------------------------------------------------


class StoreClosedError(StoreError):
    """The store (or the transaction) was closed; open it again from the unlocked profile."""

    code = "store_closed"


class StoreVersionError(StoreError):
    """The database was written by a newer casecircle, or is not a casecircle database."""

    code = "store_version"


class StoreKeyError(StoreError):
    """The database is sealed under another storage key: it belongs to another profile."""

    code = "store_key"


class StoreUnavailableError(StoreError):
    """SQLite failed (disk full, I/O error, locked): nothing of the transaction was kept."""

    code = "store_unavailable"


class StoreReentrancyError(StoreError):
    """The store was called from inside a transaction of the same task (use the
    transaction object instead)."""

    code = "store_reentrant"


class StoreNotFoundError(StoreError):
    """No row with this key."""

    code = "store_not_found"


class DuplicateEntryError(StoreError):
    """A row with this key exists already."""

    code = "store_duplicate"


class StoreCursorError(StoreError):
    """A relay cursor would move backwards: an older group state saved over a newer one."""

    code = "store_cursor"


class OutboxStateError(StoreError):
    """An outbox entry cannot make this transition (see the module docstring)."""

    code = "outbox_state"


# --- records ------------------------------------------------------------------------------


class OutboxState(StrEnum):
    QUEUED = "queued"
    SENT = "sent"
    ACKED = "acked"


_OUTBOX_TRANSITIONS: dict[tuple[OutboxState, OutboxState], str] = {
    (OutboxState.QUEUED, OutboxState.SENT): "handed to the relay, no answer yet",
    (OutboxState.SENT, OutboxState.ACKED): "the relay stored it under a sequence number",
    (OutboxState.SENT, OutboxState.QUEUED): "refused retryably: rebuild and send again",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class GroupRecord:
    """One case's MLS group state (to hand to ``Group.from_bytes``) and its relay cursor."""

    group_id: bytes
    state: bytes = field(repr=False)
    cursor: int
    updated_at: int


@dataclass(frozen=True, slots=True, kw_only=True)
class NoteRecord:
    """A note as the case layer stored it; ``seq`` is ``None`` until the relay assigned one."""

    group_id: bytes
    note_id: bytes
    seq: int | None
    body: bytes = field(repr=False)
    stored_at: int


@dataclass(frozen=True, slots=True, kw_only=True)
class OutboxEntry:
    """Something to send, durable before it is sent; ``seq`` is set once acknowledged."""

    client_message_id: str
    group_id: bytes
    state: OutboxState
    payload: bytes = field(repr=False)
    seq: int | None
    created_at: int
    updated_at: int


@dataclass(frozen=True, slots=True, kw_only=True)
class SecurityEvent:
    """A rejection: its stable error code and the public identifiers it concerned."""

    event_id: int
    code: str
    group_id: bytes | None
    device_id: bytes | None
    seq: int | None
    at: int


@dataclass(frozen=True, slots=True, kw_only=True)
class KeyPackageSecret:
    """The private keys of a published KeyPackage, kept until a Welcome uses them."""

    reference: bytes
    secret: bytes = field(repr=False)
    last_resort: bool
    created_at: int


def new_client_message_id(rng: RandomSource) -> str:
    """A fresh client message id: 128 random bits as 32 hex characters."""
    return rng.random_bytes(16).hex()


# --- transactions -------------------------------------------------------------------------


class StoreTransaction:
    """The operations of the local database, inside one open transaction.

    Obtained from :meth:`LocalStore.transaction`; valid until that block ends. Everything
    done through it commits together or not at all.
    """

    __slots__ = ("_conn", "_now", "_open", "_sealer")

    def __init__(self, conn: aiosqlite.Connection, sealer: FieldSealer, now: int) -> None:
        self._conn = conn
        self._sealer = sealer
        self._now = now
        self._open = True

    # -- groups --------------------------------------------------------------------------

    async def save_group(self, group_id: bytes, state: bytes, cursor: int) -> None:
        """Store a group's state with the relay cursor it reflects (insert or replace).

        Save both in one go after processing a message, so that after a crash the state
        and the cursor agree. A cursor below the stored one raises :class:`StoreCursorError`.
        """
        _check_seq(cursor, "cursor")
        row = await self._one("SELECT cursor FROM groups WHERE group_id = ?", (group_id,))
        if row is not None and cursor < row[0]:
            raise StoreCursorError(f"the relay cursor would move back from {row[0]} to {cursor}")
        sealed = self._sealer.seal("groups", "state", row_key(group_id), state)
        await self._run(
            "INSERT INTO groups (group_id, state, cursor, updated_at) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (group_id) DO UPDATE SET"
            " state = excluded.state, cursor = excluded.cursor, updated_at = excluded.updated_at",
            (group_id, sealed, cursor, self._now),
        )

    async def load_group(self, group_id: bytes) -> GroupRecord | None:
        row = await self._one(
            "SELECT group_id, state, cursor, updated_at FROM groups WHERE group_id = ?",
            (group_id,),
        )
        if row is None:
            return None
        return GroupRecord(
            group_id=row[0],
            state=self._sealer.open("groups", "state", row_key(row[0]), row[1]),
            cursor=row[2],
            updated_at=row[3],
        )

    async def group_cursors(self) -> dict[bytes, int]:
        """Every group's relay cursor, without opening any group state."""
        rows = await self._all("SELECT group_id, cursor FROM groups ORDER BY group_id")
        return {row[0]: row[1] for row in rows}

    async def delete_group(self, group_id: bytes) -> bool:
        return await self._run("DELETE FROM groups WHERE group_id = ?", (group_id,)) > 0

    # -- inbox ---------------------------------------------------------------------------

    async def inbox_cursor(self) -> int:
        """The id of the last relay inbox item this device handled (0: none yet)."""
        row = await self._one("SELECT value FROM meta WHERE name = ?", (_INBOX_CURSOR,))
        if row is None:
            return 0
        value = self._sealer.open("meta", "value", row_key(_INBOX_CURSOR), row[0])
        if len(value) != 8:
            raise SealedValueError("meta", "value")  # not the uint64 written here
        return int.from_bytes(value, "big")

    async def save_inbox_cursor(self, cursor: int) -> None:
        """Record that the inbox was handled up to item ``cursor``. Like a group's cursor it
        never moves back (:class:`StoreCursorError`): a stale caller cannot make the device
        look at an inbox item twice. Sealed, so the locked disk cannot move it either."""
        _check_seq(cursor, "cursor")
        current = await self.inbox_cursor()
        if cursor < current:
            raise StoreCursorError(f"the inbox cursor would move back from {current} to {cursor}")
        sealed = self._sealer.seal(
            "meta", "value", row_key(_INBOX_CURSOR), cursor.to_bytes(8, "big")
        )
        await self._run(
            "INSERT INTO meta (name, value) VALUES (?, ?)"
            " ON CONFLICT (name) DO UPDATE SET value = excluded.value",
            (_INBOX_CURSOR, sealed),
        )

    # -- notes ---------------------------------------------------------------------------

    async def add_note(
        self, group_id: bytes, note_id: bytes, body: bytes, *, seq: int | None = None
    ) -> NoteRecord:
        """Store a note (a second note with this id in this group: :class:`DuplicateEntryError`)."""
        if seq is not None:
            _check_seq(seq, "seq")
        sealed = self._sealer.seal("notes", "body", row_key(group_id, note_id), body)
        await self._insert(
            "INSERT INTO notes (group_id, note_id, seq, body, stored_at) VALUES (?, ?, ?, ?, ?)",
            (group_id, note_id, seq, sealed, self._now),
            what="note",
        )
        return NoteRecord(
            group_id=group_id, note_id=note_id, seq=seq, body=body, stored_at=self._now
        )

    async def set_note_seq(self, group_id: bytes, note_id: bytes, seq: int) -> None:
        """Record the relay sequence number of a note sent from here."""
        _check_seq(seq, "seq")
        changed = await self._run(
            "UPDATE notes SET seq = ? WHERE group_id = ? AND note_id = ?",
            (seq, group_id, note_id),
        )
        if not changed:
            raise StoreNotFoundError("no such note")

    async def note(self, group_id: bytes, note_id: bytes) -> NoteRecord | None:
        row = await self._one(
            "SELECT group_id, note_id, seq, body, stored_at FROM notes"
            " WHERE group_id = ? AND note_id = ?",
            (group_id, note_id),
        )
        return None if row is None else self._note(row)

    async def notes(self, group_id: bytes) -> list[NoteRecord]:
        """A group's notes in relay order; notes not yet sequenced follow in arrival order."""
        rows = await self._all(
            "SELECT group_id, note_id, seq, body, stored_at FROM notes WHERE group_id = ?"
            " ORDER BY seq IS NULL, seq, position",
            (group_id,),
        )
        return [self._note(row) for row in rows]

    # -- outbox --------------------------------------------------------------------------

    async def enqueue(self, client_message_id: str, group_id: bytes, payload: bytes) -> OutboxEntry:
        """Queue ``payload`` for ``group_id``; durable once the transaction commits."""
        _check_client_message_id(client_message_id)
        sealed = self._seal_payload(client_message_id, payload)
        await self._insert(
            "INSERT INTO outbox (client_message_id, group_id, state, payload, seq,"
            " created_at, updated_at) VALUES (?, ?, ?, ?, NULL, ?, ?)",
            (client_message_id, group_id, OutboxState.QUEUED.value, sealed, self._now, self._now),
            what="outbox entry",
        )
        return OutboxEntry(
            client_message_id=client_message_id,
            group_id=group_id,
            state=OutboxState.QUEUED,
            payload=payload,
            seq=None,
            created_at=self._now,
            updated_at=self._now,
        )

    async def mark_sent(self, client_message_id: str) -> None:
        await self._move(client_message_id, OutboxState.SENT)

    async def mark_acked(self, client_message_id: str, seq: int) -> None:
        _check_seq(seq, "seq")
        entry = await self._outbox_state(client_message_id)
        if entry == (OutboxState.ACKED, seq):
            return
        await self._move(client_message_id, OutboxState.ACKED, seq=seq)

    async def requeue(self, client_message_id: str, payload: bytes | None = None) -> None:
        """Back from ``sent`` to ``queued``, optionally with a rebuilt payload."""
        await self._move(client_message_id, OutboxState.QUEUED, payload=payload)

    async def outbox_entry(self, client_message_id: str) -> OutboxEntry | None:
        row = await self._one(
            "SELECT client_message_id, group_id, state, payload, seq, created_at, updated_at"
            " FROM outbox WHERE client_message_id = ?",
            (client_message_id,),
        )
        return None if row is None else self._outbox(row)

    async def pending_outbox(self, group_id: bytes | None = None) -> list[OutboxEntry]:
        """Entries queued or sent but not acknowledged (only ``group_id``'s, if given), in
        the order they were queued."""
        rows = await self._all(
            "SELECT client_message_id, group_id, state, payload, seq, created_at, updated_at"
            " FROM outbox WHERE state IN ('queued', 'sent') AND (? IS NULL OR group_id = ?)"
            " ORDER BY position",
            (group_id, group_id),
        )
        return [self._outbox(row) for row in rows]

    async def pending_outbox_groups(self) -> list[bytes]:
        """The groups with entries not yet acknowledged, in the order of each one's oldest
        entry; nothing is unsealed."""
        rows = await self._all(
            "SELECT group_id FROM outbox WHERE state IN ('queued', 'sent')"
            " GROUP BY group_id ORDER BY min(position)"
        )
        return [row[0] for row in rows]

    async def prune_acked(self) -> int:
        """Delete acknowledged entries; how many were deleted."""
        return await self._run("DELETE FROM outbox WHERE state = 'acked'")

    # -- security events -----------------------------------------------------------------

    async def record_security_event(
        self,
        code: str,
        *,
        group_id: bytes | None = None,
        device_id: bytes | None = None,
        seq: int | None = None,
    ) -> SecurityEvent:
        """Log a rejection by its stable error code (``CasecircleError.code``).

        There is deliberately no free-text field: a message could carry what must not be
        kept (ATTACKS.md K4).
        """
        if not isinstance(code, str) or not _EVENT_CODE.fullmatch(code):
            raise ValueError("an event code is a stable error code such as 'invalid_signature'")
        if seq is not None:
            _check_seq(seq, "seq")
        event_id = await self._insert(
            "INSERT INTO security_events (code, group_id, device_id, seq, at)"
            " VALUES (?, ?, ?, ?, ?)",
            (code, group_id, device_id, seq, self._now),
            what="security event",
        )
        return SecurityEvent(
            event_id=event_id,
            code=code,
            group_id=group_id,
            device_id=device_id,
            seq=seq,
            at=self._now,
        )

    async def security_events(self, *, after: int = 0, limit: int = 1000) -> list[SecurityEvent]:
        """Events with ``event_id`` above ``after``, oldest first."""
        rows = await self._all(
            "SELECT event_id, code, group_id, device_id, seq, at FROM security_events"
            " WHERE event_id > ? ORDER BY event_id LIMIT ?",
            (after, limit),
        )
        return [
            SecurityEvent(
                event_id=r[0], code=r[1], group_id=r[2], device_id=r[3], seq=r[4], at=r[5]
            )
            for r in rows
        ]

    # -- transparency tree heads ---------------------------------------------------------

    async def record_tree_head(self, head: SignedTreeHead) -> bool:
        """Keep a tree head whose signature the caller has verified; ``False`` if known.

        Two heads of one size with different roots are both kept: together they prove the
        relay forked its log (ATTACKS.md A6).
        """
        changed = await self._run(
            "INSERT INTO tree_heads (tree_size, root_hash, signed, seen_at) VALUES (?, ?, ?, ?)"
            " ON CONFLICT DO NOTHING",
            (head.tree_head.tree_size, head.tree_head.root_hash, head.to_bytes(), self._now),
        )
        return changed > 0

    async def latest_tree_head(self) -> SignedTreeHead | None:
        """The largest head seen (the first seen, if the relay signed several of that size)."""
        row = await self._one(
            "SELECT signed FROM tree_heads ORDER BY tree_size DESC, seen_at, root_hash LIMIT 1"
        )
        return None if row is None else SignedTreeHead.from_bytes(row[0])

    async def tree_heads(self, tree_size: int) -> list[SignedTreeHead]:
        rows = await self._all(
            "SELECT signed FROM tree_heads WHERE tree_size = ? ORDER BY seen_at, root_hash",
            (tree_size,),
        )
        return [SignedTreeHead.from_bytes(row[0]) for row in rows]

    # -- key package private keys --------------------------------------------------------

    async def save_key_package_secret(
        self, reference: bytes, secret: bytes, *, last_resort: bool = False
    ) -> None:
        sealed = self._sealer.seal("key_package_secrets", "secret", row_key(reference), secret)
        await self._insert(
            "INSERT INTO key_package_secrets (reference, secret, last_resort, created_at)"
            " VALUES (?, ?, ?, ?)",
            (reference, sealed, int(last_resort), self._now),
            what="key package",
        )

    async def key_package_secret(self, reference: bytes) -> KeyPackageSecret | None:
        row = await self._one(
            "SELECT reference, secret, last_resort, created_at FROM key_package_secrets"
            " WHERE reference = ?",
            (reference,),
        )
        if row is None:
            return None
        return KeyPackageSecret(
            reference=row[0],
            secret=self._sealer.open("key_package_secrets", "secret", row_key(row[0]), row[1]),
            last_resort=bool(row[2]),
            created_at=row[3],
        )

    async def delete_key_package_secret(self, reference: bytes) -> bool:
        """Forget a used KeyPackage's keys (ATTACKS.md A10: a KeyPackage is used once)."""
        deleted = await self._run(
            "DELETE FROM key_package_secrets WHERE reference = ?", (reference,)
        )
        return deleted > 0

    # -- internals -----------------------------------------------------------------------

    def _finish(self) -> None:
        self._open = False

    def _live(self) -> aiosqlite.Connection:
        if not self._open:
            raise StoreClosedError("the transaction has ended")
        return self._conn

    async def _one(self, sql: str, params: Iterable[Any] = ()) -> Any:
        rows = await self._all(sql, params)
        return rows[0] if rows else None

    async def _all(self, sql: str, params: Iterable[Any] = ()) -> list[Any]:
        return list(await self._live().execute_fetchall(sql, tuple(params)))

    async def _run(self, sql: str, params: Iterable[Any] = ()) -> int:
        async with self._live().execute(sql, tuple(params)) as cursor:
            return cursor.rowcount

    async def _insert(self, sql: str, params: Iterable[Any], *, what: str) -> int:
        try:
            row = await self._live().execute_insert(sql, tuple(params))
        except sqlite3.IntegrityError:
            raise DuplicateEntryError(f"this {what} is stored already") from None
        assert row is not None  # execute_insert always reads last_insert_rowid()
        rowid: int = row[0]
        return rowid

    def _seal_payload(self, client_message_id: str, payload: bytes) -> bytes:
        return self._sealer.seal("outbox", "payload", row_key(client_message_id), payload)

    async def _outbox_state(self, client_message_id: str) -> tuple[OutboxState, int | None]:
        row = await self._one(
            "SELECT state, seq FROM outbox WHERE client_message_id = ?", (client_message_id,)
        )
        if row is None:
            raise StoreNotFoundError("no such outbox entry")
        return OutboxState(row[0]), row[1]

    async def _move(
        self,
        client_message_id: str,
        target: OutboxState,
        *,
        seq: int | None = None,
        payload: bytes | None = None,
    ) -> None:
        current, _ = await self._outbox_state(client_message_id)
        if (current, target) not in _OUTBOX_TRANSITIONS:
            raise OutboxStateError(f"an outbox entry cannot go from {current} to {target}")
        sealed = None if payload is None else self._seal_payload(client_message_id, payload)
        await self._run(
            "UPDATE outbox SET state = ?, seq = ?, updated_at = ?, payload = coalesce(?, payload)"
            " WHERE client_message_id = ?",
            (target.value, seq, self._now, sealed, client_message_id),
        )

    def _note(self, row: Any) -> NoteRecord:
        group_id, note_id = row[0], row[1]
        return NoteRecord(
            group_id=group_id,
            note_id=note_id,
            seq=row[2],
            body=self._sealer.open("notes", "body", row_key(group_id, note_id), row[3]),
            stored_at=row[4],
        )

    def _outbox(self, row: Any) -> OutboxEntry:
        client_message_id = row[0]
        return OutboxEntry(
            client_message_id=client_message_id,
            group_id=row[1],
            state=OutboxState(row[2]),
            payload=self._sealer.open("outbox", "payload", row_key(client_message_id), row[3]),
            seq=row[4],
            created_at=row[5],
            updated_at=row[6],
        )


def _check_seq(value: int, name: str) -> None:
    if type(value) is not int or not 0 <= value < 1 << 63:
        raise ValueError(f"{name} must be an integer in 0..2^63-1")


def _check_client_message_id(value: str) -> None:
    if (
        not isinstance(value, str)
        or not 1 <= len(value) <= MAX_CLIENT_MESSAGE_ID
        or not value.isascii()
        or not value.isprintable()
    ):
        raise ValueError(
            f"a client message id is 1 to {MAX_CLIENT_MESSAGE_ID} printable ASCII characters"
        )


# --- the store ----------------------------------------------------------------------------


class LocalStore:
    """The local database of one unlocked profile. Open with :meth:`open`, close with
    :meth:`close` (or ``async with``); the unlocked profile closes it when it locks."""

    def __init__(
        self, conn: aiosqlite.Connection, sealer: FieldSealer, clock: Callable[[], float]
    ) -> None:
        """Use :meth:`open`."""
        self._conn: aiosqlite.Connection | None = conn
        self._sealer = sealer
        self._clock = clock
        self._lock = asyncio.Lock()
        self._holder: asyncio.Task[Any] | None = None

    @classmethod
    async def open(
        cls,
        path: Path,
        storage_key: StorageKey,
        *,
        rng: RandomSource | None = None,
        clock: Callable[[], float] = time.time,
    ) -> LocalStore:
        """Open (creating and migrating if needed) the database at ``path``.

        Raises :class:`StoreKeyError` if the file is sealed under another storage key and
        :class:`StoreVersionError` if a newer casecircle wrote it.
        """
        sealer = FieldSealer(storage_key, SystemRandom() if rng is None else rng)
        try:
            await asyncio.to_thread(_create_private_file, path)
            conn = await aiosqlite.connect(path, isolation_level=None)
        except (OSError, sqlite3.Error) as exc:
            sealer.wipe()
            raise StoreUnavailableError("the local database could not be opened") from exc
        store = cls(conn, sealer, clock)
        try:
            await _configure(conn)
            await _migrate(conn)
            await store._check_storage_key()
        except BaseException:
            await store.close()
            raise
        return store

    @property
    def closed(self) -> bool:
        return self._conn is None

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[StoreTransaction]:
        """One ``BEGIN IMMEDIATE … COMMIT``: all of the block's writes, or none of them.

        An exception in the block rolls back and propagates; a SQLite failure (disk full,
        I/O error) becomes :class:`StoreUnavailableError`.
        """
        task = asyncio.current_task()
        if task is not None and self._holder is task:
            raise StoreReentrancyError("the store was called from inside its own transaction")
        async with self._lock:
            conn = self._connection()
            self._holder = task
            tx = StoreTransaction(conn, self._sealer, int(self._clock()))
            try:
                await conn.execute("BEGIN IMMEDIATE")
                try:
                    yield tx
                    await conn.execute("COMMIT")
                except BaseException:
                    await _rollback(conn)
                    raise
            except sqlite3.Error as exc:
                raise StoreUnavailableError(
                    f"the local database failed ({type(exc).__name__}); nothing was kept"
                ) from exc
            finally:
                tx._finish()
                self._holder = None

    async def close(self) -> None:
        """Wait for a running transaction, close the connection and drop the field key."""
        task = asyncio.current_task()
        if task is not None and self._holder is task:
            raise StoreReentrancyError("the store was closed from inside its own transaction")
        async with self._lock:
            conn, self._conn = self._conn, None
            self._sealer.wipe()
            if conn is not None:
                await conn.close()

    async def __aenter__(self) -> LocalStore:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    def __repr__(self) -> str:
        return f"LocalStore({'closed' if self.closed else 'open'})"

    # -- one-call forms of the transaction's operations ----------------------------------

    async def save_group(self, group_id: bytes, state: bytes, cursor: int) -> None:
        async with self.transaction() as tx:
            await tx.save_group(group_id, state, cursor)

    async def load_group(self, group_id: bytes) -> GroupRecord | None:
        async with self.transaction() as tx:
            return await tx.load_group(group_id)

    async def group_cursors(self) -> dict[bytes, int]:
        async with self.transaction() as tx:
            return await tx.group_cursors()

    async def delete_group(self, group_id: bytes) -> bool:
        async with self.transaction() as tx:
            return await tx.delete_group(group_id)

    async def inbox_cursor(self) -> int:
        async with self.transaction() as tx:
            return await tx.inbox_cursor()

    async def save_inbox_cursor(self, cursor: int) -> None:
        async with self.transaction() as tx:
            await tx.save_inbox_cursor(cursor)

    async def add_note(
        self, group_id: bytes, note_id: bytes, body: bytes, *, seq: int | None = None
    ) -> NoteRecord:
        async with self.transaction() as tx:
            return await tx.add_note(group_id, note_id, body, seq=seq)

    async def set_note_seq(self, group_id: bytes, note_id: bytes, seq: int) -> None:
        async with self.transaction() as tx:
            await tx.set_note_seq(group_id, note_id, seq)

    async def note(self, group_id: bytes, note_id: bytes) -> NoteRecord | None:
        async with self.transaction() as tx:
            return await tx.note(group_id, note_id)

    async def notes(self, group_id: bytes) -> list[NoteRecord]:
        async with self.transaction() as tx:
            return await tx.notes(group_id)

    async def enqueue(self, client_message_id: str, group_id: bytes, payload: bytes) -> OutboxEntry:
        """Queue ``payload``; when this returns the entry is on disk (F1)."""
        async with self.transaction() as tx:
            return await tx.enqueue(client_message_id, group_id, payload)

    async def mark_sent(self, client_message_id: str) -> None:
        async with self.transaction() as tx:
            await tx.mark_sent(client_message_id)

    async def mark_acked(self, client_message_id: str, seq: int) -> None:
        async with self.transaction() as tx:
            await tx.mark_acked(client_message_id, seq)

    async def requeue(self, client_message_id: str, payload: bytes | None = None) -> None:
        async with self.transaction() as tx:
            await tx.requeue(client_message_id, payload)

    async def outbox_entry(self, client_message_id: str) -> OutboxEntry | None:
        async with self.transaction() as tx:
            return await tx.outbox_entry(client_message_id)

    async def pending_outbox(self, group_id: bytes | None = None) -> list[OutboxEntry]:
        async with self.transaction() as tx:
            return await tx.pending_outbox(group_id)

    async def pending_outbox_groups(self) -> list[bytes]:
        async with self.transaction() as tx:
            return await tx.pending_outbox_groups()

    async def prune_acked(self) -> int:
        async with self.transaction() as tx:
            return await tx.prune_acked()

    async def record_security_event(
        self,
        code: str,
        *,
        group_id: bytes | None = None,
        device_id: bytes | None = None,
        seq: int | None = None,
    ) -> SecurityEvent:
        async with self.transaction() as tx:
            return await tx.record_security_event(
                code, group_id=group_id, device_id=device_id, seq=seq
            )

    async def security_events(self, *, after: int = 0, limit: int = 1000) -> list[SecurityEvent]:
        async with self.transaction() as tx:
            return await tx.security_events(after=after, limit=limit)

    async def record_tree_head(self, head: SignedTreeHead) -> bool:
        async with self.transaction() as tx:
            return await tx.record_tree_head(head)

    async def latest_tree_head(self) -> SignedTreeHead | None:
        async with self.transaction() as tx:
            return await tx.latest_tree_head()

    async def tree_heads(self, tree_size: int) -> list[SignedTreeHead]:
        async with self.transaction() as tx:
            return await tx.tree_heads(tree_size)

    async def save_key_package_secret(
        self, reference: bytes, secret: bytes, *, last_resort: bool = False
    ) -> None:
        async with self.transaction() as tx:
            await tx.save_key_package_secret(reference, secret, last_resort=last_resort)

    async def key_package_secret(self, reference: bytes) -> KeyPackageSecret | None:
        async with self.transaction() as tx:
            return await tx.key_package_secret(reference)

    async def delete_key_package_secret(self, reference: bytes) -> bool:
        async with self.transaction() as tx:
            return await tx.delete_key_package_secret(reference)

    # -- internals -----------------------------------------------------------------------

    def _connection(self) -> aiosqlite.Connection:
        if self._conn is None:
            raise StoreClosedError("the local database is closed")
        return self._conn

    async def _check_storage_key(self) -> None:
        """Refuse a database sealed under another key now, not at the first sealed read."""
        async with self.transaction() as tx:
            row = await tx._one("SELECT value FROM meta WHERE name = 'key_check'")
            if row is None:
                sealed = self._sealer.seal("meta", "value", row_key("key_check"), _KEY_CHECK)
                await tx._run("INSERT INTO meta (name, value) VALUES ('key_check', ?)", (sealed,))
                return
            try:
                value = self._sealer.open("meta", "value", row_key("key_check"), row[0])
            except SealedValueError:
                value = b""
            if value != _KEY_CHECK:
                raise StoreKeyError("the local database belongs to another profile")


def _create_private_file(path: Path) -> None:
    """Create ``path`` readable by its owner only (SQLite gives its -wal and -shm files the
    same mode) unless it exists."""
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


async def _configure(conn: aiosqlite.Connection) -> None:
    try:
        for pragma in _PRAGMAS:
            await conn.execute(pragma)
        mode = await conn.execute_fetchall("PRAGMA journal_mode")
    except sqlite3.Error as exc:
        if getattr(exc, "sqlite_errorname", None) == "SQLITE_NOTADB":
            raise StoreVersionError("not a casecircle local database") from exc
        raise StoreUnavailableError("the local database could not be set up") from exc
    if next(iter(mode))[0] != "wal":
        raise StoreUnavailableError("the local database could not switch to WAL mode")


async def _migrate(conn: aiosqlite.Connection) -> None:
    """Apply every migration newer than the stored version, each in its own transaction."""
    try:
        await conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
        rows = await conn.execute_fetchall("SELECT max(version) FROM schema_version")
    except sqlite3.DatabaseError as exc:
        raise StoreVersionError("not a casecircle local database") from exc
    current: int = next(iter(rows))[0] or 0
    if current > SCHEMA_VERSION:
        raise StoreVersionError(
            f"the local database is at schema version {current}; this casecircle knows"
            f" up to {SCHEMA_VERSION}"
        )
    for version, script in MIGRATIONS:
        if version <= current:
            continue
        try:
            await conn.executescript(
                f"BEGIN IMMEDIATE;\n{script}\n"
                f"INSERT INTO schema_version (version) VALUES ({int(version)});\nCOMMIT;"
            )
        except sqlite3.Error as exc:
            await _rollback(conn)
            raise StoreUnavailableError(f"migration {version} failed") from exc


async def _rollback(conn: aiosqlite.Connection) -> None:
    """Roll back if a transaction is open (a COMMIT that went through before a cancellation
    leaves none); never raises, so the original error is the one reported."""
    with contextlib.suppress(sqlite3.Error, ValueError):
        await conn.execute("ROLLBACK")
