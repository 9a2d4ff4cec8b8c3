"""A member's device: cases as MLS groups, notes as signed envelopes, and the sync that keeps
them current (DESIGN §4, §5, §8).

Sending. A note is first made durable in the outbox as its plaintext item (sealed at rest by
the store), then sealed into the case's *current* epoch and sent with the outbox entry's
client message id. A relay that moved on answers 409: the device processes the commit that
won and seals the same item again in the new epoch. A resend after a lost answer returns
the original sequence number, so nothing is posted twice and nothing is lost.

Receiving. Messages are fetched in sequence order from each case's cursor and processed
one by one; the group state, the cursor and anything the message yields are stored in one
transaction. A skipped sequence number, a message from a later epoch than the group's, or
an author's counter that jumps is a *gap*, recorded in the security event log. Every
failed check is recorded there by its error code and the message is not shown.

Who is trusted. An item is shown only if its author's signature verifies under a
credential that is in the replayed transparency log, and the author is the MLS sender that
delivered it. A device is added only if its credential is logged, valid and unrevoked, and
its KeyPackage carries exactly that credential. A commit that brings in a device without
such a credential is merged (refusing it would split the case) and at once answered by a
commit removing that device; until then the case refuses to send.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field

from client.case_state import CaseState
from client.device import Device
from client.relay_api import RelayUnavailableError, StaleEpochError
from client.store import DuplicateEntryError, OutboxState, new_client_message_id
from client.stored_item import StoredItem
from crypto.attachments import open_attachment, seal_attachment
from crypto.errors import CasecircleError
from protocol.case_envelope import (
    CaseEnvelope,
    EnvelopeKind,
    EpochKeys,
    export_epoch_keys,
    open_envelope,
    parse_envelope,
    seal_item,
)
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
from protocol.codec import Writer, decode_exact
from protocol.directory import (
    ID_SIZE,
    DeviceCredential,
    DirectoryError,
    SignedDeviceCredential,
    mls_credential,
    parse_mls_credential,
)
from protocol.errors import ValidationError, WrongEpochError
from protocol.mls.capabilities import supported_capabilities
from protocol.mls.commit import StagedCommit
from protocol.mls.constants import ContentType, SenderType
from protocol.mls.events import (
    ApplicationMessage,
    MemberAdded,
    ProposalQueued,
    RemovedFromGroup,
)
from protocol.mls.extensions import Extension, ExternalSenders, find_extension
from protocol.mls.external_sender import external_senders_extension
from protocol.mls.framing import MLSMessage, PrivateMessage, PublicMessage
from protocol.mls.group import Group
from protocol.mls.joining import join_from_welcome
from protocol.mls.key_package import KeyPackage
from protocol.mls.key_packages import (
    create_key_package,
    default_lifetime,
    key_package_ref,
    validate_key_package,
)
from protocol.mls.welcome import Welcome

KEY_PACKAGE_BATCH = 10


class CaseError(ValidationError):
    code = "case"


class UnknownCaseError(CaseError):
    code = "unknown_case"


class RemovedFromCaseError(CaseError):
    """This device was removed from the case: it can read what it had, nothing new."""

    code = "removed_from_case"


class UntrustedMemberError(CaseError):
    """The case holds a device without a valid logged credential; nothing is sent to it."""

    code = "untrusted_member"


class NotInCaseError(CaseError):
    code = "not_in_case"


class GapDetectedError(CaseError):
    """Messages are missing: the relay withheld or lost them."""

    code = "gap"


class AuthorMismatchError(CaseError):
    """An item's signed author is not the MLS member that sent it (ATTACKS B8)."""

    code = "author_mismatch"


class ExternalSenderError(CaseError):
    """An external proposal not signed by a logged coordinator device."""

    code = "external_sender"


@dataclass(frozen=True, slots=True)
class ShownItem:
    """An item as the user sees it, with who wrote it as the log certifies."""

    seq: int | None
    stored: StoredItem

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


@dataclass(slots=True)
class _Open:
    """A case loaded for work: its record and, unless removed, its group."""

    state: CaseState
    group: Group | None
    cursor: int
    dirty_epochs: set[int] = field(default_factory=set)


class Member(Device):
    """A member's device: see the module docstring."""

    # --- key packages -------------------------------------------------------------------

    async def publish_key_packages(self, count: int = KEY_PACKAGE_BATCH) -> None:
        """Publish ``count`` one-time KeyPackages and a last-resort one; their private keys
        stay in the local store until a Welcome uses them."""
        signed = self.directory.devices()
        own = next(d.signed for d in signed if d.credential.device_id == self.device_id)
        packages: list[bytes] = []
        last_resort: bytes | None = None
        for index in range(count + 1):
            created = create_key_package(
                self.suite,
                self.profile.signing_key,
                mls_credential(own),
                supported_capabilities(),
                default_lifetime(self.clock()),
                (),
                (),
                self.rng,
            )
            package = created.key_package
            secret = (
                self.suite.kem.serialize_private_key(created.init_private_key),
                self.suite.kem.serialize_private_key(created.encryption_private_key),
            )
            encoded = MLSMessage(body=package).to_bytes()
            await self.store.save_key_package_secret(
                key_package_ref(self.suite, package),
                _pack_key_package_secret(package.to_bytes(), *secret),
                last_resort=index == count,
            )
            if index == count:
                last_resort = encoded
            else:
                packages.append(encoded)
        await self.api.upload_key_packages(packages, last_resort)

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
        await self.api.create_group(case_id)
        await self.store.save_group(case_id, state.to_bytes(), 0)
        await self.queue_item(case_id, info)
        return case_id

    async def case_ids(self) -> list[bytes]:
        return sorted(await self.store.group_cursors())

    async def _load(self, case_id: bytes) -> _Open:
        record = await self.store.load_group(case_id)
        if record is None:
            raise UnknownCaseError("this device holds no such case")
        state = CaseState.from_bytes(record.state)
        group = (
            None if state.removed else Group.from_bytes(state.mls_state, self.profile.signing_key)
        )
        return _Open(state=state, group=group, cursor=record.cursor)

    async def _save(self, case_id: bytes, case: _Open) -> None:
        if case.group is not None and case.group.active:
            case.state.mls_state = case.group.to_bytes()
        await self.store.save_group(case_id, case.state.to_bytes(), case.cursor)

    def _keys(self, group: Group) -> EpochKeys:
        return export_epoch_keys(group.epoch, group.group_id, group.export_secret)

    def _own_signed(self) -> SignedDeviceCredential:
        for issued in self.directory.member_devices(self.member_id):
            if issued.credential.device_id == self.device_id:
                return issued.signed
        raise DirectoryError("this device's own credential is not in the log")

    def _members(self, group: Group) -> dict[int, DeviceCredential]:
        """Leaf index → the certified device of every member (unverifiable ones left out)."""
        members: dict[int, DeviceCredential] = {}
        for index, leaf in group.state.tree.members():
            with contextlib.suppress(CasecircleError):
                members[index] = parse_mls_credential(leaf.credential).credential
        return members

    def _leaf_of(self, group: Group, device_id: bytes) -> int:
        for index, credential in self._members(group).items():
            if credential.device_id == device_id:
                return index
        raise NotInCaseError("the device is not a member of this case")

    def _untrusted_leaves(self, group: Group) -> list[int]:
        """Leaves whose credential is not logged, not valid now, or revoked."""
        now = self.clock()
        bad = []
        for index, leaf in group.state.tree.members():
            try:
                self.directory.check_leaf(
                    leaf.credential, leaf.signature_key, self.suite.suite_id, now
                )
            except CasecircleError:
                bad.append(index)
        return bad

    async def summary(self, case_id: bytes) -> CaseSummary:
        case = await self._load(case_id)
        info = None
        for shown in await self.items(case_id):
            if isinstance(shown.stored.item, CaseInfo):
                info = shown.stored.item
        members = () if case.group is None else tuple(self._members(case.group).values())
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
        shown = [ShownItem(r.seq, StoredItem.from_bytes(r.body)) for r in records]
        return sorted(shown, key=lambda s: (s.seq is None, s.seq or 0))

    async def notes(self, case_id: bytes) -> list[ShownItem]:
        return [s for s in await self.items(case_id) if isinstance(s.stored.item, Note)]

    # --- membership ---------------------------------------------------------------------

    async def add_devices(self, case_id: bytes, device_ids: list[bytes]) -> None:
        """Add devices after checking each one's logged credential and KeyPackage."""
        await self.directory.refresh(self.api, self.store)
        now = self.clock()
        packages: list[tuple[bytes, KeyPackage]] = []
        for device_id in device_ids:
            self.directory.device(device_id, now)  # logged, valid, unrevoked: or it raises
            raw = await self.api.claim_key_package(device_id)
            body = MLSMessage.from_bytes(raw).body
            if not isinstance(body, KeyPackage):
                raise CaseError("the relay returned something other than a KeyPackage")
            validate_key_package(self.suite, body, now=now)
            certified = self.directory.check_leaf(
                body.leaf_node.credential, body.leaf_node.signature_key, self.suite.suite_id, now
            )
            if certified.device_id != device_id:
                raise CaseError("the KeyPackage belongs to another device")
            packages.append((device_id, body))
        await self._commit(case_id, add=packages)

    async def add_member(self, case_id: bytes, member_id: bytes) -> list[bytes]:
        """Add every usable device of a member; the device ids added."""
        await self.directory.refresh(self.api, self.store)
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
        case = await self._load(case_id)
        group = self._require_group(case)
        leaves = [self._leaf_of(group, d) for d in device_ids]
        await self._commit(case_id, remove=leaves)

    def _require_group(self, case: _Open) -> Group:
        if case.group is None or not case.group.active:
            raise RemovedFromCaseError("this device was removed from the case")
        return case.group

    async def _commit(
        self,
        case_id: bytes,
        *,
        add: list[tuple[bytes, KeyPackage]] | None = None,
        remove: list[int] | None = None,
        attempts: int = 5,
    ) -> None:
        """Commit, retrying on top of whatever commit won the epoch first."""
        add = add or []
        remove = remove or []
        for _ in range(attempts):
            await self.sync_case(case_id, commit_proposals=False)
            case = await self._load(case_id)
            group = self._require_group(case)
            members = self._members(group)
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
            # The relay stored the commit at the next sequence number; we skip past it when
            # fetching, as our own commit cannot be processed by us.
            # Our commit and anything sent in the old epoch just before it are fetched at
            # the next sync as messages of an earlier epoch: read from their envelopes.
            group.merge_pending()
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
            await self.flush_outbox()
            return
        raise RelayUnavailableError("the case kept changing; try again")

    # --- sending ------------------------------------------------------------------------

    async def queue_item(self, case_id: bytes, item: CaseItem) -> str:
        """Make ``item`` durable in the outbox, then try to send it."""
        client_message_id = new_client_message_id(self.rng)
        await self.store.enqueue(client_message_id, case_id, encode_item(item))
        return client_message_id

    async def post_note(
        self, case_id: bytes, text: str, files: list[tuple[str, str, bytes]] | None = None
    ) -> str:
        """Post a note with attachments ``(name, media type, content)``; the note is in the
        outbox before anything is sent. Returns its client message id."""
        case = await self._load(case_id)
        self._require_group(case)
        attachments = []
        for name, media_type, content in files or []:
            blob, ref = seal_attachment(content, self.rng)
            blob_id = await self.api.upload_blob(case_id, blob)
            attachments.append(
                Attachment(name=name, media_type=media_type, blob_id=blob_id, ref=ref)
            )
        note = Note(text=text, attachments=tuple(attachments), written_at=self.clock())
        client_message_id = await self.queue_item(case_id, note)
        with contextlib.suppress(RelayUnavailableError):
            await self.flush_outbox()
        return client_message_id

    async def download(self, attachment: Attachment) -> bytes:
        return open_attachment(await self.api.download_blob(attachment.blob_id), attachment.ref)

    async def flush_outbox(self) -> int:
        """Send what the outbox holds, oldest first; how many were acknowledged.

        The group state (its sending ratchet advanced) is stored before the message leaves,
        so a crash after sending never reuses a message key; the entry is marked ``sent``
        before and ``acked`` after. An entry of a case this device was removed from stays
        in the outbox, so its text is never lost.
        """
        acknowledged = 0
        for entry in await self.store.pending_outbox():
            try:
                seq = await self._send_entry(
                    entry.group_id, entry.client_message_id, entry.payload, entry.state
                )
            except RemovedFromCaseError as exc:
                await self.record(exc, group_id=entry.group_id)
                continue
            if seq is not None:
                acknowledged += 1
        return acknowledged

    async def _send_entry(
        self, case_id: bytes, client_message_id: str, payload: bytes, state: OutboxState
    ) -> int | None:
        item = decode_item(payload)
        if state == OutboxState.QUEUED:
            await self.store.mark_sent(client_message_id)
        for _ in range(5):
            case = await self._load(case_id)
            group = self._require_group(case)
            if self._untrusted_leaves(group):
                await self.enforce_trust(case_id)
                case = await self._load(case_id)
                group = self._require_group(case)
            counter = case.state.own_counter + 1
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
                await self.sync_case(case_id)
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
        revocations = await self.directory.refresh(self.api, self.store)
        await self.process_inbox()
        for case_id in await self.case_ids():
            await self.sync_case(case_id)
        del revocations  # acted on below, with expiries and anything else that ended trust
        for case_id in await self.case_ids():
            await self.enforce_trust(case_id)
        await self.flush_outbox()

    async def process_inbox(self) -> list[bytes]:
        """Join every case a Welcome in the inbox invites this device to; their ids."""
        joined = []
        known = set(await self.case_ids())
        for _, case_id, raw in await self.api.inbox(0):
            if case_id in known:
                continue
            try:
                group = await self._join(raw)
            except CasecircleError as exc:
                await self.record(exc, group_id=case_id)
                continue
            if group is None:
                continue
            if group.group_id != case_id:
                await self.record(CaseError("welcome for another case"), group_id=case_id)
                continue
            state = CaseState(mls_state=group.to_bytes())
            state.history_keys[group.epoch] = self._keys(group).history_key
            await self.store.save_group(case_id, state.to_bytes(), 0)
            known.add(case_id)
            joined.append(case_id)
            await self.sync_case(case_id)
        return joined

    async def _join(self, raw: bytes) -> Group | None:
        welcome = MLSMessage.from_bytes(raw).body
        if not isinstance(welcome, Welcome):
            raise CaseError("an inbox item that is not a Welcome")
        for secrets in welcome.secrets:
            stored = await self.store.key_package_secret(secrets.new_member)
            if stored is None:
                continue
            package_bytes, init_key, encryption_key = _unpack_key_package_secret(stored.secret)
            package = KeyPackage.from_bytes(package_bytes)
            state = join_from_welcome(
                self.suite,
                welcome,
                package,
                self.suite.kem.deserialize_private_key(init_key),
                self.suite.kem.deserialize_private_key(encryption_key),
                self.clock(),
            )
            group = Group(state, self.profile.signing_key)
            bad = self._untrusted_leaves(group)
            if bad:
                await self.record(
                    UntrustedMemberError("welcome into a case with an uncertified member"),
                    group_id=group.group_id,
                )
            if not stored.last_resort:
                await self.store.delete_key_package_secret(secrets.new_member)
            return group
        return None

    async def sync_case(self, case_id: bytes, *, commit_proposals: bool = True) -> None:
        """Fetch and process everything after the case's cursor; then, unless told not to,
        commit the proposals that came in (the coordinator's removals among them)."""
        case = await self._load(case_id)
        while True:
            messages, last_seq = await self.api.fetch(case_id, case.cursor)
            if not messages:
                break
            for message in messages:
                if message.seq != case.cursor + 1:
                    await self.record(
                        GapDetectedError("missing sequence numbers"),
                        group_id=case_id,
                        seq=message.seq,
                    )
                await self._process(case_id, case, message.seq, message.message)
                case.cursor = message.seq
                await self._save(case_id, case)
            if case.cursor >= last_seq:
                break
        await self._open_waiting(case_id, case)
        await self._save(case_id, case)
        if commit_proposals and case.group is not None and case.group.active:
            await self._commit_pending_proposals(case_id, case)

    async def _process(self, case_id: bytes, case: _Open, seq: int, raw: bytes) -> None:
        try:
            message = MLSMessage.from_bytes(raw).body
        except CasecircleError as exc:
            await self.record(exc, group_id=case_id, seq=seq)
            return
        if not isinstance(message, PrivateMessage | PublicMessage):
            await self.record(CaseError("not a group message"), group_id=case_id, seq=seq)
            return
        epoch = message.epoch if isinstance(message, PrivateMessage) else message.content.epoch
        group = case.group
        current = group.epoch if group is not None and group.active else None
        if current is None or epoch < current:
            await self._history(case_id, case, seq, message)
            return
        if epoch > current:
            await self.record(
                GapDetectedError("a message of a later epoch"), group_id=case_id, seq=seq
            )
            return
        assert group is not None
        try:
            processed = group.process(raw, self.clock())
        except CasecircleError as exc:
            if not await self._own_echo(case_id, case, seq, message):
                await self.record(exc, group_id=case_id, seq=seq)
            return
        if processed.staged is not None:
            await self._merge(case_id, case, group, seq, processed.staged)
            return
        for event in processed.events:
            if isinstance(event, ApplicationMessage):
                await self._application(case_id, case, group, seq, event)
            elif (
                isinstance(event, ProposalQueued)
                and event.sender.sender_type == SenderType.EXTERNAL
            ):
                await self._check_external(case_id, group, event, seq)

    async def _merge(
        self, case_id: bytes, case: _Open, group: Group, seq: int, staged: StagedCommit
    ) -> None:
        """Merge a commit; record every added device whose credential does not hold (the
        next send removes it: :meth:`enforce_trust`)."""
        events = group.merge(staged)
        if any(isinstance(e, RemovedFromGroup) for e in events) or not group.active:
            case.state.removed = True
            case.group = None
            return
        case.state.history_keys[group.epoch] = self._keys(group).history_key
        for event in events:
            if not isinstance(event, MemberAdded):
                continue
            try:
                self.directory.check_leaf(
                    event.leaf_node.credential,
                    event.leaf_node.signature_key,
                    self.suite.suite_id,
                    self.clock(),
                )
            except CasecircleError as exc:
                await self.record(exc, group_id=case_id, seq=seq)

    async def _check_external(
        self, case_id: bytes, group: Group, event: ProposalQueued, seq: int
    ) -> None:
        """The MLS engine checked the proposal against the case's external_senders; here the
        sender must also be a coordinator device that is logged, valid and unrevoked now —
        a revoked coordinator key named at the case's creation proposes nothing more."""
        senders = find_extension(group.state.extensions, ExternalSenders)
        index = event.sender.index
        key = (
            senders.senders[index].signature_key
            if senders is not None and index is not None and index < len(senders.senders)
            else None
        )
        if key is None or key not in self.directory.coordinator_keys(self.clock()):
            group.state.proposals.pop(event.reference, None)
            await self.record(
                ExternalSenderError("external proposal not from a logged coordinator"),
                group_id=case_id,
                seq=seq,
            )

    async def _application(
        self, case_id: bytes, case: _Open, group: Group, seq: int, event: ApplicationMessage
    ) -> None:
        try:
            envelope = parse_envelope(event.authenticated_data)
            if envelope.epoch != group.epoch:
                raise WrongEpochError("an envelope of another epoch than its message")
            keys = (
                self._keys(group)
                if envelope.kind == EnvelopeKind.RING
                else self._history_keys(case, envelope.epoch)
            )
            if keys is None:
                raise CaseError("no key for the envelope's epoch")
            sender_leaf = group.state.tree.member(event.sender_leaf)
            sender = parse_mls_credential(sender_leaf.credential).credential.device_id
            stored = self._verify(case_id, envelope, keys, expected_author=sender)
        except CasecircleError as exc:
            await self.record(exc, group_id=case_id, seq=seq)
            return
        await self._accept(case_id, case, seq, stored)

    def _history_keys(self, case: _Open, epoch: int) -> EpochKeys | None:
        key = case.state.history_keys.get(epoch)
        if key is None:
            return None
        return EpochKeys(epoch=epoch, history_key=key, ring_key=b"")

    def _verify(
        self,
        case_id: bytes,
        envelope: CaseEnvelope,
        keys: EpochKeys,
        *,
        expected_author: bytes | None,
    ) -> StoredItem:
        opened = open_envelope(self.suite, case_id, keys, envelope)
        if expected_author is not None and opened.author != expected_author:
            raise AuthorMismatchError("the item's author is not the member who sent it")
        issued = next(
            (d for d in self.directory.devices() if d.credential.device_id == opened.author),
            None,
        )
        if issued is None:
            raise DirectoryError("the item's author is not in the transparency log")
        verified = opened.verify(self.suite, issued.credential.signature_key)
        return StoredItem(
            item_id=verified.item_id,
            epoch=verified.epoch,
            author=verified.author,
            author_credential=issued.signed,
            counter=verified.counter,
            item=verified.item,
        )

    async def _accept(self, case_id: bytes, case: _Open, seq: int, stored: StoredItem) -> None:
        item = stored.item
        if isinstance(item, HistoryRing):
            for epoch, key in item.keys:
                case.state.history_keys.setdefault(epoch, key)
            return
        if isinstance(item, CaseInfo) and case.state.history_policy is None:
            case.state.history_policy = item.history
        with contextlib.suppress(DuplicateEntryError):
            await self.store.add_note(case_id, stored.item_id, stored.to_bytes(), seq=seq)

    async def _own_echo(
        self, case_id: bytes, case: _Open, seq: int, message: PrivateMessage | PublicMessage
    ) -> bool:
        """Our own application message, back from the relay: MLS cannot decrypt it for its
        sender (the key was used up sending it), so it is read from its envelope, and taken
        only if we are its signed author."""
        if (
            not isinstance(message, PrivateMessage)
            or message.content_type != ContentType.APPLICATION
        ):
            return False
        try:
            envelope = parse_envelope(message.authenticated_data)
            keys = self._history_keys(case, envelope.epoch)
            if keys is None or envelope.kind != EnvelopeKind.CONTENT:
                return False
            stored = self._verify(case_id, envelope, keys, expected_author=self.device_id)
        except CasecircleError:
            return False
        await self._accept(case_id, case, seq, stored)
        return True

    async def _history(
        self, case_id: bytes, case: _Open, seq: int, message: PrivateMessage | PublicMessage
    ) -> None:
        """A message of an epoch before ours: readable only through its envelope."""
        if (
            not isinstance(message, PrivateMessage)
            or message.content_type != ContentType.APPLICATION
        ):
            return
        try:
            envelope = parse_envelope(message.authenticated_data)
        except CasecircleError as exc:
            await self.record(exc, group_id=case_id, seq=seq)
            return
        if envelope.kind != EnvelopeKind.CONTENT:
            return
        case.state.waiting.append((seq, envelope.to_bytes()))

    async def _open_waiting(self, case_id: bytes, case: _Open) -> None:
        still: list[tuple[int, bytes]] = []
        for seq, raw in case.state.waiting:
            envelope = parse_envelope(raw)
            keys = self._history_keys(case, envelope.epoch)
            if keys is None:
                still.append((seq, raw))
                continue
            try:
                stored = self._verify(case_id, envelope, keys, expected_author=None)
            except CasecircleError as exc:
                await self.record(exc, group_id=case_id, seq=seq)
                continue
            await self._accept(case_id, case, seq, stored)
        case.state.waiting = still

    async def _commit_pending_proposals(self, case_id: bytes, case: _Open) -> None:
        group = case.group
        if group is None or not group.state.proposals:
            return
        await self._commit(case_id)

    async def enforce_trust(self, case_id: bytes) -> None:
        """Remove every member whose credential is revoked, expired or not logged."""
        case = await self._load(case_id)
        if case.group is None or not case.group.active:
            return
        bad = [leaf for leaf in self._untrusted_leaves(case.group) if leaf != case.group.own_leaf]
        if bad:
            await self._commit(case_id, remove=bad)

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


def _content_type(message: PrivateMessage | PublicMessage) -> int:
    if isinstance(message, PrivateMessage):
        return message.content_type
    return message.content.content_type


def _pack_key_package_secret(package: bytes, init_key: bytes, encryption_key: bytes) -> bytes:
    """``struct { opaque key_package<V>; opaque init_key<V>; opaque encryption_key<V>; }``"""
    w = Writer()
    for part in (package, init_key, encryption_key):
        w.opaque(part)
    return w.getvalue()


def _unpack_key_package_secret(data: bytes) -> tuple[bytes, bytes, bytes]:
    return decode_exact(data, lambda r: (r.opaque(), r.opaque(), r.opaque()))
