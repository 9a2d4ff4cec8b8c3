"""Parent hashes (RFC 9420 §7.9): computing a committer's chain, and checking a tree."""

from __future__ import annotations

import dataclasses

import pytest

from protocol.codec import Writer
from protocol.mls.parent_hash import (
    ParentHashError,
    apply_path_parent_hashes,
    merge_path_parent_hashes,
    node_parent_hash,
    original_sibling_tree_hash,
    parent_hash,
    verify_parent_hashes,
)
from protocol.mls.ratchet_tree import RatchetTree
from protocol.mls.tree_hash import subtree_hash, tree_hashes
from protocol.mls.tree_nodes import ParentNode
from tests.protocol.mls.signed_trees import SUITE, TreeBuilder


def busy_group() -> tuple[TreeBuilder, RatchetTree]:
    """Six members, three commits, an update, a removal and two late adds."""
    builder = TreeBuilder("busy group")
    tree = builder.group(6, committer=0)
    builder.commit(tree, 5)
    tree.update_leaf(3, builder.update_leaf(tree, 3))
    tree.remove_leaf(4)
    builder.commit(tree, 1)
    assert tree.add_leaf(builder.key_package_leaf("late 1")) == 4
    assert tree.add_leaf(builder.key_package_leaf("late 2")) == 6
    return builder, tree


def replace_parent(tree: RatchetTree, index: int, **changes: object) -> RatchetTree:
    node = tree.parent_node(index)
    assert node is not None
    changed = tree.copy()
    changed.set_parent(index, dataclasses.replace(node, **changes))  # type: ignore[arg-type]
    return changed


def test_parent_hash_input_layout() -> None:
    w = Writer()
    w.opaque(b"key")
    w.opaque(b"above")
    w.opaque(b"sibling")
    assert parent_hash(SUITE, b"key", b"above", b"sibling") == SUITE.hash(w.getvalue())


def test_a_committed_group_is_parent_hash_valid() -> None:
    builder = TreeBuilder()
    for committer in range(5):
        tree = builder.group(5, committer=committer)
        verify_parent_hashes(SUITE, tree)


def test_a_busy_group_stays_parent_hash_valid() -> None:
    _, tree = busy_group()
    root = tree.parent_node(7)
    assert root is not None
    assert root.unmerged_leaves == (4, 6)  # so original sibling tree hashes matter
    verify_parent_hashes(SUITE, tree)


def test_the_root_carries_an_empty_parent_hash_and_the_chain_reaches_the_leaf() -> None:
    tree = TreeBuilder().group(4, committer=2)
    root = tree.parent_node(3)
    assert root is not None
    assert root.parent_hash == b""
    lower = tree.parent_node(5)
    assert lower is not None
    assert lower.parent_hash == node_parent_hash(SUITE, tree, 3, 1)
    leaf = tree.member(2)
    assert leaf.parent_hash == node_parent_hash(SUITE, tree, 5, 6)


def test_original_sibling_tree_hash_leaves_out_unmerged_leaves() -> None:
    builder = TreeBuilder()
    tree = builder.group(5, committer=0)
    sibling_before = subtree_hash(SUITE, tree, 11)
    assert tree.add_leaf(builder.key_package_leaf("late")) == 5
    hashes = tree_hashes(SUITE, tree)
    assert hashes[11] != sibling_before
    assert original_sibling_tree_hash(SUITE, tree, 7, 11, hashes) == sibling_before
    assert original_sibling_tree_hash(SUITE, tree, 7, 11) == sibling_before
    assert original_sibling_tree_hash(SUITE, tree, 7, 3, hashes) == hashes[3]


def test_tampered_parent_hash_field_is_refused() -> None:
    _, tree = busy_group()
    for index, node in tree.parents():
        flipped = (
            bytes([node.parent_hash[0] ^ 1]) + node.parent_hash[1:] if node.parent_hash else b"x"
        )
        tampered = replace_parent(tree, index, parent_hash=flipped)
        with pytest.raises(ParentHashError) as caught:
            verify_parent_hashes(SUITE, tampered)
        assert caught.value.code == "parent_hash"


def test_a_substituted_parent_key_is_refused() -> None:
    builder, tree = busy_group()
    for index, _ in tree.parents():
        tampered = replace_parent(tree, index, encryption_key=builder.encryption_key())
        with pytest.raises(ParentHashError):
            verify_parent_hashes(SUITE, tampered)


def test_an_injected_parent_node_is_refused() -> None:
    builder, tree = busy_group()
    blank = next(i for i in range(1, tree.node_count, 2) if tree.node(i) is None)
    tree.set_parent(blank, ParentNode(encryption_key=builder.encryption_key()))
    with pytest.raises(ParentHashError, match="vouched for by 0 nodes"):
        verify_parent_hashes(SUITE, tree)


def test_an_unmerged_leaf_that_was_not_added_later_is_refused() -> None:
    tree = TreeBuilder().group(4, committer=0)
    tampered = replace_parent(tree, 3, unmerged_leaves=(3,))
    with pytest.raises(ParentHashError):
        verify_parent_hashes(SUITE, tampered)


def test_merge_checks_the_committers_leaf() -> None:
    builder = TreeBuilder()
    tree = builder.group(4, committer=1)
    merged = tree.copy()
    merge_path_parent_hashes(SUITE, merged, 1)
    assert merged == tree

    leaf = tree.member(1)
    wrong = dataclasses.replace(leaf, parent_hash=b"\x00" * 32)
    tree.set_leaf(1, wrong)
    with pytest.raises(ParentHashError, match="leaf 1"):
        merge_path_parent_hashes(SUITE, tree, 1)


def test_apply_returns_the_leaf_hash_of_a_lone_committer() -> None:
    tree = RatchetTree([TreeBuilder().key_package_leaf("alone")])
    assert apply_path_parent_hashes(SUITE, tree, 0) == b""
