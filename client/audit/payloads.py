"""Check 2, ciphertext only (ATTACKS Z1, Z2): every stored payload has its documented form.

::

    table          column      must be
    ─────────────  ──────────  ─────────────────────────────────────────────────────────
    messages       payload     PrivateMessage, or the coordinator's PublicMessage proposal
                               (rules in client.audit.group_messages)
    welcomes       payload     MLSMessage(Welcome): HPKE ciphertexts and encrypted GroupInfo
    key_packages   package     MLSMessage(KeyPackage), valid: public keys and a signature
    blob_chunks    data        an attachment blob of a padded size, unreadable, contiguous
    enrolments     request     an EnrolmentRequest (public keys, a signature, a MAC)
    every column   —           the storage class its type declares (no text hidden in an
                               INTEGER or BLOB column); ids of their documented length

Each failure names the row. What cannot be told from stored bytes: whether a ciphertext was
made under a key the relay never had. The canary (check 3) tests that end to end with
plaintext the auditor chose.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from client.audit.cleartext import cleartext_evidence
from client.audit.group_messages import check_group_message
from client.audit.inventory import InventoryRow
from client.audit.results import CheckResult, Evidence, id_label
from client.audit.sizes import attachment_stream_size
from client.audit.translog import LogView
from crypto.errors import CasecircleError
from crypto.suites import cipher_suite
from protocol.invites import EnrolmentRequest
from protocol.mls.framing import MLSMessage
from protocol.mls.key_package import KeyPackage
from protocol.mls.key_packages import validate_key_package
from protocol.mls.leaf_validation import LifetimeCheck
from protocol.mls.welcome import Welcome

B = TypeVar("B", Welcome, KeyPackage)

CHECK = "payloads"
MAX_ENROLMENT_REQUEST = 4096
STORAGE_CLASSES = {"INTEGER": "integer", "BLOB": "blob", "TEXT": "text"}
ENROLMENT_STATES = ("pending", "approved", "rejected")

ID_LENGTHS: dict[tuple[str, str], int] = {
    **{
        column: 16
        for column in (
            ("devices", "device_id"), ("devices", "member_id"), ("key_packages", "device_id"),
            ("sessions", "device_id"), ("groups", "group_id"), ("roster", "group_id"),
            ("roster", "device_id"), ("enrolments", "invite_id"), ("enrolments", "device_id"),
            ("messages", "group_id"), ("sends", "group_id"), ("welcomes", "group_id"),
            ("inbox", "device_id"), ("blobs", "blob_id"), ("blobs", "group_id"),
            ("blobs", "owner"), ("blob_chunks", "blob_id"),
        )
    },
    ("sessions", "token_hash"): 32,
    ("sends", "idempotency_key"): 32,
}  # fmt: skip
"""Identifier columns and their one documented length: random ids are 16 bytes, hashes 32.
A longer value would be room for content."""


def check_payloads(
    db: sqlite3.Connection, inventory: Sequence[InventoryRow], view: LogView | None
) -> CheckResult:
    evidence = Evidence(CHECK)
    _storage_classes(inventory, evidence)
    _id_lengths(db, inventory, evidence)
    for table, check in _TABLE_CHECKS:
        if any(row.table == table and row.state != "missing" for row in inventory):
            try:
                check(db, view, evidence)
            except sqlite3.Error as exc:  # a column missing: the inventory names it
                evidence.fail(f"table {table}", f"cannot be read as documented: {exc}")
    evidence.note(
        "sizes not padded",
        "Welcomes, KeyPackages, the coordinator's proposals and the encrypted sender data"
        " keep their exact sizes; the relay sees them (docs/guide-auditor.md)",
    )
    return evidence.result("every payload is ciphertext of the documented form and size")


def _storage_classes(inventory: Sequence[InventoryRow], evidence: Evidence) -> None:
    for row in inventory:
        expected = STORAGE_CLASSES.get(row.declared_type)
        if row.state != "documented" or expected is None:
            continue
        for kind, count in row.storage:
            if kind not in {expected, "null"}:
                evidence.fail(
                    f"column {row.table}.{row.column}",
                    f"{count} values stored as {kind} in a {row.declared_type} column",
                )


def _id_lengths(
    db: sqlite3.Connection, inventory: Sequence[InventoryRow], evidence: Evidence
) -> None:
    present = {(row.table, row.column) for row in inventory if row.state == "documented"}
    for (table, column), length in ID_LENGTHS.items():
        if (table, column) not in present:
            continue
        rows = db.execute(
            f'SELECT length("{column}"), count(*) FROM "{table}"'  # noqa: S608 - constant names
            f' WHERE length("{column}") != ? GROUP BY 1',
            (length,),
        )
        for found, count in rows:
            evidence.fail(
                f"column {table}.{column}",
                f"{count} values of {found} bytes; the documented length is {length}",
            )


def _messages(db: sqlite3.Connection, view: LogView | None, evidence: Evidence) -> None:
    rows = db.execute("SELECT group_id, seq, payload FROM messages ORDER BY group_id, seq")
    for group_id, seq, payload in rows:
        subject = f"message {seq} of group {id_label(group_id)}"
        if not isinstance(payload, bytes):
            evidence.fail(subject, "the payload is not stored as bytes")
            continue
        check_group_message(subject, group_id, payload, view, evidence)
    evidence.fact("group messages", db.execute("SELECT count(*) FROM messages").fetchone()[0])


def _stored_as(kind: type[B], payload: Any, subject: str, evidence: Evidence) -> B | None:
    """The MLSMessage body a column holds, if it is one of ``kind``; a failure otherwise."""
    try:
        body = MLSMessage.from_bytes(bytes(payload)).body
    except (CasecircleError, ValueError, TypeError) as exc:
        evidence.fail(subject, f"not an MLSMessage ({exc})")
        return None
    if not isinstance(body, kind):
        evidence.fail(subject, f"a {type(body).__name__} where a {kind.__name__} belongs")
        return None
    return body


def _welcomes(db: sqlite3.Connection, _: LogView | None, evidence: Evidence) -> None:
    for welcome_id, payload in db.execute("SELECT welcome_id, payload FROM welcomes"):
        subject = f"welcome {welcome_id}"
        body = _stored_as(Welcome, payload, subject, evidence)
        if body is None:
            continue
        evidence.count("Welcomes")
        fields = [("encrypted GroupInfo", body.encrypted_group_info)]
        for secrets in body.secrets:
            fields.append(("group secrets", secrets.encrypted_group_secrets.ciphertext))
        for name, value in fields:
            reason = cleartext_evidence(value)
            if reason:
                evidence.fail(subject, f"its {name} is not ciphertext: {reason}")


def _key_packages(db: sqlite3.Connection, _: LogView | None, evidence: Evidence) -> None:
    for package_id, package in db.execute("SELECT package_id, package FROM key_packages"):
        subject = f"key package {package_id}"
        body = _stored_as(KeyPackage, package, subject, evidence)
        if body is None:
            continue
        try:
            # Expiry is no question of confidentiality: a stored last-resort package may
            # have outlived its lifetime, and is still only public keys.
            validate_key_package(cipher_suite(body.cipher_suite), body, now=LifetimeCheck.SKIP)
        except (CasecircleError, ValueError) as exc:
            evidence.fail(subject, f"not a valid KeyPackage: {exc}")
            continue
        evidence.count("KeyPackages (public keys, valid signature)")
        if body.extensions or body.leaf_node.extensions:
            evidence.note(subject, "carries extensions in the clear, which casecircle never sets")


def _blobs(db: sqlite3.Connection, _: LogView | None, evidence: Evidence) -> None:
    blobs = db.execute("SELECT blob_id, size, received, complete FROM blobs").fetchall()
    for blob_id, size, received, complete in blobs:
        subject = f"blob {id_label(blob_id)}"
        evidence.count("blobs")
        if not isinstance(size, int) or not isinstance(received, int):
            evidence.fail(subject, "its sizes are not stored as integers")
            continue
        if attachment_stream_size(size) is None:
            evidence.fail(subject, f"a declared size of {size} bytes: not a padded attachment")
        offset = 0
        for stored, data in db.execute(
            "SELECT offset, data FROM blob_chunks WHERE blob_id = ? ORDER BY offset", (blob_id,)
        ):
            if stored != offset:
                evidence.fail(subject, f"a chunk at {stored!r}, where {offset} was expected")
            chunk = bytes(data) if isinstance(data, bytes) else str(data).encode("utf-8")
            reason = cleartext_evidence(chunk)
            if reason:
                evidence.fail(subject, f"the chunk at {offset} is not ciphertext: {reason}")
            offset += len(chunk)
        if offset != received or (complete and received != size):
            evidence.fail(subject, f"holds {offset} bytes; {received} received of {size}")
    orphans = db.execute(
        "SELECT count(*) FROM blob_chunks WHERE blob_id NOT IN (SELECT blob_id FROM blobs)"
    ).fetchone()[0]
    if orphans:
        evidence.fail("table blob_chunks", f"{orphans} chunks belong to no blob")


def _enrolment_requests(db: sqlite3.Connection, _: LogView | None, evidence: Evidence) -> None:
    for invite_id, request, status in db.execute(
        "SELECT invite_id, request, status FROM enrolments"
    ):
        subject = f"enrolment request under invite {id_label(invite_id)}"
        if status not in ENROLMENT_STATES:
            evidence.fail(subject, f"status {status!r} is not one of {', '.join(ENROLMENT_STATES)}")
        if not isinstance(request, bytes) or len(request) > MAX_ENROLMENT_REQUEST:
            evidence.fail(subject, f"not bytes, or more than {MAX_ENROLMENT_REQUEST} of them")
            continue
        try:
            EnrolmentRequest.from_bytes(request)
        except (CasecircleError, ValueError) as exc:
            evidence.fail(subject, f"not an enrolment request ({exc})")
            continue
        evidence.count("enrolment requests")


_Check = Callable[[sqlite3.Connection, LogView | None, Evidence], None]
_TABLE_CHECKS: tuple[tuple[str, _Check], ...] = (
    ("messages", _messages),
    ("welcomes", _welcomes),
    ("key_packages", _key_packages),
    ("blobs", _blobs),
    ("enrolments", _enrolment_requests),
)
