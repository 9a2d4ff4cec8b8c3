"""RFC 9420 §4.1 and Appendix C: relations between nodes of a ratchet tree, on array indices.

Every MLS tree is perfect (§4.1: 2^d leaves, all at depth d), stored as an array in which
leaf ``i`` sits at node ``2i`` and parents at odd indices. A node's level is the number of
trailing one bits of its index; a parent ``01x`` has children ``00x`` (left) and ``10x``
(right)::

                  3                level 2
                /   \\
              1       5            level 1
             / \\     / \\
            0   2   4   6          level 0 (leaves 0..3)

The ratchet tree, TreeKEM, the tree hashes and the secret tree all walk the tree with these
functions, so they are kept free of any node contents and checked against ``tree-math.json``.

Errors: a relation that does not exist (the children of a leaf, the parent of the root) or
an index outside the tree raises :class:`TreeMathError`. It is a
:class:`~protocol.errors.ValidationError`, not an ``InternalError``, because the indices
usually come from the wire (a sender's leaf index, a Remove proposal, an unmerged leaf),
and a bad one there is the peer's fault, to be rejected like any other invalid field.
"""

from __future__ import annotations

from protocol.errors import ValidationError

MAX_LEAVES = 1 << 31
"""Leaf indices are ``uint32`` on the wire, so node indices (``2i``) must stay below 2^32."""


class TreeMathError(ValidationError):
    """A node relation that does not exist, or an index or size outside the tree."""

    code = "tree_math"


def check_leaf_count(n_leaves: int) -> None:
    """Reject a tree size that is not a power of two in ``1..MAX_LEAVES`` (§4.1)."""
    if not 1 <= n_leaves <= MAX_LEAVES or n_leaves & (n_leaves - 1):
        raise TreeMathError(f"a ratchet tree cannot have {n_leaves} leaves")


def node_width(n_leaves: int) -> int:
    """The number of nodes of a tree with ``n_leaves`` leaves (zero for an empty tree)."""
    if n_leaves == 0:
        return 0
    check_leaf_count(n_leaves)
    return 2 * n_leaves - 1


def _check_node(node: int, n_leaves: int) -> None:
    if not 0 <= node < node_width(n_leaves):
        raise TreeMathError(f"node {node} is outside a tree of {n_leaves} leaves")


def _check_index(node: int) -> None:
    if not 0 <= node < 2 * MAX_LEAVES - 1:
        raise TreeMathError(f"node index {node} is out of range")


def level(node: int) -> int:
    """Leaves are level 0; a parent is one above its children (the trailing one bits)."""
    _check_index(node)
    return ((node ^ (node + 1)).bit_length()) - 1


def is_leaf(node: int) -> bool:
    _check_index(node)
    return node % 2 == 0


def leaf_to_node(leaf_index: int) -> int:
    if not 0 <= leaf_index < MAX_LEAVES:
        raise TreeMathError(f"leaf index {leaf_index} is out of range")
    return 2 * leaf_index


def node_to_leaf(node: int) -> int:
    if not is_leaf(node):
        raise TreeMathError(f"node {node} is not a leaf")
    return node // 2


def root(n_leaves: int) -> int:
    """The root's index: ``n_leaves - 1`` for a perfect tree."""
    check_leaf_count(n_leaves)
    return n_leaves - 1


def left(node: int) -> int:
    k = level(node)
    if k == 0:
        raise TreeMathError(f"leaf node {node} has no children")
    return node ^ (1 << (k - 1))


def right(node: int) -> int:
    k = level(node)
    if k == 0:
        raise TreeMathError(f"leaf node {node} has no children")
    return node ^ (3 << (k - 1))


def parent(node: int, n_leaves: int) -> int:
    _check_node(node, n_leaves)
    if node == root(n_leaves):
        raise TreeMathError(f"root node {node} has no parent")
    k = level(node)
    b = (node >> (k + 1)) & 1
    return (node | (1 << k)) ^ (b << (k + 1))


def sibling(node: int, n_leaves: int) -> int:
    """The other child of the node's parent."""
    p = parent(node, n_leaves)
    return right(p) if node < p else left(p)


def direct_path(node: int, n_leaves: int) -> list[int]:
    """The node's ancestors from its parent up to the root; empty for the root (§4.1.2)."""
    _check_node(node, n_leaves)
    top = root(n_leaves)
    path: list[int] = []
    while node != top:
        node = parent(node, n_leaves)
        path.append(node)
    return path


def copath(node: int, n_leaves: int) -> list[int]:
    """The siblings of the node and of its ancestors below the root, leaf first (§4.1.2)."""
    path = direct_path(node, n_leaves)
    below_root = [node, *path[:-1]] if path else []
    return [sibling(x, n_leaves) for x in below_root]


def is_in_subtree(node: int, head: int) -> bool:
    """Whether ``node`` is ``head`` or one of its descendants."""
    k = level(head)
    return level(node) <= k and (node >> (k + 1)) == (head >> (k + 1))


def common_ancestor(a: int, b: int) -> int:
    """The lowest node whose subtree holds both ``a`` and ``b`` (either may be that node)."""
    _check_index(a)
    _check_index(b)
    if is_in_subtree(a, b):
        return b
    if is_in_subtree(b, a):
        return a
    # Shift off the low bits until both lie in the same half; the ancestor is the parent
    # index at that height: prefix, then a 0 bit, then k-1 one bits.
    k = 0
    while a != b:
        a >>= 1
        b >>= 1
        k += 1
    return (a << k) | ((1 << (k - 1)) - 1)
