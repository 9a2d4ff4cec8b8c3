"""casecircle's own signed statements: labelled signatures in the style of RFC 9420 §5.1.2.

The platform root signs directory statements (:mod:`protocol.directory`) and the relay signs
tree heads (:mod:`protocol.transparency`). Both sign a labelled encoding, so a signature made
for one kind of statement can never be taken for another, nor for an MLS signature::

    SignContent = opaque("casecircle 1 " + label) || opaque(content)

                  label               signer
                  "DeviceCredential"  platform root
                  "Revocation"        platform root
                  "TreeHead"          relay identity key

The algorithms are fixed, whatever cipher suite a case uses: Ed25519 (suite 1's signature
scheme) for every statement and SHA-256 (suite 1's hash) for fingerprints and the Merkle log,
so that every client and the auditor check the directory in exactly the same way.
"""

from __future__ import annotations

from crypto.errors import InvalidKeyError
from crypto.signatures import SignatureScheme, SigningKey
from crypto.suites import CipherSuite, cipher_suite
from crypto.tls import opaque

STATEMENT_LABEL_PREFIX = b"casecircle 1 "

PLATFORM_SUITE: CipherSuite = cipher_suite(1)
"""MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519: the source of the fixed algorithms."""

STATEMENT_SCHEME: SignatureScheme = PLATFORM_SUITE.signature
"""Ed25519, verified strictly (canonical encodings, no small-order keys)."""

HASH_SIZE = PLATFORM_SUITE.hash_size


def statement_hash(data: bytes) -> bytes:
    """SHA-256 of ``data``."""
    return PLATFORM_SUITE.hash(bytes(data))


def _sign_content(label: str, content: bytes) -> bytes:
    return opaque(STATEMENT_LABEL_PREFIX + label.encode("ascii")) + opaque(content)


def sign_statement(key: SigningKey, label: str, content: bytes) -> bytes:
    """Sign ``content`` under ``label``; ``InvalidKeyError`` unless ``key`` is an Ed25519 key."""
    if key.scheme != STATEMENT_SCHEME:
        raise InvalidKeyError(f"statements are signed with Ed25519, not {key.scheme.name}")
    return key.sign(_sign_content(label, content))


def verify_statement(public_key: bytes, label: str, content: bytes, signature: bytes) -> None:
    """Raise ``InvalidSignatureError`` (or ``InvalidKeyError`` for a malformed public key)
    unless ``signature`` is ``public_key``'s signature of ``content`` under ``label``."""
    STATEMENT_SCHEME.verify(public_key, _sign_content(label, content), signature)
