"""Secret tree and hash ratchets (RFC 9420 §9, §6.3.2): agreement, windows, deletion."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crypto.suites import CipherSuite, cipher_suite
from protocol.errors import InternalError, ReplayError, UnknownSenderError
from protocol.mls.secret_tree import (
    MAX_GENERATION,
    HashRatchet,
    RatchetKey,
    RatchetKind,
    RatchetPolicy,
    RatchetState,
    RatchetWindowError,
    SecretTree,
    sender_data_key,
)
from protocol.mls.tree_math import TreeMathError

APP = RatchetKind.APPLICATION
HS = RatchetKind.HANDSHAKE
SECRET = bytes(range(32))


@pytest.fixture(params=[1, 2, 3])
def suite(request: pytest.FixtureRequest) -> CipherSuite:
    return cipher_suite(request.param)


def _tree(suite: CipherSuite, n_leaves: int = 4, policy: RatchetPolicy | None = None) -> SecretTree:
    return SecretTree(suite, SECRET[: suite.hash_size], n_leaves, policy=policy)


def test_sender_and_receiver_agree(suite: CipherSuite) -> None:
    sender, receiver = _tree(suite), _tree(suite)
    for expected_generation in range(3):
        sent = sender.next_key(1, APP)
        assert sent.generation == expected_generation
        received = receiver.key_for(1, APP, expected_generation)
        assert (received.key, received.nonce) == (sent.key, sent.nonce)
        assert len(sent.key) == suite.aead.key_size
        assert len(sent.nonce) == suite.aead.nonce_size
    assert sender.next_generation(1, APP) == 3


def test_handshake_and_application_ratchets_are_independent(suite: CipherSuite) -> None:
    tree = _tree(suite)
    handshake = tree.key_for(0, HS, 0)
    application = tree.key_for(0, APP, 0)
    assert handshake.key != application.key
    assert tree.next_generation(0, HS) == 1
    assert tree.next_generation(0, APP) == 1
    assert tree.next_key(0, HS).generation == 1


def test_leaves_get_distinct_keys(suite: CipherSuite) -> None:
    tree = _tree(suite, 8)
    keys = {tree.key_for(leaf, APP, 0).key for leaf in range(8)}
    assert len(keys) == 8


def test_order_of_leaf_derivation_does_not_matter(suite: CipherSuite) -> None:
    first, second = _tree(suite, 8), _tree(suite, 8)
    a = [first.key_for(leaf, HS, 2).key for leaf in (7, 0, 3)]
    b = [second.key_for(leaf, HS, 2).key for leaf in (3, 7, 0)]
    assert a == [b[1], b[2], b[0]]


def test_reused_generation_is_a_replay(suite: CipherSuite) -> None:
    tree = _tree(suite)
    tree.key_for(2, APP, 0)
    with pytest.raises(ReplayError) as info:
        tree.key_for(2, APP, 0)
    assert info.value.code == "replay"


def test_own_sent_generation_cannot_be_fetched_again(suite: CipherSuite) -> None:
    tree = _tree(suite)
    sent = tree.next_key(0, APP)
    with pytest.raises(ReplayError):
        tree.key_for(0, APP, sent.generation)


def test_out_of_order_within_the_window(suite: CipherSuite) -> None:
    reference, tree = _tree(suite), _tree(suite)
    expected = [reference.next_key(3, APP) for _ in range(6)]
    assert tree.key_for(3, APP, 5).key == expected[5].key
    assert tree.key_for(3, APP, 2).key == expected[2].key
    assert tree.key_for(3, APP, 0).key == expected[0].key
    with pytest.raises(ReplayError):
        tree.key_for(3, APP, 2)
    with pytest.raises(ReplayError):
        tree.key_for(3, APP, 5)
    assert tree.key_for(3, APP, 6).generation == 6


def test_too_far_forward_is_refused_without_moving_the_ratchet(suite: CipherSuite) -> None:
    tree = _tree(suite, policy=RatchetPolicy(max_forward_distance=10))
    with pytest.raises(RatchetWindowError) as info:
        tree.key_for(0, APP, 11)
    assert isinstance(info.value, ReplayError)
    assert info.value.code == "ratchet_window"
    assert tree.next_generation(0, APP) == 0
    assert tree.key_for(0, APP, 10).generation == 10


def test_default_forward_distance_is_1000(suite: CipherSuite) -> None:
    tree = _tree(suite)
    with pytest.raises(RatchetWindowError):
        tree.key_for(0, APP, 1001)
    assert tree.key_for(0, APP, 1000).generation == 1000


def test_generation_beyond_uint32_is_refused(suite: CipherSuite) -> None:
    tree = _tree(suite, policy=RatchetPolicy(max_forward_distance=1 << 40))
    with pytest.raises(RatchetWindowError):
        tree.key_for(0, APP, MAX_GENERATION + 1)


def test_only_a_bounded_number_of_skipped_keys_is_kept(suite: CipherSuite) -> None:
    tree = _tree(suite, policy=RatchetPolicy(max_skipped_keys=3))
    tree.key_for(1, APP, 10)
    ratchet = dict(tree.to_state().application)[1]
    assert [k.generation for k in ratchet.skipped] == [7, 8, 9]
    with pytest.raises(ReplayError):
        tree.key_for(1, APP, 6)
    tree.key_for(1, APP, 12)  # keeps 11, drops the oldest (7)
    ratchet = dict(tree.to_state().application)[1]
    assert [k.generation for k in ratchet.skipped] == [8, 9, 11]
    with pytest.raises(ReplayError):
        tree.key_for(1, APP, 7)
    assert tree.key_for(1, APP, 8).generation == 8


def test_used_keys_and_consumed_secrets_are_deleted(suite: CipherSuite) -> None:
    tree = _tree(suite, 4)
    tree.key_for(0, APP, 2)
    state = tree.to_state()
    # Root (3) and the parent of leaf 0 (1) were consumed, and so was leaf 0's own
    # secret (node 0); the siblings' secrets (2 = leaf 1, 5 = right half) remain.
    assert [node for node, _ in state.node_secrets] == [2, 5]
    assert SECRET[: suite.hash_size] not in {secret for _, secret in state.node_secrets}
    application = dict(state.application)[0]
    assert application.next_generation == 3
    assert [k.generation for k in application.skipped] == [0, 1]
    tree.key_for(0, APP, 1)
    application = dict(tree.to_state().application)[0]
    assert [k.generation for k in application.skipped] == [0]


def test_state_round_trip_keeps_keys_and_replay_protection(suite: CipherSuite) -> None:
    reference, tree = _tree(suite), _tree(suite)
    expected = [reference.next_key(2, HS) for _ in range(5)]
    tree.key_for(2, HS, 3)
    restored = SecretTree.from_state(suite, tree.to_state())
    assert restored.n_leaves == 4
    with pytest.raises(ReplayError):
        restored.key_for(2, HS, 3)
    assert restored.key_for(2, HS, 1).key == expected[1].key
    assert restored.key_for(2, HS, 4).key == expected[4].key
    assert restored.key_for(0, APP, 0).key == reference.key_for(0, APP, 0).key


def test_inconsistent_state_is_refused(suite: CipherSuite) -> None:
    state = _tree(suite).to_state()
    bad_ratchet = RatchetState(secret=bytes(32), next_generation=1, skipped=())
    with pytest.raises(InternalError):
        SecretTree.from_state(
            suite,
            type(state)(n_leaves=4, node_secrets=((99, bytes(32)),)),
        )
    with pytest.raises(InternalError):
        SecretTree.from_state(
            suite,
            type(state)(n_leaves=4, node_secrets=(), handshake=((0, bad_ratchet),)),
        )
    future_key = _tree(suite).key_for(0, APP, 1)
    with pytest.raises(InternalError):
        HashRatchet.from_state(
            suite,
            RatchetState(secret=bytes(32), next_generation=1, skipped=(future_key,)),
            policy=RatchetPolicy(),
        )


def test_exhausted_ratchet_refuses_to_continue(suite: CipherSuite) -> None:
    ratchet = HashRatchet.from_state(
        suite,
        RatchetState(secret=bytes(suite.hash_size), next_generation=MAX_GENERATION),
        policy=RatchetPolicy(),
    )
    assert ratchet.next_key().generation == MAX_GENERATION
    with pytest.raises(RatchetWindowError):
        ratchet.next_key()
    with pytest.raises(InternalError):
        ratchet.to_state()


@pytest.mark.parametrize("leaf", [-1, 4, 1 << 31])
def test_leaf_outside_the_tree_is_an_unknown_sender(suite: CipherSuite, leaf: int) -> None:
    tree = _tree(suite, 4)
    with pytest.raises(UnknownSenderError):
        tree.key_for(leaf, APP, 0)
    with pytest.raises(UnknownSenderError):
        tree.next_key(leaf, HS)


@pytest.mark.parametrize("n_leaves", [0, 3, 6])
def test_tree_sizes_must_be_powers_of_two(suite: CipherSuite, n_leaves: int) -> None:
    with pytest.raises(TreeMathError):
        _tree(suite, n_leaves)


def test_single_leaf_tree(suite: CipherSuite) -> None:
    tree = _tree(suite, 1)
    assert tree.key_for(0, HS, 0).generation == 0
    assert tree.to_state().node_secrets == ()


def test_nothing_secret_in_reprs(suite: CipherSuite) -> None:
    tree = _tree(suite)
    key = tree.key_for(0, APP, 1)
    shown = " ".join(
        [
            repr(key),
            repr(tree),
            repr(tree.to_state()),
            repr(sender_data_key(suite, SECRET[: suite.hash_size], b"ciphertext")),
        ]
    )
    for secret in (key.key, key.nonce, SECRET[: suite.hash_size]):
        assert secret.hex() not in shown
        assert repr(secret) not in shown


def test_sender_data_key_samples_the_first_nh_bytes(suite: CipherSuite) -> None:
    secret = SECRET[: suite.hash_size]
    body = bytes(range(suite.hash_size))
    a = sender_data_key(suite, secret, body + b"tail one")
    b = sender_data_key(suite, secret, body + b"another tail")
    assert (a.key, a.nonce) == (b.key, b.nonce)
    assert len(a.key) == suite.aead.key_size
    assert len(a.nonce) == suite.aead.nonce_size
    short = sender_data_key(suite, secret, body[:5])
    assert short.key != a.key
    assert sender_data_key(suite, secret, body[:4]).key != short.key


def test_policy_limits_must_be_non_negative() -> None:
    with pytest.raises(ValueError, match="non-negative"):
        RatchetPolicy(max_forward_distance=-1)
    with pytest.raises(ValueError, match="non-negative"):
        RatchetPolicy(max_skipped_keys=-1)


@settings(max_examples=30, deadline=None)
@given(st.permutations(list(range(12))))
def test_any_arrival_order_in_the_window_yields_each_key_once(order: list[int]) -> None:
    suite = cipher_suite(1)
    reference = _tree(suite, 2)
    keys = [reference.next_key(1, HS).key for _ in range(12)]
    tree = _tree(suite, 2)
    for generation in order:
        assert tree.key_for(1, HS, generation).key == keys[generation]
    for generation in order:
        with pytest.raises(ReplayError):
            tree.key_for(1, HS, generation)


def test_a_key_is_consumed_only_when_its_use_succeeds(suite: CipherSuite) -> None:
    tree = _tree(suite)
    reference = _tree(suite)

    def fail(key: RatchetKey) -> bytes:
        raise ReplayError("the content did not open")

    with pytest.raises(ReplayError, match="did not open"):
        tree.open_with(1, APP, 2, fail)
    assert tree.open_with(1, APP, 2, lambda key: key.key) == reference.key_for(1, APP, 2).key
    with pytest.raises(ReplayError, match="was used"):
        tree.open_with(1, APP, 2, lambda key: key.key)
    assert tree.key_for(1, APP, 0).key == reference.key_for(1, APP, 0).key


def test_a_failed_use_does_not_move_the_ratchet_forward(suite: CipherSuite) -> None:
    tree = _tree(suite)
    reference = _tree(suite)

    def fail(key: RatchetKey) -> bytes:
        raise ReplayError("forged content")

    with pytest.raises(ReplayError, match="forged"):
        tree.open_with(1, APP, 900, fail)
    assert tree.next_generation(1, APP) == 0
    assert tree.key_for(1, APP, 5).key == reference.key_for(1, APP, 5).key
