"""The default storage: SQLite, WAL, ``synchronous=FULL``.

Two connections: the write connection (plain ``sqlite3``) belongs to a
:class:`GroupCommitWriter`, which runs each batch on its own thread (one batch, one
transaction, one fsync; see :mod:`server.storage.writer`), and a separate aiosqlite read
connection serves fetches. In WAL mode the reader sees every committed batch and never
blocks the writer. Each read runs its statement to the end in one call: a statement left
open between awaits, while other requests start theirs, would keep the shared read
connection on one old snapshot, hiding later commits from every read and holding back
checkpoints. Every rule that must hold across requests is checked inside the write
operation, so concurrent requests are ordered by the writer alone. The operations of group
delivery (sends, external proposals) are in :mod:`server.storage.sqlite_delivery`.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import itertools
import sqlite3
from collections.abc import AsyncIterator, Callable, Sequence
from pathlib import Path
from typing import Any

import aiosqlite

from server.errors import (
    ConflictError,
    DeviceExistsError,
    EnrolmentDecidedError,
    EnrolmentsFullError,
    InviteUsedError,
    NotFoundError,
    NotOnRosterError,
    QuotaExceededError,
    StorageUnavailableError,
    TooLargeError,
    UnknownDeviceError,
)
from server.storage.interface import (
    BlobRecord,
    DeviceRecord,
    EnrolmentRecord,
    EnrolmentStatus,
    ExternalProposalRequest,
    GroupRecord,
    GroupRoster,
    InboxItem,
    Membership,
    NewDevice,
    RelayStorage,
    RosterEntry,
    SendRequest,
    SendResult,
    Session,
    StoredMessage,
)
from server.storage.migrations import MIGRATIONS
from server.storage.session_cache import SessionCache
from server.storage.sqlite_delivery import SendOp, forget_group, send_external_proposal
from server.storage.sqlite_rows import (
    ENROLMENT_SELECT,
    MEMBERSHIP_SELECT,
    blob_record,
    device_record,
    enrolment_record,
    fetch_one,
    group_record,
    membership_of,
)
from server.storage.writer import GroupCommitWriter, WriteTransaction

LogListener = Callable[[int, bytes], None]


async def _one(conn: aiosqlite.Connection, sql: str, params: Sequence[Any] = ()) -> Any:
    """The first row of a read (or ``None``), the statement run to its end in one call."""
    return next(iter(await conn.execute_fetchall(sql, params)), None)


async def _all(conn: aiosqlite.Connection, sql: str, params: Sequence[Any] = ()) -> list[Any]:
    return list(await conn.execute_fetchall(sql, params))


def _open_write_connection(path: Path) -> sqlite3.Connection:
    """The write connection, set up and migrated; handed to the writer thread after this."""
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    try:
        for pragma in (
            "PRAGMA journal_mode=WAL",
            "PRAGMA synchronous=FULL",
            "PRAGMA foreign_keys=ON",
            "PRAGMA busy_timeout=5000",
        ):
            conn.execute(pragma)
        migrate(conn)
    except BaseException:
        conn.close()
        raise
    return conn


class SqliteRelayStorage(RelayStorage):
    """:class:`RelayStorage` in one SQLite file."""

    def __init__(self, path: Path, *, batch_limit: int = 256) -> None:
        self._path = path
        self._batch_limit = batch_limit
        self._write: sqlite3.Connection | None = None
        self._read: aiosqlite.Connection | None = None
        self._writer: GroupCommitWriter | None = None
        self._log_listeners: list[LogListener] = []
        self._sessions = SessionCache()

    # --- lifecycle ------------------------------------------------------------------------

    async def open(self) -> None:
        self._path.parent.mkdir(parents=True, exist_ok=True)
        self._write = await asyncio.to_thread(_open_write_connection, self._path)
        self._read = await aiosqlite.connect(
            f"file:{self._path}?mode=ro", uri=True, isolation_level=None
        )
        await self._read.execute("PRAGMA query_only=ON")
        await self._read.execute("PRAGMA busy_timeout=5000")
        self._writer = GroupCommitWriter(self._write, self._batch_limit)
        self._writer.start()

    async def close(self) -> None:
        if self._writer is not None:
            await self._writer.close()
            self._writer = None
        if self._read is not None:
            await self._read.close()
        if self._write is not None:  # the last connection: folds the WAL into the database
            await asyncio.to_thread(self._write.close)
        self._read = self._write = None

    @property
    def writer(self) -> GroupCommitWriter:
        if self._writer is None:
            raise StorageUnavailableError("storage is not open")
        return self._writer

    @property
    def reader(self) -> aiosqlite.Connection:
        if self._read is None:
            raise StorageUnavailableError("storage is not open")
        return self._read

    def add_log_listener(self, listener: LogListener) -> None:
        """Call ``listener(index, leaf)`` for each appended leaf, in order, after commit."""
        self._log_listeners.append(listener)

    # --- directory and transparency log -------------------------------------------------

    def _append_leaf(self, tx: WriteTransaction, leaf: bytes, now: int) -> int:
        row = fetch_one(tx.conn, "SELECT coalesce(max(log_index) + 1, 0) FROM log_entries")
        index: int = row[0]
        tx.conn.execute(
            "INSERT INTO log_entries (log_index, leaf, appended_at) VALUES (?, ?, ?)",
            (index, leaf, now),
        )
        for listener in self._log_listeners:
            tx.after_commit(functools.partial(listener, index, leaf))
        return index

    async def publish_credential(self, device: NewDevice, now: int) -> int:
        def op(tx: WriteTransaction) -> int:
            existing = fetch_one(
                tx.conn,
                "SELECT member_id, credential, revoked_at, log_index FROM devices"
                " WHERE device_id = ?",
                (device.device_id,),
            )
            if existing is not None:
                if existing[2] is not None:
                    raise ConflictError("the device was revoked; a new device needs a new id")
                if existing[0] != device.member_id:
                    raise ConflictError("the device id belongs to another member")
                if existing[1] == device.credential:
                    index: int = existing[3]
                    return index  # published before: the log keeps one entry
            _approve_enrolment(tx.conn, device)
            index = self._append_leaf(tx, device.leaf, now)
            tx.conn.execute(
                "INSERT INTO devices (device_id, member_id, cipher_suite, signature_key,"
                " not_before, not_after, credential, log_index) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (device_id) DO UPDATE SET cipher_suite = excluded."
                "cipher_suite, signature_key = excluded.signature_key, not_before ="
                " excluded.not_before, not_after = excluded.not_after, credential ="
                " excluded.credential, log_index = excluded.log_index",
                (
                    device.device_id,
                    device.member_id,
                    device.cipher_suite,
                    device.signature_key,
                    device.not_before,
                    device.not_after,
                    device.credential,
                    index,
                ),
            )
            return index

        return await self.writer.submit(op)

    async def revoke_device(self, device_id: bytes, leaf: bytes, now: int) -> int:
        def op(tx: WriteTransaction) -> int:
            row = fetch_one(
                tx.conn, "SELECT revoked_at FROM devices WHERE device_id = ?", (device_id,)
            )
            if row is None:
                raise UnknownDeviceError("no such device")
            if row[0] is not None:
                raise ConflictError("the device is already revoked")
            index = self._append_leaf(tx, leaf, now)
            tx.conn.execute(
                "UPDATE devices SET revoked_at = ?, revocation_index = ? WHERE device_id = ?",
                (now, index, device_id),
            )
            tx.conn.execute("DELETE FROM sessions WHERE device_id = ?", (device_id,))
            tx.conn.execute("DELETE FROM key_packages WHERE device_id = ?", (device_id,))
            tx.after_commit(self._sessions.invalidate)
            return index

        return await self.writer.submit(op)

    async def device(self, device_id: bytes) -> DeviceRecord | None:
        row = await _one(
            self.reader,
            "SELECT device_id, member_id, cipher_suite, signature_key, not_before, not_after,"
            " credential, log_index, revoked_at, revocation_index FROM devices"
            " WHERE device_id = ?",
            (device_id,),
        )
        return None if row is None else device_record(row)

    async def member_devices(self, member_id: bytes) -> list[DeviceRecord]:
        rows = await _all(
            self.reader,
            "SELECT device_id, member_id, cipher_suite, signature_key, not_before, not_after,"
            " credential, log_index, revoked_at, revocation_index FROM devices"
            " WHERE member_id = ? ORDER BY log_index",
            (member_id,),
        )
        return [device_record(row) for row in rows]

    async def log_leaves(self, start: int, end: int) -> list[bytes]:
        rows = await _all(
            self.reader,
            "SELECT leaf FROM log_entries WHERE log_index >= ? AND log_index < ?"
            " ORDER BY log_index",
            (start, end),
        )
        return [row[0] for row in rows]

    async def log_size(self) -> int:
        row = await _one(self.reader, "SELECT count(*) FROM log_entries")
        size: int = row[0]
        return size

    async def store_key_packages(
        self, device_id: bytes, packages: Sequence[bytes], last_resort: bytes | None, limit: int
    ) -> int:
        def op(tx: WriteTransaction) -> int:
            row = fetch_one(
                tx.conn,
                "SELECT count(*) FROM key_packages WHERE device_id = ? AND last_resort = 0",
                (device_id,),
            )
            stored: int = row[0]
            if stored + len(packages) > limit:
                raise TooLargeError(f"at most {limit} one-time KeyPackages are kept per device")
            tx.conn.executemany(
                "INSERT INTO key_packages (device_id, package, last_resort) VALUES (?, ?, 0)",
                [(device_id, package) for package in packages],
            )
            if last_resort is not None:
                tx.conn.execute(
                    "DELETE FROM key_packages WHERE device_id = ? AND last_resort = 1",
                    (device_id,),
                )
                tx.conn.execute(
                    "INSERT INTO key_packages (device_id, package, last_resort) VALUES (?, ?, 1)",
                    (device_id, last_resort),
                )
            return stored + len(packages)

        return await self.writer.submit(op)

    async def claim_key_package(self, device_id: bytes) -> tuple[bytes, bool] | None:
        def op(tx: WriteTransaction) -> tuple[bytes, bool] | None:
            row = fetch_one(
                tx.conn,
                "SELECT package_id, package, last_resort FROM key_packages WHERE device_id = ?"
                " ORDER BY last_resort, package_id LIMIT 1",
                (device_id,),
            )
            if row is None:
                return None
            if not row[2]:
                tx.conn.execute("DELETE FROM key_packages WHERE package_id = ?", (row[0],))
            return row[1], bool(row[2])

        return await self.writer.submit(op)

    # --- enrolment requests ---------------------------------------------------------------

    async def request_enrolment(
        self, invite_id: bytes, device_id: bytes, request: bytes, now: int, max_pending: int
    ) -> tuple[EnrolmentRecord, bool]:
        def op(tx: WriteTransaction) -> tuple[EnrolmentRecord, bool]:
            row = fetch_one(tx.conn, f"{ENROLMENT_SELECT} WHERE invite_id = ?", (invite_id,))
            if row is not None:
                stored = enrolment_record(row)
                if stored.device_id != device_id or stored.request != request:
                    raise InviteUsedError("the invite already has another enrolment request")
                return stored, False
            exists = fetch_one(
                tx.conn,
                "SELECT EXISTS (SELECT 1 FROM devices WHERE device_id = ?) OR EXISTS"
                " (SELECT 1 FROM enrolments WHERE device_id = ? AND status = 'pending')",
                (device_id, device_id),
            )
            if exists[0]:
                raise DeviceExistsError("the device id is enrolled or awaits enrolment")
            pending = fetch_one(tx.conn, "SELECT count(*) FROM enrolments WHERE status = 'pending'")
            if pending[0] >= max_pending:
                raise EnrolmentsFullError("too many enrolment requests await the coordinator")
            tx.conn.execute(
                "INSERT INTO enrolments (invite_id, device_id, request, status, received_at)"
                " VALUES (?, ?, ?, 'pending', ?)",
                (invite_id, device_id, request, now),
            )
            record = EnrolmentRecord(
                invite_id=invite_id, device_id=device_id, request=request,
                status=EnrolmentStatus.PENDING, received_at=now,
            )  # fmt: skip
            return record, True

        return await self.writer.submit(op)

    async def enrolment(self, invite_id: bytes) -> EnrolmentRecord | None:
        row = await _one(self.reader, f"{ENROLMENT_SELECT} WHERE invite_id = ?", (invite_id,))
        return None if row is None else enrolment_record(row)

    async def pending_enrolments(self) -> list[EnrolmentRecord]:
        rows = await _all(
            self.reader,
            f"{ENROLMENT_SELECT} WHERE status = 'pending' ORDER BY received_at, invite_id",
        )
        return [enrolment_record(row) for row in rows]

    async def reject_enrolment(self, invite_id: bytes) -> EnrolmentRecord:
        def op(tx: WriteTransaction) -> EnrolmentRecord:
            row = fetch_one(tx.conn, f"{ENROLMENT_SELECT} WHERE invite_id = ?", (invite_id,))
            if row is None:
                raise NotFoundError("no enrolment request for this invite")
            stored = enrolment_record(row)
            if stored.status == EnrolmentStatus.APPROVED:
                raise EnrolmentDecidedError("the device was enrolled already")
            tx.conn.execute(
                "UPDATE enrolments SET status = 'rejected' WHERE invite_id = ?", (invite_id,)
            )
            return dataclasses.replace(stored, status=EnrolmentStatus.REJECTED)

        return await self.writer.submit(op)

    # --- sessions -----------------------------------------------------------------------

    async def create_session(self, token_hash: bytes, device_id: bytes, expires_at: int) -> None:
        def op(tx: WriteTransaction) -> None:
            tx.conn.execute(
                "INSERT INTO sessions (token_hash, device_id, expires_at) VALUES (?, ?, ?)",
                (token_hash, device_id, expires_at),
            )

        await self.writer.submit(op)

    async def session(self, token_hash: bytes) -> Session | None:
        row = await _one(
            self.reader,
            "SELECT device_id, expires_at FROM sessions WHERE token_hash = ?",
            (token_hash,),
        )
        return None if row is None else Session(device_id=row[0], expires_at=row[1])

    async def session_device(self, token_hash: bytes) -> tuple[Session, DeviceRecord | None] | None:
        cached = self._sessions.get(token_hash)
        if cached is not None:
            return cached
        generation = self._sessions.generation
        row = await _one(
            self.reader,
            "SELECT s.device_id, s.expires_at, d.device_id, d.member_id, d.cipher_suite,"
            " d.signature_key, d.not_before, d.not_after, d.credential, d.log_index,"
            " d.revoked_at, d.revocation_index FROM sessions s"
            " LEFT JOIN devices d ON d.device_id = s.device_id WHERE s.token_hash = ?",
            (token_hash,),
        )
        if row is None:
            return None
        session = Session(device_id=row[0], expires_at=row[1])
        found = (session, None if row[2] is None else device_record(row[2:]))
        self._sessions.put(token_hash, found, generation)
        return found

    async def purge_expired(self, now: int) -> None:
        def op(tx: WriteTransaction) -> None:
            tx.conn.execute("DELETE FROM sessions WHERE expires_at < ?", (now,))
            tx.after_commit(self._sessions.invalidate)

        await self.writer.submit(op)

    # --- groups and delivery ------------------------------------------------------------

    async def create_group(self, group_id: bytes, creator: bytes, now: int) -> GroupRecord:
        def op(tx: WriteTransaction) -> GroupRecord:
            exists = fetch_one(tx.conn, "SELECT 1 FROM groups WHERE group_id = ?", (group_id,))
            if exists is not None:
                raise ConflictError("a group with this id exists")
            forget_group(tx, group_id)
            tx.conn.execute(
                "INSERT INTO groups (group_id, epoch, last_seq, created_at) VALUES (?, 0, 0, ?)",
                (group_id, now),
            )
            tx.conn.execute(  # a group's creator is its leaf 0 (RFC 9420 §11)
                "INSERT INTO roster (group_id, device_id, until_seq, leaf_index)"
                " VALUES (?, ?, NULL, 0)",
                (group_id, creator),
            )
            return GroupRecord(group_id=group_id, epoch=0, last_seq=0, created_at=now)

        return await self.writer.submit(op)

    async def membership(self, group_id: bytes, device_id: bytes) -> Membership:
        return membership_of(await _one(self.reader, MEMBERSHIP_SELECT, (device_id, group_id)))

    async def device_groups(self, device_id: bytes) -> list[GroupRecord]:
        rows = await _all(
            self.reader,
            "SELECT g.group_id, g.epoch, g.last_seq, g.created_at FROM roster r"
            " JOIN groups g ON g.group_id = r.group_id"
            " WHERE r.device_id = ? AND r.until_seq IS NULL ORDER BY g.group_id",
            (device_id,),
        )
        return [group_record(row) for row in rows]

    async def roster(self, group_id: bytes) -> list[bytes]:
        rows = await _all(
            self.reader,
            "SELECT device_id FROM roster WHERE group_id = ? AND until_seq IS NULL"
            " ORDER BY device_id",
            (group_id,),
        )
        return [row[0] for row in rows]

    async def send(self, request: SendRequest) -> SendResult:
        return await self.writer.submit(SendOp(request))

    async def send_external(self, request: ExternalProposalRequest) -> SendResult:
        return await self.writer.submit(lambda tx: send_external_proposal(tx, request))

    async def group_rosters(self, after: bytes, limit: int) -> list[GroupRoster]:
        rows = await _all(  # one statement: every group and roster of one snapshot
            self.reader,
            "SELECT g.group_id, g.epoch, g.last_seq, g.created_at, r.device_id, r.leaf_index"
            " FROM (SELECT * FROM groups WHERE group_id > ? ORDER BY group_id LIMIT ?) g"
            " LEFT JOIN roster r ON r.group_id = g.group_id AND r.until_seq IS NULL"
            " ORDER BY g.group_id, r.device_id",
            (after, limit),
        )
        groups: list[GroupRoster] = []
        for _, rows_of_group in itertools.groupby(rows, key=lambda row: row[0]):
            members = list(rows_of_group)
            groups.append(
                GroupRoster(
                    group=group_record(members[0][:4]),
                    roster=tuple(
                        RosterEntry(device_id=row[4], leaf_index=row[5])
                        for row in members
                        if row[4] is not None
                    ),
                )
            )
        return groups

    async def messages(self, group_id: bytes, after: int, limit: int) -> list[StoredMessage]:
        rows = await _all(
            self.reader,
            "SELECT seq, payload, received_at FROM messages WHERE group_id = ? AND seq > ?"
            " ORDER BY seq LIMIT ?",
            (group_id, after, limit),
        )
        return [StoredMessage(seq=row[0], payload=row[1], received_at=row[2]) for row in rows]

    async def inbox(self, device_id: bytes, after: int, limit: int) -> list[InboxItem]:
        rows = await _all(
            self.reader,
            "SELECT i.item_id, w.group_id, w.payload, w.received_at FROM inbox i"
            " JOIN welcomes w ON w.welcome_id = i.welcome_id"
            " WHERE i.device_id = ? AND i.item_id > ? ORDER BY i.item_id LIMIT ?",
            (device_id, after, limit),
        )
        return [
            InboxItem(item_id=row[0], group_id=row[1], payload=row[2], received_at=row[3])
            for row in rows
        ]

    # --- blobs --------------------------------------------------------------------------

    async def create_blob(
        self, blob_id: bytes, group_id: bytes, owner: bytes, size: int, quota: int, now: int
    ) -> BlobRecord:
        def op(tx: WriteTransaction) -> BlobRecord:
            membership = membership_of(fetch_one(tx.conn, MEMBERSHIP_SELECT, (owner, group_id)))
            if not membership.active:
                raise NotOnRosterError("the device was removed from this group")
            row = fetch_one(
                tx.conn, "SELECT coalesce(sum(size), 0) FROM blobs WHERE owner = ?", (owner,)
            )
            if row[0] + size > quota:
                raise QuotaExceededError(f"the device's blob quota of {quota} bytes is used")
            tx.conn.execute(
                "INSERT INTO blobs (blob_id, group_id, owner, size, received, complete,"
                " created_at) VALUES (?, ?, ?, ?, 0, 0, ?)",
                (blob_id, group_id, owner, size, now),
            )
            return BlobRecord(
                blob_id=blob_id, group_id=group_id, owner=owner, size=size, received=0,
                complete=False,
            )  # fmt: skip

        return await self.writer.submit(op)

    async def append_blob(self, blob_id: bytes, owner: bytes, offset: int, data: bytes) -> int:
        def op(tx: WriteTransaction) -> int:
            blob = _owned_blob(tx.conn, blob_id, owner)
            if blob.complete:
                raise ConflictError("the blob is complete")
            if offset != blob.received:
                raise ConflictError(f"the next chunk starts at offset {blob.received}")
            if blob.received + len(data) > blob.size:
                raise TooLargeError("the chunk goes past the blob's declared size")
            tx.conn.execute(
                "INSERT INTO blob_chunks (blob_id, offset, data) VALUES (?, ?, ?)",
                (blob_id, offset, data),
            )
            received = blob.received + len(data)
            tx.conn.execute("UPDATE blobs SET received = ? WHERE blob_id = ?", (received, blob_id))
            return received

        return await self.writer.submit(op)

    async def complete_blob(self, blob_id: bytes, owner: bytes) -> BlobRecord:
        def op(tx: WriteTransaction) -> BlobRecord:
            blob = _owned_blob(tx.conn, blob_id, owner)
            if blob.received != blob.size:
                raise ConflictError(f"{blob.received} of {blob.size} bytes received")
            tx.conn.execute("UPDATE blobs SET complete = 1 WHERE blob_id = ?", (blob_id,))
            return BlobRecord(
                blob_id=blob.blob_id, group_id=blob.group_id, owner=blob.owner, size=blob.size,
                received=blob.received, complete=True,
            )  # fmt: skip

        return await self.writer.submit(op)

    async def blob(self, blob_id: bytes) -> BlobRecord | None:
        row = await _one(
            self.reader,
            "SELECT blob_id, group_id, owner, size, received, complete FROM blobs"
            " WHERE blob_id = ?",
            (blob_id,),
        )
        return None if row is None else blob_record(row)

    async def blob_chunks(self, blob_id: bytes) -> AsyncIterator[bytes]:
        offset = -1
        while True:  # one chunk per query: the reader is never held across a slow client
            row = await _one(
                self.reader,
                "SELECT offset, data FROM blob_chunks WHERE blob_id = ? AND offset > ?"
                " ORDER BY offset LIMIT 1",
                (blob_id, offset),
            )
            if row is None:
                return
            offset = row[0]
            yield row[1]


# --- operations run by the writer --------------------------------------------------------


def migrate(conn: sqlite3.Connection) -> int:
    """Apply every migration newer than the stored version; the version reached."""
    conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
    row = fetch_one(conn, "SELECT max(version) FROM schema_version")
    current: int = row[0] or 0
    for version, script in MIGRATIONS:
        if version <= current:
            continue
        try:
            conn.executescript(
                f"BEGIN IMMEDIATE;\n{script}\n"
                f"INSERT INTO schema_version (version) VALUES ({int(version)});\nCOMMIT;"
            )
        except sqlite3.Error:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        current = version
    return current


def _owned_blob(conn: sqlite3.Connection, blob_id: bytes, owner: bytes) -> BlobRecord:
    row = fetch_one(
        conn,
        "SELECT blob_id, group_id, owner, size, received, complete FROM blobs WHERE blob_id = ?",
        (blob_id,),
    )
    if row is None or row[2] != owner:
        raise NotFoundError("no such blob being uploaded by this device")
    return blob_record(row)


def _approve_enrolment(conn: sqlite3.Connection, device: NewDevice) -> None:
    """The request enrolling this device with this invite is approved: the root signed."""
    conn.execute(
        "UPDATE enrolments SET status = 'approved' WHERE invite_id = ? AND device_id = ?",
        (device.invite_id, device.device_id),
    )
