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
    nodes = tree.nodes
    out: list[bytes] = [b""] * len(nodes)
    _hash(suite, nodes, root(tree.leaf_count), frozenset(), out)
    return tuple(out)


def subtree_hash(
    suite: CipherSuite, tree: RatchetTree, head: int, *, without_leaves: Collection[int] = ()
) -> bytes:
    """The tree hash of ``head``, as if the leaves ``without_leaves`` had never been added."""
    tree.node(head)  # checks the index
    return _hash(suite, tree.nodes, head, frozenset(without_leaves), None)


def check_tree_hash(suite: CipherSuite, tree: RatchetTree, expected: bytes) -> None:
    """Raise :class:`TreeHashMismatchError` unless the tree hashes to ``expected``."""
    if tree_hash(suite, tree) != expected:
        raise TreeHashMismatchError("the ratchet tree does not match the group's tree hash")


def _hash(
    suite: CipherSuite,
    nodes: tuple[Node | None, ...],
    index: int,
    without: frozenset[int],
    out: list[bytes] | None,
) -> bytes:
    w = Writer()
    node = nodes[index]
    if level(index) == 0:
        leaf_index = node_to_leaf(index)
        w.uint8(NodeType.LEAF)
        w.uint32(leaf_index)
        w.optional(None if leaf_index in without else node, Struct.write)
    else:
        left_hash = _hash(suite, nodes, left(index), without, out)
        right_hash = _hash(suite, nodes, right(index), without, out)
        if isinstance(node, ParentNode) and without:
            kept = tuple(leaf for leaf in node.unmerged_leaves if leaf not in without)
            node = dataclasses.replace(node, unmerged_leaves=kept)
        w.uint8(NodeType.PARENT)
        w.optional(node, Struct.write)
        w.opaque(left_hash)
        w.opaque(right_hash)
    digest = suite.hash(w.getvalue())
    if out is not None:
        out[index] = digest
    return digest
