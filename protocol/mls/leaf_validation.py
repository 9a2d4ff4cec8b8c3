"""RFC 9420 §7.3: the checks a leaf node must pass before it enters (or stays in) a tree.

A leaf arrives in a KeyPackage (Add), an Update proposal, a Commit's UpdatePath, or a tree
a joiner is handed. Each check is a function that raises a :class:`LeafNodeError` subclass
with a stable code; :func:`validate_leaf_node` runs the ones that need nothing beyond what
is passed in:

    leaf_key           encryption_key a public key of the suite's KEM (no low-order or
                       off-curve point), signature_key one of its signature scheme
    leaf_signature     SignWithLabel(., "LeafNodeTBS", LeafNodeTBS) by signature_key; the
                       TBS binds group_id and leaf_index for update and commit leaves
    leaf_source        leaf_node_source is what the carrying message implies
    lifetime           not_before <= now <= not_after, and not_after - not_before at most
                       the application's maximum (key package leaves only)
    leaf_capabilities  the leaf lists its own credential type and every non-default
                       extension it carries; the group's required capabilities
    leaf_capabilities  credential types compatible with every other member (given a tree)
    duplicate_key      encryption and signature keys unique in the tree (given a tree)

Checking what the credential asserts (§5.3.1) is the Authentication Service's job and is
left to the caller. Time is an input: ``now`` is seconds since the Unix epoch, or
:attr:`LifetimeCheck.SKIP` where a lapsed lifetime is expected — the published test
vectors, whose key packages expired long ago, and nothing else.
"""

from __future__ import annotations

import enum
from collections import Counter
from typing import Literal

from crypto.errors import CryptoError, InvalidKeyError
from crypto.labels import verify_with_label
from crypto.suites import CipherSuite
from protocol.errors import ValidationError
from protocol.mls.constants import (
    DEFAULT_EXTENSION_TYPES,
    DEFAULT_PROPOSAL_TYPES,
    LeafNodeSource,
)
from protocol.mls.extensions import RequiredCapabilities
from protocol.mls.leaf_node import LeafNode, Lifetime
from protocol.mls.ratchet_tree import RatchetTree
from protocol.mls.tree_nodes import ParentNode


class LeafNodeError(ValidationError):
    """A leaf node fails a check of §7.3."""

    code = "leaf_node"


class LeafKeyError(LeafNodeError):
    """The leaf's encryption or signature key is not a valid public key of the suite."""

    code = "leaf_key"


class LeafSignatureError(LeafNodeError):
    """The leaf's signature does not verify under its own signature key in this place."""

    code = "leaf_signature"


class LeafSourceError(LeafNodeError):
    """The leaf's leaf_node_source is not the one its carrier requires."""

    code = "leaf_source"


class LifetimeError(LeafNodeError):
    """The leaf is used outside its lifetime, or its lifetime is longer than allowed."""

    code = "lifetime"


class LeafCapabilitiesError(LeafNodeError):
    """The leaf does not support what it uses, what the group requires, or what others use."""

    code = "leaf_capabilities"


class DuplicateKeyError(LeafNodeError):
    """An encryption or signature key appears twice in the tree."""

    code = "duplicate_key"


class LifetimeCheck(enum.Enum):
    """Pass ``LifetimeCheck.SKIP`` as ``now`` to leave lifetimes unchecked (vectors only)."""

    SKIP = "skip"


Now = int | Literal[LifetimeCheck.SKIP]


def check_leaf_keys(suite: CipherSuite, leaf: LeafNode, leaf_index: int | None = None) -> None:
    """The leaf's ``encryption_key`` is a public key of ``suite.kem`` (for X25519 and X448
    not of low order, for the NIST curves on the curve) and its ``signature_key`` a public
    key of ``suite.signature``: nobody can encrypt to, or be verified by, anything else."""
    _check_encryption_key(suite, leaf, leaf_index)
    try:
        suite.signature.validate_public_key(leaf.signature_key)
    except InvalidKeyError as exc:
        raise _signature_key_error(exc, leaf_index) from exc


def verify_leaf_signature(
    suite: CipherSuite,
    leaf: LeafNode,
    *,
    group_id: bytes | None = None,
    leaf_index: int | None = None,
) -> None:
    """Verify the leaf's signature (§7.2); update and commit leaves need their group's id
    and their leaf index, key package leaves take neither."""
    try:
        _verify_signature(suite, leaf, group_id, leaf_index)
    except CryptoError as exc:
        raise _signature_error(leaf_index) from exc


def _check_encryption_key(suite: CipherSuite, leaf: LeafNode, leaf_index: int | None) -> None:
    try:
        suite.kem.validate_public_key(leaf.encryption_key)
    except InvalidKeyError as exc:
        raise LeafKeyError(
            f"the encryption_key of {_where(leaf_index)} is not a valid public key: {exc}"
        ) from exc


def _verify_signature(
    suite: CipherSuite, leaf: LeafNode, group_id: bytes | None, leaf_index: int | None
) -> None:
    """Verify the signature over the leaf's TBS; the signature scheme raises
    ``InvalidKeyError`` for a signature key it would not validate, before it looks at the
    signature, and ``InvalidSignatureError`` for a signature that does not hold."""
    if leaf.leaf_node_source == LeafNodeSource.KEY_PACKAGE:
        tbs = leaf.tbs()
    elif group_id is None or leaf_index is None:
        raise LeafSourceError("a leaf signed in a group was presented without its group")
    else:
        tbs = leaf.tbs(group_id, leaf_index)
    verify_with_label(suite, leaf.signature_key, "LeafNodeTBS", tbs, leaf.signature)


def _signature_key_error(exc: InvalidKeyError, leaf_index: int | None) -> LeafKeyError:
    return LeafKeyError(
        f"the signature_key of {_where(leaf_index)} is not a valid public key: {exc}"
    )


def _signature_error(leaf_index: int | None) -> LeafSignatureError:
    return LeafSignatureError(f"the signature of {_where(leaf_index)} does not verify")


def _where(leaf_index: int | None) -> str:
    return f"leaf {leaf_index}" if leaf_index is not None else "the leaf node"


def check_source(leaf: LeafNode, expected: LeafNodeSource) -> None:
    if leaf.leaf_node_source != expected:
        raise LeafSourceError(
            f"leaf_node_source is {LeafNodeSource(leaf.leaf_node_source).name}, "
            f"expected {expected.name}"
        )


def check_lifetime(leaf: LeafNode, now: Now, max_lifetime: int | None = None) -> None:
    """A key package leaf must be valid at ``now``, and for at most ``max_lifetime`` seconds
    in total if the application sets a maximum (§7.2). Other leaves carry no lifetime."""
    lifetime = leaf.lifetime
    if lifetime is None or now is LifetimeCheck.SKIP:
        return
    if not lifetime.not_before <= now <= lifetime.not_after:
        raise LifetimeError(
            f"leaf is valid from {lifetime.not_before} to {lifetime.not_after}, not at {now}"
        )
    if max_lifetime is not None:
        check_lifetime_length(lifetime, max_lifetime)


def check_lifetime_length(lifetime: Lifetime, max_lifetime: int) -> None:
    """``not_after - not_before`` is at most ``max_lifetime`` seconds (§7.2)."""
    if lifetime.not_after - lifetime.not_before > max_lifetime:
        raise LifetimeError(f"leaf lifetime exceeds the maximum of {max_lifetime} seconds")


def check_capabilities(leaf: LeafNode, required: RequiredCapabilities | None = None) -> None:
    """The leaf supports its own credential type and non-default extensions (§7.2), and
    everything the group's required_capabilities extension lists (§11.1)."""
    caps = leaf.capabilities
    if leaf.credential.credential_type not in caps.credentials:
        raise LeafCapabilitiesError(
            f"credential type {leaf.credential.credential_type} is not in the capabilities"
        )
    for extension in leaf.extensions:
        kind = extension.extension_type
        if kind not in DEFAULT_EXTENSION_TYPES and kind not in caps.extensions:
            raise LeafCapabilitiesError(f"extension type {kind} is used but not in capabilities")
    if required is None:
        return
    for wanted, offered, defaults, what in (
        (required.extension_types, caps.extensions, DEFAULT_EXTENSION_TYPES, "extension"),
        (required.proposal_types, caps.proposals, DEFAULT_PROPOSAL_TYPES, "proposal"),
        (required.credential_types, caps.credentials, frozenset(), "credential"),
    ):
        missing = [v for v in wanted if v not in offered and v not in defaults]
        if missing:
            raise LeafCapabilitiesError(f"required {what} types {missing} are not supported")


def check_credential_support(
    tree: RatchetTree, leaf: LeafNode, leaf_index: int | None = None
) -> None:
    """Every other member supports the leaf's credential type, and the leaf supports each
    other member's (§7.3, §13.3). ``leaf_index`` is the leaf being replaced, if any."""
    for index, member in tree.members():
        if index == leaf_index:
            continue
        if leaf.credential.credential_type not in member.capabilities.credentials:
            raise LeafCapabilitiesError(
                f"member {index} does not support credential type {leaf.credential.credential_type}"
            )
        if member.credential.credential_type not in leaf.capabilities.credentials:
            raise LeafCapabilitiesError(
                f"the leaf does not support member {index}'s credential type "
                f"{member.credential.credential_type}"
            )


class CredentialSupport:
    """The credential types a tree's members use, and how many members lack each, counted
    in one pass: :meth:`check` is :func:`check_credential_support` without the scan of
    all members, so checking every leaf of a tree is linear, not quadratic. The tree must
    not change while this is in use."""

    __slots__ = ("_lacking", "_tree", "_used")

    def __init__(self, tree: RatchetTree) -> None:
        self._tree = tree
        members = [member for _, member in tree.members()]
        self._used = Counter(member.credential.credential_type for member in members)
        used = set(self._used)
        self._lacking: Counter[int] = Counter()
        for member in members:
            self._lacking.update(used.difference(member.capabilities.credentials))

    def check(self, leaf: LeafNode, leaf_index: int | None = None) -> None:
        """Raise what :func:`check_credential_support` raises for ``leaf`` (replacing the
        member at ``leaf_index``, if any). The counts never miss a conflict; when they
        show one, that scan runs to confirm it and name the member at fault."""
        tree = self._tree
        kind = leaf.credential.credential_type
        if kind not in self._used:  # not counted: scan the members
            check_credential_support(tree, leaf, leaf_index)
            return
        replaced = None
        if leaf_index is not None and 0 <= leaf_index < tree.leaf_count:
            replaced = tree.leaf_node(leaf_index)
        replaced_kind = None if replaced is None else replaced.credential.credential_type
        replaced_offers = () if replaced is None else replaced.capabilities.credentials
        # Other members that do not support the leaf's type; other members' types the
        # leaf does not support.
        lacking = self._lacking[kind] - (replaced is not None and kind not in replaced_offers)
        unsupported = sum(
            count - (used == replaced_kind)
            for used, count in self._used.items()
            if used not in leaf.capabilities.credentials
        )
        if lacking or unsupported:
            check_credential_support(tree, leaf, leaf_index)


def check_unique_keys(tree: RatchetTree, leaf: LeafNode, leaf_index: int | None = None) -> None:
    """The leaf's encryption key appears nowhere in the tree (not even in the leaf it
    replaces, §7.3 for Update), and its signature key in no other member's leaf."""
    for index, node in enumerate(tree.nodes):
        if node is not None and node.encryption_key == leaf.encryption_key:
            raise DuplicateKeyError(f"encryption key already used by node {index}")
    for index, member in tree.members():
        if index != leaf_index and member.signature_key == leaf.signature_key:
            raise DuplicateKeyError(f"signature key already used by leaf {index}")


def check_tree_keys_unique(tree: RatchetTree) -> None:
    """No encryption key appears in two nodes, no signature key in two leaves (§7.3,
    §12.4.3.1)."""
    encryption: dict[bytes, int] = {}
    signature: dict[bytes, int] = {}
    for index, node in enumerate(tree.nodes):
        if node is None:
            continue
        first = encryption.setdefault(node.encryption_key, index)
        if first != index:
            raise DuplicateKeyError(f"nodes {first} and {index} share an encryption key")
        if not isinstance(node, ParentNode):
            first = signature.setdefault(node.signature_key, index)
            if first != index:
                raise DuplicateKeyError(f"nodes {first} and {index} share a signature key")


def validate_leaf_node(
    suite: CipherSuite,
    leaf: LeafNode,
    *,
    source: LeafNodeSource,
    now: Now,
    group_id: bytes | None = None,
    leaf_index: int | None = None,
    tree: RatchetTree | None = None,
    required: RequiredCapabilities | None = None,
    max_lifetime: int | None = None,
) -> None:
    """Run the §7.3 checks for a leaf about to enter ``tree`` (at ``leaf_index`` if it
    replaces a member). Without ``tree``, only the leaf's own checks run."""
    check_source(leaf, source)
    # check_leaf_keys, then verify_leaf_signature, with the signature key validated once:
    # verifying validates it first, exactly as validate_public_key does (each costs a
    # scalar multiplication, twice the work when a joiner checks every leaf of a tree).
    _check_encryption_key(suite, leaf, leaf_index)
    try:
        _verify_signature(suite, leaf, group_id, leaf_index)
    except InvalidKeyError as exc:
        raise _signature_key_error(exc, leaf_index) from exc
    except CryptoError as exc:
        raise _signature_error(leaf_index) from exc
    check_lifetime(leaf, now, max_lifetime)
    check_capabilities(leaf, required)
    if tree is not None:
        check_credential_support(tree, leaf, leaf_index)
        check_unique_keys(tree, leaf, leaf_index)
