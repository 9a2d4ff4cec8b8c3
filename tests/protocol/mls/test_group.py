"""The Group state machine (§12): members create, add, remove, update and talk."""

from __future__ import annotations

import pytest

from crypto.suites import SUPPORTED_SUITE_IDS, CipherSuite, cipher_suite
from protocol.errors import ReplayError, UnknownSenderError, WrongEpochError, WrongGroupError
from protocol.mls.constants import WireFormat
from protocol.mls.credentials import BasicCredential
from protocol.mls.events import (
    ApplicationMessage,
    EpochChanged,
    MemberAdded,
    MemberRemoved,
    ProposalQueued,
    RemovedFromGroup,
)
from protocol.mls.external_sender import external_proposal, external_senders_extension
from protocol.mls.framing import FramedContent, MLSMessage, Sender
from protocol.mls.group import Group, GroupReinitializedError, GroupRemovedError
from protocol.mls.key_packages import default_lifetime
from protocol.mls.message_protection import protect_private, sign_content
from protocol.mls.proposals import Commit, Proposal, ReInit, Remove
from protocol.mls.welcome_protection import WelcomeNotForUsError
from tests.protocol.mls.group_devices import NOW, Device, capabilities, deliver
from tests.protocol.mls.group_devices import build as build_group

GROUP_ID = b"case 2026-117"


@pytest.fixture(params=SUPPORTED_SUITE_IDS, ids=lambda s: f"suite{s}")
def suite(request: pytest.FixtureRequest) -> CipherSuite:
    return cipher_suite(request.param)


def build(suite: CipherSuite, names: list[str]) -> list[Device]:
    return build_group(suite, names, GROUP_ID)


def agree(devices: list[Device]) -> None:
    groups = [d.group for d in devices if d.group is not None and d.group.active]
    assert len({g.epoch for g in groups}) == 1
    assert len({g.epoch_authenticator for g in groups}) == 1
    assert len({g.state.context.tree_hash for g in groups}) == 1
    assert len({g.export_secret("casecircle note", GROUP_ID, 32) for g in groups}) == 1


def test_three_members_agree_and_talk(suite: CipherSuite) -> None:
    alice, bob, carol = build(suite, ["alice", "bob", "carol"])
    agree([alice, bob, carol])
    assert alice.group is not None and bob.group is not None and carol.group is not None
    note = bob.group.protect(b"seen at the clinic on Monday", bob.rng)
    for reader in (alice.group, carol.group):
        (event,) = reader.process(note, NOW).events
        assert event == ApplicationMessage(bob.group.own_leaf, b"seen at the clinic on Monday")


def test_add_commit_reports_the_new_member(suite: CipherSuite) -> None:
    alice, bob = build(suite, ["alice", "bob"])
    carol = Device(suite, "carol")
    assert alice.group is not None and bob.group is not None
    pending = alice.group.commit(alice.rng, NOW, add=(carol.key_package(),))
    processed = bob.group.process(pending.message, NOW)
    kinds = [type(e) for e in processed.events]
    assert kinds == [MemberAdded, EpochChanged]


def test_removed_member_reads_nothing_later(suite: CipherSuite) -> None:
    alice, bob, carol = build(suite, ["alice", "bob", "carol"])
    assert alice.group is not None and bob.group is not None and carol.group is not None
    pending = alice.group.commit(alice.rng, NOW, remove=(carol.group.own_leaf,))
    deliver(pending.message, bob.group)
    removal = carol.group.process(pending.message, NOW)
    assert removal.events == (RemovedFromGroup(carol.group.epoch + 1),)
    assert removal.staged is not None
    carol.group.merge(removal.staged)
    alice.group.merge_pending()
    agree([alice, bob])
    later = alice.group.protect(b"after removal", alice.rng)
    with pytest.raises(GroupRemovedError):
        carol.group.process(later, NOW)
    assert bob.group.process(later, NOW).events[0] == ApplicationMessage(0, b"after removal")


def test_update_commit_changes_every_secret(suite: CipherSuite) -> None:
    alice, bob = build(suite, ["alice", "bob"])
    assert alice.group is not None and bob.group is not None
    before = bob.group.epoch_authenticator
    pending = bob.group.commit(bob.rng, NOW)
    deliver(pending.message, alice.group)
    bob.group.merge_pending()
    agree([alice, bob])
    assert bob.group.epoch_authenticator != before


def test_stale_commit_is_refused_and_state_is_unchanged(suite: CipherSuite) -> None:
    alice, bob, carol = build(suite, ["alice", "bob", "carol"])
    assert alice.group is not None and bob.group is not None and carol.group is not None
    first = alice.group.commit(alice.rng, NOW)
    second = bob.group.commit(bob.rng, NOW)
    deliver(first.message, bob.group, carol.group)
    alice.group.merge_pending()
    bob.group.discard_pending()
    epoch = carol.group.epoch
    with pytest.raises(WrongEpochError):
        carol.group.process(second.message, NOW)
    assert carol.group.epoch == epoch
    agree([alice, bob, carol])


def test_replayed_application_message_is_refused(suite: CipherSuite) -> None:
    alice, bob = build(suite, ["alice", "bob"])
    assert alice.group is not None and bob.group is not None
    note = alice.group.protect(b"once", alice.rng)
    bob.group.process(note, NOW)
    with pytest.raises(ReplayError):
        bob.group.process(note, NOW)


def test_welcome_for_someone_else_is_refused(suite: CipherSuite) -> None:
    alice, _bob = build(suite, ["alice", "bob"])
    carol, dave = Device(suite, "carol"), Device(suite, "dave")
    assert alice.group is not None
    pending = alice.group.commit(alice.rng, NOW, add=(carol.key_package(),))
    assert pending.welcome is not None
    with pytest.raises(WelcomeNotForUsError):
        dave.join(pending.welcome, dave.key_package())


def test_message_moved_to_another_group_is_refused(suite: CipherSuite) -> None:
    alice, _bob = build(suite, ["alice", "bob"])
    other = Device(suite, "mallory")
    other_group = other.create_group(b"another case")
    assert alice.group is not None
    note = alice.group.protect(b"for this case only", alice.rng)
    with pytest.raises(WrongGroupError):
        other_group.process(note, NOW)


def test_commit_from_a_non_member_leaf_is_refused(suite: CipherSuite) -> None:
    """An insider frames a commit as coming from a leaf that is no longer a member."""
    alice, bob, carol, dave = build(suite, ["alice", "bob", "carol", "dave"])
    assert alice.group is not None and bob.group is not None and carol.group is not None
    assert dave.group is not None
    gone = carol.group.own_leaf
    pending = alice.group.commit(alice.rng, NOW, remove=(gone,))
    deliver(pending.message, bob.group, dave.group)
    alice.group.merge_pending()
    state = alice.group.state
    framed = FramedContent(
        group_id=state.group_id, epoch=state.epoch, sender=Sender.member(gone), content=Commit()
    )
    signed = sign_content(
        suite,
        carol.signing_key,
        WireFormat.MLS_PRIVATE_MESSAGE,
        framed,
        state.context,
        bytes(suite.hash_size),
    )
    forged = protect_private(
        suite, signed, state.secret_tree, state.secrets.sender_data_secret, alice.rng
    )
    epoch = bob.group.epoch
    with pytest.raises(UnknownSenderError):
        bob.group.process(MLSMessage(body=forged).to_bytes(), NOW)
    assert bob.group.epoch == epoch


def test_coordinator_removes_a_device_by_external_proposal(suite: CipherSuite) -> None:
    coordinator_key = suite.signature.generate(Device(suite, "coordinator").rng)
    coordinator = BasicCredential(identity=b"coordinator")
    extension = external_senders_extension(((coordinator_key.public_key, coordinator),))
    alice = Device(suite, "alice")
    bob = Device(suite, "bob")
    alice.group = Group.create(
        suite,
        GROUP_ID,
        alice.signing_key,
        alice.credential,
        capabilities(suite),
        default_lifetime(NOW),
        alice.rng,
        extensions=(extension,),
    )
    package = bob.key_package()
    pending = alice.group.commit(alice.rng, NOW, add=(package,))
    alice.group.merge_pending()
    assert pending.welcome is not None
    bob_group = bob.join(pending.welcome, package)

    removal = external_proposal(
        suite,
        coordinator_key,
        0,
        GROUP_ID,
        alice.group.epoch,
        Proposal(body=Remove(removed=bob_group.own_leaf)),
    )
    for group in (alice.group, bob_group):
        (queued,) = group.process(removal, NOW).events
        assert isinstance(queued, ProposalQueued)
    commit = alice.group.commit(alice.rng, NOW)
    outcome = bob_group.process(commit.message, NOW)
    assert outcome.events == (RemovedFromGroup(bob_group.epoch + 1),)
    events = alice.group.merge_pending()
    assert [type(e) for e in events] == [MemberRemoved, EpochChanged]


def test_external_proposal_from_a_key_not_in_the_extension_is_refused(suite: CipherSuite) -> None:
    alice, bob = build(suite, ["alice", "bob"])
    assert alice.group is not None and bob.group is not None
    impostor = suite.signature.generate(Device(suite, "impostor").rng)
    forged = external_proposal(
        suite, impostor, 0, GROUP_ID, bob.group.epoch, Proposal(body=Remove(removed=0))
    )
    with pytest.raises(UnknownSenderError):
        bob.group.process(forged, NOW)


def test_a_committed_reinit_closes_the_group_to_sending(suite: CipherSuite) -> None:
    alice, bob = build(suite, ["alice", "bob"])
    assert alice.group is not None and bob.group is not None
    reinit = Proposal(
        body=ReInit(group_id=b"successor", cipher_suite=suite.suite_id, extensions=())
    )
    proposal = alice.group.propose(reinit, alice.rng)
    bob.group.process(proposal, NOW)
    pending = bob.group.commit(bob.rng, NOW)
    deliver(pending.message, alice.group)
    bob.group.merge_pending()
    for group in (alice.group, bob.group):
        with pytest.raises(GroupReinitializedError):
            group.protect(b"too late", alice.rng)
