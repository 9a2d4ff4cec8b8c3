"""Ratchet trees with real keys and signatures, built the way members change them.

:class:`TreeBuilder` makes key package leaves, Update leaves and Commits whose public side
(new path keys, parent hashes, the committer's signed leaf) is what a committer would
produce; the path secrets themselves are not modelled, only fresh public keys.
"""

from __future__ import annotations

import dataclasses

from crypto.labels import sign_with_label
from crypto.signatures import SigningKey
from crypto.suites import cipher_suite
from protocol.mls.constants import CredentialType, LeafNodeSource
from protocol.mls.credentials import BasicCredential
from protocol.mls.leaf_node import Capabilities, LeafNode, Lifetime
from protocol.mls.parent_hash import apply_path_parent_hashes
from protocol.mls.ratchet_tree import RatchetTree
from protocol.mls.tree_nodes import ParentNode
from tests.helpers import DeterministicRandom

SUITE = cipher_suite(1)
GROUP_ID = b"case 0042"
CAPABILITIES = Capabilities(cipher_suites=(1,), credentials=(CredentialType.BASIC,))
FOREVER = Lifetime(not_before=0, not_after=2**64 - 1)


class TreeBuilder:
    """Leaves and commits from a seeded random source; remembers every signing key."""

    def __init__(self, seed: str = "ratchet tree tests") -> None:
        self.rng = DeterministicRandom(seed)
        self.signing_keys: dict[bytes, SigningKey] = {}

    def encryption_key(self) -> bytes:
        return SUITE.kem.generate_key_pair(self.rng)[1]

    def sign(
        self, leaf: LeafNode, group_id: bytes | None = None, leaf_index: int | None = None
    ) -> LeafNode:
        key = self.signing_keys[leaf.signature_key]
        signature = sign_with_label(SUITE, key, "LeafNodeTBS", leaf.tbs(group_id, leaf_index))
        return dataclasses.replace(leaf, signature=signature)

    def key_package_leaf(self, name: str, lifetime: Lifetime = FOREVER) -> LeafNode:
        key = SUITE.signature.generate(self.rng)
        self.signing_keys[key.public_key] = key
        leaf = LeafNode(
            encryption_key=self.encryption_key(),
            signature_key=key.public_key,
            credential=BasicCredential(identity=name.encode()),
            capabilities=CAPABILITIES,
            leaf_node_source=LeafNodeSource.KEY_PACKAGE,
            lifetime=lifetime,
        )
        return self.sign(leaf)

    def update_leaf(
        self, tree: RatchetTree, leaf_index: int, group_id: bytes = GROUP_ID
    ) -> LeafNode:
        """The member's leaf with a fresh encryption key, as an Update proposal carries it."""
        leaf = dataclasses.replace(
            tree.member(leaf_index),
            encryption_key=self.encryption_key(),
            leaf_node_source=LeafNodeSource.UPDATE,
            lifetime=None,
            parent_hash=None,
        )
        return self.sign(leaf, group_id, leaf_index)

    def commit(self, tree: RatchetTree, leaf_index: int, group_id: bytes = GROUP_ID) -> None:
        """Merge a full Commit's path from ``leaf_index`` into ``tree`` (§7.4, §7.5)."""
        old = tree.member(leaf_index)
        tree.blank_path(leaf_index)
        for index in tree.filtered_direct_path(leaf_index):
            tree.set_parent(index, ParentNode(encryption_key=self.encryption_key()))
        parent_hash = apply_path_parent_hashes(SUITE, tree, leaf_index)
        leaf = dataclasses.replace(
            old,
            encryption_key=self.encryption_key(),
            leaf_node_source=LeafNodeSource.COMMIT,
            lifetime=None,
            parent_hash=parent_hash,
        )
        tree.set_leaf(leaf_index, self.sign(leaf, group_id, leaf_index))

    def group(self, size: int, committer: int = 0) -> RatchetTree:
        """``size`` members added by key package, then one Commit from ``committer``."""
        tree = RatchetTree()
        for number in range(size):
            tree.add_leaf(self.key_package_leaf(f"member {number}"))
        self.commit(tree, committer)
        return tree
