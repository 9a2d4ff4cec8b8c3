"""RFC 9420 §7.5–§7.6, §12.4.1–§12.4.3: TreeKEM, which turns one member's fresh secret into
the commit secret of a new epoch that every other member can decrypt, and nobody else.

A committer replaces the keys on its filtered direct path and encrypts each node's path
secret to the resolution of the node's copath child: whoever sits below that child can
decrypt exactly one ciphertext, and derives the rest of the path from it (§7.4,
:mod:`protocol.mls.tree_keys`)::

    committer C                              receiver R (below the copath child of P)
    blank direct path, set new keys          check the UpdatePath's shape, merge its keys
    parent hashes top down, sign leaf        parent hashes top down, compare with the leaf
    tree hash -> provisional GroupContext    tree hash -> provisional GroupContext
    Enc(pk(X), path_secret[P]) for X in  ->  decrypt at P = lowest common ancestor of C, R,
      resolution(copath child of P)          derive the path above, compare public keys

Three entry points: :func:`create_update_path` (committer), :func:`process_update_path`
(members) and :func:`join_path_keys` (a new member with the path secret of its common
ancestor with the committer, from a Welcome). Each works along one path: O(log n) key
derivations, one HPKE operation per resolution node (committer) or one in all (receiver),
and a single pass over the rest of the tree, for its tree hash (:mod:`protocol.mls.path_merge`).

Randomness and the GroupContext come from the caller. The provisional GroupContext holds
the new tree hash, while its epoch and extensions are the commit's business, so the caller
passes a function from the tree hash to the serialized context (§12.4.1, §12.4.2).

The ``tree`` passed in is changed in place: pass the staged copy of a commit, never the
tree of the current epoch. The §7.3 checks of a received leaf (its signature with the group
id and leaf index, lifetime, capabilities) are the caller's, before processing.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field

from crypto.hpke import HpkePrivateKey
from crypto.labels import decrypt_with_label, encrypt_with_label, sign_with_label
from crypto.random import RandomSource
from crypto.signatures import SigningKey
from crypto.suites import CipherSuite
from protocol.errors import InternalError
from protocol.mls.constants import LeafNodeSource
from protocol.mls.key_schedule import CommitSecret
from protocol.mls.leaf_node import LeafNode
from protocol.mls.leaf_validation import check_source
from protocol.mls.parent_hash import ParentHashError
from protocol.mls.path_merge import check_fresh_path_keys, merge_path_keys
from protocol.mls.ratchet_tree import RatchetTree
from protocol.mls.tree_keys import (
    PathNodeKey,
    PrivateKeyMismatchError,
    TreeKemError,
    TreePrivateKeys,
    commit_secret_after,
    derive_path,
    next_path_secret,
    node_key_pair,
)
from protocol.mls.tree_math import common_ancestor, is_in_subtree, leaf_to_node
from protocol.mls.tree_nodes import HPKECiphertext, UpdatePath, UpdatePathNode

UPDATE_PATH_LABEL = "UpdatePathNode"
LEAF_SIGNATURE_LABEL = "LeafNodeTBS"

ProvisionalContext = Callable[[bytes], bytes]
"""Tree hash of the new tree → the serialized provisional GroupContext (§12.4.1)."""


class UpdatePathShapeError(TreeKemError):
    """The UpdatePath has the wrong number of nodes for the sender's filtered direct path,
    or a node has the wrong number of ciphertexts for its copath resolution (§7.6)."""

    code = "update_path_shape"


class NoPathKeyError(TreeKemError):
    """The receiver holds no private key for any ciphertext meant for it."""

    code = "no_path_key"


class PathKeyMismatchError(TreeKemError):
    """A public key derived from a path secret differs from the key the path or tree has."""

    code = "path_key_mismatch"


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class CreatedUpdatePath:
    """A committer's UpdatePath with what the commit needs next.

    ``path_secrets`` maps each node of the filtered direct path to its path secret, for
    the Welcome (:meth:`welcome_path_secret`); ``private_keys`` are the committer's keys
    in the new epoch; ``tree_hash`` is the hash of the tree as changed in place. Drop the
    object once the Welcome is built: §7.5 wants path secrets deleted after use.
    """

    committer: int
    update_path: UpdatePath
    commit_secret: CommitSecret = field(repr=False)
    private_keys: TreePrivateKeys
    tree_hash: bytes
    group_context: bytes
    path_secrets: Mapping[int, bytes] = field(repr=False)

    def welcome_path_secret(self, joiner: int) -> bytes:
        """The path secret of the lowest common ancestor of ``joiner``'s leaf and the
        committer's, for the joiner's GroupSecrets (§12.4.3.1)."""
        ancestor = common_ancestor(leaf_to_node(joiner), leaf_to_node(self.committer))
        secret = self.path_secrets.get(ancestor) if joiner != self.committer else None
        if secret is None:
            raise ValueError(f"leaf {joiner} shares no updated node with the committer")
        return secret


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class ProcessedUpdatePath:
    """A received UpdatePath, merged and decrypted.

    ``path_secret`` is the secret decrypted at ``common_ancestor`` (the lowest node of the
    sender's filtered direct path above the receiver); ``private_keys`` are the receiver's
    keys in the new epoch; ``tree_hash`` is the hash of the tree as changed in place. Once the
    key schedule has run, keep only ``private_keys``: §7.5 wants path secrets deleted.
    """

    commit_secret: CommitSecret = field(repr=False)
    private_keys: TreePrivateKeys
    tree_hash: bytes
    group_context: bytes
    common_ancestor: int
    path_secret: bytes = field(repr=False)


# --- committer (§7.4, §7.5, §12.4.1) --------------------------------------------------------


def create_update_path(
    suite: CipherSuite,
    tree: RatchetTree,
    committer: int,
    *,
    leaf: LeafNode,
    signing_key: SigningKey,
    group_id: bytes,
    provisional_context: ProvisionalContext,
    rng: RandomSource,
    new_leaves: Collection[int] = (),
) -> CreatedUpdatePath:
    """Give ``committer`` a new leaf key and new path keys in ``tree``; encrypt the path.

    ``leaf`` supplies the new leaf's credential, capabilities, extensions and signature
    key; its encryption key, source, parent hash and signature are replaced, and it is
    signed by ``signing_key`` for ``group_id`` at ``committer``. ``new_leaves`` are the
    leaves added by the same commit: they get no ciphertext (§7.6), but the Welcome path
    secret instead. The one random draw is the leaf secret; path_secret[0] is derived from
    it as in Figure 14, and the leaf key from its node secret.

    For an external commit (§12.4.3.2), ``committer`` is the blank leaf the joiner takes
    (the leftmost, the tree extended by the caller if it has none), and ``leaf`` is the
    joiner's own leaf; receivers pass the same blank position as ``sender``.
    """
    if signing_key.public_key != leaf.signature_key:
        raise ValueError("the signing key is not the leaf's signature key")
    leaf_secret = rng.random_bytes(suite.hash_size)
    if len(leaf_secret) != suite.hash_size:
        raise ValueError("the random source returned the wrong number of bytes")
    leaf_private, leaf_public = node_key_pair(suite, leaf_secret)

    filtered = tree.filtered_direct_path(committer)
    path = derive_path(suite, next_path_secret(suite, leaf_secret), filtered)
    merged = merge_path_keys(suite, tree, committer, filtered, [p.public_key for p in path])

    new_leaf = dataclasses.replace(
        leaf,
        encryption_key=leaf_public,
        leaf_node_source=LeafNodeSource.COMMIT,
        lifetime=None,
        parent_hash=merged.leaf_parent_hash,
        signature=b"",
    )
    tbs = new_leaf.tbs(group_id, committer)
    new_leaf = dataclasses.replace(
        new_leaf, signature=sign_with_label(suite, signing_key, LEAF_SIGNATURE_LABEL, tbs)
    )
    tree.set_leaf(committer, new_leaf)
    tree_hash = merged.tree_hash(suite, tree)
    context = provisional_context(tree_hash)

    nodes = tuple(
        UpdatePathNode(
            encryption_key=entry.public_key,
            encrypted_path_secret=tuple(
                _encrypt(suite, _resolved_key(tree, target), context, entry.path_secret, rng)
                for target in tree.resolution(
                    tree.copath_child(entry.node, committer), exclude_leaves=new_leaves
                )
            ),
        )
        for entry in path
    )
    last_secret = path[-1].path_secret if path else leaf_secret
    return CreatedUpdatePath(
        committer=committer,
        update_path=UpdatePath(leaf_node=new_leaf, nodes=nodes),
        commit_secret=commit_secret_after(suite, last_secret),
        private_keys=TreePrivateKeys.for_leaf(committer, leaf_private).with_path((), path),
        tree_hash=tree_hash,
        group_context=context,
        path_secrets={entry.node: entry.path_secret for entry in path},
    )


# --- receiver (§7.5, §12.4.2) ---------------------------------------------------------------


def process_update_path(
    suite: CipherSuite,
    tree: RatchetTree,
    sender: int,
    update_path: UpdatePath,
    private_keys: TreePrivateKeys,
    *,
    provisional_context: ProvisionalContext,
    new_leaves: Collection[int] = (),
) -> ProcessedUpdatePath:
    """Merge ``sender``'s UpdatePath into ``tree`` and decrypt it with ``private_keys``.

    ``new_leaves`` are the leaves the same commit added (excluded from the resolutions).
    Raises a :class:`TreeKemError` subclass (shape, key reuse, no usable key, derived key
    mismatch), :class:`~protocol.mls.parent_hash.ParentHashError` if the leaf's parent hash
    does not match its path, ``LeafSourceError`` if the leaf is not a commit leaf, and
    ``InvalidTagError`` if the ciphertext does not open under the provisional context.
    """
    receiver = private_keys.leaf_index
    if receiver == sender or receiver in new_leaves:
        raise TreeKemError(f"leaf {receiver} cannot process an UpdatePath from {sender}")
    check_source(update_path.leaf_node, LeafNodeSource.COMMIT)
    filtered = tree.filtered_direct_path(sender)
    if len(update_path.nodes) != len(filtered):
        raise UpdatePathShapeError(
            f"the UpdatePath has {len(update_path.nodes)} nodes, the filtered direct path "
            f"of leaf {sender} has {len(filtered)}"
        )
    resolutions = [
        tree.resolution(tree.copath_child(node, sender), exclude_leaves=new_leaves)
        for node in filtered
    ]
    for node, resolution, path_node in zip(filtered, resolutions, update_path.nodes, strict=True):
        if len(path_node.encrypted_path_secret) != len(resolution):
            raise UpdatePathShapeError(
                f"node {node} carries {len(path_node.encrypted_path_secret)} ciphertexts "
                f"for a resolution of {len(resolution)}"
            )
    check_fresh_path_keys(tree, update_path)

    merged = merge_path_keys(
        suite, tree, sender, filtered, [path_node.encryption_key for path_node in update_path.nodes]
    )
    tree.set_leaf(sender, update_path.leaf_node)
    if update_path.leaf_node.parent_hash != merged.leaf_parent_hash:
        raise ParentHashError(f"leaf {sender} does not carry its path's parent hash")
    tree_hash = merged.tree_hash(suite, tree)
    context = provisional_context(tree_hash)

    position = _covering_position(filtered, receiver)
    resolution = resolutions[position]
    index, key = _held_key(tree, resolution, private_keys)
    ciphertext = update_path.nodes[position].encrypted_path_secret[index]
    path_secret = decrypt_with_label(
        suite, key, UPDATE_PATH_LABEL, context, ciphertext.kem_output, ciphertext.ciphertext
    )
    derived = derive_path(suite, path_secret, filtered[position:])
    _check_derived(derived, [n.encryption_key for n in update_path.nodes[position:]])
    return ProcessedUpdatePath(
        commit_secret=commit_secret_after(suite, derived[-1].path_secret),
        private_keys=private_keys.with_path(tree.direct_path(sender), derived),
        tree_hash=tree_hash,
        group_context=context,
        common_ancestor=filtered[position],
        path_secret=path_secret,
    )


# --- joiner (§12.4.3.1) -------------------------------------------------------------------


def join_path_keys(
    suite: CipherSuite,
    tree: RatchetTree,
    joiner: int,
    *,
    committer: int,
    leaf_private_key: HpkePrivateKey,
    path_secret: bytes | None,
) -> TreePrivateKeys:
    """A new member's keys: its leaf key, and the keys derived from the Welcome's path
    secret at the lowest common ancestor with ``committer`` (the GroupInfo signer) up to
    the root along the committer's filtered direct path, each checked against ``tree``.

    Raises :class:`PrivateKeyMismatchError` if the leaf key is not the tree's key for
    ``joiner``, and :class:`PathKeyMismatchError` if a derived key is not in the tree.
    """
    keys = TreePrivateKeys.for_leaf(joiner, leaf_private_key)
    if keys.key_for(leaf_to_node(joiner), tree.member(joiner).encryption_key) is None:
        raise PrivateKeyMismatchError(f"the leaf key is not the tree's key for leaf {joiner}")
    if path_secret is None:
        return keys
    if joiner == committer:
        raise TreeKemError(f"leaf {joiner} cannot join by its own path")
    ancestor = common_ancestor(leaf_to_node(joiner), leaf_to_node(committer))
    filtered = tree.filtered_direct_path(committer)
    if ancestor not in filtered:
        raise PathKeyMismatchError(
            f"node {ancestor} is not on the filtered direct path of leaf {committer}"
        )
    derived = derive_path(suite, path_secret, filtered[filtered.index(ancestor) :])
    _check_derived(derived, [_public_key(tree, entry.node) for entry in derived])
    return keys.with_path((), derived)


# --- shared steps -------------------------------------------------------------------------


def _covering_position(filtered: Sequence[int], receiver: int) -> int:
    """Index in the filtered path of the lowest node above the receiver's leaf."""
    leaf_node = leaf_to_node(receiver)
    for position, node in enumerate(filtered):
        if is_in_subtree(leaf_node, node):
            return position
    raise NoPathKeyError(f"no node of the UpdatePath is above leaf {receiver}")


def _held_key(
    tree: RatchetTree, resolution: Sequence[int], private_keys: TreePrivateKeys
) -> tuple[int, HpkePrivateKey]:
    """The position in ``resolution`` of a node whose private key the receiver holds."""
    for index, node in enumerate(resolution):
        public_key = _public_key(tree, node)
        key = None if public_key is None else private_keys.key_for(node, public_key)
        if key is not None:
            return index, key
    raise NoPathKeyError(
        f"leaf {private_keys.leaf_index} holds no key for the {len(resolution)} nodes "
        "its ciphertexts are encrypted to"
    )


def _check_derived(derived: Sequence[PathNodeKey], public_keys: Sequence[bytes | None]) -> None:
    """Each derived public key must be the one given (§7.5 step 6); ``None`` never is."""
    for entry, public_key in zip(derived, public_keys, strict=True):
        if entry.public_key != public_key:
            raise PathKeyMismatchError(
                f"the key derived for node {entry.node} is not the node's public key"
            )


def _public_key(tree: RatchetTree, index: int) -> bytes | None:
    node = tree.node(index)
    return None if node is None else node.encryption_key


def _resolved_key(tree: RatchetTree, index: int) -> bytes:
    public_key = _public_key(tree, index)
    if public_key is None:  # a resolution holds non-blank nodes only
        raise InternalError(f"node {index} of a resolution is blank")
    return public_key


def _encrypt(
    suite: CipherSuite, public_key: bytes, context: bytes, path_secret: bytes, rng: RandomSource
) -> HPKECiphertext:
    sealed = encrypt_with_label(suite, public_key, UPDATE_PATH_LABEL, context, path_secret, rng)
    return HPKECiphertext(kem_output=sealed.kem_output, ciphertext=sealed.ciphertext)
