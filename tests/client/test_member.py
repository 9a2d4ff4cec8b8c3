"""Members and the coordinator against a real relay on 127.0.0.1 (tiny Argon2id costs):
history policies, what the coordinator can read, catching up after being offline."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import pytest_asyncio

from client.coordinator import (
    Coordinator,
    create_root,
    start_coordinator,
)
from client.demo import PASSPHRASE, enrol_with_approval, local_relay
from client.member import Member, RemovedFromCaseError
from client.profile import Profile
from client.random import SystemRandom
from protocol.case_items import HistoryPolicy, Note
from tests.client.conftest import TEST_FLOOR, TINY


def _profile(path: Path) -> Profile:
    return Profile(path, params=TINY, insecure_floor_for_tests=TEST_FLOOR)


@dataclass
class Platform:
    coordinator: Coordinator
    relay_url: str
    root: Path

    async def member(self, name: str) -> Member:
        invite = self.coordinator.invite(name, "Test Agency", "tester")
        return await enrol_with_approval(
            self.coordinator, self.relay_url, _profile(self.root / name), invite.code
        )


@pytest_asyncio.fixture
async def platform(tmp_path: Path) -> AsyncIterator[Platform]:
    profile = _profile(tmp_path / "coordinator")
    root_public = create_root(
        profile, PASSPHRASE, SystemRandom(), params=TINY, insecure_floor_for_tests=TEST_FLOOR
    )
    async with local_relay(tmp_path / "relay", root_public) as url:
        coordinator = await start_coordinator(
            profile, PASSPHRASE, url, "Coordinator", "City", insecure_floor_for_tests=TEST_FLOOR
        )
        yield Platform(coordinator, url, tmp_path)
        await coordinator.close()


def _texts(items: list) -> list[str]:  # type: ignore[type-arg]
    return [s.stored.item.text for s in items if isinstance(s.stored.item, Note)]


@pytest.mark.asyncio
async def test_from_join_members_read_only_later_notes(platform: Platform) -> None:
    alice, bob = await platform.member("Alice"), await platform.member("Bob")
    case_id = await alice.create_case("Title", "Pseudonym", HistoryPolicy.FROM_JOIN)
    await alice.post_note(case_id, "before Bob")
    await alice.add_devices(case_id, [bob.device_id])
    await alice.post_note(case_id, "after Bob")
    await bob.sync()
    assert _texts(await bob.notes(case_id)) == ["after Bob"]
    assert await bob.waiting_history(case_id) >= 1  # held, not readable: no ring was sent
    await alice.sync()
    assert _texts(await alice.notes(case_id)) == ["before Bob", "after Bob"]
    for member in (alice, bob):
        await member.close()


@pytest.mark.asyncio
async def test_full_history_and_offline_catch_up(platform: Platform) -> None:
    alice, bob, carol = [await platform.member(n) for n in ("Alice", "Bob", "Carol")]
    case_id = await alice.create_case("Title", "Pseudonym", HistoryPolicy.FULL)
    await alice.add_devices(case_id, [bob.device_id])
    await bob.sync()
    for index in range(5):  # bob is offline from here on
        await alice.post_note(case_id, f"note {index}")
    await alice.add_devices(case_id, [carol.device_id])
    await carol.sync()
    await bob.sync()
    expected = [f"note {index}" for index in range(5)]
    assert _texts(await carol.notes(case_id)) == expected
    assert _texts(await bob.notes(case_id)) == expected
    summary = await carol.summary(case_id)
    assert (summary.title, summary.pseudonym) == ("Title", "Pseudonym")
    assert {c.device_id for c in summary.members} == {
        alice.device_id,
        bob.device_id,
        carol.device_id,
    }
    for member in (alice, bob, carol):
        await member.close()


@pytest.mark.asyncio
async def test_the_coordinator_is_in_no_case_and_reads_nothing(platform: Platform) -> None:
    alice = await platform.member("Alice")
    case_id = await alice.create_case("Secret title", "P", HistoryPolicy.FULL)
    await alice.post_note(case_id, "secret note")
    coordinator = platform.coordinator
    assert await coordinator.api.groups() == []  # on no roster
    summary = await alice.summary(case_id)
    assert coordinator.device_id not in {c.device_id for c in summary.members}
    groups = await coordinator.api.coordinator_groups()
    assert [g[0] for g in groups] == [case_id]  # it sees that the case exists, nothing more
    await alice.close()


@pytest.mark.asyncio
async def test_a_removed_device_cannot_post_and_keeps_its_text(platform: Platform) -> None:
    alice, bob = await platform.member("Alice"), await platform.member("Bob")
    case_id = await alice.create_case("Title", "P", HistoryPolicy.FULL)
    await alice.add_devices(case_id, [bob.device_id])
    await bob.sync()
    await alice.remove_devices(case_id, [bob.device_id])
    await bob.sync()
    assert (await bob.summary(case_id)).removed
    with pytest.raises(RemovedFromCaseError) as raised:
        await bob.post_note(case_id, "too late")
    assert raised.value.code == "removed_from_case"
    for member in (alice, bob):
        await member.close()
