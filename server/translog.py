"""The relay side of the transparency log (DESIGN.md §6, RFC 9162 via protocol.transparency).

Leaves are stored durably by the storage, in the same transaction as the credential or
revocation they record. This object keeps the Merkle state in memory: the compact log
(frontier) and the hash of every complete subtree, rebuilt from the stored leaves when the
relay starts and extended by the storage's after-commit hook, in log order. With that
table every root and proof costs O(log n) lookups (protocol.transparency's
``*_from_subtrees``). The table is 2n - 1 hashes of 32 bytes: about 64 MB per million
entries, far more credentials and revocations than a platform issues.

Tree heads are signed with the relay identity key, at most once per tree size, so every
client asking about one size gets the very same signed head.
"""

from __future__ import annotations

from crypto.signatures import SigningKey
from protocol.transparency import (
    CompactMerkleLog,
    ConsistencyProof,
    InclusionProof,
    SignedTreeHead,
    TreeRangeError,
    consistency_proof_from_subtrees,
    inclusion_proof_from_subtrees,
    leaf_hash,
    root_from_subtrees,
    sign_tree_head,
)


class TransparencyLog:
    """The Merkle view of the stored log."""

    def __init__(self, identity: SigningKey) -> None:
        self._identity = identity
        self._log = CompactMerkleLog()
        self._subtrees: dict[tuple[int, int], bytes] = {}
        self._heads: dict[int, SignedTreeHead] = {}

    @property
    def size(self) -> int:
        return self._log.tree_size

    def append(self, index: int, leaf: bytes) -> None:
        """Record leaf ``index``; leaves must come in order (the storage guarantees it)."""
        if index != self._log.tree_size:
            raise TreeRangeError(f"leaf {index} appended to a log of {self._log.tree_size}")
        appended = self._log.append(leaf_hash(leaf))
        self._log = appended.log
        self._subtrees.update(((s.level, s.index), s.hash) for s in appended.completed)

    def _lookup(self, level: int, index: int) -> bytes:
        return self._subtrees[level, index]

    def tree_head(self, now: int) -> SignedTreeHead:
        """The signed head of the log as it is now."""
        size = self._log.tree_size
        head = self._heads.get(size)
        if head is None:
            head = sign_tree_head(self._identity, self._log.tree_head(now))
            self._heads = {size: head}  # older sizes are answered by consistency proofs
        return head

    def root(self, tree_size: int) -> bytes:
        self._check(tree_size)
        return root_from_subtrees(self._lookup, tree_size)

    def inclusion(self, index: int, tree_size: int) -> InclusionProof:
        self._check(tree_size)
        path = inclusion_proof_from_subtrees(self._lookup, index, tree_size)
        return InclusionProof(leaf_index=index, tree_size=tree_size, path=path)

    def consistency(self, first_size: int, second_size: int) -> ConsistencyProof:
        self._check(second_size)
        path = consistency_proof_from_subtrees(self._lookup, first_size, second_size)
        return ConsistencyProof(first_size=first_size, second_size=second_size, path=path)

    def _check(self, tree_size: int) -> None:
        if not 0 <= tree_size <= self._log.tree_size:
            raise TreeRangeError(f"the log has {self._log.tree_size} leaves, not {tree_size}")
