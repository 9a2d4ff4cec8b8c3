"""RFC 9420 §7.5 (merging an UpdatePath), §7.8, §7.9: the public side of a commit's path,
worked out along that path only.

Committer and receivers change the public tree the same way: blank the sender's direct
path, put the new keys on its filtered direct path with no unmerged leaves, and chain the
parent hashes from the root down to the sender's leaf. The new GroupContext then needs the
tree hash of the changed tree::

                 P2   <- ph(P2) = H(key2, "",     th(S2))
               /    \\
             P1      S2   <- ph(P1) = H(key1, ph(P2), th(S1));  leaf.parent_hash = ph(P1)
            /  \\
          L     S1        th(root) from th(L), th(S1), th(S2) and the new P1, P2

The subtrees S hanging off the path are not touched, so their tree hashes are computed
once, before the merge, and serve both the parent hashes (a fresh node has no unmerged
leaves, so its original sibling tree hash is the plain tree hash of S) and the new root
hash, for which only the leaf and its direct path are hashed again. That one pass over the
copath subtrees is the only work proportional to the group's size.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from crypto.suites import CipherSuite
from protocol.mls.parent_hash import parent_hash
from protocol.mls.ratchet_tree import RatchetTree
from protocol.mls.tree_hash import parent_tree_hash, subtree_hash
from protocol.mls.tree_keys import TreeKemError
from protocol.mls.tree_math import copath, direct_path, leaf_to_node, sibling
from protocol.mls.tree_nodes import ParentNode, UpdatePath


class PathKeyReuseError(TreeKemError):
    """A public key in the UpdatePath is already in the tree, or appears twice (§12.4.2)."""

    code = "path_key_reuse"


@dataclass(frozen=True, slots=True)
class MergedPath:
    """What merging a path's keys leaves for the next steps: the parent hash the sender's
    leaf must carry, and the tree hashes of the copath subtrees."""

    leaf_index: int
    leaf_parent_hash: bytes
    copath_hashes: Mapping[int, bytes]

    def tree_hash(self, suite: CipherSuite, tree: RatchetTree) -> bytes:
        """The root's tree hash once the sender's new leaf is in place (§7.8): the leaf and
        its direct path are hashed again, every other subtree hash is reused."""
        node = leaf_to_node(self.leaf_index)
        current = subtree_hash(suite, tree, node)  # a leaf: one hash, no recursion
        for above in direct_path(node, tree.leaf_count):
            other = self.copath_hashes[sibling(node, tree.leaf_count)]
            low, high = (current, other) if node < above else (other, current)
            current = parent_tree_hash(suite, tree.parent_node(above), low, high)
            node = above
        return current


def merge_path_keys(
    suite: CipherSuite,
    tree: RatchetTree,
    leaf_index: int,
    filtered: Sequence[int],
    public_keys: Sequence[bytes],
) -> MergedPath:
    """§7.5 merge, steps 1–3, in place: blank the direct path of ``leaf_index``, give each
    node of its filtered direct path ``filtered`` the matching key of ``public_keys`` and
    no unmerged leaves, and fill in the parent hashes from the root down."""
    if len(filtered) != len(public_keys):
        raise ValueError("one public key per node of the filtered direct path is needed")
    leaf_node = leaf_to_node(leaf_index)
    copath_hashes = {
        node: subtree_hash(suite, tree, node) for node in copath(leaf_node, tree.leaf_count)
    }
    tree.blank_path(leaf_index)
    above = b""
    for node, public_key in reversed(list(zip(filtered, public_keys, strict=True))):
        tree.set_parent(node, ParentNode(encryption_key=public_key, parent_hash=above))
        child = tree.copath_child(node, leaf_index)
        above = parent_hash(suite, public_key, above, copath_hashes[child])
    return MergedPath(leaf_index, above, copath_hashes)


def check_fresh_path_keys(tree: RatchetTree, update_path: UpdatePath) -> None:
    """No public key of ``update_path`` (leaf or parent) is in ``tree`` already, and none
    is used twice in the path (§12.4.2). One scan of the tree's nodes, no hashing."""
    keys = [update_path.leaf_node.encryption_key, *(n.encryption_key for n in update_path.nodes)]
    fresh = set(keys)
    if len(fresh) != len(keys):
        raise PathKeyReuseError("the UpdatePath uses one public key twice")
    for index, node in enumerate(tree.nodes):
        if node is not None and node.encryption_key in fresh:
            raise PathKeyReuseError(f"an UpdatePath key is already used by node {index}")
