"""Group delivery inside the writer's transaction (DESIGN.md §7): the operations behind
:meth:`~server.storage.interface.RelayStorage.send` and
:meth:`~server.storage.interface.RelayStorage.send_external`.

Each runs on the writer thread as one operation of a batch, so everything it checks —
the idempotency key, the roster, the epoch — and everything it writes — the message and
its sequence number, the epoch, roster changes, declared leaf indexes, Welcome copies —
stands or falls together::

    earlier send with this key? ─► its result (nothing written)
    sender on the roster (not for an external proposal), epoch == group's epoch
    message at last_seq + 1, dedup key ─► commit: epoch + 1, roster changes, leaf
    indexes, Welcome into the named devices' inboxes
"""

from __future__ import annotations

import sqlite3
from dataclasses import replace

from server.errors import (
    BadRequestError,
    ConflictError,
    LeafIndexOffRosterError,
    NotFoundError,
    NotOnRosterError,
    StaleEpochError,
    StorageUnavailableError,
    TooLargeError,
    UnknownDeviceError,
)
from server.storage.interface import (
    ExternalProposalRequest,
    GroupRecord,
    SendRequest,
    SendResult,
)
from server.storage.sqlite_rows import (
    MEMBERSHIP_SELECT,
    fetch_all,
    fetch_one,
    group_record,
    membership_of,
)
from server.storage.writer import NotStagedError, StagedOp, WriteTransaction

_GROUP = "group"
_ROSTER = "roster"


def _earlier_send(conn: sqlite3.Connection, key: bytes, group_id: bytes) -> SendResult | None:
    """The result of an earlier send under the same idempotency key, if there is one."""
    earlier = fetch_one(
        conn,
        "SELECT s.group_id, s.seq, g.epoch FROM sends s JOIN groups g ON g.group_id = s.group_id"
        " WHERE s.idempotency_key = ?",
        (key,),
    )
    if earlier is None:
        return None
    if earlier[0] != group_id:
        raise ConflictError("the client message id was used for another group")
    return SendResult(seq=earlier[1], epoch=earlier[2], duplicate=True)


def _group(tx: WriteTransaction, group_id: bytes) -> GroupRecord:
    """The group's current epoch and last sequence number (``NotFoundError`` if none)."""
    group: GroupRecord | None = tx.memo.get((_GROUP, group_id))
    if group is None:
        row = fetch_one(
            tx.conn,
            "SELECT group_id, epoch, last_seq, created_at FROM groups WHERE group_id = ?",
            (group_id,),
        )
        if row is None:
            raise NotFoundError("no such group")
        group = group_record(row)
        tx.memo.put((_GROUP, group_id), group)
    return group


_INSERT_MESSAGE = "INSERT INTO messages (group_id, seq, payload, received_at)"
_INSERT_SEND = "INSERT INTO sends (idempotency_key, group_id, seq)"
_UPDATE_GROUP = "UPDATE groups SET epoch = ?, last_seq = ? WHERE group_id = ?"


def _append_message(
    tx: WriteTransaction, group: GroupRecord, key: bytes, payload: bytes, now: int, epoch: int
) -> int:
    """Store ``payload`` as the group's next message, and its dedup key; its sequence number."""
    seq = group.last_seq + 1
    conn = tx.conn
    conn.execute(f"{_INSERT_MESSAGE} VALUES (?, ?, ?, ?)", (group.group_id, seq, payload, now))
    conn.execute(_UPDATE_GROUP, (epoch, seq, group.group_id))
    conn.execute(f"{_INSERT_SEND} VALUES (?, ?, ?)", (key, group.group_id, seq))
    tx.memo.put((_GROUP, group.group_id), replace(group, epoch=epoch, last_seq=seq))
    return seq


def _active_roster(tx: WriteTransaction, group_id: bytes) -> frozenset[bytes]:
    """The devices on the group's roster now (every send notifies them)."""
    roster: frozenset[bytes] | None = tx.memo.get((_ROSTER, group_id))
    if roster is None:
        rows = fetch_all(
            tx.conn,
            "SELECT device_id FROM roster WHERE group_id = ? AND until_seq IS NULL",
            (group_id,),
        )
        roster = frozenset(row[0] for row in rows)
        tx.memo.put((_ROSTER, group_id), roster)
    return roster


def forget_group(tx: WriteTransaction, group_id: bytes) -> None:
    """Drop what the memo holds of a group whose rows an operation is about to change."""
    tx.memo.forget((_GROUP, group_id))
    tx.memo.forget((_ROSTER, group_id))


class SendOp(StagedOp[SendResult]):
    """A send as an operation of the writer. A plain message (no roster change, Welcome or
    leaf index) of a group whose epoch and roster the memo holds, from a device on the
    roster at the group's epoch, is staged: its message, dedup key and the group's new head
    are written with the batch's others, a few statements for the whole batch. A resend
    among them makes its dedup key's row fail, and the batch then runs again with every
    send on its own (:func:`send_message`), which answers it with the original result."""

    __slots__ = ("request",)

    def __init__(self, request: SendRequest) -> None:
        self.request = request

    def __call__(self, tx: WriteTransaction) -> SendResult:
        return send_message(tx, self.request)

    def stage(self, tx: WriteTransaction) -> SendResult:
        request = self.request
        group_id = request.group_id
        if request.roster_add or request.roster_remove or request.welcome or request.leaf_indexes:
            raise NotStagedError
        group: GroupRecord | None = tx.memo.get((_GROUP, group_id))
        active: frozenset[bytes] | None = tx.memo.get((_ROSTER, group_id))
        if (
            group is None
            or active is None
            or request.epoch != group.epoch
            or request.sender not in active
            or len(active) > request.max_roster
        ):
            raise NotStagedError  # each of these reads or refuses: the plain way
        seq = group.last_seq + 1
        epoch = group.epoch + 1 if request.is_commit else group.epoch
        staged = tx.staged
        staged.insert(_INSERT_MESSAGE, (group_id, seq, request.payload, request.received_at))
        staged.insert(_INSERT_SEND, (request.idempotency_key, group_id, seq))
        staged.update((_GROUP, group_id), _UPDATE_GROUP, (epoch, seq, group_id))
        tx.memo.put(
            (_GROUP, group_id),
            GroupRecord(group_id=group_id, epoch=epoch, last_seq=seq, created_at=group.created_at),
        )
        return SendResult(seq=seq, epoch=epoch, duplicate=False, notify=active)


def send_message(tx: WriteTransaction, request: SendRequest) -> SendResult:
    conn = tx.conn
    earlier = _earlier_send(conn, request.idempotency_key, request.group_id)
    if earlier is not None:
        return earlier
    group = _group(tx, request.group_id)
    if request.sender not in _active_roster(tx, request.group_id):
        membership_of(fetch_one(conn, MEMBERSHIP_SELECT, (request.sender, request.group_id)))
        raise NotOnRosterError("the device was removed from this group")
    if request.epoch != group.epoch:
        raise StaleEpochError(group.epoch)
    epoch = group.epoch + 1 if request.is_commit else group.epoch
    seq = _append_message(
        tx, group, request.idempotency_key, request.payload, request.received_at, epoch
    )
    removed = _change_roster(tx, request, seq)
    active = _active_roster(tx, request.group_id)
    if len(active) > request.max_roster:
        raise TooLargeError(f"a group's roster holds at most {request.max_roster} devices")
    _declare_leaf_indexes(conn, request, active)
    inbox = _deliver_welcome(conn, request, active)
    return SendResult(
        seq=seq,
        epoch=epoch,
        duplicate=False,
        notify=(*active, *removed) if removed else active,
        inbox=inbox,
    )


def send_external_proposal(tx: WriteTransaction, request: ExternalProposalRequest) -> SendResult:
    conn = tx.conn
    earlier = _earlier_send(conn, request.idempotency_key, request.group_id)
    if earlier is not None:
        return earlier
    group = _group(tx, request.group_id)
    if request.epoch != group.epoch:
        raise StaleEpochError(group.epoch)
    seq = _append_message(
        tx, group, request.idempotency_key, request.payload, request.received_at, group.epoch
    )
    active = _active_roster(tx, request.group_id)
    return SendResult(seq=seq, epoch=group.epoch, duplicate=False, notify=active)


def _change_roster(tx: WriteTransaction, request: SendRequest, seq: int) -> tuple[bytes, ...]:
    if not request.roster_add and not request.roster_remove:
        return ()
    tx.memo.forget((_ROSTER, request.group_id))
    conn = tx.conn
    removed: list[bytes] = []
    for device_id in request.roster_remove:
        cursor = conn.execute(
            "UPDATE roster SET until_seq = ? WHERE group_id = ? AND device_id = ?"
            " AND until_seq IS NULL",
            (seq, request.group_id, device_id),
        )
        if cursor.rowcount:
            removed.append(device_id)
    for device_id in request.roster_add:
        row = fetch_one(conn, "SELECT revoked_at FROM devices WHERE device_id = ?", (device_id,))
        if row is None or row[0] is not None:
            raise UnknownDeviceError("a device to add is unknown or revoked")
        conn.execute(  # a device added again is at a leaf its committer declares anew
            "INSERT INTO roster (group_id, device_id, until_seq) VALUES (?, ?, NULL)"
            " ON CONFLICT (group_id, device_id) DO UPDATE SET until_seq = NULL,"
            " leaf_index = NULL",
            (request.group_id, device_id),
        )
    return tuple(removed)


def _declare_leaf_indexes(
    conn: sqlite3.Connection, request: SendRequest, active: frozenset[bytes]
) -> None:
    """Record the leaves a committer declares; a leaf declared for one device is no longer
    another's (the latest declaration wins, so the view never shows one leaf twice)."""
    for device_id, leaf_index in request.leaf_indexes:
        if device_id not in active:
            raise LeafIndexOffRosterError("a leaf index names a device not on the roster")
        conn.execute(
            "UPDATE roster SET leaf_index = NULL WHERE group_id = ? AND leaf_index = ?"
            " AND device_id <> ?",
            (request.group_id, leaf_index, device_id),
        )
        conn.execute(
            "UPDATE roster SET leaf_index = ? WHERE group_id = ? AND device_id = ?",
            (leaf_index, request.group_id, device_id),
        )


def _deliver_welcome(
    conn: sqlite3.Connection, request: SendRequest, active: frozenset[bytes]
) -> tuple[tuple[bytes, int], ...]:
    if request.welcome is None:
        return ()
    if not set(request.welcome_recipients) <= active:
        raise BadRequestError("every Welcome recipient must be on the roster")
    cursor = conn.execute(
        "INSERT INTO welcomes (group_id, payload, received_at) VALUES (?, ?, ?)",
        (request.group_id, request.welcome, request.received_at),
    )
    welcome_id = cursor.lastrowid
    delivered = []
    for device_id in request.welcome_recipients:
        cursor = conn.execute(
            "INSERT INTO inbox (device_id, welcome_id) VALUES (?, ?)", (device_id, welcome_id)
        )
        if cursor.lastrowid is None:
            raise StorageUnavailableError("the inbox row got no id")
        delivered.append((device_id, cursor.lastrowid))
    return tuple(delivered)
