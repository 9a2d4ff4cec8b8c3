"""The desktop app's side of the client library: one unlocked member device, online when
the relay can be reached and useful when it cannot (DESIGN §8).

All of it runs in the worker's event loop (:mod:`client.desktop.worker`); windows call it
through :meth:`AsyncWorker.submit` and are told of changes through a :class:`SessionListener`
(called in the worker thread: the Qt side turns each call into a queued signal).

Offline first. Unlocking opens the keystore and the local database only; cases, threads,
members and drafts are read from there, and a note goes into the outbox, so the app works
on a train. Going online is a task of its own: it connects with capped, jittered backoff
and then hands over to :class:`~client.push.PushConnection`, which keeps the WebSocket,
syncs what is pushed and sends the outbox; a full sync every minute also replays the
transparency log, since revocations are not pushed. What needs the relay there and then (adding a
colleague, uploading or downloading a file) raises :class:`OfflineError` while offline.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from pathlib import Path
from typing import Protocol

from client.attachment_files import media_type
from client.case_device import certified_members
from client.case_errors import RemovedFromCaseError
from client.case_state import CaseState
from client.coordinator import ROOT_FILE
from client.desktop.case_views import (
    CaseRow,
    CaseThread,
    Colleague,
    MemberRow,
    NoteRow,
    Notice,
    NoticeKind,
    SecurityState,
    case_info,
    colleagues,
    event_notice,
    gap_notice,
    note_row,
    revoked_notice,
    sending_row,
)
from client.desktop.desk_state import MAX_DRAFT_CHARS, DeskState, DeskStateFile
from client.directory import IssuedDevice
from client.enrolment import accept_invite
from client.held_cases import case_state, stored_items
from client.member import KEY_PACKAGE_BATCH, FileProgress, Member, ShownItem
from client.profile import Profile, UnlockedProfile
from client.push import Backoff, ConnectionState, PushConnection, PushStatus, uniform_unit
from client.random import SystemRandom
from client.relay_api import Progress, RelayUnavailableError
from client.store import LocalStore, new_client_message_id
from crypto.errors import CasecircleError
from protocol.case_items import Attachment, HistoryPolicy, Note, decode_item, encode_item
from protocol.directory import DeviceCredential
from protocol.invites import InviteCode
from protocol.mls.group import Group
from protocol.safety_numbers import check_scanned, qr_payload, safety_number

RESYNC_INTERVAL = 60.0  # seconds between full syncs, which also replay the directory


class OfflineError(CasecircleError):
    """This needs the relay, and it cannot be reached now; nothing was changed."""

    code = "offline"


class SessionListener(Protocol):
    """Told of changes, in the worker thread."""

    def connection_changed(self, status: PushStatus) -> None: ...

    def case_changed(self, case_id: bytes | None) -> None: ...


class DesktopSession:
    """One unlocked member device for the app's lifetime (see the module docstring)."""

    def __init__(
        self,
        unlocked: UnlockedProfile,
        store: LocalStore,
        desk_file: DeskStateFile,
        desk: DeskState,
        listener: SessionListener,
        *,
        publish_key_packages: bool = False,
        backoff: Backoff | None = None,
        resync_interval: float = RESYNC_INTERVAL,
    ) -> None:
        self.unlocked = unlocked
        self.store = store
        self.device_id = unlocked.identity.device_id
        self.member_id = unlocked.identity.member_id
        self._desk_file = desk_file
        self._desk = desk
        self._listener = listener
        self._publish = publish_key_packages
        self._backoff = backoff if backoff is not None else Backoff()
        self._rng = SystemRandom()
        self.member: Member | None = None
        self.push: PushConnection | None = None
        self._online: asyncio.Task[None] | None = None
        self._retry = asyncio.Event()
        self._resync_interval = resync_interval

    # --- opening and closing ------------------------------------------------------------

    @classmethod
    async def unlock(
        cls, profile: Profile, passphrase: str, listener: SessionListener, **options: object
    ) -> DesktopSession:
        """Open the keystore (Argon2id runs off the event loop) and the local database."""
        unlocked = await profile.unlock(passphrase)
        return await cls._opened(unlocked, listener, **options)

    @classmethod
    async def enrol(
        cls,
        profile: Profile,
        passphrase: str,
        relay_url: str,
        code: InviteCode,
        listener: SessionListener,
        *,
        poll_interval: float = 2.0,
        timeout: float = 7 * 24 * 3600,
        **options: object,
    ) -> DesktopSession:
        """Send the enrolment request and wait for the coordinator's approval; the new
        device then publishes KeyPackages once online, so colleagues can add it."""
        unlocked = await accept_invite(
            profile, passphrase, relay_url, code, poll_interval=poll_interval, timeout=timeout
        )
        return await cls._opened(unlocked, listener, publish_key_packages=True, **options)

    @classmethod
    async def _opened(
        cls, unlocked: UnlockedProfile, listener: SessionListener, **options: object
    ) -> DesktopSession:
        try:
            store = await unlocked.store()
            desk_file = DeskStateFile(unlocked)
            desk = await desk_file.load()
        except BaseException:
            await unlocked.lock()
            raise
        return cls(unlocked, store, desk_file, desk, listener, **options)  # type: ignore[arg-type]

    @staticmethod
    def holds_platform_root(profile: Profile) -> bool:
        """A coordinator's profile: the desktop shows the coordinator's view instead."""
        return (profile.layout.root / ROOT_FILE).exists()

    def go_online(self) -> None:
        """Start connecting in the background (see the module docstring)."""
        if self._online is None:
            self._online = asyncio.get_running_loop().create_task(self._connect_forever())

    def retry_now(self) -> None:
        self._retry.set()
        if self.push is not None:
            self.push.retry_now()

    async def close(self) -> None:
        """Stop syncing, save the desk state and lock the profile (keys dropped)."""
        if self._online is not None:
            self._online.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._online
        if self.push is not None:
            with contextlib.suppress(CasecircleError):
                await self.push.close()
        await self._desk_file.save(self._desk)
        if self.member is not None:
            await self.member.close()  # closes its HTTP session and locks the profile
        else:
            await self.unlocked.lock()

    @property
    def status(self) -> PushStatus:
        if self.push is not None:
            return self.push.status
        return PushStatus(state=ConnectionState.CONNECTING)

    async def _connect_forever(self) -> None:
        failures = 0
        while True:
            try:
                device = await Member.connect(self.unlocked, rng=self._rng)
                break
            except RelayUnavailableError as exc:
                failures += 1
                delay = self._backoff.delay(failures, uniform_unit(self._rng))
                self._listener.connection_changed(
                    PushStatus(
                        state=ConnectionState.OFFLINE,
                        failures=failures,
                        retry_at=time.time() + delay,
                        error=exc.code,
                    )
                )
                self._retry.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._retry.wait(), delay)
        assert isinstance(device, Member)
        self.member = device
        if self._publish:
            await device.publish_key_packages(KEY_PACKAGE_BATCH)
            self._publish = False
        self.push = PushConnection(
            device,
            on_status=self._listener.connection_changed,
            on_synced=self._listener.case_changed,
        )
        self.push.start()
        while True:
            await asyncio.sleep(self._resync_interval)
            self.push.request_sync()  # the directory too: revocations are not pushed

    def _require_member(self) -> Member:
        if self.member is None or self.status.state != ConnectionState.CONNECTED:
            raise OfflineError("the relay cannot be reached now; try again when online")
        return self.member

    # --- reading: from the local store, online or not ----------------------------------

    @property
    def own_credential(self) -> DeviceCredential | None:
        if self.member is None:
            return None
        with contextlib.suppress(CasecircleError):
            return self.member.credential
        return None

    async def cases(self) -> list[CaseRow]:
        rows, own = [], self.device_id
        for case_id in sorted(await self.store.group_cursors()):
            items = await stored_items(self.store, case_id)
            info = case_info([i.stored for i in items])
            read_upto = self._desk.read_upto.get(case_id.hex(), 0)
            written, unread = 0, 0
            for shown in items:
                if not isinstance(shown.stored.item, Note):
                    continue
                written = max(written, shown.stored.item.written_at)
                seq = shown.seq
                unread += seq is not None and seq > read_upto and shown.author.device_id != own
            state = await case_state(self.store, case_id)
            rows.append(
                CaseRow(
                    case_id=case_id,
                    pseudonym=info.pseudonym if info else case_id.hex()[:8],
                    title=info.title if info else "",
                    last_activity=written,
                    unread=unread,
                    removed=state.removed,
                )
            )
        return sorted(rows, key=lambda r: (-r.last_activity, r.pseudonym.casefold()))

    async def thread(self, case_id: bytes) -> CaseThread:
        """The case's notes (verified ones in relay order, then this device's unsent ones)
        and what the user must be told about it."""
        items = await stored_items(self.store, case_id)
        info = case_info([i.stored for i in items])
        issued = self._issued()  # read once: the directory changes under awaits
        revoked = {device for device, d in issued.items() if d.revocation is not None}
        notes: list[NoteRow] = []
        for shown in items:
            row = note_row(
                shown.stored,
                shown.seq,
                own_device=self.device_id,
                revoked=shown.stored.author in revoked,
                key_verified=self._is_verified(shown.author),
            )
            if row is not None:
                notes.append(row)
        own = self.own_credential
        for entry in await self.store.pending_outbox(case_id):
            item = decode_item(entry.payload)
            if isinstance(item, Note):  # pending entries are queued or sent, never acked
                notes.append(sending_row(entry.client_message_id, item, own))
        state = await case_state(self.store, case_id)
        return CaseThread(
            case_id=case_id,
            pseudonym=info.pseudonym if info else case_id.hex()[:8],
            title=info.title if info else "",
            removed=state.removed,
            notes=tuple(notes),
            notices=tuple(self._case_notices(case_id, state, items, issued, revoked)),
        )

    def _case_notices(
        self,
        case_id: bytes,
        state: CaseState,
        items: list[ShownItem],
        issued: dict[bytes, IssuedDevice],
        revoked: set[bytes],
    ) -> list[Notice]:
        notices = [gap_notice(case_id, gap) for gap in state.ledger.gaps(state.readable)]
        if revoked:  # the group is decoded only when there is a revocation to look for
            concerned = {i.stored.author for i in items} | self._members(state).keys()
            notices.extend(
                revoked_notice(case_id, issued[device]) for device in sorted(concerned & revoked)
            )
        return notices

    async def security(self, limit: int = 200) -> SecurityState:
        """The security event log for the banner: every fork counts until the coordinator
        has dealt with it (a new profile), other refusals until the user looked at them."""
        notices = [event_notice(e) for e in await self.store.security_events(limit=1_000_000)]
        return SecurityState(
            forks=sum(1 for n in notices if n.kind == NoticeKind.FORK),
            unseen=sum(
                1
                for n in notices
                if n.kind != NoticeKind.FORK and n.event_id > self._desk.events_seen
            ),
            events=tuple(reversed(notices[-limit:])),
        )

    async def mark_events_seen(self) -> None:
        events = await self.store.security_events(after=self._desk.events_seen)
        if events:
            self._desk.events_seen = events[-1].event_id
            await self._desk_file.save(self._desk)

    async def members(self, case_id: bytes) -> list[MemberRow]:
        state = await case_state(self.store, case_id)
        revoked = self._revoked_devices()
        rows = [
            MemberRow(
                device_id=c.device_id,
                name=c.display_name,
                organisation=c.organisation,
                role=c.role,
                own=c.device_id == self.device_id,
                revoked=c.device_id in revoked,
                key_verified=self._is_verified(c),
            )
            for c in self._members(state).values()
        ]
        return sorted(rows, key=lambda r: (not r.own, r.name.casefold(), r.device_id))

    async def colleagues(self) -> list[Colleague]:
        """Who can be added to a case: from the replayed log (online only)."""
        member = self._require_member()
        return colleagues(member.directory, self.member_id, int(time.time()))

    def safety_number(self, case_member: MemberRow) -> tuple[str, bytes]:
        """The 60 digits both colleagues see for this pair of devices, and the payload of
        the QR code the other one scans."""
        own = self._credential_of(self.device_id)
        peer = self._credential_of(case_member.device_id)
        return safety_number(own, peer).format(), qr_payload(own, peer)

    def check_code(self, case_member: MemberRow, payload: bytes) -> None:
        """Check the code scanned from the colleague's screen (raises if it differs)."""
        own = self._credential_of(self.device_id)
        check_scanned(own, self._credential_of(case_member.device_id), payload)

    # --- drafts, read marks, verified keys ----------------------------------------------

    def draft(self, case_id: bytes) -> str:
        return self._desk.drafts.get(case_id.hex(), "")

    async def save_draft(self, case_id: bytes, text: str) -> None:
        """Saved sealed and durably (unless unchanged); an empty draft is dropped."""
        key, text = case_id.hex(), text[:MAX_DRAFT_CHARS]
        if self._desk.drafts.get(key, "") == text:
            return
        if text:
            self._desk.drafts[key] = text
        else:
            self._desk.drafts.pop(key, None)
        await self._desk_file.save(self._desk)

    async def mark_read(self, case_id: bytes) -> bool:
        """Mark the case read up to its last message; whether that moved the mark."""
        seqs = [i.seq for i in await stored_items(self.store, case_id) if i.seq is not None]
        key = case_id.hex()
        if not seqs or max(seqs) <= self._desk.read_upto.get(key, 0):
            return False
        self._desk.read_upto[key] = max(seqs)
        await self._desk_file.save(self._desk)
        return True

    async def set_key_verified(self, device_id: bytes, verified: bool) -> None:
        """Remember (or forget) that the user compared this device's safety number: bound
        to its signature key, so a new key is unverified again."""
        key = device_id.hex()
        if verified:
            self._desk.verified_keys[key] = self._credential_of(device_id).signature_key.hex()
        else:
            self._desk.verified_keys.pop(key, None)
        await self._desk_file.save(self._desk)

    # --- acting ---------------------------------------------------------------------------

    async def change_passphrase(self, current: str, new: str) -> None:
        """Seal the keystore again under ``new`` (``current`` must open it)."""
        await self.unlocked.change_passphrase(current, new)

    async def create_case(self, title: str, pseudonym: str, history: HistoryPolicy) -> bytes:
        member = self._require_member()
        case_id = await member.create_case(title, pseudonym, history)
        with contextlib.suppress(RelayUnavailableError):
            await member.flush_outbox()
        if self.push is not None:
            self.push.request_sync(case_id)
        return case_id

    async def post(
        self,
        case_id: bytes,
        text: str,
        files: list[Path],
        progress: FileProgress | None = None,
    ) -> str:
        """Queue a note in the outbox (durable before this returns), then try to send it.

        A note with files needs the relay first: each file is encrypted and uploaded, and
        only then is the note queued; if that fails nothing is queued and the caller keeps
        the text. A text-only note is queued offline too and sent when the relay is back."""
        if (await case_state(self.store, case_id)).removed:
            raise RemovedFromCaseError("this device was removed from the case")
        if files:
            member = self._require_member()
            contents = [
                (path.name, media_type(path.name), await asyncio.to_thread(path.read_bytes))
                for path in files
            ]
            client_message_id = await member.post_note(case_id, text, contents, progress)
        else:
            note = Note(text=text, written_at=int(time.time()))
            client_message_id = new_client_message_id(self._rng)
            await self.store.enqueue(client_message_id, case_id, encode_item(note))
            if self.member is not None:
                with contextlib.suppress(RelayUnavailableError):
                    await self.member.flush_outbox()
        if self._desk.drafts.pop(case_id.hex(), None) is not None:
            await self._desk_file.save(self._desk)
        return client_message_id

    async def save_attachment(
        self,
        case_id: bytes,
        note_key: str,
        index: int,
        directory: Path,
        progress: Progress | None = None,
    ) -> Path:
        """Download, check against the signed reference and save as a new file."""
        member = self._require_member()
        attachment = await self._attachment(case_id, note_key, index)
        return await member.save_attachment(attachment, directory, progress)

    async def add_colleague(self, case_id: bytes, member_id: bytes) -> list[bytes]:
        member = self._require_member()
        added = await member.add_member(case_id, member_id)
        self._changed(case_id)
        return added

    async def remove_device(self, case_id: bytes, device_id: bytes) -> None:
        member = self._require_member()
        await member.remove_devices(case_id, [device_id])
        self._changed(case_id)

    def _changed(self, case_id: bytes | None) -> None:
        self._listener.case_changed(case_id)

    # --- internals ------------------------------------------------------------------------

    def _members(self, state: CaseState) -> dict[bytes, DeviceCredential]:
        """Device id → credential of every certified member (none once removed)."""
        if state.removed:
            return {}
        group = Group.from_bytes(state.mls_state, self.unlocked.signing_key)
        return {c.device_id: c for c in certified_members(group).values()}

    def _issued(self) -> dict[bytes, IssuedDevice]:
        """Every device the replayed log holds (nothing while offline)."""
        if self.member is None:
            return {}
        return {d.credential.device_id: d for d in self.member.directory.devices()}

    def _revoked_devices(self) -> set[bytes]:
        return {device for device, d in self._issued().items() if d.revocation is not None}

    def _credential_of(self, device_id: bytes) -> DeviceCredential:
        if self.member is None:
            raise OfflineError("the directory is read when online")
        issued = self._issued().get(device_id)
        if issued is None:
            raise OfflineError("this device is not in the directory")
        return issued.credential

    def _is_verified(self, credential: DeviceCredential) -> bool:
        pinned = self._desk.verified_keys.get(credential.device_id.hex())
        return pinned is not None and pinned == credential.signature_key.hex()

    async def _attachment(self, case_id: bytes, note_key: str, index: int) -> Attachment:
        for shown in await stored_items(self.store, case_id):
            item = shown.stored.item
            if shown.stored.item_id.hex() == note_key and isinstance(item, Note):
                return item.attachments[index]
        raise OfflineError("this device holds no such attachment")
