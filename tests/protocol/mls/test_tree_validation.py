"""Verifying a received ratchet tree (RFC 9420 §12.4.3.1): every check, in one call."""

from __future__ import annotations

import dataclasses

import pytest

from protocol.errors import ValidationError
from protocol.mls.leaf_node import Lifetime
from protocol.mls.leaf_validation import (
    DuplicateKeyError,
    LeafKeyError,
    LeafSignatureError,
    LifetimeCheck,
    LifetimeError,
)
from protocol.mls.parent_hash import ParentHashError
from protocol.mls.ratchet_tree import RatchetTree, TreeShapeError
from protocol.mls.tree_hash import TreeHashMismatchError, tree_hash
from protocol.mls.tree_validation import verify_ratchet_tree
from tests.protocol.mls.signed_trees import GROUP_ID, SUITE, TreeBuilder

NOW = 1_750_000_000


def received(builder: TreeBuilder) -> RatchetTree:
    """A tree as a joiner gets it: commits, an update, a removal, late adds, re-encoded."""
    tree = builder.group(6, committer=0)
    builder.commit(tree, 5)
    tree.update_leaf(3, builder.update_leaf(tree, 3))
    tree.remove_leaf(4)
    builder.commit(tree, 1)
    tree.add_leaf(builder.key_package_leaf("late", Lifetime(not_before=NOW - 1, not_after=NOW + 1)))
    return RatchetTree.from_bytes(tree.to_bytes())


def verify(tree: RatchetTree, expected_hash: bytes | None = None, now: int = NOW) -> None:
    verify_ratchet_tree(
        SUITE,
        tree,
        group_id=GROUP_ID,
        tree_hash=tree_hash(SUITE, tree) if expected_hash is None else expected_hash,
        now=now,
    )


def test_an_honest_tree_verifies() -> None:
    verify(received(TreeBuilder()))


def test_a_different_tree_is_refused_by_its_hash() -> None:
    builder = TreeBuilder()
    tree = received(builder)
    expected = tree_hash(SUITE, tree)
    tree.add_leaf(builder.key_package_leaf("ghost"))
    with pytest.raises(TreeHashMismatchError):
        verify(tree, expected)


def test_each_failure_surfaces_with_its_own_code() -> None:
    builder = TreeBuilder()
    honest = received(builder)

    foreign = honest.copy()  # a leaf signed for another group
    builder.commit(foreign, 2, group_id=b"another case")
    with pytest.raises(LeafSignatureError):
        verify(foreign)

    forged = honest.copy()  # a parent key swapped in
    root = forged.parent_node(7)
    assert root is not None
    forged.set_parent(7, dataclasses.replace(root, encryption_key=builder.encryption_key()))
    with pytest.raises(ParentHashError):
        verify(forged)

    twin = honest.copy()  # a leaf re-using another leaf's encryption key
    twin.set_leaf(
        4, dataclasses.replace(twin.member(4), encryption_key=twin.member(0).encryption_key)
    )
    with pytest.raises(DuplicateKeyError):
        verify(twin)

    orphan = honest.copy()  # an unmerged leaf that is not a member
    orphan.set_parent(7, dataclasses.replace(root, unmerged_leaves=(*root.unmerged_leaves, 7)))
    with pytest.raises(TreeShapeError):
        verify(orphan)

    with pytest.raises(LifetimeError):  # the late key package leaf has expired by now
        verify(honest, now=NOW + 2)
    verify_ratchet_tree(
        SUITE, honest, group_id=GROUP_ID, tree_hash=tree_hash(SUITE, honest), now=LifetimeCheck.SKIP
    )


def test_a_low_order_leaf_encryption_key_is_refused() -> None:
    builder = TreeBuilder()
    tree = received(builder)
    late_lifetime = Lifetime(not_before=NOW - 1, not_after=NOW + 1)
    late = next(index for index, leaf in tree.members() if leaf.lifetime == late_lifetime)
    # An unmerged leaf re-signed with the zero point: tree hash, parent hashes and
    # signature all hold, only the key check can catch it.
    zero = builder.sign(dataclasses.replace(tree.member(late), encryption_key=bytes(32)))
    tree.set_leaf(late, zero)
    with pytest.raises(LeafKeyError, match=f"encryption_key of leaf {late}") as caught:
        verify(tree)
    assert caught.value.code == "leaf_key"


def test_every_failure_is_a_validation_error() -> None:
    for error in (
        TreeHashMismatchError,
        TreeShapeError,
        DuplicateKeyError,
        ParentHashError,
        LeafKeyError,
        LeafSignatureError,
        LifetimeError,
    ):
        assert issubclass(error, ValidationError)
        assert error.code != ValidationError.code
