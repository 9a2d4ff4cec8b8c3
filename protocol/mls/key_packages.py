"""RFC 9420 §10, §10.1, §5.2: making, naming and validating key packages.

A key package is how a device can be added to a case while it is offline, so it is also
what a malicious relay would tamper with or replay. Everything a member relies on when it
adds the device is checked here before the package is used::

    create_key_package ──► KeyPackage (+ init and encryption private keys)
        leaf_node  = LeafNode{source = key_package, lifetime}  SignWithLabel "LeafNodeTBS"
        signature  = SignWithLabel(signature_key, "KeyPackageTBS", KeyPackageTBS)

    key_package_ref = RefHash("MLS 1.0 KeyPackage Reference", KeyPackage)

:func:`validate_key_package` applies §10.1: version mls10, the expected cipher suite,
an ``init_key`` that is a public key of the suite's KEM and distinct from the leaf's
``encryption_key``, the package signature under the leaf's ``signature_key``, and
capabilities listing the suite and the version. The leaf node itself goes through
:func:`~protocol.mls.leaf_validation.validate_leaf_node` as a key package leaf (§7.3):
``leaf_node_source`` key_package, public keys valid for the suite, the leaf signature, a
lifetime that holds ``now`` and is no longer than :data:`MAX_KEY_PACKAGE_LIFETIME`, and
capabilities listing the credential type and the leaf's non-default extension types.
Those failures raise a :class:`~protocol.mls.leaf_validation.LeafNodeError` subclass.

Left to the caller, who has the context: whether the credential is acceptable (§5.3.1, the
directory's job), the group's required capabilities and the uniqueness of keys among
members (§7.3, the ratchet tree's job). ``now=LifetimeCheck.SKIP`` turns the lifetime
checks off; only the interoperability vectors, whose key packages are long expired or
never expire, pass it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from typing import NamedTuple

from crypto.errors import InvalidKeyError, InvalidSignatureError
from crypto.hpke import HpkePrivateKey
from crypto.labels import ref_hash, sign_with_label, verify_with_label
from crypto.random import RandomSource
from crypto.signatures import SigningKey
from crypto.suites import CipherSuite
from protocol.errors import ValidationError
from protocol.mls.constants import DEFAULT_EXTENSION_TYPES, LeafNodeSource, ProtocolVersion
from protocol.mls.credentials import Credential
from protocol.mls.extensions import Extension
from protocol.mls.key_package import KeyPackage
from protocol.mls.leaf_node import Capabilities, LeafNode, Lifetime
from protocol.mls.leaf_validation import (
    LifetimeCheck,
    Now,
    check_lifetime_length,
    validate_leaf_node,
)

KEY_PACKAGE_REF_LABEL = b"MLS 1.0 KeyPackage Reference"
LEAF_NODE_SIGNATURE_LABEL = "LeafNodeTBS"
KEY_PACKAGE_SIGNATURE_LABEL = "KeyPackageTBS"

KEY_PACKAGE_LIFETIME = 84 * 24 * 3600
"""How long a key package we issue stays valid: twelve weeks."""

LIFETIME_MARGIN = 3600
"""Slack for clocks that disagree: ``not_before`` is back-dated by this much."""

MAX_KEY_PACKAGE_LIFETIME = KEY_PACKAGE_LIFETIME + LIFETIME_MARGIN
"""The longest ``not_after - not_before`` accepted (§7.2: applications MUST set one)."""


class KeyPackageError(ValidationError):
    """A key package breaks a rule of §10.1 or §7.3."""

    code = "key_package"


class KeyPackageVersionError(KeyPackageError):
    """The key package is for a protocol version other than mls10."""

    code = "key_package_version"


class KeyPackageCipherSuiteError(KeyPackageError):
    """The key package is for another cipher suite than the one expected."""

    code = "key_package_cipher_suite"


class InitKeyReuseError(KeyPackageError):
    """``init_key`` equals the leaf's ``encryption_key``; the two must be distinct keys."""

    code = "init_key_reuse"


class KeyPackagePublicKeyError(KeyPackageError):
    """``init_key`` is not a valid public key of the suite's KEM."""

    code = "key_package_public_key"


class MissingCapabilityError(KeyPackageError):
    """The capabilities omit the suite, the version, or a key package extension."""

    code = "missing_capability"


class CreatedKeyPackage(NamedTuple):
    """A new key package and the two private keys only its creator holds."""

    key_package: KeyPackage
    init_private_key: HpkePrivateKey
    encryption_private_key: HpkePrivateKey


def key_package_ref(suite: CipherSuite, key_package: KeyPackage) -> bytes:
    """``KeyPackageRef`` (§5.2): what Add-by-reference and Welcome use to name a package."""
    return ref_hash(suite, KEY_PACKAGE_REF_LABEL, key_package.to_bytes())


def default_lifetime(now: int) -> Lifetime:
    """The lifetime of a package issued at ``now``: back-dated by the margin, 84 days on."""
    return Lifetime(not_before=max(0, now - LIFETIME_MARGIN), not_after=now + KEY_PACKAGE_LIFETIME)


def sign_key_package(
    suite: CipherSuite, signing_key: SigningKey, key_package: KeyPackage
) -> KeyPackage:
    """``key_package`` with its signature over ``KeyPackageTBS`` replaced by a fresh one."""
    signature = sign_with_label(suite, signing_key, KEY_PACKAGE_SIGNATURE_LABEL, key_package.tbs())
    return replace(key_package, signature=signature)


def create_key_package(
    suite: CipherSuite,
    signing_key: SigningKey,
    credential: Credential,
    capabilities: Capabilities,
    lifetime: Lifetime,
    extensions: tuple[Extension, ...],
    leaf_extensions: tuple[Extension, ...],
    rng: RandomSource,
) -> CreatedKeyPackage:
    """A signed key package with fresh, distinct init and encryption key pairs.

    The result is validated as a receiver would (lifetime length included, current time
    excluded: the caller chose the window), so a package others would refuse is never made.
    """
    if signing_key.scheme != suite.signature:
        raise InvalidKeyError(f"signing key is not a {suite.signature.name} key")
    _require_listed(extensions, capabilities, "key package extension")
    check_lifetime_length(lifetime, MAX_KEY_PACKAGE_LIFETIME)
    init_private_key, init_key = suite.kem.generate_key_pair(rng)
    encryption_private_key, encryption_key = suite.kem.generate_key_pair(rng)
    unsigned_leaf = LeafNode(
        encryption_key=encryption_key,
        signature_key=signing_key.public_key,
        credential=credential,
        capabilities=capabilities,
        leaf_node_source=LeafNodeSource.KEY_PACKAGE,
        lifetime=lifetime,
        extensions=leaf_extensions,
    )
    leaf_signature = sign_with_label(
        suite, signing_key, LEAF_NODE_SIGNATURE_LABEL, unsigned_leaf.tbs()
    )
    leaf_node = replace(unsigned_leaf, signature=leaf_signature)
    unsigned = KeyPackage(
        cipher_suite=suite.suite_id,
        init_key=init_key,
        leaf_node=leaf_node,
        extensions=extensions,
    )
    key_package = sign_key_package(suite, signing_key, unsigned)
    validate_key_package(suite, key_package, now=LifetimeCheck.SKIP)
    return CreatedKeyPackage(key_package, init_private_key, encryption_private_key)


def validate_key_package(suite: CipherSuite, key_package: KeyPackage, *, now: Now) -> None:
    """Raise a :class:`KeyPackageError`, a :class:`~protocol.mls.leaf_validation.LeafNodeError`
    or ``InvalidSignatureError`` unless the package is valid for ``suite`` at time ``now``
    (seconds since the Unix epoch).

    ``now=LifetimeCheck.SKIP`` skips both lifetime checks; it is for the interoperability
    vectors only.
    """
    if key_package.version != ProtocolVersion.MLS10:
        raise KeyPackageVersionError(f"key package is for protocol version {key_package.version}")
    if key_package.cipher_suite != suite.suite_id:
        raise KeyPackageCipherSuiteError(
            f"key package is for suite 0x{key_package.cipher_suite:04x}, "
            f"expected 0x{suite.suite_id:04x}"
        )
    leaf = key_package.leaf_node
    validate_leaf_node(
        suite,
        leaf,
        source=LeafNodeSource.KEY_PACKAGE,
        now=now,
        max_lifetime=MAX_KEY_PACKAGE_LIFETIME,
    )
    _check_init_key(suite, key_package)
    _check_package_signature(suite, key_package)
    _check_capabilities(suite, leaf)


def _check_init_key(suite: CipherSuite, key_package: KeyPackage) -> None:
    try:
        suite.kem.validate_public_key(key_package.init_key)
    except InvalidKeyError as exc:
        raise KeyPackagePublicKeyError(f"init_key is not a valid public key: {exc}") from exc
    if key_package.init_key == key_package.leaf_node.encryption_key:
        raise InitKeyReuseError("init_key and encryption_key are the same key")


def _check_package_signature(suite: CipherSuite, key_package: KeyPackage) -> None:
    signature_key = key_package.leaf_node.signature_key
    tbs = key_package.tbs()
    try:
        verify_with_label(
            suite, signature_key, KEY_PACKAGE_SIGNATURE_LABEL, tbs, key_package.signature
        )
    except InvalidSignatureError as exc:
        raise InvalidSignatureError("key package signature does not verify") from exc


def _check_capabilities(suite: CipherSuite, leaf: LeafNode) -> None:
    """The version and suite of this package are listed (§10.1); the credential type and
    the leaf's extensions are the leaf's own checks (§7.2)."""
    capabilities = leaf.capabilities
    if ProtocolVersion.MLS10 not in capabilities.versions:
        raise MissingCapabilityError("capabilities do not list protocol version mls10")
    if suite.suite_id not in capabilities.cipher_suites:
        raise MissingCapabilityError(
            f"capabilities do not list the key package's suite 0x{suite.suite_id:04x}"
        )


def _require_listed(extensions: Iterable[Extension], capabilities: Capabilities, what: str) -> None:
    """Every non-default extension type must appear in ``capabilities.extensions`` (§7.2)."""
    for extension in extensions:
        kind = extension.extension_type
        if kind not in DEFAULT_EXTENSION_TYPES and kind not in capabilities.extensions:
            raise MissingCapabilityError(f"{what} type {kind} is not listed in capabilities")
