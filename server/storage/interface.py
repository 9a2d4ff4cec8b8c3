"""What the relay stores, behind one interface so that a PostgreSQL backend can follow.

Handlers talk only to :class:`RelayStorage`. Every rule that must hold across concurrent
requests — commit ordering by epoch, idempotent sends, one-time KeyPackage claims, roster
membership, blob quotas, log order — is enforced inside the backend's write transaction,
so a backend must run each write operation atomically and in one serial order, and must
acknowledge it only once it is durable.

Payloads (MLS messages, Welcomes, KeyPackages, blob data) are opaque bytes: the relay
stores them as given and never interprets more than the public MLS header.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Collection, Sequence
from dataclasses import dataclass
from enum import StrEnum

from server.errors import BadRequestError


@dataclass(frozen=True, slots=True, kw_only=True)
class DeviceRecord:
    """A device as its coordinator-signed credential describes it."""

    device_id: bytes
    member_id: bytes
    cipher_suite: int  # the MLS cipher suite ``signature_key`` belongs to
    signature_key: bytes
    not_before: int
    not_after: int
    credential: bytes  # the signed credential exactly as published
    log_index: int  # where the credential's issuance is in the transparency log
    revoked_at: int | None = None
    revocation_index: int | None = None  # where the revocation is in the log

    def usable_at(self, now: int) -> bool:
        return self.revoked_at is None and self.not_before <= now <= self.not_after


@dataclass(frozen=True, slots=True, kw_only=True)
class NewDevice:
    """A verified credential to store: the device's fields and its log leaf."""

    device_id: bytes
    member_id: bytes
    cipher_suite: int
    signature_key: bytes
    not_before: int
    not_after: int
    credential: bytes
    invite_id: bytes  # the invite the credential names: its enrolment request is approved
    leaf: bytes  # the transparency log entry's encoding


@dataclass(frozen=True, slots=True, kw_only=True)
class Session:
    device_id: bytes
    expires_at: int


@dataclass(frozen=True, slots=True, kw_only=True)
class GroupRecord:
    group_id: bytes
    epoch: int
    last_seq: int  # 0 while the group has no message
    created_at: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Membership:
    """A device's place on a group's delivery roster."""

    group: GroupRecord
    active: bool  # may send and fetch everything
    until_seq: int | None  # a removed device may fetch up to the commit that removed it


@dataclass(slots=True, kw_only=True)
class SendRequest:
    """One send, checked for consistency when made. Not frozen: one is made for every send,
    and a frozen dataclass's ``__init__`` takes three times as long (a call per field)."""

    group_id: bytes
    sender: bytes
    idempotency_key: bytes  # SHA-256 over the sender and its client message id
    is_commit: bool
    epoch: int
    payload: bytes
    roster_add: tuple[bytes, ...] = ()
    roster_remove: tuple[bytes, ...] = ()
    welcome: bytes | None = None
    welcome_recipients: tuple[bytes, ...] = ()
    leaf_indexes: tuple[tuple[bytes, int], ...] = ()  # (device, MLS leaf) declared for delivery
    received_at: int
    max_roster: int = 2048  # devices a group's roster may hold after this send

    def __post_init__(self) -> None:
        if not self.is_commit and (
            self.roster_add or self.roster_remove or self.welcome or self.leaf_indexes
        ):
            raise BadRequestError(
                "roster changes, leaf indexes and Welcomes travel only with a commit"
            )
        if (self.welcome is None) != (not self.welcome_recipients):
            raise BadRequestError("a Welcome needs recipients, and recipients a Welcome")
        if not self.leaf_indexes:  # the common case: nothing more to check
            return
        leaves = [leaf for _, leaf in self.leaf_indexes]
        if len(set(leaves)) != len(leaves):
            raise BadRequestError("two devices are declared at one leaf index")
        if len({device for device, _ in self.leaf_indexes}) != len(self.leaf_indexes):
            raise BadRequestError("a device is declared at two leaf indexes")


@dataclass(frozen=True, slots=True, kw_only=True)
class ExternalProposalRequest:
    """A proposal of the coordinator's, sent as an MLS external sender (RFC 9420 §12.1.8):
    ordered into the group's log like a send, though its sender is not on the roster."""

    group_id: bytes
    idempotency_key: bytes  # SHA-256 over the coordinator device and its client message id
    epoch: int
    payload: bytes
    received_at: int


@dataclass(frozen=True, slots=True, kw_only=True)
class SendResult:
    seq: int
    epoch: int  # the group's epoch after this send
    duplicate: bool  # an earlier send with the same client message id
    notify: Collection[bytes] = ()  # devices to push the message to
    inbox: tuple[tuple[bytes, int], ...] = ()  # (device, inbox id) of each Welcome copy


@dataclass(frozen=True, slots=True, kw_only=True)
class StoredMessage:
    seq: int
    payload: bytes
    received_at: int


@dataclass(frozen=True, slots=True, kw_only=True)
class InboxItem:
    item_id: int
    group_id: bytes
    payload: bytes
    received_at: int


@dataclass(frozen=True, slots=True, kw_only=True)
class RosterEntry:
    """A device on a group's roster and the MLS leaf its committers declared (``None``
    until one does): the coordinator names that leaf in an external Remove."""

    device_id: bytes
    leaf_index: int | None


@dataclass(frozen=True, slots=True, kw_only=True)
class GroupRoster:
    group: GroupRecord
    roster: tuple[RosterEntry, ...]  # active devices, by device id


class EnrolmentStatus(StrEnum):
    PENDING = "pending"  # waiting for the coordinator
    APPROVED = "approved"  # a credential naming its invite and device was published
    REJECTED = "rejected"  # the coordinator refused it


@dataclass(frozen=True, slots=True, kw_only=True)
class EnrolmentRecord:
    """A device's request to be enrolled with an invite. ``request`` is opaque to the
    relay: the device's public keys and a MAC under the invite code, which the
    coordinator's client checks before the root signs a credential."""

    invite_id: bytes
    device_id: bytes
    request: bytes
    status: EnrolmentStatus
    received_at: int


@dataclass(frozen=True, slots=True, kw_only=True)
class BlobRecord:
    blob_id: bytes
    group_id: bytes
    owner: bytes
    size: int
    received: int
    complete: bool


class RelayStorage(ABC):
    """The relay's durable state. Write methods return only after their data is durable."""

    # --- lifecycle ------------------------------------------------------------------------

    @abstractmethod
    async def open(self) -> None: ...

    @abstractmethod
    async def close(self) -> None:
        """Finish queued writes, then release every resource."""

    # --- directory and transparency log -------------------------------------------------

    @abstractmethod
    async def publish_credential(self, device: NewDevice, now: int) -> int:
        """Store a verified credential and append its leaf to the log; the leaf's index.
        An enrolment request for the credential's invite and device becomes approved in
        the same transaction."""

    @abstractmethod
    async def revoke_device(self, device_id: bytes, leaf: bytes, now: int) -> int:
        """Mark a device revoked, end its sessions, append the leaf; the leaf's index."""

    @abstractmethod
    async def device(self, device_id: bytes) -> DeviceRecord | None: ...

    @abstractmethod
    async def member_devices(self, member_id: bytes) -> list[DeviceRecord]: ...

    @abstractmethod
    async def log_leaves(self, start: int, end: int) -> list[bytes]:
        """The log's leaves ``start <= index < end`` (as far as they exist)."""

    @abstractmethod
    async def log_size(self) -> int: ...

    @abstractmethod
    async def store_key_packages(
        self, device_id: bytes, packages: Sequence[bytes], last_resort: bytes | None, limit: int
    ) -> int:
        """Add one-time packages (at most ``limit`` stored); replace the last resort if given.
        Returns the number of one-time packages now stored."""

    @abstractmethod
    async def claim_key_package(self, device_id: bytes) -> tuple[bytes, bool] | None:
        """Remove and return one one-time package, else the last resort (kept); the flag
        says whether it is the last resort."""

    # --- enrolment requests ---------------------------------------------------------------

    @abstractmethod
    async def request_enrolment(
        self, invite_id: bytes, device_id: bytes, request: bytes, now: int, max_pending: int
    ) -> tuple[EnrolmentRecord, bool]:
        """Store a pending request; the record and whether it is new. The same request
        again returns the stored record; another one for the invite raises
        InviteUsedError; a device id published or pending already, DeviceExistsError;
        ``max_pending`` requests pending, EnrolmentsFullError."""

    @abstractmethod
    async def enrolment(self, invite_id: bytes) -> EnrolmentRecord | None: ...

    @abstractmethod
    async def pending_enrolments(self) -> list[EnrolmentRecord]:
        """Every pending request, oldest first (their number is bounded on the way in)."""

    @abstractmethod
    async def reject_enrolment(self, invite_id: bytes) -> EnrolmentRecord:
        """Mark a request rejected (again: no change); NotFoundError if unknown,
        EnrolmentDecidedError once its device has been enrolled."""

    # --- sessions -----------------------------------------------------------------------

    @abstractmethod
    async def create_session(
        self, token_hash: bytes, device_id: bytes, expires_at: int
    ) -> None: ...

    @abstractmethod
    async def session(self, token_hash: bytes) -> Session | None: ...

    async def session_device(self, token_hash: bytes) -> tuple[Session, DeviceRecord | None] | None:
        """A session and its device (``None`` if the device is unknown), as one read where
        the backend can: every authenticated request asks for both."""
        session = await self.session(token_hash)
        return None if session is None else (session, await self.device(session.device_id))

    @abstractmethod
    async def purge_expired(self, now: int) -> None:
        """Drop sessions that expired."""

    # --- groups and delivery ------------------------------------------------------------

    @abstractmethod
    async def create_group(self, group_id: bytes, creator: bytes, now: int) -> GroupRecord: ...

    @abstractmethod
    async def membership(self, group_id: bytes, device_id: bytes) -> Membership:
        """Raise NotFoundError for an unknown group, NotOnRosterError off the roster."""

    @abstractmethod
    async def device_groups(self, device_id: bytes) -> list[GroupRecord]: ...

    @abstractmethod
    async def roster(self, group_id: bytes) -> list[bytes]: ...

    @abstractmethod
    async def send(self, request: SendRequest) -> SendResult: ...

    @abstractmethod
    async def send_external(self, request: ExternalProposalRequest) -> SendResult:
        """Order an external proposal into the group's log, as :meth:`send` orders a
        non-commit (idempotent, current epoch only), with no roster check on the sender."""

    @abstractmethod
    async def group_rosters(self, after: bytes, limit: int) -> list[GroupRoster]:
        """Up to ``limit`` groups with ids after ``after`` in id order, each with its
        active roster: the coordinator's view of who is in which case."""

    @abstractmethod
    async def messages(self, group_id: bytes, after: int, limit: int) -> list[StoredMessage]: ...

    @abstractmethod
    async def inbox(self, device_id: bytes, after: int, limit: int) -> list[InboxItem]: ...

    # --- blobs --------------------------------------------------------------------------

    @abstractmethod
    async def create_blob(
        self, blob_id: bytes, group_id: bytes, owner: bytes, size: int, quota: int, now: int
    ) -> BlobRecord: ...

    @abstractmethod
    async def append_blob(self, blob_id: bytes, owner: bytes, offset: int, data: bytes) -> int:
        """Append at ``offset`` (which must be the bytes received so far); the new total."""

    @abstractmethod
    async def complete_blob(self, blob_id: bytes, owner: bytes) -> BlobRecord: ...

    @abstractmethod
    async def blob(self, blob_id: bytes) -> BlobRecord | None: ...

    @abstractmethod
    def blob_chunks(self, blob_id: bytes) -> AsyncIterator[bytes]:
        """The blob's data in order, chunk by chunk."""
