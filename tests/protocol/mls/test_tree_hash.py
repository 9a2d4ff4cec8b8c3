"""Tree hashes (RFC 9420 §7.8) and the "original" subtree hash of §7.9."""

from __future__ import annotations

import dataclasses

import pytest

from crypto.suites import CipherSuite, cipher_suite
from protocol.codec import Writer
from protocol.mls.ratchet_tree import RatchetTree
from protocol.mls.tree_hash import (
    TreeHashMismatchError,
    check_tree_hash,
    subtree_hash,
    tree_hash,
    tree_hashes,
)
from protocol.mls.tree_nodes import ParentNode
from tests.protocol.mls.signed_trees import SUITE, TreeBuilder


def leaf_input(leaf_index: int, encoded_leaf: bytes | None) -> bytes:
    present = b"\x00" if encoded_leaf is None else b"\x01" + encoded_leaf
    return b"\x01" + leaf_index.to_bytes(4, "big") + present


def parent_input(encoded_parent: bytes | None, left_hash: bytes, right_hash: bytes) -> bytes:
    w = Writer()
    w.uint8(2)
    w.fixed(b"\x00" if encoded_parent is None else b"\x01" + encoded_parent)
    w.opaque(left_hash)
    w.opaque(right_hash)
    return w.getvalue()


def test_hash_inputs_are_written_as_the_rfc_lays_them_out() -> None:
    builder = TreeBuilder()
    a = builder.key_package_leaf("a")
    p = ParentNode(encryption_key=b"\x07" * 32, parent_hash=b"", unmerged_leaves=(1,))
    c = builder.key_package_leaf("c")
    tree = RatchetTree([a, p, None, None, c])

    th_a = SUITE.hash(leaf_input(0, a.to_bytes()))
    th_blank = SUITE.hash(leaf_input(1, None))
    th_p = SUITE.hash(parent_input(p.to_bytes(), th_a, th_blank))
    th_c = SUITE.hash(leaf_input(2, c.to_bytes()))
    th_blank3 = SUITE.hash(leaf_input(3, None))
    th_5 = SUITE.hash(parent_input(None, th_c, th_blank3))
    th_root = SUITE.hash(parent_input(None, th_p, th_5))

    assert tree_hashes(SUITE, tree) == (th_a, th_p, th_blank, th_root, th_c, th_5, th_blank3)
    assert tree_hash(SUITE, tree) == th_root
    assert subtree_hash(SUITE, tree, 5) == th_5


def test_every_node_hash_matches_its_subtree_hash() -> None:
    tree = TreeBuilder().group(6, committer=3)
    hashes = tree_hashes(SUITE, tree)
    assert len(hashes) == tree.node_count == 15
    assert all(subtree_hash(SUITE, tree, index) == hashes[index] for index in range(15))


def test_hash_without_added_leaves_is_the_hash_from_before_they_were_added() -> None:
    builder = TreeBuilder()
    tree = builder.group(5, committer=0)  # leaves 5..7 blank; the root is leaf 0's
    before = tree.copy()
    first = tree.add_leaf(builder.key_package_leaf("late 1"))
    second = tree.add_leaf(builder.key_package_leaf("late 2"))
    assert (first, second) == (5, 6)
    root = tree.parent_node(7)
    assert root is not None
    assert root.unmerged_leaves == (5, 6)
    assert tree_hash(SUITE, tree) != tree_hash(SUITE, before)
    assert subtree_hash(SUITE, tree, 7, without_leaves=[5, 6]) == tree_hash(SUITE, before)
    assert subtree_hash(SUITE, tree, 7, without_leaves=[6]) != tree_hash(SUITE, before)


def uncached_hashes(suite: CipherSuite, tree: RatchetTree) -> tuple[bytes, ...]:
    """The hashes of a fresh tree with the same nodes: nothing cached."""
    return tree_hashes(suite, RatchetTree(tree.nodes))


def test_cached_hashes_follow_every_change() -> None:
    builder = TreeBuilder()
    tree = builder.group(5, committer=0)
    changes = [
        lambda: tree.add_leaf(builder.key_package_leaf("sixth")),
        lambda: tree.update_leaf(2, builder.update_leaf(tree, 2)),
        lambda: builder.commit(tree, 3),
        lambda: tree.add_leaf(builder.key_package_leaf("seventh")),
        lambda: tree.add_leaf(builder.key_package_leaf("eighth")),
        lambda: tree.add_leaf(builder.key_package_leaf("ninth")),  # extends to 16 leaves
        lambda: tree.remove_leaf(8),  # truncates back to 8
        lambda: tree.blank_path(1),
        lambda: tree.set_parent(3, ParentNode(encryption_key=builder.encryption_key())),
        lambda: tree.blank(3),
        lambda: tree.remove_leaf(0),
    ]
    assert tree_hashes(SUITE, tree) == uncached_hashes(SUITE, tree)
    for change in changes:
        before = tree.copy()
        hashes_before = tree_hashes(SUITE, before)
        change()
        assert tree_hashes(SUITE, tree) == uncached_hashes(SUITE, tree)
        assert tree_hash(SUITE, tree) == uncached_hashes(SUITE, tree)[tree.leaf_count - 1]
        assert tree_hashes(SUITE, before) == hashes_before  # a copy is not touched


def test_cached_hashes_are_per_suite() -> None:
    tree = TreeBuilder().group(3)
    other = cipher_suite(4)  # SHA-512
    first = tree_hash(SUITE, tree)
    assert tree_hash(other, tree) == uncached_hashes(other, tree)[3]
    assert tree_hash(SUITE, tree) == first
    assert len(tree_hash(other, tree)) == 64


def test_a_changed_tree_has_a_different_hash() -> None:
    builder = TreeBuilder()
    tree = builder.group(3)
    expected = tree_hash(SUITE, tree)
    check_tree_hash(SUITE, tree, expected)
    tree.update_leaf(1, builder.update_leaf(tree, 1))
    with pytest.raises(TreeHashMismatchError) as caught:
        check_tree_hash(SUITE, tree, expected)
    assert caught.value.code == "tree_hash"


def hash_without_by_definition(
    suite: CipherSuite, tree: RatchetTree, head: int, without: set[int]
) -> bytes:
    """§7.9 spelt out: blank the leaves, drop them from every unmerged list, hash afresh."""
    nodes = list(tree.nodes)
    for index, node in enumerate(nodes):
        if index % 2 == 0 and index // 2 in without:
            nodes[index] = None
        elif isinstance(node, ParentNode):
            kept = tuple(leaf for leaf in node.unmerged_leaves if leaf not in without)
            nodes[index] = dataclasses.replace(node, unmerged_leaves=kept)
    return tree_hashes(suite, RatchetTree(nodes))[head]


def test_hash_without_leaves_reuses_only_untouched_subtrees() -> None:
    builder = TreeBuilder("without leaves")
    tree = builder.group(11, committer=4)  # 16 leaves, 5 of them blank
    for name in ("late 1", "late 2", "late 3"):
        tree.add_leaf(builder.key_package_leaf(name))  # leaves 11, 12, 13, unmerged above
    # A tree being checked may list an unmerged leaf at a parent that is not above it:
    # leaving that leaf out changes the parent too, wherever it is.
    odd = tree.copy()
    node = odd.parent_node(9)  # above leaves 4 and 5
    assert node is not None
    odd.set_parent(9, dataclasses.replace(node, unmerged_leaves=(*node.unmerged_leaves, 12)))
    for candidate in (tree, odd):
        tree_hashes(SUITE, candidate)  # every plain hash cached, as when checking a tree
        for head in range(candidate.node_count):
            for without in ({11}, {12, 13}, {11, 12, 13}, {0, 12}, {40}):
                expected = hash_without_by_definition(SUITE, candidate, head, without)
                got = subtree_hash(SUITE, candidate, head, without_leaves=without)
                assert got == expected, (head, without)
        assert tree_hashes(SUITE, candidate) == uncached_hashes(SUITE, candidate)
