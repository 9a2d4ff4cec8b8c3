"""ATTACKS.md A1–A10 against the client: a relay that lies about who is in the platform and
in a case (and, where the catalogue says so, a malicious member). Each attack ends in a
typed error recorded in the security event log, and nothing is added, used or shown.

Where a test asserts ``<Error>.code in codes(...)`` the error class is the one the client
raised; the code is what the security event log keeps.
"""

from __future__ import annotations

import dataclasses

import pytest

from client.case_state import CaseState
from client.coordinator import Coordinator
from client.directory import Directory, LogMismatchError, UnknownCredentialError
from client.member import (
    ForkedEpochError,
    KeyPackageMismatchError,
    KeyPackageUsedError,
    LateItemError,
    Member,
    RingConflictError,
    UntrustedWelcomeError,
    WrongChannelError,
)
from client.random import SystemRandom
from protocol.case_items import HistoryPolicy, HistoryRing
from protocol.directory import (
    CredentialKeyMismatchError,
    CredentialSignatureError,
    DeviceRevokedError,
    LogEntry,
    SignedDeviceCredential,
    mls_credential,
)
from protocol.errors import WrongGroupError
from protocol.mls.capabilities import supported_capabilities
from protocol.mls.framing import MLSMessage
from protocol.mls.group import Group
from protocol.mls.key_package import KeyPackage
from protocol.mls.key_packages import create_key_package, default_lifetime
from protocol.transparency import (
    ForkDetectedError,
    SignedTreeHead,
    TreeHeadRollbackError,
    detect_fork,
)
from tests.client.evil_relay import (
    Insider,
    World,
    appended,
    codes,
    post,
    swapped,
    texts,
)

pytestmark = pytest.mark.asyncio
RNG = SystemRandom()


def signed_credential(reader: Member, device_id: bytes) -> SignedDeviceCredential:
    return next(d.signed for d in reader.directory.devices() if d.credential.device_id == device_id)


def key_package(owner: Member, signed: SignedDeviceCredential) -> tuple[KeyPackage, object]:
    """A valid MLS KeyPackage carrying ``signed`` but a key only the relay holds."""
    key = owner.suite.signature.generate(RNG)
    created = create_key_package(
        owner.suite,
        key,
        mls_credential(signed),
        supported_capabilities(),
        default_lifetime(owner.clock()),
        (),
        (),
        RNG,
    )
    return created.key_package, key


async def log_leaves(member: Member | Coordinator) -> list[bytes]:
    """The whole real log (the member replays it first)."""
    await member.refresh_directory()
    return await member.api.log_entries(0, member.directory.size)


async def members_of(member: Member, case_id: bytes) -> set[bytes]:
    return {c.device_id for c in (await member.summary(case_id)).members}


# --- A1, A2: ghosts -------------------------------------------------------------------------


async def test_a1_a_case_the_relay_made_up_with_a_ghost_committer_is_not_joined(
    world: World,
) -> None:
    alice, bob = await world.member("Alice"), await world.member("Bob")
    # The relay builds its own group: a leaf carrying Alice's logged credential with a key
    # the relay holds, and Bob's KeyPackage (the relay stores those) added to it.
    ghost_key = alice.suite.signature.generate(RNG)
    fake_case = RNG.random_bytes(16)
    group = Group.create(
        alice.suite,
        fake_case,
        ghost_key,
        mls_credential(signed_credential(alice, alice.device_id)),
        supported_capabilities(),
        default_lifetime(alice.clock()),
        RNG,
    )
    bob_package = MLSMessage.from_bytes(await alice.api.claim_key_package(bob.device_id)).body
    assert isinstance(bob_package, KeyPackage)
    welcome = group.commit(RNG, alice.clock(), add=(bob_package,)).welcome
    assert welcome is not None
    world.evil.inbox_extra[bob.device_id] = [(10**6, fake_case, welcome)]

    assert await bob.process_inbox() == []
    assert UntrustedWelcomeError.code in await codes(bob, fake_case)
    assert fake_case not in await bob.case_ids()


async def test_a1_a_ghost_device_committed_by_an_insider_is_removed_before_anything_is_sent(
    world: World,
) -> None:
    alice, bob, carol = [await world.member(n) for n in ("Alice", "Bob", "Carol")]
    case_id = await world.case(alice, bob, carol)
    # Carol (malicious) commits a device whose credential the root never signed.
    real = signed_credential(carol, carol.device_id).credential
    ghost = SignedDeviceCredential(
        credential=dataclasses.replace(
            real, device_id=RNG.random_bytes(16), display_name="Ghost", organisation="Nowhere"
        ),
        signature=bytes(64),
    )
    package, _ = key_package(carol, ghost)
    _, group, _ = await Insider(carol).group(case_id)
    pending = group.commit(RNG, carol.clock(), add=(package,))
    await carol.api.send(case_id, RNG.random_bytes(16).hex(), pending.message)

    await alice.sync()  # merges (refusing would split the case), records, removes the ghost
    assert UnknownCredentialError.code in await codes(alice, case_id)
    assert ghost.credential.device_id not in await members_of(alice, case_id)
    await post(alice, case_id, "after the ghost")  # encrypted to certified devices only
    await bob.sync()
    assert ghost.credential.device_id not in await members_of(bob, case_id)
    assert "after the ghost" in await texts(bob, case_id)


async def test_a2_a_device_the_root_never_signed_in_the_log_is_refused(world: World) -> None:
    alice, bob = await world.member("Alice"), await world.member("Bob")
    case_id = await world.case(alice)
    leaves = await log_leaves(alice)
    bob_credential = signed_credential(alice, bob.device_id).credential
    forged = SignedDeviceCredential(
        credential=dataclasses.replace(bob_credential, device_id=RNG.random_bytes(16)),
        signature=bytes(64),
    )
    # The relay says Bob has a second device, with a log and a head it signed itself.
    world.evil.serve_log(alice.device_id, [*leaves, LogEntry(statement=forged).to_bytes()])

    with pytest.raises(CredentialSignatureError):
        await alice.add_member(case_id, bob.member_id)
    assert CredentialSignatureError.code in await codes(alice)
    assert [d.credential.device_id for d in alice.directory.member_devices(bob.member_id)] == [
        bob.device_id
    ]
    world.evil.honest_log(alice.device_id)
    with pytest.raises(UnknownCredentialError):
        await alice.add_devices(case_id, [forged.credential.device_id])
    assert UnknownCredentialError.code in await codes(alice, case_id)
    assert await members_of(alice, case_id) == {alice.device_id}


# --- A3, A4: substituted KeyPackages ------------------------------------------------------


async def test_a3_a_key_package_with_a_substituted_key_is_refused(world: World) -> None:
    alice, bob = await world.member("Alice"), await world.member("Bob")
    case_id = await world.case(alice)
    package, _ = key_package(alice, signed_credential(alice, bob.device_id))
    world.evil.key_packages[bob.device_id] = MLSMessage(body=package).to_bytes()
    epoch = (await alice.summary(case_id)).epoch

    with pytest.raises(CredentialKeyMismatchError):
        await alice.add_devices(case_id, [bob.device_id])
    assert CredentialKeyMismatchError.code in await codes(alice, case_id)
    assert (await alice.summary(case_id)).epoch == epoch  # nothing committed
    assert await bob.process_inbox() == []


async def test_a4_another_devices_key_package_is_refused(world: World) -> None:
    alice, bob, carol = [await world.member(n) for n in ("Alice", "Bob", "Carol")]
    case_id = await world.case(alice)
    world.evil.key_packages[bob.device_id] = await alice.api.claim_key_package(carol.device_id)

    with pytest.raises(KeyPackageMismatchError):
        await alice.add_devices(case_id, [bob.device_id])
    assert KeyPackageMismatchError.code in await codes(alice, case_id)
    assert await members_of(alice, case_id) == {alice.device_id}
    assert await carol.process_inbox() == []


# --- A5, A6: rollback and forks -----------------------------------------------------------


async def test_a5_an_older_signed_tree_head_is_a_rollback_also_after_a_restart(
    world: World,
) -> None:
    alice = await world.member("Alice")
    old_head = await alice.api.tree_head()
    await world.member("Bob")  # the log grows
    await alice.sync()
    world.evil.heads[alice.device_id] = old_head

    with pytest.raises(TreeHeadRollbackError):
        await alice.sync()
    assert TreeHeadRollbackError.code in await codes(alice)
    restarted = Directory(alice.directory.root_public_key, alice.directory.relay_public_key)
    with pytest.raises(TreeHeadRollbackError):
        await restarted.refresh(alice.api, alice.store)  # heads seen are kept in the store


async def test_a6_a_log_rewritten_under_a_head_already_seen_is_a_fork_with_evidence(
    world: World,
) -> None:
    alice = await world.member("Alice")
    await world.member("Bob")
    await alice.sync()
    leaves = await log_leaves(alice)
    assert len(leaves) >= 3
    # Every entry is genuine; only their order differs: another root for the same size.
    world.evil.serve_log(alice.device_id, [leaves[1], leaves[0], *leaves[2:]])

    with pytest.raises(ForkDetectedError) as raised:
        await alice.sync()
    assert ForkDetectedError.code in await codes(alice)
    with pytest.raises(ForkDetectedError):  # the two signed heads it carries prove the fork
        detect_fork(alice.directory.relay_public_key, raised.value.first, raised.value.second)
    restarted = Directory(alice.directory.root_public_key, alice.directory.relay_public_key)
    with pytest.raises(ForkDetectedError):
        await restarted.refresh(alice.api, alice.store)


async def test_a6_members_shown_different_logs_hold_signed_proof_of_the_fork(
    world: World,
) -> None:
    alice, bob = await world.member("Alice"), await world.member("Bob")
    await world.member("Carol")
    await world.member("Dave")
    leaves = await log_leaves(world.coordinator)  # Alice and Bob have not seen the last two
    # Alice is shown the log with Carol's credential, Bob the one with Dave's in its place.
    world.evil.serve_log(alice.device_id, leaves[:-1])
    world.evil.serve_log(bob.device_id, [*leaves[:-2], leaves[-1]])
    await alice.sync()
    await bob.sync()  # each view is consistent on its own

    seen_by_alice = await alice.store.latest_tree_head()
    seen_by_bob = await bob.store.latest_tree_head()
    assert isinstance(seen_by_alice, SignedTreeHead) and isinstance(seen_by_bob, SignedTreeHead)
    with pytest.raises(ForkDetectedError):  # what an auditor comparing heads does (Z)
        detect_fork(bob.directory.relay_public_key, seen_by_alice, seen_by_bob)
    # The relay cannot bring Bob back to the real log without his noticing.
    world.evil.honest_log(bob.device_id)
    with pytest.raises(LogMismatchError):
        await bob.sync()
    assert LogMismatchError.code in await codes(bob)


async def test_a6_a_commit_acknowledged_but_replaced_in_the_log_is_a_fork(world: World) -> None:
    alice, bob, carol = [await world.member(n) for n in ("Alice", "Bob", "Carol")]
    case_id = await world.case(alice, bob, carol)
    world.evil.swallow[alice.device_id] = 1
    await alice.update_keys(case_id)  # the relay says "stored" and drops it
    await bob.update_keys(case_id)  # the log's commit for that epoch is Bob's

    await alice.sync()
    assert ForkedEpochError.code in await codes(alice, case_id)
    await post(alice, case_id, "on the forked branch")
    await carol.sync()
    assert "on the forked branch" not in await texts(carol, case_id)
    assert await codes(carol, case_id)  # refused and recorded, not dropped silently


# --- A7: a statement replayed elsewhere ---------------------------------------------------


async def test_a7_a_coordinator_removal_replayed_into_another_case_or_epoch_is_refused(
    world: World,
) -> None:
    alice, bob, dave = [await world.member(n) for n in ("Alice", "Bob", "Dave")]
    case_x = await world.case(alice, dave)
    case_y = await world.case(alice, bob)
    await world.coordinator.revoke_device(dave.device_id)
    group, proposal = world.evil.externals[-1]
    assert group == case_x

    world.evil.views[(alice.device_id, case_y)] = appended(proposal)
    await alice.sync_case(case_y)
    assert WrongGroupError.code in await codes(alice, case_y)
    assert await members_of(alice, case_y) == {alice.device_id, bob.device_id}

    await alice.sync()  # Dave's removal from case X is committed
    assert dave.device_id not in await members_of(alice, case_x)
    world.evil.views[(alice.device_id, case_x)] = appended(proposal)
    await alice.sync_case(case_x)
    assert LateItemError.code in await codes(alice, case_x)


# --- A8: history keys from someone not authorised -----------------------------------------


async def _held_keys(member: Member, case_id: bytes) -> dict[int, bytes]:
    record = await member.store.load_group(case_id)
    assert record is not None
    return CaseState.from_bytes(record.state).history_keys


async def test_a8_a_ring_from_a_revoked_device_is_refused(world: World) -> None:
    alice, bob = await world.member("Alice"), await world.member("Bob")
    case_id = await world.case(alice, bob)
    bob_state, _, _ = await Insider(bob).group(case_id)
    ring = HistoryRing(keys=tuple(sorted(bob_state.history_keys.items()))[:-1])
    await Insider(bob).send(case_id, await Insider(bob).message(case_id, ring))
    await world.coordinator.revoke_device(bob.device_id)

    await alice.sync()
    assert DeviceRevokedError.code in await codes(alice, case_id)
    assert bob.device_id not in await members_of(alice, case_id)


async def test_a8_a_ring_contradicting_a_held_key_is_refused(world: World) -> None:
    alice, bob = await world.member("Alice"), await world.member("Bob")
    case_id = await world.case(alice, bob)
    await post(alice, case_id, "first")
    held = await _held_keys(alice, case_id)
    false_ring = HistoryRing(keys=((0, RNG.random_bytes(32)),))
    await Insider(bob).send(case_id, await Insider(bob).message(case_id, false_ring))

    await alice.sync()
    assert RingConflictError.code in await codes(alice, case_id)
    assert await _held_keys(alice, case_id) == held
    assert await texts(alice, case_id) == ["first"]


async def test_a8_a_joiner_takes_history_keys_only_from_the_member_who_added_it(
    world: World,
) -> None:
    alice, bob, carol = [await world.member(n) for n in ("Alice", "Bob", "Carol")]
    case_id = await world.case(alice, bob)
    await post(alice, case_id, "before Carol")
    await alice.add_devices(case_id, [carol.device_id])  # commit, then Alice's ring
    alice_ring = await world.evil.last_seq(alice, case_id)
    await bob.sync()
    false_ring = HistoryRing(keys=((0, RNG.random_bytes(32)), (1, RNG.random_bytes(32))))
    bob_ring = await Insider(bob).send(case_id, await Insider(bob).message(case_id, false_ring))
    # Carol is shown Bob's false ring before Alice's.
    world.evil.views[(carol.device_id, case_id)] = swapped(alice_ring, bob_ring)

    await carol.sync()
    assert await texts(carol, case_id) == ["before Carol"]
    assert await codes(carol, case_id) == []
    await alice.sync()
    assert RingConflictError.code in await codes(alice, case_id)


# --- A9: channel confusion ----------------------------------------------------------------


async def test_a9_a_welcome_in_a_case_log_a_note_in_the_inbox_and_a_welcome_as_key_package(
    world: World,
) -> None:
    alice, bob, carol = [await world.member(n) for n in ("Alice", "Bob", "Carol")]
    case_id = await world.case(alice, bob)
    await alice.add_devices(case_id, [carol.device_id])
    (_, _, welcome), *_ = await carol.api.inbox(0)
    note = (await world.evil.log(alice, case_id))[-1].message

    world.evil.views[(bob.device_id, case_id)] = appended(welcome)
    await bob.sync_case(case_id)
    assert WrongChannelError.code in await codes(bob, case_id)

    stranger_case = RNG.random_bytes(16)
    world.evil.inbox_extra[bob.device_id] = [(10**6, stranger_case, note)]
    assert await bob.process_inbox() == []
    assert WrongChannelError.code in await codes(bob, stranger_case)

    other = await alice.create_case("Other", "P")
    world.evil.key_packages[bob.device_id] = welcome
    with pytest.raises(WrongChannelError):
        await alice.add_devices(other, [bob.device_id])
    assert WrongChannelError.code in await codes(alice, other)


# --- A10: KeyPackages handed out twice ----------------------------------------------------


async def test_a10_a_key_package_handed_out_twice_is_used_once(world: World) -> None:
    alice, bob, carol = [await world.member(n) for n in ("Alice", "Bob", "Carol")]
    first = await world.case(alice, bob)
    world.evil.key_packages[bob.device_id] = world.evil.claimed[bob.device_id][-1]
    second = await carol.create_case("Second", "P", HistoryPolicy.FULL)
    await carol.add_devices(second, [bob.device_id])  # Carol cannot tell it was used

    await bob.sync()
    assert KeyPackageUsedError.code in await codes(bob, second)
    assert await bob.case_ids() == [first]
    await bob.sync()  # recorded once, not at every sync
    assert (await codes(bob, second)).count(KeyPackageUsedError.code) == 1
