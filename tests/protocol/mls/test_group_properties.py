"""RFC 9420 §12: random membership histories keep every member in one agreed epoch.

A Hypothesis state machine drives devices through adds (joined by Welcome), removals by a
random member, empty update commits, the coordinator's external Remove committed by a
random member, and application messages from a random member. After every step:

    current members   same epoch, tree hash, epoch authenticator and exporter secret;
                      the tree holds exactly their leaves; each read every message
    removed devices   their Group raises GroupRemovedError; the epoch state they kept
                      refuses every later message (WrongEpochError), and cannot decrypt it
                      even with the epoch rewritten to its own (InvalidTagError)
    joining           only with a Welcome for one's own key package: a bystander's or a
                      removed device's package, and a tampered Welcome, are refused
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import ClassVar

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from crypto.errors import InvalidTagError
from crypto.suites import cipher_suite
from protocol.errors import WrongEpochError
from protocol.mls.events import (
    ApplicationMessage,
    EpochChanged,
    GroupEvent,
    MemberAdded,
    MemberRemoved,
    ProposalQueued,
    RemovedFromGroup,
)
from protocol.mls.framing import MLSMessage, PrivateMessage
from protocol.mls.group import Group, GroupRemovedError
from protocol.mls.group_state import EpochState
from protocol.mls.proposals import Proposal, Remove
from protocol.mls.welcome_protection import WelcomeNotForUsError
from tests.protocol.mls.group_devices import (
    NOW,
    Coordinator,
    Device,
    create_group_with,
    join_if_valid,
)

GROUP_ID = b"case 2026-204"
MAX_MEMBERS = 8
"""Devices in the group at once."""
MAX_DEVICES = 12
"""Devices created over one history, the creator included."""

EXPORTER_LABEL = "casecircle note"

pick = st.integers(min_value=0, max_value=2**16)
"""A choice among the current members, taken modulo their number."""


@dataclass
class RemovedDevice:
    """A device after its removal, and the epoch state it had when the removal arrived:
    a removed member keeps every key it ever had."""

    device: Device
    kept: Group


def rewrite_epoch(message: bytes, epoch: int) -> bytes:
    """The same PrivateMessage with its (authenticated) epoch field set to ``epoch``."""
    body = MLSMessage.from_bytes(message).body
    assert isinstance(body, PrivateMessage)
    return MLSMessage(body=dataclasses.replace(body, epoch=epoch)).to_bytes()


class GroupHistory(RuleBasedStateMachine):
    """One case group whose creator named the coordinator as external sender."""

    suite_id: ClassVar[int] = 1

    def __init__(self) -> None:
        super().__init__()
        suite = cipher_suite(self.suite_id)
        self.suite = suite
        self.coordinator = Coordinator(suite)
        creator = Device(suite, "device 0")
        create_group_with(creator, GROUP_ID, (self.coordinator.extension(),))
        self.members: list[Device] = [creator]
        self.removed: list[RemovedDevice] = []
        self.created = 1
        self.bystanders = 0
        self.notes = 0

    # --- helpers ---------------------------------------------------------------------------

    @staticmethod
    def group_of(device: Device) -> Group:
        assert device.group is not None
        return device.group

    def member(self, choice: int, *, besides: Device | None = None) -> Device:
        candidates = [d for d in self.members if d is not besides]
        return candidates[choice % len(candidates)]

    @property
    def epoch(self) -> int:
        return self.group_of(self.members[0]).epoch

    def removed_cannot_read(self, message: bytes) -> None:
        """Every removed device fails to read ``message``, sent in a later epoch."""
        for gone in self.removed:
            with pytest.raises(GroupRemovedError):
                self.group_of(gone.device).process(message, NOW)
            with pytest.raises(WrongEpochError):
                gone.kept.process(message, NOW)
            with pytest.raises(InvalidTagError):
                gone.kept.process(rewrite_epoch(message, gone.kept.epoch), NOW)

    def commit_everywhere(
        self,
        committer: Device,
        message: bytes,
        changes: list[type[GroupEvent]],
        leaving: Device | None = None,
    ) -> None:
        """Deliver a commit to every other member, then merge it at the committer. Those
        who stay see the ``changes`` and the new epoch; ``leaving`` learns it is out."""
        committer_group = self.group_of(committer)
        new_epoch = committer_group.epoch + 1
        self.removed_cannot_read(message)
        for device in self.members:
            if device is committer:
                continue
            group = self.group_of(device)
            processed = group.process(message, NOW)
            assert processed.staged is not None
            if device is leaving:
                assert processed.events == (RemovedFromGroup(new_epoch),)
                kept = Group(group.state, device.signing_key)
                group.merge(processed.staged)
                self.removed.append(RemovedDevice(device, kept))
            else:
                *changed, epoch = processed.events
                assert [type(e) for e in changed] == changes
                assert epoch == EpochChanged(new_epoch, committer_group.own_leaf)
                group.merge(processed.staged)
        committer_group.merge_pending()
        if leaving is not None:
            self.members.remove(leaving)

    def stranger(self) -> Device:
        """A device with no business joining: the latest removed one, or a bystander."""
        if self.removed:
            return self.removed[-1].device
        self.bystanders += 1
        return Device(self.suite, f"bystander {self.bystanders}")

    # --- operations ------------------------------------------------------------------------

    @precondition(lambda self: self.created < MAX_DEVICES and len(self.members) < MAX_MEMBERS)
    @rule(committer=pick)
    def add_device(self, committer: int) -> None:
        adder = self.member(committer)
        device = Device(self.suite, f"device {self.created}")
        self.created += 1
        package = device.key_package()
        pending = self.group_of(adder).commit(adder.rng, NOW, add=(package,))
        assert pending.welcome is not None
        self.commit_everywhere(adder, pending.message, [MemberAdded])

        stranger = self.stranger()
        with pytest.raises(WelcomeNotForUsError):
            join_if_valid(stranger, pending.welcome, stranger.key_package())
        flipped = bytearray(pending.welcome)
        flipped[-1] ^= 0x01
        with pytest.raises(InvalidTagError):
            join_if_valid(device, bytes(flipped), package)
        assert device.group is None

        joined = device.join(pending.welcome, package)
        assert joined.epoch == self.group_of(adder).epoch
        self.members.append(device)

    @precondition(lambda self: len(self.members) >= 2)
    @rule(committer=pick, removed=pick)
    def remove_member(self, committer: int, removed: int) -> None:
        remover = self.member(committer)
        leaving = self.member(removed, besides=remover)
        group = self.group_of(remover)
        pending = group.commit(remover.rng, NOW, remove=(self.group_of(leaving).own_leaf,))
        self.commit_everywhere(remover, pending.message, [MemberRemoved], leaving)

    @rule(committer=pick)
    def update(self, committer: int) -> None:
        updater = self.member(committer)
        pending = self.group_of(updater).commit(updater.rng, NOW)
        self.commit_everywhere(updater, pending.message, [])

    @precondition(lambda self: len(self.members) >= 2)
    @rule(removed=pick, committer=pick)
    def coordinator_removes(self, removed: int, committer: int) -> None:
        leaving = self.member(removed)
        leaf = self.group_of(leaving).own_leaf
        proposal = self.coordinator.propose(
            GROUP_ID, self.epoch, Proposal(body=Remove(removed=leaf))
        )
        self.removed_cannot_read_public(proposal)
        for device in self.members:
            (queued,) = self.group_of(device).process(proposal, NOW).events
            assert isinstance(queued, ProposalQueued)
        remover = self.member(committer, besides=leaving)
        pending = self.group_of(remover).commit(remover.rng, NOW)
        self.commit_everywhere(remover, pending.message, [MemberRemoved], leaving)

    @rule(sender=pick, data=st.binary(max_size=48), aad=st.binary(max_size=8))
    def talk(self, sender: int, data: bytes, aad: bytes) -> None:
        author = self.member(sender)
        author_group = self.group_of(author)
        self.notes += 1
        note = f"note {self.notes}: ".encode() + data
        message = author_group.protect(note, author.rng, authenticated_data=aad)
        self.removed_cannot_read(message)
        for device in self.members:
            if device is author:
                continue
            (event,) = self.group_of(device).process(message, NOW).events
            assert isinstance(event, ApplicationMessage)
            assert (event.sender_leaf, event.data, event.authenticated_data) == (
                author_group.own_leaf,
                note,
                aad,
            )

    def removed_cannot_read_public(self, proposal: bytes) -> None:
        """The coordinator's proposal for a later epoch means nothing to removed devices."""
        for gone in self.removed:
            with pytest.raises(GroupRemovedError):
                self.group_of(gone.device).process(proposal, NOW)
            with pytest.raises(WrongEpochError):
                gone.kept.process(proposal, NOW)

    # --- after every step ------------------------------------------------------------------

    @invariant()
    def members_agree(self) -> None:
        groups = [self.group_of(d) for d in self.members]
        assert len({g.epoch for g in groups}) == 1
        assert len({g.state.context.tree_hash for g in groups}) == 1
        assert len({g.epoch_authenticator for g in groups}) == 1
        assert len({g.export_secret(EXPORTER_LABEL, GROUP_ID, 32) for g in groups}) == 1

    @invariant()
    def tree_holds_exactly_the_members(self) -> None:
        state: EpochState = self.group_of(self.members[0]).state
        in_tree = {index: leaf.signature_key for index, leaf in state.tree.members()}
        expected = {self.group_of(d).own_leaf: d.signing_key.public_key for d in self.members}
        assert in_tree == expected

    @invariant()
    def removed_devices_are_out(self) -> None:
        for gone in self.removed:
            group = self.group_of(gone.device)
            assert not group.active
            with pytest.raises(GroupRemovedError):
                group.protect(b"still here?", gone.device.rng)


def run_histories(suite_id: int, examples: int) -> None:
    machine = type(f"GroupHistorySuite{suite_id}", (GroupHistory,), {"suite_id": suite_id})
    run_state_machine_as_test(
        machine,
        settings=settings(max_examples=examples, stateful_step_count=25, deadline=None),
    )


def test_random_histories_keep_members_in_agreement() -> None:
    run_histories(1, 40)


@pytest.mark.parametrize("suite_id", [2, 3], ids=lambda s: f"suite{s}")
def test_random_histories_in_other_suites(suite_id: int) -> None:
    run_histories(suite_id, 8)
