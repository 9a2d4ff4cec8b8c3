"""Signature schemes of the MLS cipher suites (RFC 9420 §5.1.1), named by TLS SignatureScheme.

Keys are encoded as the MLS test vectors encode them: EdDSA keys as their RFC 8032 bytes
(private key = seed), ECDSA public keys as uncompressed SEC1 points and private keys as
big-endian scalars. Signing takes no hidden randomness: EdDSA is deterministic, and ECDSA
uses RFC 6979 nonces. Key generation draws only from the caller's ``RandomSource``.

Verification is strict where strictness costs no interoperability (ATTACKS.md E2):

* Ed25519 is verified by libsodium (PyNaCl), not OpenSSL. libsodium refuses S >= L,
  non-canonical encodings and small-order R or A; OpenSSL refuses S >= L but accepts the
  identity as public key, with which R = identity, S = 0 "verifies" every message. Public
  keys must also be canonical points of the prime-order subgroup, which honest keys are.
* ECDSA signatures must be strict DER (the TLS 1.3 encoding RFC 9420 uses): a signature
  must decode and re-encode to the same bytes, and 0 < r, s < n.
* High-S ECDSA signatures are accepted; ours are always low-S. RFC 9420 and TLS 1.3 do not
  ask for low S, and common signers (OpenSSL, BoringSSL, Go) emit high S for half of their
  signatures. The only suite-2 signature in the crypto-basics vectors is low-S, which one
  sample would be by chance half of the time, so it is no evidence that other MLS
  implementations normalise. Rejecting high S would refuse their honest signatures, so
  (r, n - s) verifies too: code must never take signature bytes as the identity of what
  was signed.
* Ed448 is verified by OpenSSL, which refuses S >= L. OpenSSL accepts public keys of small
  order (with one of them, a fixed R and S = 0 verify every message) and with a small-order
  component, so public keys are first checked as Ed25519's are: canonical points of the
  prime-order subgroup, decoded and tested in :mod:`crypto.edwards448`.
"""

from __future__ import annotations

import hmac
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Protocol

import nacl.bindings
import nacl.exceptions
import nacl.signing
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from crypto import edwards448
from crypto.errors import InvalidKeyError, InvalidSignatureError
from crypto.random import RandomSource

_LibSigningKey = ed25519.Ed25519PrivateKey | ed448.Ed448PrivateKey | ec.EllipticCurvePrivateKey

_MAX_CHECKED_KEYS = 4096
_SCALAR_ATTEMPTS = 64  # a working RandomSource fails all of them with probability < 2^-2000


def _wrong_algorithm() -> InvalidKeyError:
    return InvalidKeyError("private key belongs to another algorithm")


class _Algorithm(Protocol):
    """What a signature scheme needs from its algorithm."""

    def private_bytes_from(self, rng: RandomSource) -> bytes: ...
    def load_private(self, data: bytes) -> _LibSigningKey: ...
    def private_bytes(self, key: _LibSigningKey) -> bytes: ...
    def public_bytes(self, key: _LibSigningKey) -> bytes: ...
    def sign(self, key: _LibSigningKey, message: bytes) -> bytes: ...
    def check_public(self, public_key: bytes) -> None: ...
    def verify(self, public_key: bytes, message: bytes, signature: bytes) -> None: ...


class _EdDsa(ABC):
    """EdDSA (RFC 8032): the private key is a seed of ``size`` random bytes.

    Checking that a public key is a point of the prime-order subgroup costs as much as the
    verification itself, and the same few keys (a case's members) sign almost everything a
    device opens. Whether a key passes never changes, so keys that passed are remembered
    (at most :data:`_MAX_CHECKED_KEYS`; refused keys are always checked again)."""

    size: int
    signature_size: int

    def __init__(self) -> None:
        self._checked: set[bytes] = set()

    def private_bytes_from(self, rng: RandomSource) -> bytes:
        return rng.random_bytes(self.size)

    def load_private(self, data: bytes) -> _LibSigningKey:
        if len(data) != self.size:
            raise InvalidKeyError(f"private key must be {self.size} bytes")
        return self._from_seed(data)

    def private_bytes(self, key: _LibSigningKey) -> bytes:
        if isinstance(key, ec.EllipticCurvePrivateKey):
            raise _wrong_algorithm()
        return key.private_bytes_raw()

    def public_bytes(self, key: _LibSigningKey) -> bytes:
        return key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)

    def sign(self, key: _LibSigningKey, message: bytes) -> bytes:
        if isinstance(key, ec.EllipticCurvePrivateKey):
            raise _wrong_algorithm()
        return key.sign(message)

    def check_public(self, public_key: bytes) -> None:
        if len(public_key) != self.size:
            raise InvalidKeyError(f"public key must be {self.size} bytes")
        if public_key in self._checked:
            return
        self._check_point(public_key)
        if len(self._checked) >= _MAX_CHECKED_KEYS:
            self._checked.clear()
        self._checked.add(public_key)

    @abstractmethod
    def _check_point(self, public_key: bytes) -> None:
        """Raise ``InvalidKeyError`` unless the key is a canonical point of prime order."""

    def verify(self, public_key: bytes, message: bytes, signature: bytes) -> None:
        self.check_public(public_key)
        if len(signature) != self.signature_size:
            raise InvalidSignatureError("signature has the wrong length")
        if not self._verifies(public_key, message, signature):
            raise InvalidSignatureError("signature does not verify")

    @abstractmethod
    def _from_seed(self, seed: bytes) -> _LibSigningKey: ...

    @abstractmethod
    def _verifies(self, public_key: bytes, message: bytes, signature: bytes) -> bool: ...


class _Ed25519(_EdDsa):
    size = 32
    signature_size = 64

    def _from_seed(self, seed: bytes) -> _LibSigningKey:
        return ed25519.Ed25519PrivateKey.from_private_bytes(seed)

    def _check_point(self, public_key: bytes) -> None:
        if not nacl.bindings.crypto_core_ed25519_is_valid_point(public_key):
            raise InvalidKeyError("public key is not a canonical point of prime order")

    def _verifies(self, public_key: bytes, message: bytes, signature: bytes) -> bool:
        try:  # the binding VerifyKey.verify calls, without its per-call wrapper objects
            nacl.bindings.crypto_sign_open(signature + message, public_key)
        except nacl.exceptions.BadSignatureError:
            return False
        return True


class _Ed448(_EdDsa):
    size = 57
    signature_size = 114

    def _from_seed(self, seed: bytes) -> _LibSigningKey:
        return ed448.Ed448PrivateKey.from_private_bytes(seed)

    def _check_point(self, public_key: bytes) -> None:
        edwards448.check_public_key(public_key)

    def _verifies(self, public_key: bytes, message: bytes, signature: bytes) -> bool:
        try:
            ed448.Ed448PublicKey.from_public_bytes(public_key).verify(signature, message)
        except InvalidSignature:
            return False
        return True


class _Ecdsa:
    """ECDSA over a NIST curve with a fixed hash; DER signatures, RFC 6979 nonces, low S."""

    def __init__(
        self, curve: ec.EllipticCurve, hash_algorithm: hashes.HashAlgorithm, top_mask: int
    ) -> None:
        self._curve = curve
        self._hash = hash_algorithm
        self._order = curve.group_order
        self._size = (curve.key_size + 7) // 8
        self._top_mask = top_mask  # clears the bits above the order's bit length

    def private_bytes_from(self, rng: RandomSource) -> bytes:
        for _ in range(_SCALAR_ATTEMPTS):  # rejection sampling: uniform in [1, n-1]
            candidate = bytearray(rng.random_bytes(self._size))
            if len(candidate) != self._size:
                break
            candidate[0] &= self._top_mask
            if 0 < int.from_bytes(candidate, "big") < self._order:
                return bytes(candidate)
        raise InvalidKeyError("random source produced no valid private scalar")

    def load_private(self, data: bytes) -> _LibSigningKey:
        if len(data) != self._size:
            raise InvalidKeyError(f"private key must be {self._size} bytes")
        scalar = int.from_bytes(data, "big")
        if not 0 < scalar < self._order:
            raise InvalidKeyError("private scalar out of range")
        return ec.derive_private_key(scalar, self._curve)

    def private_bytes(self, key: _LibSigningKey) -> bytes:
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            raise _wrong_algorithm()
        return key.private_numbers().private_value.to_bytes(self._size, "big")

    def public_bytes(self, key: _LibSigningKey) -> bytes:
        return key.public_key().public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)

    def sign(self, key: _LibSigningKey, message: bytes) -> bytes:
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            raise _wrong_algorithm()
        der = key.sign(message, ec.ECDSA(self._hash, deterministic_signing=True))
        r, s = decode_dss_signature(der)
        return encode_dss_signature(r, min(s, self._order - s))

    def _load_public(self, public_key: bytes) -> ec.EllipticCurvePublicKey:
        if len(public_key) != 1 + 2 * self._size or public_key[0] != 0x04:
            raise InvalidKeyError("public key must be an uncompressed point")
        try:
            return ec.EllipticCurvePublicKey.from_encoded_point(self._curve, public_key)
        except ValueError:
            raise InvalidKeyError("public key is not a point on the curve") from None

    def check_public(self, public_key: bytes) -> None:
        self._load_public(public_key)

    def verify(self, public_key: bytes, message: bytes, signature: bytes) -> None:
        key = self._load_public(public_key)
        try:
            r, s = decode_dss_signature(signature)
        except ValueError:
            raise InvalidSignatureError("signature is not DER") from None
        if encode_dss_signature(r, s) != signature:
            raise InvalidSignatureError("signature is not canonical DER")
        if not (0 < r < self._order and 0 < s < self._order):
            raise InvalidSignatureError("signature value out of range")
        try:
            key.verify(signature, message, ec.ECDSA(self._hash))
        except InvalidSignature:
            raise InvalidSignatureError("signature does not verify") from None


@dataclass(frozen=True)
class SignatureScheme:
    """One signature algorithm; ``scheme_id`` is its TLS SignatureScheme code point."""

    name: str
    scheme_id: int
    _algorithm: _Algorithm = field(repr=False, compare=False)

    def generate(self, rng: RandomSource) -> SigningKey:
        """A new key whose only randomness is drawn from ``rng``."""
        return self.load_private_key(self._algorithm.private_bytes_from(rng))

    def load_private_key(self, data: bytes) -> SigningKey:
        return SigningKey(self, self._algorithm.load_private(bytes(data)))

    def validate_public_key(self, data: bytes) -> None:
        """Raise ``InvalidKeyError`` unless ``data`` is an acceptable public key."""
        self._algorithm.check_public(bytes(data))

    def verify(self, public_key: bytes, message: bytes, signature: bytes) -> None:
        """Raise ``InvalidKeyError`` (bad key) or ``InvalidSignatureError`` unless valid.

        The public key is checked first, exactly as :meth:`validate_public_key` checks it,
        so a caller that verifies need not validate the key separately."""
        self._algorithm.verify(bytes(public_key), bytes(message), bytes(signature))


class SigningKey:
    """A private signing key of one scheme; ``repr`` never shows the key."""

    __slots__ = ("_key", "_public_key", "_scheme")

    def __init__(self, scheme: SignatureScheme, key: _LibSigningKey) -> None:
        self._scheme = scheme
        self._key = key
        self._public_key = scheme._algorithm.public_bytes(key)

    @property
    def scheme(self) -> SignatureScheme:
        return self._scheme

    @property
    def public_key(self) -> bytes:
        return self._public_key

    def sign(self, message: bytes) -> bytes:
        return self._scheme._algorithm.sign(self._key, bytes(message))

    def to_bytes(self) -> bytes:
        return self._scheme._algorithm.private_bytes(self._key)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, SigningKey):
            return NotImplemented
        same_scheme = self._scheme == other._scheme
        return hmac.compare_digest(self.to_bytes(), other.to_bytes()) and same_scheme

    def __hash__(self) -> int:
        return hash((self._scheme.scheme_id, self._public_key))  # public data only

    def __repr__(self) -> str:
        return f"SigningKey({self._scheme.name}, public_key={self._public_key.hex()})"


ED25519 = SignatureScheme("ed25519", 0x0807, _Ed25519())
ED448 = SignatureScheme("ed448", 0x0808, _Ed448())
ECDSA_P256_SHA256 = SignatureScheme(
    "ecdsa_secp256r1_sha256", 0x0403, _Ecdsa(ec.SECP256R1(), hashes.SHA256(), 0xFF)
)
ECDSA_P384_SHA384 = SignatureScheme(
    "ecdsa_secp384r1_sha384", 0x0503, _Ecdsa(ec.SECP384R1(), hashes.SHA384(), 0xFF)
)
ECDSA_P521_SHA512 = SignatureScheme(
    "ecdsa_secp521r1_sha512", 0x0603, _Ecdsa(ec.SECP521R1(), hashes.SHA512(), 0x01)
)
