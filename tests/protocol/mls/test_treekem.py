"""TreeKEM (RFC 9420 §7.4–§7.6, §12.4): creating, processing and joining update paths."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from crypto.errors import InvalidTagError
from crypto.labels import decrypt_with_label, derive_secret, encrypt_with_label
from crypto.signatures import SigningKey
from crypto.suites import SUPPORTED_SUITE_IDS, CipherSuite, cipher_suite
from protocol.errors import DecodeError, ValidationError
from protocol.mls.constants import LeafNodeSource
from protocol.mls.credentials import BasicCredential
from protocol.mls.group_context import GroupContext
from protocol.mls.leaf_node import Capabilities, LeafNode, Lifetime
from protocol.mls.leaf_validation import LeafSourceError, verify_leaf_signature
from protocol.mls.parent_hash import ParentHashError
from protocol.mls.path_merge import PathKeyReuseError
from protocol.mls.ratchet_tree import RatchetTree
from protocol.mls.tree_hash import tree_hash
from protocol.mls.tree_keys import (
    PathSecretLengthError,
    PrivateKeyMismatchError,
    TreeKemError,
    TreeKeyState,
    TreePrivateKeys,
    derive_path,
)
from protocol.mls.tree_math import leaf_to_node
from protocol.mls.tree_nodes import HPKECiphertext, UpdatePath, UpdatePathNode
from protocol.mls.treekem import (
    CreatedUpdatePath,
    NoPathKeyError,
    PathKeyMismatchError,
    UpdatePathShapeError,
    create_update_path,
    join_path_keys,
    process_update_path,
)
from tests.helpers import DeterministicRandom
from tests.protocol.mls.treekem_group import GROUP_ID, TreeKemGroup

SUITE = cipher_suite(1)


def grown_group(size: int, suite_id: int = 1, seed: str = "treekem") -> TreeKemGroup:
    """``size`` members, added one or two at a time by full commits from varying members."""
    group = TreeKemGroup(cipher_suite(suite_id), seed)
    while len(group.devices) < size:
        members = sorted(group.devices)
        adds = min(2 if group.epoch % 2 else 1, size - len(members))
        group.commit(members[group.epoch % len(members)], adds=adds)
    return group


# --- round trips ------------------------------------------------------------------------------


@pytest.mark.parametrize("size", range(2, 10))
@pytest.mark.parametrize("suite_id", SUPPORTED_SUITE_IDS)
def test_every_member_agrees_after_a_commit(suite_id: int, size: int) -> None:
    group = grown_group(size, suite_id, f"round trip {suite_id} {size}")
    assert len(group.devices) == size
    for committer in (size - 1, 0, size // 2):
        group.commit(committer)  # each asserts keys, commit secret and tree hash agree


def test_unmerged_leaves_and_blank_nodes_are_covered() -> None:
    group = grown_group(5, seed="unmerged")
    quiet = group.add_without_path(3)
    assert any(node.unmerged_leaves for _, node in group.tree.parents())
    group.remove(2)
    assert any(group.tree.is_blank(i) for i in range(1, group.tree.node_count, 2))
    group.commit(quiet[-1])
    group.commit(0, adds=2)
    group.commit(quiet[0])


def test_the_commit_secret_is_one_step_past_the_root() -> None:
    group = grown_group(4, seed="commit secret")
    staged, _, created = group.create(1)
    path = staged.filtered_direct_path(1)
    last = created.path_secrets[path[-1]]
    derived = derive_path(SUITE, created.path_secrets[path[0]], path)
    assert [entry.path_secret for entry in derived][-1] == last
    assert [entry.public_key for entry in derived] == [
        node.encryption_key for node in created.update_path.nodes
    ]
    assert created.commit_secret.value == derive_secret(SUITE, last, "path")


def test_a_lone_member_commits_with_an_empty_path() -> None:
    group = TreeKemGroup(SUITE, "alone")
    created = group.commit(0)
    assert created.update_path.nodes == ()
    assert len(created.commit_secret.value) == SUITE.hash_size
    assert created.private_keys.nodes == (0,)


def test_the_committer_leaf_is_a_signed_commit_leaf() -> None:
    group = grown_group(3, seed="leaf")
    old = group.tree.member(2)
    created = group.commit(2)
    leaf = created.update_path.leaf_node
    assert leaf.leaf_node_source == LeafNodeSource.COMMIT
    assert leaf.lifetime is None
    assert leaf.encryption_key != old.encryption_key
    assert (leaf.credential, leaf.signature_key) == (old.credential, old.signature_key)


def test_the_signing_key_must_be_the_leafs() -> None:
    group = grown_group(2, seed="signer")
    group.devices[0].signing_key = group.devices[1].signing_key
    with pytest.raises(ValueError, match="signature key"):
        group.create(0)


# --- new members --------------------------------------------------------------------------------


def test_excluded_new_leaves_get_no_ciphertext() -> None:
    group = grown_group(5, seed="exclusion")
    group.remove(1)
    joiners = [group.key_package_leaf(f"joiner {n}") for n in range(3)]
    staged, new_leaves, created = group.create(4, joiners)
    assert sorted(new_leaves) == [1, 5, 6]
    new_nodes = {leaf_to_node(leaf) for leaf in new_leaves}
    skipped = 0
    for node, path_node in zip(
        staged.filtered_direct_path(4), created.update_path.nodes, strict=True
    ):
        child = staged.copath_child(node, 4)
        without = staged.resolution(child, exclude_leaves=new_leaves)
        assert len(path_node.encrypted_path_secret) == len(without)
        assert not new_nodes & set(without)
        skipped += len(staged.resolution(child)) - len(without)
    assert skipped == len(new_leaves)
    for joiner, leaf in zip(joiners, new_leaves, strict=True):
        keys = join_path_keys(
            SUITE,
            staged,
            leaf,
            committer=4,
            leaf_private_key=joiner.encryption_key,
            path_secret=created.welcome_path_secret(leaf),
        )
        assert leaf_to_node(leaf) in keys.nodes and len(keys.nodes) > 1


def test_a_new_member_cannot_process_the_path() -> None:
    group = grown_group(3, seed="new member")
    joiner = group.key_package_leaf("joiner")
    _, new_leaves, created = group.create(0, [joiner])
    received, _ = group.staged_with([joiner])
    keys = TreePrivateKeys.for_leaf(new_leaves[0], joiner.encryption_key)
    with pytest.raises(TreeKemError):
        process_update_path(
            SUITE,
            received,
            0,
            created.update_path,
            keys,
            provisional_context=group.provisional_context,
            new_leaves=new_leaves,
        )


def test_a_joiners_wrong_path_secret_is_refused() -> None:
    group = grown_group(4, seed="joiner")
    joiner = group.key_package_leaf("joiner")
    staged, (leaf,), created = group.create(3, [joiner])
    with pytest.raises(PathKeyMismatchError) as caught:
        join_path_keys(
            SUITE,
            staged,
            leaf,
            committer=3,
            leaf_private_key=joiner.encryption_key,
            path_secret=bytes(SUITE.hash_size),
        )
    assert caught.value.code == "path_key_mismatch"
    other = group.devices[0].keys.leaf_key
    with pytest.raises(PrivateKeyMismatchError):
        join_path_keys(
            SUITE,
            staged,
            leaf,
            committer=3,
            leaf_private_key=other,
            path_secret=created.welcome_path_secret(leaf),
        )
    with pytest.raises(PathSecretLengthError):
        join_path_keys(
            SUITE,
            staged,
            leaf,
            committer=3,
            leaf_private_key=joiner.encryption_key,
            path_secret=created.welcome_path_secret(leaf)[:-1],
        )


# --- malformed or dishonest paths ------------------------------------------------------------


def process(
    group: TreeKemGroup,
    receiver: int,
    sender: int,
    update_path: UpdatePath,
    *,
    other_epoch: bool = False,
) -> None:
    """``receiver`` processes ``update_path`` from ``sender`` against the current tree,
    under the committer's provisional context or one with another epoch."""

    def provisional_context(new_tree_hash: bytes) -> bytes:
        context = GroupContext.from_bytes(group.provisional_context(new_tree_hash))
        if other_epoch:
            context = dataclasses.replace(context, epoch=context.epoch + 1)
        return context.to_bytes()

    process_update_path(
        SUITE,
        group.tree.copy(),
        sender,
        update_path,
        group.devices[receiver].keys,
        provisional_context=provisional_context,
    )


def with_nodes(path: UpdatePath, nodes: tuple[UpdatePathNode, ...]) -> UpdatePath:
    return dataclasses.replace(path, nodes=nodes)


@pytest.fixture
def committed() -> tuple[TreeKemGroup, CreatedUpdatePath]:
    group = grown_group(6, seed="malformed")
    _, _, created = group.create(5)
    return group, created


def test_a_truncated_update_path_does_not_decode(
    committed: tuple[TreeKemGroup, CreatedUpdatePath],
) -> None:
    _, created = committed
    data = created.update_path.to_bytes()
    with pytest.raises(DecodeError):
        UpdatePath.from_bytes(data[:-1])


def test_the_number_of_path_nodes_must_match(
    committed: tuple[TreeKemGroup, CreatedUpdatePath],
) -> None:
    group, created = committed
    nodes = created.update_path.nodes
    for wrong in (nodes[:-1], (*nodes, nodes[-1]), ()):
        with pytest.raises(UpdatePathShapeError) as caught:
            process(group, 0, 5, with_nodes(created.update_path, wrong))
        assert caught.value.code == "update_path_shape"
        assert isinstance(caught.value, ValidationError)


def test_the_number_of_ciphertexts_must_match(
    committed: tuple[TreeKemGroup, CreatedUpdatePath],
) -> None:
    group, created = committed
    nodes = list(created.update_path.nodes)
    last = nodes[-1]
    nodes[-1] = dataclasses.replace(last, encrypted_path_secret=last.encrypted_path_secret[1:])
    with pytest.raises(UpdatePathShapeError):
        process(group, 0, 5, with_nodes(created.update_path, tuple(nodes)))


def test_a_path_secret_under_another_context_does_not_open(
    committed: tuple[TreeKemGroup, CreatedUpdatePath],
) -> None:
    group, created = committed
    process(group, 0, 5, created.update_path)
    with pytest.raises(InvalidTagError):
        process(group, 0, 5, created.update_path, other_epoch=True)


def reencrypt(
    group: TreeKemGroup, created: CreatedUpdatePath, receiver: int, secret: bytes
) -> UpdatePath:
    """The path with the ciphertext for ``receiver`` replaced by an encryption of
    ``secret``: a committer whose keys are not derived from what it sends."""
    staged = group.tree
    filtered = staged.filtered_direct_path(created.committer)
    nodes = list(created.update_path.nodes)
    for position, node in enumerate(filtered):
        resolution = staged.resolution(staged.copath_child(node, created.committer))
        held = group.devices[receiver].keys
        for index, target in enumerate(resolution):
            target_node = staged.node(target)
            assert target_node is not None
            if held.key_for(target, target_node.encryption_key) is None:
                continue
            sealed = encrypt_with_label(
                SUITE,
                target_node.encryption_key,
                "UpdatePathNode",
                created.group_context,
                secret,
                group.rng,
            )
            cts = list(nodes[position].encrypted_path_secret)
            cts[index] = HPKECiphertext(kem_output=sealed.kem_output, ciphertext=sealed.ciphertext)
            nodes[position] = dataclasses.replace(nodes[position], encrypted_path_secret=tuple(cts))
            return with_nodes(created.update_path, tuple(nodes))
    raise AssertionError("the receiver holds no key on the path")


def test_a_path_key_that_does_not_match_the_secret_is_refused(
    committed: tuple[TreeKemGroup, CreatedUpdatePath],
) -> None:
    group, created = committed
    forged = reencrypt(group, created, 0, b"\x42" * SUITE.hash_size)
    with pytest.raises(PathKeyMismatchError) as caught:
        process(group, 0, 5, forged)
    assert caught.value.code == "path_key_mismatch"
    process(group, 4, 5, forged)  # leaf 4 decrypts at node 9, which was not touched


def test_a_path_secret_of_the_wrong_length_is_refused(
    committed: tuple[TreeKemGroup, CreatedUpdatePath],
) -> None:
    group, created = committed
    forged = reencrypt(group, created, 0, b"\x42" * (SUITE.hash_size + 1))
    with pytest.raises(PathSecretLengthError):
        process(group, 0, 5, forged)


def test_a_changed_path_key_breaks_the_parent_hash(
    committed: tuple[TreeKemGroup, CreatedUpdatePath],
) -> None:
    group, created = committed
    nodes = list(created.update_path.nodes)
    fresh = SUITE.kem.generate_key_pair(group.rng)[1]
    nodes[0] = dataclasses.replace(nodes[0], encryption_key=fresh)
    with pytest.raises(ParentHashError):
        process(group, 0, 5, with_nodes(created.update_path, tuple(nodes)))


def test_a_path_key_already_in_the_tree_is_refused(
    committed: tuple[TreeKemGroup, CreatedUpdatePath],
) -> None:
    group, created = committed
    nodes = list(created.update_path.nodes)
    reused = group.tree.member(1).encryption_key
    nodes[-1] = dataclasses.replace(nodes[-1], encryption_key=reused)
    with pytest.raises(PathKeyReuseError):
        process(group, 0, 5, with_nodes(created.update_path, tuple(nodes)))
    twice = (*nodes[:-1], dataclasses.replace(nodes[-1], encryption_key=nodes[0].encryption_key))
    with pytest.raises(PathKeyReuseError):
        process(group, 0, 5, with_nodes(created.update_path, twice))


def test_the_leaf_must_be_a_commit_leaf(
    committed: tuple[TreeKemGroup, CreatedUpdatePath],
) -> None:
    group, created = committed
    leaf = dataclasses.replace(
        created.update_path.leaf_node, leaf_node_source=LeafNodeSource.UPDATE, parent_hash=None
    )
    with pytest.raises(LeafSourceError):
        process(group, 0, 5, dataclasses.replace(created.update_path, leaf_node=leaf))


def test_a_receiver_without_a_matching_key_is_told_so(
    committed: tuple[TreeKemGroup, CreatedUpdatePath],
) -> None:
    group, created = committed
    stranger = SUITE.kem.generate_key_pair(group.rng)[0]
    with pytest.raises(NoPathKeyError):
        process_update_path(
            SUITE,
            group.tree.copy(),
            5,
            created.update_path,
            TreePrivateKeys.for_leaf(0, stranger),
            provisional_context=group.provisional_context,
        )
    with pytest.raises(TreeKemError):
        process(group, 5, 5, created.update_path)


# --- the private keys a member holds --------------------------------------------------------


def test_private_keys_never_show_in_repr() -> None:
    group = grown_group(4, seed="repr")
    keys = group.devices[1].keys
    shown = repr(keys) + repr(keys.to_state())
    for node in keys.nodes:
        key = keys.key_for(node, keys.public_keys()[node])
        assert key is not None
        assert key.to_bytes().hex() not in shown
    assert "leaf 1" in repr(keys)


def test_private_keys_survive_storage() -> None:
    group = grown_group(5, seed="storage")
    keys = group.devices[2].keys
    stored = keys.to_state().to_bytes()
    loaded = TreePrivateKeys.from_state(SUITE, TreeKeyState.from_bytes(stored))
    assert loaded.leaf_index == keys.leaf_index
    assert loaded.public_keys() == keys.public_keys()
    loaded.check_against(group.tree)


def test_private_keys_stay_on_their_direct_path() -> None:
    key = SUITE.kem.generate_key_pair(TreeKemGroup(SUITE).rng)[0]
    with pytest.raises(ValueError, match="direct path"):
        TreePrivateKeys(0, {0: key, 5: key})
    with pytest.raises(ValueError, match="missing"):
        TreePrivateKeys(0, {1: key})


def test_held_keys_must_match_the_tree() -> None:
    group = grown_group(4, seed="mismatch")
    keys = group.devices[0].keys
    stranger = SUITE.kem.generate_key_pair(group.rng)[0]
    with pytest.raises(PrivateKeyMismatchError):
        keys.with_leaf_key(stranger).check_against(group.tree)
    with pytest.raises(PrivateKeyMismatchError):
        keys.check_against(RatchetTree([group.tree.member(0)]))


def test_keys_of_blanked_nodes_are_forgotten() -> None:
    group = grown_group(4, seed="forget")
    before = group.devices[0].keys.nodes
    group.tree.remove_leaf(1)
    after = group.devices[0].keys.retained_in(group.tree)
    assert set(after.nodes) < set(before)
    assert 0 in after.nodes
    after.check_against(group.tree)


# --- external commits and large groups ----------------------------------------------------------


def test_an_external_joiner_commits_from_a_blank_leaf() -> None:
    group = grown_group(3, seed="external")
    assert group.tree.leaf_node(3) is None
    joiner = group.key_package_leaf("external joiner")
    staged = group.tree.copy()
    created = create_update_path(
        SUITE,
        staged,
        3,
        leaf=joiner.leaf,
        signing_key=joiner.signing_key,
        group_id=GROUP_ID,
        provisional_context=group.provisional_context,
        rng=group.rng,
    )
    verify_leaf_signature(SUITE, staged.member(3), group_id=GROUP_ID, leaf_index=3)
    for index, device in group.devices.items():
        received = group.tree.copy()
        result = process_update_path(
            SUITE,
            received,
            3,
            created.update_path,
            device.keys,
            provisional_context=group.provisional_context,
        )
        assert received == staged, index
        assert result.commit_secret.value == created.commit_secret.value


def blank_group(leaves: int) -> tuple[RatchetTree, TreePrivateKeys, SigningKey]:
    """A tree of ``leaves`` members and no parent keys yet (every parent blank); the keys
    of leaf 0 and the signing key every leaf names (only one leaf is signed here)."""
    rng = DeterministicRandom("large group")
    signing_key = SUITE.signature.generate(rng)
    tree = RatchetTree()
    private_key = None
    for index in range(leaves):
        key, public = SUITE.kem.generate_key_pair(rng)
        private_key = private_key or key
        tree.add_leaf(
            LeafNode(
                encryption_key=public,
                signature_key=signing_key.public_key,
                credential=BasicCredential(identity=b"device %d" % index),
                capabilities=Capabilities(cipher_suites=(1,), credentials=(1,)),
                leaf_node_source=LeafNodeSource.KEY_PACKAGE,
                lifetime=Lifetime(not_before=0, not_after=1),
            )
        )
    assert private_key is not None
    return tree, TreePrivateKeys.for_leaf(0, private_key), signing_key


def test_work_stays_on_the_path_in_a_large_group(monkeypatch: pytest.MonkeyPatch) -> None:
    tree, receiver_keys, signing_key = blank_group(1000)
    hashes = decryptions = 0
    real_hash = CipherSuite.hash

    def counting_hash(suite: CipherSuite, data: bytes) -> bytes:
        nonlocal hashes
        hashes += 1
        return real_hash(suite, data)

    def counting_decrypt(*args: Any) -> bytes:
        nonlocal decryptions
        decryptions += 1
        return decrypt_with_label(*args)

    def context(new_tree_hash: bytes) -> bytes:
        return b"group context " + new_tree_hash

    staged = tree.copy()
    created = create_update_path(
        SUITE,
        staged,
        999,
        leaf=tree.member(999),
        signing_key=signing_key,
        group_id=GROUP_ID,
        provisional_context=context,
        rng=DeterministicRandom("large commit"),
    )
    ciphertexts = sum(len(node.encrypted_path_secret) for node in created.update_path.nodes)
    assert ciphertexts == 999  # every other leaf, since no parent has a key yet

    monkeypatch.setattr(CipherSuite, "hash", counting_hash)
    monkeypatch.setattr("protocol.mls.treekem.decrypt_with_label", counting_decrypt)
    received = tree.copy()
    result = process_update_path(
        SUITE, received, 999, created.update_path, receiver_keys, provisional_context=context
    )
    assert result.commit_secret.value == created.commit_secret.value
    assert decryptions == 1
    assert hashes < 1.2 * tree.node_count  # one tree-hash pass, not one per path node
    monkeypatch.undo()
    assert result.tree_hash == tree_hash(SUITE, received)
