"""A compromised relay for the client's adversarial tests (ATTACKS.md, attacker S).

A real relay runs on 127.0.0.1 and does the storing; each member's :class:`RelayApi` is
swapped for an :class:`EvilApi` that passes every call on to it and then lets the test
rewrite the answer, as a relay that lies could:

    member ──► EvilApi ──(real HTTP)──► relay on 127.0.0.1
                 │
                 ├─ fetch:        a *view* of the case's log per device — drop, duplicate,
                 │                reorder, renumber, inject, serve another case's log, lie
                 │                about the last sequence number or the arrival times
                 ├─ log:          serve a stale signed tree head, or a log it re-signed
                 │                (the relay's identity key is read from its data directory)
                 ├─ KeyPackages:  hand out another device's, a substituted one, one twice
                 ├─ inbox:        add Welcomes or anything else
                 ├─ blobs:        serve another blob
                 └─ send:         acknowledge without storing (a forged receipt)

:class:`Insider` is the other half of the attacker model: a member's own device used to
build messages its client would never send (another author's envelope, a false ring, a
post after its removal).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from client.case_state import CaseState
from client.coordinator import (
    Coordinator,
    create_root,
    start_coordinator,
)
from client.demo import PASSPHRASE, local_relay
from client.enrolment import accept_invite
from client.member import Member
from client.profile import Profile
from client.random import SystemRandom
from client.relay_api import FetchedMessage, Progress, RelayApi, SentMessage
from client.store import SecurityEvent, new_client_message_id
from crypto.signatures import SigningKey
from protocol.case_envelope import export_epoch_keys, seal_item
from protocol.case_items import CaseItem, HistoryPolicy, HistoryRing, Note
from protocol.mls.group import Group
from protocol.transparency import TreeHead, leaf_hash, merkle_root, sign_tree_head
from server.identity import load_or_create_identity
from tests.client.conftest import TEST_FLOOR, TINY

View = Callable[[list[FetchedMessage]], list[FetchedMessage]]
FORGED_SEQ = 10**9


# --- views of a case's log ----------------------------------------------------------------


def renumber(log: list[FetchedMessage]) -> list[FetchedMessage]:
    """The same messages at sequence numbers 1, 2, 3… — hiding whatever was taken out."""
    return [dataclasses.replace(m, seq=index) for index, m in enumerate(log, start=1)]


def without(*seqs: int, hide: bool = False) -> View:
    """Drop the messages at ``seqs``; with ``hide``, renumber so no sequence gap shows."""

    def view(log: list[FetchedMessage]) -> list[FetchedMessage]:
        kept = [m for m in log if m.seq not in seqs]
        return renumber(kept) if hide else kept

    return view


def appended(*messages: bytes) -> View:
    """The log, then ``messages`` at the next sequence numbers."""

    def view(log: list[FetchedMessage]) -> list[FetchedMessage]:
        last = log[-1].seq if log else 0
        extra = [FetchedMessage(last + i, raw, 0) for i, raw in enumerate(messages, start=1)]
        return [*log, *extra]

    return view


def rearranged(order: Callable[[list[FetchedMessage]], list[FetchedMessage]]) -> View:
    """The messages in the order ``order`` gives, renumbered: the relay's own sequence."""
    return lambda log: renumber(order(list(log)))


def swapped(first: int, second: int) -> View:
    """The messages at sequence numbers ``first`` and ``second`` trade places."""

    def order(log: list[FetchedMessage]) -> list[FetchedMessage]:
        index = {m.seq: i for i, m in enumerate(log)}
        a, b = index[first], index[second]
        log[a], log[b] = log[b], log[a]
        return log

    return rearranged(order)


def repeated_after(seq: int, *, at: int | None = None) -> View:
    """The message at ``seq`` served a second time, right after ``at`` (default: itself)."""

    def order(log: list[FetchedMessage]) -> list[FetchedMessage]:
        copy = next(m for m in log if m.seq == seq)
        where = next(i for i, m in enumerate(log) if m.seq == (seq if at is None else at))
        return [*log[: where + 1], copy, *log[where + 1 :]]

    return rearranged(order)


# --- the relay ------------------------------------------------------------------------------


@dataclass
class EvilRelay:
    """What the compromised relay does, per device (keys are device ids)."""

    identity: SigningKey  # the relay's own tree-head key: a compromised relay holds it
    views: dict[tuple[bytes, bytes], View] = field(default_factory=dict)
    redirects: dict[tuple[bytes, bytes], bytes] = field(default_factory=dict)
    readers: dict[tuple[bytes, bytes], bytes] = field(default_factory=dict)
    announce_extra: dict[tuple[bytes, bytes], int] = field(default_factory=dict)
    arrival_time: int | None = None
    heads: dict[bytes, bytes] = field(default_factory=dict)
    entries: dict[bytes, list[bytes]] = field(default_factory=dict)
    key_packages: dict[bytes, bytes] = field(default_factory=dict)
    claimed: dict[bytes, list[bytes]] = field(default_factory=dict)
    inbox_extra: dict[bytes, list[tuple[int, bytes, bytes]]] = field(default_factory=dict)
    blob_swaps: dict[bytes, bytes] = field(default_factory=dict)
    swallow: dict[bytes, int] = field(default_factory=dict)
    swallowed: list[bytes] = field(default_factory=list)
    externals: list[tuple[bytes, bytes]] = field(default_factory=list)
    apis: dict[bytes, EvilApi] = field(default_factory=dict)

    def attach(self, device: Member | Coordinator) -> EvilApi:
        """Put this relay between ``device`` and the real one."""
        api = EvilApi(self, device.api, device.device_id)
        device.api = api
        self.apis[device.device_id] = api
        return api

    async def log(self, reader: Member, case_id: bytes) -> list[FetchedMessage]:
        """The case's real log, as the relay stores it."""
        return await self.apis[reader.device_id].real_log(case_id)

    async def last_seq(self, reader: Member, case_id: bytes) -> int:
        log = await self.log(reader, case_id)
        return log[-1].seq if log else 0

    def serve_log(
        self, device: bytes, leaves: list[bytes], *, timestamp: int | None = None
    ) -> None:
        """Serve ``device`` this list of log entries under a tree head the relay signs."""
        head = TreeHead(
            tree_size=len(leaves),
            root_hash=merkle_root([leaf_hash(leaf) for leaf in leaves]),
            timestamp=int(time.time()) if timestamp is None else timestamp,
        )
        self.heads[device] = sign_tree_head(self.identity, head).to_bytes()
        self.entries[device] = list(leaves)

    def honest_log(self, device: bytes) -> None:
        self.heads.pop(device, None)
        self.entries.pop(device, None)


class EvilApi(RelayApi):
    """One device's connection, through the :class:`EvilRelay`."""

    def __init__(self, relay: EvilRelay, honest: RelayApi, device_id: bytes) -> None:
        super().__init__(honest.base_url, honest._http)
        self._login = honest._login
        self._token = honest._token
        self.relay = relay
        self.device_id = device_id

    async def real_log(self, group_id: bytes) -> list[FetchedMessage]:
        log: list[FetchedMessage] = []
        while True:
            page, last = await super().fetch(group_id, log[-1].seq if log else 0)
            log.extend(page)
            if not page or log[-1].seq >= last:
                return log

    async def fetch(
        self, group_id: bytes, after: int, limit: int = 500
    ) -> tuple[list[FetchedMessage], int]:
        key = (self.device_id, group_id)
        source = self.relay.redirects.get(key, group_id)
        # The relay serves what it holds, also to a device its roster no longer names.
        reader = self.relay.apis[self.relay.readers.get(key, self.device_id)]
        log = await reader.real_log(source)
        view = self.relay.views.get(key)
        if view is not None:
            log = view(log)
        if self.relay.arrival_time is not None:
            log = [dataclasses.replace(m, received_at=self.relay.arrival_time) for m in log]
        last = (log[-1].seq if log else 0) + self.relay.announce_extra.get(key, 0)
        return [m for m in log if m.seq > after][:limit], last

    async def send(
        self, group_id: bytes, client_message_id: str, message: bytes, **kwargs: Any
    ) -> SentMessage:
        pending = self.relay.swallow.get(self.device_id, 0)
        if pending:
            self.relay.swallow[self.device_id] = pending - 1
            self.relay.swallowed.append(message)
            return SentMessage(FORGED_SEQ + len(self.relay.swallowed), 0, False)
        return await super().send(group_id, client_message_id, message, **kwargs)

    async def send_external(self, group_id: bytes, client_message_id: str, message: bytes) -> int:
        self.relay.externals.append((group_id, message))
        return await super().send_external(group_id, client_message_id, message)

    async def tree_head(self) -> bytes:
        return self.relay.heads.get(self.device_id) or await super().tree_head()

    async def log_entries(self, start: int, end: int) -> list[bytes]:
        served = self.relay.entries.get(self.device_id)
        if served is None:
            return await super().log_entries(start, end)
        return served[start:end]

    async def claim_key_package(self, device_id: bytes) -> bytes:
        forged = self.relay.key_packages.pop(device_id, None)
        if forged is not None:
            return forged
        package = await super().claim_key_package(device_id)
        self.relay.claimed.setdefault(device_id, []).append(package)
        return package

    async def inbox(self, after: int) -> list[tuple[int, bytes, bytes]]:
        return [*await super().inbox(after), *self.relay.inbox_extra.get(self.device_id, [])]

    async def download_blob(self, blob_id: bytes, progress: Progress | None = None) -> bytes:
        return await super().download_blob(self.relay.blob_swaps.get(blob_id, blob_id), progress)


# --- a malicious member -------------------------------------------------------------------


@dataclass
class Insider:
    """A member's device, used to build what its client would refuse to send."""

    member: Member

    async def group(self, case_id: bytes) -> tuple[CaseState, Group, int]:
        record = await self.member.store.load_group(case_id)
        assert record is not None
        state = CaseState.from_bytes(record.state)
        return (
            state,
            Group.from_bytes(state.mls_state, self.member.profile.signing_key),
            record.cursor,
        )

    async def message(
        self,
        case_id: bytes,
        item: CaseItem | None = None,
        *,
        author: bytes | None = None,
        counter: int | None = None,
        signing_key: SigningKey | None = None,
        authenticated_data: bytes | None = None,
    ) -> bytes:
        """An application message of the member's current epoch carrying ``item`` sealed as
        the caller says (or ``authenticated_data`` as given); the group state is saved."""
        member = self.member
        state, group, cursor = await self.group(case_id)
        if authenticated_data is None:
            assert item is not None
            authenticated_data = seal_item(
                member.suite,
                case_id,
                export_epoch_keys(group.epoch, case_id, group.export_secret),
                member.device_id if author is None else author,
                _next_counter(state, item) if counter is None else counter,
                member.profile.signing_key if signing_key is None else signing_key,
                item,
                member.rng,
            ).to_bytes()
        raw = group.protect(b"", member.rng, authenticated_data=authenticated_data)
        state.mls_state = group.to_bytes()
        await member.store.save_group(case_id, state.to_bytes(), cursor)
        return raw

    async def send(self, case_id: bytes, raw: bytes) -> int:
        """Send through the relay's real API (the relay takes it at the current epoch)."""
        sent = await self.member.api.send(case_id, new_client_message_id(self.member.rng), raw)
        return sent.seq


def _next_counter(state: CaseState, item: CaseItem) -> int:
    """What the member's client would use: a ring repeats the count, content raises it."""
    return state.own_counter + (0 if isinstance(item, HistoryRing) else 1)


# --- the platform -------------------------------------------------------------------------


def _profile(path: Path) -> Profile:
    return Profile(path, params=TINY, insecure_floor_for_tests=TEST_FLOOR)


@dataclass
class World:
    """A platform on a real relay, every member behind the :class:`EvilRelay`."""

    coordinator: Coordinator
    relay_url: str
    root: Path
    evil: EvilRelay
    members: list[Member] = field(default_factory=list)

    async def member(self, name: str, organisation: str = "Test Agency") -> Member:
        """A newly enrolled member with published KeyPackages, behind the evil relay."""
        invite = self.coordinator.invite(name, organisation, "tester")
        enrolment = asyncio.create_task(
            accept_invite(
                _profile(self.root / name),
                PASSPHRASE,
                self.relay_url,
                invite.code,
                poll_interval=0.02,
                timeout=60,
            )
        )
        while not enrolment.done():
            await self.coordinator.process_enrolments()
            await asyncio.sleep(0.02)
        member = await Member.connect(await enrolment)
        assert isinstance(member, Member)
        await member.publish_key_packages(3)
        self.evil.attach(member)
        self.members.append(member)
        return member

    async def case(
        self, owner: Member, *others: Member, history: HistoryPolicy = HistoryPolicy.FULL
    ) -> bytes:
        """A case ``owner`` created with ``others`` added; everyone synced."""
        case_id = await owner.create_case("Title", "Pseudonym", history)
        if others:
            await owner.add_devices(case_id, [m.device_id for m in others])
        for member in (owner, *others):
            await member.sync()
        return case_id


@contextlib.asynccontextmanager
async def evil_world(tmp_path: Path) -> AsyncIterator[World]:
    profile = _profile(tmp_path / "coordinator")
    root_public = create_root(
        profile, PASSPHRASE, SystemRandom(), params=TINY, insecure_floor_for_tests=TEST_FLOOR
    )
    relay_dir = tmp_path / "relay"
    async with local_relay(relay_dir, root_public) as url:
        coordinator = await start_coordinator(
            profile, PASSPHRASE, url, "Coordinator", "City", insecure_floor_for_tests=TEST_FLOOR
        )
        evil = EvilRelay(identity=load_or_create_identity(relay_dir / "relay-identity.key"))
        evil.attach(coordinator)
        world = World(coordinator, url, tmp_path, evil)
        try:
            yield world
        finally:
            for member in world.members:
                with contextlib.suppress(Exception):
                    await member.close()
            await coordinator.close()


# --- what the user sees -------------------------------------------------------------------


async def codes(member: Member, case_id: bytes | None = None) -> list[str]:
    """The member's security event log, by code (only the case's, if given)."""
    events: list[SecurityEvent] = await member.store.security_events()
    return [e.code for e in events if case_id is None or e.group_id == case_id]


async def texts(member: Member, case_id: bytes) -> list[str]:
    return [
        s.stored.item.text for s in await member.notes(case_id) if isinstance(s.stored.item, Note)
    ]


async def post(member: Member, case_id: bytes, text: str) -> int:
    """Post a note; the sequence number the relay acknowledged it under."""
    client_message_id = await member.post_note(case_id, text)
    entry = await member.store.outbox_entry(client_message_id)
    assert entry is not None and entry.seq is not None
    return entry.seq
