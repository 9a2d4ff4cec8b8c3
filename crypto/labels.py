"""The labeled cryptographic functions of RFC 9420 §5 (domain separation by label).

Every derivation, signature and HPKE encryption MLS performs goes through one of these,
so that a value produced for one purpose can never be accepted for another:

    ExpandWithLabel(secret, label, context, n) = Expand(secret, KDFLabel, n)
        KDFLabel = uint16 n || opaque("MLS 1.0 " + label) || opaque(context)
    DeriveSecret(secret, label)                = ExpandWithLabel(secret, label, "", Nh)
    DeriveTreeSecret(secret, label, gen, n)    = ExpandWithLabel(secret, label, uint32 gen, n)
    RefHash(label, value)                      = Hash(opaque(label) || opaque(value))
    SignWithLabel / VerifyWithLabel            sign opaque("MLS 1.0 " + label) || opaque(content)
    EncryptWithLabel / DecryptWithLabel        HPKE base mode, info = opaque("MLS 1.0 " + label)
                                               || opaque(context), empty aad
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from crypto.errors import InvalidKeyError, InvalidLengthError
from crypto.hpke import HpkePrivateKey
from crypto.kdf import Expander
from crypto.random import RandomSource
from crypto.signatures import SigningKey
from crypto.suites import CipherSuite
from crypto.tls import opaque

LABEL_PREFIX = b"MLS 1.0 "


@functools.lru_cache(maxsize=256)  # a few dozen constant labels, encoded on every derivation
def _label(label: str | bytes) -> bytes:
    raw = label.encode() if isinstance(label, str) else label
    return opaque(LABEL_PREFIX + raw)


def expand_with_label(
    suite: CipherSuite, secret: bytes, label: str | bytes, context: bytes, length: int
) -> bytes:
    if not 0 <= length <= 0xFFFF:  # KDFLabel.length is a uint16
        raise InvalidLengthError(f"ExpandWithLabel cannot produce {length} bytes")
    kdf_label = length.to_bytes(2, "big") + _label(label) + opaque(context)
    return suite.expand(secret, kdf_label, length)


def label_expander(suite: CipherSuite, secret: bytes, label: str | bytes, length: int) -> Expander:
    """ExpandWithLabel under one secret, label and length, for many contexts::

        label_expander(suite, secret, label, n).expand(opaque(context))
            == expand_with_label(suite, secret, label, context, n)

    The KDFLabel's constant start and the secret's HMAC pads are hashed once (see
    :class:`crypto.kdf.Expander`); what :func:`expand_with_label` refuses is refused here."""
    if not 0 <= length <= 0xFFFF:  # KDFLabel.length is a uint16
        raise InvalidLengthError(f"ExpandWithLabel cannot produce {length} bytes")
    return suite.kdf.expander(secret, length.to_bytes(2, "big") + _label(label), length)


def derive_secret(suite: CipherSuite, secret: bytes, label: str | bytes) -> bytes:
    return expand_with_label(suite, secret, label, b"", suite.hash_size)


def derive_tree_secret(
    suite: CipherSuite, secret: bytes, label: str | bytes, generation: int, length: int
) -> bytes:
    return expand_with_label(suite, secret, label, generation.to_bytes(4, "big"), length)


def ref_hash(suite: CipherSuite, label: str | bytes, value: bytes) -> bytes:
    raw = label.encode() if isinstance(label, str) else label
    return suite.hash(opaque(raw) + opaque(value))


def _sign_content(label: str | bytes, content: bytes) -> bytes:
    return _label(label) + opaque(content)


def sign_with_label(
    suite: CipherSuite, key: SigningKey, label: str | bytes, content: bytes
) -> bytes:
    """Sign with ``key``; ``InvalidKeyError`` if it is not a key of the suite's scheme."""
    if key.scheme is not suite.signature and key.scheme != suite.signature:
        raise InvalidKeyError(f"{key.scheme.name} key used with {suite.signature.name} suite")
    return key.sign(_sign_content(label, content))


def verify_with_label(
    suite: CipherSuite, public_key: bytes, label: str | bytes, content: bytes, signature: bytes
) -> None:
    """Raise ``InvalidSignatureError`` (or ``InvalidKeyError``) unless the signature holds."""
    suite.signature.verify(public_key, _sign_content(label, content), signature)


@dataclass(frozen=True)
class LabeledCiphertext:
    """An ``HPKECiphertext``: the KEM output and the AEAD ciphertext."""

    kem_output: bytes
    ciphertext: bytes


def encrypt_with_label(
    suite: CipherSuite,
    public_key: bytes,
    label: str | bytes,
    context: bytes,
    plaintext: bytes,
    rng: RandomSource,
) -> LabeledCiphertext:
    info = _label(label) + opaque(context)
    kem_output, ciphertext = suite.hpke.seal_base(public_key, info, b"", plaintext, rng)
    return LabeledCiphertext(kem_output, ciphertext)


def decrypt_with_label(
    suite: CipherSuite,
    private_key: HpkePrivateKey,
    label: str | bytes,
    context: bytes,
    kem_output: bytes,
    ciphertext: bytes,
) -> bytes:
    """Raise ``InvalidTagError`` (or ``InvalidKeyError``) unless decryption succeeds."""
    info = _label(label) + opaque(context)
    return suite.hpke.open_base(kem_output, private_key, info, b"", ciphertext)
