"""RFC 9420 §7.8: tree hashes, the commitment to a whole subtree that members agree on.

The root's tree hash goes into the GroupContext, so two members with different trees end
up in different epochs. Each node's hash covers its own content and its children's hashes::

    th(leaf i)   = Hash(uint8 leaf(1)   · uint32 i · optional<LeafNode>)
    th(parent P) = Hash(uint8 parent(2) · optional<ParentNode> · opaque th(left)<V>
                                                                · opaque th(right)<V>)

A blank node is written as an absent optional. §7.9 also needs the hash of a subtree as it
was before some leaves were added ("original sibling tree hash"): those leaves are blanked
and dropped from every unmerged_leaves list, which :func:`subtree_hash` does with
``without_leaves``.

Tree hashes are kept in the tree (:meth:`RatchetTree.tree_hash_cache`), which forgets those
of a changed node's path; so after a commit only that path is hashed again, and the first
hash of a tree (a joiner's, or one read from storage) is the only pass over all its nodes.
A hash without some leaves differs from the plain one only on the paths from those leaves,
and from the parents that list them as unmerged, up to the subtree's head: only those
nodes are hashed again, the other subtrees' hashes come from the cache.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection
from typing import cast

from crypto.suites import CipherSuite
from crypto.tls import encode_varint
from protocol.errors import ValidationError
from protocol.mls.constants import NodeType
from protocol.mls.leaf_node import LeafNode
from protocol.mls.ratchet_tree import RatchetTree
from protocol.mls.tree_math import left, level, parent, right, root
from protocol.mls.tree_nodes import ParentNode

_LEAF = bytes([NodeType.LEAF])
_PARENT = bytes([NodeType.PARENT])
_ABSENT = b"\x00"
_PRESENT = b"\x01"


class TreeHashMismatchError(ValidationError):
    """A tree's root hash is not the one the group agreed on (§12.4.3.1, §12.4.3.3)."""

    code = "tree_hash"


def tree_hash(suite: CipherSuite, tree: RatchetTree) -> bytes:
    """The tree hash of the root: the value of ``GroupContext.tree_hash``."""
    return subtree_hash(suite, tree, root(tree.leaf_count))


def tree_hashes(suite: CipherSuite, tree: RatchetTree) -> tuple[bytes, ...]:
    """The tree hash of every node, indexed by node index, computed in one pass."""
    cache = tree.tree_hash_cache(suite.suite_id)
    _hash(suite, tree, root(tree.leaf_count), cache)
    # Hashing the root fills every entry the cache was missing.
    return tuple(cast(list[bytes], cache))


def subtree_hash(
    suite: CipherSuite, tree: RatchetTree, head: int, *, without_leaves: Collection[int] = ()
) -> bytes:
    """The tree hash of ``head``, as if the leaves ``without_leaves`` had never been added."""
    tree.node(head)  # checks the index
    cache = tree.tree_hash_cache(suite.suite_id)
    without = frozenset(without_leaves)
    if not without:
        return _hash(suite, tree, head, cache)
    changed = _changed_without(tree, head, without)
    return _hash_without(suite, tree, head, without, changed, cache)


def check_tree_hash(suite: CipherSuite, tree: RatchetTree, expected: bytes) -> None:
    """Raise :class:`TreeHashMismatchError` unless the tree hashes to ``expected``."""
    if tree_hash(suite, tree) != expected:
        raise TreeHashMismatchError("the ratchet tree does not match the group's tree hash")


def leaf_tree_hash(suite: CipherSuite, leaf_index: int, leaf: LeafNode | None) -> bytes:
    """Hash of ``TreeHashInput`` for a leaf position (§7.8)."""
    head = _LEAF + leaf_index.to_bytes(4, "big")
    if leaf is None:
        return suite.hash(head + _ABSENT)
    return suite.hash(head + _PRESENT + leaf.to_bytes())


def parent_tree_hash(
    suite: CipherSuite, node: ParentNode | None, left_hash: bytes, right_hash: bytes
) -> bytes:
    """Hash of ``TreeHashInput`` for a parent position (§7.8), from its children's hashes."""
    content = _PARENT + (_ABSENT if node is None else _PRESENT + node.to_bytes())
    return suite.hash(
        content
        + encode_varint(len(left_hash))
        + left_hash
        + encode_varint(len(right_hash))
        + right_hash
    )


def _hash(suite: CipherSuite, tree: RatchetTree, index: int, cache: list[bytes | None]) -> bytes:
    """The tree hash of ``index``: from ``cache`` (the tree's) if known, else computed
    from its children's and put there."""
    known = cache[index]
    if known is not None:
        return known
    node = tree.node(index)
    if index % 2 == 0:
        digest = leaf_tree_hash(suite, index // 2, cast(LeafNode | None, node))
    else:
        left_hash = _hash(suite, tree, left(index), cache)
        right_hash = _hash(suite, tree, right(index), cache)
        digest = parent_tree_hash(suite, cast(ParentNode | None, node), left_hash, right_hash)
    cache[index] = digest
    return digest


def _changed_without(tree: RatchetTree, head: int, without: frozenset[int]) -> set[int]:
    """The nodes under ``head`` whose hash changes when ``without`` are left out: the
    left-out leaves and every parent that lists one of them as unmerged (wherever it is:
    a tree being checked may list them anywhere), with the nodes between them and
    ``head``. Finding the parents takes one look at each parent node, no hashing."""
    k = level(head)
    first, last = head - (1 << k) + 1, head + (1 << k) - 1
    found = [2 * leaf for leaf in without if first <= 2 * leaf <= last]
    for index in range(first + 1, last, 2):
        node = tree.node(index)
        if isinstance(node, ParentNode) and not without.isdisjoint(node.unmerged_leaves):
            found.append(index)
    changed = {head}
    for start in found:
        above = start
        while above not in changed:
            changed.add(above)
            above = parent(above, tree.leaf_count)
    return changed


def _hash_without(
    suite: CipherSuite,
    tree: RatchetTree,
    index: int,
    without: frozenset[int],
    changed: set[int],
    cache: list[bytes | None],
) -> bytes:
    """The hash of ``index`` as if the leaves ``without`` had never been added; outside
    ``changed`` that is the plain tree hash."""
    if index not in changed:
        return _hash(suite, tree, index, cache)
    node = tree.node(index)
    if index % 2 == 0:
        leaf_index = index // 2
        leaf = None if leaf_index in without else cast(LeafNode | None, node)
        return leaf_tree_hash(suite, leaf_index, leaf)
    left_hash = _hash_without(suite, tree, left(index), without, changed, cache)
    right_hash = _hash_without(suite, tree, right(index), without, changed, cache)
    original = cast(ParentNode | None, node)
    if original is not None:
        kept = tuple(leaf for leaf in original.unmerged_leaves if leaf not in without)
        original = dataclasses.replace(original, unmerged_leaves=kept)
    return parent_tree_hash(suite, original, left_hash, right_hash)
