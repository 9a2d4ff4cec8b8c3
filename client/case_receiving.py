"""Receiving a case's messages (DESIGN §2, §8; ATTACKS B1–B12, C2–C3).

Messages are fetched in sequence order from each case's cursor and processed one by one,
up to the commit that removes this device; the group state, the cursor and anything a
message yields are stored after each. Then:

* a message of the current epoch goes through MLS; its envelope's signed author must be
  the MLS sender;
* a message of an earlier epoch is our own commit (the next epoch began there), a commit
  that replaced ours (a fork), a message placed after its epoch had ended (refused), or an
  envelope kept *waiting* until this device holds that epoch's history key;
* every item taken is checked against its author's counters and the epoch order
  (:class:`client.case_state.DeliveryLedger`): a replay or a late item is refused, an item
  behind a later one of its author is shown and recorded.

What the relay withholds is a *gap*, recorded in the security event log and listed by
``Member.gaps``: skipped sequence numbers, messages of an epoch this device never reached,
messages announced but not delivered, and authors' missing counters. Every failed check is
recorded there by its error code, and the item is not shown.
"""

from __future__ import annotations

import contextlib
import hmac
from abc import ABC, abstractmethod

from client.case_device import CaseDevice, OpenCase
from client.case_errors import (
    AuthorRevokedError,
    CaseError,
    ExternalSenderError,
    ForkedEpochError,
    GapDetectedError,
    ItemCounterError,
    LateItemError,
    LaterEpochError,
    MissingItemError,
    RelayOrderError,
    ReorderedItemError,
    ReplayedItemError,
    RingConflictError,
    WithheldTailError,
    WrongChannelError,
)
from client.case_state import Arrival
from client.store import DuplicateEntryError
from client.stored_item import StoredItem
from crypto.errors import CasecircleError
from protocol.case_envelope import EnvelopeKind, parse_envelope
from protocol.case_items import CaseInfo, HistoryRing
from protocol.directory import parse_mls_credential
from protocol.errors import WrongEpochError, WrongGroupError
from protocol.mls.commit import StagedCommit
from protocol.mls.constants import ContentType, SenderType
from protocol.mls.events import (
    ApplicationMessage,
    MemberAdded,
    ProposalQueued,
    RemovedFromGroup,
)
from protocol.mls.extensions import ExternalSenders, find_extension
from protocol.mls.framing import MLSMessage, PrivateMessage, PublicMessage
from protocol.mls.group import Group


class CaseReceiving(CaseDevice, ABC):
    """A device that takes in its cases' messages: see the module docstring."""

    async def _sync_case(self, case_id: bytes, *, commit_proposals: bool = True) -> bool:
        """Fetch and process everything after the case's cursor; then, unless told not to,
        commit the proposals that came in (the coordinator's removals among them). Whether
        a commit was made (its case's outbox is then due). The caller holds the case lock.

        Fetching stops at the commit that removes this device: nothing after it is this
        device's to read, and a Welcome that adds it again carries on from there, so that
        the commits made while it was away are not skipped."""
        self._locks.require_case(case_id)
        case = await self._load(case_id)
        ledger = case.state.ledger
        if not case.state.removed:
            await self._fetch(case_id, case)
        await self._open_waiting(case_id, case)
        for gap in ledger.unreported(case.state.readable):
            await self.record(
                MissingItemError(f"{gap.count} item(s) of an author missing"),
                group_id=case_id,
                device_id=gap.author,
            )
        await self._save(case_id, case)
        if commit_proposals and case.group is not None and case.group.active:
            return await self._commit_pending_proposals(case_id, case)
        return False

    async def _fetch(self, case_id: bytes, case: OpenCase) -> None:
        """Process the case's log from its cursor, page by page, until the relay's last
        sequence number or this device's removal; then compare with what was announced.

        The relay reads its last sequence number after the messages, so a send that lands
        between its two reads announces a message the answer does not carry yet: an answer
        that brings nothing new is asked for once more, and only a second one in a row is
        held against the relay. A page that ends past the announced end is followed by one
        more fetch too."""
        ledger = case.state.ledger
        asked_again = False
        while True:
            messages, last_seq = await self.api.fetch(case_id, case.cursor)
            start = case.cursor
            for message in messages:
                if message.seq <= case.cursor:
                    await self.record(
                        RelayOrderError("a sequence number served again"),
                        group_id=case_id,
                        seq=message.seq,
                    )
                    continue
                if message.seq != case.cursor + 1:
                    ledger.skip(case.cursor + 1, message.seq - 1)
                    await self.record(
                        GapDetectedError("missing sequence numbers"),
                        group_id=case_id,
                        seq=message.seq,
                    )
                await self._process(case_id, case, message.seq, message.message)
                case.cursor = message.seq
                await self._save(case_id, case)
                if case.state.removed:
                    return  # what follows is not for this device: no tail is withheld
            if case.cursor == last_seq:
                break
            if case.cursor == start:  # nothing new
                if asked_again or last_seq < case.cursor:
                    break
                asked_again = True
            else:
                asked_again = False
        if last_seq < case.cursor:
            await self.record(
                RelayOrderError("the relay's log is shorter than what it delivered"),
                group_id=case_id,
                seq=last_seq,
            )
        ledger.announce(case.cursor, last_seq)
        if ledger.withheld is not None:
            await self.record(
                WithheldTailError("the relay announced messages it did not deliver"),
                group_id=case_id,
                seq=last_seq,
            )

    async def _group_message(
        self, case_id: bytes, seq: int, raw: bytes
    ) -> PrivateMessage | PublicMessage | None:
        """The message as one of this case's group messages, or ``None`` (recorded)."""
        try:
            message = MLSMessage.from_bytes(raw).body
        except CasecircleError as exc:
            await self.record(exc, group_id=case_id, seq=seq)
            return None
        if not isinstance(message, PrivateMessage | PublicMessage):
            await self.record(WrongChannelError("not a group message"), group_id=case_id, seq=seq)
            return None
        header = message if isinstance(message, PrivateMessage) else message.content
        if header.group_id != case_id:
            await self.record(
                WrongGroupError("a message of another case"), group_id=case_id, seq=seq
            )
            return None
        return message

    async def _process(self, case_id: bytes, case: OpenCase, seq: int, raw: bytes) -> None:
        message = await self._group_message(case_id, seq, raw)
        if message is None:
            return
        epoch = message.epoch if isinstance(message, PrivateMessage) else message.content.epoch
        group = case.group
        current = group.epoch if group is not None and group.active else None
        if current is None or epoch < current:
            await self._history(case_id, case, seq, raw, message)
            return
        if epoch > current:
            case.state.ledger.beyond_epoch(seq)
            await self.record(
                LaterEpochError("a message of a later epoch"), group_id=case_id, seq=seq
            )
            return
        assert group is not None
        try:
            processed = group.process(raw, self.clock())
        except CasecircleError as exc:
            if not await self._own_echo(case_id, case, seq, message):
                await self.record(exc, group_id=case_id, seq=seq)
            return
        case.state.ledger.epoch_seen(epoch, seq)
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
        self, case_id: bytes, case: OpenCase, group: Group, seq: int, staged: StagedCommit
    ) -> None:
        """Merge a commit; record every added device whose credential does not hold (the
        next send removes it: :meth:`enforce_trust`)."""
        events = group.merge(staged)
        if any(isinstance(e, RemovedFromGroup) for e in events) or not group.active:
            case.state.removed = True
            case.group = None
            return
        case.state.ledger.epoch_seen(group.epoch, seq)
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
        self, case_id: bytes, case: OpenCase, group: Group, seq: int, event: ApplicationMessage
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
        await self._accept(case_id, case, seq, stored, live=True)

    async def _accept(
        self, case_id: bytes, case: OpenCase, seq: int, stored: StoredItem, *, live: bool
    ) -> None:
        """Take a verified item unless its place in the log or its author's counter gives
        it away; ``live`` items came through MLS in the current epoch."""
        ledger = case.state.ledger
        author = stored.author
        if not live and ledger.late(stored.epoch, seq):
            await self.record(
                LateItemError("an item placed after its epoch had ended"),
                group_id=case_id,
                device_id=author,
                seq=seq,
            )
            return
        ledger.epoch_seen(stored.epoch, seq)
        item = stored.item
        if isinstance(item, HistoryRing):
            await self._take_ring(case_id, case, seq, stored, item)
            return
        arrival = ledger.receive(author, stored.counter, stored.epoch, seq)
        refusal = {
            Arrival.REPLAY: ReplayedItemError("this author's counter was seen before"),
            Arrival.INVALID: ItemCounterError("a content item without a counter"),
        }.get(arrival)
        if refusal is not None:
            await self.record(refusal, group_id=case_id, device_id=author, seq=seq)
            return
        if arrival is Arrival.REORDERED:
            await self.record(
                ReorderedItemError("an item behind a later one of its author"),
                group_id=case_id,
                device_id=author,
                seq=seq,
            )
        if live and self.directory.is_revoked(author):
            await self.record(
                AuthorRevokedError("an item from a revoked device, flagged"),
                group_id=case_id,
                device_id=author,
                seq=seq,
            )
        if isinstance(item, CaseInfo) and case.state.history_policy is None:
            case.state.history_policy = item.history
        with contextlib.suppress(DuplicateEntryError):  # a crash between note and state
            await self.store.add_note(case_id, stored.item_id, stored.to_bytes(), seq=seq)

    async def _take_ring(
        self, case_id: bytes, case: OpenCase, seq: int, stored: StoredItem, ring: HistoryRing
    ) -> None:
        """History keys are key material (ATTACKS A8): taken only from a device usable now,
        only if they agree with every key held here, and — for a device that was added —
        only from the member who added it. The ring's counter is its author's count."""
        author = stored.author
        try:
            self.directory.device(author, self.clock())
        except CasecircleError as exc:
            await self.record(exc, group_id=case_id, device_id=author, seq=seq)
            return
        case.state.ledger.claim(author, stored.counter, stored.epoch)
        held = case.state.history_keys
        if any(e in held and not hmac.compare_digest(held[e], key) for e, key in ring.keys):
            await self.record(
                RingConflictError("a ring contradicts a history key held here"),
                group_id=case_id,
                device_id=author,
                seq=seq,
            )
            return
        if case.state.adder is not None and author not in (case.state.adder, self.device_id):
            return  # our history comes from the member who added us; this ring adds nothing
        for epoch, key in ring.keys:
            held.setdefault(epoch, key)

    async def _own_echo(
        self, case_id: bytes, case: OpenCase, seq: int, message: PrivateMessage | PublicMessage
    ) -> bool:
        """Our own application message, back from the relay: MLS cannot decrypt it for its
        sender (the key was used up sending it), so it is read from its envelope, and taken
        only if we are its signed author."""
        if (
            not isinstance(message, PrivateMessage)
            or message.content_type != ContentType.APPLICATION
            or case.group is None
        ):
            return False
        try:
            envelope = parse_envelope(message.authenticated_data)
            if envelope.kind == EnvelopeKind.RING:
                same_epoch = envelope.epoch == case.group.epoch
                keys = self._keys(case.group) if same_epoch else None
            else:
                keys = self._history_keys(case, envelope.epoch)
            if keys is None:
                return False
            stored = self._verify(case_id, envelope, keys, expected_author=self.device_id)
        except CasecircleError:
            return False
        await self._accept(case_id, case, seq, stored, live=False)
        return True

    async def _history(
        self,
        case_id: bytes,
        case: OpenCase,
        seq: int,
        raw: bytes,
        message: PrivateMessage | PublicMessage,
    ) -> None:
        """A message of an epoch before ours: our own commit (the next epoch began here), a
        commit that replaced ours (a fork), a late message, or an envelope to read."""
        ledger = case.state.ledger
        epoch = message.epoch if isinstance(message, PrivateMessage) else message.content.epoch
        if _content_type(message) == ContentType.COMMIT:
            ours = ledger.match_own_commit(epoch, seq, raw)
            if ours is not None:
                if not ours:
                    await self.record(
                        ForkedEpochError("another commit where the relay accepted ours"),
                        group_id=case_id,
                        seq=seq,
                    )
                return
        if ledger.late(epoch, seq):
            await self.record(
                LateItemError("a message placed after its epoch had ended"),
                group_id=case_id,
                seq=seq,
            )
            return
        if (
            not isinstance(message, PrivateMessage)
            or message.content_type != ContentType.APPLICATION
        ):
            return
        try:
            envelope = parse_envelope(message.authenticated_data)
            if envelope.epoch != epoch:
                raise WrongEpochError("an envelope of another epoch than its message")
        except CasecircleError as exc:
            await self.record(exc, group_id=case_id, seq=seq)
            return
        if envelope.kind != EnvelopeKind.CONTENT:
            return  # an earlier epoch's ring: sealed under a ring key no later member holds
        case.state.waiting.append((seq, envelope.to_bytes()))

    async def _open_waiting(self, case_id: bytes, case: OpenCase) -> None:
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
            await self._accept(case_id, case, seq, stored, live=False)
        case.state.waiting = still

    @abstractmethod
    async def _commit_pending_proposals(self, case_id: bytes, case: OpenCase) -> bool:
        """Commit the proposals received this epoch, if any (a member does: ``Member``);
        whether it did."""


def _content_type(message: PrivateMessage | PublicMessage) -> int:
    if isinstance(message, PrivateMessage):
        return message.content_type
    return message.content.content_type
