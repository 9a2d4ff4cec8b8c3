"""ATTACKS.md B1–B12 against the client: a relay (or network) that replays, reflects,
reorders, drops, truncates, redirects, tampers, rewrites times, forges receipts,
downgrades or suppresses a removal — and a member impersonating another (B8). Each ends
in a typed error in the security event log with nothing shown, or in a gap the member API
lists (:meth:`Member.gaps`).
"""

from __future__ import annotations

import dataclasses
import time

import pytest

from client.case_state import Gap, GapKind
from client.member import (
    AuthorMismatchError,
    GapDetectedError,
    LateItemError,
    LaterEpochError,
    Member,
    MissingItemError,
    RelayOrderError,
    ReorderedItemError,
    ReplayedItemError,
    WithheldTailError,
)
from client.random import SystemRandom
from client.relay_api import FetchedMessage
from crypto.suites import cipher_suite
from protocol.case_envelope import EnvelopeDecryptError, EnvelopeVersionError, ItemSignatureError
from protocol.case_items import Note
from protocol.directory import mls_credential
from protocol.errors import ReplayError, WrongGroupError
from protocol.mls.capabilities import supported_capabilities
from protocol.mls.framing import MLSMessage, PrivateMessage
from protocol.mls.key_packages import (
    KeyPackageCipherSuiteError,
    create_key_package,
    default_lifetime,
)
from tests.client.evil_relay import (
    Insider,
    World,
    appended,
    codes,
    post,
    rearranged,
    repeated_after,
    swapped,
    texts,
    without,
)

pytestmark = pytest.mark.asyncio
RNG = SystemRandom()


def author_gaps(gaps: list[Gap], author: Member) -> list[Gap]:
    return [g for g in gaps if g.kind == GapKind.AUTHOR and g.author == author.device_id]


def with_authenticated_data(raw: bytes, change: bytes) -> bytes:
    """``raw`` with its clear ``authenticated_data`` (the envelope) replaced."""
    message = MLSMessage.from_bytes(raw).body
    assert isinstance(message, PrivateMessage)
    return MLSMessage(body=dataclasses.replace(message, authenticated_data=change)).to_bytes()


def envelope_of(raw: bytes) -> bytes:
    message = MLSMessage.from_bytes(raw).body
    assert isinstance(message, PrivateMessage)
    return message.authenticated_data


def flipped(data: bytes, position: int) -> bytes:
    return data[:position] + bytes([data[position] ^ 0x01]) + data[position + 1 :]


async def message_at(world: World, reader: Member, case_id: bytes, seq: int) -> bytes:
    return next(m.message for m in await world.evil.log(reader, case_id) if m.seq == seq)


# --- B1 replay, B2 reflection ---------------------------------------------------------------


async def test_b1_a_message_delivered_twice_is_taken_once(world: World) -> None:
    alice, bob = await world.member("Alice"), await world.member("Bob")
    case_id = await world.case(alice, bob)
    seq = await post(alice, case_id, "once")
    world.evil.views[(bob.device_id, case_id)] = repeated_after(seq)

    await bob.sync()
    assert await texts(bob, case_id) == ["once"]
    assert ReplayError.code in await codes(bob, case_id)  # MLS: that message key is spent


async def test_b1_a_note_replayed_after_its_epoch_ended_is_late(world: World) -> None:
    alice, bob = await world.member("Alice"), await world.member("Bob")
    case_id = await world.case(alice, bob)
    seq = await post(alice, case_id, "once")
    await bob.sync()
    await alice.update_keys(case_id)
    world.evil.views[(bob.device_id, case_id)] = appended(
        await message_at(world, bob, case_id, seq)
    )

    await bob.sync()
    assert await texts(bob, case_id) == ["once"]
    assert LateItemError.code in await codes(bob, case_id)


async def test_b1_a_note_replayed_inside_history_is_caught_by_its_counter(world: World) -> None:
    alice, bob, carol = [await world.member(n) for n in ("Alice", "Bob", "Carol")]
    case_id = await world.case(alice, bob)
    seq = await post(alice, case_id, "once")
    await alice.add_devices(case_id, [carol.device_id])
    world.evil.views[(carol.device_id, case_id)] = repeated_after(seq)

    await carol.sync()  # reads the note from history, where MLS no longer protects it
    assert await texts(carol, case_id) == ["once"]
    assert ReplayedItemError.code in await codes(carol, case_id)
    assert await carol.gaps(case_id) == []


async def test_b2_an_own_note_reflected_back_is_not_taken_again_or_as_anyone_elses(
    world: World,
) -> None:
    alice, bob = await world.member("Alice"), await world.member("Bob")
    case_id = await world.case(alice, bob)
    mine = await post(alice, case_id, "mine")
    theirs = await post(bob, case_id, "theirs")
    world.evil.views[(alice.device_id, case_id)] = repeated_after(mine, at=theirs)

    await alice.sync()
    shown = await alice.notes(case_id)
    assert [
        (s.stored.item.text, s.author.device_id) for s in shown if isinstance(s.stored.item, Note)
    ] == [
        ("mine", alice.device_id),
        ("theirs", bob.device_id),
    ]
    assert ReplayedItemError.code in await codes(alice, case_id)


# --- B3 reordering ----------------------------------------------------------------------------


async def test_b3_notes_of_one_author_reordered_are_shown_and_flagged(world: World) -> None:
    alice, bob = await world.member("Alice"), await world.member("Bob")
    case_id = await world.case(alice, bob)
    first = await post(alice, case_id, "first")
    second = await post(alice, case_id, "second")
    world.evil.views[(bob.device_id, case_id)] = swapped(first, second)

    await bob.sync()
    shown = [s for s in await bob.notes(case_id)]
    assert [s.stored.item.text for s in shown if isinstance(s.stored.item, Note)] == [
        "second",
        "first",
    ]
    assert shown[0].stored.counter > shown[1].stored.counter  # the author's own order
    assert ReorderedItemError.code in await codes(bob, case_id)


async def test_b3_a_note_moved_behind_a_later_commit_is_refused(world: World) -> None:
    alice, bob = await world.member("Alice"), await world.member("Bob")
    case_id = await world.case(alice, bob)
    note = await post(alice, case_id, "moved")
    await alice.update_keys(case_id)
    commit = note + 1
    world.evil.views[(bob.device_id, case_id)] = swapped(note, commit)

    await bob.sync()
    assert "moved" not in await texts(bob, case_id)
    assert LateItemError.code in await codes(bob, case_id)


# --- B4 selective drop, B5 tail truncation ----------------------------------------------------


async def test_b4_a_dropped_message_shows_as_a_sequence_gap(world: World) -> None:
    alice, bob = await world.member("Alice"), await world.member("Bob")
    case_id = await world.case(alice, bob)
    dropped = await post(alice, case_id, "dropped")
    await post(alice, case_id, "kept")
    world.evil.views[(bob.device_id, case_id)] = without(dropped)

    await bob.sync()
    assert await texts(bob, case_id) == ["kept"]
    assert GapDetectedError.code in await codes(bob, case_id)
    assert Gap(kind=GapKind.SEQUENCE, first=dropped, last=dropped) in await bob.gaps(case_id)


async def test_b4_a_dropped_note_hidden_by_renumbering_shows_as_an_author_gap(
    world: World,
) -> None:
    alice, bob = await world.member("Alice"), await world.member("Bob")
    case_id = await world.case(alice, bob)
    await post(alice, case_id, "one")
    dropped = await post(alice, case_id, "two")
    await post(alice, case_id, "three")
    world.evil.views[(bob.device_id, case_id)] = without(dropped, hide=True)

    await bob.sync()
    assert await texts(bob, case_id) == ["one", "three"]
    shown = {
        s.stored.item.text: s.stored.counter
        for s in await bob.notes(case_id)
        if isinstance(s.stored.item, Note)
    }
    missing = shown["one"] + 1
    assert author_gaps(await bob.gaps(case_id), alice) == [
        Gap(kind=GapKind.AUTHOR, first=missing, last=missing, author=alice.device_id)
    ]
    assert MissingItemError.code in await codes(bob, case_id)
    await bob.sync()  # told once, listed for as long as it is missing
    assert (await codes(bob, case_id)).count(MissingItemError.code) == 1


async def test_b4_a_dropped_commit_leaves_later_messages_visible_as_unreadable(
    world: World,
) -> None:
    alice, bob = await world.member("Alice"), await world.member("Bob")
    case_id = await world.case(alice, bob)
    before = await world.evil.last_seq(alice, case_id)
    await alice.update_keys(case_id)
    after = await post(alice, case_id, "after the commit")
    world.evil.views[(bob.device_id, case_id)] = without(before + 1, hide=True)

    await bob.sync()
    assert "after the commit" not in await texts(bob, case_id)
    assert LaterEpochError.code in await codes(bob, case_id)
    assert Gap(kind=GapKind.LATER_EPOCH, first=after - 1, last=after - 1) in await bob.gaps(case_id)


async def test_b5_messages_announced_but_not_delivered_are_a_withheld_tail(world: World) -> None:
    alice, bob = await world.member("Alice"), await world.member("Bob")
    case_id = await world.case(alice, bob)
    last = await post(alice, case_id, "delivered")
    world.evil.announce_extra[(bob.device_id, case_id)] = 2

    await bob.sync()
    assert WithheldTailError.code in await codes(bob, case_id)
    assert Gap(kind=GapKind.WITHHELD_TAIL, first=last + 1, last=last + 2) in await bob.gaps(case_id)
    world.evil.announce_extra.clear()
    await bob.sync()
    assert [g for g in await bob.gaps(case_id) if g.kind == GapKind.WITHHELD_TAIL] == []
    world.evil.announce_extra[(bob.device_id, case_id)] = -1  # less than it delivered
    await bob.sync()
    assert RelayOrderError.code in await codes(bob, case_id)


async def test_b5_a_send_landing_between_the_relays_two_reads_is_asked_for_again(
    world: World,
) -> None:
    """An honest relay reads the messages, then the head: a send committed in between is
    announced by the head but not in the page. The next fetch brings it: no event."""
    alice, bob = await world.member("Alice"), await world.member("Bob")
    case_id = await world.case(alice, bob)
    last = await post(alice, case_id, "landed between the reads")
    key = (bob.device_id, case_id)
    fetches = 0

    def landing(log: list[FetchedMessage]) -> list[FetchedMessage]:
        nonlocal fetches
        fetches += 1
        if fetches == 1:  # the page misses the message the head counts
            return log[:-1]
        world.evil.announce_extra.pop(key, None)
        return log

    world.evil.views[key] = landing
    world.evil.announce_extra[key] = 1
    await bob.sync()
    assert fetches >= 2
    assert await codes(bob, case_id) == []
    assert await bob.gaps(case_id) == []
    assert "landed between the reads" in await texts(bob, case_id)
    assert last == await world.evil.last_seq(bob, case_id)


async def test_b5_a_truncated_tail_shows_once_the_author_posts_again(world: World) -> None:
    alice, bob = await world.member("Alice"), await world.member("Bob")
    case_id = await world.case(alice, bob)
    await post(alice, case_id, "one")
    hidden = await post(alice, case_id, "two")
    world.evil.views[(bob.device_id, case_id)] = without(hidden, hide=True)
    await bob.sync()
    assert await bob.gaps(case_id) == []  # nothing can show it yet

    await post(alice, case_id, "three")
    await bob.sync()
    assert [g.count for g in author_gaps(await bob.gaps(case_id), alice)] == [1]
    assert MissingItemError.code in await codes(bob, case_id)


async def test_b5_a_truncated_tail_shows_in_the_authors_next_history_ring(world: World) -> None:
    alice, bob, carol = [await world.member(n) for n in ("Alice", "Bob", "Carol")]
    case_id = await world.case(alice, bob)
    hidden = await post(alice, case_id, "last before the commit")
    world.evil.views[(bob.device_id, case_id)] = without(hidden, hide=True)
    await bob.sync()

    await alice.add_devices(case_id, [carol.device_id])  # its ring carries Alice's count
    await bob.sync()
    assert [g.count for g in author_gaps(await bob.gaps(case_id), alice)] == [1]
    assert MissingItemError.code in await codes(bob, case_id)


# --- B6 redirect, B7 tampering, B8 impersonation --------------------------------------------


async def test_b6_another_cases_log_served_as_this_ones_is_refused(world: World) -> None:
    alice, bob = await world.member("Alice"), await world.member("Bob")
    case_x = await world.case(alice, bob)
    case_y = await world.case(alice, bob)
    await post(alice, case_x, "for case X")
    world.evil.redirects[(bob.device_id, case_y)] = case_x

    await bob.sync_case(case_y)
    assert await texts(bob, case_y) == []
    assert WrongGroupError.code in await codes(bob, case_y)


async def test_b6_an_envelope_moved_into_another_case_does_not_open(world: World) -> None:
    alice, bob = await world.member("Alice"), await world.member("Bob")
    case_x = await world.case(alice, bob)
    case_y = await world.case(alice, bob)
    seq = await post(alice, case_x, "for case X")
    moved = envelope_of(await message_at(world, alice, case_x, seq))
    insider = Insider(alice)  # the one who may put anything in a message of case Y
    await insider.send(case_y, await insider.message(case_y, authenticated_data=moved))

    await bob.sync()
    assert await texts(bob, case_y) == []
    assert EnvelopeDecryptError.code in await codes(bob, case_y)


async def test_b7_tampered_copies_are_refused_and_the_genuine_note_is_taken(
    world: World,
) -> None:
    alice, bob = await world.member("Alice"), await world.member("Bob")
    case_id = await world.case(alice, bob)
    seq = await post(alice, case_id, "genuine")
    genuine = await message_at(world, bob, case_id, seq)
    tampered = [flipped(genuine, p) for p in (3, 25, len(genuine) // 2, len(genuine) - 1)]
    tampered.append(with_authenticated_data(genuine, flipped(envelope_of(genuine), 40)))

    def order(log: list[FetchedMessage]) -> list[FetchedMessage]:
        at = next(i for i, m in enumerate(log) if m.seq == seq)
        fakes = [FetchedMessage(0, raw, 0) for raw in tampered]
        return [*log[:at], *fakes, *log[at:]]

    world.evil.views[(bob.device_id, case_id)] = rearranged(order)
    await bob.sync()
    assert await texts(bob, case_id) == ["genuine"]
    assert len(await codes(bob, case_id)) == len(tampered)


async def test_b7_a_tampered_envelope_is_refused_when_read_from_history(world: World) -> None:
    alice, bob, carol = [await world.member(n) for n in ("Alice", "Bob", "Carol")]
    case_id = await world.case(alice, bob)
    seq = await post(alice, case_id, "genuine")
    await alice.add_devices(case_id, [carol.device_id])
    genuine = await message_at(world, alice, case_id, seq)
    forged = with_authenticated_data(genuine, flipped(envelope_of(genuine), 60))

    def order(log: list[FetchedMessage]) -> list[FetchedMessage]:
        return [dataclasses.replace(m, message=forged) if m.seq == seq else m for m in log]

    world.evil.views[(carol.device_id, case_id)] = rearranged(order)
    await carol.sync()
    assert "genuine" not in await texts(carol, case_id)
    assert EnvelopeDecryptError.code in await codes(carol, case_id)


async def test_b8_a_member_cannot_pass_off_an_item_as_anothers(world: World) -> None:
    alice, bob, carol, dave = [await world.member(n) for n in ("Alice", "Bob", "Carol", "Dave")]
    case_id = await world.case(alice, bob, carol)
    genuine = await post(alice, case_id, "Alice's words")
    await carol.sync()
    insider = Insider(bob)
    copied = envelope_of(await message_at(world, bob, case_id, genuine))
    await insider.send(case_id, await insider.message(case_id, authenticated_data=copied))
    forged = Note(text="words put in Alice's mouth", written_at=alice.clock())
    await insider.send(case_id, await insider.message(case_id, forged, author=alice.device_id))

    await carol.sync()  # live: the MLS sender is Bob, the envelope says Alice
    assert await texts(carol, case_id) == ["Alice's words"]
    assert (await codes(carol, case_id)).count(AuthorMismatchError.code) == 2
    await alice.add_devices(case_id, [dave.device_id])
    await dave.sync()  # from history: only the envelope's signature speaks for the author
    assert await texts(dave, case_id) == ["Alice's words"]
    assert ItemSignatureError.code in await codes(dave, case_id)


# --- B9 times, B10 receipts, B11 downgrade, B12 suppressed removal --------------------------


async def test_b9_the_relays_arrival_times_are_not_what_the_member_is_shown(
    world: World,
) -> None:
    alice, bob = await world.member("Alice"), await world.member("Bob")
    case_id = await world.case(alice, bob)
    world.evil.arrival_time = 0  # 1970
    await post(alice, case_id, "dated by its author")

    await bob.sync()
    (shown,) = await bob.notes(case_id)
    assert isinstance(shown.stored.item, Note)
    assert abs(shown.stored.item.written_at - int(time.time())) < 60  # signed by Alice


async def test_b10_a_receipt_for_a_note_never_stored_shows_as_a_gap(world: World) -> None:
    alice, bob = await world.member("Alice"), await world.member("Bob")
    case_id = await world.case(alice, bob)
    world.evil.swallow[alice.device_id] = 1
    await post(alice, case_id, "acknowledged, never stored")
    await post(alice, case_id, "next")

    await bob.sync()
    assert await texts(bob, case_id) == ["next"]
    assert [g.count for g in author_gaps(await bob.gaps(case_id), alice)] == [1]
    assert MissingItemError.code in await codes(bob, case_id)
    await alice.sync()  # the author sees her own note missing too
    assert [g.count for g in author_gaps(await alice.gaps(case_id), alice)] == [1]


async def test_b11_downgrades_are_refused(world: World) -> None:
    alice, bob, carol = [await world.member(n) for n in ("Alice", "Bob", "Carol")]
    case_id = await world.case(alice, bob)
    # A KeyPackage of another cipher suite, for a device certified for suite 1.
    chacha = cipher_suite(3)
    signed = next(
        d.signed for d in alice.directory.devices() if d.credential.device_id == carol.device_id
    )
    package = create_key_package(
        chacha,
        chacha.signature.generate(RNG),
        mls_credential(signed),
        supported_capabilities(),
        default_lifetime(alice.clock()),
        (),
        (),
        RNG,
    ).key_package
    world.evil.key_packages[carol.device_id] = MLSMessage(body=package).to_bytes()
    with pytest.raises(KeyPackageCipherSuiteError):
        await alice.add_devices(case_id, [carol.device_id])
    assert KeyPackageCipherSuiteError.code in await codes(alice, case_id)

    # A message whose MLS version, or whose envelope version, was rewritten.
    seq = await post(alice, case_id, "genuine")
    genuine = await message_at(world, alice, case_id, seq)
    old_version = b"\x00\x00" + genuine[2:]
    envelope = envelope_of(genuine)
    old_envelope = with_authenticated_data(genuine, b"\x00\x00" + envelope[2:])
    world.evil.views[(bob.device_id, case_id)] = appended(old_version, old_envelope)
    await bob.sync()
    assert await texts(bob, case_id) == ["genuine"]
    assert len(await codes(bob, case_id)) == 2
    await alice.add_devices(case_id, [carol.device_id])
    world.evil.views[(carol.device_id, case_id)] = rearranged(
        lambda log: [
            dataclasses.replace(m, message=old_envelope) if m.seq == seq else m for m in log
        ]
    )
    await carol.sync()  # from history, the envelope is all there is
    assert EnvelopeVersionError.code in await codes(carol, case_id)


async def test_b12_a_withheld_removal_commit_leaves_the_member_visibly_behind(
    world: World,
) -> None:
    alice, bob, dave = [await world.member(n) for n in ("Alice", "Bob", "Dave")]
    case_id = await world.case(alice, bob, dave)
    removal = await world.evil.last_seq(alice, case_id) + 1
    world.evil.views[(bob.device_id, case_id)] = without(removal, hide=True)
    await alice.remove_devices(case_id, [dave.device_id])
    await post(alice, case_id, "after Dave left")

    await bob.sync()
    assert "after Dave left" not in await texts(bob, case_id)
    assert [g.kind for g in await bob.gaps(case_id)] == [GapKind.LATER_EPOCH]
    assert LaterEpochError.code in await codes(bob, case_id)


async def test_b12_a_dropped_coordinator_removal_does_not_keep_a_revoked_device_in(
    world: World,
) -> None:
    alice, bob, dave = [await world.member(n) for n in ("Alice", "Bob", "Dave")]
    case_id = await world.case(alice, bob, dave)
    proposal = await world.evil.last_seq(alice, case_id) + 1
    for member in (alice, bob):
        world.evil.views[(member.device_id, case_id)] = without(proposal, hide=True)
    await world.coordinator.revoke_device(dave.device_id)
    assert await world.evil.last_seq(alice, case_id) == proposal

    await alice.sync()  # the log says Dave is revoked: Alice removes him herself
    await bob.sync()
    for member in (alice, bob):
        assert dave.device_id not in {c.device_id for c in (await member.summary(case_id)).members}
