"""RFC 9420 §7.9: parent hashes, which tie every parent node's key to the member who set it.

A committer signs, in its leaf, a chain of hashes over the keys it put on its filtered
direct path. Checking the chain lets a joiner trust that each parent key was chosen by a
member below that node, and not injected by whoever handed it the tree::

    ph(P, S) = Hash(ParentHashInput{ P.encryption_key, P.parent_hash,
                                     original_sibling_tree_hash(P, S) })

S is P's child off the committer's path; its "original" tree hash leaves out the leaves
added under P since P was set (P.unmerged_leaves), see :func:`subtree_hash`. A node D below
P stores ``ph(P, S)`` in its ``parent_hash`` field when P is the next node above D on the
filtered direct path; the root's parent_hash field is empty.

Checking (§7.9.2) is top down: every non-blank parent P must have exactly one node D in
the resolution of one child C such that D.parent_hash = ph(P, sibling of C), and the
rest of that resolution is exactly P's unmerged leaves under C. Since D is itself a parent
checked the same way (or a leaf that signed its parent_hash), every parent chains down to
a committing leaf.
"""

from __future__ import annotations

import dataclasses

from crypto.suites import CipherSuite
from crypto.tls import opaque
from protocol.errors import ValidationError
from protocol.mls.ratchet_tree import RatchetTree
from protocol.mls.tree_hash import subtree_hash, tree_hashes
from protocol.mls.tree_math import is_in_subtree, leaf_to_node, left, right
from protocol.mls.tree_nodes import ParentNode


class ParentHashError(ValidationError):
    """A parent node is not parent-hash valid, or a committer's leaf has the wrong hash."""

    code = "parent_hash"


def parent_hash(
    suite: CipherSuite, encryption_key: bytes, parent_hash_field: bytes, sibling_hash: bytes
) -> bytes:
    """Hash of ``ParentHashInput`` (§7.9)."""
    return suite.hash(opaque(encryption_key) + opaque(parent_hash_field) + opaque(sibling_hash))


def original_sibling_tree_hash(
    suite: CipherSuite,
    tree: RatchetTree,
    parent: int,
    sibling: int,
    hashes: tuple[bytes, ...] | None = None,
) -> bytes:
    """Tree hash of ``sibling`` without the leaves unmerged at ``parent`` (§7.9).

    ``hashes`` are the current tree hashes (from :func:`tree_hashes`), reused when none of
    the parent's unmerged leaves lies under ``sibling``.
    """
    return _original_sibling_tree_hash(suite, tree, _parent(tree, parent), sibling, hashes)


def node_parent_hash(
    suite: CipherSuite,
    tree: RatchetTree,
    parent: int,
    sibling: int,
    hashes: tuple[bytes, ...] | None = None,
) -> bytes:
    """The parent hash of the non-blank ``parent`` with copath child ``sibling``."""
    return _node_parent_hash(suite, tree, _parent(tree, parent), sibling, hashes)


def verify_parent_hashes(suite: CipherSuite, tree: RatchetTree) -> None:
    """Check that every non-blank parent node is parent-hash valid (§7.9.2).

    Raises :class:`ParentHashError` naming the first parent that no node below it vouches
    for, or that more than one does.
    """
    hashes = tree_hashes(suite, tree)
    for index, node in tree.parents():
        low, high = left(index), right(index)
        vouchers = _vouchers(suite, tree, node, low, high, hashes)
        vouchers += _vouchers(suite, tree, node, high, low, hashes)
        if vouchers != 1:
            raise ParentHashError(
                f"parent node {index} is vouched for by {vouchers} nodes below it, not one"
            )


def _vouchers(
    suite: CipherSuite,
    tree: RatchetTree,
    parent: ParentNode,
    child: int,
    sibling: int,
    hashes: tuple[bytes, ...],
) -> int:
    """How many nodes D under ``child`` have a parent hash valid with respect to ``parent``:
    D.parent_hash is the parent's hash with copath child ``sibling``, and the rest of
    child's resolution is exactly the parent's unmerged leaves under ``child``."""
    resolution = tree.resolution(child)
    expected: bytes | None = None  # computed once some node there carries a parent hash
    count = 0
    for candidate in resolution:
        field = _parent_hash_field(tree, candidate)
        if field is None:
            continue
        if expected is None:
            expected = _node_parent_hash(suite, tree, parent, sibling, hashes)
        if field != expected:
            continue  # the common case: no need to look at the rest of a large resolution
        unmerged = {
            leaf_to_node(leaf)
            for leaf in parent.unmerged_leaves
            if is_in_subtree(leaf_to_node(leaf), child)
        }
        rest = [node for node in resolution if node != candidate]
        if len(rest) == len(unmerged) and set(rest) == unmerged:
            count += 1
    return count


def _original_sibling_tree_hash(
    suite: CipherSuite,
    tree: RatchetTree,
    parent: ParentNode,
    sibling: int,
    hashes: tuple[bytes, ...] | None,
) -> bytes:
    unmerged = [u for u in parent.unmerged_leaves if is_in_subtree(leaf_to_node(u), sibling)]
    if not unmerged and hashes is not None:
        return hashes[sibling]
    return subtree_hash(suite, tree, sibling, without_leaves=unmerged)


def _node_parent_hash(
    suite: CipherSuite,
    tree: RatchetTree,
    parent: ParentNode,
    sibling: int,
    hashes: tuple[bytes, ...] | None,
) -> bytes:
    original = _original_sibling_tree_hash(suite, tree, parent, sibling, hashes)
    return parent_hash(suite, parent.encryption_key, parent.parent_hash, original)


def apply_path_parent_hashes(suite: CipherSuite, tree: RatchetTree, leaf_index: int) -> bytes:
    """Set the parent_hash fields along a committer's filtered direct path (§7.5 step 3).

    Call this once the UpdatePath's keys are in place (with empty unmerged_leaves). The
    nodes are filled from the root down, each with the parent hash of the next node above
    it; the return value is the parent hash the committer's leaf must carry.
    """
    above = b""
    for index in reversed(tree.filtered_direct_path(leaf_index)):
        node = dataclasses.replace(_parent(tree, index), parent_hash=above)
        tree.set_parent(index, node)
        above = node_parent_hash(suite, tree, index, tree.copath_child(index, leaf_index))
    return above


def merge_path_parent_hashes(suite: CipherSuite, tree: RatchetTree, leaf_index: int) -> None:
    """The receiver's side of :func:`apply_path_parent_hashes`: set the fields, then
    require the committer's (already merged) leaf to carry the resulting hash (§7.9.2)."""
    expected = apply_path_parent_hashes(suite, tree, leaf_index)
    if _parent_hash_field(tree, leaf_to_node(leaf_index)) != expected:
        raise ParentHashError(f"leaf {leaf_index} does not carry its path's parent hash")


def _parent_hash_field(tree: RatchetTree, index: int) -> bytes | None:
    """The node's parent_hash field; ``None`` for a blank node and for a leaf not from a
    commit (a :class:`~protocol.mls.leaf_node.LeafNode` of any other source is built with
    ``parent_hash=None``, and one from a commit cannot be)."""
    node = tree.node(index)
    return None if node is None else node.parent_hash


def _parent(tree: RatchetTree, index: int) -> ParentNode:
    node = tree.parent_node(index)
    if node is None:
        raise ParentHashError(f"node {index} is blank and has no parent hash")
    return node
