"""What the desktop windows show, as plain values built from the client library's records.

Widgets never look inside MLS state, envelopes or the directory: the session
(:mod:`client.desktop.session`) turns what the device holds into these rows, in the worker
thread, and the windows only lay them out. Every name and title here is untrusted text
that came through the case (the author's credential or the case description); widgets
show it as plain text, never as rich text.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from enum import StrEnum

from client.case_state import Gap, GapKind
from client.directory import Directory, IssuedDevice
from client.store import SecurityEvent
from client.stored_item import StoredItem
from protocol.case_items import CaseInfo, Note
from protocol.directory import COORDINATOR_ROLE, DeviceCredential, DirectoryError


class NoteState(StrEnum):
    """How far a note can be trusted, as its row shows it."""

    SENDING = "sending"  # in this device's outbox, not yet acknowledged by the relay
    SIGNED = "signed"  # the author's signature verified under a logged credential
    KEY_VERIFIED = "key_verified"  # ... and the user compared the author's safety number
    AUTHOR_REVOKED = "author_revoked"  # verified, but the author's device is now revoked


class NoticeKind(StrEnum):
    """A security event as the user is told of it."""

    GAP = "gap"  # the relay skipped messages
    WITHHELD = "withheld"  # the relay announced messages it did not deliver
    FORK = "fork"  # the relay showed this device a log that contradicts what it saw
    REVOKED_DEVICE = "revoked_device"  # a device in this case was revoked
    REJECTED = "rejected"  # something was refused (its stable code says what)


FORK_CODES = frozenset(
    {"fork_detected", "tree_head_rollback", "consistency_proof", "forked_epoch", "log_mismatch"}
)
WITHHELD_CODES = frozenset({"withheld_tail", "missing_item"})
GAP_CODES = frozenset({"gap", "later_epoch", "item_counter"})


@dataclass(frozen=True, slots=True)
class AttachmentRow:
    index: int
    name: str
    padded_size: int


@dataclass(frozen=True, slots=True)
class NoteRow:
    key: str  # stable per note: the item id, or the outbox id while sending
    seq: int | None
    author_name: str
    organisation: str
    role: str
    written_at: int
    text: str
    attachments: tuple[AttachmentRow, ...]
    state: NoteState
    own: bool


@dataclass(frozen=True, slots=True)
class CaseRow:
    case_id: bytes
    pseudonym: str
    title: str
    last_activity: int
    unread: int
    removed: bool


@dataclass(frozen=True, slots=True)
class Notice:
    kind: NoticeKind
    case_id: bytes | None
    at: int
    detail: str  # a stable code, a name or a range: never translated text
    first: int = 0
    last: int = 0
    event_id: int = 0  # its place in the security event log, if it came from there


@dataclass(frozen=True, slots=True)
class SecurityState:
    """What the window's banner says: forks seen ever, and refusals not yet looked at."""

    forks: int
    unseen: int
    events: tuple[Notice, ...]  # newest first


@dataclass(frozen=True, slots=True)
class MemberRow:
    device_id: bytes
    name: str
    organisation: str
    role: str
    own: bool
    revoked: bool
    key_verified: bool


@dataclass(frozen=True, slots=True)
class CaseThread:
    case_id: bytes
    pseudonym: str
    title: str
    removed: bool
    notes: tuple[NoteRow, ...]
    notices: tuple[Notice, ...]


@dataclass(frozen=True, slots=True)
class Colleague:
    """A member in the directory that a case can be opened to."""

    member_id: bytes
    name: str
    organisation: str
    role: str


def case_info(items: list[StoredItem]) -> CaseInfo | None:
    """The case's description: the last one posted (a rename is a new description)."""
    found = None
    for stored in items:
        if isinstance(stored.item, CaseInfo):
            found = stored.item
    return found


def note_row(
    stored: StoredItem,
    seq: int | None,
    *,
    own_device: bytes,
    revoked: bool,
    key_verified: bool,
) -> NoteRow | None:
    item = stored.item
    if not isinstance(item, Note):
        return None
    author = stored.credential
    state = (
        NoteState.AUTHOR_REVOKED
        if revoked
        else NoteState.KEY_VERIFIED
        if key_verified
        else NoteState.SIGNED
    )
    return NoteRow(
        key=stored.item_id.hex(),
        seq=seq,
        author_name=author.display_name,
        organisation=author.organisation,
        role=author.role,
        written_at=item.written_at,
        text=item.text,
        attachments=attachment_rows(item),
        state=state,
        own=stored.author == own_device,
    )


def sending_row(key: str, note: Note, own: DeviceCredential | None) -> NoteRow:
    """A note of this device still in its outbox."""
    return NoteRow(
        key=key,
        seq=None,
        author_name=own.display_name if own else "",
        organisation=own.organisation if own else "",
        role=own.role if own else "",
        written_at=note.written_at,
        text=note.text,
        attachments=attachment_rows(note),
        state=NoteState.SENDING,
        own=True,
    )


def attachment_rows(note: Note) -> tuple[AttachmentRow, ...]:
    return tuple(
        AttachmentRow(index, a.name, a.ref.padded_size) for index, a in enumerate(note.attachments)
    )


def gap_notice(case_id: bytes, gap: Gap) -> Notice:
    """A gap of the case's log (timeless: it lasts until the messages arrive)."""
    kind = NoticeKind.WITHHELD if gap.kind == GapKind.WITHHELD_TAIL else NoticeKind.GAP
    detail = gap.kind.value if gap.author is None else gap.author.hex()
    return Notice(kind, case_id, 0, detail, gap.first, gap.last)


def event_notice(event: SecurityEvent) -> Notice:
    """A rejection from the security event log."""
    if event.code in FORK_CODES:
        kind = NoticeKind.FORK
    elif event.code in WITHHELD_CODES:
        kind = NoticeKind.WITHHELD
    elif event.code in GAP_CODES:
        kind = NoticeKind.GAP
    elif event.code in {"device_revoked", "author_revoked"}:
        kind = NoticeKind.REVOKED_DEVICE
    else:
        kind = NoticeKind.REJECTED
    seq = event.seq or 0
    return Notice(kind, event.group_id, event.at, event.code, seq, seq, event.event_id)


def revoked_notice(case_id: bytes, issued: IssuedDevice) -> Notice:
    credential = issued.credential
    at = issued.revocation.revoked_at if issued.revocation is not None else 0
    name = f"{credential.display_name} ({credential.organisation})"
    return Notice(NoticeKind.REVOKED_DEVICE, case_id, at, name)


def colleagues(directory: Directory, own_member: bytes, now: int) -> list[Colleague]:
    """Members with at least one usable device (as the directory judges it when a member is
    added), other than oneself, by name."""
    usable: dict[bytes, list[DeviceCredential]] = {}
    for issued in directory.devices():
        with contextlib.suppress(DirectoryError):
            c = directory.device(issued.credential.device_id, now)
            usable.setdefault(c.member_id, []).append(c)
    found = [
        Colleague(member_id, cs[-1].display_name, cs[-1].organisation, cs[-1].role)
        for member_id, cs in usable.items()
        if member_id != own_member and cs[-1].role != COORDINATOR_ROLE
    ]
    return sorted(found, key=lambda c: (c.name.casefold(), c.organisation.casefold()))
