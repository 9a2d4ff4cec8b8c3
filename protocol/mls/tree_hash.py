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
Hashes without some leaves are computed afresh every time.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection

from crypto.suites import CipherSuite
from protocol.codec import Struct, Writer
from protocol.errors import ValidationError
from protocol.mls.constants import NodeType
from protocol.mls.ratchet_tree import RatchetTree
from protocol.mls.tree_math import left, level, node_to_leaf, right, root
from protocol.mls.tree_nodes import Node, ParentNode


class TreeHashMismatchError(ValidationError):
    """A tree's root hash is not the one the group agreed on (§12.4.3.1, §12.4.3.3)."""

    code = "tree_hash"


def tree_hash(suite: CipherSuite, tree: RatchetTree) -> bytes:
    """The tree hash of the root: the value of ``GroupContext.tree_hash``."""
    return subtree_hash(suite, tree, root(tree.leaf_count))


def tree_hashes(suite: CipherSuite, tree: RatchetTree) -> tuple[bytes, ...]:
    """The tree hash of every node, indexed by node index, computed in one pass."""
    cache = tree.tree_hash_cache(suite.suite_id)
    _hash(suite, tree, root(tree.leaf_count), frozenset(), cache)
    return tuple(_hash(suite, tree, index, frozenset(), cache) for index in range(len(cache)))


def subtree_hash(
    suite: CipherSuite, tree: RatchetTree, head: int, *, without_leaves: Collection[int] = ()
) -> bytes:
    """The tree hash of ``head``, as if the leaves ``without_leaves`` had never been added."""
    tree.node(head)  # checks the index
    without = frozenset(without_leaves)
    cache = None if without else tree.tree_hash_cache(suite.suite_id)
    return _hash(suite, tree, head, without, cache)


def check_tree_hash(suite: CipherSuite, tree: RatchetTree, expected: bytes) -> None:
    """Raise :class:`TreeHashMismatchError` unless the tree hashes to ``expected``."""
    if tree_hash(suite, tree) != expected:
        raise TreeHashMismatchError("the ratchet tree does not match the group's tree hash")


def _hash(
    suite: CipherSuite,
    tree: RatchetTree,
    index: int,
    without: frozenset[int],
    cache: list[bytes | None] | None,
) -> bytes:
    """The hash of ``index``; ``cache`` (the tree's, used only when ``without`` is empty)
    supplies the hashes already known and receives the ones computed."""
    if cache is not None:
        known = cache[index]
        if known is not None:
            return known
    w = Writer()
    node: Node | None = tree.node(index)
    if level(index) == 0:
        leaf_index = node_to_leaf(index)
        w.uint8(NodeType.LEAF)
        w.uint32(leaf_index)
        w.optional(None if leaf_index in without else node, Struct.write)
    else:
        left_hash = _hash(suite, tree, left(index), without, cache)
        right_hash = _hash(suite, tree, right(index), without, cache)
        if isinstance(node, ParentNode) and without:
            kept = tuple(leaf for leaf in node.unmerged_leaves if leaf not in without)
            node = dataclasses.replace(node, unmerged_leaves=kept)
        w.uint8(NodeType.PARENT)
        w.optional(node, Struct.write)
        w.opaque(left_hash)
        w.opaque(right_hash)
    digest = suite.hash(w.getvalue())
    if cache is not None:
        cache[index] = digest
    return digest
