"""ATTACKS.md C1–C8: a removed device that kept every key it had (alone, or with a relay
that colludes with it), and members acting maliciously. A removed device reads, posts and
rejoins nothing; what it sends through a colluding relay is refused and recorded; members
all derive the same keys; a device removed and added again reads on without false alarms.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from client.demo import PASSPHRASE, enrol_with_approval
from client.enrolment import accept_invite
from client.member import (
    LateItemError,
    LaterEpochError,
    Member,
    RemovedFromCaseError,
)
from client.profile import Profile
from client.random import SystemRandom
from client.relay_api import RelayError
from protocol.case_envelope import (
    EnvelopeDecryptError,
    EnvelopeVersionError,
    EpochKeys,
    export_epoch_keys,
    open_envelope,
    parse_envelope,
)
from protocol.case_items import HistoryPolicy, Note
from protocol.errors import DecodeError, WrongEpochError
from protocol.mls.framing import MLSMessage, PrivateMessage
from protocol.mls.group import Group
from tests.client.conftest import TEST_FLOOR, TINY
from tests.client.evil_relay import (
    Insider,
    World,
    appended,
    codes,
    post,
    texts,
    without,
)

pytestmark = pytest.mark.asyncio
RNG = SystemRandom()


async def members_of(member: Member, case_id: bytes) -> set[bytes]:
    return {c.device_id for c in (await member.summary(case_id)).members}


async def last_message(world: World, reader: Member, case_id: bytes) -> bytes:
    return (await world.evil.log(reader, case_id))[-1].message


# --- C1: reading after removal ------------------------------------------------------------


async def test_c1_a_removed_device_reads_nothing_sent_after_its_removal(world: World) -> None:
    alice, bob = await world.member("Alice"), await world.member("Bob")
    case_id = await world.case(alice, bob)
    removal = await world.evil.last_seq(alice, case_id) + 1
    # A colluding relay hides Bob's removal from him and hands him everything after it.
    world.evil.views[(bob.device_id, case_id)] = without(removal, hide=True)
    world.evil.readers[(bob.device_id, case_id)] = alice.device_id
    await alice.remove_devices(case_id, [bob.device_id])
    await post(alice, case_id, "after Bob left")
    later = await last_message(world, alice, case_id)

    await bob.sync()
    assert "after Bob left" not in await texts(bob, case_id)
    assert LaterEpochError.code in await codes(bob, case_id)
    with pytest.raises(WrongEpochError):
        await bob.try_open(case_id, later)
    state, _, _ = await Insider(bob).group(case_id)
    message = MLSMessage.from_bytes(later).body
    assert isinstance(message, PrivateMessage)
    envelope = parse_envelope(message.authenticated_data)
    for key in state.history_keys.values():  # no key it holds opens the new note
        keys = EpochKeys(epoch=envelope.epoch, history_key=key, ring_key=key)
        with pytest.raises(EnvelopeDecryptError):
            open_envelope(bob.suite, case_id, keys, envelope)


# --- C2, C3: posting after removal --------------------------------------------------------


async def test_c2_a_removed_device_cannot_post_even_through_a_colluding_relay(
    world: World,
) -> None:
    alice, bob, carol = [await world.member(n) for n in ("Alice", "Bob", "Carol")]
    case_id = await world.case(alice, bob, carol)
    # Before Bob hears of his removal he seals a note with his last epoch's keys.
    await alice.remove_devices(case_id, [bob.device_id])
    late = await Insider(bob).message(case_id, Note(text="still here", written_at=bob.clock()))
    with pytest.raises(RelayError):  # an honest relay takes nothing from him any more
        await Insider(bob).send(case_id, late)
    await bob.sync()
    with pytest.raises(RemovedFromCaseError):
        await bob.post_note(case_id, "still here")

    for member in (alice, carol):  # a colluding relay slips the note in after all
        world.evil.views[(member.device_id, case_id)] = appended(late)
        await member.sync()
        assert "still here" not in await texts(member, case_id)
        assert LateItemError.code in await codes(member, case_id)


async def test_c3_a_removed_devices_old_notes_replayed_are_refused(world: World) -> None:
    alice, bob = await world.member("Alice"), await world.member("Bob")
    case_id = await world.case(alice, bob)
    seq = await post(bob, case_id, "said while a member")
    await alice.sync()
    await alice.remove_devices(case_id, [bob.device_id])
    old = next(m.message for m in await world.evil.log(alice, case_id) if m.seq == seq)
    world.evil.views[(alice.device_id, case_id)] = appended(old, old)

    await alice.sync()
    assert await texts(alice, case_id) == ["said while a member"]
    assert (await codes(alice, case_id)).count(LateItemError.code) == 2


# --- C4: rejoining --------------------------------------------------------------------------


async def test_c4_an_old_invite_enrols_no_device_again(world: World, tmp_path: Path) -> None:
    invite = world.coordinator.invite("Eve", "Test Agency", "tester")
    profile = Profile(tmp_path / "eve-1", params=TINY, insecure_floor_for_tests=TEST_FLOOR)
    eve = await enrol_with_approval(world.coordinator, world.relay_url, profile, invite.code)
    world.members.append(eve)
    await world.coordinator.revoke_device(eve.device_id)
    again = Profile(tmp_path / "eve-2", params=TINY, insecure_floor_for_tests=TEST_FLOOR)
    with pytest.raises(RelayError) as raised:
        await accept_invite(again, PASSPHRASE, world.relay_url, invite.code, timeout=1)
    assert raised.value.relay_code == "invite_used"


async def test_c4_a_welcome_replayed_to_a_removed_device_does_not_bring_it_back(
    world: World,
) -> None:
    alice, bob = await world.member("Alice"), await world.member("Bob")
    for _ in range(3):  # spend Bob's one-time KeyPackages: the next is his last-resort one
        await alice.api.claim_key_package(bob.device_id)
    case_id = await world.case(alice, bob)
    await alice.remove_devices(case_id, [bob.device_id])
    (item, _, welcome), *_ = await bob.api.inbox(0)
    await bob.sync()
    assert (await bob.summary(case_id)).removed

    world.evil.inbox_extra[bob.device_id] = [(item + 1000, case_id, welcome)]
    assert await bob.process_inbox() == []  # its last-resort KeyPackage would still open it
    assert (await bob.summary(case_id)).removed
    with pytest.raises(RemovedFromCaseError):
        await bob.post_note(case_id, "back in?")


async def test_a_device_removed_and_added_again_reads_on_without_false_alarms(
    world: World,
) -> None:
    alice, bob = await world.member("Alice"), await world.member("Bob")
    case_id = await world.case(alice, bob)
    await post(bob, case_id, "first stay")
    await alice.remove_devices(case_id, [bob.device_id])
    await bob.sync()
    await post(alice, case_id, "while Bob was away")
    await bob.publish_key_packages(1)
    await alice.add_devices(case_id, [bob.device_id])

    await bob.sync()
    summary = await bob.summary(case_id)
    assert not summary.removed
    await post(bob, case_id, "second stay")  # his counter goes on from where it was
    await alice.sync()
    await bob.sync()
    expected = ["first stay", "while Bob was away", "second stay"]
    assert await texts(alice, case_id) == expected
    assert await texts(bob, case_id) == expected
    for member in (alice, bob):
        assert await member.gaps(case_id) == []
        assert await codes(member, case_id) == []


async def test_a_device_away_from_a_from_join_case_sees_no_gap_for_what_it_may_not_read(
    world: World,
) -> None:
    alice, bob = await world.member("Alice"), await world.member("Bob")
    case_id = await world.case(alice, bob, history=HistoryPolicy.FROM_JOIN)
    await post(alice, case_id, "with Bob")
    await alice.remove_devices(case_id, [bob.device_id])
    await bob.sync()
    await post(alice, case_id, "without Bob")
    await bob.publish_key_packages(1)
    await alice.add_devices(case_id, [bob.device_id])
    await post(alice, case_id, "with Bob again")

    await bob.sync()
    assert await texts(bob, case_id) == ["with Bob", "with Bob again"]
    assert await bob.gaps(case_id) == []
    assert await codes(bob, case_id) == []


# --- C5: one group key for everyone -------------------------------------------------------


async def test_c5_every_member_derives_the_same_epoch_after_commits_by_different_members(
    world: World,
) -> None:
    alice, bob, carol, dave = [await world.member(n) for n in ("Alice", "Bob", "Carol", "Dave")]
    case_id = await world.case(alice, bob, carol)
    await bob.update_keys(case_id)
    await carol.sync()
    await carol.add_devices(case_id, [dave.device_id])
    await dave.sync()
    await dave.update_keys(case_id)
    await alice.sync()
    await alice.remove_devices(case_id, [carol.device_id])
    await post(bob, case_id, "same keys")
    views = []
    for member in (alice, bob, dave):
        await member.sync()
        _, group, _ = await Insider(member).group(case_id)
        keys = export_epoch_keys(group.epoch, case_id, group.export_secret)
        views.append((group.epoch, group.epoch_authenticator, keys.history_key, keys.ring_key))
    assert len(set(views)) == 1
    for member in (alice, bob, dave):
        assert await codes(member, case_id) == []


# --- C6: parser bombs from an insider -----------------------------------------------------


async def test_c6_an_insiders_malformed_envelopes_are_refused_and_sync_goes_on(
    world: World,
) -> None:
    alice, bob = await world.member("Alice"), await world.member("Bob")
    case_id = await world.case(alice, bob)
    insider = Insider(bob)
    nested = b"\x7f\xff" * 8 + b"\x40" * 30000  # length prefixes that promise far too much
    for junk in (nested, RNG.random_bytes(40000), b"\x00\x01\x01" + bytes(8) + bytes(16)):
        await insider.send(case_id, await insider.message(case_id, authenticated_data=junk))
    await post(bob, case_id, "a real note after the junk")

    await alice.sync()
    assert await texts(alice, case_id) == ["a real note after the junk"]
    recorded = await codes(alice, case_id)
    assert len(recorded) == 3
    assert set(recorded) <= {DecodeError.code, EnvelopeVersionError.code}


# --- C7: after a compromise -----------------------------------------------------------------


async def test_c7_a_copy_of_a_device_taken_before_its_update_reads_nothing_after(
    world: World,
) -> None:
    alice, bob = await world.member("Alice"), await world.member("Bob")
    case_id = await world.case(alice, bob)
    state, _, _ = await Insider(bob).group(case_id)
    stolen = dataclasses.replace(state)  # the thief's copy of Bob's disk, unlocked
    await bob.update_keys(case_id)
    await post(alice, case_id, "after Bob's update")
    later = await last_message(world, alice, case_id)

    thief = Group.from_bytes(stolen.mls_state, bob.profile.signing_key)
    with pytest.raises(WrongEpochError):
        thief.process(later, alice.clock())
    await bob.sync()
    assert await texts(bob, case_id) == ["after Bob's update"]


# --- C8: who wrote it -----------------------------------------------------------------------


async def test_c8_the_author_shown_is_the_certified_one_whatever_the_note_says(
    world: World,
) -> None:
    alice, bob = await world.member("Alice", "Police"), await world.member("Bob", "Hospital")
    case_id = await world.case(alice, bob)
    await post(bob, case_id, "Alice (Police): please send me the file")

    await alice.sync()
    (shown,) = await alice.notes(case_id)
    assert (shown.author.display_name, shown.author.organisation) == ("Bob", "Hospital")
    assert not shown.author_revoked
    await world.coordinator.revoke_device(bob.device_id)
    await alice.sync()
    (shown,) = await alice.notes(case_id)
    assert shown.author_revoked  # the device was revoked since: shown next to the note
