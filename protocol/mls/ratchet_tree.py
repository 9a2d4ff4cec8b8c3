"""RFC 9420 §4.1, §7.7, §12.1.1–§12.1.3: the public ratchet tree of a group, as one value.

A group's members agree on this tree node for node (its hash enters the GroupContext), so
every change to it is one of a few named operations, each the RFC's own steps:

    add_leaf     §12.1.1  leftmost blank leaf, else extend; unmerged at non-blank parents
    update_leaf  §12.1.2  replace the sender's leaf, blank its direct path
    remove_leaf  §12.1.3  blank the leaf and its direct path, then truncate
    blank_path   §7.5     the first step of merging an UpdatePath

The tree is stored as the array of Appendix C, always padded to a full tree of
``2^d`` leaves (``2^(d+1) - 1`` nodes); leaf ``i`` is node ``2i``::

                  3
                /   \\
              1       5          odd indices: ParentNode or blank
             / \\     / \\
            0   2   4   6        even indices: LeafNode or blank

On the wire (§12.4.3.3) trailing blank nodes are dropped; :meth:`RatchetTree.decode`
refuses a vector that ends in a blank node and pads what it read back to a full tree.

Only public state lives here, and nothing here needs a cipher suite: hashing is in
:mod:`protocol.mls.tree_hash` and :mod:`protocol.mls.parent_hash`, leaf checks in
:mod:`protocol.mls.leaf_validation`. The tree does keep the tree hashes computed from it
(:meth:`RatchetTree.tree_hash_cache`): each change clears the entries of the changed node
and of its ancestors, so a commit rehashes one path, not the whole tree. The HPKE private
keys a member holds for nodes on its path belong to TreeKEM and are kept beside the tree,
keyed by node index, never in it.
Decoding is not trusting: a decoded tree is checked with
:func:`protocol.mls.tree_validation.verify_ratchet_tree` before it is used.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Iterable, Iterator
from itertools import pairwise
from typing import Self

from protocol.codec import Reader, Writer, decode_exact
from protocol.errors import ValidationError
from protocol.mls import tree_nodes
from protocol.mls.leaf_node import LeafNode
from protocol.mls.tree_math import (
    TreeMathError,
    copath,
    direct_path,
    is_in_subtree,
    is_leaf,
    leaf_to_node,
    left,
    level,
    node_width,
    right,
)
from protocol.mls.tree_nodes import Node, ParentNode, read_ratchet_tree, write_ratchet_tree


class TreeShapeError(ValidationError):
    """The tree's structure breaks a rule: node kinds, unmerged leaves (§12.4.3.1)."""

    code = "tree_shape"


class BlankLeafError(ValidationError):
    """An operation names a leaf with no member in it (§12.1.2, §12.1.3)."""

    code = "blank_leaf"


class RatchetTree:
    """The public ratchet tree: ``Node | None`` per node index, padded to a full tree.

    Mutating methods change this object; stage a change on :meth:`copy` and keep the
    original until the change is accepted. Two trees are equal when their nodes are.
    """

    __slots__ = ("_hash_cache", "_hash_cache_key", "_nodes", "_used_width")

    def __init__(self, nodes: Iterable[Node | None] = ()) -> None:
        listed: list[Node | None] = list(nodes)
        for index, node in enumerate(listed):
            expected = ParentNode if index % 2 else LeafNode
            if node is not None and type(node) is not expected:
                raise TreeShapeError(f"node {index} must be a {expected.__name__} or blank")
        leaves = 0
        while node_width(leaves) < len(listed):
            leaves = max(1, 2 * leaves)
        listed.extend([None] * (node_width(leaves) - len(listed)))
        self._nodes = listed
        self._hash_cache: list[bytes | None] = [None] * len(listed)
        self._hash_cache_key: int | None = None
        self._used_width: int | None = None

    # --- wire form (§12.4.3.3) ------------------------------------------------------

    @classmethod
    def decode(cls, r: Reader) -> Self:
        """Read ``optional<Node> ratchet_tree<V>``; ``DecodeError`` if it ends blank."""
        return cls(read_ratchet_tree(r))

    @classmethod
    def from_bytes(cls, data: bytes) -> Self:
        return decode_exact(data, cls.decode)

    def encode(self, w: Writer) -> None:
        """Write the tree with its trailing blank nodes left out."""
        nodes = self.wire_nodes()
        if not nodes:
            raise TreeShapeError("a tree with no non-blank node cannot be sent")
        write_ratchet_tree(w, nodes)

    def to_bytes(self) -> bytes:
        w = Writer()
        self.encode(w)
        return w.getvalue()

    def wire_nodes(self) -> tuple[Node | None, ...]:
        """The nodes up to the last non-blank one, as the wire carries them."""
        end = len(self._nodes)
        while end and self._nodes[end - 1] is None:
            end -= 1
        return tuple(self._nodes[:end])

    @classmethod
    def from_extension(cls, extension: tree_nodes.RatchetTreeExtension) -> Self:
        return cls(extension.nodes)

    def to_extension(self) -> tree_nodes.RatchetTreeExtension:
        """The ``ratchet_tree`` GroupInfo extension payload carrying this tree."""
        return tree_nodes.RatchetTreeExtension(nodes=self.wire_nodes())

    # --- reading --------------------------------------------------------------------

    @property
    def leaf_count(self) -> int:
        """Leaves of the full tree, blank ones included: zero or a power of two."""
        return (len(self._nodes) + 1) // 2

    @property
    def node_count(self) -> int:
        return len(self._nodes)

    @property
    def nodes(self) -> tuple[Node | None, ...]:
        return tuple(self._nodes)

    def node(self, index: int) -> Node | None:
        self._check_node(index)
        return self._nodes[index]

    def leaf_node(self, leaf_index: int) -> LeafNode | None:
        node = self._nodes[self._leaf_position(leaf_index)]
        return node if isinstance(node, LeafNode) else None

    def member(self, leaf_index: int) -> LeafNode:
        """The leaf node at ``leaf_index``; ``BlankLeafError`` if no member is there."""
        node = self.leaf_node(leaf_index) if 0 <= leaf_index < self.leaf_count else None
        if node is None:
            raise BlankLeafError(f"leaf {leaf_index} holds no member")
        return node

    def parent_node(self, index: int) -> ParentNode | None:
        node = self.node(index)
        if is_leaf(index):
            raise TreeMathError(f"node {index} is a leaf, not a parent")
        return node if isinstance(node, ParentNode) else None

    def members(self) -> Iterator[tuple[int, LeafNode]]:
        """``(leaf_index, leaf_node)`` of every non-blank leaf, left to right."""
        for index in range(0, len(self._nodes), 2):
            node = self._nodes[index]
            if isinstance(node, LeafNode):
                yield index // 2, node

    def parents(self) -> Iterator[tuple[int, ParentNode]]:
        """``(node_index, parent_node)`` of every non-blank parent, left to right."""
        for index in range(1, len(self._nodes), 2):
            node = self._nodes[index]
            if isinstance(node, ParentNode):
                yield index, node

    def is_blank(self, index: int) -> bool:
        return self.node(index) is None

    # --- paths (§4.1.2) ---------------------------------------------------------------

    def direct_path(self, leaf_index: int) -> list[int]:
        return direct_path(self._leaf_position(leaf_index), self.leaf_count)

    def resolution(self, index: int, *, exclude_leaves: Collection[int] = ()) -> list[int]:
        """The non-blank nodes covering the subtree under ``index`` (§4.1.1), in order.

        A non-blank node stands for itself followed by its unmerged leaves; a blank
        parent for its children's resolutions, left then right. Leaves in
        ``exclude_leaves`` are left out (members added by the Commit being built, §7.6).
        """
        self._check_node(index)
        excluded = {leaf_to_node(leaf) for leaf in exclude_leaves}
        return [node for node in self._resolve(index) if node not in excluded]

    def _resolve(self, index: int) -> list[int]:
        node = self._nodes[index]
        if isinstance(node, ParentNode):
            return [index, *(leaf_to_node(leaf) for leaf in node.unmerged_leaves)]
        if node is not None:
            return [index]
        k = level(index)
        if k == 0 or index - (1 << k) + 1 >= self._nodes_in_use():
            return []  # a blank leaf, or a subtree wholly in the blank padding on the right
        return self._resolve(left(index)) + self._resolve(right(index))

    def _nodes_in_use(self) -> int:
        """The index after the last non-blank node; kept until the next change."""
        if self._used_width is None:
            end = len(self._nodes)
            while end and self._nodes[end - 1] is None:
                end -= 1
            self._used_width = end
        return self._used_width

    def filtered_direct_path(self, leaf_index: int) -> list[int]:
        """The direct path without nodes whose copath child resolves to nothing (§4.1.2)."""
        start = self._leaf_position(leaf_index)
        path = direct_path(start, self.leaf_count)
        siblings = copath(start, self.leaf_count)
        return [node for node, child in zip(path, siblings, strict=True) if self._resolve(child)]

    def copath_child(self, parent: int, leaf_index: int) -> int:
        """The child of ``parent`` whose subtree does not hold ``leaf_index``."""
        start = self._leaf_position(leaf_index)
        if parent == start or not is_in_subtree(start, parent):
            raise TreeMathError(f"node {parent} is not above leaf {leaf_index}")
        low, high = left(parent), right(parent)
        return high if is_in_subtree(start, low) else low

    # --- changes ----------------------------------------------------------------------

    def set_leaf(self, leaf_index: int, leaf: LeafNode) -> None:
        self._put(self._leaf_position(leaf_index), leaf)

    def set_parent(self, index: int, node: ParentNode) -> None:
        self.parent_node(index)  # checks that ``index`` is a parent position
        self._put(index, node)

    def blank(self, index: int) -> None:
        self._check_node(index)
        self._put(index, None)

    def blank_path(self, leaf_index: int) -> None:
        """Blank every parent on the leaf's direct path (§7.5 step 1, §12.1.2, §12.1.3)."""
        path = self.direct_path(leaf_index)
        for index in path:
            self._nodes[index] = None
        if path:
            self._changed(path[0])

    def add_leaf(self, leaf: LeafNode) -> int:
        """Place a new member (§12.1.1) and return its leaf index.

        The leftmost blank leaf is taken, else the tree is extended to the right (§7.7).
        The new leaf becomes unmerged at every non-blank parent on its direct path: it
        does not know their private keys yet. Unmerged leaves stay sorted (§7.1).
        """
        leaf_index = next(
            (i // 2 for i in range(0, len(self._nodes), 2) if self._nodes[i] is None),
            self.leaf_count,
        )
        if leaf_index == self.leaf_count:
            added = node_width(max(1, 2 * self.leaf_count)) - len(self._nodes)
            self._nodes.extend([None] * added)
            self._hash_cache.extend([None] * added)
        for index in self.direct_path(leaf_index):
            node = self._nodes[index]
            if isinstance(node, ParentNode):
                unmerged = tuple(sorted((*node.unmerged_leaves, leaf_index)))
                self._nodes[index] = dataclasses.replace(node, unmerged_leaves=unmerged)
        self._put(leaf_to_node(leaf_index), leaf)
        return leaf_index

    def update_leaf(self, leaf_index: int, leaf: LeafNode) -> None:
        """Replace a member's leaf and blank its direct path (§12.1.2)."""
        self.member(leaf_index)
        self.set_leaf(leaf_index, leaf)
        self.blank_path(leaf_index)

    def remove_leaf(self, leaf_index: int) -> None:
        """Remove a member (§12.1.3): blank its leaf and direct path, then truncate."""
        self.member(leaf_index)
        self._put(leaf_to_node(leaf_index), None)
        self.blank_path(leaf_index)
        self.truncate()

    def truncate(self) -> None:
        """Drop the right half while it holds no member (§7.7, §12.1.3)."""
        while self.leaf_count > 1:
            half = self.leaf_count // 2
            right_leaves = self._nodes[2 * half :: 2]
            if any(node is not None for node in right_leaves):
                return
            del self._nodes[node_width(half) :]
            del self._hash_cache[node_width(half) :]

    # --- structure (§12.4.3.1) ----------------------------------------------------------

    def check_unmerged_leaves(self) -> None:
        """Every unmerged leaf of a parent P is a member below P, listed once, and is also
        unmerged at each non-blank parent between it and P (§12.4.3.1)."""
        for index, node in self.parents():
            listed = node.unmerged_leaves
            if any(a >= b for a, b in pairwise(listed)):
                raise TreeShapeError(f"node {index} lists unmerged leaves out of order or twice")
            for leaf_index in node.unmerged_leaves:
                position = 2 * leaf_index
                if not (
                    position < len(self._nodes)
                    and is_in_subtree(position, index)
                    and self._nodes[position] is not None
                ):
                    raise TreeShapeError(
                        f"unmerged leaf {leaf_index} of node {index} is not a member below it"
                    )
                for between in direct_path(position, self.leaf_count):
                    if between == index:
                        break
                    middle = self._nodes[between]
                    if isinstance(middle, ParentNode) and leaf_index not in middle.unmerged_leaves:
                        raise TreeShapeError(
                            f"leaf {leaf_index} is unmerged at node {index} but not at {between}"
                        )

    # --- cached tree hashes ---------------------------------------------------------------

    def tree_hash_cache(self, suite_id: int) -> list[bytes | None]:
        """The tree hashes (§7.8) under suite ``suite_id`` known for this tree, by node
        index, ``None`` where unknown; :mod:`protocol.mls.tree_hash` reads and fills it.

        Every change to a node clears the entries of that node and of all its ancestors,
        the only hashes it changes, so an entry that is present is the hash of the subtree
        as it stands. Asking under another suite starts the cache afresh.
        """
        if self._hash_cache_key != suite_id:
            self._hash_cache = [None] * len(self._nodes)
            self._hash_cache_key = suite_id
        return self._hash_cache

    def _put(self, index: int, node: Node | None) -> None:
        self._nodes[index] = node
        self._changed(index)

    def _changed(self, index: int) -> None:
        """Forget what was derived from the nodes: the cached tree hashes of ``index`` and
        of its ancestors, and where the blank padding begins."""
        self._used_width = None
        cache = self._hash_cache
        cache[index] = None
        for above in direct_path(index, self.leaf_count):
            cache[above] = None

    # --- value behaviour ------------------------------------------------------------------

    def copy(self) -> RatchetTree:
        """An independent tree with the same nodes (the nodes themselves are immutable)."""
        twin = RatchetTree.__new__(RatchetTree)
        twin._nodes = list(self._nodes)
        twin._hash_cache = list(self._hash_cache)
        twin._hash_cache_key = self._hash_cache_key
        twin._used_width = self._used_width
        return twin

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, RatchetTree):
            return NotImplemented
        return self._nodes == other._nodes

    __hash__ = None  # type: ignore[assignment]  # mutable

    def __repr__(self) -> str:
        shown = "".join(
            "_" if node is None else ("L" if isinstance(node, LeafNode) else "P")
            for node in self._nodes
        )
        return f"RatchetTree({self.leaf_count} leaves: {shown})"

    # --- index checks ---------------------------------------------------------------------

    def _check_node(self, index: int) -> None:
        if not 0 <= index < len(self._nodes):
            raise TreeMathError(f"node {index} is outside a tree of {self.leaf_count} leaves")

    def _leaf_position(self, leaf_index: int) -> int:
        position = leaf_to_node(leaf_index)
        self._check_node(position)
        return position
