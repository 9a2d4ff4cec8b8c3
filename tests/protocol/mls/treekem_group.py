"""Members of one group who each hold their own TreeKEM keys, for TreeKEM tests.

:class:`TreeKemGroup` keeps the agreed public tree and, per member, the private keys and
signing key; :meth:`TreeKemGroup.commit` has one member create an UpdatePath (optionally
adding members in the same commit), every other member process it from the wire, and the
new members join with their Welcome path secret. Every step checks that everybody ends up
with the same tree, the same tree hash and commit secret, and keys that match the tree.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from crypto.hpke import HpkePrivateKey
from crypto.labels import sign_with_label
from crypto.signatures import SigningKey
from crypto.suites import CipherSuite
from protocol.mls.constants import CredentialType, LeafNodeSource
from protocol.mls.credentials import BasicCredential
from protocol.mls.group_context import GroupContext
from protocol.mls.leaf_node import Capabilities, LeafNode, Lifetime
from protocol.mls.leaf_validation import verify_leaf_signature
from protocol.mls.parent_hash import verify_parent_hashes
from protocol.mls.ratchet_tree import RatchetTree
from protocol.mls.tree_hash import tree_hash
from protocol.mls.tree_keys import TreePrivateKeys
from protocol.mls.tree_nodes import UpdatePath
from protocol.mls.treekem import (
    CreatedUpdatePath,
    create_update_path,
    join_path_keys,
    process_update_path,
)
from tests.helpers import DeterministicRandom

GROUP_ID = b"case 0042"
CONFIRMED_TRANSCRIPT_HASH = b"\x5a" * 32


@dataclass
class Device:
    """One member's secrets: the leaf's signing key and the TreeKEM private keys."""

    signing_key: SigningKey
    keys: TreePrivateKeys


@dataclass(frozen=True)
class KeyPackageLeaf:
    """A leaf as a key package carries it, with the private keys behind it."""

    leaf: LeafNode
    encryption_key: HpkePrivateKey
    signing_key: SigningKey


class TreeKemGroup:
    """A public tree and the devices at its leaves; ``epoch`` counts commits."""

    def __init__(self, suite: CipherSuite, seed: str = "treekem group") -> None:
        self.suite = suite
        self.rng = DeterministicRandom(seed)
        self.epoch = 0
        self.tree = RatchetTree()
        self.devices: dict[int, Device] = {}
        founder = self.key_package_leaf("founder")
        index = self.tree.add_leaf(founder.leaf)
        self.devices[index] = Device(
            founder.signing_key, TreePrivateKeys.for_leaf(index, founder.encryption_key)
        )

    # --- building blocks ---------------------------------------------------------------------

    def key_package_leaf(self, name: str) -> KeyPackageLeaf:
        suite = self.suite
        signing_key = suite.signature.generate(self.rng)
        encryption_key, public = suite.kem.generate_key_pair(self.rng)
        leaf = LeafNode(
            encryption_key=public,
            signature_key=signing_key.public_key,
            credential=BasicCredential(identity=name.encode()),
            capabilities=Capabilities(
                cipher_suites=(suite.suite_id,), credentials=(CredentialType.BASIC,)
            ),
            leaf_node_source=LeafNodeSource.KEY_PACKAGE,
            lifetime=Lifetime(not_before=0, not_after=2**64 - 1),
        )
        signature = sign_with_label(suite, signing_key, "LeafNodeTBS", leaf.tbs())
        return KeyPackageLeaf(
            dataclasses.replace(leaf, signature=signature), encryption_key, signing_key
        )

    def provisional_context(self, new_tree_hash: bytes) -> bytes:
        """The next epoch's GroupContext with ``new_tree_hash`` (no extension changes)."""
        return GroupContext(
            cipher_suite=self.suite.suite_id,
            group_id=GROUP_ID,
            epoch=self.epoch + 1,
            tree_hash=new_tree_hash,
            confirmed_transcript_hash=CONFIRMED_TRANSCRIPT_HASH,
        ).to_bytes()

    def staged_with(self, joiners: list[KeyPackageLeaf]) -> tuple[RatchetTree, list[int]]:
        """A copy of the tree with the joiners' leaves added, as every member applies Adds."""
        staged = self.tree.copy()
        return staged, [staged.add_leaf(joiner.leaf) for joiner in joiners]

    def create(
        self, committer: int, joiners: list[KeyPackageLeaf] | None = None
    ) -> tuple[RatchetTree, list[int], CreatedUpdatePath]:
        """The committer's side only: staged tree, new leaves and the created path."""
        staged, new_leaves = self.staged_with(joiners or [])
        device = self.devices[committer]
        created = create_update_path(
            self.suite,
            staged,
            committer,
            leaf=staged.member(committer),
            signing_key=device.signing_key,
            group_id=GROUP_ID,
            provisional_context=self.provisional_context,
            rng=self.rng,
            new_leaves=new_leaves,
        )
        return staged, new_leaves, created

    # --- whole commits -----------------------------------------------------------------------

    def add_without_path(self, count: int) -> list[int]:
        """Members added by a commit with no path: unmerged leaves, keys from their leaf."""
        joiners = [self.key_package_leaf(f"quiet {len(self.devices) + n}") for n in range(count)]
        self.tree, new_leaves = self.staged_with(joiners)
        for index, joiner in zip(new_leaves, joiners, strict=True):
            keys = join_path_keys(
                self.suite,
                self.tree,
                index,
                committer=min(self.devices),
                leaf_private_key=joiner.encryption_key,
                path_secret=None,
            )
            self.devices[index] = Device(joiner.signing_key, keys)
        self.epoch += 1
        return new_leaves

    def remove(self, leaf_index: int) -> None:
        """A Remove (applied without a path here): the others forget blanked nodes' keys."""
        self.tree.remove_leaf(leaf_index)
        del self.devices[leaf_index]
        for device in self.devices.values():
            device.keys = device.keys.retained_in(self.tree)
            device.keys.check_against(self.tree)

    def commit(self, committer: int, adds: int = 0) -> CreatedUpdatePath:
        """A full commit from ``committer`` adding ``adds`` members, processed by all."""
        suite = self.suite
        joiners = [self.key_package_leaf(f"member {len(self.devices) + n}") for n in range(adds)]
        staged, new_leaves, created = self.create(committer, joiners)
        wire = UpdatePath.from_bytes(created.update_path.to_bytes())
        verify_leaf_signature(suite, wire.leaf_node, group_id=GROUP_ID, leaf_index=committer)
        verify_parent_hashes(suite, staged)
        assert created.tree_hash == tree_hash(suite, staged)

        for index, device in self.devices.items():
            if index == committer:
                continue
            received, _ = self.staged_with(joiners)
            result = process_update_path(
                suite,
                received,
                committer,
                wire,
                device.keys,
                provisional_context=self.provisional_context,
                new_leaves=new_leaves,
            )
            assert received == staged
            assert result.tree_hash == created.tree_hash
            assert result.group_context == created.group_context
            assert result.commit_secret.value == created.commit_secret.value
            assert result.path_secret == created.path_secrets[result.common_ancestor]
            result.private_keys.check_against(staged)
            device.keys = result.private_keys

        for index, joiner in zip(new_leaves, joiners, strict=True):
            keys = join_path_keys(
                suite,
                staged,
                index,
                committer=committer,
                leaf_private_key=joiner.encryption_key,
                path_secret=created.welcome_path_secret(index),
            )
            keys.check_against(staged)
            self.devices[index] = Device(joiner.signing_key, keys)

        created.private_keys.check_against(staged)
        self.devices[committer].keys = created.private_keys
        self.tree = staged
        self.epoch += 1
        return created
