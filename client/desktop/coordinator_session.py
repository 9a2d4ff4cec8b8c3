"""The desktop app's side of the coordinator: the platform root's holder at work.

Like :class:`~client.desktop.session.DesktopSession`, this runs in the worker's event loop
(:mod:`client.desktop.worker`); the coordinator's page calls it through
:meth:`AsyncWorker.submit` and only lays out the plain values it returns. It wraps
:class:`client.coordinator.Coordinator`: invites, the enrolment requests waiting at the
relay, approving one of them (the request's proof of the invite secret is checked before
the root signs), revoking a device or a member, and the replayed transparency log (every
device the root ever issued, revoked ones included). The coordinator holds no case key;
nothing here reads a case.

Every operation holds one lock: the invite book is read, changed over several awaits and
written back (:meth:`Coordinator.process_enrolments`), so two operations interleaved on
the loop could lose an invite made in between.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from client.cli_session import create_new_file
from client.coordinator import (
    ROOT_FILE,
    Coordinator,
    CoordinatorError,
    InviteRecord,
    InviteStatus,
    PendingRequest,
    members_in_log,
    open_root,
)
from client.directory import DeviceStanding, IssuedDevice, reason_name
from client.invite_codes import LANGUAGES, InviteFileError, qr_png, words_of
from client.profile import Profile
from crypto.keystore import KeystoreParams
from protocol.directory import RevocationReason

T = TypeVar("T")

CREDENTIAL_DAYS = 365
"""How long an enrolled device's credential lasts (the command line's default)."""


@dataclass(frozen=True, slots=True)
class DeviceRow:
    """One device the root issued, as the log shows it. Names are untrusted plain text."""

    device_id: bytes
    member_id: bytes
    display_name: str
    organisation: str
    role: str
    log_index: int
    not_before: int
    not_after: int
    status: DeviceStanding
    revoked_at: int | None
    revocation_reason: str | None  # reason_name(), None while not revoked
    own: bool  # the coordinator's own device

    @property
    def revoked(self) -> bool:
        return self.status == DeviceStanding.REVOKED


@dataclass(frozen=True, slots=True)
class MemberView:
    """One member with every device ever issued to them, in log order."""

    member_id: bytes
    display_name: str
    organisation: str
    role: str
    devices: tuple[DeviceRow, ...]
    own: bool  # the coordinator themself: never revoked from this page

    @property
    def active_devices(self) -> int:
        return sum(1 for d in self.devices if d.status == DeviceStanding.ACTIVE)

    @property
    def revocable(self) -> tuple[DeviceRow, ...]:
        return tuple(d for d in self.devices if not d.revoked)


@dataclass(frozen=True, slots=True)
class InviteView:
    """An invite in the book, without its secret."""

    invite_id: bytes
    member_id: bytes
    display_name: str
    organisation: str
    role: str
    created_at: int
    expires_at: int
    credential_days: int
    device_id: bytes  # empty until a device was enrolled with it
    status: InviteStatus


@dataclass(frozen=True, slots=True, repr=False)
class NewInvite:
    """A just-made invite with its secret: the words and the QR image are the code itself."""

    invite: InviteView
    words: tuple[str, ...] = field(repr=False)
    qr_png: bytes = field(repr=False)

    def __repr__(self) -> str:
        return f"NewInvite({self.invite.display_name!r}, <secret>)"


@dataclass(frozen=True, slots=True)
class PendingApproval:
    """A device's request waiting at the relay; ``invite`` is None when the invite is not
    one of this coordinator's (another coordinator's, or a guess): it is left alone."""

    invite_id: bytes
    device_id: bytes
    received_at: int
    invite: InviteView | None

    @property
    def ours(self) -> bool:
        return self.invite is not None


@dataclass(frozen=True, slots=True)
class ApprovalResult:
    invite_id: bytes
    device_id: bytes
    display_name: str
    organisation: str
    approved: bool
    reason: str  # "approved", or the stable code of why the request was rejected


@dataclass(frozen=True, slots=True)
class Overview:
    """Everything the page shows, read in one go so the tabs agree with each other."""

    members: tuple[MemberView, ...]
    devices: tuple[DeviceRow, ...]
    invites: tuple[InviteView, ...]
    pending: tuple[PendingApproval, ...]


def _device_row(issued: IssuedDevice, now: int, own_device: bytes) -> DeviceRow:
    credential, revocation = issued.credential, issued.revocation
    return DeviceRow(
        device_id=credential.device_id,
        member_id=credential.member_id,
        display_name=credential.display_name,
        organisation=credential.organisation,
        role=credential.role,
        log_index=issued.log_index,
        not_before=credential.not_before,
        not_after=credential.not_after,
        status=issued.standing(now),
        revoked_at=revocation.revoked_at if revocation is not None else None,
        revocation_reason=reason_name(revocation.reason) if revocation is not None else None,
        own=credential.device_id == own_device,
    )


def _invite_view(record: InviteRecord, now: int) -> InviteView:
    return InviteView(
        invite_id=record.code.invite_id,
        member_id=record.member_id,
        display_name=record.display_name,
        organisation=record.organisation,
        role=record.role,
        created_at=record.created_at,
        expires_at=record.expires_at,
        credential_days=record.credential_days,
        device_id=record.device_id,
        status=record.status(now),
    )


class CoordinatorSession:
    """The coordinator's device, connected, with the platform root attached until closed."""

    def __init__(self, coordinator: Coordinator) -> None:
        self.coordinator = coordinator
        self.device_id = coordinator.device_id
        self.member_id = coordinator.member_id
        self._lock = asyncio.Lock()
        self._closed = False

    # --- opening and closing ------------------------------------------------------------

    @classmethod
    async def open(
        cls,
        profile: Profile,
        passphrase: str,
        *,
        insecure_floor_for_tests: KeystoreParams | None = None,
    ) -> CoordinatorSession:
        """Unlock the profile and the platform root (Argon2id off the loop, as the command
        line does) and connect; on any failure the profile is locked again."""
        if not (profile.layout.root / ROOT_FILE).is_file():
            raise CoordinatorError(f"{profile.layout.root} holds no platform root")
        unlocked = await profile.unlock(passphrase)
        try:
            device = await Coordinator.connect(unlocked)
        except BaseException:
            await unlocked.lock()
            raise
        if not isinstance(device, Coordinator):
            await device.close()
            raise CoordinatorError("the coordinator's profile opened as another device")
        try:
            root = await asyncio.to_thread(
                open_root,
                profile.layout.root,
                passphrase,
                insecure_floor_for_tests=insecure_floor_for_tests,
            )
            device.attach_root(root)
        except BaseException:
            await device.close()
            raise
        return cls(device)

    async def close(self) -> None:
        """Close the relay connection and lock the profile (keys dropped); idempotent."""
        async with self._lock:
            if self._closed:
                return
            self._closed = True
            with contextlib.suppress(AttributeError):
                del self.coordinator.root  # the root signs nothing more from here on
            await self.coordinator.close()

    @property
    def closed(self) -> bool:
        return self._closed

    async def _locked(self, work: Callable[[], Awaitable[T]]) -> T:
        async with self._lock:
            if self._closed:
                raise CoordinatorError("the coordinator's session is closed")
            return await work()

    # --- reading ------------------------------------------------------------------------

    async def overview(self) -> Overview:
        """Members, every device, the invite book and the waiting requests, all at once
        (the log replayed to the relay's newest head first)."""

        async def read() -> Overview:
            await self.coordinator.refresh_directory()
            now = self.coordinator.clock()
            rows = {
                issued.log_index: _device_row(issued, now, self.device_id)
                for issued in self.coordinator.directory.devices()
            }
            book = self.coordinator.invites()
            return Overview(
                members=tuple(self._members(rows)),
                devices=tuple(rows.values()),
                invites=tuple(_invite_view(record, now) for record in book),
                pending=tuple(await self._pending(now, book)),
            )

        return await self._locked(read)

    async def pending(self) -> list[PendingApproval]:
        """The requests waiting at the relay (reading them changes nothing)."""

        async def read() -> list[PendingApproval]:
            return await self._pending(self.coordinator.clock())

        return await self._locked(read)

    def _members(self, rows: dict[int, DeviceRow]) -> list[MemberView]:
        """Each member with their device rows (``rows`` by log index)."""
        return [
            MemberView(
                member_id=record.member_id,
                display_name=record.display_name,
                organisation=record.organisation,
                role=record.role,
                devices=tuple(rows[d.log_index] for d in record.devices),
                own=record.member_id == self.member_id,
            )
            for record in members_in_log(self.coordinator.directory)
        ]

    async def _pending(
        self, now: int, book: list[InviteRecord] | None = None
    ) -> list[PendingApproval]:
        requests: list[PendingRequest] = await self.coordinator.pending_requests(book)
        return [
            PendingApproval(
                invite_id=r.invite_id,
                device_id=r.device_id,
                received_at=r.received_at,
                invite=_invite_view(r.invite, now) if r.invite is not None else None,
            )
            for r in requests
        ]

    # --- acting -------------------------------------------------------------------------

    async def create_invite(
        self,
        display_name: str,
        organisation: str,
        role: str,
        valid_days: int,
        *,
        language: str = "en",
        credential_days: int = CREDENTIAL_DAYS,
    ) -> NewInvite:
        """A one-time invite for a new member; its words in ``language`` and its QR image."""
        if language not in LANGUAGES:
            raise CoordinatorError(f"no word list for {language!r}")
        names = (display_name.strip(), organisation.strip(), role.strip())
        if not all(names):
            raise CoordinatorError("an invite needs a name, an organisation and a role")

        async def make() -> NewInvite:
            record = self.coordinator.invite(
                *names, valid_days=valid_days, credential_days=credential_days
            )
            image = await asyncio.to_thread(qr_png, record.code)
            return NewInvite(
                invite=_invite_view(record, self.coordinator.clock()),
                words=words_of(record.code, language),
                qr_png=image,
            )

        return await self._locked(make)

    async def approve(self, invite_id: bytes) -> list[ApprovalResult]:
        """Check the requests made under ``invite_id`` against the invite's secret: certify
        and log the device if the check passes, reject the request if it does not."""

        async def run() -> list[ApprovalResult]:
            if invite_id not in {r.code.invite_id for r in self.coordinator.invites()}:
                raise CoordinatorError("this request is not under an invite of yours")
            results = await self.coordinator.process_enrolments({invite_id})
            return [
                ApprovalResult(
                    invite_id=r.invite.code.invite_id,
                    device_id=r.device_id,
                    display_name=r.invite.display_name,
                    organisation=r.invite.organisation,
                    approved=r.approved,
                    reason=r.reason,
                )
                for r in results
            ]

        return await self._locked(run)

    async def revoke_device(
        self, device_id: bytes, reason: RevocationReason = RevocationReason.UNSPECIFIED
    ) -> int:
        """Revoke and log; its removal is proposed in every case it is in. The log index."""
        if device_id == self.device_id:
            raise CoordinatorError("the coordinator's own device is not revoked from here")

        async def run() -> int:
            return await self.coordinator.revoke_device(device_id, reason)

        return await self._locked(run)

    async def revoke_member(self, member_id: bytes) -> list[bytes]:
        """Revoke every device of a member (reason: member left); the devices revoked."""
        if member_id == self.member_id:
            raise CoordinatorError("the coordinator is not revoked from here")

        async def run() -> list[bytes]:
            return await self.coordinator.revoke_member(member_id)

        return await self._locked(run)

    async def propose_removals(self) -> int:
        """Propose again that revoked devices be removed from their cases; how many sent."""
        return await self._locked(self.coordinator.propose_removals)

    @staticmethod
    async def save_invite_image(invite: NewInvite, path: Path) -> Path:
        """Write the QR image to a new file readable by its owner only (it is the secret)."""
        await asyncio.to_thread(create_new_file, path, invite.qr_png, InviteFileError)
        return path
