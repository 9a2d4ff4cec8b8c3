"""Leaf node validation (RFC 9420 §7.3): each check, and each failure's typed error."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import pytest

from crypto.errors import InvalidKeyError, InvalidSignatureError
from crypto.suites import cipher_suite
from protocol.errors import ValidationError
from protocol.mls.constants import CredentialType, ExtensionType, LeafNodeSource
from protocol.mls.credentials import X509Credential
from protocol.mls.extensions import ApplicationId, Extension, RequiredCapabilities
from protocol.mls.leaf_node import LeafNode, Lifetime
from protocol.mls.leaf_validation import (
    CredentialSupport,
    DuplicateKeyError,
    LeafCapabilitiesError,
    LeafKeyError,
    LeafSignatureError,
    LeafSourceError,
    LifetimeCheck,
    LifetimeError,
    check_capabilities,
    check_credential_support,
    check_leaf_keys,
    check_lifetime,
    check_source,
    check_tree_keys_unique,
    check_unique_keys,
    validate_leaf_node,
    verify_leaf_signature,
)
from protocol.mls.ratchet_tree import RatchetTree
from tests.protocol.mls.samples import leaf_node as sample_leaf
from tests.protocol.mls.signed_trees import GROUP_ID, SUITE, TreeBuilder

NOW = 1_750_000_000
DAY = 86_400
X25519_LOW_ORDER = bytes.fromhex("e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800")


@pytest.fixture(name="builder")
def fixture_builder() -> TreeBuilder:
    return TreeBuilder("leaf validation")


@pytest.fixture(name="tree")
def fixture_tree(builder: TreeBuilder) -> RatchetTree:
    return builder.group(4, committer=2)


# --- public keys -----------------------------------------------------------------------


def test_honest_leaf_keys_are_valid(tree: RatchetTree) -> None:
    for index, leaf in tree.members():
        check_leaf_keys(SUITE, leaf, index)


@pytest.mark.parametrize("low_order", [bytes(32), X25519_LOW_ORDER])
def test_low_order_encryption_key_is_refused(builder: TreeBuilder, low_order: bytes) -> None:
    leaf = builder.sign(
        dataclasses.replace(builder.key_package_leaf("kp"), encryption_key=low_order)
    )
    with pytest.raises(LeafKeyError, match="encryption_key of the leaf node") as caught:
        check_leaf_keys(SUITE, leaf)
    assert caught.value.code == "leaf_key"
    assert isinstance(caught.value, ValidationError)
    assert isinstance(caught.value.__cause__, InvalidKeyError)
    with pytest.raises(LeafKeyError, match="encryption_key"):  # signed, yet refused
        validate_leaf_node(SUITE, leaf, source=LeafNodeSource.KEY_PACKAGE, now=NOW)


def test_invalid_signature_key_is_refused(tree: RatchetTree) -> None:
    short = dataclasses.replace(tree.member(2), signature_key=b"\x00" * 31)
    with pytest.raises(LeafKeyError, match="signature_key of leaf 2") as caught:
        check_leaf_keys(SUITE, short, 2)
    assert isinstance(caught.value.__cause__, InvalidKeyError)
    with pytest.raises(LeafKeyError, match="signature_key"):
        validate_leaf_node(
            SUITE, short, source=LeafNodeSource.COMMIT, now=NOW, group_id=GROUP_ID, leaf_index=2
        )


ED25519_IDENTITY = bytes.fromhex("01" + "00" * 31)
ED25519_MIXED_ORDER = bytes.fromhex(
    "71a60f65bf22924dd7022840f44464f6b85776ea02e53ccdbad8e7c994f5f7f3"
)  # a key of the prime-order subgroup plus a point of order 8: on the curve, outside it


@pytest.mark.parametrize(
    "signature_key", [ED25519_IDENTITY, ED25519_MIXED_ORDER], ids=["identity", "mixed order"]
)
def test_a_weak_signature_key_is_a_key_error_in_full_validation(
    tree: RatchetTree, signature_key: bytes
) -> None:
    """validate_leaf_node checks the signature key once, as part of verifying the
    signature; a key outside the prime-order subgroup is still refused as a key."""
    leaf = dataclasses.replace(tree.member(2), signature_key=signature_key)
    with pytest.raises(LeafKeyError, match="signature_key of leaf 2") as caught:
        validate_leaf_node(
            SUITE, leaf, source=LeafNodeSource.COMMIT, now=NOW, group_id=GROUP_ID, leaf_index=2
        )
    assert isinstance(caught.value.__cause__, InvalidKeyError)
    with pytest.raises(LeafKeyError, match="signature_key of leaf 2"):
        check_leaf_keys(SUITE, leaf, 2)


def test_keys_of_another_suite_are_refused(tree: RatchetTree) -> None:
    leaf = tree.member(0)
    with pytest.raises(LeafKeyError, match="encryption_key"):
        check_leaf_keys(cipher_suite(2), leaf, 0)  # X25519 key for a P-256 suite


# --- signature -------------------------------------------------------------------------


def test_leaves_verify_in_their_place(tree: RatchetTree) -> None:
    for index, leaf in tree.members():
        verify_leaf_signature(SUITE, leaf, group_id=GROUP_ID, leaf_index=index)
    assert tree.member(2).leaf_node_source == LeafNodeSource.COMMIT


def test_key_package_leaf_verifies_without_a_group(builder: TreeBuilder) -> None:
    verify_leaf_signature(SUITE, builder.key_package_leaf("new"))


def test_signature_over_another_group_id_is_refused(tree: RatchetTree) -> None:
    with pytest.raises(LeafSignatureError) as caught:
        verify_leaf_signature(SUITE, tree.member(2), group_id=b"another case", leaf_index=2)
    assert caught.value.code == "leaf_signature"
    assert isinstance(caught.value.__cause__, InvalidSignatureError)
    assert isinstance(caught.value, ValidationError)


def test_signature_for_another_leaf_index_is_refused(tree: RatchetTree) -> None:
    with pytest.raises(LeafSignatureError):
        verify_leaf_signature(SUITE, tree.member(2), group_id=GROUP_ID, leaf_index=3)


def test_changed_content_or_foreign_key_is_refused(builder: TreeBuilder, tree: RatchetTree) -> None:
    leaf = tree.member(2)
    renamed = dataclasses.replace(
        leaf, extensions=(ApplicationId(application_id=b"x").to_extension(),)
    )
    with pytest.raises(LeafSignatureError):
        verify_leaf_signature(SUITE, renamed, group_id=GROUP_ID, leaf_index=2)
    other = tree.member(0).signature_key
    with pytest.raises(LeafSignatureError):
        verify_leaf_signature(
            SUITE, dataclasses.replace(leaf, signature_key=other), group_id=GROUP_ID, leaf_index=2
        )
    with pytest.raises(LeafSignatureError):  # not even a valid key
        verify_leaf_signature(
            SUITE, dataclasses.replace(leaf, signature_key=b"\x00"), group_id=GROUP_ID, leaf_index=2
        )


# --- source and lifetime -----------------------------------------------------------------


def test_source_must_match_the_carrier(tree: RatchetTree, builder: TreeBuilder) -> None:
    check_source(builder.key_package_leaf("kp"), LeafNodeSource.KEY_PACKAGE)
    with pytest.raises(LeafSourceError, match="COMMIT, expected UPDATE"):
        check_source(tree.member(2), LeafNodeSource.UPDATE)


@pytest.mark.parametrize("now", [NOW - DAY, NOW, NOW + DAY])
def test_lifetime_holds_within_its_bounds(builder: TreeBuilder, now: int) -> None:
    leaf = builder.key_package_leaf("kp", Lifetime(not_before=NOW - DAY, not_after=NOW + DAY))
    check_lifetime(leaf, now)


@pytest.mark.parametrize("now", [NOW - DAY - 1, NOW + DAY + 1])
def test_expired_or_early_lifetime_is_refused(builder: TreeBuilder, now: int) -> None:
    leaf = builder.key_package_leaf("kp", Lifetime(not_before=NOW - DAY, not_after=NOW + DAY))
    with pytest.raises(LifetimeError) as caught:
        check_lifetime(leaf, now)
    assert caught.value.code == "lifetime"


def test_lifetime_can_be_skipped_only_by_name(builder: TreeBuilder) -> None:
    expired = builder.key_package_leaf("old", Lifetime(not_before=0, not_after=1))
    check_lifetime(expired, LifetimeCheck.SKIP)
    with pytest.raises(LifetimeError):
        check_lifetime(expired, NOW)


def test_an_overlong_lifetime_is_refused(builder: TreeBuilder) -> None:
    leaf = builder.key_package_leaf("kp", Lifetime(not_before=NOW - DAY, not_after=NOW + 90 * DAY))
    check_lifetime(leaf, NOW, max_lifetime=91 * DAY)
    with pytest.raises(LifetimeError, match="maximum"):
        check_lifetime(leaf, NOW, max_lifetime=30 * DAY)


def test_leaves_without_lifetime_pass(tree: RatchetTree) -> None:
    check_lifetime(tree.member(2), NOW)


# --- capabilities ------------------------------------------------------------------------


def with_capabilities(leaf: LeafNode, **changes: tuple[int, ...]) -> LeafNode:
    return dataclasses.replace(leaf, capabilities=dataclasses.replace(leaf.capabilities, **changes))


def test_own_credential_type_must_be_supported(builder: TreeBuilder) -> None:
    leaf = builder.key_package_leaf("kp")
    check_capabilities(leaf)
    with pytest.raises(LeafCapabilitiesError, match="credential type 1"):
        check_capabilities(with_capabilities(leaf, credentials=(CredentialType.X509,)))


def test_non_default_extensions_must_be_listed(builder: TreeBuilder) -> None:
    custom = Extension(extension_type=0xF00D, extension_data=b"")
    default = ApplicationId(application_id=b"device").to_extension()
    leaf = dataclasses.replace(builder.key_package_leaf("kp"), extensions=(default, custom))
    with pytest.raises(LeafCapabilitiesError, match=str(0xF00D)):
        check_capabilities(leaf)
    check_capabilities(with_capabilities(leaf, extensions=(0xF00D,)))


def test_required_capabilities_must_be_supported(builder: TreeBuilder) -> None:
    leaf = builder.key_package_leaf("kp")
    defaults_only = RequiredCapabilities(
        extension_types=(ExtensionType.EXTERNAL_SENDERS,),
        proposal_types=(1, 7),
        credential_types=(CredentialType.BASIC,),
    )
    check_capabilities(leaf, defaults_only)
    for required in (
        RequiredCapabilities(extension_types=(0xF00D,)),
        RequiredCapabilities(proposal_types=(0xF00D,)),
        RequiredCapabilities(credential_types=(CredentialType.X509,)),
    ):
        with pytest.raises(LeafCapabilitiesError, match="required"):
            check_capabilities(leaf, required)


def test_credential_types_must_be_mutually_supported(
    builder: TreeBuilder, tree: RatchetTree
) -> None:
    leaf = builder.key_package_leaf("kp")
    check_credential_support(tree, leaf)
    both = with_capabilities(leaf, credentials=(CredentialType.BASIC, CredentialType.X509))
    check_credential_support(tree, both)
    x509_only = with_capabilities(leaf, credentials=(CredentialType.X509,))
    with pytest.raises(LeafCapabilitiesError, match="does not support member 0"):
        check_credential_support(tree, x509_only)
    tree.set_leaf(1, with_capabilities(tree.member(1), credentials=(CredentialType.X509,)))
    with pytest.raises(LeafCapabilitiesError, match="member 1 does not support"):
        check_credential_support(tree, leaf)
    check_credential_support(tree, leaf, leaf_index=1)  # replacing that very member


def outcome(check: Callable[..., None], *args: object) -> str:
    try:
        check(*args)
    except LeafCapabilitiesError as exc:
        return str(exc)
    return "ok"


def test_counted_credential_support_agrees_with_the_scan(
    builder: TreeBuilder, tree: RatchetTree
) -> None:
    basic, x509 = CredentialType.BASIC, CredentialType.X509
    certificate = X509Credential(certificates=(b"not parsed here",))
    tree.set_leaf(1, with_capabilities(tree.member(1), credentials=(basic, x509)))
    tree.set_leaf(3, with_capabilities(tree.member(3), credentials=(x509, basic)))
    kp = builder.key_package_leaf("kp")
    x509_kp = dataclasses.replace(kp, credential=certificate)
    leaves = [
        kp,
        with_capabilities(kp, credentials=(basic, x509)),
        with_capabilities(kp, credentials=(x509,)),
        with_capabilities(x509_kp, credentials=(x509, basic)),
        with_capabilities(x509_kp, credentials=(x509,)),
    ]
    x509_member = tree.copy()
    x509_member.set_leaf(3, dataclasses.replace(tree.member(3), credential=certificate))
    x509_only = tree.copy()
    x509_only.set_leaf(1, with_capabilities(tree.member(1), credentials=(x509,)))
    outcomes = set()
    for members in (tree, x509_member, x509_only):
        support = CredentialSupport(members)
        for leaf in [*leaves, *(member for _, member in members.members())]:
            for leaf_index in (None, 0, 1, 3, 5, 99):
                expected = outcome(check_credential_support, members, leaf, leaf_index)
                assert outcome(support.check, leaf, leaf_index) == expected
                outcomes.add(expected)
    assert len(outcomes) > 3  # passes, and failures naming different members


# --- uniqueness ----------------------------------------------------------------------------


def test_duplicate_encryption_key_is_refused(builder: TreeBuilder, tree: RatchetTree) -> None:
    fresh = builder.key_package_leaf("kp")
    check_unique_keys(tree, fresh)
    parent = tree.parent_node(3)
    assert parent is not None
    for taken in (tree.member(0).encryption_key, parent.encryption_key):
        with pytest.raises(DuplicateKeyError) as caught:
            check_unique_keys(tree, dataclasses.replace(fresh, encryption_key=taken))
        assert caught.value.code == "duplicate_key"


def test_update_must_change_the_encryption_key(builder: TreeBuilder, tree: RatchetTree) -> None:
    update = builder.update_leaf(tree, 1)
    check_unique_keys(tree, update, leaf_index=1)  # same signature key is fine for itself
    stale = dataclasses.replace(update, encryption_key=tree.member(1).encryption_key)
    with pytest.raises(DuplicateKeyError, match="node 2"):
        check_unique_keys(tree, stale, leaf_index=1)


def test_duplicate_signature_key_is_refused(builder: TreeBuilder, tree: RatchetTree) -> None:
    clone = dataclasses.replace(
        builder.key_package_leaf("kp"), signature_key=tree.member(3).signature_key
    )
    with pytest.raises(DuplicateKeyError, match="leaf 3"):
        check_unique_keys(tree, clone)


def test_whole_tree_key_uniqueness(tree: RatchetTree) -> None:
    check_tree_keys_unique(tree)
    parent = tree.parent_node(5)
    assert parent is not None
    twin = dataclasses.replace(tree.member(0), encryption_key=parent.encryption_key)
    tree.set_leaf(0, twin)
    with pytest.raises(DuplicateKeyError, match="encryption"):
        check_tree_keys_unique(tree)
    tree.set_leaf(0, dataclasses.replace(tree.member(1), encryption_key=b"\x01" * 32))
    with pytest.raises(DuplicateKeyError, match="signature"):
        check_tree_keys_unique(tree)


# --- everything at once ------------------------------------------------------------------


def test_validate_an_update_and_a_key_package(builder: TreeBuilder, tree: RatchetTree) -> None:
    update = builder.update_leaf(tree, 1)
    validate_leaf_node(
        SUITE,
        update,
        source=LeafNodeSource.UPDATE,
        now=NOW,
        group_id=GROUP_ID,
        leaf_index=1,
        tree=tree,
    )
    added = builder.key_package_leaf("kp", Lifetime(not_before=NOW - DAY, not_after=NOW + DAY))
    validate_leaf_node(SUITE, added, source=LeafNodeSource.KEY_PACKAGE, now=NOW, tree=tree)
    with pytest.raises(LifetimeError):
        validate_leaf_node(
            SUITE, added, source=LeafNodeSource.KEY_PACKAGE, now=NOW + 2 * DAY, tree=tree
        )
    with pytest.raises(LeafSourceError):
        validate_leaf_node(SUITE, added, source=LeafNodeSource.UPDATE, now=NOW, tree=tree)


def test_a_group_leaf_without_its_group_is_a_typed_error() -> None:
    leaf = sample_leaf(LeafNodeSource.UPDATE)
    with pytest.raises(LeafSourceError):
        verify_leaf_signature(cipher_suite(1), leaf)
