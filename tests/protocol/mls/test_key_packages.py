"""Making and validating key packages (RFC 9420 §10, §10.1, §5.2, §7.3).

The leaf node's own checks are those of :mod:`protocol.mls.leaf_validation`; here they are
shown to run on every key package, failing with the leaf's error types.

Every validation rule gets a package that breaks only that rule and is otherwise properly
signed (``_forge`` re-signs leaf and package), so each test shows the rule itself firing,
not a signature check that happens to run first.
"""

from __future__ import annotations

import hashlib
from dataclasses import replace
from typing import Any

import pytest

from crypto.errors import InvalidKeyError, InvalidSignatureError
from crypto.labels import sign_with_label
from crypto.signatures import SigningKey
from crypto.suites import SUPPORTED_SUITE_IDS, CipherSuite, cipher_suite
from crypto.tls import opaque
from protocol.errors import ValidationError
from protocol.mls import key_packages
from protocol.mls.constants import (
    GREASE_VALUES,
    CredentialType,
    ExtensionType,
    LeafNodeSource,
    ProtocolVersion,
)
from protocol.mls.credentials import BasicCredential, X509Credential
from protocol.mls.extensions import ApplicationId, Extension
from protocol.mls.key_package import KeyPackage
from protocol.mls.key_packages import (
    KEY_PACKAGE_LIFETIME,
    LIFETIME_MARGIN,
    MAX_KEY_PACKAGE_LIFETIME,
    CreatedKeyPackage,
    InitKeyReuseError,
    KeyPackageCipherSuiteError,
    KeyPackageError,
    KeyPackagePublicKeyError,
    KeyPackageVersionError,
    MissingCapabilityError,
    create_key_package,
    default_lifetime,
    key_package_ref,
    sign_key_package,
    validate_key_package,
)
from protocol.mls.leaf_node import Capabilities, LeafNode, Lifetime
from protocol.mls.leaf_validation import (
    LeafCapabilitiesError,
    LeafKeyError,
    LeafNodeError,
    LeafSignatureError,
    LeafSourceError,
    LifetimeCheck,
    LifetimeError,
)
from tests.helpers import DeterministicRandom

NOW = 1_760_000_000
GREASE = min(GREASE_VALUES)
X25519_LOW_ORDER = bytes.fromhex("e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800")


def _capabilities(suite_id: int = 1, **changes: Any) -> Capabilities:
    fields: dict[str, Any] = {
        "versions": (ProtocolVersion.MLS10, GREASE),
        "cipher_suites": (suite_id, GREASE),
        "extensions": (GREASE,),
        "credentials": (CredentialType.BASIC, GREASE),
    }
    fields.update(changes)
    return Capabilities(**fields)


def _signing_key(suite: CipherSuite, seed: str = "device") -> SigningKey:
    return suite.signature.generate(DeterministicRandom(f"{seed} {suite.suite_id}"))


def _create(suite_id: int = 1, seed: str = "kp", **changes: Any) -> CreatedKeyPackage:
    suite = cipher_suite(suite_id)
    arguments: dict[str, Any] = {
        "signing_key": _signing_key(suite),
        "credential": BasicCredential(identity=b"device-1"),
        "capabilities": _capabilities(suite_id),
        "lifetime": default_lifetime(NOW),
        "extensions": (Extension(extension_type=GREASE, extension_data=b""),),
        "leaf_extensions": (ApplicationId(application_id=b"desk-7").to_extension(),),
        "rng": DeterministicRandom(seed),
    }
    arguments.update(changes)
    return create_key_package(suite, **arguments)


def _forge(
    package: KeyPackage, suite_id: int = 1, *, leaf: dict[str, Any] | None = None, **fields: Any
) -> KeyPackage:
    """``package`` with the given leaf and package fields changed, and re-signed."""
    suite = cipher_suite(suite_id)
    key = _signing_key(suite)
    leaf_node = replace(package.leaf_node, **(leaf or {}))
    if leaf_node.leaf_node_source == LeafNodeSource.KEY_PACKAGE:
        signature = sign_with_label(suite, key, "LeafNodeTBS", leaf_node.tbs())
        leaf_node = replace(leaf_node, signature=signature)
    return sign_key_package(suite, key, replace(package, leaf_node=leaf_node, **fields))


@pytest.fixture(scope="module")
def created() -> CreatedKeyPackage:
    return _create()


# --- round trips ----------------------------------------------------------------------------


@pytest.mark.parametrize("suite_id", SUPPORTED_SUITE_IDS)
def test_create_then_validate_for_every_suite(suite_id: int) -> None:
    suite = cipher_suite(suite_id)
    package, init_private, encryption_private = _create(suite_id)

    validate_key_package(suite, package, now=NOW)
    decoded = KeyPackage.from_bytes(package.to_bytes())
    assert decoded == package
    validate_key_package(suite, decoded, now=NOW)

    leaf = package.leaf_node
    assert package.version == ProtocolVersion.MLS10
    assert package.cipher_suite == suite_id
    assert leaf.leaf_node_source == LeafNodeSource.KEY_PACKAGE
    assert leaf.signature_key == _signing_key(suite).public_key
    assert init_private.public_key() == package.init_key
    assert encryption_private.public_key() == leaf.encryption_key
    assert package.init_key != leaf.encryption_key
    assert len(key_package_ref(suite, package)) == suite.hash_size


def test_every_package_gets_fresh_keys() -> None:
    first, second = _create(seed="one").key_package, _create(seed="two").key_package
    keys = {
        first.init_key,
        first.leaf_node.encryption_key,
        second.init_key,
        second.leaf_node.encryption_key,
    }
    assert len(keys) == 4


def test_creation_takes_randomness_only_from_the_source() -> None:
    assert _create(seed="same") == _create(seed="same")


def test_key_package_ref_is_the_labelled_hash_of_the_encoding(created: CreatedKeyPackage) -> None:
    encoded = created.key_package.to_bytes()
    label = b"MLS 1.0 KeyPackage Reference"
    expected = hashlib.sha256(opaque(label) + opaque(encoded)).digest()
    assert key_package_ref(cipher_suite(1), created.key_package) == expected


def test_default_lifetime_is_the_maximum_and_starts_before_now() -> None:
    lifetime = default_lifetime(NOW)
    assert lifetime.not_before == NOW - LIFETIME_MARGIN
    assert lifetime.not_after == NOW + KEY_PACKAGE_LIFETIME
    assert lifetime.not_after - lifetime.not_before == MAX_KEY_PACKAGE_LIFETIME
    assert KEY_PACKAGE_LIFETIME == 84 * 86400
    assert default_lifetime(10).not_before == 0


# --- signatures -----------------------------------------------------------------------------


def test_flipped_package_signature_is_refused(created: CreatedKeyPackage) -> None:
    package = created.key_package
    signature = bytearray(package.signature)
    signature[5] ^= 1
    with pytest.raises(InvalidSignatureError, match="key package signature"):
        validate_key_package(cipher_suite(1), replace(package, signature=bytes(signature)), now=NOW)


def test_field_changed_after_signing_is_refused(created: CreatedKeyPackage) -> None:
    package = created.key_package
    changed = replace(package, extensions=())
    with pytest.raises(InvalidSignatureError, match="key package signature"):
        validate_key_package(cipher_suite(1), changed, now=NOW)


def test_leaf_changed_after_signing_is_refused(created: CreatedKeyPackage) -> None:
    package = created.key_package
    leaf = replace(package.leaf_node, credential=BasicCredential(identity=b"someone else"))
    # The package is re-signed, the leaf is not: only the leaf signature can catch it.
    forged = sign_key_package(
        cipher_suite(1), _signing_key(cipher_suite(1)), replace(package, leaf_node=leaf)
    )
    with pytest.raises(LeafSignatureError, match="signature of the leaf node") as caught:
        validate_key_package(cipher_suite(1), forged, now=NOW)
    assert isinstance(caught.value.__cause__, InvalidSignatureError)


def test_package_signed_by_another_key_is_refused(created: CreatedKeyPackage) -> None:
    suite = cipher_suite(1)
    other = _signing_key(suite, "intruder")
    forged = sign_key_package(suite, other, created.key_package)
    with pytest.raises(InvalidSignatureError, match="key package signature"):
        validate_key_package(suite, forged, now=NOW)


def test_signing_key_of_another_scheme_is_refused_at_creation() -> None:
    with pytest.raises(InvalidKeyError):
        _create(1, signing_key=_signing_key(cipher_suite(2)))


# --- the other rules ------------------------------------------------------------------------


def test_wrong_suite_is_refused(created: CreatedKeyPackage) -> None:
    with pytest.raises(KeyPackageCipherSuiteError):
        validate_key_package(cipher_suite(3), created.key_package, now=NOW)


def test_other_version_is_refused(created: CreatedKeyPackage) -> None:
    forged = _forge(created.key_package, version=0x0A0A)
    with pytest.raises(KeyPackageVersionError):
        validate_key_package(cipher_suite(1), forged, now=NOW)


@pytest.mark.parametrize("source", [LeafNodeSource.UPDATE, LeafNodeSource.COMMIT])
def test_leaf_from_a_group_is_refused(created: CreatedKeyPackage, source: LeafNodeSource) -> None:
    parent_hash = b"p" * 32 if source == LeafNodeSource.COMMIT else None
    changes = {"leaf_node_source": source, "lifetime": None, "parent_hash": parent_hash}
    forged = _forge(created.key_package, leaf=changes)
    with pytest.raises(LeafSourceError):
        validate_key_package(cipher_suite(1), forged, now=NOW)


def test_init_key_equal_to_encryption_key_is_refused(created: CreatedKeyPackage) -> None:
    package = created.key_package
    forged = _forge(package, init_key=package.leaf_node.encryption_key)
    with pytest.raises(InitKeyReuseError):
        validate_key_package(cipher_suite(1), forged, now=NOW)


def test_low_order_x25519_init_key_is_refused(created: CreatedKeyPackage) -> None:
    forged = _forge(created.key_package, init_key=X25519_LOW_ORDER)
    with pytest.raises(KeyPackagePublicKeyError, match="init_key"):
        validate_key_package(cipher_suite(1), forged, now=NOW)


@pytest.mark.parametrize("low_order", [bytes(32), X25519_LOW_ORDER])
def test_low_order_encryption_key_is_refused(created: CreatedKeyPackage, low_order: bytes) -> None:
    forged = _forge(created.key_package, leaf={"encryption_key": low_order})
    with pytest.raises(LeafKeyError, match="encryption_key") as caught:
        validate_key_package(cipher_suite(1), forged, now=NOW)
    assert isinstance(caught.value.__cause__, InvalidKeyError)


def test_invalid_signature_key_is_refused(created: CreatedKeyPackage) -> None:
    forged = _forge(created.key_package, leaf={"signature_key": b"\x00" * 31})
    with pytest.raises(LeafKeyError, match="signature_key") as caught:
        validate_key_package(cipher_suite(1), forged, now=NOW)
    assert isinstance(caught.value.__cause__, InvalidKeyError)


def test_off_curve_p256_init_key_is_refused() -> None:
    package = _create(2).key_package
    off_curve = package.init_key[:-1] + bytes([package.init_key[-1] ^ 1])
    forged = _forge(package, 2, init_key=off_curve)
    with pytest.raises(KeyPackagePublicKeyError, match="init_key"):
        validate_key_package(cipher_suite(2), forged, now=NOW)


def test_init_key_of_another_kem_is_refused() -> None:
    p256_key = _create(2).key_package.init_key
    forged = _forge(_create(1).key_package, init_key=p256_key)
    with pytest.raises(KeyPackagePublicKeyError):
        validate_key_package(cipher_suite(1), forged, now=NOW)


# --- lifetime -------------------------------------------------------------------------------


def test_lifetime_bounds_are_inclusive(created: CreatedKeyPackage) -> None:
    lifetime = created.key_package.leaf_node.lifetime
    assert lifetime is not None
    validate_key_package(cipher_suite(1), created.key_package, now=lifetime.not_before)
    validate_key_package(cipher_suite(1), created.key_package, now=lifetime.not_after)


@pytest.mark.parametrize("offset", [-LIFETIME_MARGIN - 1, KEY_PACKAGE_LIFETIME + 1])
def test_not_yet_valid_or_expired_is_refused(created: CreatedKeyPackage, offset: int) -> None:
    with pytest.raises(LifetimeError, match="not at"):
        validate_key_package(cipher_suite(1), created.key_package, now=NOW + offset)


def test_too_long_lifetime_is_refused(created: CreatedKeyPackage) -> None:
    too_long = Lifetime(not_before=NOW - 10, not_after=NOW - 10 + MAX_KEY_PACKAGE_LIFETIME + 1)
    forged = _forge(created.key_package, leaf={"lifetime": too_long})
    with pytest.raises(LifetimeError, match="maximum"):
        validate_key_package(cipher_suite(1), forged, now=NOW)
    with pytest.raises(LifetimeError, match="maximum"):
        _create(lifetime=too_long)


def test_never_expiring_lifetime_is_refused(created: CreatedKeyPackage) -> None:
    forever = Lifetime(not_before=0, not_after=2**64 - 1)
    forged = _forge(created.key_package, leaf={"lifetime": forever})
    with pytest.raises(LifetimeError, match="maximum"):
        validate_key_package(cipher_suite(1), forged, now=NOW)


def test_lifetime_check_skip_turns_the_lifetime_checks_off(created: CreatedKeyPackage) -> None:
    expired = Lifetime(not_before=0, not_after=1)
    forever = Lifetime(not_before=0, not_after=2**64 - 1)
    for lifetime in (expired, forever):
        forged = _forge(created.key_package, leaf={"lifetime": lifetime})
        validate_key_package(cipher_suite(1), forged, now=LifetimeCheck.SKIP)


# --- capabilities ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "error", "missing"),
    [
        ({"cipher_suites": (2, 3)}, MissingCapabilityError, "suite"),
        ({"versions": (GREASE,)}, MissingCapabilityError, "version"),
        ({"credentials": (CredentialType.X509,)}, LeafCapabilitiesError, "credential type"),
        ({"extensions": ()}, LeafCapabilitiesError, f"extension type {GREASE} is used"),
    ],
)
def test_missing_capability_is_refused(
    created: CreatedKeyPackage,
    changes: dict[str, Any],
    error: type[ValidationError],
    missing: str,
) -> None:
    grease_leaf_extension = Extension(extension_type=GREASE, extension_data=b"")
    leaf = {
        "capabilities": _capabilities(1, **changes),
        "extensions": (grease_leaf_extension,),
    }
    forged = _forge(created.key_package, leaf=leaf)
    with pytest.raises(error, match=missing):
        validate_key_package(cipher_suite(1), forged, now=NOW)
    with pytest.raises(error, match=missing):
        _create(
            capabilities=_capabilities(1, **changes),
            extensions=(),
            leaf_extensions=leaf["extensions"],
        )


def test_credential_type_must_match_the_one_listed() -> None:
    x509 = X509Credential(certificates=(b"\x30\x00",))
    with pytest.raises(LeafCapabilitiesError, match="credential type"):
        _create(credential=x509)
    _create(credential=x509, capabilities=_capabilities(credentials=(CredentialType.X509,)))


def test_default_extensions_need_not_be_listed() -> None:
    assert ExtensionType.APPLICATION_ID not in _capabilities().extensions
    package = _create().key_package  # its leaf carries application_id
    validate_key_package(cipher_suite(1), package, now=NOW)


def test_unlisted_key_package_extension_is_refused_at_creation() -> None:
    with pytest.raises(MissingCapabilityError, match="key package extension"):
        _create(extensions=(Extension(extension_type=0xF00D, extension_data=b""),))


def test_unlisted_key_package_extension_is_ignored_on_receipt(created: CreatedKeyPackage) -> None:
    # §10.1 does not ask receivers to check these; other implementations put unlisted
    # GREASE there, and §13 says to ignore unknown key package extensions.
    unknown = (Extension(extension_type=0xF00D, extension_data=b"?"),)
    validate_key_package(cipher_suite(1), _forge(created.key_package, extensions=unknown), now=NOW)


# --- errors ---------------------------------------------------------------------------------


def test_errors_are_validation_errors_with_distinct_stable_codes() -> None:
    classes = [
        value
        for value in vars(key_packages).values()
        if isinstance(value, type) and issubclass(value, KeyPackageError)
    ]
    codes = [cls.code for cls in classes]
    assert sorted(codes) == [
        "init_key_reuse",
        "key_package",
        "key_package_cipher_suite",
        "key_package_public_key",
        "key_package_version",
        "missing_capability",
    ]
    assert all(issubclass(cls, ValidationError) for cls in classes)
    # The leaf's own failures are leaf_validation's, not redefined here.
    assert not any(issubclass(cls, LeafNodeError) for cls in classes)
    assert all(issubclass(cls, LeafNodeError) for cls in (LeafKeyError, LifetimeError))


def test_leaf_node_signature_label_is_leaf_node_tbs(created: CreatedKeyPackage) -> None:
    suite = cipher_suite(1)
    leaf: LeafNode = created.key_package.leaf_node
    suite.signature.verify(
        leaf.signature_key, opaque(b"MLS 1.0 LeafNodeTBS") + opaque(leaf.tbs()), leaf.signature
    )
