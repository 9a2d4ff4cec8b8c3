"""RFC 9420 §12.4.3.1: verifying the integrity of a ratchet tree one did not build oneself.

A joiner gets the tree from a Welcome's ratchet_tree extension or from the relay; neither is
trusted. Before the tree is used it must match the group's tree hash and be internally
consistent, in this order (cheap and structural first, signatures last)::

    tree hash       root tree hash = GroupContext.tree_hash                 (§7.8)
    tree shape      unmerged leaves are members below, listed on the way up (§12.4.3.1)
    duplicate keys  no encryption key twice, no signature key twice         (§7.3)
    parent hashes   every non-blank parent is parent-hash valid             (§7.9.2)
    leaves          valid public keys, signature in place, lifetime,        (§7.3)
                    capabilities, credentials

Each failure is the typed error of the module that owns the check.
"""

from __future__ import annotations

from crypto.suites import CipherSuite
from protocol.mls.extensions import RequiredCapabilities
from protocol.mls.leaf_validation import (
    CredentialSupport,
    Now,
    check_tree_keys_unique,
    validate_leaf_node,
)
from protocol.mls.parent_hash import verify_parent_hashes
from protocol.mls.ratchet_tree import RatchetTree
from protocol.mls.tree_hash import check_tree_hash


def verify_ratchet_tree(
    suite: CipherSuite,
    tree: RatchetTree,
    *,
    group_id: bytes,
    tree_hash: bytes,
    now: Now,
    required: RequiredCapabilities | None = None,
    max_lifetime: int | None = None,
) -> None:
    """Raise a typed :class:`~protocol.errors.ValidationError` unless ``tree`` is the
    group's tree and every node in it checks out."""
    check_tree_hash(suite, tree, tree_hash)
    tree.check_unmerged_leaves()
    check_tree_keys_unique(tree)
    verify_parent_hashes(suite, tree)
    verify_leaves(
        suite, tree, group_id=group_id, now=now, required=required, max_lifetime=max_lifetime
    )


def verify_leaves(
    suite: CipherSuite,
    tree: RatchetTree,
    *,
    group_id: bytes,
    now: Now,
    required: RequiredCapabilities | None = None,
    max_lifetime: int | None = None,
) -> None:
    """The §7.3 checks of every member's leaf in place: its public keys, its signature at
    its own index, its lifetime, its capabilities, and credential compatibility with the
    others. A tree holds leaves of every source, so each is checked against its own; key
    uniqueness is checked for the whole tree at once (:func:`check_tree_keys_unique`), and
    credential compatibility from one count of the members' types (:class:`CredentialSupport`)."""
    support = CredentialSupport(tree)
    for index, leaf in tree.members():
        validate_leaf_node(
            suite,
            leaf,
            source=leaf.leaf_node_source,
            now=now,
            group_id=group_id,
            leaf_index=index,
            required=required,
            max_lifetime=max_lifetime,
        )
        support.check(leaf, index)
