"""A member's device: cases as MLS groups, notes as signed envelopes, and the sync that keeps
them current (DESIGN §4, §5, §8).

Sending. A note is first made durable in the outbox as its plaintext item (sealed at rest by
the store), then sealed into the case's *current* epoch and sent with the outbox entry's
client message id. A relay that moved on answers 409: the device processes the commit that
won and seals the same item again in the new epoch. A resend after a lost answer returns
the original sequence number, so nothing is posted twice and nothing is lost.

Receiving (:mod:`client.case_receiving`). Messages are fetched in order and checked; what
the relay withholds is listed by :meth:`Member.gaps` and every refusal is recorded in the
security event log. Joining (:mod:`client.case_joining`): the inbox is read from a stored
cursor, page by page, so each Welcome is looked at once.

Concurrency (:mod:`client.case_locks`). Pushes, the application and the sync engine may
call one member from several tasks at once. Every public method that changes a case holds
that case's lock from loading its state to saving it — one case at a time — so no two
operations advance the same ratchet from the same saved state; the inbox and the
KeyPackages are under one device lock taken before any case lock. Under a lock only the
unlocked internal forms are called (``_sync_case``, ``_commit``, ``_flush_case``).

Who is trusted. An item is shown only if its author's signature verifies under a
credential that is in the replayed transparency log, and the author is the MLS sender that
delivered it. A device is added only if its credential is logged, valid and unrevoked, and
its KeyPackage carries exactly that credential. A Welcome is taken only from a committer
whose credential holds. A commit that brings in a device without such a credential is
merged (refusing it would split the case) and at once answered by a commit removing that
device; until then the case refuses to send. History keys are taken only from the ring of
the member who added this device, and a ring that contradicts a key held here is refused.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from client.attachment_files import DEFAULT_FILE_NAME, safe_file_name, write_new_file
from client.case_device import OpenCase, certified_members
from client.case_errors import (
    AuthorMismatchError,
    AuthorRevokedError,
    CaseError,
    ExternalSenderError,
    ForkedEpochError,
    GapDetectedError,
    ItemCounterError,
    KeyPackageMismatchError,
    KeyPackageUsedError,
    LateItemError,
    LaterEpochError,
    MissingItemError,
    NotInCaseError,
    RelayOrderError,
    RemovedFromCaseError,
    ReorderedItemError,
    ReplayedItemError,
    RingConflictError,
    UnknownCaseError,
    UntrustedMemberError,
    UntrustedWelcomeError,
    WithheldTailError,
    WrongChannelError,
)
from client.case_joining import KEY_PACKAGE_BATCH, CaseJoining
from client.case_locks import CaseLockOrderError
from client.case_state import CaseState, Gap, GapKind
from client.relay_api import Progress, RelayUnavailableError, StaleEpochError
from client.store import OutboxState, new_client_message_id
from client.stored_item import StoredItem
from crypto.attachments import open_attachment, seal_attachment
from crypto.errors import CasecircleError
from protocol.case_envelope import parse_envelope, seal_item
from protocol.case_items import (
    Attachment,
    CaseInfo,
    CaseItem,
    HistoryPolicy,
    HistoryRing,
    Note,
    decode_item,
    encode_item,
)
from protocol.directory import (
    ID_SIZE,
    DeviceCredential,
    DirectoryError,
    mls_credential,
    parse_mls_credential,
)
from protocol.mls.capabilities import supported_capabilities
from protocol.mls.events import ApplicationMessage
from protocol.mls.extensions import Extension
from protocol.mls.external_sender import external_senders_extension
from protocol.mls.framing import MLSMessage
from protocol.mls.group import Group
from protocol.mls.key_package import KeyPackage
from protocol.mls.key_packages import default_lifetime, validate_key_package

__all__ = [
    "DEFAULT_FILE_NAME",
    "KEY_PACKAGE_BATCH",
    "AuthorMismatchError",
    "AuthorRevokedError",
    "CaseError",
    "CaseLockOrderError",
    "CaseSummary",
    "ExternalSenderError",
    "ForkedEpochError",
    "Gap",
    "GapDetectedError",
    "GapKind",
    "ItemCounterError",
    "KeyPackageMismatchError",
    "KeyPackageUsedError",
    "LateItemError",
    "LaterEpochError",
    "Member",
    "MissingItemError",
    "NotInCaseError",
    "RelayOrderError",
    "RemovedFromCaseError",
    "ReorderedItemError",
    "ReplayedItemError",
    "RingConflictError",
    "ShownItem",
    "UnknownCaseError",
    "UntrustedMemberError",
    "UntrustedWelcomeError",
    "WithheldTailError",
    "WrongChannelError",
    "safe_file_name",
]


FileProgress = Callable[[int, int, int], None]
"""(file number from 0, bytes done, bytes in all) while a note's attachments travel."""


@dataclass(frozen=True, slots=True)
class ShownItem:
    """An item as the user sees it, with who wrote it as the log certifies, and whether
    the log has since revoked that device (shown as a warning next to the item)."""

    seq: int | None
    stored: StoredItem
    author_revoked: bool = False

    @property
    def author(self) -> DeviceCredential:
        return self.stored.credential


@dataclass(frozen=True, slots=True)
class CaseSummary:
    case_id: bytes
    title: str | None
    pseudonym: str | None
    history: HistoryPolicy | None
    epoch: int
    members: tuple[DeviceCredential, ...]
    removed: bool


class Member(CaseJoining):
    """A member's device: see the module docstring."""

    # --- cases --------------------------------------------------------------------------

    async def create_case(
        self, title: str, pseudonym: str, history: HistoryPolicy = HistoryPolicy.FULL
    ) -> bytes:
        """A new case with this device as its only member; its description is sent first."""
        info = CaseInfo(title=title, pseudonym=pseudonym, history=history)
        case_id = self.rng.random_bytes(ID_SIZE)
        own = self._own_signed()
        coordinators = self.directory.coordinator_keys(self.clock())
        extensions: tuple[Extension, ...] = ()
        if coordinators:
            signed = {d.credential.signature_key: d.signed for d in self.directory.devices()}
            extensions = (
                external_senders_extension(
                    tuple((key, mls_credential(signed[key])) for key in sorted(coordinators))
                ),
            )
        group = Group.create(
            self.suite,
            case_id,
            self.profile.signing_key,
            mls_credential(own),
            supported_capabilities(),
            default_lifetime(self.clock()),
            self.rng,
            extensions=extensions,
        )
        state = CaseState(mls_state=group.to_bytes(), history_policy=history)
        state.history_keys[0] = self._keys(group).history_key
        async with self._locks.case(case_id):
            await self.api.create_group(case_id)
            await self.store.save_group(case_id, state.to_bytes(), 0)
            await self.queue_item(case_id, info)
        return case_id

    async def case_ids(self) -> list[bytes]:
        return sorted(await self.store.group_cursors())

    async def summary(self, case_id: bytes) -> CaseSummary:
        case = await self._load(case_id)
        info = None
        for shown in await self.items(case_id):
            if isinstance(shown.stored.item, CaseInfo):
                info = shown.stored.item
        members = () if case.group is None else tuple(certified_members(case.group).values())
        return CaseSummary(
            case_id=case_id,
            title=info.title if info else None,
            pseudonym=info.pseudonym if info else None,
            history=case.state.history_policy,
            epoch=case.group.epoch if case.group is not None else -1,
            members=members,
            removed=case.state.removed,
        )

    async def items(self, case_id: bytes) -> list[ShownItem]:
        """Every verified item of the case held here, in relay order."""
        records = await self.store.notes(case_id)
        shown = []
        for record in records:
            stored = StoredItem.from_bytes(record.body)
            revoked = self.directory.is_revoked(stored.author)
            shown.append(ShownItem(record.seq, stored, author_revoked=revoked))
        return sorted(shown, key=lambda s: (s.seq is None, s.seq or 0))

    async def gaps(self, case_id: bytes) -> list[Gap]:
        """What the relay kept from this device in the case, as far as it can tell: skipped
        sequence numbers, messages of epochs it never reached, messages announced but not
        delivered, and every author's missing items in epochs it can read."""
        state = (await self._load(case_id)).state
        return state.ledger.gaps(state.readable)

    async def notes(self, case_id: bytes) -> list[ShownItem]:
        return [s for s in await self.items(case_id) if isinstance(s.stored.item, Note)]

    # --- membership ---------------------------------------------------------------------

    async def add_devices(self, case_id: bytes, device_ids: list[bytes]) -> None:
        """Add devices after checking each one's logged credential and KeyPackage; a check
        that fails is recorded and raised, and nothing is committed."""
        await self.refresh_directory()
        packages: list[tuple[bytes, KeyPackage]] = []
        for device_id in device_ids:
            try:
                packages.append((device_id, await self._claim_checked(device_id)))
            except RelayUnavailableError:
                raise
            except CasecircleError as exc:
                await self.record(exc, group_id=case_id, device_id=device_id)
                raise
        async with self._locks.case(case_id):
            await self._commit(case_id, add=packages)
            await self._flush_case(case_id)

    async def _claim_checked(self, device_id: bytes) -> KeyPackage:
        """One KeyPackage of ``device_id`` from the relay, carrying its logged credential."""
        now = self.clock()
        self.directory.device(device_id, now)  # logged, valid, unrevoked: or it raises
        body = MLSMessage.from_bytes(await self.api.claim_key_package(device_id)).body
        if not isinstance(body, KeyPackage):
            raise WrongChannelError("the relay returned something other than a KeyPackage")
        validate_key_package(self.suite, body, now=now)
        certified = self.directory.check_leaf(
            body.leaf_node.credential, body.leaf_node.signature_key, self.suite.suite_id, now
        )
        if certified.device_id != device_id:
            raise KeyPackageMismatchError("the KeyPackage belongs to another device")
        return body

    async def add_member(self, case_id: bytes, member_id: bytes) -> list[bytes]:
        """Add every usable device of a member; the device ids added."""
        await self.refresh_directory()
        now = self.clock()
        devices = []
        for issued in self.directory.member_devices(member_id):
            with contextlib.suppress(DirectoryError):
                devices.append(self.directory.device(issued.credential.device_id, now).device_id)
        if not devices:
            raise NotInCaseError("the member has no usable device")
        await self.add_devices(case_id, devices)
        return devices

    async def remove_devices(self, case_id: bytes, device_ids: list[bytes]) -> None:
        async with self._locks.case(case_id):
            case = await self._load(case_id)
            group = self._require_group(case)
            leaves = [self._leaf_of(group, d) for d in device_ids]
            await self._commit(case_id, remove=leaves)
            await self._flush_case(case_id)

    async def update_keys(self, case_id: bytes) -> None:
        """Commit a fresh path for this device: keys copied from it before are of no use
        for the epochs that follow (post-compromise security, ATTACKS C7)."""
        async with self._locks.case(case_id):
            await self._commit(case_id)
            await self._flush_case(case_id)

    async def _commit(
        self,
        case_id: bytes,
        *,
        add: list[tuple[bytes, KeyPackage]] | None = None,
        remove: list[int] | None = None,
        attempts: int = 5,
    ) -> None:
        """Commit, retrying on top of whatever commit won the epoch first. The caller holds
        the case lock and sends the case's outbox after (the ring queued here is in it)."""
        self._locks.require_case(case_id)
        add = add or []
        remove = remove or []
        for _ in range(attempts):
            await self._sync_case(case_id, commit_proposals=False)
            case = await self._load(case_id)
            group = self._require_group(case)
            members = certified_members(group)
            removing = [leaf for leaf in remove if leaf in members]
            before = dict(members)
            pending = group.commit(
                self.rng,
                self.clock(),
                add=tuple(kp for _, kp in add),
                remove=tuple(removing),
            )
            staged_state = pending.created.staged.state
            assert staged_state is not None
            after: dict[int, bytes] = {}
            for index, leaf in staged_state.tree.members():
                with contextlib.suppress(CasecircleError):
                    after[index] = parse_mls_credential(leaf.credential).credential.device_id
            before_devices = {c.device_id for c in before.values()}
            added = tuple(d for d in after.values() if d not in before_devices)
            removed = tuple(d for d in before_devices if d not in set(after.values()))
            try:
                await self.api.send(
                    case_id,
                    new_client_message_id(self.rng),
                    pending.message,
                    roster_add=added,
                    roster_remove=removed,
                    welcome=(pending.welcome, added) if pending.welcome and added else None,
                    leaf_indexes={d: i for i, d in after.items() if d in added},
                )
            except StaleEpochError:
                group.discard_pending()
                continue
            # Our commit comes back at the next sync as a message of the epoch we left: the
            # ledger knows it by its hash (the next epoch began there; another commit in its
            # place is a fork). Anything sent in the old epoch just before it is read from
            # its envelope.
            left = group.epoch
            group.merge_pending()
            case.state.ledger.own_commit(left, pending.message)
            case.group = group
            case.state.history_keys[group.epoch] = self._keys(group).history_key
            await self._save(case_id, case)
            if added and case.state.history_policy == HistoryPolicy.FULL:
                ring = HistoryRing(
                    keys=tuple(
                        (e, k)
                        for e, k in sorted(case.state.history_keys.items())
                        if e < group.epoch
                    )
                )
                await self.queue_item(case_id, ring)
            return
        raise RelayUnavailableError("the case kept changing; try again")

    # --- sending ------------------------------------------------------------------------

    async def queue_item(self, case_id: bytes, item: CaseItem) -> str:
        """Make ``item`` durable in the outbox; the next flush sends it. Needs no lock: an
        entry is sealed only when it is sent, under the case's lock."""
        client_message_id = new_client_message_id(self.rng)
        await self.store.enqueue(client_message_id, case_id, encode_item(item))
        return client_message_id

    async def post_note(
        self,
        case_id: bytes,
        text: str,
        files: list[tuple[str, str, bytes]] | None = None,
        progress: FileProgress | None = None,
    ) -> str:
        """Post a note with attachments ``(name, media type, content)``. The attachments are
        encrypted (off the event loop) and uploaded first, with ``progress(file number,
        bytes sent, bytes in all)``; a relay that is down raises before anything is queued,
        so the caller still holds the text. Then the note is made durable in the outbox
        before it is sent. Returns its client message id."""
        case = await self._load(case_id)
        self._require_group(case)
        attachments = []
        for number, (name, media_type, content) in enumerate(files or []):
            blob, ref = await asyncio.to_thread(seal_attachment, content, self.rng)
            upload = None if progress is None else functools.partial(progress, number)
            blob_id = await self.api.upload_blob(case_id, blob, upload)
            attachments.append(
                Attachment(name=name, media_type=media_type, blob_id=blob_id, ref=ref)
            )
        note = Note(text=text, attachments=tuple(attachments), written_at=self.clock())
        client_message_id = await self.queue_item(case_id, note)
        with contextlib.suppress(RelayUnavailableError):
            await self.flush_outbox()
        return client_message_id

    async def download(self, attachment: Attachment, progress: Progress | None = None) -> bytes:
        """The attachment's file, once its blob matches the signed reference exactly (its
        hash, key commitment and every chunk: ATTACKS E9, E10). A blob that does not is
        recorded in the security event log and raised."""
        blob = await self.api.download_blob(attachment.blob_id, progress)
        try:
            return await asyncio.to_thread(open_attachment, blob, attachment.ref)
        except CasecircleError as exc:
            await self.record(exc)
            raise

    async def save_attachment(
        self, attachment: Attachment, directory: Path, progress: Progress | None = None
    ) -> Path:
        """Download an attachment and write it into ``directory`` as a new file, readable by
        its owner only, under :func:`safe_file_name` of its sender-chosen name — never over
        an existing file (ATTACKS E11). The path written."""
        content = await self.download(attachment, progress)
        return await asyncio.to_thread(
            write_new_file, directory, safe_file_name(attachment.name), content
        )

    async def flush_outbox(self) -> int:
        """Send what the outbox holds, each case's entries oldest first, one case at a time
        under its lock; how many were acknowledged."""
        acknowledged = 0
        for case_id in await self.store.pending_outbox_groups():
            async with self._locks.case(case_id):
                acknowledged += await self._flush_case(case_id)
        return acknowledged

    async def _flush_case(self, case_id: bytes) -> int:
        """Send one case's outbox, oldest first; how many were acknowledged. The caller
        holds the case lock, so no other task seals an entry of the case meanwhile.

        The group state (its sending ratchet advanced) is stored before a message leaves,
        so a crash after sending never reuses a message key; the entry is marked ``sent``
        before and ``acked`` after. The first entry that cannot go holds back the later
        ones, so that the author's counters run in order. An entry of a case this device
        was removed from stays in the outbox, so its text is never lost. Entries queued
        meanwhile (a ring after a commit made here) are sent in the same call.
        """
        self._locks.require_case(case_id)
        acknowledged = 0
        while entries := await self.store.pending_outbox(case_id):
            for entry in entries:
                try:
                    seq = await self._send_entry(
                        case_id, entry.client_message_id, entry.payload, entry.state
                    )
                except RemovedFromCaseError as exc:
                    await self.record(exc, group_id=case_id)
                    return acknowledged
                if seq is None:
                    return acknowledged
                acknowledged += 1
        return acknowledged

    async def _send_entry(
        self, case_id: bytes, client_message_id: str, payload: bytes, state: OutboxState
    ) -> int | None:
        """Seal one outbox entry into the case's current epoch and send it, catching up on
        409; its sequence number, or ``None`` if the case kept changing. Under the case
        lock (:meth:`_flush_case`), so the counter and the ratchet read here stay ours."""
        item = decode_item(payload)
        if state == OutboxState.QUEUED:
            await self.store.mark_sent(client_message_id)
        for _ in range(5):
            case = await self._load(case_id)
            group = self._require_group(case)
            if self._untrusted_leaves(group):
                await self._enforce_trust(case_id)
                case = await self._load(case_id)
                group = self._require_group(case)
            # A ring tells readers how many items we wrote so far without using a counter
            # up: joiners cannot open rings of earlier epochs, so rings must leave no hole.
            counter = case.state.own_counter + (0 if isinstance(item, HistoryRing) else 1)
            envelope = seal_item(
                self.suite,
                case_id,
                self._keys(group),
                self.device_id,
                counter,
                self.profile.signing_key,
                item,
                self.rng,
            )
            message = group.protect(b"", self.rng, authenticated_data=envelope.to_bytes())
            await self._save(case_id, case)
            try:
                sent = await self.api.send(case_id, client_message_id, message)
            except StaleEpochError:
                await self._sync_case(case_id)
                continue
            case.state.own_counter = counter
            await self._save(case_id, case)
            await self.store.mark_acked(client_message_id, sent.seq)
            return sent.seq
        return None

    # --- receiving ----------------------------------------------------------------------

    async def sync(self) -> None:
        """Refresh the directory, join new cases, catch up every case, act on revocations,
        commit pending coordinator proposals and send the outbox."""
        revocations = await self.refresh_directory()
        await self.process_inbox()
        for case_id in await self.case_ids():
            await self.sync_case(case_id)
        del revocations  # acted on below, with expiries and anything else that ended trust
        for case_id in await self.case_ids():
            await self.enforce_trust(case_id)
        await self.flush_outbox()

    async def sync_case(self, case_id: bytes) -> None:
        """Fetch and process everything after the case's cursor and commit the proposals
        that came in (the coordinator's removals among them); a commit made is followed by
        the case's outbox."""
        async with self._locks.case(case_id):
            if await self._sync_case(case_id):
                await self._flush_case(case_id)

    async def process_inbox(self) -> list[bytes]:
        """Join every case a Welcome in the inbox invites this device to; their ids.

        The inbox is read after the stored inbox cursor, page by page until the relay has
        no more, and the cursor is stored after each item, so each Welcome is looked at
        once (:meth:`CaseJoining._take_welcome` says which are taken). An item at or below
        the cursor is the relay serving it again: recorded, skipped.
        """
        joined: list[bytes] = []
        async with self._locks.device():
            cursor = await self.store.inbox_cursor()
            while True:
                start = cursor
                for item_id, case_id, raw in await self.api.inbox(cursor):
                    if item_id <= cursor:
                        await self.record(
                            RelayOrderError("an inbox item served again"), group_id=case_id
                        )
                        continue
                    async with self._locks.case(case_id):
                        if await self._take_welcome(case_id, raw):
                            joined.append(case_id)
                            if await self._sync_case(case_id):
                                await self._flush_case(case_id)
                    cursor = item_id
                    await self.store.save_inbox_cursor(cursor)
                if cursor == start:
                    return joined

    async def _commit_pending_proposals(self, case_id: bytes, case: OpenCase) -> bool:
        group = case.group
        if group is None or not group.state.proposals:
            return False
        await self._commit(case_id)
        return True

    async def enforce_trust(self, case_id: bytes) -> None:
        """Remove every member whose credential is revoked, expired or not logged."""
        async with self._locks.case(case_id):
            if await self._enforce_trust(case_id):
                await self._flush_case(case_id)

    async def _enforce_trust(self, case_id: bytes) -> bool:
        """:meth:`enforce_trust` under the case lock held by the caller; whether it
        committed."""
        case = await self._load(case_id)
        if case.group is None or not case.group.active:
            return False
        bad = [leaf for leaf in self._untrusted_leaves(case.group) if leaf != case.group.own_leaf]
        if not bad:
            return False
        await self._commit(case_id, remove=bad)
        return True

    async def try_open(self, case_id: bytes, raw: bytes) -> StoredItem:
        """Try to read one message with what this device holds, changing nothing: the item,
        or the typed error that stops it (what a removed device gets for a later note)."""
        case = await self._load(case_id)
        group = self._require_group(case)
        copy = Group.from_bytes(group.to_bytes(), self.profile.signing_key)
        processed = copy.process(raw, self.clock())
        for event in processed.events:
            if isinstance(event, ApplicationMessage):
                envelope = parse_envelope(event.authenticated_data)
                keys = self._history_keys(case, envelope.epoch)
                if keys is None:
                    raise CaseError("no key for the envelope's epoch")
                return self._verify(case_id, envelope, keys, expected_author=None)
        raise CaseError("the message carries no case item")

    async def waiting_history(self, case_id: bytes) -> int:
        """How many earlier envelopes this device holds but cannot open (no key for them)."""
        return len((await self._load(case_id)).state.waiting)
