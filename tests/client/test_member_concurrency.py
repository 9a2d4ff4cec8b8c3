"""One Member called from several tasks at once, and the inbox read page by page, against a
real relay on 127.0.0.1 that serves at most two messages or inbox items per fetch (tiny
Argon2id costs). Overlapping posts, syncs, flushes and commits lose nothing, send nothing
twice and leave nothing another member cannot read; a device joins every case it was
added to, each once; the lock order is checked, not trusted."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import pytest
import pytest_asyncio

from client.case_locks import CaseLockOrderError, CaseLocks
from client.coordinator import (
    Coordinator,
    create_root,
    start_coordinator,
)
from client.demo import PASSPHRASE, enrol_with_approval
from client.member import Member
from client.profile import Profile
from client.random import SystemRandom
from protocol.case_items import HistoryPolicy, Note
from server.app import create_app, make_runner
from server.config import Limits, RelayConfig
from server.listener import RelaySite
from tests.client.conftest import TEST_FLOOR, TINY

T = TypeVar("T")
PAGE = 2  # the relay's max_fetch: every fetch and inbox read here takes several pages
CASE_A, CASE_B = b"A" * 16, b"B" * 16


def _profile(path: Path) -> Profile:
    return Profile(path, params=TINY, insecure_floor_for_tests=TEST_FLOOR)


@asynccontextmanager
async def small_page_relay(data_dir: Path, root_public_key: bytes) -> AsyncIterator[str]:
    """A relay on a free port of 127.0.0.1 serving ``PAGE`` items per fetch; its URL."""
    limits = dataclasses.replace(Limits(), auth_per_minute=6000, max_fetch=PAGE)
    config = RelayConfig(
        data_dir=data_dir, host="127.0.0.1", port=0, root_public_key=root_public_key, limits=limits
    )
    runner = make_runner(create_app(config))
    await runner.setup()
    try:
        site = RelaySite(runner, "127.0.0.1", 0, head_timeout=limits.header_timeout)
        await site.start()
        yield f"http://127.0.0.1:{site.port}"
    finally:
        await runner.cleanup()


@dataclass
class Platform:
    coordinator: Coordinator
    relay_url: str
    root: Path
    members: list[Member]

    async def member(self, name: str) -> Member:
        invite = self.coordinator.invite(name, "Test Agency", "tester")
        member = await enrol_with_approval(
            self.coordinator, self.relay_url, _profile(self.root / name), invite.code
        )
        self.members.append(member)
        return member


@pytest_asyncio.fixture
async def platform(tmp_path: Path) -> AsyncIterator[Platform]:
    profile = _profile(tmp_path / "coordinator")
    root_public = create_root(
        profile, PASSPHRASE, SystemRandom(), params=TINY, insecure_floor_for_tests=TEST_FLOOR
    )
    async with small_page_relay(tmp_path / "relay", root_public) as url:
        coordinator = await start_coordinator(
            profile, PASSPHRASE, url, "Coordinator", "City", insecure_floor_for_tests=TEST_FLOOR
        )
        platform = Platform(coordinator, url, tmp_path, [])
        try:
            yield platform
        finally:
            for member in platform.members:
                await member.close()
            await coordinator.close()


async def texts(member: Member, case_id: bytes) -> list[str]:
    return [
        s.stored.item.text for s in await member.notes(case_id) if isinstance(s.stored.item, Note)
    ]


async def assert_clean(member: Member, case_id: bytes) -> None:
    """Nothing refused, nothing missing, nothing left to send."""
    assert [e.code for e in await member.store.security_events()] == []
    assert await member.gaps(case_id) == []
    assert await member.waiting_history(case_id) == 0
    assert await member.store.pending_outbox() == []


# --- overlapping calls on one member ------------------------------------------------------


@pytest.mark.asyncio
async def test_overlapping_posts_syncs_flushes_and_commits_lose_and_double_nothing(
    platform: Platform,
) -> None:
    alice, bob = await platform.member("Alice"), await platform.member("Bob")
    case_id = await alice.create_case("Title", "Pseudonym", HistoryPolicy.FULL)
    await alice.add_devices(case_id, [bob.device_id])
    await bob.sync()

    written = {name: [f"{name} {n}" for n in range(8)] for name in ("Alice", "Bob")}
    calls = [
        *(alice.post_note(case_id, text) for text in written["Alice"]),
        *(bob.post_note(case_id, text) for text in written["Bob"]),
        *(member.sync_case(case_id) for member in (alice, bob) for _ in range(4)),
        *(member.flush_outbox() for member in (alice, bob) for _ in range(3)),
        *(member.update_keys(case_id) for member in (alice, bob) for _ in range(2)),
        bob.sync(),
        alice.sync(),
    ]
    await asyncio.gather(*shuffled(calls))

    for member in (alice, bob, alice, bob):  # each sees what the other sent last
        await member.sync()
    expected = sorted(written["Alice"] + written["Bob"])
    for member in (alice, bob):
        assert sorted(await texts(member, case_id)) == expected  # each exactly once
        await assert_clean(member, case_id)
    # The counters ran without a hole or a repeat: every item was sealed once, in order.
    seen_alice = [
        s.stored for s in await bob.items(case_id) if s.author.device_id == alice.device_id
    ]
    counters = sorted(stored.counter for stored in seen_alice if isinstance(stored.item, Note))
    assert counters == list(range(counters[0], counters[0] + len(written["Alice"])))

    # A member added afterwards reads the whole case from the log and the rings.
    carol = await platform.member("Carol")
    await bob.add_devices(case_id, [carol.device_id])
    await carol.sync()
    assert sorted(await texts(carol, case_id)) == expected
    await assert_clean(carol, case_id)


def shuffled(values: list[T]) -> list[T]:
    """``values`` in a random order: the interleaving differs from run to run."""
    out = list(values)
    rng = SystemRandom()
    for index in range(len(out) - 1, 0, -1):
        other = int.from_bytes(rng.random_bytes(4), "big") % (index + 1)
        out[index], out[other] = out[other], out[index]
    return out


# --- the inbox, page by page --------------------------------------------------------------


@pytest.mark.asyncio
async def test_the_inbox_is_paged_and_each_welcome_is_read_once(
    platform: Platform, monkeypatch: pytest.MonkeyPatch
) -> None:
    alice, bob = await platform.member("Alice"), await platform.member("Bob")
    await bob.publish_key_packages(6)  # one for each case below
    cases = []
    for n in range(5):  # more Welcomes than one page holds
        case_id = await alice.create_case(f"Case {n}", "P", HistoryPolicy.FULL)
        await alice.add_devices(case_id, [bob.device_id])
        await alice.post_note(case_id, f"note {n}")
        cases.append(case_id)

    asked: list[int] = []
    inbox = bob.api.inbox

    async def counting_inbox(after: int) -> list[tuple[int, bytes, bytes]]:
        asked.append(after)
        return await inbox(after)

    monkeypatch.setattr(bob.api, "inbox", counting_inbox)
    assert sorted(await bob.process_inbox()) == sorted(cases)
    assert len(asked) == 4  # three pages of two, then an empty one
    last = await bob.store.inbox_cursor()
    assert asked[0] == 0 and last > 0
    for n, case_id in enumerate(cases):
        assert await texts(bob, case_id) == [f"note {n}"]

    asked.clear()
    assert await bob.process_inbox() == []  # nothing is read again
    assert asked == [last]

    late = await alice.create_case("Late", "P", HistoryPolicy.FULL)
    await alice.add_devices(late, [bob.device_id])
    await bob.sync()
    assert late in await bob.case_ids()
    assert await bob.store.inbox_cursor() > last
    assert [e.code for e in await bob.store.security_events()] == []


@pytest.mark.asyncio
async def test_overlapping_inbox_reads_join_each_case_once(platform: Platform) -> None:
    alice, bob = await platform.member("Alice"), await platform.member("Bob")
    cases = []
    for n in range(3):
        case_id = await alice.create_case(f"Case {n}", "P", HistoryPolicy.FULL)
        await alice.add_devices(case_id, [bob.device_id])
        cases.append(case_id)

    results = await asyncio.gather(*(bob.process_inbox() for _ in range(3)))
    joined = [case_id for result in results for case_id in result]
    assert sorted(joined) == sorted(cases)  # one call joined each; no KeyPackage used twice
    for case_id in cases:
        await bob.post_note(case_id, "joined once")
        await alice.sync()
        assert await texts(alice, case_id) == ["joined once"]
        await assert_clean(bob, case_id)


@pytest.mark.asyncio
async def test_a_device_added_again_while_away_reads_on_after_later_commits(
    platform: Platform,
) -> None:
    """Bob is removed and added again, and the case is rekeyed, all before he syncs: his
    Welcome is not mistaken for the one he first joined with, and the log is read on from
    his removal, so the commit after his re-add is not skipped."""
    alice, bob = await platform.member("Alice"), await platform.member("Bob")
    case_id = await alice.create_case("Title", "Pseudonym", HistoryPolicy.FULL)
    await alice.add_devices(case_id, [bob.device_id])
    await bob.sync()
    await bob.post_note(case_id, "first stay")

    await alice.remove_devices(case_id, [bob.device_id])
    await alice.post_note(case_id, "while Bob was away")
    await alice.add_devices(case_id, [bob.device_id])
    await alice.update_keys(case_id)
    await alice.post_note(case_id, "after the rekey")

    await bob.sync()
    assert not (await bob.summary(case_id)).removed
    expected = ["first stay", "while Bob was away", "after the rekey"]
    assert await texts(bob, case_id) == expected
    await bob.post_note(case_id, "second stay")
    await alice.sync()
    assert await texts(alice, case_id) == [*expected, "second stay"]
    for member in (alice, bob):
        await assert_clean(member, case_id)


# --- the lock order -----------------------------------------------------------------------


@pytest.mark.asyncio
async def test_a_lock_taken_against_the_order_raises_instead_of_deadlocking() -> None:
    locks = CaseLocks()
    async with locks.case(CASE_A):
        locks.require_case(CASE_A)
        for wrong in (locks.case(CASE_A), locks.case(CASE_B), locks.device()):
            with pytest.raises(CaseLockOrderError) as raised:
                async with wrong:
                    pass
            assert raised.value.code == "case_lock_order"
        async with locks.directory():  # later in the order: allowed
            pass
    with pytest.raises(CaseLockOrderError):
        locks.require_case(CASE_A)  # released
    async with locks.device(), locks.case(CASE_A):  # in order
        with pytest.raises(CaseLockOrderError):
            locks.require_case(CASE_B)


@pytest.mark.asyncio
async def test_case_locks_serialise_one_case_and_not_others() -> None:
    locks = CaseLocks()
    inside: list[str] = []
    overlapped: list[bool] = []

    async def work(case_id: bytes, name: str) -> None:
        async with locks.case(case_id):
            inside.append(name)
            overlapped.append(sum(1 for n in inside if n[0] == name[0]) > 1)
            await asyncio.sleep(0.01)
            inside.remove(name)

    async with asyncio.timeout(5):
        await asyncio.gather(*(work(CASE_A, f"A{n}") for n in range(5)), work(CASE_B, "B0"))
    assert not any(overlapped)  # never two holders of one case's lock


@pytest.mark.asyncio
async def test_a_member_method_called_under_its_own_lock_raises(platform: Platform) -> None:
    alice = await platform.member("Alice")
    case_id = await alice.create_case("Title", "Pseudonym", HistoryPolicy.FULL)
    async with alice._locks.case(case_id):  # as a careless internal call would
        with pytest.raises(CaseLockOrderError):
            await alice.sync_case(case_id)
    await alice.sync_case(case_id)
