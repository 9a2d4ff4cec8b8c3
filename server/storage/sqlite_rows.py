"""Rows of the SQLite store and the records they make, shared by its reads and by the write
operations the writer thread runs (:mod:`server.storage.sqlite`,
:mod:`server.storage.sqlite_delivery`).

The SELECT prefixes kept here name their columns in the order the matching record reads them.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any

from server.errors import NotFoundError, NotOnRosterError
from server.storage.interface import (
    BlobRecord,
    DeviceRecord,
    EnrolmentRecord,
    EnrolmentStatus,
    GroupRecord,
    Membership,
)


def fetch_one(conn: sqlite3.Connection, sql: str, params: Sequence[Any] = ()) -> Any:
    """The first row of a read inside a write operation (or ``None``)."""
    return next(iter(conn.execute(sql, params).fetchall()), None)


def fetch_all(conn: sqlite3.Connection, sql: str, params: Sequence[Any] = ()) -> list[Any]:
    return conn.execute(sql, params).fetchall()


def device_record(row: Any) -> DeviceRecord:
    return DeviceRecord(
        device_id=row[0],
        member_id=row[1],
        cipher_suite=row[2],
        signature_key=row[3],
        not_before=row[4],
        not_after=row[5],
        credential=row[6],
        log_index=row[7],
        revoked_at=row[8],
        revocation_index=row[9],
    )


def group_record(row: Any) -> GroupRecord:
    return GroupRecord(group_id=row[0], epoch=row[1], last_seq=row[2], created_at=row[3])


ENROLMENT_SELECT = "SELECT invite_id, device_id, request, status, received_at FROM enrolments"


def enrolment_record(row: Any) -> EnrolmentRecord:
    return EnrolmentRecord(
        invite_id=row[0],
        device_id=row[1],
        request=row[2],
        status=EnrolmentStatus(row[3]),
        received_at=row[4],
    )


def blob_record(row: Any) -> BlobRecord:
    return BlobRecord(
        blob_id=row[0],
        group_id=row[1],
        owner=row[2],
        size=row[3],
        received=row[4],
        complete=bool(row[5]),
    )


MEMBERSHIP_SELECT = (
    "SELECT g.group_id, g.epoch, g.last_seq, g.created_at, r.device_id, r.until_seq"
    " FROM groups g LEFT JOIN roster r ON r.group_id = g.group_id AND r.device_id = ?"
    " WHERE g.group_id = ?"
)
"""A device's membership of a group; parameters ``(device_id, group_id)``."""


def membership_of(row: Any) -> Membership:
    if row is None:
        raise NotFoundError("no such group")
    if row[4] is None:
        raise NotOnRosterError("the device is not on this group's roster")
    return Membership(group=group_record(row[:4]), active=row[5] is None, until_seq=row[5])
