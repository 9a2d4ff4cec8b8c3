"""Storing and restoring a member's whole group state (protocol/mls/group_state_codec.py)."""

from __future__ import annotations

import dataclasses
import functools
import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crypto.suites import SUPPORTED_SUITE_IDS, CipherSuite, cipher_suite
from protocol.errors import (
    DecodeError,
    ReplayError,
    UnsupportedError,
    ValidationError,
    WrongEpochError,
)
from protocol.mls.events import ApplicationMessage, MemberAdded
from protocol.mls.group import Group, GroupReinitializedError, GroupRemovedError
from protocol.mls.group_state import EpochState
from protocol.mls.group_state_codec import (
    FORMAT_VERSION,
    InvalidGroupStateError,
    decode_state,
    encode_state,
)
from protocol.mls.proposals import Add, Proposal, ReInit
from protocol.mls.secret_tree import RatchetKind, SecretTree
from protocol.mls.tree_hash import TreeHashMismatchError
from protocol.mls.tree_keys import PrivateKeyMismatchError, TreePrivateKeys
from tests.protocol.mls.group_devices import NOW, Device, deliver
from tests.protocol.mls.group_devices import build as build_group

GROUP_ID = b"case 2026-204"

FUZZ = settings(
    max_examples=200, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)


@pytest.fixture(params=SUPPORTED_SUITE_IDS, ids=lambda s: f"suite{s}")
def suite(request: pytest.FixtureRequest) -> CipherSuite:
    return cipher_suite(request.param)


def group_of(device: Device) -> Group:
    assert device.group is not None
    return device.group


def build(suite: CipherSuite, names: list[str]) -> list[Device]:
    return build_group(suite, names, GROUP_ID)


def restore(device: Device) -> Group:
    """Store the device's group, drop it, and load it again from the bytes alone."""
    data = group_of(device).to_bytes()
    device.group = Group.from_bytes(data, device.signing_key)
    assert device.group.to_bytes() == data
    return device.group


def agree(groups: list[Group]) -> None:
    assert len({g.epoch for g in groups}) == 1
    assert len({g.epoch_authenticator for g in groups}) == 1
    assert len({g.state.context.tree_hash for g in groups}) == 1
    assert len({g.export_secret("casecircle note", GROUP_ID, 32) for g in groups}) == 1


def talk(sender: Group, device: Device, readers: list[Group], text: bytes) -> None:
    message = sender.protect(text, device.rng)
    for reader in readers:
        (event,) = reader.process(message, NOW).events
        assert event == ApplicationMessage(sender.own_leaf, text)


@functools.cache
def sample_encoding() -> bytes:
    """Bob's state in a group of three (suite 1), with kept skipped keys and a cached
    proposal, so that every part of the encoding is non-empty."""
    suite = cipher_suite(1)
    alice, bob, carol = build(suite, ["alice", "bob", "carol"])
    first = group_of(alice).protect(b"first", alice.rng)
    group_of(alice).protect(b"second", alice.rng)
    third = group_of(alice).protect(b"third", alice.rng)
    group_of(bob).process(third, NOW)
    group_of(bob).process(first, NOW)
    proposal = group_of(carol).propose(
        Proposal(body=Add(key_package=Device(suite, "dave").key_package())), carol.rng
    )
    group_of(bob).process(proposal, NOW)
    return group_of(bob).to_bytes()


# --- round trips ------------------------------------------------------------------------------


def test_every_member_is_restored_and_the_session_goes_on(suite: CipherSuite) -> None:
    alice, bob, carol = devices = build(suite, ["alice", "bob", "carol"])
    before = [group_of(d) for d in devices]
    restored = [restore(d) for d in devices]
    for old, new in zip(before, restored, strict=True):
        assert new.pending is None
        assert new.own_leaf == old.own_leaf
        assert new.state.context == old.state.context
        assert new.state.tree == old.state.tree
        assert new.state.keys.public_keys() == old.state.keys.public_keys()
        assert new.state.interim_transcript_hash == old.state.interim_transcript_hash
        assert new.state.resumption_psks == old.state.resumption_psks
        assert new.state.secrets.encryption_secret == b""
    agree(restored)

    talk(restored[1], bob, [restored[0], restored[2]], b"seen at the clinic on Monday")
    talk(restored[0], alice, [restored[1], restored[2]], b"safety plan updated")

    pending = restored[2].commit(carol.rng, NOW)
    deliver(pending.message, restored[0], restored[1])
    restored[2].merge_pending()
    agree(restored)
    again = [restore(d) for d in devices]
    agree(again)
    talk(again[2], carol, [again[0], again[1]], b"court date moved")


def test_a_cached_proposal_is_committed_after_a_restore() -> None:
    suite = cipher_suite(1)
    alice, bob, carol = devices = build(suite, ["alice", "bob", "carol"])
    dave = Device(suite, "dave")
    package = dave.key_package()
    proposal = group_of(bob).propose(Proposal(body=Add(key_package=package)), bob.rng)
    for reader in (group_of(alice), group_of(carol)):
        reader.process(proposal, NOW)
    groups = [restore(d) for d in devices]
    assert all(len(g.state.proposals) == 1 for g in groups)

    pending = groups[0].commit(alice.rng, NOW)
    processed = groups[1].process(pending.message, NOW)
    assert processed.staged is not None
    assert any(isinstance(event, MemberAdded) for event in processed.events)
    groups[1].merge(processed.staged)
    deliver(pending.message, groups[2])
    groups[0].merge_pending()
    assert pending.welcome is not None
    joined = dave.join(pending.welcome, package)
    agree([*groups, joined])


def test_a_message_read_before_the_restore_is_refused_after_it() -> None:
    suite = cipher_suite(1)
    alice, bob, _ = build(suite, ["alice", "bob", "carol"])
    sent = [group_of(alice).protect(f"note {i}".encode(), alice.rng) for i in range(3)]
    group_of(bob).process(sent[2], NOW)
    group_of(bob).process(sent[0], NOW)

    reader = restore(bob)
    for message in (sent[0], sent[2]):
        with pytest.raises(ReplayError):
            reader.process(message, NOW)
    (event,) = reader.process(sent[1], NOW).events  # its key was kept while skipped
    assert event == ApplicationMessage(0, b"note 1")
    with pytest.raises(ReplayError):
        restore(bob).process(sent[1], NOW)


def test_a_restored_sender_does_not_reuse_a_generation() -> None:
    suite = cipher_suite(1)
    alice, bob, _ = build(suite, ["alice", "bob", "carol"])
    group_of(bob).process(group_of(alice).protect(b"before", alice.rng), NOW)
    writer = restore(alice)
    leaf = writer.own_leaf
    assert writer.state.secret_tree.next_generation(leaf, RatchetKind.APPLICATION) == 1
    (event,) = group_of(bob).process(writer.protect(b"after", alice.rng), NOW).events
    assert event == ApplicationMessage(leaf, b"after")


def test_a_pending_commit_is_not_stored_and_is_rebuilt() -> None:
    suite = cipher_suite(1)
    alice, bob, carol = build(suite, ["alice", "bob", "carol"])
    stale = group_of(alice).commit(alice.rng, NOW)
    committer = restore(alice)
    assert committer.pending is None
    assert committer.epoch == group_of(bob).epoch

    rebuilt = committer.commit(alice.rng, NOW)
    deliver(rebuilt.message, group_of(bob), group_of(carol))
    committer.merge_pending()
    agree([committer, group_of(bob), group_of(carol)])
    with pytest.raises(WrongEpochError):
        group_of(bob).process(stale.message, NOW)


def test_a_closed_group_stays_closed_after_a_restore() -> None:
    suite = cipher_suite(1)
    alice, bob = build(suite, ["alice", "bob"])
    reinit = Proposal(body=ReInit(group_id=b"successor", cipher_suite=suite.suite_id))
    group_of(bob).process(group_of(alice).propose(reinit, alice.rng), NOW)
    pending = group_of(bob).commit(bob.rng, NOW)
    deliver(pending.message, group_of(alice))
    group_of(bob).merge_pending()
    for device in (alice, bob):
        group = restore(device)
        assert group.state.reinit == reinit.body
        with pytest.raises(GroupReinitializedError):
            group.protect(b"too late", device.rng)


def test_a_removed_member_has_no_state_to_store() -> None:
    suite = cipher_suite(1)
    alice, bob = build(suite, ["alice", "bob"])
    pending = group_of(alice).commit(alice.rng, NOW, remove=(group_of(bob).own_leaf,))
    deliver(pending.message, group_of(bob))
    with pytest.raises(GroupRemovedError):
        group_of(bob).to_bytes()


def test_the_signing_key_must_be_the_one_of_our_leaf() -> None:
    suite = cipher_suite(1)
    alice, bob = build(suite, ["alice", "bob"])
    with pytest.raises(ValidationError):
        Group.from_bytes(group_of(alice).to_bytes(), bob.signing_key)


def test_every_field_of_the_epoch_state_is_stored() -> None:
    """A field added to EpochState must be added to the encoding too."""
    assert {f.name for f in dataclasses.fields(EpochState)} == {
        "suite",
        "context",
        "tree",
        "keys",
        "secrets",
        "secret_tree",
        "interim_transcript_hash",
        "proposals",
        "resumption_psks",
        "reinit",
    }


def test_no_secret_shows_in_a_repr() -> None:
    group = Group.from_bytes(sample_encoding(), Device(cipher_suite(1), "bob").signing_key)
    state = group.state
    tree_state = state.secret_tree.to_state()
    secrets = [
        state.secrets.sender_data_secret,
        state.secrets.exporter_secret,
        state.secrets.external_secret,
        state.secrets.confirmation_key,
        state.secrets.membership_key,
        state.secrets.resumption_psk,
        state.secrets.epoch_authenticator,
        state.secrets.init_secret.value,
        *state.resumption_psks.values(),
        *(secret for _, secret in tree_state.node_secrets),
        *(entry.private_key for entry in state.keys.to_state().keys),
    ]
    for _, ratchet in (*tree_state.handshake, *tree_state.application):
        secrets.append(ratchet.secret)
        secrets.extend(value for key in ratchet.skipped for value in (key.key, key.nonce))
    assert any(r.skipped for _, r in tree_state.application)
    shown = " ".join(
        repr(x) for x in (group, state, state.secrets, state.secret_tree, state.keys, tree_state)
    )
    for secret in secrets:
        assert repr(secret) not in shown
        assert secret.hex() not in shown
        assert secret[:8].hex() not in shown


# --- refusing what does not hold together -------------------------------------------------


def loaded() -> EpochState:
    return decode_state(sample_encoding())


def test_an_unknown_format_version_is_unsupported() -> None:
    data = sample_encoding()
    with pytest.raises(UnsupportedError):
        decode_state((FORMAT_VERSION + 1).to_bytes(2, "big") + data[2:])


def test_an_unsupported_cipher_suite_is_refused() -> None:
    data = sample_encoding()
    with pytest.raises(UnsupportedError):
        decode_state(data[:2] + (0xFF00).to_bytes(2, "big") + data[4:])


def test_private_keys_that_are_not_the_trees_are_refused() -> None:
    state = loaded()
    stranger, _ = state.suite.kem.derive_key_pair(bytes(32))
    state.keys = TreePrivateKeys.for_leaf(state.own_leaf, stranger)
    with pytest.raises(PrivateKeyMismatchError):
        decode_state(encode_state(state))


def test_an_own_leaf_outside_the_group_is_refused() -> None:
    state = loaded()
    key, _ = state.suite.kem.derive_key_pair(bytes(32))
    state.keys = TreePrivateKeys.for_leaf(7, key)
    with pytest.raises(InvalidGroupStateError):
        decode_state(encode_state(state))


def test_a_secret_tree_of_another_size_is_refused() -> None:
    state = loaded()
    state.secret_tree = SecretTree(state.suite, bytes(32), 2 * state.tree.leaf_count)
    with pytest.raises(InvalidGroupStateError):
        decode_state(encode_state(state))


def test_a_secret_tree_that_covers_a_leaf_twice_is_refused() -> None:
    state = loaded()
    kept = state.secret_tree.to_state()
    fresh = SecretTree(state.suite, bytes(32), kept.n_leaves).to_state()
    doubled = dataclasses.replace(fresh, handshake=kept.handshake, application=kept.application)
    state.secret_tree = SecretTree.from_state(state.suite, doubled)
    with pytest.raises(InvalidGroupStateError):
        decode_state(encode_state(state))


def test_a_tree_that_does_not_match_the_context_is_refused() -> None:
    state = loaded()
    state.context = dataclasses.replace(state.context, tree_hash=bytes(32))
    with pytest.raises(TreeHashMismatchError):
        decode_state(encode_state(state))


def test_an_interim_transcript_hash_of_another_epoch_is_refused() -> None:
    state = loaded()
    state.interim_transcript_hash = bytes(32)
    with pytest.raises(InvalidGroupStateError):
        decode_state(encode_state(state))


def test_resumption_psks_must_end_with_this_epochs_own() -> None:
    state = loaded()
    state.resumption_psks[state.epoch] = bytes(32)
    with pytest.raises(InvalidGroupStateError):
        decode_state(encode_state(state))
    del state.resumption_psks[state.epoch]
    with pytest.raises(InvalidGroupStateError):
        decode_state(encode_state(state))


def test_every_truncation_is_a_decode_error() -> None:
    data = sample_encoding()
    for end in range(len(data)):
        with pytest.raises(DecodeError):
            decode_state(data[:end])


@FUZZ
@given(st.binary(min_size=1, max_size=64))
def test_trailing_bytes_are_a_decode_error(extra: bytes) -> None:
    with pytest.raises(DecodeError):
        decode_state(sample_encoding() + extra)


def check_mutant(data: bytes) -> None:
    """A changed encoding is refused with a typed error, or is a state of its own that
    encodes back to exactly those bytes."""
    try:
        state = decode_state(data)
    except (DecodeError, ValidationError):
        return
    assert encode_state(state) == data


def test_one_bit_flipped_in_every_byte() -> None:
    data = sample_encoding()
    for index in range(len(data)):
        mutant = bytearray(data)
        mutant[index] ^= 1 << (index % 8)
        check_mutant(bytes(mutant))


@FUZZ
@given(st.data())
def test_flipped_bits_are_refused_or_canonical(data: st.DataObject) -> None:
    encoding = bytearray(sample_encoding())
    flips = data.draw(st.lists(st.integers(0, 8 * len(encoding) - 1), min_size=1, max_size=4))
    for bit in flips:
        encoding[bit // 8] ^= 1 << (bit % 8)
    check_mutant(bytes(encoding))


@FUZZ
@given(st.integers(min_value=0), st.binary(max_size=16))
def test_spliced_bytes_are_refused_or_canonical(seed: int, patch: bytes) -> None:
    encoding = sample_encoding()
    rng = random.Random(seed)
    start = rng.randrange(len(encoding))
    end = min(len(encoding), start + rng.randrange(8))
    check_mutant(encoding[:start] + patch + encoding[end:])


@FUZZ
@given(st.binary(max_size=256))
def test_random_bytes_are_refused(data: bytes) -> None:
    with pytest.raises((DecodeError, ValidationError)):
        decode_state(data)
